"""Demo step: release bundles and environments, end to end.

Writes sample release evidence, evaluates the readiness gate, builds a bundle from the published
packages, verifies and records it, promotes it through preview, dev, staging (a failing gate
first, with its report) and prod, takes a second bundle up the whole chain in one command, rolls
prod back with a reason, shows ``status``, what was deployed the day before (``status --at``) and
where the second bundle went (``trace``), then brings the lower environments in line with prod in
one batch (``promote --batch``); the finale verifies everything.

``write_evidence`` is also what the tests and golden examples use for realistic evidence.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Protocol

from gitdocket.core.canonical import render
from gitdocket.lifecycles.gate import Evidence, evaluate_gate
from gitdocket.lifecycles.gate_presets import AGENT_SKILLS, AGENT_SKILLS_JOBS

__all__ = ["DemoLike", "readiness_report", "run", "write_evidence"]

SECOND_DAY = "2026-01-02T09:00:00Z"
"""When the demo's second bundle is built and walks the chain (``demo.advance``)."""
ROLLBACK_DAY = "2026-01-03T14:30:00Z"
"""When prod is rolled back."""


class DemoLike(Protocol):
    registry: Path
    workdir: Path

    def say(self, text: str) -> None: ...

    def run(self, *args: str, key: str = "alice", expect: int = 0) -> str: ...

    def key(self, name: str) -> Path: ...

    def advance(self, when: str) -> None: ...


def readiness_report(ready: bool = True) -> dict[str, Any]:
    """A ``policy_promotion_readiness_v1`` document; ``ready=False`` blocks staging and prod."""
    return {
        "contract": "policy_promotion_readiness_v1",
        "generated_at": "2026-01-01T00:00:00Z",
        "status": "passed" if ready else "failed",
        "summary": {
            "automated_checks_total": 6,
            "automated_checks_passed": 6 if ready else 4,
            "automated_checks_failed": 0 if ready else 2,
            "runtime_canary_pass_ratio": 1.0 if ready else 0.67,
            "coverage_ratio": 1.0,
            "executability_ratio": 1.0,
        },
        "checks": {
            "durability_passed": True,
            "policy_shadow_passed": ready,
            "tenant_isolation_passed": ready,
            "bundle_lifecycle_passed": True,
            "coverage_ratio_passed": True,
            "executability_ratio_passed": True,
        },
        "environments": {
            "dev_to_staging": {
                "ready": ready,
                "requires_shadow_parity": False,
                "required_min_runtime_canary_pass_ratio": 1.0,
            },
            "staging_to_prod": {
                "automated_ready": ready,
                "requires_shadow_parity": False,
                "required_min_runtime_canary_pass_ratio": 1.0,
                "required_approvals": 0,
                "manual_approvals_pending": False,
            },
        },
    }


def _sample_docs(ready: bool) -> dict[str, Any]:
    return {
        "job_results.json": {job: {"result": "success"} for job in AGENT_SKILLS_JOBS},
        "smoke_report.json": {"status": "passed", "passed": 42, "failed": 0},
        "runtime_coverage.json": {"coverage_ratio": 1.0},
        "skill_executability.json": {"executability_ratio": 1.0},
        "policy_bundle_lifecycle_report.json": {"status": "passed"},
        "policy_promotion_readiness_report.json": readiness_report(ready),
        "durability_advanced_report.json": {"status": "passed", "scenarios": 3, "tests": 14},
        "policy_promotion_readiness_verify_report.json": {"status": "passed"},
        "runtime_governance_executive_summary.json": {"status": "passed"},
        "dx_metrics_slo_report.json": {"slo_status": "pass"},
        "critical_ci_trend_slo_report.json": {"slo_status": "pass"},
        "critical_ci_trend_report.json": {"status": "passed"},
        "release_lineage.json": {
            "contract": "release_lineage_v1",
            "status": "passed",
            "provenance": {"schema_version": "1.1"},
            "nodes": [{"id": "source", "type": "source", "status": "observed"}],
            "edges": [],
        },
        "release_lineage_contract_report.json": {
            "contract": "release_lineage_contract_v1",
            "status": "passed",
        },
    }


def write_evidence(folder: Path, ready: bool = True) -> Path:
    """Write a full evidence set into ``folder``: the gate's inputs, lineage, promotion readiness
    (``ready=False``: readiness failed, dev → staging and staging → prod not ready) and the gate
    report of the ready set, as it was evaluated when the bundle was built."""
    docs = _sample_docs(ready)
    gate_inputs = {n: Evidence(n, d) for n, d in _sample_docs(True).items()}
    gate = evaluate_gate(gate_inputs, AGENT_SKILLS, "transitional", "2026-01-01T00:00:00Z")
    docs["release_readiness_gate_report.json"] = gate.model_dump(mode="json")
    folder.mkdir(parents=True, exist_ok=True)
    for name, doc in docs.items():
        (folder / name).write_bytes(render(doc))
    return folder


def run(demo: DemoLike) -> None:
    evidence = write_evidence(demo.workdir / "evidence")
    blocked = write_evidence(demo.workdir / "evidence-not-ready", ready=False)
    reports = str(demo.workdir / "reports")
    demo.say("Release evidence in, a decision out: the readiness gate says go, conditional-go or no-go.")
    demo.run(
        "gate",
        "evaluate",
        "--evidence",
        str(evidence),
        "--profile",
        "transitional",
        "--output",
        str(evidence / "release_readiness_gate_report.json"),
    )
    demo.say("A release bundle is git trees of the published packages plus the evidence: no copies.")
    first = json.loads(
        demo.run(
            "bundle",
            "build",
            "--label",
            "pr-preview",
            "--evidence",
            str(evidence),
            "--format",
            "json",
        )
    )["bundle_id"]
    demo.say("Verify every checksum, the id and the builder's signature, and record it: only verified bundles move.")
    demo.run("bundle", "verify", first, "--record")
    demo.say("Promote with gates: preview, then dev from preview.")
    demo.run("promote", first, "--env", "preview", "--gated", "--reports-dir", reports)
    demo.run(
        "promote",
        first,
        "--env",
        "dev",
        "--gated",
        "--source-env",
        "preview",
        "--reports-dir",
        reports,
    )
    demo.say(
        "Staging needs promotion readiness. This evidence says readiness failed (dev → staging "
        "not ready): the gate refuses, writes its report, and nothing is promoted."
    )
    demo.run(
        "promote",
        first,
        "--env",
        "staging",
        "--gated",
        "--source-env",
        "dev",
        "--artifacts-dir",
        str(blocked),
        "--reports-dir",
        reports,
        expect=1,
    )
    demo.say("With ready evidence the same bundle passes to staging, then prod.")
    demo.run(
        "promote",
        first,
        "--env",
        "staging",
        "--gated",
        "--source-env",
        "dev",
        "--reports-dir",
        reports,
    )
    demo.run(
        "promote",
        first,
        "--env",
        "prod",
        "--gated",
        "--source-env",
        "staging",
        "--reports-dir",
        reports,
    )
    demo.say("The next day, a second bundle walks the whole chain in one command, gated at every step.")
    demo.advance(SECOND_DAY)
    second = json.loads(
        demo.run(
            "bundle",
            "build",
            "--label",
            "candidate",
            "--evidence",
            str(evidence),
            "--format",
            "json",
        )
    )["bundle_id"]
    demo.run("bundle", "verify", second, "--record")
    demo.run("promote", second, "--to", "prod", "--reports-dir", reports)
    demo.say(
        "Prod regresses: roll back to the previous release from history. Only the pointer moves. "
        "Plan it first: --dry-run shows the event, who must sign it, the pointer and what the commit "
        "would touch, and writes nothing."
    )
    demo.advance(ROLLBACK_DAY)
    demo.run("rollback", "--env", "prod", "--reason", "canary error rate doubled after the switch", "--dry-run")
    demo.run("rollback", "--env", "prod", "--reason", "canary error rate doubled after the switch")
    demo.say(
        "The rollback holds the release it left: automation promoting it again is refused, and only "
        "a promoter's explicit override, with its reason, brings it back."
    )
    demo.run(
        "promote", second, "--env", "prod", "--gated", "--source-env", "staging", "--reports-dir", reports, expect=1
    )
    demo.run("history", "--env", "prod")
    demo.run("status")
    demo.say(
        "A runtime asks for prod: the chain is verified and the files it will read are checked "
        "against the signed bundle before the path is printed."
    )
    demo.run("deployments", "resolve", "--env", "prod")
    demo.say(
        "Time travel: what was deployed where at noon on the second day, answered from the signed "
        "logs (each environment's events up to that time, folded)."
    )
    demo.run("status", "--at", f"{SECOND_DAY[:10]}T12:00:00Z")
    demo.say(
        "And where a release went: every environment it reached, when, signed by whom, with which "
        "gate decision, and how it left (rolled back, why, and whether the rollback holds it)."
    )
    demo.run("trace", second)
    demo.say(
        "Bring the lower environments back in line with prod: a batch (promotion_batch_v1) walks "
        "the release prod runs up to staging, gated at every step, in ONE commit — all or "
        "nothing, every gate evaluated, the batch's name on every event."
    )
    plan = demo.workdir / "lower-environments.yaml"
    plan.write_text(
        f"contract: promotion_batch_v1\nbatch: align-with-prod\npromotions:\n  - bundle: {first}\n    to: staging\n",
        encoding="utf-8",
    )
    demo.run("promote", "--batch", str(plan), "--reports-dir", reports)
    demo.run("history", "--env", "staging")
