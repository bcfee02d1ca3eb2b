"""Hypothesis: random promotions and rollbacks of one environment. After every step the
invariants hold, replaying the events gives the same state, sequences never repeat, rollback
lands where an independent "undo the latest promotion still in effect" model says, and a release
a rollback left is held: it comes back only by a promotion with an override."""

from __future__ import annotations

from typing import Any

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from gitdocket.core.scopes import scope
from gitdocket.errors import DocketError
from gitdocket.lifecycles.environment import LIFECYCLE, DeploymentState, rollback_target

TARGET = scope("environment", "prod")
BUNDLES = [f"b{n}-20260101-000000-0000000{n}" for n in range(5)]


class Environment(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.state: DeploymentState = LIFECYCLE.initial(TARGET)
        self.events: list[tuple[str, dict[str, Any]]] = []
        self.model: list[str] = []  # the promotions still in effect, oldest first
        self.ever: set[str] = set()
        self.held: set[str] = set()  # releases a rollback left

    def _do(self, command: str, data: dict[str, Any]) -> bool:
        try:
            decision = LIFECYCLE.decide(self.state, command, data)
        except DocketError:
            return False
        self.state = LIFECYCLE.evolve(self.state, decision.type, decision.data)
        self.events.append((decision.type, decision.data))
        return True

    @rule(bundle=st.sampled_from(BUNDLES), override=st.booleans())
    def promote(self, bundle: str, override: bool) -> None:
        current = self.state.bundle_id
        ok = self._do(
            "Promote",
            {
                "override": "fixed and re-tested" if override else None,
                "bundle_id": bundle,
                "bundle_tree": "a" * 40,
                "manifest_digest": "sha256:" + "0" * 64,
                "source_environment": "staging",
                "allowed_sources": ["staging"],
                "require_gate": True,
                "gated": True,
                "gate_decision": "go",
                "report_digest": "sha256:" + "1" * 64,
                "sequence": self.state.sequence + 1,
                "previous_bundle_id": self.state.bundle_id,
                "promoted_at": "2026-01-01T00:00:00Z",
                "promoted_by": "alice",
            },
        )
        assert ok == (bundle != current and (bundle in self.held) == override)
        if ok:
            self.model.append(bundle)
            self.ever.add(bundle)
            self.held.discard(bundle)

    def _expected_target(self) -> str | None:
        rest = list(self.model)
        while rest and (rest[-1] == self.state.bundle_id or rest[-1] in self.held):
            rest.pop()
        return rest[-1] if rest else None

    @precondition(lambda self: self.state.phase == "active")
    @rule()
    def roll_back(self) -> None:
        expected = self._expected_target()
        assert rollback_target(self.state) == expected
        current = self.state.bundle_id
        ok = self._do(
            "Rollback",
            {
                "target": expected or BUNDLES[0],
                "requested": False,
                "reason": "regression",
                "sequence": self.state.sequence + 1,
                "previous_bundle_id": current,
                "rolled_back_at": "2026-01-02T00:00:00Z",
                "rolled_back_by": "bob",
            },
        )
        assert ok == (expected is not None)
        if ok:
            assert expected is not None and current is not None
            self.held.add(current)
            self.model = self.model[: len(self.model) - self.model[::-1].index(expected)]
            assert self.state.bundle_id == expected

    @precondition(lambda self: self.state.phase == "active")
    @rule(bundle=st.sampled_from(BUNDLES))
    def roll_back_to(self, bundle: str) -> None:
        current = self.state.bundle_id
        ok = self._do(
            "Rollback",
            {
                "target": bundle,
                "requested": True,
                "reason": "named",
                "sequence": self.state.sequence + 1,
                "previous_bundle_id": self.state.bundle_id,
                "rolled_back_at": "2026-01-02T00:00:00Z",
                "rolled_back_by": "bob",
            },
        )
        assert ok == (bundle in self.ever and bundle != current and bundle not in self.held)
        if ok:
            assert current is not None
            self.held.add(current)
            if bundle in self.model:
                self.model = self.model[: len(self.model) - self.model[::-1].index(bundle)]
            else:
                self.model.append(bundle)
            assert self.state.bundle_id == bundle

    @invariant()
    def holds_are_the_model(self) -> None:
        assert set(self.state.holds) == self.held

    @invariant()
    def invariants_hold(self) -> None:
        assert LIFECYCLE.broken_invariants(self.state) == []

    @invariant()
    def replay_equals_state(self) -> None:
        assert LIFECYCLE.replay(TARGET, self.events) == self.state

    @invariant()
    def sequences_count_events(self) -> None:
        assert [d["sequence"] for _, d in self.events] == list(range(1, len(self.events) + 1))
        assert self.state.sequence == len(self.events)

    @invariant()
    def rollback_never_reaches_the_unpromoted(self) -> None:
        assert set(self.state.releases) == self.ever
        target = rollback_target(self.state)
        assert target is None or target in self.ever


TestEnvironment = Environment.TestCase
TestEnvironment.settings = settings(max_examples=150, stateful_step_count=30, deadline=None)
