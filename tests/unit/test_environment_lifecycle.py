"""The environment lifecycle: every transition row, every invariant, rollback from history."""

from __future__ import annotations

from typing import Any

import pytest

from gitdocket.core.scopes import scope
from gitdocket.errors import InvariantError
from gitdocket.lifecycles.environment import LIFECYCLE, DeploymentState, as_v1, gate_allows, rollback_target
from tests.unit.lifecycle_checks import assert_worded


def bid(n: int) -> str:
    return f"build-20260101-00000{n}-0000000{n}"


def promoted(state: DeploymentState, bundle: str, **extra: Any) -> dict[str, Any]:
    data = {
        "bundle_id": bundle,
        "bundle_tree": "a" * 40,
        "manifest_digest": "sha256:" + "0" * 64,
        "source_environment": None,
        "allowed_sources": [None, "preview"],
        "require_gate": False,
        "gated": False,
        "gate_decision": None,
        "report_digest": None,
        "sequence": state.sequence + 1,
        "previous_bundle_id": state.bundle_id,
        "promoted_at": "2026-01-01T00:00:00Z",
        "promoted_by": "alice",
    }
    return {**data, **extra}


def rolled(state: DeploymentState, target: str, **extra: Any) -> dict[str, Any]:
    data = {
        "target": target,
        "requested": False,
        "reason": "canary regressed",
        "sequence": state.sequence + 1,
        "previous_bundle_id": state.bundle_id,
        "rolled_back_at": "2026-01-02T00:00:00Z",
        "rolled_back_by": "bob",
    }
    return {**data, **extra}


def initial(env: str = "dev") -> DeploymentState:
    return LIFECYCLE.initial(scope("environment", env))


def step(state: DeploymentState, command: str, data: dict[str, Any]) -> DeploymentState:
    decision = LIFECYCLE.decide(state, command, data)
    after = LIFECYCLE.evolve(state, decision.type, decision.data)
    assert LIFECYCLE.broken_invariants(after) == []
    return after


def promote_all(*bundles: int) -> DeploymentState:
    state = initial()
    for n in bundles:
        state = step(state, "Promote", promoted(state, bid(n)))
    return state


def test_promote_sets_the_pointer() -> None:
    state = promote_all(1, 2)
    assert (state.phase, state.bundle_id, state.previous_bundle_id, state.sequence) == (
        "active",
        bid(2),
        bid(1),
        2,
    )
    assert state.bundle_root == f"deployments/dev/releases/{bid(2)}"
    assert state.contract == "deployment_state_v2"


def test_rollback_moves_the_pointer_back_with_reason() -> None:
    state = promote_all(1, 2)
    state = step(state, "Rollback", rolled(state, bid(1)))
    assert (state.bundle_id, state.previous_bundle_id, state.rollback, state.reason) == (
        bid(1),
        bid(2),
        True,
        "canary regressed",
    )
    assert (state.promoted_by, state.sequence) == ("bob", 3)


def test_rollback_follows_history_not_names() -> None:
    # promote 3, then 1 (alphabetically first), then 2: the previous release of 2 is 1, not 3.
    state = promote_all(3, 1, 2)
    assert rollback_target(state) == bid(1)
    state = step(state, "Rollback", rolled(state, bid(1)))
    assert rollback_target(state) == bid(3)  # a second rollback walks further back, no flip-flop
    state = step(state, "Rollback", rolled(state, bid(3)))
    assert rollback_target(state) is None


def test_rollback_skips_repeats_of_the_current_release() -> None:
    state = promote_all(1, 2)
    state = step(state, "Rollback", rolled(state, bid(1)))
    state = step(state, "Promote", promoted(state, bid(2), override="fixed config, re-tested"))
    assert rollback_target(state) == bid(1)


def test_a_rollback_holds_the_release_it_left() -> None:
    state = promote_all(1, 2)
    state = step(state, "Rollback", rolled(state, bid(1)))
    hold = state.holds[bid(2)]
    assert (hold.held_by, hold.reason, hold.sequence) == ("bob", "canary regressed", 3)
    with pytest.raises(InvariantError) as refused:
        LIFECYCLE.decide(state, "Promote", promoted(state, bid(2)))
    assert refused.value.invariant == "ROLLBACK_HOLDS_RELEASE"
    assert "--override-hold" in refused.value.hint
    lifted = step(state, "Promote", promoted(state, bid(2), override="fixed config, re-tested"))
    assert lifted.holds == {} and lifted.bundle_id == bid(2)
    assert set(state.model_dump(mode="json")["holds"]) == {bid(2)}  # deployment_state_v2 carries them


def test_the_pointer_leaves_the_release_list_to_the_log() -> None:
    """ADR 0033: v2 renders neither the release list nor the rollback path (they grow with every
    promotion); v1's rendering, which verify still accepts, carries both and no holds."""
    state = promote_all(1, 2, 3)
    state = step(state, "Rollback", rolled(state, bid(2)))
    rendered = state.model_dump(mode="json")
    assert "releases" not in rendered and "rollback_stack" not in rendered
    assert LIFECYCLE.restore(rendered).model_dump(mode="json") == rendered
    v1 = as_v1(state)
    assert (v1["contract"], sorted(v1["releases"]), v1["rollback_stack"]) == (
        "deployment_state_v1",
        sorted(state.releases),
        list(state.rollback_stack),
    )
    assert "holds" not in v1 and LIFECYCLE.in_earlier_contract(v1)
    assert [row.command for row in LIFECYCLE.transitions if row.needs_history] == ["Rollback"]


def test_an_override_needs_a_hold_to_lift() -> None:
    state = promote_all(1)
    with pytest.raises(InvariantError) as refused:
        LIFECYCLE.decide(state, "Promote", promoted(state, bid(2), override="just because"))
    assert refused.value.invariant == "ROLLBACK_HOLDS_RELEASE"


def test_rollback_passes_over_a_held_release() -> None:
    # 1, 2, 3, then 2 again: rolling back from 2 holds it, and the next rollback lands on 1
    state = promote_all(1, 2, 3)
    state = step(state, "Rollback", rolled(state, bid(2)))
    state = step(state, "Promote", promoted(state, bid(4)))
    state = step(state, "Rollback", rolled(state, bid(2)))
    assert set(state.holds) == {bid(3), bid(4)}
    assert rollback_target(state) == bid(1)


def test_rollback_to_a_named_earlier_release() -> None:
    state = promote_all(1, 2, 3)
    state = step(state, "Rollback", rolled(state, bid(1), requested=True))
    assert state.bundle_id == bid(1)
    assert rollback_target(state) is None


def test_no_rollback_returns_to_a_release_rolled_back_from() -> None:
    state = promote_all(1, 2)
    state = step(state, "Rollback", rolled(state, bid(1)))
    with pytest.raises(InvariantError) as refused:
        LIFECYCLE.decide(state, "Rollback", rolled(state, bid(2), requested=True))
    assert refused.value.invariant == "ROLLBACK_HOLDS_RELEASE"


def test_rollback_restores_the_gate_decision_of_the_release() -> None:
    state = initial("staging")
    gated = {
        "allowed_sources": ["dev"],
        "source_environment": "dev",
        "require_gate": True,
        "gated": True,
        "gate_decision": "go",
        "report_digest": "sha256:" + "1" * 64,
    }
    state = step(state, "Promote", promoted(state, bid(1), **gated))
    state = step(
        state,
        "Promote",
        promoted(state, bid(2), **{**gated, "report_digest": "sha256:" + "2" * 64}),
    )
    state = step(state, "Rollback", rolled(state, bid(1)))
    assert (state.gate_decision, state.report_digest) == ("go", "sha256:" + "1" * 64)


def refused(state: DeploymentState, command: str, data: dict[str, Any]) -> str:
    before = state.model_dump()
    with pytest.raises(InvariantError) as caught:
        LIFECYCLE.decide(state, command, data)
    assert state.model_dump() == before
    assert_worded(LIFECYCLE, state, command, caught.value)
    return caught.value.invariant


@pytest.mark.parametrize(
    ("setup", "command", "change", "invariant"),
    [
        pytest.param(
            (),
            "Rollback",
            {"target": bid(1)},
            "ROLLBACK_REQUIRES_PREVIOUS_RELEASE",
            id="rollback-empty-env",
        ),
        pytest.param(
            (1,),
            "Rollback",
            {"target": bid(1)},
            "ROLLBACK_REQUIRES_PREVIOUS_RELEASE",
            id="rollback-nowhere-to-go",
        ),
        pytest.param(
            (1, 2, 3),
            "Rollback",
            {"target": bid(1)},
            "ROLLBACK_TO_PREVIOUS_RELEASE",
            id="rollback-skips-history",
        ),
        pytest.param(
            (1, 2),
            "Rollback",
            {"target": bid(9), "requested": True},
            "ROLLBACK_TARGET_PROMOTED",
            id="rollback-to-never-promoted",
        ),
        pytest.param(
            (1, 2),
            "Rollback",
            {"target": bid(2), "requested": True},
            "POINTER_CHANGES",
            id="rollback-to-current",
        ),
        pytest.param(
            (1,),
            "Rollback",
            {"target": bid(1), "sequence": 1},
            "SEQUENCE_MONOTONIC",
            id="rollback-reuses-sequence",
        ),
        pytest.param((1,), "Promote", {"bundle_id": bid(1)}, "POINTER_CHANGES", id="promote-active-bundle"),
        pytest.param(
            (1,),
            "Promote",
            {"bundle_id": bid(2), "sequence": 1},
            "SEQUENCE_MONOTONIC",
            id="promote-reuses-sequence",
        ),
        pytest.param(
            (1,),
            "Promote",
            {"bundle_id": bid(2), "previous_bundle_id": None},
            "POINTER_CHAIN",
            id="promote-stale-previous",
        ),
        pytest.param(
            (),
            "Promote",
            {"bundle_id": bid(1), "source_environment": "staging"},
            "ENVIRONMENT_TRANSITION_ALLOWED",
            id="promote-from-disallowed-source",
        ),
        pytest.param(
            (),
            "Promote",
            {"bundle_id": bid(1), "source_environment": "dev", "allowed_sources": ["dev"]},
            "ENVIRONMENT_TRANSITION_ALLOWED",
            id="promote-from-itself",
        ),
        pytest.param(
            (),
            "Promote",
            {"bundle_id": bid(1), "require_gate": True},
            "GATE_REQUIRED",
            id="ungated-promote-to-gated-env",
        ),
        pytest.param(
            (),
            "Promote",
            {"bundle_id": bid(1), "gated": True},
            "GATE_RECORDED",
            id="gated-without-report",
        ),
        pytest.param(
            (),
            "Promote",
            {
                "bundle_id": bid(1),
                "gated": True,
                "gate_decision": "no-go",
                "report_digest": "sha256:" + "0" * 64,
            },
            "RELEASE_GATE_ALLOWS_PROMOTION",
            id="gate-no-go",
        ),
        pytest.param(
            (),
            "Promote",
            {
                "bundle_id": bid(1),
                "gated": True,
                "require_gate": True,
                "gate_decision": "conditional-go",
                "report_digest": "sha256:" + "0" * 64,
            },
            "RELEASE_GATE_ALLOWS_PROMOTION",
            id="gate-conditional-go-on-strict-env",
        ),
    ],
)
def test_teeth(setup: tuple[int, ...], command: str, change: dict[str, Any], invariant: str) -> None:
    state = promote_all(*setup)
    target = change.get("target", change.get("bundle_id", ""))
    base = promoted(state, target) if command == "Promote" else rolled(state, target)
    assert refused(state, command, {**base, **change}) == invariant


@pytest.mark.parametrize("reason", [pytest.param("", id="empty"), pytest.param("   ", id="blank")])
def test_rollback_requires_a_reason(reason: str) -> None:
    from gitdocket.errors import InputError

    state = promote_all(1, 2)
    with pytest.raises(InputError):
        LIFECYCLE.decide(state, "Rollback", rolled(state, bid(1), reason=reason))


@pytest.mark.parametrize(
    ("decision", "strict", "allowed"),
    [
        pytest.param("go", True, True, id="go-strict"),
        pytest.param("conditional-go", True, False, id="conditional-strict"),
        pytest.param("conditional-go", False, True, id="conditional-lenient"),
        pytest.param("no-go", False, False, id="no-go-lenient"),
        pytest.param(None, False, False, id="no-decision"),
    ],
)
def test_gate_allows(decision: str | None, strict: bool, allowed: bool) -> None:
    assert gate_allows(decision, strict) is allowed


@pytest.mark.parametrize(
    ("mutation", "invariant"),
    [
        pytest.param({"bundle_id": bid(9)}, "POINTER_IN_RELEASES", id="pointer-outside-releases"),
        pytest.param({"sequence": 0}, "SEQUENCE_MONOTONIC", id="active-with-sequence-zero"),
        pytest.param({"rollback_stack": (bid(9),)}, "RELEASES_PRESERVED", id="stack-forgets-release"),
        pytest.param(
            {"rollback": True, "reason": None},
            "ROLLBACK_REQUIRES_REASON",
            id="rollback-without-reason",
        ),
    ],
)
def test_invariant_checks_catch_forged_states(mutation: dict[str, Any], invariant: str) -> None:
    forged = promote_all(1).model_copy(update=mutation)
    assert invariant in LIFECYCLE.broken_invariants(forged)
