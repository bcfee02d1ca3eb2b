"""Package operations: publish a frozen version (one atomic commit touching the version and the
package scopes) and withdraw it."""

from __future__ import annotations

from gitdocket.core.scopes import Scope, check_version
from gitdocket.errors import NotFoundError
from gitdocket.lifecycles import scope
from gitdocket.lifecycles.package import Manifest, PackageState
from gitdocket.ops.transaction import Transaction

__all__ = ["publish", "withdraw"]


def _tag_message(name: str, version: str, content_hash: str) -> str:
    return f"docket: published {name} {version}\n\ncontent {content_hash}"


def _complete(tx: Transaction, pscope: Scope[PackageState], content_hash: str | None) -> Manifest | None:
    """A re-run of a publish that landed without its tag: the package holds the version's
    content and its tag is missing, so create the tag where the publish landed."""
    manifest = tx.state(pscope).manifest
    if manifest is None or manifest.content_hash != content_hash:
        return None
    commit = tx.untagged_record(pscope)
    if commit is None:
        return None
    name, version = pscope.keys
    tag = f"packages/{name}/v{version}"
    tx.tag(tag, _tag_message(name, version, manifest.content_hash), commit)
    tx.note(f"{name} {version} is already published; created the missing tag {tag} on commit {commit[:12]}")
    return manifest


def publish(tx: Transaction, name: str, version: str) -> Manifest:
    """Publish the frozen version: one commit records the reference on the version and the
    package. On a package already published whose tag is missing, create the tag."""
    check_version(version)
    vscope = scope("version", name, version)
    vstate = tx.state(vscope)
    if vstate.phase == "init":
        raise NotFoundError(
            f"no version {version} of {name!r}", f"freeze it first: `gitdocket version freeze {name} {version}`"
        )
    pscope = scope("package", name, version)
    completed = _complete(tx, pscope, vstate.snapshot.content_hash if vstate.snapshot else None)
    if completed is not None:
        return completed
    # PACKAGE_REQUIRES_FROZEN_VERSION and RETIREMENT_BLOCKS_FUTURE_PACKAGING are enforced here.
    snap = tx.apply(vscope, "RecordPackageReference", {"package": pscope.path}).snapshot
    assert snap is not None  # only a frozen version takes a package reference
    manifest = Manifest(
        archetype=name,
        version=version,
        content_hash=snap.content_hash,
        method_tree=snap.method_tree,
        protection_posture=snap.protection_posture,
        publisher=tx.actor,
    )
    tx.apply(pscope, "PublishPackage", manifest)
    tx.tag(f"packages/{name}/v{version}", _tag_message(name, version, snap.content_hash))
    return manifest


def withdraw(tx: Transaction, name: str, version: str, reason: str) -> None:
    check_version(version)
    pscope = scope("package", name, version)
    if tx.state(pscope).phase == "draft":
        raise NotFoundError(f"no package {name} {version}", "list them with `gitdocket package list`")
    tx.apply(pscope, "WithdrawPackage", {"reason": reason})
