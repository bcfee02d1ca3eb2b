"""An exhaustive, bounded model check of one lifecycle ``Machine`` (seeds 000 and 001 check theirs
in Quint; this is the same question asked of the very tables gitdocket runs).

Breadth-first from the initial state, every command of a small finite domain of representative
data (``domains``) is decided in every state reached; an accepted one is evolved and the new state
checked: every ``Machine.holds`` rule, and every edge rule of the domain (a rule over the step
``before → after``, e.g. a frozen snapshot never changes). States are told apart by their
canonical JSON. The search stops at ``depth`` steps. What it reports: the distinct states, how
often each row fired, and the first violation of each rule with the command sequence that reached
it (a counterexample, shortest first: breadth-first).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from gitdocket.core.canonical import canonical
from gitdocket.core.scopes import Scope
from gitdocket.errors import InputError, Invariant, InvariantError
from gitdocket.lifecycles.machine import Machine

Action = tuple[str, dict[str, Any], str | None]
"""(command, data, the event's time for the row's timed rules, or None)."""
Actions = Callable[[Any], Iterable[Action]]
EdgeRule = tuple[Invariant, Callable[[Any, str, Any], bool]]
"""A rule over one accepted step: (invariant, holds(before, command, after))."""


@dataclass(frozen=True)
class Model:
    """One lifecycle with its representative data and the depth that covers every row twice."""

    machine: Machine[Any]
    target: Scope[Any]
    actions: Actions
    depth: int
    edges: tuple[EdgeRule, ...] = ()


@dataclass
class Result:
    states: int = 0
    edges: int = 0
    depth: int = 0
    fired: Counter[str] = field(default_factory=Counter)
    crashes: int = 0
    """Accepted commands whose ``apply`` failed (a guard removed in a mutant); 0 in the real one."""
    violations: dict[str, list[str]] = field(default_factory=dict)
    """Rule name → the shortest command sequence that broke it."""


def _key(state: Any) -> bytes:
    return canonical(state.model_dump(mode="json"))


def explore(model: Model, until: str | None = None) -> Result:
    """Search ``model``; with ``until`` (a rule's name), stop as soon as that rule is broken."""
    machine = model.machine
    start = machine.initial(model.target)
    seen = {_key(start)}
    frontier: list[tuple[Any, tuple[str, ...]]] = [(start, ())]
    result = Result(states=1)
    for level in range(1, model.depth + 1):
        following: list[tuple[Any, tuple[str, ...]]] = []
        for state, path in frontier:
            for command, data, at in model.actions(state):
                try:
                    decision = machine.decide(state, command, data, at)
                except (InvariantError, InputError):
                    continue
                try:
                    after = machine.evolve(state, decision.type, decision.data)
                except (AssertionError, KeyError):  # an ``apply`` relying on its guard: a mutant's dead end
                    result.crashes += 1
                    continue
                result.edges += 1
                result.fired[command] += 1
                trace = (*path, command)
                broken = [rule.name for rule in machine.broken(after)]
                broken += [rule.name for rule, holds in model.edges if not holds(state, command, after)]
                for name in broken:
                    result.violations.setdefault(name, list(trace))
                if until in result.violations:
                    result.states = len(seen)
                    return result
                key = _key(after)
                if key not in seen:
                    seen.add(key)
                    following.append((after, trace))
        if not following:
            break
        result.depth = level
        frontier = following
    result.states = len(seen)
    return result


def without_guard(machine: Machine[Any], command: str, *, sources: Sequence[str] | None = None) -> Machine[Any]:
    """A copy of ``machine`` whose row ``command`` lost its guard and its timed rules (and, with
    ``sources``, is allowed from those phases too): the mutant a teeth test runs."""
    rows = tuple(
        replace(
            row,
            guard=None,
            timed=None,
            sources=tuple(dict.fromkeys((*row.sources, *(sources or ())))),
        )
        if row.command == command
        else row
        for row in machine.transitions
    )
    return replace(machine, transitions=rows)
