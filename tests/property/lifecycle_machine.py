"""A Hypothesis state machine that drives one lifecycle ``Machine`` with random commands.

After every step: a refused command left the state as it was; an accepted one followed a row of
the table (its source phase, its target phase) and re-decides to the same event (what ``verify``
relies on); every invariant holds; replaying the accepted events from the initial state gives the
current state. Subclasses name the scope, the command pool and any history-wide rule (``track``).
"""

from __future__ import annotations

from typing import Any, ClassVar

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from gitdocket.core.scopes import Scope
from gitdocket.errors import InputError, InvariantError
from gitdocket.lifecycles import machine_for
from tests.unit.lifecycle_checks import assert_worded

SETTINGS = settings(max_examples=150, stateful_step_count=25, deadline=None, database=None)
Command = tuple[str, dict[str, Any]]


class LifecycleMachine(RuleBasedStateMachine):
    target: ClassVar[Scope]
    pool: ClassVar[list[Command]]
    opening: ClassVar[list[Command]] = []
    """Commands tried once first (e.g. the policy's InitPolicy), so runs reach deep states."""

    def __init__(self) -> None:
        super().__init__()
        self.machine = machine_for(self.target.kind)
        self.state: Any = self.machine.initial(self.target)
        self.events: list[tuple[str, dict[str, Any]]] = []
        self.refusals: list[str] = []

    def track(self, before: Any, after: Any, command: str) -> None:
        """History-wide rules that a single state cannot express (override)."""

    @initialize(data=st.data())
    def open(self, data: st.DataObject) -> None:
        if self.opening:
            self._apply(*data.draw(st.sampled_from(self.opening), label="opening"))

    @rule(data=st.data())
    def step(self, data: st.DataObject) -> None:
        self._apply(*data.draw(st.sampled_from(self.pool), label="command"))

    def _apply(self, command: str, payload: dict[str, Any]) -> None:
        before = self.state
        snapshot = before.model_dump(mode="json")
        try:
            decision = self.machine.decide(before, command, payload)
        except (InvariantError, InputError) as exc:
            assert before.model_dump(mode="json") == snapshot
            if isinstance(exc, InvariantError):
                assert_worded(self.machine, before, command, exc)
            self.refusals.append(getattr(exc, "invariant", "") or "INPUT")
            return
        row = self.machine.by_command[command]
        assert decision.type == row.event and before.phase in row.sources
        assert self.machine.decide(before, command, decision.data) == decision
        self.state = self.machine.evolve(before, decision.type, decision.data)
        assert self.state.phase == (row.target or before.phase)
        self.events.append((decision.type, decision.data))
        self.track(before, self.state, command)

    @invariant()
    def every_invariant_holds(self) -> None:
        assert self.machine.broken_invariants(self.state) == []

    @invariant()
    def replay_equals_state(self) -> None:
        assert self.machine.replay(self.target, self.events) == self.state
