"""``--dry-run`` on every command that takes it: the plan it prints, the exit code of the real
command, and nothing written — refs, every object file and the worktree compared before/after."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.releases_support import Release
from tests.support import Registry, repo_state


def _dry(reg: Registry, *args: str | Path, key: str = "alice") -> tuple[int, dict[str, object], str]:
    """Run ``args --dry-run --format json`` and assert the repository did not move."""
    before = repo_state(reg)
    result = reg.run(*args, "--dry-run", "--format", "json", key=key)
    assert repo_state(reg) == before, "a dry run wrote something"
    return result.code, result.json(), result.err


def test_dry_run_of_a_gated_promotion_shows_events_pointer_checks_and_paths(rel: Release) -> None:
    bid = rel.build()
    code, plan, err = _dry(rel.reg, "promote", bid, "--env", "preview", "--gated", "--reports-dir", rel.reports)
    assert code == 0, err
    assert plan["would_write"] is True
    [event] = plan["events"]
    assert (event["scope"], event["type"], event["actor"], event["signed_by"]) == (
        "deployments/preview",
        "promoted",
        "alice",
        ["alice"],
    )
    [need] = event["signoffs"]
    assert (need["role"], need["threshold"], need["holders"]) == ("promoters:preview", 1, ["alice"])
    assert need["counted"] == ["alice"] and need["ok"] is True
    assert plan["pointers"] == [{"environment": "preview", "before": None, "after": bid}]
    assert {"key": "bundle_id", "before": None, "after": bid, "path": "deployments/preview/current.json"} in plan[
        "current_changes"
    ]
    checks = {c["check_id"]: c["passed"] for c in plan["checks"]}
    assert checks["bundle_verify_ok"] is True and all(checks.values())
    assert f"deployments/preview/releases/{bid}/" in plan["paths"]
    assert "deployments/preview/current.json" in plan["paths"]
    assert list(rel.reports.iterdir()) == []  # no report file either
    # The real write then does what the plan said.
    assert rel.promote(bid, "preview").code == 0
    assert rel.current("preview")["bundle_id"] == bid


def test_dry_run_of_a_refused_promotion_exits_like_the_write_and_shows_the_failed_check(rel: Release) -> None:
    bid = rel.build()
    code, plan, err = _dry(rel.reg, "promote", bid, "--env", "staging", "--gated", "--source-env", "dev")
    real = rel.promote(bid, "staging", source="dev")
    assert code == real.code == 1
    assert plan["would_write"] is False and plan["refusal"]["error"] in err
    assert any(not c["passed"] for c in plan["checks"])
    assert "source_environment_has_same_bundle" in err


def test_dry_run_of_a_signature_shortfall_names_who_must_sign(rel: Release) -> None:
    bid = rel.build()
    rel.reg.key("bob")
    bob_pub = rel.reg.principals["bob"].with_suffix(".pub")
    rel.reg.ok("policy", "add-identity", "bob", bob_pub)
    code, plan, err = _dry(rel.reg, "promote", bid, "--env", "preview", key="bob")
    assert code == 1, err
    [event] = plan["events"]
    [need] = event["signoffs"]
    assert need["ok"] is False and need["counted"] == [] and "alice" in need["holders"]


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(("rollback", "--env", "preview", "--reason", "bad"), id="rollback"),
        pytest.param(("release", "support-triage", "1.1.0"), id="release"),
        pytest.param(("bundle", "build", "--label", "candidate"), id="bundle-build"),
        pytest.param(("policy", "expires", "2027-01-01T00:00:00Z"), id="policy-expires"),
        pytest.param(("policy", "threshold", "root", "1"), id="policy-threshold"),
        pytest.param(("policy", "grant", "promoters:dev", "alice"), id="policy-grant"),
        pytest.param(("config", "apply"), id="config-apply"),
        pytest.param(("placement", "upgrade", "acme/helper", "--to", "1.0.0"), id="placement-upgrade-unknown"),
    ],
)
def test_every_planning_command_writes_nothing_and_exits_as_the_write(rel: Release, args: tuple[str, ...]) -> None:
    first, second = rel.build(), rel.build(label="candidate")
    assert rel.promote(first, "preview", gated=False).code == 0
    assert rel.promote(second, "preview", gated=False).code == 0
    code, plan, err = _dry(rel.reg, *args)
    real = rel.reg.run(*args)
    assert code == real.code, (err, real.err)
    assert plan["dry_run"] is True
    if code == 0:
        assert plan["paths"], plan
        assert plan["events"] or plan["notes"], plan


def test_rollback_plan_shows_the_pointer_moving_back(rel: Release) -> None:
    first, second = rel.build(), rel.build(label="candidate")
    assert rel.promote(first, "preview", gated=False).code == 0
    assert rel.promote(second, "preview", gated=False).code == 0
    code, plan, err = _dry(rel.reg, "rollback", "--env", "preview", "--reason", "smoke failed")
    assert code == 0, err
    assert plan["pointers"] == [{"environment": "preview", "before": second, "after": first}]


def test_text_plan_is_readable(rel: Release) -> None:
    bid = rel.build()
    before = repo_state(rel.reg)
    result = rel.reg.run("promote", bid, "--env", "preview", "--dry-run")
    assert repo_state(rel.reg) == before
    assert result.code == 0, result.err
    assert "nothing was written" in result.out
    assert f"preview: (none) -> {bid}" in result.out
    assert "needs 1 of promoters" in result.out


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(("rollback", "--env", "preview", "--reason", "x", "--push"), id="push"),
    ],
)
def test_dry_run_with_options_that_make_no_sense_is_a_usage_error(rel: Release, args: tuple[str, ...]) -> None:
    before = repo_state(rel.reg)
    result = rel.reg.run(*args, "--dry-run")
    assert result.code == 2
    assert result.err.startswith("error: --dry-run")
    assert repo_state(rel.reg) == before
