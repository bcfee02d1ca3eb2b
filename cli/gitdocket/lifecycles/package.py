"""The publish side of the package-distribution lifecycle (seed 000).

A package manifest carries handles and metadata, never payload: archetype, version, the frozen
snapshot's content hash and tree id, protection posture, publisher. ``current.json`` of a package
scope *is* the manifest. Installs happen in placement scopes (see ``placement``).
"""

from __future__ import annotations

from typing import Any, Literal

from gitdocket.core.documents import Posture
from gitdocket.core.fields import Digest, GitOid
from gitdocket.core.model import ReasonData, Record
from gitdocket.errors import InvariantError
from gitdocket.lifecycles.machine import Invariant, Machine, Transition

__all__ = ["LIFECYCLE", "Manifest", "PackageState"]


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


TRANSITIONS = (
    Transition(
        "PublishPackage",
        "package_published",
        ("draft",),
        "published",
        Manifest,
        role="owners:{0}",
        invariant="PACKAGE_REQUIRES_FROZEN_VERSION",
        refusals=(("published", "TRANSITION_NOT_ALLOWED"), ("withdrawn", "WITHDRAWAL_BLOCKS_FUTURE")),
        doc="publish the manifest of a frozen version (handles and metadata, never payload)",
    ),
    Transition(
        "WithdrawPackage",
        "package_withdrawn",
        ("published",),
        "withdrawn",
        ReasonData,
        role="owners:{0}",
        invariant="WITHDRAWAL_BLOCKS_FUTURE",
        refusals=(("draft", "TRANSITION_NOT_ALLOWED"),),
        doc="block future installs; history and existing installs are preserved",
    ),
)


def _guard(state: PackageState, row: Transition, data: Any) -> None:
    if isinstance(data, Manifest) and (data.archetype, data.version) != (state.archetype, state.version):
        raise InvariantError("package: manifest names another archetype or version", "PACKAGE_SCOPE_MATCHES")


def _apply(state: PackageState, row: Transition, data: Any) -> PackageState:
    if isinstance(data, Manifest):
        return state.model_copy(update={"manifest": data})
    if isinstance(data, ReasonData):
        return state.model_copy(update={"withdrawn_reason": data.reason})
    return state


LIFECYCLE: Machine[PackageState] = Machine(
    kind="package",
    state=PackageState,
    initial=lambda scope: PackageState(archetype=scope.keys[0], version=scope.keys[1]),
    transitions=TRANSITIONS,
    guard=_guard,
    apply=_apply,
    invariants=(
        Invariant(
            "HISTORY_PRESERVED_ON_WITHDRAWAL",
            "structural",
            "withdrawal is future-only: the manifest stays (INV-18)",
            lambda s: s.phase != "withdrawn" or s.manifest is not None,
        ),
        Invariant("WITHDRAWAL_BLOCKS_FUTURE", "structural", "after withdrawal no new install is admitted"),
    ),
)
