"""``gitdocket gate evaluate``: the release readiness gate — go, conditional-go or no-go."""

from __future__ import annotations

from pathlib import Path

import click

from gitdocket.adapters.bundle_files import MAX_EVIDENCE_BYTES
from gitdocket.adapters.files import write_file
from gitdocket.commands.output import common, emit
from gitdocket.core.canonical import render
from gitdocket.core.documents import GateReport
from gitdocket.core.fields import format_time
from gitdocket.errors import DocketError, InputError
from gitdocket.lifecycles.gate import EVIDENCE_FILES, PROFILES, Evidence, evaluate_gate
from gitdocket.ops.session import clock_now

__all__ = ["gate"]


@click.group()
def gate() -> None:
    """Evaluate the release readiness gate (release_readiness_gate_v1)."""


def _read_doc(path: Path, name: str) -> Evidence:
    if not path.exists():
        return Evidence.missing(name, str(path))
    if path.is_symlink() or not path.is_file() or path.stat().st_size > MAX_EVIDENCE_BYTES:
        return Evidence(name, None, "not a regular file of sane size", str(path))
    return Evidence.parse(name, path.read_bytes(), str(path))


def _print_gate(report: GateReport, output: Path | None) -> None:
    summary = report.summary
    click.echo("Release readiness gate")
    click.echo(f"- decision: {report.decision}")
    click.echo(f"- status: {report.status}")
    click.echo(f"- passed: {summary.passed}/{summary.total}")
    click.echo(f"- high_failures: {summary.high_failures}")
    click.echo(f"- medium_failures: {summary.medium_failures}")
    click.echo(f"- exceptions_applied: {len(report.exceptions_applied)}")
    if output is not None:
        click.echo(f"- report: {output}")
    for check in report.checks:
        if not check.passed:
            click.echo(f"  [{check.severity}] {check.check_id}: {check.detail}")


@gate.command("evaluate")
@click.option(
    "--evidence",
    "evidence_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help=f"Folder with the evidence files ({', '.join(EVIDENCE_FILES[:3])}, …).",
)
@click.option(
    "--profile",
    type=click.Choice(sorted(PROFILES)),
    default="strict",
    show_default=True,
    help="Gate profile: thresholds and waivers (the origin's release_gate_policy.json).",
)
@click.option(
    "--exceptions",
    "exceptions_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help='Approved exceptions: {"exceptions": [{check_id, expires_at, approved_by, reason}]}.',
)
@click.option("--fail-on-no-go", is_flag=True, help="Exit 1 when the decision is no-go.")
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the report here (e.g. evidence/release_readiness_gate_report.json).",
)
@common
def gate_evaluate(
    evidence_dir: Path,
    profile: str,
    exceptions_file: Path | None,
    fail_on_no_go: bool,
    output: Path | None,
    repo: Path,
    fmt: str,
) -> None:
    """Decide go | conditional-go | no-go from the evidence in a folder."""
    del repo  # the gate reads evidence files only; --repo is accepted like on every command
    if not evidence_dir.is_dir():
        raise InputError(f"{evidence_dir}: not a folder", "pass --evidence DIR with the evidence files")
    docs = {name: _read_doc(evidence_dir / name, name) for name in EVIDENCE_FILES}
    exceptions = _read_doc(exceptions_file, "exceptions") if exceptions_file is not None else None
    inputs = {
        "evidence_dir": str(evidence_dir),
        "exceptions_file": str(exceptions_file) if exceptions_file else None,
    }
    report = evaluate_gate(docs, profile, format_time(clock_now()), exceptions, inputs)
    if output is not None:
        write_file(output, render(report.model_dump(mode="json")), "--output names a regular file (or a new one)")
    emit(fmt, report.model_dump(mode="json"), lambda: _print_gate(report, output))
    if fail_on_no_go and report.decision == "no-go":
        worst = (
            next(c for c in report.checks if not c.passed and c.severity == "high")
            if report.summary.high_failures
            else next(c for c in report.checks if not c.passed)
        )
        raise DocketError(
            f"release gate decision is no-go: {worst.check_id} failed ({worst.detail})",
            "fix the failing checks, or record an approved exception with --exceptions",
        )
