"""Every lifecycle, by scope kind. Each module owns one ``Machine``: its transition table,
``decide``/``evolve``, state model and the invariants it declares. Add a lifecycle by adding a
module and one loader to ``LIFECYCLES``.

``LIFECYCLES`` builds a lifecycle's module (its ``Machine`` and its pydantic models) the first
time a scope of that kind is touched, not when this package is imported: ``gitdocket status``
touches none, ``gitdocket history`` only the environment's (ADR 0035). Listing the kinds, or
asking whether a kind exists, builds nothing.

``INVARIANTS`` is every invariant by name: each lifecycle's and the cross-scope ones
(``invariants.CROSS_SCOPE``), joined (and so every lifecycle built) on first use; a name declared
twice fails there, and ``tests/unit/test_invariants.py`` makes that happen in every test run.
``scope`` builds a scope typed by its kind (``scope("version", a, v)`` is a
``Scope[VersionState]``), so reading its state through a transaction or a verification context
is typed too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, Literal, TypeVar, overload

from gitdocket.core import scopes
from gitdocket.core.model import Record
from gitdocket.core.scopes import Scope
from gitdocket.errors import Invariant
from gitdocket.lifecycles.invariants import CROSS_SCOPE
from gitdocket.lifecycles.machine import Decision, Machine, Transition

if TYPE_CHECKING:
    from gitdocket.lifecycles.archetype import ArchetypeState
    from gitdocket.lifecycles.bundle import BundleState
    from gitdocket.lifecycles.config import ConfigState
    from gitdocket.lifecycles.entitlement import EntitlementState
    from gitdocket.lifecycles.environment import DeploymentState
    from gitdocket.lifecycles.package import PackageState
    from gitdocket.lifecycles.placement import PlacementState
    from gitdocket.lifecycles.policy import PolicyState
    from gitdocket.lifecycles.version import VersionState

__all__ = [
    "INVARIANTS",
    "LIFECYCLES",
    "Decision",
    "Invariant",
    "Lifecycles",
    "Machine",
    "Transition",
    "declared",
    "machine_for",
    "machine_of",
    "scope",
]

S = TypeVar("S", bound=Record)


class Lifecycles(Mapping[str, Machine[Any]]):
    """Scope kind → its ``Machine``, each loaded on first use and kept. Keys, length and
    membership come from the loaders alone; only reading a value imports its module."""

    def __init__(self, loaders: dict[str, Callable[[], Machine[Any]]]) -> None:
        self._loaders = loaders
        self._built: dict[str, Machine[Any]] = {}

    def __getitem__(self, kind: str) -> Machine[Any]:
        machine = self._built.get(kind)
        if machine is None:
            machine = self._built[kind] = self._loaders[kind]()
        return machine

    def __iter__(self) -> Iterator[str]:
        return iter(self._loaders)

    def __len__(self) -> int:
        return len(self._loaders)

    def __contains__(self, kind: object) -> bool:
        return kind in self._loaders


# One loader per kind: an import inside a function is how a pure module defers one (no importlib
# here, by the layer rules), and each names its module plainly for readers and for mypy.
def _policy() -> Machine[PolicyState]:
    from gitdocket.lifecycles.policy import LIFECYCLE

    return LIFECYCLE


def _config() -> Machine[ConfigState]:
    from gitdocket.lifecycles.config import LIFECYCLE

    return LIFECYCLE


def _archetype() -> Machine[ArchetypeState]:
    from gitdocket.lifecycles.archetype import LIFECYCLE

    return LIFECYCLE


def _version() -> Machine[VersionState]:
    from gitdocket.lifecycles.version import LIFECYCLE

    return LIFECYCLE


def _package() -> Machine[PackageState]:
    from gitdocket.lifecycles.package import LIFECYCLE

    return LIFECYCLE


def _placement() -> Machine[PlacementState]:
    from gitdocket.lifecycles.placement import LIFECYCLE

    return LIFECYCLE


def _entitlement() -> Machine[EntitlementState]:
    from gitdocket.lifecycles.entitlement import LIFECYCLE

    return LIFECYCLE


def _bundle() -> Machine[BundleState]:
    from gitdocket.lifecycles.bundle import LIFECYCLE

    return LIFECYCLE


def _environment() -> Machine[DeploymentState]:
    from gitdocket.lifecycles.environment import LIFECYCLE

    return LIFECYCLE


LIFECYCLES = Lifecycles(
    {
        "policy": _policy,
        "config": _config,
        "archetype": _archetype,
        "version": _version,
        "package": _package,
        "placement": _placement,
        "entitlement": _entitlement,
        "bundle": _bundle,
        "environment": _environment,
    }
)


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


class Invariants(Mapping[str, Invariant]):
    """Every declared invariant by name, joined by ``declared`` on first use (which builds every
    lifecycle: the site, the JUnit reader and the tests ask, a read never does)."""

    def __init__(self) -> None:
        self._joined: dict[str, Invariant] | None = None

    def _all(self) -> dict[str, Invariant]:
        if self._joined is None:
            self._joined = declared(
                {
                    "lifecycles.invariants": CROSS_SCOPE,
                    **{f"lifecycles.{k}": m.invariants for k, m in LIFECYCLES.items()},
                }
            )
        return self._joined

    def __getitem__(self, name: str) -> Invariant:
        return self._all()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._all())

    def __len__(self) -> int:
        return len(self._all())


INVARIANTS = Invariants()


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
