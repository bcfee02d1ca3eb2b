"""``gitdocket gate evaluate``: the release readiness gate — go, conditional-go or no-go."""

from __future__ import annotations

from pathlib import Path

import click

from gitdocket.adapters.bundle_files import MAX_EVIDENCE_BYTES
from gitdocket.adapters.files import write_file
from gitdocket.commands.completion import environments
from gitdocket.commands.output import emit, reader
from gitdocket.core.canonical import render
from gitdocket.core.fields import format_time
from gitdocket.core.readiness import GateReport
from gitdocket.errors import DocketError, InputError, NotFoundError
from gitdocket.lifecycles.gate import Evidence, GateRules, evaluate_gate
from gitdocket.lifecycles.gate_presets import gate_rules
from gitdocket.ops.documents import registry_config
from gitdocket.ops.session import Session, clock_now

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


def _rules_and_profile(
    repo: Path, rev: str | None, profile: str | None, environment: str | None
) -> tuple[GateRules, str]:
    config = registry_config(Session(repo).snapshot(rev))
    rules = gate_rules(config.gate)
    if environment is not None:
        env = config.environment(environment)
        if env is None:
            known = ", ".join(e.name for e in config.environments)
            raise NotFoundError(
                f"unknown environment {environment!r}", f"environments in registry/registry.yaml: {known}"
            )
        profile = profile or env.gate_profile
    chosen = profile or "strict"
    rules.profile(chosen)
    return rules, chosen


def _read_all(folders: tuple[Path, ...], names: tuple[str, ...]) -> dict[str, Evidence]:
    """Each evidence file from the first folder that has it."""
    for folder in folders:
        if not folder.is_dir():
            raise InputError(f"{folder}: not a folder", "pass --evidence DIR with the evidence files")
    out: dict[str, Evidence] = {}
    for name in names:
        found = next((folder / name for folder in folders if (folder / name).exists()), None)
        out[name] = _read_doc(found, name) if found is not None else Evidence.missing(name, str(folders[0]))
    return out


@gate.command("evaluate")
@click.option(
    "--evidence",
    "evidence_dirs",
    required=True,
    multiple=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder with the evidence files the registry's gate reads (repeat: the first folder "
    "holding a file wins). registry.yaml's `gate` section names them.",
)
@click.option(
    "--profile",
    help="Gate profile: failure budgets and waivers (registry.yaml `gate.profiles`; "
    "default: the --env's gate_profile, else strict).",
)
@click.option(
    "--env",
    "environment",
    help="Use this environment's gate_profile from registry.yaml.",
    shell_complete=environments,
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
@reader
def gate_evaluate(
    evidence_dirs: tuple[Path, ...],
    profile: str | None,
    environment: str | None,
    exceptions_file: Path | None,
    fail_on_no_go: bool,
    output: Path | None,
    repo: Path,
    rev: str | None,
    fmt: str,
) -> None:
    """Decide go | conditional-go | no-go from evidence files, with the checks and profiles of
    the registry's gate (registry.yaml `gate`: a preset plus checks of your own)."""
    rules, chosen = _rules_and_profile(repo, rev, profile, environment)
    docs = _read_all(evidence_dirs, rules.files())
    exceptions = _read_doc(exceptions_file, "exceptions") if exceptions_file is not None else None
    inputs = {
        "evidence_dir": ", ".join(str(d) for d in evidence_dirs),
        "exceptions_file": str(exceptions_file) if exceptions_file else None,
    }
    report = evaluate_gate(docs, rules, chosen, format_time(clock_now()), exceptions, inputs)
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
