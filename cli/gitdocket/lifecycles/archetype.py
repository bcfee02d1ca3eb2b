"""The archetype lifecycle: ``created``, ``forked``, ``owners_changed`` and ``pulled_from_source``.

An archetype's owners (and their threshold) live here; every version, package and fork of the
archetype is authorized against them. Fork is owner-only: the ``forked`` event must be signed by
an owner of the *source* archetype (seed 001, the IP protection of ADR 0035). Pulling a newer
source version into a fork copies more of the source's method, so it is owner-only too.
"""

from __future__ import annotations

import functools
from typing import Any, Literal

from pydantic import Field

from gitdocket.core.fields import PRINCIPAL_RE, GitOid, Name, Semver
from gitdocket.core.model import Record
from gitdocket.errors import Invariant, InvariantError
from gitdocket.lifecycles.invariants import THRESHOLD_REACHABLE
from gitdocket.lifecycles.machine import Machine, Refusal, Transition
from gitdocket.lifecycles.policy import Role

__all__ = [
    "ARCHETYPE_HAS_OWNERS",
    "ARCHETYPE_UNIQUE",
    "FORK_IS_OWNER_ONLY",
    "LIFECYCLE",
    "OWNERS_CHANGE",
    "OWNERS_VALID",
    "PULL_REQUIRES_FORK",
    "ArchetypeState",
    "ForkOrigin",
    "fork_source",
]


class ForkOrigin(Record):
    archetype: str
    version: str | None = None


class ArchetypeState(Record):
    phase: Literal["none", "active"] = "none"
    name: str = ""
    owners: tuple[str, ...] = ()
    threshold: int = 1
    forked_from: ForkOrigin | None = None

    @property
    def owners_role(self) -> Role | None:
        """The owners as the role ``owners:<name>`` that signs the archetype's events; None
        before the archetype exists (nobody holds it then)."""
        return _owners_role(self.owners, self.threshold) if self.owners else None


@functools.lru_cache(maxsize=1024)
def _owners_role(owners: tuple[str, ...], threshold: int) -> Role:
    """The (frozen) role of these owners, kept by their exact values: verify asks for the owners
    of an archetype once per event signed by them."""
    return Role(principals=owners, threshold=threshold)


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

    source: Name
    source_version: Semver
    source_tree: GitOid
    merged_tree: GitOid


ARCHETYPE_HAS_OWNERS = Invariant("ARCHETYPE_HAS_OWNERS", "structural", "an active archetype always has an owner")
ARCHETYPE_UNIQUE = Invariant(
    "ARCHETYPE_UNIQUE", "structural", "an archetype name is created (or forked into) once; names are never reused"
)
OWNERS_VALID = Invariant("OWNERS_VALID", "structural", "every owner is a valid principal name")
FORK_IS_OWNER_ONLY = Invariant(
    "FORK_IS_OWNER_ONLY", "policy", "only an owner of the source archetype may fork it or pull from it (ADR 0035)"
)
OWNERS_CHANGE = Invariant("OWNERS_CHANGE", "operational", "an owner change changes the owners or their threshold")
PULL_REQUIRES_FORK = Invariant(
    "PULL_REQUIRES_FORK", "structural", "only a fork pulls, and only from the archetype it was forked from"
)


def fork_source(state: ArchetypeState) -> str:
    """The archetype ``state`` was forked from; refuses (``PULL_REQUIRES_FORK``) when it is not
    a fork. The pull command and the pull row's guard both ask this."""
    if state.forked_from is None:
        raise InvariantError(
            "it is not a fork, so there is nothing to pull",
            PULL_REQUIRES_FORK,
            "fork an archetype with `gitdocket archetype fork SOURCE NEW`",
        )
    return state.forked_from.archetype


def _check_owners(_state: ArchetypeState, data: OwnersData | ForkData) -> None:
    if not data.owners:
        raise InvariantError("at least one owner is required", ARCHETYPE_HAS_OWNERS, "name an owner with --owner")
    for owner in data.owners:
        if not PRINCIPAL_RE.fullmatch(owner):
            raise InvariantError(
                f"invalid owner {owner!r}", OWNERS_VALID, "owners are principal names of the trust policy"
            )
    if data.threshold > len(set(data.owners)):
        raise InvariantError(
            f"threshold {data.threshold} exceeds {len(set(data.owners))} owner(s)",
            THRESHOLD_REACHABLE,
            "lower --threshold or name more owners",
        )


def _check_change(state: ArchetypeState, data: OwnersData) -> None:
    _check_owners(state, data)
    if (tuple(sorted(set(data.owners))), data.threshold) == (state.owners, state.threshold):
        raise InvariantError(
            "its owners and their threshold would stay as they are",
            OWNERS_CHANGE,
            "pass --add, --remove or a new --threshold",
        )


def _check_pull(state: ArchetypeState, data: PullData) -> None:
    if fork_source(state) != data.source:
        raise InvariantError(
            f"it is not a fork of {data.source}",
            PULL_REQUIRES_FORK,
            "only a fork pulls, from its own source",
        )


def _owned(state: ArchetypeState, data: OwnersData) -> ArchetypeState:
    return state.model_copy(update={"owners": tuple(sorted(set(data.owners))), "threshold": data.threshold})


def _forked(state: ArchetypeState, data: ForkData) -> ArchetypeState:
    origin = ForkOrigin(archetype=data.source, version=data.source_version)
    return _owned(state, OwnersData(owners=data.owners, threshold=data.threshold)).model_copy(
        update={"forked_from": origin}
    )


EXISTS = Refusal(("active",), ARCHETYPE_UNIQUE)
TRANSITIONS: tuple[Transition[ArchetypeState, Any], ...] = (
    Transition(
        "CreateArchetype",
        "created",
        ("none",),
        "active",
        OwnersData,
        does="create",
        hint="pick another name, or edit its method/ folder and freeze a new version",
        role="authors",
        refusals=(EXISTS,),
        guard=_check_owners,
        apply=_owned,
        doc="an author creates the archetype and names its owners",
    ),
    Transition(
        "ForkArchetype",
        "forked",
        ("none",),
        "active",
        ForkData,
        does="fork into",
        hint="pick another name for the fork",
        role="owners:{source}",
        refusals=(EXISTS,),
        guard=_check_owners,
        apply=_forked,
        doc="an owner of the source makes an independent archetype recording forked_from",
    ),
    Transition(
        "ChangeOwners",
        "owners_changed",
        ("active",),
        None,
        OwnersData,
        does="change the owners of",
        hint="create the archetype first: `gitdocket archetype new {name} --from FOLDER`",
        role="owners:{0}",
        guard=_check_change,
        apply=_owned,
        doc="the owners hand the archetype to a new set of owners",
    ),
    Transition(
        "PullFromSource",
        "pulled_from_source",
        ("active",),
        None,
        PullData,
        does="pull the source's newest version into",
        hint="fork an archetype with `gitdocket archetype fork SOURCE NEW`",
        role="owners:{source}",
        invariant=FORK_IS_OWNER_ONLY,
        guard=_check_pull,
        doc="merge a newer frozen version of the source into the fork's draft",
    ),
)


LIFECYCLE: Machine[ArchetypeState] = Machine(
    kind="archetype",
    state=ArchetypeState,
    initial=lambda scope: ArchetypeState(name=scope.keys[0]),
    subject=lambda s: f"archetype {s.name}",
    phases={"none": "it does not exist", "active": "it already exists"},
    transitions=TRANSITIONS,
    invariants=(
        ARCHETYPE_HAS_OWNERS,
        ARCHETYPE_UNIQUE,
        OWNERS_VALID,
        OWNERS_CHANGE,
        FORK_IS_OWNER_ONLY,
        PULL_REQUIRES_FORK,
    ),
    holds=((ARCHETYPE_HAS_OWNERS, lambda s: s.phase == "none" or bool(s.owners)),),
)
