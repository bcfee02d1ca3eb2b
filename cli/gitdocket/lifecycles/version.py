"""The agent-version lifecycle of seed 001: draft → frozen → packaged; draft → abandoned;
frozen | packaged → retired.

Freeze records the snapshot (method manifest with sha256 and git blob id per file, the method's
git tree id, ``.agent-config.json``, protection posture, provenance, content hash) and — unlike
the origin, which only records them — **validates completeness** before admitting it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, Literal

from pydantic import Field

from gitdocket.core.canonical import canonical, sha256_hex
from gitdocket.core.documents import Posture
from gitdocket.core.fields import Digest, GitOid, Semver, Sha256Hex, semver_key
from gitdocket.core.limits import MAX_FOLDER_BYTES, MAX_FOLDER_FILES, casefold_collision, path_problem
from gitdocket.core.model import ReasonData, Record
from gitdocket.errors import Invariant, InvariantError
from gitdocket.lifecycles.invariants import (
    PACKAGE_REQUIRES_FROZEN_VERSION,
    RETIREMENT_BLOCKS_FUTURE_PACKAGING,
    TRANSITION_NOT_ALLOWED,
)
from gitdocket.lifecycles.machine import Machine, Refusal, Transition

__all__ = [
    "FREEZE_PINS_CONTENT",
    "FREEZE_REQUIRES_COMPLETE_SNAPSHOT",
    "FROZEN_VERSION_IMMUTABLE",
    "LIFECYCLE",
    "METHOD_NAMES_CANONICAL",
    "PACKAGE_REFERENCE_UNIQUE",
    "PAST_PACKAGES_PRESERVED",
    "AgentConfig",
    "FileEntry",
    "Provenance",
    "Snapshot",
    "VersionState",
    "baseline_of",
    "blocking_version",
    "content_hash",
]

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
    """``.agent-config.json`` (contract ``agent_config_v1``).

    ``egress`` lists the network destinations the agent may reach (host names, ``*.domain``, or
    ``*`` for any; none: no network) and ``permissions`` what each tool may do (tool name → the
    permissions it is granted, e.g. ``fs:read``). Both are optional and left out when empty, so a
    configuration without them reads and records exactly as before (ADR 0028)."""

    model: ModelRef
    skills: tuple[str, ...] = ()
    tools: tuple[str, ...] = ()
    settings: dict[str, Any] = Field(default_factory=dict)
    egress: tuple[str, ...] = Field(default=(), exclude_if=lambda hosts: not hosts)
    permissions: dict[str, tuple[str, ...]] = Field(default_factory=dict, exclude_if=lambda grants: not grants)


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
    baseline: Semver | None = Field(default=None, exclude_if=lambda version: version is None)
    """The frozen version of the same archetype this one was compared with when it was frozen
    (the newest frozen one below it then): what its risk rules judged the change against (ADR
    0028); left out of the record for a first version."""
    editable: tuple[str, ...] = Field(default=(), exclude_if=lambda keys: not keys)
    """The config keys a placement of this version may set (``archetype.yaml`` ``editable`` at
    the freeze); left out of the record when there are none."""


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


def blocking_version(version: str, existing: Iterable[str]) -> str | None:
    """The newest of an archetype's ``existing`` versions when ``version`` is not newer than it
    (``VERSIONS_MONOTONIC``), else None. Drafting a version and ``verify --base`` both ask this."""
    newest = max((v for v in existing if v != version), key=semver_key, default=None)
    return newest if newest is not None and semver_key(newest) >= semver_key(version) else None


def baseline_of(version: str, listed: Iterable[str], frozen: Callable[[str], bool]) -> str | None:
    """The version a freeze of ``version`` is compared with: the newest of the archetype's
    ``listed`` versions below it that ``frozen`` says has a snapshot, or None for a first
    version. Asked newest first, so an archetype of thousands of versions asks once or twice."""
    below = sorted((v for v in listed if semver_key(v) < semver_key(version)), key=semver_key, reverse=True)
    return next((v for v in below if frozen(v)), None)


def content_hash(manifest: dict[str, FileEntry]) -> str:
    """``sha256:`` over the canonical manifest (path → sha256): what a package pins."""
    return "sha256:" + sha256_hex(canonical({p: e.sha256 for p, e in sorted(manifest.items())}))


FROZEN_VERSION_IMMUTABLE = Invariant(
    "FROZEN_VERSION_IMMUTABLE", "structural", "after freeze, nothing about the version's snapshot changes"
)
PAST_PACKAGES_PRESERVED = Invariant(
    "PAST_PACKAGES_PRESERVED",
    "structural",
    "retiring a version never breaks packages that already reference it (INV-18)",
)
FREEZE_REQUIRES_COMPLETE_SNAPSHOT = Invariant(
    "FREEZE_REQUIRES_COMPLETE_SNAPSHOT",
    "structural",
    "freeze is admitted only with a complete snapshot: instructions, config, posture, provenance, hashes",
)
PACKAGE_REFERENCE_UNIQUE = Invariant(
    "PACKAGE_REFERENCE_UNIQUE", "structural", "a version records each package that references it once"
)
METHOD_NAMES_CANONICAL = Invariant(
    "METHOD_NAMES_CANONICAL",
    "structural",
    "every file of a frozen method has one canonical name: portable across operating systems, "
    "unambiguous to a reader, no two equal once case is folded (docs/limits.md)",
)
FREEZE_PINS_CONTENT = Invariant(
    "FREEZE_PINS_CONTENT",
    "structural",
    "a freeze pins content, not a pointer to content stored elsewhere: no symlinks, submodules or "
    "Git LFS pointer files, and a method within the size limits",
)


def _check_names(manifest: dict[str, FileEntry]) -> None:
    """One canonical form per file name, and a method within its bounds (``core.limits``)."""
    for path in sorted(manifest):
        problem = path_problem(path)
        if problem is not None:
            raise InvariantError(
                f"method/{path}: {problem}", METHOD_NAMES_CANONICAL, "rename the file (see docs/limits.md)"
            )
    clash = casefold_collision(manifest)
    if clash is not None:
        raise InvariantError(
            f"method/{clash[0]} and method/{clash[1]} differ only in case",
            METHOD_NAMES_CANONICAL,
            "rename one of them: on a case-insensitive file system they are one file",
        )
    total = sum(entry.size for entry in manifest.values())
    if len(manifest) > MAX_FOLDER_FILES or total > MAX_FOLDER_BYTES:
        raise InvariantError(
            f"the method holds {len(manifest)} files, {total} bytes (at most {MAX_FOLDER_FILES} "
            f"files, {MAX_FOLDER_BYTES >> 20} MiB)",
            FREEZE_PINS_CONTENT,
            "keep large assets out of the method",
        )


def _check_snapshot(state: VersionState, snap: Snapshot) -> None:
    """Freeze completeness: what the origin records but never checks (seed 001 §freeze model)."""
    _check_names(snap.manifest)
    missing = [f for f in REQUIRED_FILES if f not in snap.manifest]
    if missing:
        raise InvariantError(
            f"the snapshot lacks {', '.join(missing)}",
            FREEZE_REQUIRES_COMPLETE_SNAPSHOT,
            "add the file(s) to the archetype's method/ folder and commit",
        )
    if snap.manifest["instructions.md"].size == 0:
        raise InvariantError(
            "method/instructions.md is empty",
            FREEZE_REQUIRES_COMPLETE_SNAPSHOT,
            "write the instructions before freezing",
        )
    for kind, names in (("skills", snap.agent_config.skills), ("tools", snap.agent_config.tools)):
        for name in names:
            if not any(
                p == f"{kind}/{name}" or p.startswith(f"{kind}/{name}/") or p.startswith(f"{kind}/{name}.")
                for p in snap.manifest
            ):
                raise InvariantError(
                    f".agent-config.json names {kind[:-1]} {name!r} but method/{kind}/ has no {name}",
                    FREEZE_REQUIRES_COMPLETE_SNAPSHOT,
                    f"add method/{kind}/{name}.md or remove it from the config",
                )
    unknown = sorted(set(snap.agent_config.permissions) - set(snap.agent_config.tools))
    if unknown:
        raise InvariantError(
            f".agent-config.json grants permissions to {unknown[0]!r}, which is not one of its tools",
            FREEZE_REQUIRES_COMPLETE_SNAPSHOT,
            f"add {unknown[0]!r} to `tools`, or remove it from `permissions`",
        )
    if snap.content_hash != content_hash(snap.manifest):
        raise InvariantError(
            "content_hash does not match the manifest",
            FREEZE_REQUIRES_COMPLETE_SNAPSHOT,
            "freeze with gitdocket, which computes the hash from the files",
        )
    if state.draft_tree is not None and snap.method_tree != state.draft_tree:
        raise InvariantError(
            "the method changed since the draft was recorded",
            FREEZE_REQUIRES_COMPLETE_SNAPSHOT,
            "revise the draft, then freeze",
        )


def _check_unreferenced(state: VersionState, data: PackageRefData) -> None:
    if data.package in state.packages:
        raise InvariantError(
            f"{data.package} already references it", PACKAGE_REFERENCE_UNIQUE, "nothing to do: it is published"
        )


def _draft_created(state: VersionState, data: DraftData) -> VersionState:
    return state.model_copy(update={"draft_revision": 1, "draft_tree": data.method_tree})


def _draft_revised(state: VersionState, data: DraftData) -> VersionState:
    return state.model_copy(update={"draft_revision": state.draft_revision + 1, "draft_tree": data.method_tree})


def _frozen(state: VersionState, data: Snapshot) -> VersionState:
    return state.model_copy(
        update={"frozen_revision": state.draft_revision, "snapshot": data, "draft_tree": data.method_tree}
    )


def _referenced(state: VersionState, data: PackageRefData) -> VersionState:
    return state.model_copy(update={"packaged": True, "packages": (*state.packages, data.package)})


def _retired(state: VersionState, data: ReasonData) -> VersionState:
    return state.model_copy(update={"retired_reason": data.reason})


NEW_VERSION = "draft a new version number instead: `gitdocket version draft {archetype} NEW-VERSION`"
OPEN_FIRST = "open the draft first: `gitdocket version draft {archetype} {version}`"
# A version that has no draft (never created, or abandoned) is not "frozen": cite no invariant.
NO_DRAFT = (
    Refusal(("init",), TRANSITION_NOT_ALLOWED, OPEN_FIRST),
    Refusal(("abandoned",), TRANSITION_NOT_ALLOWED, NEW_VERSION),
)

TRANSITIONS: tuple[Transition[VersionState, Any], ...] = (
    Transition(
        "CreateDraft",
        "draft_created",
        ("init",),
        "draft",
        DraftData,
        does="open a draft of",
        hint=f"it exists already; {NEW_VERSION}",
        role="owners:{0}",
        apply=_draft_created,
        doc="open a draft of the version from the archetype's editable method",
    ),
    Transition(
        "ReviseDraft",
        "draft_revised",
        ("draft",),
        "draft",
        DraftData,
        does="revise the draft of",
        hint=f"a frozen version never changes; {NEW_VERSION}",
        role="owners:{0}",
        invariant=FROZEN_VERSION_IMMUTABLE,
        refusals=NO_DRAFT,
        apply=_draft_revised,
        doc="record a new revision of the draft",
    ),
    Transition(
        "FreezeVersion",
        "version_frozen",
        ("draft",),
        "frozen",
        Snapshot,
        does="freeze",
        hint="a frozen version never changes; change method/ and freeze a new version: "
        "`gitdocket version freeze {archetype} NEW-VERSION`",
        role="owners:{0}",
        signed_by=("provenance.frozen_by",),
        invariant=FROZEN_VERSION_IMMUTABLE,
        refusals=NO_DRAFT,
        guard=_check_snapshot,
        apply=_frozen,
        doc="snapshot the draft into an immutable version (completeness checked)",
    ),
    Transition(
        "RecordPackageReference",
        "package_referenced",
        ("frozen", "packaged"),
        "packaged",
        PackageRefData,
        does="publish a package of",
        hint="freeze it first: `gitdocket version freeze {archetype} {version}`",
        role="owners:{0}",
        invariant=PACKAGE_REQUIRES_FROZEN_VERSION,
        refusals=(
            Refusal(
                ("retired",),
                RETIREMENT_BLOCKS_FUTURE_PACKAGING,
                "a retired version takes no new packages; release a newer version",
            ),
        ),
        guard=_check_unreferenced,
        apply=_referenced,
        doc="a package now references this frozen version",
    ),
    Transition(
        "RetireVersion",
        "version_retired",
        ("frozen", "packaged"),
        "retired",
        ReasonData,
        does="retire",
        hint="only a frozen version is retired; abandon a draft instead: "
        "`gitdocket version abandon {archetype} {version} --reason TEXT`",
        role="owners:{0}",
        refusals=(Refusal(("retired",), TRANSITION_NOT_ALLOWED, "nothing to do"),),
        apply=_retired,
        doc="block future packaging; existing packages keep working",
    ),
    Transition(
        "AbandonDraft",
        "draft_abandoned",
        ("draft",),
        "abandoned",
        ReasonData,
        does="abandon the draft of",
        hint="only a draft is abandoned; retire a frozen version instead: "
        "`gitdocket version retire {archetype} {version} --reason TEXT`",
        role="owners:{0}",
        refusals=(
            Refusal(("frozen", "retired"), FROZEN_VERSION_IMMUTABLE),
            Refusal(("packaged",), PAST_PACKAGES_PRESERVED),
            Refusal(("abandoned",), TRANSITION_NOT_ALLOWED, "nothing to do"),
        ),
        doc="cancel a draft that was never frozen (terminal)",
    ),
)


FROZEN_PHASES = ("frozen", "packaged", "retired")

LIFECYCLE: Machine[VersionState] = Machine(
    kind="version",
    state=VersionState,
    initial=lambda scope: VersionState(archetype=scope.keys[0], version=scope.keys[1]),
    subject=lambda s: f"version {s.archetype} {s.version}",
    phases={
        "init": "it does not exist yet",
        "draft": "it is still a draft",
        "frozen": "it is already frozen",
        "packaged": "it is already frozen and published",
        "retired": "it is retired",
        "abandoned": "its draft was abandoned",
    },
    transitions=TRANSITIONS,
    invariants=(
        FROZEN_VERSION_IMMUTABLE,
        PAST_PACKAGES_PRESERVED,
        FREEZE_REQUIRES_COMPLETE_SNAPSHOT,
        PACKAGE_REFERENCE_UNIQUE,
        METHOD_NAMES_CANONICAL,
        FREEZE_PINS_CONTENT,
    ),
    holds=(
        (PACKAGE_REQUIRES_FROZEN_VERSION, lambda s: not s.packaged or s.frozen_revision >= 1),
        (
            FROZEN_VERSION_IMMUTABLE,
            lambda s: s.phase not in FROZEN_PHASES or s.draft_revision == s.frozen_revision,
        ),
        (PAST_PACKAGES_PRESERVED, lambda s: s.packaged == bool(s.packages)),
        (FREEZE_REQUIRES_COMPLETE_SNAPSHOT, lambda s: s.phase not in FROZEN_PHASES or s.snapshot is not None),
    ),
)
