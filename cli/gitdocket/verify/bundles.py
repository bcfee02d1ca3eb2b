"""Release bundles, verified: the content of one bundle, and every bundle of a registry.

``check_bundle`` is the one verification every caller shares (``bundle verify``, ``bundle
import``, ``gitdocket verify``): the manifest contract, every checksum, missing *and* extra files,
required evidence, the bundle id, and the builder's signature on the bundle's own log. It sees a
bundle through a ``BundleListing`` (what entries exist, plus the three small files) and a
``Hasher`` injected by the adapter (git blobs or files on disk, hashed in parallel), so it runs the
same over a registry tree, an exported folder or an unpacked tarball.

Pure: no git, no filesystem, no clock. Messages follow seed 002's wording ("Missing manifest",
"Checksum mismatch for …", "Missing required evidence file: …").

``bundle_contents`` is the registry check: the manifest binds every file (the builder signed the
manifest's digest — the generic log checks judge that signature); a ``verified`` bundle whose
``payload/`` and ``evidence/`` trees are still the ones recorded is proven unchanged by git's tree
ids, any other bundle is re-hashed file by file.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Literal

from pydantic import ValidationError

from gitdocket.core.canonical import loads_strict
from gitdocket.core.documents import (
    BundleManifest,
)
from gitdocket.core.fields import BUNDLE_ID_RE
from gitdocket.core.log import Event, chain_problems, head_digest, iter_lines, parse_history, render_current
from gitdocket.core.model import first_error
from gitdocket.core.scopes import Scope
from gitdocket.core.tree import TreeView
from gitdocket.errors import DocketError
from gitdocket.lifecycles import scope
from gitdocket.lifecycles.authz import SigstoreCheck, authorize, judging_policy, no_sigstore
from gitdocket.lifecycles.bundle import BUNDLE_IMMUTABLE, MANIFEST, SECTIONS, BundleState, manifest_digest
from gitdocket.lifecycles.bundle import LIFECYCLE as BUNDLE
from gitdocket.lifecycles.policy import PolicyState, lookup_role
from gitdocket.verify.context import Context
from gitdocket.verify.findings import Finding

__all__ = [
    "REBUILD",
    "BundleCheck",
    "BundleListing",
    "FileKind",
    "Hasher",
    "bundle_contents",
    "check_bundle",
    "check_content",
    "check_copy",
    "check_log",
    "listing_from_tree",
    "unchanged_since_verified",
]

LOG_FILES = ("history.jsonl", "current.json")
FileKind = Literal["file", "exec", "link", "special"]
Hasher = Callable[[Sequence[str]], Mapping[str, str]]
"""Given paths relative to the bundle root, return their sha256 hex digests."""


# -- building ------------------------------------------------------------------------------------


# -- secrets -------------------------------------------------------------------------------------


# -- verification --------------------------------------------------------------------------------


@dataclass(frozen=True)
class BundleListing:
    """One bundle as a verifier sees it. ``entries`` maps every non-directory path below the
    bundle root to its kind; the manifest and the bundle's log are passed as bytes."""

    folder_id: str
    entries: Mapping[str, FileKind]
    manifest: bytes | None
    history: bytes | None
    current: bytes | None


@dataclass(frozen=True)
class BundleCheck:
    """The result of ``check_bundle``: seed 002's ``{ok, bundle_id, errors, warnings,
    verified_files}`` plus the parsed manifest and the bundle's folded state when readable."""

    bundle_id: str
    errors: tuple[str, ...]
    warnings: tuple[str, ...]
    verified_files: int
    manifest: BundleManifest | None = None
    state: BundleState | None = None

    @property
    def ok(self) -> bool:
        return not self.errors

    def as_dict(self) -> dict[str, object]:
        return {
            "ok": self.ok,
            "bundle_id": self.bundle_id,
            "errors": list(self.errors),
            "warnings": list(self.warnings),
            "verified_files": self.verified_files,
        }


def _parse_manifest(data: bytes | None, errors: list[str]) -> BundleManifest | None:
    if data is None:
        errors.append(f"Missing manifest: {MANIFEST}")
        return None
    try:
        raw = loads_strict(data, MANIFEST)
    except DocketError as exc:
        errors.append(f"Invalid manifest JSON: {exc.message}")
        return None
    contract = raw.get("contract") if isinstance(raw, dict) else None
    if contract != "release_bundle_v1":
        errors.append(f"Unexpected contract: {contract}")
        return None
    try:
        return BundleManifest.model_validate(raw)
    except ValidationError as exc:
        errors.append(f"Invalid manifest: {first_error(exc, 'manifest')}")
        return None


def _expected(manifest: BundleManifest) -> list[tuple[str, str, dict[str, str]]]:
    sums = (
        manifest.payload.runtime_checksums,
        manifest.payload.registry_checksums,
        manifest.evidence.checksums,
    )
    return [(root, label, dict(checksums)) for (root, label), checksums in zip(SECTIONS, sums, strict=True)]


def _check_files(listing: BundleListing, manifest: BundleManifest, hasher: Hasher, errors: list[str]) -> int:
    wanted: dict[str, str] = {}
    known = {MANIFEST, *LOG_FILES}
    for root, label, checksums in _expected(manifest):
        known.update(f"{root}/{rel}" for rel in checksums)
        if checksums and not any(p.startswith(root + "/") for p in listing.entries):
            errors.append(f"Missing {label} root: {root}")
            continue
        for rel, digest in checksums.items():
            path = f"{root}/{rel}"
            kind = listing.entries.get(path)
            if kind is None:
                errors.append(f"Missing {label} file: {path}")
            elif kind not in ("file", "exec"):
                errors.append(f"Not a regular file: {path} ({kind})")
            else:
                wanted[path] = digest
    errors.extend(f"Unexpected file: {p}" for p in sorted(set(listing.entries) - known))
    actual = hasher(sorted(wanted))
    verified = 0
    for path, digest in sorted(wanted.items()):
        if actual.get(path) == digest:
            verified += 1
        else:
            errors.append(f"Checksum mismatch for {path}")
    for name in manifest.evidence.required:
        if name not in manifest.evidence.checksums:
            errors.append(f"Missing required evidence file: {name}")
    return verified


def _check_id(listing: BundleListing, manifest: BundleManifest, errors: list[str]) -> None:
    if manifest.bundle_id != listing.folder_id or not BUNDLE_ID_RE.fullmatch(manifest.bundle_id):
        errors.append(f"Manifest bundle_id missing or invalid: {manifest.bundle_id!r} in folder {listing.folder_id!r}")


def _replay(target: Scope[BundleState], events: list[Event], errors: list[str]) -> BundleState | None:
    state = BUNDLE.initial(target)
    for event in events:
        try:
            state = BUNDLE.judge(state, event.type, event.data)
        except DocketError as exc:
            errors.append(f"Bundle log seq {event.seq} is not a legal transition: {exc.message}")
            return None
    return state


def _signatures(
    target: Scope[BundleState],
    events: list[Event],
    policies: Sequence[PolicyState],
    errors: list[str],
    sigstore: SigstoreCheck,
) -> None:
    for event in events:
        policy = judging_policy(target, event, lambda v: policies[v] if 0 <= v < len(policies) else None)
        if isinstance(policy, str):
            errors.append(f"Builder signature: seq {event.seq} {policy}")
            continue
        verdict = authorize(BUNDLE, target, event, policy, partial(lookup_role, policy), sigstore)
        errors.extend(f"Builder signature: seq {event.seq}: {p}" for p in verdict.problems)


def check_log(
    listing: BundleListing,
    manifest_raw: bytes,
    policies: Sequence[PolicyState],
    errors: list[str],
    sigstore: SigstoreCheck = no_sigstore,
) -> BundleState | None:
    """The builder's signature: the bundle log chains, replays, is signed by builders, binds
    ``manifest_raw`` and folds to ``current.json``. Appends problems to ``errors``; ``sigstore``
    checks keyless builder signatures (a CI build)."""
    if listing.history is None:
        errors.append("Missing builder signature: history.jsonl")
        return None
    try:
        target = scope("bundle", listing.folder_id)
        events = parse_history(listing.history, "history.jsonl")
    except DocketError as exc:
        errors.append(f"Invalid bundle log: {exc.message}")
        return None
    lines = [line for _, line in iter_lines(listing.history)]
    errors.extend(f"Bundle log seq {seq}: {msg}" for seq, msg in chain_problems(events, lines))
    if not events or events[0].type != "built":
        errors.append("Missing builder signature: the bundle log has no built event")
        return None
    state = _replay(target, events, errors)
    _signatures(target, events, policies, errors, sigstore)
    if state is None:
        return None
    if state.manifest_digest != manifest_digest(manifest_raw):
        errors.append("Manifest does not match the digest the builder signed")
    expected = render_current(target.path, state.model_dump(mode="json"), events[-1].seq, head_digest(lines[-1]))
    if listing.current != expected:
        errors.append("current.json is not the fold of history.jsonl")
    return state


def check_content(listing: BundleListing, hasher: Hasher) -> BundleCheck:
    """The content half of verification: manifest contract, bundle id, every checksum, missing
    and extra files, required evidence (no signature: see ``check_log``)."""
    errors: list[str] = []
    manifest = _parse_manifest(listing.manifest, errors)
    if manifest is None:
        return BundleCheck(listing.folder_id, tuple(errors), (), 0)
    _check_id(listing, manifest, errors)
    verified = _check_files(listing, manifest, hasher, errors)
    return BundleCheck(manifest.bundle_id, tuple(errors), (), verified, manifest)


def check_copy(copy: BundleListing, hasher: Hasher, signed: BundleListing) -> list[str]:
    """What differs between a copy of a bundle (files on disk that a runtime reads) and the
    ``signed`` bundle it claims to be: the manifest and the bundle's log byte for byte, then every
    file of the copy against the signed manifest — changed, missing and extra files. Empty when
    the copy is exactly what was signed. ``hasher`` hashes the copy's files."""
    errors: list[str] = []
    if copy.manifest != signed.manifest:
        errors.append(f"{MANIFEST} is not the signed manifest" if copy.manifest else f"Missing manifest: {MANIFEST}")
        return errors  # every checksum below would be judged against an unsigned manifest
    logs = zip(LOG_FILES, (copy.history, copy.current), (signed.history, signed.current), strict=True)
    for name, mine, theirs in logs:
        if mine != theirs:
            errors.append(f"{name} differs from the signed bundle's" if mine is not None else f"Missing file: {name}")
    errors.extend(check_content(copy, hasher).errors)
    return errors


def check_bundle(
    listing: BundleListing, hasher: Hasher, policies: Sequence[PolicyState], sigstore: SigstoreCheck = no_sigstore
) -> BundleCheck:
    """Verify one bundle completely; ``policies[v]`` is the trust policy at version ``v``."""
    content = check_content(listing, hasher)
    if content.manifest is None or listing.manifest is None:
        return content
    errors = list(content.errors)
    warnings: list[str] = []
    state = check_log(listing, listing.manifest, policies, errors, sigstore)
    if state is not None and state.phase == "built":
        warnings.append(
            "not yet verified by a builder: nothing may promote it until "
            f"`gitdocket bundle verify {listing.folder_id} --record`"
        )
    if content.manifest.source.runtime_git.dirty:
        warnings.append("built from a dirty worktree")
    return BundleCheck(
        content.bundle_id,
        tuple(errors),
        tuple(warnings),
        content.verified_files,
        content.manifest,
        state,
    )


_GIT_KINDS: dict[str, FileKind] = {"blob": "file", "exec": "exec", "link": "link"}


def listing_from_tree(tree: TreeView, bundle_id: str, base: str = "") -> tuple[BundleListing, dict[str, str]]:
    """The listing of ``bundles/<bundle_id>`` (or of the copy at ``base``, e.g. a promoted
    release) in a snapshot, and the object id of every entry."""
    base = base or f"bundles/{bundle_id}"
    entries: dict[str, FileKind] = {}
    oids: dict[str, str] = {}
    for rel, kind, oid in tree.walk(base):
        entries[rel] = _GIT_KINDS.get(kind, "special")
        oids[rel] = oid
    listing = BundleListing(
        bundle_id,
        entries,
        tree.read(f"{base}/{MANIFEST}"),
        tree.read(f"{base}/history.jsonl"),
        tree.read(f"{base}/current.json"),
    )
    return listing, oids


REBUILD = "bundles never change after they are built; restore it from git history or build a new bundle"


def _hasher(tree: TreeView, base: str) -> Callable[[Sequence[str]], dict[str, str]]:
    def hasher(paths: Sequence[str]) -> dict[str, str]:
        out = {}
        for path in paths:
            data = tree.read(f"{base}/{path}")
            if data is not None:
                out[path] = hashlib.sha256(data).hexdigest()
        return out

    return hasher


def unchanged_since_verified(tree: TreeView, path: str, state: BundleState) -> bool:
    """Whether the bundle at ``path`` is verified and its ``payload/`` and ``evidence/`` are the
    very trees the verifier recorded (git tree ids cover every byte it hashed): what promotion
    relies on instead of re-hashing, and what ``verify`` checks."""
    return (
        state.phase == "verified"
        and tree.tree_id(f"{path}/payload") == state.payload_tree
        and tree.tree_id(f"{path}/evidence") == state.evidence_tree
    )


def bundle_contents(ctx: Context) -> Iterable[Finding]:
    for record in ctx.scopes("bundle"):
        if not record.states:
            continue  # the log itself is broken; the generic checks say how
        state = record.state
        target = record.scope
        path = target.path
        manifest = ctx.tree.read(f"{path}/bundle_manifest.json")
        if manifest is None or manifest_digest(manifest) != state.manifest_digest:
            yield Finding(
                f"{path}/bundle_manifest.json",
                "BUNDLE_INVALID",
                "missing" if manifest is None else "does not match the digest the builder signed",
                target.label,
                BUNDLE_IMMUTABLE,
                REBUILD,
            )
        if manifest is None or unchanged_since_verified(ctx.tree, path, state):
            continue  # git tree ids cover every byte the verifier hashed
        listing, _oids = listing_from_tree(ctx.tree, target.keys[0])
        result = check_content(listing, _hasher(ctx.tree, path))
        for error in result.errors:
            yield Finding(path, "BUNDLE_INVALID", error, target.label, BUNDLE_IMMUTABLE, REBUILD)
        if state.phase == "verified" and result.ok:
            yield Finding(
                path,
                "BUNDLE_INVALID",
                "payload/ or evidence/ is not the tree that was verified (file modes changed?)",
                target.label,
                BUNDLE_IMMUTABLE,
                REBUILD,
            )
