"""The publish side of the package-distribution lifecycle (seed 000).

A package manifest carries handles and metadata, never payload: archetype, version, the frozen
snapshot's content hash and tree id, protection posture, publisher. ``current.json`` of a package
scope *is* the manifest. Installs happen in placement scopes (see ``placement``).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from gitdocket.core.documents import Posture
from gitdocket.core.fields import Digest, GitOid
from gitdocket.core.model import ReasonData, Record
from gitdocket.errors import Invariant, InvariantError
from gitdocket.lifecycles.invariants import (
    CROSSING_REQUIRES_PERMIT_AND_ADMIT,
    HISTORY_PRESERVED_ON_WITHDRAWAL,
    PACKAGE_REQUIRES_FROZEN_VERSION,
    TRANSITION_NOT_ALLOWED,
    WITHDRAWAL_BLOCKS_FUTURE,
)
from gitdocket.lifecycles.machine import Machine, Refusal, Transition
from gitdocket.lifecycles.vendors import Permit

__all__ = ["LIFECYCLE", "PACKAGE_SCOPE_MATCHES", "Manifest", "PackageState"]


class Manifest(Record):
    archetype: str
    version: str
    content_hash: Digest
    method_tree: GitOid
    protection_posture: Posture
    publisher: str


class PackageState(Record):
    contract: Literal["package_manifest_v1"] = "package_manifest_v1"
    phase: Literal["draft", "published", "withdrawn"] = "draft"
    archetype: str = ""
    version: str = ""
    manifest: Manifest | None = None
    withdrawn_reason: str | None = None
    permits: tuple[Permit, ...] = Field(default=(), exclude_if=lambda permits: not permits)
    """Client registries the owners permitted the package to cross into (source-permit)."""


PACKAGE_SCOPE_MATCHES = Invariant(
    "PACKAGE_SCOPE_MATCHES", "structural", "a package's manifest names the archetype and version of its own scope"
)


def _check_scope(state: PackageState, data: Manifest) -> None:
    if (data.archetype, data.version) != (state.archetype, state.version):
        raise InvariantError(
            "the manifest names another archetype or version",
            PACKAGE_SCOPE_MATCHES,
            "publish with `gitdocket package publish ARCHETYPE VERSION`, which writes the manifest",
        )


def _published(state: PackageState, data: Manifest) -> PackageState:
    return state.model_copy(update={"manifest": data})


def _withdrawn(state: PackageState, data: ReasonData) -> PackageState:
    return state.model_copy(update={"withdrawn_reason": data.reason})


def _check_permit(state: PackageState, data: Permit) -> None:
    if data in state.permits:
        raise InvariantError(f"{data.client} is already permitted", CROSSING_REQUIRES_PERMIT_AND_ADMIT, "nothing to do")


def _permitted(state: PackageState, data: Permit) -> PackageState:
    return state.model_copy(update={"permits": (*state.permits, data)})


TRANSITIONS: tuple[Transition[PackageState, Any], ...] = (
    Transition(
        "PublishPackage",
        "package_published",
        ("draft",),
        "published",
        Manifest,
        does="publish",
        hint="a package is published once; release a new version instead",
        role="owners:{0}",
        signed_by=("publisher",),
        invariant=PACKAGE_REQUIRES_FROZEN_VERSION,
        refusals=(
            Refusal(("published",), TRANSITION_NOT_ALLOWED, "nothing to do: it is published"),
            Refusal(
                ("withdrawn",),
                WITHDRAWAL_BLOCKS_FUTURE,
                "a withdrawn package stays withdrawn; release a new version instead",
            ),
        ),
        guard=_check_scope,
        apply=_published,
        doc="publish the manifest of a frozen version (handles and metadata, never payload)",
    ),
    Transition(
        "WithdrawPackage",
        "package_withdrawn",
        ("published",),
        "withdrawn",
        ReasonData,
        does="withdraw",
        hint="nothing to do: it is already withdrawn",
        role="owners:{0}",
        invariant=WITHDRAWAL_BLOCKS_FUTURE,
        refusals=(
            Refusal(
                ("draft",),
                TRANSITION_NOT_ALLOWED,
                "publish it first: `gitdocket package publish {archetype} {version}`",
            ),
        ),
        apply=_withdrawn,
        doc="block future installs; history and existing installs are preserved",
    ),
    Transition(
        "PermitClient",
        "client_permitted",
        ("published",),
        None,
        Permit,
        does="permit a client to install",
        hint="publish it first: `gitdocket package publish {archetype} {version}`",
        role="owners:{0}",
        invariant=CROSSING_REQUIRES_PERMIT_AND_ADMIT,
        refusals=(Refusal(("withdrawn",), WITHDRAWAL_BLOCKS_FUTURE, "a withdrawn package crosses nowhere"),),
        guard=_check_permit,
        apply=_permitted,
        doc="source-permit: the package may cross into one named client registry (its root pinned by digest)",
    ),
)


LIFECYCLE: Machine[PackageState] = Machine(
    kind="package",
    state=PackageState,
    initial=lambda scope: PackageState(archetype=scope.keys[0], version=scope.keys[1]),
    subject=lambda s: f"package {s.archetype} {s.version}",
    phases={
        "draft": "it is not published",
        "published": "it is already published",
        "withdrawn": "it is withdrawn",
    },
    transitions=TRANSITIONS,
    invariants=(PACKAGE_SCOPE_MATCHES,),
    holds=((HISTORY_PRESERVED_ON_WITHDRAWAL, lambda s: s.phase != "withdrawn" or s.manifest is not None),),
)
