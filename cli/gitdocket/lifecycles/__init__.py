"""Every lifecycle, by scope kind. Each module owns one ``Machine``: its transition table,
``decide``/``evolve``, state model and invariants. Add a lifecycle by adding a module and one line
to ``LIFECYCLES``."""

from __future__ import annotations

from typing import Any

from gitdocket.lifecycles import archetype, bundle, entitlement, environment, package, placement, policy, version
from gitdocket.lifecycles.machine import Decision, Invariant, Machine, Transition

__all__ = ["LIFECYCLES", "Decision", "Invariant", "Machine", "Transition", "machine_for"]

LIFECYCLES: dict[str, Machine[Any]] = {
    "policy": policy.LIFECYCLE,
    "archetype": archetype.LIFECYCLE,
    "version": version.LIFECYCLE,
    "package": package.LIFECYCLE,
    "placement": placement.LIFECYCLE,
    "entitlement": entitlement.LIFECYCLE,
    "bundle": bundle.LIFECYCLE,
    "environment": environment.LIFECYCLE,
}


def machine_for(kind: str) -> Machine[Any]:
    return LIFECYCLES[kind]
