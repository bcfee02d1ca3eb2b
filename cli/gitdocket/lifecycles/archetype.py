"""The archetype lifecycle: ``created``, ``forked``, ``owners_changed`` and ``pulled_from_source``.

An archetype's owners (and their threshold) live here; every version, package and fork of the
archetype is authorized against them. Fork is owner-only: the ``forked`` event must be signed by
an owner of the *source* archetype (seed 001, the IP protection of ADR 0035). Pulling a newer
source version into a fork copies more of the source's method, so it is owner-only too.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from gitdocket.core.fields import PRINCIPAL_RE, GitOid, Name, Semver
from gitdocket.core.model import Record
from gitdocket.errors import InvariantError
from gitdocket.lifecycles.machine import Invariant, Machine, Transition

__all__ = ["LIFECYCLE", "ArchetypeState", "ForkOrigin"]


class ForkOrigin(Record):
    archetype: str
    version: str | None = None


class ArchetypeState(Record):
    phase: Literal["none", "active"] = "none"
    name: str = ""
    owners: tuple[str, ...] = ()
    threshold: int = 1
    forked_from: ForkOrigin | None = None


class OwnersData(Record):
    owners: tuple[str, ...]
    threshold: int = Field(default=1, ge=1)


class ForkData(Record):
    owners: tuple[str, ...]
    threshold: int = Field(default=1, ge=1)
    source: Name
    source_version: Semver | None = None
    method_tree: GitOid | None = None
    """The source's method tree at the fork point: the merge base of the first pull."""


class PullData(Record):
    """A pull merged ``source_tree`` (the source version's snapshot, the next merge base) into
    the fork's draft, giving ``merged_tree``. The state does not change: the log is the record."""

    source: str
    source_version: str
    source_tree: GitOid
    merged_tree: GitOid


TRANSITIONS = (
    Transition(
        "CreateArchetype",
        "created",
        ("none",),
        "active",
        OwnersData,
        role="authors",
        doc="an author creates the archetype and names its owners",
    ),
    Transition(
        "ForkArchetype",
        "forked",
        ("none",),
        "active",
        ForkData,
        role="owners:{source}",
        doc="an owner of the source makes an independent archetype recording forked_from",
    ),
    Transition(
        "ChangeOwners",
        "owners_changed",
        ("active",),
        None,
        OwnersData,
        role="owners:{0}",
        doc="the owners hand the archetype to a new set of owners",
    ),
    Transition(
        "PullFromSource",
        "pulled_from_source",
        ("active",),
        None,
        PullData,
        role="owners:{source}",
        invariant="FORK_IS_OWNER_ONLY",
        doc="merge a newer frozen version of the source into the fork's draft",
    ),
)


def _guard(state: ArchetypeState, _row: Transition, data: Any) -> None:
    if isinstance(data, PullData):
        if state.forked_from is None or state.forked_from.archetype != data.source:
            raise InvariantError(
                f"archetype: {state.name} is not a fork of {data.source}",
                "PULL_REQUIRES_FORK",
                "only a fork pulls from its source",
            )
        return
    if not data.owners:
        raise InvariantError("archetype: at least one owner is required", "ARCHETYPE_HAS_OWNERS")
    for owner in data.owners:
        if not PRINCIPAL_RE.fullmatch(owner):
            raise InvariantError(f"archetype: invalid owner {owner!r}", "OWNERS_VALID")
    if data.threshold > len(set(data.owners)):
        raise InvariantError(
            f"archetype: threshold {data.threshold} exceeds {len(set(data.owners))} owner(s)", "THRESHOLD_REACHABLE"
        )


def _apply(state: ArchetypeState, _row: Transition, data: Any) -> ArchetypeState:
    if isinstance(data, PullData):
        return state
    update: dict[str, Any] = {"owners": tuple(sorted(set(data.owners))), "threshold": data.threshold}
    if isinstance(data, ForkData):
        update["forked_from"] = ForkOrigin(archetype=data.source, version=data.source_version)
    return state.model_copy(update=update)


LIFECYCLE: Machine[ArchetypeState] = Machine(
    kind="archetype",
    state=ArchetypeState,
    initial=lambda scope: ArchetypeState(name=scope.keys[0]),
    transitions=TRANSITIONS,
    guard=_guard,
    apply=_apply,
    invariants=(
        Invariant(
            "ARCHETYPE_HAS_OWNERS",
            "structural",
            "an active archetype always has an owner",
            lambda s: s.phase == "none" or bool(s.owners),
        ),
        Invariant("FORK_IS_OWNER_ONLY", "policy", "only an owner of the source archetype may fork it (ADR 0035)"),
    ),
)
