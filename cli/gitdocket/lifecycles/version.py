"""The agent-version lifecycle of seed 001: draft → frozen → packaged; draft → abandoned;
frozen | packaged → retired.

Freeze records the snapshot (method manifest with sha256 and git blob id per file, the method's
git tree id, ``.agent-config.json``, protection posture, provenance, content hash) and — unlike
the origin, which only records them — **validates completeness** before admitting it.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from gitdocket.core.canonical import canonical, sha256_hex
from gitdocket.core.documents import Posture
from gitdocket.core.fields import Digest, GitOid, Sha256Hex
from gitdocket.core.model import ReasonData, Record
from gitdocket.errors import InvariantError
from gitdocket.lifecycles.machine import Invariant, Machine, Transition

__all__ = ["LIFECYCLE", "AgentConfig", "FileEntry", "Provenance", "Snapshot", "VersionState", "content_hash"]

Phase = Literal["init", "draft", "frozen", "packaged", "retired", "abandoned"]
REQUIRED_FILES = ("instructions.md", ".agent-config.json")


class FileEntry(Record):
    sha256: Sha256Hex
    blob: GitOid
    size: int = Field(ge=0)


class ModelRef(Record):
    provider: str = Field(min_length=1)
    name: str = Field(min_length=1)


class AgentConfig(Record):
    """``.agent-config.json`` (contract ``agent_config_v1``)."""

    model: ModelRef
    skills: tuple[str, ...] = ()
    tools: tuple[str, ...] = ()
    settings: dict[str, Any] = Field(default_factory=dict)


class Provenance(Record):
    source_commit: GitOid
    frozen_by: str = Field(min_length=1)
    frozen_at: str = Field(min_length=1)


class Snapshot(Record):
    method_tree: GitOid
    manifest: dict[str, FileEntry]
    agent_config: AgentConfig
    protection_posture: Posture
    provenance: Provenance
    content_hash: Digest


class VersionState(Record):
    phase: Phase = "init"
    archetype: str = ""
    version: str = ""
    draft_revision: int = 0
    frozen_revision: int = 0
    draft_tree: str | None = None
    packaged: bool = False
    packages: tuple[str, ...] = ()
    snapshot: Snapshot | None = None
    retired_reason: str | None = None


class DraftData(Record):
    method_tree: GitOid


class PackageRefData(Record):
    package: str = Field(min_length=1)


def content_hash(manifest: dict[str, FileEntry]) -> str:
    """``sha256:`` over the canonical manifest (path → sha256): what a package pins."""
    return "sha256:" + sha256_hex(canonical({p: e.sha256 for p, e in sorted(manifest.items())}))


# A version that has no draft (never created, or abandoned) is not "frozen": cite no invariant.
NOT_A_VERSION = (("init", "TRANSITION_NOT_ALLOWED"), ("abandoned", "TRANSITION_NOT_ALLOWED"))

TRANSITIONS = (
    Transition(
        "CreateDraft",
        "draft_created",
        ("init",),
        "draft",
        DraftData,
        role="owners:{0}",
        doc="open a draft of the version from the archetype's editable method",
    ),
    Transition(
        "ReviseDraft",
        "draft_revised",
        ("draft",),
        "draft",
        DraftData,
        role="owners:{0}",
        invariant="FROZEN_VERSION_IMMUTABLE",
        refusals=NOT_A_VERSION,
        doc="record a new revision of the draft",
    ),
    Transition(
        "FreezeVersion",
        "version_frozen",
        ("draft",),
        "frozen",
        Snapshot,
        role="owners:{0}",
        invariant="FROZEN_VERSION_IMMUTABLE",
        refusals=NOT_A_VERSION,
        doc="snapshot the draft into an immutable version (completeness checked)",
    ),
    Transition(
        "RecordPackageReference",
        "package_referenced",
        ("frozen", "packaged"),
        "packaged",
        PackageRefData,
        role="owners:{0}",
        invariant="PACKAGE_REQUIRES_FROZEN_VERSION",
        refusals=(("retired", "RETIREMENT_BLOCKS_FUTURE_PACKAGING"),),
        doc="a package now references this frozen version",
    ),
    Transition(
        "RetireVersion",
        "version_retired",
        ("frozen", "packaged"),
        "retired",
        ReasonData,
        role="owners:{0}",
        doc="block future packaging; existing packages keep working",
    ),
    Transition(
        "AbandonDraft",
        "draft_abandoned",
        ("draft",),
        "abandoned",
        ReasonData,
        role="owners:{0}",
        refusals=(
            ("frozen", "FROZEN_VERSION_IMMUTABLE"),
            ("packaged", "PAST_PACKAGES_PRESERVED"),
            ("retired", "FROZEN_VERSION_IMMUTABLE"),
        ),
        doc="cancel a draft that was never frozen (terminal)",
    ),
)


def _check_snapshot(state: VersionState, snap: Snapshot) -> None:
    """Freeze completeness: what the origin records but never checks (seed 001 §freeze model)."""
    missing = [f for f in REQUIRED_FILES if f not in snap.manifest]
    if missing:
        raise InvariantError(
            f"version: snapshot lacks {', '.join(missing)}",
            "FREEZE_REQUIRES_COMPLETE_SNAPSHOT",
            "add the file(s) to the archetype's method/ folder and commit",
        )
    if snap.manifest["instructions.md"].size == 0:
        raise InvariantError(
            "version: method/instructions.md is empty",
            "FREEZE_REQUIRES_COMPLETE_SNAPSHOT",
            "write the instructions before freezing",
        )
    for kind, names in (("skills", snap.agent_config.skills), ("tools", snap.agent_config.tools)):
        for name in names:
            if not any(
                p == f"{kind}/{name}" or p.startswith(f"{kind}/{name}/") or p.startswith(f"{kind}/{name}.")
                for p in snap.manifest
            ):
                raise InvariantError(
                    f"version: .agent-config.json names {kind[:-1]} {name!r} but method/{kind}/ has no {name}",
                    "FREEZE_REQUIRES_COMPLETE_SNAPSHOT",
                    f"add method/{kind}/{name}.md or remove it from the config",
                )
    if snap.content_hash != content_hash(snap.manifest):
        raise InvariantError("version: content_hash does not match the manifest", "FREEZE_REQUIRES_COMPLETE_SNAPSHOT")
    if state.draft_tree is not None and snap.method_tree != state.draft_tree:
        raise InvariantError(
            "version: the method changed since the draft was recorded",
            "FREEZE_REQUIRES_COMPLETE_SNAPSHOT",
            "revise the draft, then freeze",
        )


def _guard(state: VersionState, row: Transition, data: Any) -> None:
    if isinstance(data, Snapshot):
        _check_snapshot(state, data)
    if isinstance(data, PackageRefData) and data.package in state.packages:
        raise InvariantError(f"version: already referenced by {data.package}", "PACKAGE_REFERENCE_UNIQUE")


def _apply(state: VersionState, row: Transition, data: Any) -> VersionState:
    if row.command == "CreateDraft":
        return state.model_copy(update={"draft_revision": 1, "draft_tree": data.method_tree})
    if row.command == "ReviseDraft":
        return state.model_copy(update={"draft_revision": state.draft_revision + 1, "draft_tree": data.method_tree})
    if row.command == "FreezeVersion":
        return state.model_copy(
            update={"frozen_revision": state.draft_revision, "snapshot": data, "draft_tree": data.method_tree}
        )
    if row.command == "RecordPackageReference":
        return state.model_copy(update={"packaged": True, "packages": (*state.packages, data.package)})
    if row.command == "RetireVersion":
        return state.model_copy(update={"retired_reason": data.reason})
    return state


FROZEN_PHASES = ("frozen", "packaged", "retired")

LIFECYCLE: Machine[VersionState] = Machine(
    kind="version",
    state=VersionState,
    initial=lambda scope: VersionState(archetype=scope.keys[0], version=scope.keys[1]),
    transitions=TRANSITIONS,
    guard=_guard,
    apply=_apply,
    invariants=(
        Invariant(
            "PACKAGE_REQUIRES_FROZEN_VERSION",
            "structural",
            "a package may reference only a frozen version",
            lambda s: not s.packaged or s.frozen_revision >= 1,
        ),
        Invariant(
            "FROZEN_VERSION_IMMUTABLE",
            "structural",
            "after freeze, nothing about the version's snapshot changes",
            lambda s: s.phase not in FROZEN_PHASES or s.draft_revision == s.frozen_revision,
        ),
        Invariant(
            "RETIREMENT_BLOCKS_FUTURE_PACKAGING", "structural", "a retired version takes no new package references"
        ),
        Invariant(
            "PAST_PACKAGES_PRESERVED",
            "structural",
            "retiring a version never breaks packages that already reference it (INV-18)",
            lambda s: s.packaged == bool(s.packages),
        ),
        Invariant(
            "FREEZE_REQUIRES_COMPLETE_SNAPSHOT",
            "structural",
            "freeze is admitted only with a complete snapshot: instructions, config, posture, provenance, hashes",
            lambda s: s.phase not in FROZEN_PHASES or s.snapshot is not None,
        ),
    ),
)
