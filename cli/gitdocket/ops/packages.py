"""Package operations: publish a frozen version (one atomic commit touching the version and the
package scopes) and withdraw it."""

from __future__ import annotations

from gitdocket.core.scopes import Scope, check_version
from gitdocket.errors import NotFoundError
from gitdocket.lifecycles import scope
from gitdocket.lifecycles.package import Manifest, PackageState
from gitdocket.ops.transaction import Transaction
from gitdocket.verify.tags import tag_message, tag_name

__all__ = ["publish", "published_as", "withdraw"]


def published_as(tx: Transaction, pscope: Scope[PackageState], content_hash: str | None) -> Manifest | None:
    """The manifest of ``pscope`` when it is published with ``content_hash`` (a re-run of its
    publish would publish the same content); else None."""
    manifest = tx.state(pscope).manifest
    return manifest if manifest is not None and manifest.content_hash == content_hash else None


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
    published = published_as(tx, pscope, vstate.snapshot.content_hash if vstate.snapshot else None)
    if published is not None and tx.complete_tag(pscope, published.content_hash, "published"):
        return published
    # PACKAGE_REQUIRES_FROZEN_VERSION and RETIREMENT_BLOCKS_FUTURE_PACKAGING are enforced here.
    snap = tx.apply(vscope, "RecordPackageReference", {"package": pscope.path}).snapshot
    assert snap is not None  # only a frozen version takes a package reference
    manifest = Manifest(
        archetype=name,
        version=version,
        content_hash=snap.content_hash,
        method_tree=snap.method_tree,
        protection_posture=snap.protection_posture,
        publisher=tx.actor_in(pscope, "PublishPackage"),
    )
    tx.apply(pscope, "PublishPackage", manifest)
    tx.tag(tag_name(pscope), tag_message(pscope, snap.content_hash))
    return manifest


def withdraw(tx: Transaction, name: str, version: str, reason: str) -> None:
    check_version(version)
    pscope = scope("package", name, version)
    if tx.state(pscope).phase == "draft":
        raise NotFoundError(f"no package {name} {version}", "list them with `gitdocket package list`")
    tx.apply(pscope, "WithdrawPackage", {"reason": reason})
