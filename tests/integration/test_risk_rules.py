"""Risk rules of the policy (ADR 0028), with teeth: a freeze or promotion whose diff holds a
change a rule names is refused, naming the approval it lacks and leaving the repository exactly as
it was, until a holder of the rule's role signs too; ``verify`` finds one recorded without it; a
rule that could never be met is refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitdocket.adapters.files import load_yaml
from gitdocket.adapters.store import GitRefs, GitStore
from gitdocket.ops import versions as version_ops
from gitdocket.verify.stream import verify_snapshot
from tests.integration.releases_support import Release, copy_release
from tests.integration.test_agent_diff import ARCHETYPE, RISKY_CONFIG, edit_method
from tests.support import repo_state

RULE = (
    "--role",
    "security",
    "--kind",
    "tool_added",
    "--kind",
    "tool_permission_added",
    "--kind",
    "egress_widened",
    "--kind",
    "posture_widened",
)


@pytest.fixture
def rel(template: Path, tmp_path: Path) -> Release:
    release = copy_release(template, tmp_path / "copy")
    release.reg.ok("policy", "add-identity", "sam", f"{release.reg.key('sam')}.pub")
    release.reg.ok("policy", "grant", "security", "sam")
    return release


def keys(rel: Release, *names: str) -> list[str]:
    return [arg for name in names for arg in ("--key", str(rel.reg.key(name)))]


def refused(rel: Release, *args: str, message: str, rule: str = "RISK_APPROVAL_REQUIRED") -> str:
    before = repo_state(rel.reg)
    result = rel.reg.run(*args)
    assert result.code == 1, result.out + result.err
    assert message in result.err and f"({rule})" in result.err, result.err
    assert repo_state(rel.reg) == before, "a refused command leaves the repository exactly as it was"
    return result.err


def test_a_risky_freeze_needs_the_security_signature(rel: Release) -> None:
    """RISK_APPROVAL_REQUIRED at freeze: refused with the missing approval and how to add it."""
    rel.reg.ok("policy", "risk-rule", "add", "new-capabilities", *RULE)
    edit_method(rel.reg, RISKY_CONFIG)
    err = refused(
        rel,
        "version",
        "freeze",
        ARCHETYPE,
        "1.1.0",
        message="cannot freeze version support-triage 1.1.0: risk rule new-capabilities needs 1 signature(s) "
        "by role security for tool_added web-fetch",
    )
    assert "`--key` of a security holder (sam)" in err
    rel.reg.ok("version", "freeze", ARCHETYPE, "1.1.0", *keys(rel, "alice", "sam"), key=None)
    assert rel.reg.ok("verify").out.rstrip().endswith("OK")


def test_a_change_no_rule_names_needs_no_extra_signature(rel: Release) -> None:
    rel.reg.ok("policy", "risk-rule", "add", "new-capabilities", *RULE)
    config = {**RISKY_CONFIG, "tools": ["kb-search"], "egress": [], "permissions": {}}
    edit_method(rel.reg, config, "# Support triage\n\nBe brief.\n")
    rel.reg.ok("version", "freeze", ARCHETYPE, "1.1.0")


def test_a_risky_promotion_needs_the_security_signature(rel: Release) -> None:
    """RISK_APPROVAL_REQUIRED at promotion: a new agent in preview is a high-risk change."""
    rel.reg.ok(
        "policy", "risk-rule", "add", "new-agents", "--role", "security", "--at-least", "high", "--on", "promote"
    )
    bundle = rel.build()
    before = repo_state(rel.reg)
    result = rel.promote(bundle, "preview")
    assert result.code == 1 and "risk rule new-agents needs 1 signature(s) by role security" in result.err
    assert "agent_added support-triage" in result.err and "(RISK_APPROVAL_REQUIRED)" in result.err
    assert repo_state(rel.reg) == before
    assert rel.promote(bundle, "preview", *keys(rel, "alice", "sam")).code == 0
    assert rel.reg.ok("verify").out.rstrip().endswith("OK")


def test_verify_finds_a_freeze_recorded_without_its_approval(rel: Release, monkeypatch: pytest.MonkeyPatch) -> None:
    """RISK_APPROVAL_REQUIRED in verify: a writer that skipped the rule is caught."""
    rel.reg.ok("policy", "risk-rule", "add", "new-capabilities", *RULE)
    edit_method(rel.reg, RISKY_CONFIG)
    monkeypatch.setattr(version_ops, "_refuse_unapproved", lambda *_args: None)
    rel.reg.ok("version", "freeze", ARCHETYPE, "1.1.0")
    result = rel.reg.run("verify", "--format", "json")
    assert result.code == 1
    found = [(f["code"], f["invariant"], f["path"]) for f in result.json()["findings"]]
    assert found == [
        ("RISK_UNAPPROVED", "RISK_APPROVAL_REQUIRED", "registry/versions/support-triage/1.1.0/history.jsonl:2")
    ]
    store = GitStore.open(rel.reg.path)
    streamed = verify_snapshot(store.snapshot(), GitRefs(store.repo), parse_yaml=load_yaml, stream_from=0)
    assert [(f.code, f.path) for f in streamed] == [(code, path) for code, _rule, path in found]  # ADR 0036


@pytest.mark.parametrize(
    ("args", "message", "rule"),
    [
        pytest.param(
            ("--role", "wizard", "--kind", "tool_added"), "unknown role 'wizard'", "ROLE_NAME_VALID", id="unknown-role"
        ),
        pytest.param(
            ("--role", "authorities:acme", "--kind", "tool_added"),
            "which nobody holds",
            "RISK_RULE_SOUND",
            id="role-nobody-holds",
        ),
        pytest.param(
            ("--role", "security", "--kind", "tool_grown"),
            "unknown change kind 'tool_grown'",
            "RISK_RULE_SOUND",
            id="unknown-kind",
        ),
        pytest.param(
            ("--role", "security", "--kind", "tool_added", "--signatures", "2"),
            "which has 1 member(s)",
            "RISK_RULE_SOUND",
            id="unreachable",
        ),
    ],
)
def test_a_rule_that_cannot_be_met_is_refused(rel: Release, args: tuple[str, ...], message: str, rule: str) -> None:
    """RISK_RULE_SOUND, ROLE_NAME_VALID: the policy refuses a rule no one could satisfy."""
    refused(rel, "policy", "risk-rule", "add", "r", *args, message=message, rule=rule)


def test_revoking_the_last_holder_a_rule_needs_is_refused(rel: Release) -> None:
    """RISK_RULE_SOUND: a rule's role keeps enough members."""
    rel.reg.ok("policy", "risk-rule", "add", "new-capabilities", *RULE)
    refused(rel, "policy", "revoke", "security", "sam", message="which nobody holds", rule="RISK_RULE_SOUND")
    rel.reg.ok("policy", "risk-rule", "remove", "new-capabilities")
    rel.reg.ok("policy", "revoke", "security", "sam")


def test_a_rule_without_a_trigger_is_bad_input(rel: Release) -> None:
    before = repo_state(rel.reg)
    result = rel.reg.run("policy", "risk-rule", "add", "r", "--role", "security")
    assert result.code == 2 and "pass --kind KIND (repeat) or --at-least RISK" in result.err, result.err
    assert "\nhint: " in result.err
    assert repo_state(rel.reg) == before


def test_policy_show_lists_the_rules(rel: Release) -> None:
    rel.reg.ok("policy", "risk-rule", "add", "new-capabilities", *RULE)
    shown = rel.reg.ok("policy", "show", "--format", "json").json()
    assert shown["risk_rules"][0]["name"] == "new-capabilities" and shown["risk_rules"][0]["role"] == "security"
    assert "new-capabilities\ttool_added, tool_permission_added" in rel.reg.ok("policy", "show").out


def test_a_rule_change_can_be_planned_first(rel: Release) -> None:
    """--dry-run, as for every other policy change: the plan is printed, nothing is written."""
    before = repo_state(rel.reg)
    planned = rel.reg.ok("policy", "risk-rule", "add", "new-capabilities", *RULE, "--dry-run").out
    assert "new-capabilities" in planned, planned
    assert repo_state(rel.reg) == before
    rel.reg.ok("policy", "risk-rule", "add", "new-capabilities", *RULE)
    before = repo_state(rel.reg)
    rel.reg.ok("policy", "risk-rule", "remove", "new-capabilities", "--dry-run")
    assert repo_state(rel.reg) == before
    assert rel.reg.ok("policy", "show", "--format", "json").json()["risk_rules"][0]["name"] == "new-capabilities"
