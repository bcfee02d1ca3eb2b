"""Bundle operations: build a bundle as git trees, verify one, record the verification, import
one, and the cheap release check promotion uses.

Build places existing trees (each package's frozen ``method/``, each runtime include folder) with
``TreeRef`` and takes their checksums from the frozen snapshot or from the blobs, so a gigabyte of
payload costs no copy. Everything is decided on the transaction's snapshot; a refusal (a secret,
missing evidence, nothing to bundle) raises before anything is written.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from pydantic import ValidationError

from gitdocket.adapters.archives import stage_bundle
from gitdocket.adapters.bundle_files import BundleSource, blob_digests, from_tree
from gitdocket.adapters.keyless import keyless_check
from gitdocket.adapters.store import GitTree
from gitdocket.core.canonical import loads_strict, sha256_hex
from gitdocket.core.documents import BundleManifest, PackageRef, RegistryConfig
from gitdocket.core.fields import format_time
from gitdocket.core.model import first_error
from gitdocket.core.scopes import Scope, check_name, check_version
from gitdocket.core.secrets import find_secrets
from gitdocket.core.tree import TreeRef, TreeView
from gitdocket.errors import InputError, InvariantError, NotFoundError, StateError
from gitdocket.lifecycles import policy, scope
from gitdocket.lifecycles.bundle import (
    BUNDLE_HAS_NO_SECRETS,
    BUNDLE_IMMUTABLE,
    BUNDLE_NOT_EMPTY,
    BUNDLE_REGULAR_FILES,
    BUNDLE_REQUIRES_EVIDENCE,
    MANIFEST,
    BundleState,
    bundle_id_for,
    manifest_bytes,
    manifest_digest,
    manifest_for,
    release_blocker,
)
from gitdocket.lifecycles.config import allow_hint
from gitdocket.lifecycles.invariants import HISTORY_PRESERVED
from gitdocket.lifecycles.policy import POLICY_SCOPE, PolicyState
from gitdocket.ops.documents import registry_config
from gitdocket.ops.logs import load_log
from gitdocket.ops.transaction import Transaction
from gitdocket.verify.bundles import (
    BundleCheck,
    BundleListing,
    check_bundle,
    check_log,
    unchanged_since_verified,
)

__all__ = [
    "BuildResult",
    "ReleaseCheck",
    "build",
    "import_bundle",
    "policy_versions",
    "published_packages",
    "record_verified",
    "release_blockers",
    "release_check",
    "verify_source",
]

PACKAGE_FILE = "package_manifest.json"


@dataclass(frozen=True)
class BuildResult:
    bundle_id: str
    bundle_root: str
    manifest: BundleManifest

    def as_dict(self) -> dict[str, Any]:
        return {
            "bundle_id": self.bundle_id,
            "bundle_root": self.bundle_root,
            "manifest_path": f"{self.bundle_root}/{MANIFEST}",
            "included_files": self.manifest.summary.included_files,
            "included_evidence": list(self.manifest.evidence.files),
            "packages": [f"{p.archetype}@{p.version}" for p in self.manifest.payload.packages],
        }


def policy_versions(tree: TreeView) -> list[PolicyState]:
    """``result[v]`` is the trust policy at version ``v`` (index 0: before initialization)."""
    return policy.policy_versions((e.type, e.data) for e in load_log(tree, POLICY_SCOPE).events)


# -- build ---------------------------------------------------------------------------------------


def _blocker(tree: TreeView, name: str, number: str) -> InvariantError | None:
    package = load_log(tree, scope("package", name, number)).state
    version = load_log(tree, scope("version", name, number)).state
    return release_blocker(name, number, package.phase, version.phase)


def published_packages(tree: TreeView) -> list[tuple[str, str]]:
    """Every package a new release may carry: published, of a version that is not retired."""
    out = []
    for name in tree.listdir("registry/packages"):
        for number in tree.listdir(f"registry/packages/{name}"):
            if _blocker(tree, name, number) is None:
                out.append((name, number))
    return out


def _selected(tree: TreeView, specs: tuple[str, ...]) -> list[tuple[str, str]]:
    if not specs:
        found = published_packages(tree)
        if not found:
            raise InvariantError(
                "nothing to bundle: no published package of a version that is not retired",
                BUNDLE_NOT_EMPTY,
                "publish one with `gitdocket package publish ARCHETYPE VERSION`",
            )
        return found
    chosen = []
    for spec in specs:
        name, sep, number = spec.partition("@")
        if not sep:
            raise InputError(
                f"--package {spec!r}: expected ARCHETYPE@VERSION",
                "e.g. --package support-triage@1.0.0",
            )
        check_name(name, "archetype name")
        check_version(number)
        blocked = _blocker(tree, name, number)
        if blocked is not None:
            raise blocked
        chosen.append((name, number))
    return sorted(set(chosen))


def release_blockers(
    state: Callable[[Scope[Any]], Any], read: Callable[[str], bytes | None], bundle_id: str
) -> list[InvariantError]:
    """Why the packages of ``bundle_id`` may not go into a new release *now*: withdrawn packages
    and retired versions. ``state`` and ``read`` see the moment of the decision: a transaction's
    (its pending events count) or a snapshot's."""
    raw = read(f"bundles/{bundle_id}/{MANIFEST}") or b""
    try:
        manifest = BundleManifest.model_validate(loads_strict(raw, MANIFEST))
    except (InputError, ValueError):
        return []  # an unreadable manifest fails the bundle check itself
    found = []
    for ref in manifest.payload.packages:
        package = state(scope("package", ref.archetype, ref.version))
        version = state(scope("version", ref.archetype, ref.version))
        blocked = release_blocker(ref.archetype, ref.version, package.phase, version.phase)
        if blocked is not None:
            found.append(blocked)
    return found


def _registry_payload(
    tx: Transaction, base: str, packages: list[tuple[str, str]]
) -> tuple[dict[str, str], dict[str, str], list[PackageRef]]:
    """Checksums of ``payload/registry`` (from the frozen snapshots), where each file comes from,
    and the package references; the method trees are placed as they are."""
    checksums: dict[str, str] = {}
    sources: dict[str, str] = {}
    refs = []
    for name, number in packages:
        vscope, pscope = scope("version", name, number), scope("package", name, number)
        snap = tx.state(vscope).snapshot
        if snap is None or tx.tree.tree_id(f"{vscope.path}/method") != snap.method_tree:
            raise StateError(
                f"{vscope.path}/method does not match its frozen snapshot",
                "run `gitdocket verify`; the registry was changed by hand",
            )
        manifest = tx.tree.read(pscope.current_path) or b""
        prefix = f"{name}/{number}"
        tx.put(f"{base}/{prefix}/{PACKAGE_FILE}", manifest)
        tx.put(f"{base}/{prefix}/method", TreeRef(snap.method_tree))
        checksums[f"{prefix}/{PACKAGE_FILE}"] = sha256_hex(manifest)
        sources[f"{prefix}/{PACKAGE_FILE}"] = pscope.current_path
        for rel, entry in snap.manifest.items():
            checksums[f"{prefix}/method/{rel}"] = entry.sha256
            sources[f"{prefix}/method/{rel}"] = f"{vscope.path}/method/{rel}"
        refs.append(PackageRef(archetype=name, version=number, content_hash=snap.content_hash))
    return checksums, sources, refs


def _include_path(path: str) -> str:
    clean = path.strip("/")
    parts = clean.split("/")
    if not clean or any(p in ("", ".", "..") for p in parts) or parts[0] in ("bundles", "deployments"):
        raise InputError(
            f"registry.yaml bundle.include: {path!r} is not a path a bundle may include",
            "name folders or files of the registry, outside bundles/ and deployments/",
        )
    return clean


def _runtime_payload(tx: Transaction, base: str, include: tuple[str, ...]) -> tuple[dict[str, str], dict[str, str]]:
    """Checksums of ``payload/runtime`` (hashed from the blobs) and where each file comes from."""
    oids: dict[str, str] = {}
    direct: dict[str, str] = {}
    for raw in include:
        path = _include_path(raw)
        kind = tx.tree.kind(path)
        if kind == "tree":
            tx.put(f"{base}/{path}", TreeRef(tx.tree.tree_id(path) or ""))
            for rel, sub, oid in tx.tree.walk(path):
                if sub not in ("blob", "exec"):
                    raise InvariantError(
                        f"{path}/{rel} is a {sub}",
                        BUNDLE_REGULAR_FILES,
                        "bundles hold regular files only",
                    )
                oids[f"{path}/{rel}"] = oid
        elif kind in ("blob", "exec"):
            data = tx.tree.read(path) or b""
            tx.put(f"{base}/{path}", data)
            direct[path] = sha256_hex(data)
        elif kind is None:
            raise InputError(
                f"registry.yaml bundle.include names {path}, which is not in the registry",
                "commit it first, or remove it from bundle.include",
            )
        else:
            raise InvariantError(f"{path} is a {kind}", BUNDLE_REGULAR_FILES, "bundles hold regular files only")
    checksums = {**blob_digests(tx.tree, "", oids), **direct}
    return dict(sorted(checksums.items())), {p: p for p in checksums}


def _refuse_secrets(
    tree: TreeView,
    sources: Mapping[str, str],
    evidence: Mapping[str, bytes],
    allowed: frozenset[str],
) -> None:
    """Scan every payload file (read one at a time) and every evidence file."""
    hits = []
    for path, origin in sorted(sources.items()):
        if path not in allowed:
            hits.extend(find_secrets(path, tree.read(origin) or b""))
    for rel, data in sorted(evidence.items()):
        if f"evidence/{rel}" not in allowed:
            hits.extend(find_secrets(f"evidence/{rel}", data))
    if hits:
        more = f" (and {len(hits) - 1} more)" if len(hits) > 1 else ""
        raise InvariantError(
            f"secret in bundle: {hits[0].describe()}{more}",
            BUNDLE_HAS_NO_SECRETS,
            allow_hint(hits[0].path),
        )


def _check_evidence(evidence: Mapping[str, bytes], config: RegistryConfig) -> None:
    missing = [name for name in config.bundle.required_evidence if name not in evidence]
    if missing:
        raise InvariantError(
            f"missing required evidence file {missing[0]}",
            BUNDLE_REQUIRES_EVIDENCE,
            "pass --evidence DIR holding " + ", ".join(config.bundle.required_evidence),
        )


def build(tx: Transaction, label: str, evidence: Mapping[str, bytes], packages: tuple[str, ...] = ()) -> BuildResult:
    """Build ``bundles/<label>-<stamp>-<commit8>/`` from the snapshot and ``evidence``."""
    check_name(label, "bundle label")
    config = registry_config(tx.tree)
    created_at = format_time(tx.at)
    bundle_id = bundle_id_for(label, created_at, tx.tree.commit)
    target = scope("bundle", bundle_id)
    tx.check(target, "BuildBundle")  # an existing id: BUNDLE_IMMUTABLE, before any work
    _check_evidence(evidence, config)
    chosen = _selected(tx.tree, packages)
    runtime, runtime_from = _runtime_payload(tx, f"{target.path}/payload/runtime", config.bundle.include)
    registry, registry_from, refs = _registry_payload(tx, f"{target.path}/payload/registry", chosen)
    sources = {
        **{f"payload/runtime/{p}": o for p, o in runtime_from.items()},
        **{f"payload/registry/{p}": o for p, o in registry_from.items()},
    }
    _refuse_secrets(tx.tree, sources, evidence, config.allowed_secrets())
    sums = {p: sha256_hex(d) for p, d in evidence.items()}
    try:
        manifest = manifest_for(
            bundle_id,
            label,
            created_at,
            tx.tree.commit,
            (runtime, registry, sums),
            config.bundle.required_evidence,
            refs,
        )
    except ValidationError as exc:
        raise InputError(
            f"cannot describe bundle {bundle_id}: {first_error(exc)}",
            "bundle paths are plain relative POSIX paths; rename the offending file",
        ) from exc
    raw = manifest_bytes(manifest)
    tx.apply(
        target,
        "BuildBundle",
        {
            "label": label,
            "created_at": created_at,
            "built_by": tx.actor_in(target, "BuildBundle"),
            "source_commit": tx.tree.commit,
            "manifest_digest": manifest_digest(raw),
            "included_files": manifest.summary.included_files,
            "evidence_files": manifest.summary.evidence_files,
        },
    )
    tx.put(f"{target.path}/{MANIFEST}", raw)
    for rel, data in sorted(evidence.items()):
        tx.put(f"{target.path}/evidence/{rel}", data)
    return BuildResult(bundle_id, target.path, manifest)


# -- verify --------------------------------------------------------------------------------------


def verify_source(source: BundleSource, tree: TreeView) -> BundleCheck:
    """Full verification of ``source`` under the trust policy of ``tree``."""
    return check_bundle(source.listing, source.hasher, policy_versions(tree), keyless_check(tree))


def require_bundle(tree: TreeView, bundle_id: str) -> BundleState:
    state = load_log(tree, scope("bundle", bundle_id)).state
    if state.phase == "none":
        raise NotFoundError(f"no bundle {bundle_id!r} in the registry", "list them with `gitdocket bundle list`")
    return state


def record_verified(tx: Transaction, bundle_id: str) -> BundleCheck:
    """Verify every checksum of a registry bundle and record a signed ``verified`` event."""
    state = require_bundle(tx.tree, bundle_id)
    tx.check(scope("bundle", bundle_id), "VerifyBundle")  # verified once (BUNDLE_IMMUTABLE), before hashing
    result = verify_source(from_tree(tx.tree, bundle_id), tx.tree)
    if not result.ok:
        raise StateError(
            f"bundle {bundle_id} does not verify: {result.errors[0]}"
            + (f" (and {len(result.errors) - 1} more)" if len(result.errors) > 1 else ""),
            f"see `gitdocket bundle verify {bundle_id}`",
        )
    path = f"bundles/{bundle_id}"
    tx.apply(
        scope("bundle", bundle_id),
        "VerifyBundle",
        {
            "manifest_digest": state.manifest_digest,
            "payload_tree": tx.tree.tree_id(f"{path}/payload"),
            "evidence_tree": tx.tree.tree_id(f"{path}/evidence"),
            "verified_files": result.verified_files,
            "verified_at": format_time(tx.at),
            "verified_by": tx.actor_in(scope("bundle", bundle_id), "VerifyBundle"),
        },
    )
    recorded = tuple(w for w in result.warnings if not w.startswith("not yet verified"))
    return replace(result, warnings=recorded)


@dataclass(frozen=True)
class ReleaseCheck:
    """Whether a registry bundle may be promoted, proven without re-hashing: its signed log,
    its ``verified`` event, and the git tree ids it recorded (which cover every byte)."""

    bundle_id: str
    problems: tuple[str, ...]
    bundle_tree: str | None
    manifest_digest: str | None
    verified_files: int

    @property
    def ok(self) -> bool:
        return not self.problems

    def detail(self) -> str:
        return f"bundle_id={self.bundle_id}; verified_files={self.verified_files}; errors={list(self.problems)}"


def _evidence_problems(manifest_raw: bytes | None, required: tuple[str, ...]) -> list[str]:
    try:
        manifest = BundleManifest.model_validate(loads_strict(manifest_raw or b"", MANIFEST))
    except (InputError, ValueError):
        return ["Invalid manifest"]
    return [
        f"Missing required evidence file: {name} (registry.yaml)"
        for name in required
        if name not in manifest.evidence.checksums
    ]


def release_check(tree: TreeView, bundle_id: str, required: tuple[str, ...]) -> ReleaseCheck:
    """Whether ``bundle_id`` may be promoted; ``required``: evidence registry.yaml requires now."""
    path = f"bundles/{bundle_id}"
    state = load_log(tree, scope("bundle", bundle_id)).state
    if state.phase == "none":
        return ReleaseCheck(bundle_id, (f"no bundle {bundle_id} in the registry",), None, None, 0)
    manifest_raw = tree.read(f"{path}/{MANIFEST}")
    problems: list[str] = []
    listing = BundleListing(
        bundle_id,
        {},
        manifest_raw,
        tree.read(f"{path}/history.jsonl"),
        tree.read(f"{path}/current.json"),
    )
    check_log(listing, manifest_raw or b"", policy_versions(tree), problems, keyless_check(tree))
    if state.phase != "verified":
        problems.append(f"not verified; run `gitdocket bundle verify {bundle_id} --record`")
    elif not unchanged_since_verified(tree, path, state):
        problems.append("content differs from what was verified")
    problems.extend(_evidence_problems(manifest_raw, required))
    files = state.included_files if not problems else 0
    return ReleaseCheck(bundle_id, tuple(problems), tree.tree_id(path), state.manifest_digest, files)


# -- import --------------------------------------------------------------------------------------


def import_bundle(tx: Transaction, source: BundleSource) -> tuple[BundleCheck, bool]:
    """Verify ``source`` under this registry's policy, then place it in ``bundles/<id>/``.
    Returns the check and whether anything was written (an identical bundle is a no-op)."""
    result = verify_source(source, tx.tree)
    if not result.ok:
        raise StateError(
            f"{source.where}: bundle does not verify: {result.errors[0]}"
            + (f" (and {len(result.errors) - 1} more)" if len(result.errors) > 1 else ""),
            f"see `gitdocket bundle verify {source.where}`",
        )
    target = scope("bundle", result.bundle_id)
    existing = load_log(tx.tree, target)
    if existing.exists:
        here = from_tree(tx.tree, result.bundle_id)
        if here.listing.manifest != source.listing.manifest:
            raise InvariantError(
                f"bundle {result.bundle_id} already exists with different content",
                BUNDLE_IMMUTABLE,
                "bundles never change; build a new one",
            )
        incoming = source.listing.history or b""
        if not incoming.startswith(existing.history):
            raise InvariantError(
                f"bundle {result.bundle_id}: the imported log does not extend the registry's",
                HISTORY_PRESERVED,
                "import the newer export of this bundle",
            )
        if incoming == existing.history:
            return result, False
        _refuse_other_trees(
            result, tx.tree.tree_id(f"{target.path}/payload"), tx.tree.tree_id(f"{target.path}/evidence")
        )
        for name in ("history.jsonl", "current.json"):
            tx.put(f"{target.path}/{name}", source.read(name))
        return result, True
    staged = stage_bundle(tx.tree, source)
    if isinstance(tx.tree, GitTree):  # a snapshot of a repository: the trees are git's
        _refuse_other_trees(result, _tree_id(staged.get("payload")), _tree_id(staged.get("evidence")))
    for rel, value in staged.items():
        tx.put(f"{target.path}/{rel}", value)
    return result, True


def _tree_id(value: bytes | TreeRef | None) -> str | None:
    return value.oid if isinstance(value, TreeRef) else None


def _refuse_other_trees(check: BundleCheck, payload: str | None, evidence: str | None) -> None:
    """An import of a verified bundle must give the very trees the verifier recorded (git tree
    ids cover file modes too): checksums match, so a difference is a mode — an executable bit
    gained or lost on the way — and ``verify`` would then report the bundle (BUNDLE_INVALID)."""
    state = check.state
    if state is None or state.phase != "verified":
        return
    if (payload, evidence) != (state.payload_tree, state.evidence_tree):
        raise InvariantError(
            f"bundle {check.bundle_id}: the files hold the verified bytes but not the verified file modes "
            "(an executable bit gained or lost on the way?)",
            BUNDLE_IMMUTABLE,
            "import the .tar.gz that `gitdocket bundle export` wrote, which keeps file modes "
            "(a zip artifact drops them)",
        )
