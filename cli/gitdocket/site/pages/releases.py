"""Environments (the stage graph, each environment's current release, its promotion timeline
and full history), bundles (manifest summary, evidence files, the gate report) and the release
gate (seed 003: which checks are release-blocking and which passed). Pure.
"""

from __future__ import annotations

from gitdocket.core.readiness import GateReport
from gitdocket.lifecycles.bundle import BundleState
from gitdocket.lifecycles.environment import DeploymentState
from gitdocket.site.badges import badge
from gitdocket.site.markup import code, heading, identifier, link, table, text
from gitdocket.site.pages.common import (
    Page,
    bundle_link,
    environment_link,
    history_table,
    short,
    version_link,
)
from gitdocket.site.pages.home import ENVIRONMENT_HEADERS, environment_rows, environment_state
from gitdocket.site.stages import stages_figure
from gitdocket.site.timeline import timeline_figure
from gitdocket.site.view import GATE_REPORT, View
from gitdocket.verify.context import ScopeRecord
from gitdocket.verify.provenance import provenance_path

__all__ = ["LEVELS", "REPORTS_SHOWN", "gate_section", "pages"]

REPORTS_SHOWN = 5
"""Gate reports of the newest gated promotions an environment page spells out."""

LEVELS = {"high": "release-blocking", "medium": "bootstrap-ready"}
"""Seed 003's maturity levels for the gate's severities: a failing high check is no-go under
every profile (release-blocking); the transitional profile tolerates a few medium failures."""


def _environments(view: View) -> Page:
    source = "environments/index.md"
    running = {r.scope.keys[0]: r.state.bundle_id for r in view.environments}
    body = "\n\n".join(
        [
            "# Environments",
            stages_figure(view.config.environments, running),
            table(ENVIRONMENT_HEADERS, environment_rows(view, source)),
        ]
    )
    return Page(source, "All environments", body, wide=True)


def _history_rows(view: View, source: str, record: ScopeRecord[DeploymentState]) -> list[list[str]]:
    rows = []
    for change in view.changes(record):
        what = badge("environment", "rolled-back") if change.rollback else "promoted"
        if change.batch:  # the steps of one batch: one commit, one name
            what += f" in batch {text(change.batch)}"
        rows.append(
            [
                str(change.seq),
                text(change.at),
                text(change.actor),
                what,
                bundle_link(view, source, change.bundle_id),
                text(change.source_environment or ("—" if change.rollback else "a build")),
                "—" if change.rollback else badge("decision", change.gate_decision),
                text(change.reason or ""),
            ]
        )
    return rows


def _reports(view: View, record: ScopeRecord[DeploymentState]) -> list[str]:
    env = record.scope.keys[0]
    gated = [e for e in record.events if e.data.get("report_digest")][-REPORTS_SHOWN:]
    parts: list[str] = []
    for event in reversed(gated):
        report = view.promotion_report(env, event.seq)
        if report is None:
            continue
        checks = table(
            ["check", "result", "detail"],
            [
                [identifier(c.check_id), badge("check", "passed" if c.passed else "failed"), text(c.detail)]
                for c in report.checks
            ],
        )
        parts.append(
            heading(3, f"Promotion #{event.seq}: {badge('check', report.status)}", f"report-{event.seq}")
            + f"\n\nGate decision {badge('decision', report.gate_decision)}; readiness "
            f"{text(report.promotion_readiness_status or 'n/a')}; generated {text(report.generated_at)}.\n\n{checks}"
        )
    return parts


def _provenance_fact(view: View, name: str, state: DeploymentState) -> list[str]:
    """A link to the signed provenance of the current release, when its promotion wrote one
    (`gitdocket provenance verify` checks it offline)."""
    if not state.bundle_id or state.rollback:
        return []
    path = provenance_path(name, state.sequence)
    if view.ctx.tree.read(path) is None:
        return []
    target = path.removeprefix("deployments/")  # published next to this page (site.render_site)
    return [f"**Provenance:** [in-toto statement, SLSA provenance v1, signed by the promoter]({target})"]


def _environment(view: View, record: ScopeRecord[DeploymentState]) -> Page:
    name = record.scope.keys[0]
    source = f"environments/{name}.md"
    state = record.state
    config = view.config.environment(name)
    sources = ", ".join(s or "a build" for s in config.sources) if config else "not configured"
    facts = [
        f"**State:** {badge('environment', environment_state(view, name))}",
        f"**Current release:** {bundle_link(view, source, state.bundle_id) if state.bundle_id else 'nothing yet'}",
        f"**Since:** {text(state.promoted_at or '—')} by {text(state.promoted_by or '—')} (change #{state.sequence})",
        f"**Gate:** {badge('decision', state.gate_decision) if state.bundle_id else '—'}"
        + (
            f" (report {short((state.report_digest or '').removeprefix('sha256:'), 16)})" if state.report_digest else ""
        ),
        f"**Came from:** {text(state.source_environment or 'a build') if state.bundle_id else '—'}",
        f"**Previous release:** {text(state.previous_bundle_id or '—')}",
        *_provenance_fact(view, name, state),
        f"**Receives from:** {text(sources)}" + (" (gated)" if config and config.require_gate else ""),
    ]
    if state.rollback and state.reason:
        facts.append(f"**Rolled back because:** {text(state.reason)}")
    for held, hold in sorted(state.holds.items()):  # ROLLBACK_HOLDS_RELEASE: back only by an override
        facts.append(
            f"**Held out by a rollback:** {text(held)} (change #{hold.sequence}, {text(hold.held_at)} by "
            f"{text(hold.held_by)}: {text(hold.reason)}); promoting it here again needs an override"
        )
    changes = view.changes(record)
    parts = [
        f"# {text(name)}",
        "  \n".join(facts),
        "## Timeline",
        timeline_figure(name, changes),
        "## Full history",
        table(
            ["#", "when", "by", "change", "bundle", "from", "gate", "reason"],
            _history_rows(view, source, record),
        ),
    ]
    reports = _reports(view, record)
    if reports:
        parts.append("## Gate reports of the newest gated promotions")
        parts.extend(reports)
    return Page(source, name, "\n\n".join(parts))


def gate_section(report: GateReport, level: int) -> str:
    """A gate report, readable: decision, summary, then the checks by maturity level."""
    summary = report.summary
    parts = [
        f"{badge('decision', report.decision)} status {text(report.status)}, generated {text(report.generated_at)}: "
        f"{summary.passed} of {summary.total} checks passed ({summary.high_failures} high and "
        f"{summary.medium_failures} medium failures)."
    ]
    for severity, name in LEVELS.items():
        checks = [c for c in report.checks if c.severity == severity]
        passed = sum(1 for c in checks if c.passed)
        parts.append(heading(level, f"{badge('level', name)} {passed} of {len(checks)} passed"))
        parts.append(
            table(
                ["check", "result", "detail"],
                [
                    [identifier(c.check_id), badge("check", "passed" if c.passed else "failed"), text(c.detail)]
                    for c in checks
                ],
            )
        )
    if report.exceptions_applied:
        parts.append("**Approved exceptions applied**")
        parts.append(
            table(
                ["check", "approved by", "expires", "reason"],
                [
                    [code(e.check_id), text(e.approved_by), text(e.expires_at), text(e.reason)]
                    for e in report.exceptions_applied
                ],
            )
        )
    return "\n\n".join(parts)


def _bundle(view: View, record: ScopeRecord[BundleState]) -> Page:
    bundle_id = record.scope.keys[0]
    source = f"bundles/{bundle_id}.md"
    state = record.state
    manifest = view.manifest(bundle_id)
    parts = [f"# {text(bundle_id)}", f"{badge('bundle', state.phase)}"]
    facts = [
        f"**Label:** {text(state.label or '—')}",
        f"**Built:** {text(state.created_at or '—')} by {text(state.built_by or '—')} "
        f"from commit {short(state.source_commit)}",
        f"**Verified:** {text(state.verified_at or 'not yet')}"
        + (f" by {text(state.verified_by)}" if state.verified_by else ""),
        f"**Manifest digest:** {code(state.manifest_digest or '—')}",
        f"**Payload tree:** {short(state.payload_tree)}; **evidence tree:** {short(state.evidence_tree)}",
    ]
    running = view.running.get(bundle_id, [])
    facts.append("**Running in:** " + (", ".join(environment_link(source, e) for e in running) or "no environment"))
    parts.append("  \n".join(facts))
    if manifest is not None:
        summary = manifest.summary
        parts.append("## Manifest summary")
        parts.append(
            f"Contract {code(manifest.contract)}; {summary.included_files} files: {summary.registry_files} registry, "
            f"{summary.runtime_files} runtime, {summary.evidence_files} evidence. Source registry commit "
            f"{short(manifest.source.registry_git.commit)}."
        )
        parts.append(
            table(
                ["package", "content hash"],
                [
                    [
                        version_link(view, source, p.archetype, p.version),
                        short(p.content_hash.removeprefix("sha256:"), 16),
                    ]
                    for p in manifest.payload.packages
                ],
            )
        )
        required = set(manifest.evidence.required)
        parts.append("## Evidence files")
        parts.append(
            table(
                ["file", "sha256", "required"],
                [
                    [code(f), short(manifest.evidence.checksums[f], 16), "yes" if f in required else ""]
                    for f in manifest.evidence.files
                ],
            )
        )
    report = view.gate_report(bundle_id)
    parts.append("## Release gate report")
    parts.append(gate_section(report, 3) if report else f"No {code(GATE_REPORT)} in this bundle's evidence.")
    parts.append("## History")
    parts.append(history_table("bundle", record.events))
    return Page(source, bundle_id, "\n\n".join(parts))


def _bundles(view: View) -> Page:
    source = "bundles/index.md"
    rows = []
    for record in view.bundles:
        bundle_id = record.scope.keys[0]
        state = record.state
        rows.append(
            [
                link(text(bundle_id), f"{bundle_id}.md"),
                badge("bundle", state.phase),
                text(state.created_at or "—"),
                text(state.built_by or "—"),
                str(state.included_files),
                str(state.evidence_files),
                ", ".join(environment_link(source, e) for e in view.running.get(bundle_id, [])) or "—",
            ]
        )
    body = "\n\n".join(
        [
            "# Bundles",
            "A release bundle is git trees of the published packages and the evidence; environments point "
            "at verified bundles, never copies.",
            table(["bundle", "phase", "built", "by", "files", "evidence", "running in"], rows),
        ]
    )
    return Page(source, "All bundles", body, wide=True)


def _gate(view: View) -> Page:
    source = "gate.md"
    live = [r for r in view.environments if r.state.bundle_id]
    parts = [
        "# Release gate",
        "Seed 003's maturity levels applied to the readiness gate (`release_readiness_gate_v1`): a failing "
        f"{badge('level', 'release-blocking')} check is no-go under every profile; the transitional profile "
        f"tolerates a few failing {badge('level', 'bootstrap-ready')} checks (conditional-go).",
        "## Per environment",
        table(
            ["environment", "running", "decision at promotion", "bundle's gate report"],
            [
                [
                    environment_link(source, r.scope.keys[0]),
                    bundle_link(view, source, r.state.bundle_id or ""),
                    badge("decision", r.state.gate_decision),
                    badge("decision", report.decision)
                    if (report := view.gate_report(r.state.bundle_id or ""))
                    else "—",
                ]
                for r in live
            ],
        ),
    ]
    if live:
        newest = live[-1]
        bundle_id = newest.state.bundle_id or ""
        report = view.gate_report(bundle_id)
        parts.append(f"## The release in {text(newest.scope.keys[0])}: {bundle_link(view, source, bundle_id)}")
        parts.append(gate_section(report, 3) if report else f"No {code(GATE_REPORT)} in its evidence.")
    else:
        parts.append("Nothing has been promoted yet.")
    return Page(source, "Release gate", "\n\n".join(parts), wide=True)


def pages(view: View) -> list[Page]:
    return [
        _environments(view),
        *(_environment(view, r) for r in view.environments),
        _bundles(view),
        *(_bundle(view, r) for r in view.bundles),
        _gate(view),
    ]
