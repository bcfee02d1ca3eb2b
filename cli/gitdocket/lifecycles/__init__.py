"""Every lifecycle, by scope kind. Each module owns one ``Machine``: its transition table,
``decide``/``evolve``, state model and the invariants it declares. Add a lifecycle by adding a
module and one line to ``LIFECYCLES``.

``INVARIANTS`` is every invariant by name: each lifecycle's and the cross-scope ones
(``invariants.CROSS_SCOPE``); a name declared twice fails at import. ``scope`` builds a scope
typed by its kind (``scope("version", a, v)`` is a ``Scope[VersionState]``), so reading its state
through a transaction or a verification context is typed too.
"""

from __future__ import annotations

from typing import Any, Literal, TypeVar, overload

from gitdocket.core import scopes
from gitdocket.core.model import Record
from gitdocket.core.scopes import Scope
from gitdocket.errors import Invariant
from gitdocket.lifecycles import (
    archetype,
    bundle,
    config,
    entitlement,
    environment,
    package,
    placement,
    policy,
    version,
)
from gitdocket.lifecycles.archetype import ArchetypeState
from gitdocket.lifecycles.bundle import BundleState
from gitdocket.lifecycles.config import ConfigState
from gitdocket.lifecycles.entitlement import EntitlementState
from gitdocket.lifecycles.environment import DeploymentState
from gitdocket.lifecycles.invariants import CROSS_SCOPE
from gitdocket.lifecycles.machine import Decision, Machine, Transition
from gitdocket.lifecycles.package import PackageState
from gitdocket.lifecycles.placement import PlacementState
from gitdocket.lifecycles.policy import PolicyState
from gitdocket.lifecycles.version import VersionState

__all__ = [
    "INVARIANTS",
    "LIFECYCLES",
    "Decision",
    "Invariant",
    "Machine",
    "Transition",
    "declared",
    "machine_for",
    "machine_of",
    "scope",
]

S = TypeVar("S", bound=Record)

LIFECYCLES: dict[str, Machine[Any]] = {
    "policy": policy.LIFECYCLE,
    "config": config.LIFECYCLE,
    "archetype": archetype.LIFECYCLE,
    "version": version.LIFECYCLE,
    "package": package.LIFECYCLE,
    "placement": placement.LIFECYCLE,
    "entitlement": entitlement.LIFECYCLE,
    "bundle": bundle.LIFECYCLE,
    "environment": environment.LIFECYCLE,
}


def declared(groups: dict[str, tuple[Invariant, ...]]) -> dict[str, Invariant]:
    """Every invariant of ``groups`` (where declared → its invariants) by name; a name declared
    twice, even with the same words, is a ``ValueError``: each rule has one home."""
    found: dict[str, Invariant] = {}
    home: dict[str, str] = {}
    for where, rules in groups.items():
        for rule in rules:
            if rule.name in found:
                raise ValueError(f"invariant {rule.name} is declared twice: in {home[rule.name]} and in {where}")
            found[rule.name] = rule
            home[rule.name] = where
    return found


INVARIANTS: dict[str, Invariant] = declared(
    {"lifecycles.invariants": CROSS_SCOPE, **{f"lifecycles.{k}": m.invariants for k, m in LIFECYCLES.items()}}
)


def machine_for(kind: str) -> Machine[Any]:
    return LIFECYCLES[kind]


def machine_of(target: Scope[S]) -> Machine[S]:
    """The lifecycle of ``target``'s kind."""
    return LIFECYCLES[target.kind]


@overload
def scope(kind: Literal["policy"]) -> Scope[PolicyState]: ...
@overload
def scope(kind: Literal["config"]) -> Scope[ConfigState]: ...
@overload
def scope(kind: Literal["archetype"], name: str, /) -> Scope[ArchetypeState]: ...
@overload
def scope(kind: Literal["version"], archetype: str, number: str, /) -> Scope[VersionState]: ...
@overload
def scope(kind: Literal["package"], archetype: str, number: str, /) -> Scope[PackageState]: ...
@overload
def scope(kind: Literal["placement"], project: str, name: str, /) -> Scope[PlacementState]: ...
@overload
def scope(kind: Literal["entitlement"], project: str, name: str, /) -> Scope[EntitlementState]: ...
@overload
def scope(kind: Literal["bundle"], bundle_id: str, /) -> Scope[BundleState]: ...
@overload
def scope(kind: Literal["environment"], name: str, /) -> Scope[DeploymentState]: ...
@overload
def scope(kind: str, *keys: str) -> Scope[Any]: ...
def scope(kind: str, *keys: str) -> Scope[Any]:
    """``core.scopes.scope``, typed by the lifecycle of its kind."""
    return scopes.scope(kind, *keys)
