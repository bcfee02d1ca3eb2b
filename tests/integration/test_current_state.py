"""References to current state (issue 9, item 3), in a real registry: bundle build refuses
withdrawn packages and retired versions; the gate (and a plain promotion) refuses a bundle that
carries them *now*; a rollback holds the release it left, and only a promotion with an override
brings it back; `verify` judges events against the other scope's state when they were written —
a stale line of another log never counts, in snapshot mode (by time) and PR/history mode (by
commit order)."""

from __future__ import annotations

import json

import pytest

from gitdocket.core.log import event_line, head_digest, parse_history
from gitdocket.core.scopes import scope
from tests.integration.clients_support import findings, forge, installed, vendor_and_client
from tests.integration.forgery import Forger, ssh_signature
from tests.integration.releases_support import Release
from tests.support import Registry, assert_error_and_hint, repo_state

WITHDRAW = ("package", "withdraw", "support-triage", "1.0.0", "--reason", "leaks the ticket text")
RETIRE = ("version", "retire", "support-triage", "1.0.0", "--reason", "superseded")


# -- bundle build --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ended", "rule"),
    [
        pytest.param(WITHDRAW, "WITHDRAWAL_BLOCKS_FUTURE", id="withdrawn-package"),
        pytest.param(RETIRE, "RETIREMENT_BLOCKS_FUTURE_PACKAGING", id="retired-version"),
    ],
)
def test_build_refuses_what_may_not_be_released(rel: Release, ended: tuple[str, ...], rule: str) -> None:
    rel.reg.ok(*ended)
    before = repo_state(rel.reg)
    named = rel.reg.run(
        "bundle", "build", "--label", "x", "--evidence", rel.evidence, "--package", "support-triage@1.0.0"
    )
    assert_error_and_hint(named, 1, "support-triage 1.0.0", rule)
    everything = rel.reg.run("bundle", "build", "--label", "x", "--evidence", rel.evidence)
    assert_error_and_hint(everything, 1, "nothing to bundle", "BUNDLE_NOT_EMPTY")
    assert repo_state(rel.reg) == before


# -- promotion -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ended", "rule", "words"),
    [
        pytest.param(WITHDRAW, "WITHDRAWAL_BLOCKS_FUTURE", "is withdrawn", id="withdrawn-package"),
        pytest.param(RETIRE, "RETIREMENT_BLOCKS_FUTURE_PACKAGING", "is retired", id="retired-version"),
    ],
)
def test_a_bundle_carrying_ended_content_is_not_promoted(
    rel: Release, ended: tuple[str, ...], rule: str, words: str
) -> None:
    bundle = rel.build()
    rel.reg.ok(*ended)
    before = repo_state(rel.reg)
    gated = rel.promote(bundle, "preview")
    assert_error_and_hint(gated, 1, "bundle_packages_current", "BUNDLE_PACKAGES_CURRENT", words)
    report = json.loads((rel.reports / "release_bundle_promotion_preview.json").read_text())
    failed = [c["check_id"] for c in report["checks"] if not c["passed"]]
    assert failed == ["bundle_packages_current"]  # every other check passed: the hole it closes
    plain = rel.promote(bundle, "preview", gated=False)
    assert_error_and_hint(
        plain, 1, "cannot promote a bundle to environment preview: ", "support-triage 1.0.0 " + words, rule
    )
    assert repo_state(rel.reg) == before


def test_a_running_release_stays_and_can_be_rolled_back_to(rel: Release) -> None:
    """Withdrawal is future-only: what already runs keeps running, and a rollback (pointer only,
    to a release that ran) is not a new release."""
    first = rel.build(label="first")
    second = rel.build(label="second")
    rel.promote(first, "dev", gated=False)
    rel.promote(second, "dev", gated=False)
    rel.reg.ok(*WITHDRAW)
    rel.reg.ok("rollback", "--env", "dev", "--reason", "second broke the canary")
    assert rel.current("dev")["bundle_id"] == first
    assert findings(rel.reg) == []


# -- the hold ------------------------------------------------------------------------------------


def _rolled_back_dev(rel: Release) -> tuple[str, str]:
    first, second = rel.build(label="first"), rel.build(label="second")
    for bundle in (first, second):
        assert rel.promote(bundle, "dev", gated=False).code == 0
    rel.reg.ok("rollback", "--env", "dev", "--reason", "error rate doubled")
    return first, second


def test_a_rollback_holds_the_release_it_left(rel: Release) -> None:
    _first, second = _rolled_back_dev(rel)
    before = repo_state(rel.reg)
    again = rel.promote(second, "dev", gated=False)
    assert_error_and_hint(
        again, 1, f"{second} was rolled back out of it", "error rate doubled", "ROLLBACK_HOLDS_RELEASE"
    )
    assert "--override-hold REASON" in again.err.splitlines()[1]
    back = rel.reg.run("rollback", "--env", "dev", "--to", second, "--reason", "try again")
    assert_error_and_hint(back, 1, "is held", "ROLLBACK_HOLDS_RELEASE")
    empty = rel.reg.run("promote", second, "--env", "dev", "--override-hold", " ")
    assert_error_and_hint(empty, 2, "--override-hold is empty")
    assert repo_state(rel.reg) == before
    assert f"holds {second}" in rel.reg.ok("history", "--env", "dev").out
    assert rel.reg.ok("history", "--env", "dev", "--format", "json").json()[-1]["held"] is True


def test_an_override_by_a_promoter_lifts_the_hold(rel: Release) -> None:
    first, second = _rolled_back_dev(rel)
    out = rel.promote(
        second, "dev", "--override-hold", "fixed the config, canary green", "--format", "json", gated=False
    )
    assert out.code == 0, out.err
    assert rel.current("dev")["bundle_id"] == second
    assert rel.current("dev")["holds"] == {}  # deployment_state_v2 carries the holds (ADR 0033)
    history = rel.reg.ok("history", "--env", "dev", "--format", "json").json()
    assert [(h["type"], h["hold"]) for h in history] == [
        ("promoted", None),
        ("promoted", None),
        ("rolled_back", f"holds {second}"),
        ("promoted", "lifted: fixed the config, canary green"),
    ]
    assert [h["held"] for h in history] == [False, False, False, False]
    nothing = rel.promote(first, "dev", "--override-hold", "why not", gated=False)
    assert_error_and_hint(nothing, 1, "no hold to override", "ROLLBACK_HOLDS_RELEASE")
    assert findings(rel.reg) == []


def test_verify_refuses_a_forged_promotion_of_a_held_release(rel: Release) -> None:
    _first, _second = _rolled_back_dev(rel)
    forger = Forger(rel.reg)
    target = scope("environment", "dev")
    events = forger.events(target)
    last = events[-1]
    data = {**events[1].data, "sequence": last.data["sequence"] + 1, "previous_bundle_id": last.data["target"]}
    event = forger.next_event(target, "promoted", data, "alice", last.policy_version)
    forger.append(target, event, ssh_signature("alice", "alice", target.path, event))
    forger.commit()
    codes = {(f["code"], f.get("invariant")) for f in findings(rel.reg)}
    assert ("REPLAY_ILLEGAL", "ROLLBACK_HOLDS_RELEASE") in codes


# -- verify: stale references --------------------------------------------------------------------


def _forge_promotion(rel: Release, env: str, bundle: str, source: str | None, at: str) -> None:
    """alice, a promoter, signs a promotion gitdocket would have refused, dated ``at``."""
    forger = Forger(rel.reg)
    target = scope("environment", env)
    events = forger.events(target) if forger.path(target.history_path).exists() else []
    sequence = len(events) + 1
    tree = rel.tree_id(f"bundles/{bundle}")
    manifest = json.loads(forger.read(f"bundles/{bundle}/current.json"))["manifest_digest"]
    data = {
        "bundle_id": bundle,
        "bundle_tree": tree,
        "manifest_digest": manifest,
        "source_environment": source,
        "allowed_sources": [None, "preview"],
        "require_gate": False,
        "gated": False,
        "gate_decision": None,
        "report_digest": None,
        "sequence": sequence,
        "previous_bundle_id": events[-1].data.get("bundle_id", events[-1].data.get("target")) if events else None,
        "promoted_at": at,
        "promoted_by": "alice",
    }
    event = forger.next_event(target, "promoted", data, "alice", 1).model_copy(update={"at": at})
    forger.append(target, event, ssh_signature("alice", "alice", target.path, event))
    release = rel.reg.path / "deployments" / env / "releases" / bundle
    rel.reg.git("read-tree", f"--prefix=deployments/{env}/releases/{bundle}/", tree)
    rel.reg.git("checkout", "--", f"deployments/{env}/releases/{bundle}")
    assert release.is_dir()


def test_verify_catches_a_promotion_of_a_bundle_already_withdrawn(rel: Release) -> None:
    bundle = rel.build()
    rel.reg.ok(*WITHDRAW)  # at 2026-01-01T00:00:00Z (GITDOCKET_NOW)
    base = rel.head()
    _forge_promotion(rel, "dev", bundle, None, "2026-01-02T00:00:00Z")
    Forger(rel.reg).commit("forged promotion")
    snapshot = {(f["code"], f["invariant"]) for f in findings(rel.reg)}
    assert ("INVARIANT_BROKEN", "WITHDRAWAL_BLOCKS_FUTURE") in snapshot
    pr = findings(rel.reg, "--base", base)
    assert any(
        f["invariant"] == "WITHDRAWAL_BLOCKS_FUTURE" and f["message"].startswith(f"promoted {bundle}") for f in pr
    )


def test_pr_mode_catches_a_backdated_promotion_of_a_bundle_already_withdrawn(rel: Release) -> None:
    """Dated before the withdrawal, the forged promotion looks fine to a snapshot; commit order
    says the withdrawal was already there."""
    bundle = rel.build()
    rel.reg.ok(*WITHDRAW)
    base = rel.head()
    _forge_promotion(rel, "dev", bundle, None, "2025-12-31T00:00:00Z")
    Forger(rel.reg).commit("backdated promotion")
    pr = findings(rel.reg, "--base", base)
    assert any(
        f["code"] == "INVARIANT_BROKEN" and "at the base package support-triage 1.0.0 is withdrawn" in f["message"]
        for f in pr
    ), pr


def test_verify_catches_a_promotion_from_a_source_that_no_longer_runs_the_bundle(rel: Release) -> None:
    """preview ran the bundle once, then was rolled back: a later promotion to dev "from preview"
    leans on a stale line of preview's log."""
    first, second = rel.build(label="first"), rel.build(label="second")
    rel.promote(first, "preview", gated=False)
    rel.promote(second, "preview", gated=False)
    rel.reg.ok("rollback", "--env", "preview", "--reason", "bad")  # preview runs first again
    base = rel.head()
    _forge_promotion(rel, "dev", second, "preview", "2026-01-02T00:00:00Z")
    Forger(rel.reg).commit("stale source")
    snapshot = [f for f in findings(rel.reg) if f["code"] == "REFERENCE_STALE"]
    assert [f["invariant"] for f in snapshot] == ["SOURCE_ENVIRONMENT_HAS_SAME_BUNDLE"]
    pr = [f for f in findings(rel.reg, "--base", base) if f["code"] == "REFERENCE_STALE"]
    assert [f["invariant"] for f in pr] == ["SOURCE_ENVIRONMENT_HAS_SAME_BUNDLE"]


def test_pr_mode_catches_a_stale_source_that_time_cannot(rel: Release) -> None:
    """Everything happened in the same second: time cannot order the rollback of preview and the
    promotion from it, commit order can."""
    first, second = rel.build(label="first"), rel.build(label="second")
    rel.promote(first, "preview", gated=False)
    rel.promote(second, "preview", gated=False)
    rel.reg.ok("rollback", "--env", "preview", "--reason", "bad")
    base = rel.head()
    _forge_promotion(rel, "dev", second, "preview", "2026-01-01T00:00:00Z")
    Forger(rel.reg).commit("stale source, same second")
    assert [f for f in findings(rel.reg) if f["code"] == "REFERENCE_STALE"] == []
    pr = [f for f in findings(rel.reg, "--base", base) if f["code"] == "REFERENCE_STALE"]
    assert [f["message"] for f in pr] == [f"promoted from preview, which runs {first} at the base, not {second}"]


def test_the_refusals_of_the_writer_match(rel: Release) -> None:
    """What verify now flags, the writer refuses first (one rule, two callers)."""
    first, second = rel.build(label="first"), rel.build(label="second")
    rel.promote(first, "preview", gated=False)
    rel.promote(second, "preview", gated=False)
    rel.reg.ok("rollback", "--env", "preview", "--reason", "bad")
    refused = rel.promote(second, "dev", source="preview", gated=False)
    assert_error_and_hint(refused, 1, "is not active in preview", "SOURCE_ENVIRONMENT_HAS_SAME_BUNDLE")


def test_a_stale_package_line_is_caught_in_a_snapshot_and_in_pr_mode(
    rel: Release, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An install request naming the package's published line after the withdrawal line exists."""
    rel.reg.ok("policy", "grant", "holders:acme", "alice")
    rel.reg.ok(*WITHDRAW)
    base = rel.head()
    forger = Forger(rel.reg)
    package = scope("package", "support-triage", "1.0.0")
    lines = forger.read(package.history_path).splitlines()
    published = parse_history(lines[0] + b"\n", package.history_path)[0]
    version = json.loads(forger.read("registry/versions/support-triage/1.0.0/current.json"))
    target = scope("placement", "acme", "triage")
    data = {
        "archetype": "support-triage",
        "version": "1.0.0",
        "content_hash": version["snapshot"]["content_hash"],
        "method_tree": version["snapshot"]["method_tree"],
        "package": {"seq": 1, "head": head_digest(event_line(published)), "phase": "published"},
        "expires_at": None,
    }
    policy_version = json.loads(forger.read("registry/policy/current.json"))["version"]
    monkeypatch.setenv("GITDOCKET_NOW", "2026-01-02T00:00:00Z")  # the verifier's clock reached the request
    for at, rule in (("2026-01-02T00:00:00Z", "WITHDRAWAL_BLOCKS_FUTURE"), ("2025-06-01T00:00:00Z", None)):
        if forger.path(target.history_path).exists():
            forger.path(target.history_path).unlink()
        event = forger.next_event(target, "install_requested", data, "alice", policy_version)
        event = event.model_copy(update={"at": at})
        forger.append(target, event, ssh_signature("alice", "alice", target.path, event))
        forger.commit(f"stale request at {at}")
        snapshot = {(f["code"], f["invariant"]) for f in findings(rel.reg)}
        pr = {(f["code"], f["invariant"]) for f in findings(rel.reg, "--base", base)}
        if rule is not None:
            assert ("INVARIANT_BROKEN", rule) in snapshot
        else:  # backdated before the policy it names: time tells (and commit order too)
            assert ("INVARIANT_BROKEN", "WITHDRAWAL_BLOCKS_FUTURE") not in snapshot
            assert ("EVENT_BACKDATED", "EVENT_TIME_MONOTONIC") in snapshot
        assert ("REFERENCE_STALE", "REFERENCE_IS_CURRENT") in pr


def test_an_entitlement_on_a_stale_placement_line_is_caught(registry: Registry) -> None:
    """bob admits the install to an entitlement naming the placement's *install* line after an
    edit line already followed it."""
    vendor_and_client(registry)
    installed(registry)
    installed_line = (registry.path / "registry/placements/acme/triage/history.jsonl").read_bytes().splitlines()
    registry.ok("placement", "edit", "acme/triage", "--notes", "EU queue", key="bob")
    base = registry.git("rev-parse", "HEAD").strip()
    ref = {"seq": len(installed_line), "head": head_digest(installed_line[-1]), "phase": "installed"}
    forge(
        registry,
        "registry/entitlements/acme/triage",
        "package_install_admitted",
        {"placement": ref},
        "bob",
        at="2026-01-02T00:00:00Z",
    )
    snapshot = {(f["code"], f["invariant"]) for f in findings(registry)}
    assert ("REFERENCE_STALE", "REFERENCE_IS_CURRENT") in snapshot
    pr = {(f["code"], f["invariant"]) for f in findings(registry, "--base", base)}
    assert ("REFERENCE_STALE", "REFERENCE_IS_CURRENT") in pr
