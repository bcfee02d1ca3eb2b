"""Assertions shared by the lifecycle tests: a transition row leads where the table says, a
refusal cites its invariant, is worded for people and leaves the state as it was, and the tables
are fully covered."""

from __future__ import annotations

from typing import Any

import pytest

from gitdocket.errors import InvariantError
from gitdocket.lifecycles import INVARIANTS
from gitdocket.lifecycles.machine import Machine
from tests.support import IDENTIFIERS, identifiers_in

__all__ = ["IDENTIFIERS", "assert_refused", "assert_worded", "identifiers_in", "row_sources", "step"]


def assert_worded(machine: Machine[Any], state: Any, command: str, exc: InvariantError) -> None:
    """A refusal in the user's words: it says what was tried (the row's ``does`` and the
    instance), cites a declared invariant in parentheses, names no internal command or event,
    and says what to do next."""
    row = machine.row(command)
    assert exc.message.startswith(f"cannot {row.does} {machine.subject(state)}: "), exc.message
    assert exc.message.endswith(f" ({exc.invariant})")
    assert INVARIANTS[exc.invariant] is exc.rule
    assert identifiers_in(exc.message) == [], exc.message
    assert exc.hint.strip(), f"no hint: {exc.message}"
    assert identifiers_in(exc.hint) == [], exc.hint


def step(machine: Machine[Any], state: Any, command: str, data: Any) -> Any:
    """Decide and evolve one command; the event's data must re-decide to itself (what verify
    relies on when it replays a log)."""
    decision = machine.decide(state, command, data)
    assert machine.by_event[decision.type].command == command
    assert machine.decide(state, command, decision.data) == decision
    new = machine.evolve(state, decision.type, decision.data)
    assert machine.broken_invariants(new) == []
    return new


def assert_refused(machine: Machine[Any], state: Any, command: str, data: Any, invariant: str) -> None:
    before = state.model_dump(mode="json")
    with pytest.raises(InvariantError) as info:
        machine.decide(state, command, data)
    assert info.value.invariant == invariant
    assert f"({invariant})" in str(info.value)
    assert_worded(machine, state, command, info.value)
    assert state.model_dump(mode="json") == before


def row_sources(machine: Machine[Any]) -> set[tuple[str, str]]:
    """Every (command, source phase) pair the table allows."""
    return {(row.command, source) for row in machine.transitions for source in row.sources}
