"""Risk rules, pure: which rules a diff triggers, and whether the signers meet them."""

from __future__ import annotations

from typing import Any

import pytest

from gitdocket.errors import InvariantError
from gitdocket.lifecycles.agent_diff import AgentDiff, Change
from gitdocket.lifecycles.risk import RiskRule, check_approvals, missing_approvals

PERMISSION = Change(kind="tool_permission_added", risk="high", subject="web-fetch: net:read", new="net:read")
SETTING = Change(kind="settings_changed", risk="low", subject="settings.temperature", old="0.2", new="0.7")
MEMBERS = {"security": ("sam", "tess")}


def diff(*changes: Change) -> AgentDiff:
    return AgentDiff(archetype="a", old_version="1.0.0", new_version="1.1.0", risk="high", changes=changes)


def rule(**fields: Any) -> RiskRule:
    return RiskRule.model_validate({"name": "r", "role": "security", **fields})


@pytest.mark.parametrize(
    ("the_rule", "action", "changes", "signers", "unmet"),
    [
        pytest.param(
            rule(kinds=["tool_permission_added"]), "freeze", (PERMISSION,), {"alice"}, True, id="kind-unsigned"
        ),
        pytest.param(
            rule(kinds=["tool_permission_added"]), "freeze", (PERMISSION,), {"alice", "sam"}, False, id="kind-signed"
        ),
        pytest.param(rule(at_least="high"), "promote", (PERMISSION,), {"alice"}, True, id="level-unsigned"),
        pytest.param(rule(at_least="medium"), "freeze", (SETTING,), {"alice"}, False, id="below-level"),
        pytest.param(
            rule(kinds=["tool_permission_added"], on=["promote"]),
            "freeze",
            (PERMISSION,),
            {"alice"},
            False,
            id="other-action",
        ),
        pytest.param(
            rule(at_least="high", signatures=2), "freeze", (PERMISSION,), {"alice", "sam"}, True, id="two-needed"
        ),
        pytest.param(
            rule(at_least="high", signatures=2), "freeze", (PERMISSION,), {"sam", "tess"}, False, id="two-given"
        ),
        pytest.param(rule(at_least="low"), "freeze", (), {"alice"}, False, id="no-change"),
    ],
)
def test_a_rule_is_met_by_its_role_signatures(
    the_rule: RiskRule, action: Any, changes: tuple[Change, ...], signers: set[str], unmet: bool
) -> None:
    missing = missing_approvals([the_rule], action, [diff(*changes)], signers, MEMBERS.get)
    assert bool(missing) is unmet


def test_the_refusal_names_the_rule_the_changes_and_the_holders() -> None:
    """RISK_APPROVAL_REQUIRED: the message says what is missing and the hint how to add it."""
    missing = missing_approvals([rule(at_least="high")], "freeze", [diff(PERMISSION)], {"alice"}, MEMBERS.get)
    with pytest.raises(InvariantError) as caught:
        check_approvals(missing)
    assert caught.value.rule.name == "RISK_APPROVAL_REQUIRED"
    assert "risk rule r needs 1 signature(s) by role security for tool_permission_added web-fetch: net:read" in str(
        caught.value
    )
    assert "`--key` of a security holder (sam, tess)" in caught.value.hint


@pytest.mark.parametrize(
    ("fields", "why"),
    [
        pytest.param({}, "needs kinds or at_least", id="no-trigger"),
        pytest.param({"kinds": ["tool_added"], "on": []}, "applies on freeze, promote or both", id="applies-nowhere"),
        pytest.param(
            {"kinds": ["tool_added"], "signatures": 0}, "signatures\n.*greater than or equal to 1", id="no-signature"
        ),
    ],
)
def test_a_rule_that_says_nothing_is_not_a_rule(fields: dict[str, Any], why: str) -> None:
    with pytest.raises(ValueError, match=why):
        rule(**fields)
