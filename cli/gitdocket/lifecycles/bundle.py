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
from typing import Any, Literal

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
from gitdocket.core.fields import Digest, GitOid, Name, Timestamp
from gitdocket.core.model import Record
from gitdocket.errors import InvariantError
from gitdocket.lifecycles.machine import Invariant, Machine, Transition

__all__ = [
    "LIFECYCLE",
    "MANIFEST",
    "SECTIONS",
    "BuiltData",
    "BundleState",
    "VerifiedData",
    "bundle_id_for",
    "manifest_bytes",
    "manifest_digest",
    "manifest_for",
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
    label: Name
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


TRANSITIONS = (
    Transition(
        "BuildBundle",
        "built",
        ("none",),
        "built",
        BuiltData,
        role="builders",
        invariant="BUNDLE_IMMUTABLE",
        doc="a builder records the bundle: manifest digest, label, source commit, file counts",
    ),
    Transition(
        "VerifyBundle",
        "verified",
        ("built",),
        "verified",
        VerifiedData,
        role="builders",
        invariant="BUNDLE_IMMUTABLE",
        refusals=(("none", "BUNDLE_MUST_EXIST"),),
        doc="a builder records that every checksum held, and the trees it checked",
    ),
)


def _guard(state: BundleState, row: Transition, data: Any) -> None:
    if isinstance(data, BuiltData):
        expected = bundle_id_for(data.label, data.created_at, data.source_commit)
        if state.bundle_id != expected:
            raise InvariantError(
                f"bundle: id {state.bundle_id!r} does not match its build ({expected})",
                "BUNDLE_ID_CONSISTENT",
                "bundle ids are <label>-<UTC stamp>-<commit8>",
            )
    if isinstance(data, VerifiedData) and data.manifest_digest != state.manifest_digest:
        raise InvariantError(
            "bundle: the verified manifest is not the one that was built",
            "MANIFEST_BOUND",
            "the bundle was changed after it was built; rebuild it",
        )


def _apply(state: BundleState, row: Transition, data: Any) -> BundleState:
    if isinstance(data, BuiltData):
        return state.model_copy(update=data.model_dump())
    if isinstance(data, VerifiedData):
        return state.model_copy(update=data.model_dump(exclude={"manifest_digest", "verified_files"}))
    return state


LIFECYCLE: Machine[BundleState] = Machine(
    kind="bundle",
    state=BundleState,
    initial=lambda scope: BundleState(bundle_id=scope.keys[0]),
    transitions=TRANSITIONS,
    guard=_guard,
    apply=_apply,
    invariants=(
        Invariant(
            "BUNDLE_IMMUTABLE",
            "structural",
            "a bundle is built once and never changes: no rebuild over an existing id, no "
            "edited, added or removed file",
            lambda s: s.phase == "none" or s.manifest_digest is not None,
        ),
        Invariant(
            "BUNDLE_ID_CONSISTENT",
            "structural",
            "the bundle id is <label>-<UTC stamp>-<commit8> of its own build",
            lambda s: (
                s.phase == "none" or s.bundle_id == bundle_id_for(s.label or "", s.created_at or "", s.source_commit)
            ),
        ),
        Invariant(
            "MANIFEST_BOUND",
            "structural",
            "the verified manifest is the built manifest (the builder's signature covers it)",
            lambda s: s.phase != "verified" or s.payload_tree is not None,
        ),
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


def manifest_bytes(manifest: BundleManifest) -> bytes:
    return render(manifest.model_dump(mode="json"))


def manifest_digest(data: bytes) -> str:
    return "sha256:" + sha256_hex(data)
