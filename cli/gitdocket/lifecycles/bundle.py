"""The release-bundle lifecycle (seed 002): ``built`` once, then ``verified`` once.

A bundle scope is ``bundles/<bundle-id>/``. ``built`` is signed by a builder and binds the
manifest by digest (the manifest binds every payload and evidence file by sha256), so the
builder's signature covers every byte of the bundle. ``verified`` records who checked every
checksum, and the git tree ids of ``payload/`` and ``evidence/`` they checked, so later readers
(promote, ``gitdocket verify``) prove identity by tree id instead of re-hashing a gigabyte. After
``verified`` the bundle folder never changes again; that is what lets an environment's
``releases/<bundle-id>`` be the very same git tree.

The manifest a build writes (``manifest_for``) lives here too, with the bundle id format the
``built`` guard checks. Pure.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Annotated, Any, Literal

from pydantic import Field

from gitdocket.core.canonical import render, sha256_hex
from gitdocket.core.documents import (
    BundleManifest,
    GitMeta,
    ManifestEvidence,
    ManifestPayload,
    ManifestSource,
    ManifestSummary,
    PackageRef,
)
from gitdocket.core.fields import FREE_TEXT, Digest, GitOid, Name, Timestamp
from gitdocket.core.model import Record
from gitdocket.errors import Invariant, InvariantError
from gitdocket.lifecycles.invariants import RETIREMENT_BLOCKS_FUTURE_PACKAGING, WITHDRAWAL_BLOCKS_FUTURE
from gitdocket.lifecycles.machine import Machine, Refusal, Transition

__all__ = [
    "BUNDLE_HAS_NO_SECRETS",
    "BUNDLE_ID_CONSISTENT",
    "BUNDLE_IMMUTABLE",
    "BUNDLE_MUST_EXIST",
    "BUNDLE_NOT_EMPTY",
    "BUNDLE_REGULAR_FILES",
    "BUNDLE_REQUIRES_EVIDENCE",
    "LIFECYCLE",
    "MANIFEST",
    "MANIFEST_BOUND",
    "SECTIONS",
    "BuiltData",
    "BundleState",
    "VerifiedData",
    "bundle_id_for",
    "manifest_bytes",
    "manifest_digest",
    "manifest_for",
    "release_blocker",
]


def bundle_id_for(label: str, created_at: str, commit: str | None) -> str:
    """The bundle id of a build: label, UTC stamp of ``created_at`` (RFC 3339 Z), commit prefix."""
    stamp = (
        created_at[0:4]
        + created_at[5:7]
        + created_at[8:10]
        + "-"
        + created_at[11:13]
        + created_at[14:16]
        + created_at[17:19]
    )
    return f"{label}-{stamp}-{commit[:8] if commit else 'nogit'}"


class BundleState(Record):
    phase: Literal["none", "built", "verified"] = "none"
    bundle_id: str = ""
    label: str | None = None
    created_at: str | None = None
    built_by: str | None = None
    source_commit: str | None = None
    manifest_digest: str | None = None
    included_files: int = 0
    evidence_files: int = 0
    verified_by: str | None = None
    verified_at: str | None = None
    payload_tree: str | None = None
    evidence_tree: str | None = None


class BuiltData(Record):
    label: Annotated[Name, FREE_TEXT]
    created_at: Timestamp
    built_by: str = Field(min_length=1)
    source_commit: GitOid | None = None
    manifest_digest: Digest
    included_files: int = Field(ge=0)
    evidence_files: int = Field(ge=0)


class VerifiedData(Record):
    manifest_digest: Digest
    payload_tree: GitOid
    evidence_tree: GitOid | None = None
    verified_files: int = Field(ge=0)
    verified_at: Timestamp
    verified_by: str = Field(min_length=1)


BUNDLE_IMMUTABLE = Invariant(
    "BUNDLE_IMMUTABLE",
    "structural",
    "a bundle is built once and never changes: no rebuild over an existing id, no edited, added or removed file",
)
BUNDLE_ID_CONSISTENT = Invariant(
    "BUNDLE_ID_CONSISTENT", "structural", "the bundle id is <label>-<UTC stamp>-<commit8> of its own build"
)
MANIFEST_BOUND = Invariant(
    "MANIFEST_BOUND", "structural", "the verified manifest is the built manifest (the builder's signature covers it)"
)
BUNDLE_MUST_EXIST = Invariant("BUNDLE_MUST_EXIST", "structural", "only a built bundle is verified")
BUNDLE_NOT_EMPTY = Invariant("BUNDLE_NOT_EMPTY", "operational", "a bundle holds at least one published package")
BUNDLE_REGULAR_FILES = Invariant(
    "BUNDLE_REGULAR_FILES", "operational", "a bundle holds regular files only: no links, no submodules"
)
BUNDLE_HAS_NO_SECRETS = Invariant(
    "BUNDLE_HAS_NO_SECRETS",
    "operational",
    "no payload or evidence file holds a secret, unless registry.yaml allow-lists exactly that path",
)
BUNDLE_REQUIRES_EVIDENCE = Invariant(
    "BUNDLE_REQUIRES_EVIDENCE", "operational", "a bundle carries every evidence file registry.yaml requires"
)


def _check_id(state: BundleState, data: BuiltData) -> None:
    expected = bundle_id_for(data.label, data.created_at, data.source_commit)
    if state.bundle_id != expected:
        raise InvariantError(
            f"its id does not match its build ({expected})",
            BUNDLE_ID_CONSISTENT,
            "bundle ids are <label>-<UTC stamp>-<commit8>",
        )


def _check_manifest(state: BundleState, data: VerifiedData) -> None:
    if data.manifest_digest != state.manifest_digest:
        raise InvariantError(
            "the verified manifest is not the one that was built",
            MANIFEST_BOUND,
            "the bundle was changed after it was built; rebuild it",
        )


def _built(state: BundleState, data: BuiltData) -> BundleState:
    return state.model_copy(update=data.model_dump())


def _verified(state: BundleState, data: VerifiedData) -> BundleState:
    return state.model_copy(update=data.model_dump(exclude={"manifest_digest", "verified_files"}))


TRANSITIONS: tuple[Transition[BundleState, Any], ...] = (
    Transition(
        "BuildBundle",
        "built",
        ("none",),
        "built",
        BuiltData,
        does="build",
        hint="bundles are built once; wait a second or commit first, then build again",
        role="builders",
        signed_by=("built_by",),
        invariant=BUNDLE_IMMUTABLE,
        guard=_check_id,
        apply=_built,
        doc="a builder records the bundle: manifest digest, label, source commit, file counts",
    ),
    Transition(
        "VerifyBundle",
        "verified",
        ("built",),
        "verified",
        VerifiedData,
        does="record the verification of",
        hint="nothing to record: it was verified by {verified_by} at {verified_at}",
        role="builders",
        signed_by=("verified_by",),
        invariant=BUNDLE_IMMUTABLE,
        refusals=(Refusal(("none",), BUNDLE_MUST_EXIST, "build it first: `gitdocket bundle build --label LABEL`"),),
        guard=_check_manifest,
        apply=_verified,
        doc="a builder records that every checksum held, and the trees it checked",
    ),
)


LIFECYCLE: Machine[BundleState] = Machine(
    kind="bundle",
    state=BundleState,
    initial=lambda scope: BundleState(bundle_id=scope.keys[0]),
    subject=lambda s: f"bundle {s.bundle_id}",
    phases={"none": "it does not exist", "built": "it is already built", "verified": "it is already verified"},
    transitions=TRANSITIONS,
    invariants=(
        BUNDLE_IMMUTABLE,
        BUNDLE_ID_CONSISTENT,
        MANIFEST_BOUND,
        BUNDLE_MUST_EXIST,
        BUNDLE_NOT_EMPTY,
        BUNDLE_REGULAR_FILES,
        BUNDLE_HAS_NO_SECRETS,
        BUNDLE_REQUIRES_EVIDENCE,
    ),
    holds=(
        (BUNDLE_IMMUTABLE, lambda s: s.phase == "none" or s.manifest_digest is not None),
        (
            BUNDLE_ID_CONSISTENT,
            lambda s: (
                s.phase == "none" or s.bundle_id == bundle_id_for(s.label or "", s.created_at or "", s.source_commit)
            ),
        ),
        (MANIFEST_BOUND, lambda s: s.phase != "verified" or s.payload_tree is not None),
    ),
)


MANIFEST = "bundle_manifest.json"


SECTIONS: tuple[tuple[str, str], ...] = (
    ("payload/runtime", "runtime payload"),
    ("payload/registry", "registry payload"),
    ("evidence", "evidence"),
)
"""(root, label) of each checksummed section, in manifest order."""


def manifest_for(
    bundle_id: str,
    label: str,
    created_at: str,
    commit: str | None,
    sections: tuple[Mapping[str, str], Mapping[str, str], Mapping[str, str]],
    required: Sequence[str],
    packages: Sequence[PackageRef],
) -> BundleManifest:
    """The ``release_bundle_v1`` manifest of a build from ``sections`` = (runtime, registry,
    evidence) checksums, each keyed by path relative to its section root."""
    runtime, registry, evidence = (dict(sorted(s.items())) for s in sections)
    git = GitMeta(commit=commit, dirty=False if commit else None)
    return BundleManifest(
        contract="release_bundle_v1",
        bundle_id=bundle_id,
        bundle_label=label,
        created_at=created_at,
        source=ManifestSource(runtime_root=".", registry_root="registry", runtime_git=git, registry_git=git),
        payload=ManifestPayload(runtime_checksums=runtime, registry_checksums=registry, packages=tuple(packages)),
        evidence=ManifestEvidence(files=tuple(evidence), required=tuple(sorted(set(required))), checksums=evidence),
        summary=ManifestSummary(
            included_files=len(runtime) + len(registry) + len(evidence),
            runtime_files=len(runtime),
            registry_files=len(registry),
            evidence_files=len(evidence),
        ),
    )


def release_blocker(archetype: str, version: str, package_phase: str, version_phase: str) -> InvariantError | None:
    """Why the package ``archetype`` ``version`` may not go into a new release — withdrawn, not
    published, or its version retired — given the package's and the version's phases *now*; None
    when it may. Bundle build, plain and gated promotion, and ``verify`` (with the phases at the
    moment of each promotion) all ask this one rule."""
    if package_phase == "withdrawn":
        return InvariantError(
            f"package {archetype} {version} is withdrawn",
            WITHDRAWAL_BLOCKS_FUTURE,
            "build a new bundle without it (`gitdocket bundle build --package ARCHETYPE@VERSION`)",
        )
    if package_phase != "published":
        return InvariantError(
            f"package {archetype} {version} is not published",
            WITHDRAWAL_BLOCKS_FUTURE,
            "bundle published packages only",
        )
    if version_phase == "retired":
        return InvariantError(
            f"version {archetype} {version} is retired",
            RETIREMENT_BLOCKS_FUTURE_PACKAGING,
            "build a new bundle with a newer version (`gitdocket bundle build --package ARCHETYPE@VERSION`)",
        )
    return None


def manifest_bytes(manifest: BundleManifest) -> bytes:
    return render(manifest.model_dump(mode="json"))


def manifest_digest(data: bytes) -> str:
    return "sha256:" + sha256_hex(data)
