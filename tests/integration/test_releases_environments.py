"""Environments in a real registry: promote (plain, gated, chained), rollback, status, history,
resolve, and what `gitdocket verify` says about all of it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.integration.releases_support import Release, copy_release, make_template


@pytest.fixture(scope="session")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_template(tmp_path_factory.mktemp("environments"))


@pytest.fixture
def rel(template: Path, tmp_path: Path) -> Release:
    return copy_release(template, tmp_path / "copy")


def test_promote_points_at_the_same_tree(rel: Release) -> None:
    bid = rel.build()
    data = rel.promote(bid, "preview", "--format", "json", gated=False)
    assert data.code == 0, data.err
    out = data.json()
    assert (out["environment"], out["bundle_id"], out["sequence"], out["previous_bundle_id"]) == (
        "preview",
        bid,
        1,
        None,
    )
    current = rel.current("preview")
    assert {
        k: current[k]
        for k in (
            "contract",
            "environment",
            "bundle_id",
            "bundle_root",
            "promoted_at",
            "previous_bundle_id",
            "sequence",
        )
    } == {
        "contract": "deployment_state_v1",
        "environment": "preview",
        "bundle_id": bid,
        "bundle_root": f"deployments/preview/releases/{bid}",
        "promoted_at": "2026-01-01T00:00:00Z",
        "previous_bundle_id": None,
        "sequence": 1,
    }
    assert rel.tree_id(f"deployments/preview/releases/{bid}") == rel.tree_id(f"bundles/{bid}")
    second = rel.build(label="candidate")
    assert rel.promote(second, "preview", gated=False).code == 0
    assert (rel.current("preview")["previous_bundle_id"], rel.current("preview")["sequence"]) == (
        bid,
        2,
    )
    assert rel.reg.ok("verify", "--format", "json").json()["ok"] is True


def test_only_verified_bundles_are_promoted(rel: Release) -> None:
    """PROMOTE_REQUIRES_VERIFIED_BUNDLE: a bundle whose verification is not recorded stays out."""
    bid = rel.build(verify=False)
    before = rel.reg.refs()
    result = rel.promote(bid, "preview", gated=False)
    assert result.code == 1
    assert f"bundle {bid} cannot be promoted: not verified" in result.err
    assert rel.reg.refs() == before


def test_gated_environments_refuse_plain_promotion(rel: Release) -> None:
    bid = rel.build()
    rel.chain(bid, "dev")
    result = rel.promote(bid, "staging", gated=False, source="dev")
    assert result.code == 1 and "needs a passing gate (GATE_REQUIRED)" in result.err


@pytest.mark.parametrize(
    ("env", "source", "allowed"),
    [
        pytest.param("preview", None, True, id="preview-from-build"),
        pytest.param("dev", None, True, id="dev-from-build"),
        pytest.param("dev", "preview", True, id="dev-from-preview"),
        pytest.param("staging", "preview", False, id="staging-from-preview"),
        pytest.param("staging", None, False, id="staging-from-build"),
        pytest.param("prod", "dev", False, id="prod-from-dev"),
        pytest.param("preview", "dev", False, id="preview-from-dev"),
    ],
)
def test_transition_matrix(rel: Release, env: str, source: str | None, allowed: bool) -> None:
    bid = rel.build()
    if source is not None:
        rel.chain(bid, source)
    before = rel.reg.refs()
    result = rel.promote(bid, env, source=source)
    report = json.loads((rel.reports / f"release_bundle_promotion_{env}.json").read_text())
    checks = {c["check_id"]: c["passed"] for c in report["checks"]}
    assert checks["environment_transition_allowed"] is allowed
    assert (result.code == 0) is allowed, result.err
    if not allowed:
        assert "environment_transition_allowed" in result.err
        assert rel.reg.refs() == before


def test_a_failed_gate_writes_the_report_and_nothing_else(rel: Release) -> None:
    """PROMOTION_READINESS_STATUS_PASSED fails the promotion: the report is kept, nothing else."""
    bid = rel.build()
    rel.chain(bid, "dev")
    before = rel.reg.refs()
    result = rel.promote(bid, "staging", "--artifacts-dir", str(rel.blocked), source="dev")
    assert result.code == 1
    assert result.err.count("\n") == 2  # error + hint, no traceback
    assert "failed: promotion_readiness_status_passed" in result.err
    report = json.loads((rel.reports / "release_bundle_promotion_staging.json").read_text())
    assert report["contract"] == "release_bundle_promotion_v1" and report["status"] == "failed"
    assert [c["check_id"] for c in report["checks"]] == [
        "bundle_verify_ok",
        "bundle_packages_current",
        "environment_transition_allowed",
        "release_gate_contract_valid",
        "release_gate_allows_promotion",
        "promotion_readiness_contract_valid",
        "promotion_readiness_status_passed",
        "promotion_readiness_allows_target_env",
        "source_environment_has_same_bundle",
    ]
    assert f"external:{rel.blocked}" in report["checks"][6]["detail"]
    assert rel.reg.refs() == before
    assert not (rel.reg.path / "deployments" / "staging" / "history.jsonl").exists()


def _gate_report(rel: Release, folder: Path, fail: str | None = None, **changes: object) -> Path:
    """The passing gate report with ``changes``; ``fail`` ("medium" or "high") first fails one of
    its checks with that severity and re-derives its summary, decision and status, so that the
    report stays consistent (a contradictory one is refused by its contract)."""
    folder.mkdir()
    report = json.loads((rel.evidence / "release_readiness_gate_report.json").read_text())
    if fail is not None:
        report["checks"][0].update(passed=False, severity=fail)
        failed = [c for c in report["checks"] if not c["passed"]]
        report["summary"].update(
            passed=len(report["checks"]) - len(failed),
            failed=len(failed),
            high_failures=sum(c["severity"] == "high" for c in failed),
            medium_failures=sum(c["severity"] == "medium" for c in failed),
        )
        report.update(decision="no-go" if fail == "high" else "conditional-go", status="failed")
    report.update(changes)
    (folder / "release_readiness_gate_report.json").write_text(json.dumps(report))
    return folder


@pytest.mark.parametrize(
    ("env", "changes", "passes"),
    [
        pytest.param("dev", {"fail": "medium"}, True, id="conditional-go-dev"),
        pytest.param("staging", {"fail": "medium"}, False, id="conditional-go-staging"),
        pytest.param("dev", {"fail": "high"}, False, id="no-go-dev"),
        pytest.param(
            "dev", {"decision": "conditional-go", "status": "failed"}, False, id="conditional-go-without-failures"
        ),
        pytest.param(
            "dev", {"fail": "high", "decision": "conditional-go"}, False, id="conditional-go-over-high-failure"
        ),
        pytest.param("dev", {"contract": "something_else"}, False, id="foreign-contract"),
        pytest.param("dev", {"summary": "garbage"}, False, id="malformed"),
    ],
)
def test_gate_decisions_per_environment(
    rel: Release, tmp_path: Path, env: str, changes: dict[str, object], passes: bool
) -> None:
    bid = rel.build()
    rel.chain(bid, "preview" if env == "dev" else "dev")
    gate = _gate_report(rel, tmp_path / "gate", **changes)  # type: ignore[arg-type]
    result = rel.promote(bid, env, "--artifacts-dir", str(gate), source="preview" if env == "dev" else "dev")
    assert (result.code == 0) is passes, result.err
    if not passes:
        assert "release_gate" in result.err


def test_source_environment_must_run_the_same_bundle(rel: Release) -> None:
    first, second = rel.build(), rel.build(label="candidate")
    rel.chain(first, "preview")
    result = rel.promote(second, "dev", source="preview")
    assert result.code == 1 and "source_environment_has_same_bundle" in result.err


def test_unknown_environment_is_one_clear_line(rel: Release) -> None:
    bid = rel.build()
    result = rel.promote(bid, "qa", gated=False)
    assert result.code == 1
    assert result.err.splitlines()[0] == "error: unknown environment 'qa'"


def test_chain_walks_to_prod_in_one_commit_or_not_at_all(rel: Release, tmp_path: Path) -> None:
    bid = rel.build()
    conditional = _gate_report(rel, tmp_path / "gate", fail="medium")
    before = rel.reg.refs()
    stopped = rel.reg.run("promote", bid, "--to", "prod", "--artifacts-dir", conditional, "--reports-dir", rel.reports)
    assert stopped.code == 1 and "to staging failed: release_gate_allows_promotion" in stopped.err
    assert "nothing was promoted" in stopped.err
    assert (rel.reports / "release_bundle_promotion_staging.json").exists()  # the refused step's report
    assert rel.reg.refs() == before  # a refused step refuses the walk: preview and dev did not move
    assert not (rel.reg.path / "deployments" / "preview" / "current.json").exists()
    rel.promote(bid, "preview")
    done = rel.reg.ok("promote", bid, "--to", "prod", "--reports-dir", rel.reports, "--format", "json").json()
    assert [s["environment"] for s in done["steps"]] == ["dev", "staging", "prod"]
    assert len({s["commit"] for s in done["steps"]}) == 1
    assert rel.reg.git("rev-parse", "HEAD").strip() == done["steps"][0]["commit"]
    assert all(rel.current(env)["bundle_id"] == bid for env in ("preview", "dev", "staging", "prod"))
    assert rel.reg.ok("verify", "--format", "json").json()["ok"] is True


def test_source_run_metadata_is_embedded(rel: Release, tmp_path: Path) -> None:
    bid = rel.build()
    source = tmp_path / "release_bundle_promotion_source.json"
    source.write_text(
        json.dumps(
            {
                "source_run_id": 123,
                "source_artifact_name": "release-preview-bundle",
                "source_smoke_run_id": 456,
                "source_head_sha": "a" * 40,
                "source_workflow_path": ".github/workflows/deployment-preview.yml",
            }
        )
    )
    assert rel.promote(bid, "preview", "--source-run-json", str(source)).code == 0
    report = json.loads((rel.reports / "release_bundle_promotion_preview.json").read_text())
    assert report["source_run"]["source_run_id"] == 123
    assert report["smoke_run"] == {"run_id": 456, "head_sha": "a" * 40}
    stored = rel.reg.path / "deployments" / "preview" / "reports" / "1.json"
    assert stored.read_bytes() == (rel.reports / "release_bundle_promotion_preview.json").read_bytes()
    assert rel.history("preview")[0]["data"]["report_digest"].startswith("sha256:")


def three_in_prod(rel: Release) -> list[str]:
    # Labels chosen so that name order disagrees with history order.
    bundles = [rel.build(label=label) for label in ("mango", "zebra", "apple")]
    for bid in bundles:
        rel.chain(bid)
    return bundles


def test_rollback_goes_to_the_previous_release_not_the_alphabetical_one(rel: Release) -> None:
    mango, zebra, apple = three_in_prod(rel)
    before = rel.head()
    out = rel.reg.ok("rollback", "--env", "prod", "--reason", "error budget burnt", "--format", "json").json()
    assert (out["bundle_id"], out["previous_bundle_id"], out["reason"]) == (
        zebra,
        apple,
        "error budget burnt",
    )
    stat = rel.reg.git("show", "--stat", "--format=", "HEAD")
    assert sorted(line.split("|")[0].strip() for line in stat.splitlines() if "|" in line) == [
        "deployments/prod/current.json",
        "deployments/prod/history.jsonl",
    ]
    assert rel.reg.git("rev-parse", "HEAD~1").strip() == before
    event = rel.history("prod")[-1]
    assert (event["type"], event["actor"], event["data"]["reason"]) == (
        "rolled_back",
        "alice",
        "error budget burnt",
    )
    assert rel.reg.ok("rollback", "--env", "prod", "--reason", "again", "--format", "json").json()["bundle_id"] == mango
    nowhere = rel.reg.run("rollback", "--env", "prod", "--reason", "more")
    assert nowhere.code == 1 and "no previous release" in nowhere.err
    assert rel.reg.ok("verify", "--format", "json").json()["ok"] is True


def test_rollback_refusals(rel: Release) -> None:
    mango, zebra, _apple = three_in_prod(rel)
    other = rel.build(label="other")
    before = rel.reg.refs()
    never = rel.reg.run("rollback", "--env", "prod", "--reason", "x", "--to", other)
    assert never.code == 1 and f"{other} was never promoted to prod" in never.err
    empty = rel.reg.run("rollback", "--env", "prod", "--reason", "  ")
    assert empty.code == 2
    missing = rel.reg.run("rollback", "--env", "prod")
    assert missing.code == 2 and "--reason" in missing.err
    fresh = rel.reg.run("rollback", "--env", "nowhere", "--reason", "x")
    assert fresh.code == 1 and "unknown environment" in fresh.err
    assert rel.reg.refs() == before
    named = rel.reg.ok("rollback", "--env", "prod", "--reason", "x", "--to", mango, "--format", "json").json()
    assert named["bundle_id"] == mango
    assert zebra in rel.current("prod")["releases"]


def test_status_history_and_resolve(rel: Release) -> None:
    mango, zebra, apple = three_in_prod(rel)
    rel.reg.ok("rollback", "--env", "prod", "--reason", "slow")
    rows = {r["environment"]: r for r in rel.reg.ok("status", "--format", "json").json()}
    assert list(rows) == ["preview", "dev", "staging", "prod"]
    assert (
        rows["prod"]["bundle_id"],
        rows["prod"]["by"],
        rows["prod"]["sequence"],
        rows["prod"]["gate_decision"],
        rows["prod"]["rollback"],
    ) == (zebra, "alice", 4, "go", True)
    text = rel.reg.ok("status").out
    assert text.splitlines()[0].split("\t") == [
        "environment",
        "bundle",
        "since",
        "by",
        "seq",
        "gate",
    ]
    held = rel.reg.ok("history", "--env", "prod", "--format", "json").json()[-1]
    assert (held["hold"], held["held"]) == (f"holds {apple}", True)
    history = rel.reg.ok("history", "--env", "prod", "--format", "json").json()
    assert [(h["type"], h["bundle_id"]) for h in history] == [
        ("promoted", mango),
        ("promoted", zebra),
        ("promoted", apple),
        ("rolled_back", zebra),
    ]
    resolved = rel.reg.ok("deployments", "resolve", "--env", "prod").out.strip()
    assert resolved == str(rel.reg.path / "deployments" / "prod" / "releases" / zebra)
    assert (Path(resolved) / "bundle_manifest.json").is_file()


def test_resolve_refuses_a_tampered_environment(rel: Release) -> None:
    bid = rel.build()
    rel.chain(bid, "preview")
    release = rel.reg.path / "deployments" / "preview" / "releases" / bid / "evidence" / "release_lineage.json"
    release.write_text("{}")
    rel.reg.git("commit", "-qam", "tamper")
    result = rel.reg.run("deployments", "resolve", "--env", "preview")
    assert result.code == 1 and "environment preview does not verify: RELEASE_MISMATCH" in result.err
    findings = rel.reg.run("verify", "--format", "json").json()["findings"]
    assert {f["code"] for f in findings} >= {"RELEASE_MISMATCH"}
    pr = rel.reg.run("verify", "--base", "HEAD~1", "--format", "json").json()["findings"]
    assert any(f["code"] == "IMMUTABLE_CHANGED" and f"releases/{bid}" in f["path"] for f in pr)
    empty = rel.reg.run("deployments", "resolve", "--env", "staging")
    assert empty.code == 1 and "nothing is deployed in staging" in empty.err


def test_pr_mode_refuses_a_rewritten_environment_history(rel: Release) -> None:
    first, second = rel.build(), rel.build(label="candidate")
    rel.chain(first, "preview")
    rel.chain(second, "preview")
    log = rel.reg.path / "deployments" / "preview" / "history.jsonl"
    lines = log.read_text().splitlines(keepends=True)
    log.write_text(lines[0])  # forget the second promotion
    rel.reg.git("commit", "-qam", "rewrite history")
    pr = rel.reg.run("verify", "--base", "HEAD~1", "--format", "json").json()["findings"]
    assert any(f["code"] == "HISTORY_REWRITTEN" and f["path"].endswith("preview/history.jsonl") for f in pr)


def test_verify_catches_an_altered_gate_report(rel: Release) -> None:
    bid = rel.build()
    rel.chain(bid, "preview")
    report = rel.reg.path / "deployments" / "preview" / "reports" / "1.json"
    report.write_text(report.read_text().replace('"go"', '"no-go"'))
    rel.reg.git("commit", "-qam", "tamper")
    findings = rel.reg.run("verify", "--format", "json").json()["findings"]
    assert [f["code"] for f in findings] == ["GATE_REPORT_INVALID"]


def test_promote_an_exported_bundle_by_path(rel: Release, tmp_path: Path, template: Path) -> None:
    bid = rel.build()
    rel.reg.ok("bundle", "export", bid, "--to", tmp_path / "artifact.tar.gz")
    target = copy_release(template, tmp_path / "target")
    result = target.reg.run(
        "promote",
        tmp_path / "artifact.tar.gz",
        "--env",
        "preview",
        "--gated",
        "--reports-dir",
        target.reports,
    )
    assert result.code == 0, result.err
    assert target.current("preview")["bundle_id"] == bid
    assert target.reg.ok("verify", "--format", "json").json()["ok"] is True
