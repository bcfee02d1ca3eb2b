"""Commands that write environments: ``gitdocket promote`` and ``gitdocket rollback``. Parsing and
printing only; the reads (``status``, ``history``, ``deployments resolve``) are in
``commands/reads.py``."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

import click

from gitdocket.adapters.archives import open_bundle
from gitdocket.adapters.bundle_files import MAX_EVIDENCE_BYTES, BundleSource
from gitdocket.adapters.files import MAX_FILE_BYTES, read_file, write_file
from gitdocket.commands.batches import run_batch
from gitdocket.commands.completion import bundles, environments
from gitdocket.commands.output import dry_running, emit, note, writer
from gitdocket.commands.plans import dry_run_option
from gitdocket.core.canonical import loads_strict, render
from gitdocket.core.documents import PromotionReport, SourceRun, parse_document
from gitdocket.errors import InputError
from gitdocket.lifecycles import scope
from gitdocket.lifecycles.gate import Evidence
from gitdocket.lifecycles.promotion import GATE_EVIDENCE, READINESS_EVIDENCE, promotion_chain
from gitdocket.ops import bundles as bundle_ops
from gitdocket.ops import deployments
from gitdocket.ops import environments as env_ops
from gitdocket.ops.documents import registry_config
from gitdocket.ops.session import Session
from gitdocket.ops.transaction import Transaction

__all__ = ["promote", "rollback"]


def _artifacts(folder: Path | None) -> dict[str, Evidence]:
    if folder is None:
        return {}
    if not folder.is_dir():
        raise InputError(f"{folder}: not a folder", "pass --artifacts-dir DIR holding the evidence overrides")
    out = {}
    for name in (GATE_EVIDENCE, READINESS_EVIDENCE):
        path = folder / name
        if path.is_file() and not path.is_symlink() and path.stat().st_size <= MAX_EVIDENCE_BYTES:
            out[name] = Evidence.parse(name, path.read_bytes(), f"external:{path}")
    return out


def _source_run(path: Path | None) -> SourceRun | None:
    if path is None:
        return None
    raw = read_file(path, MAX_FILE_BYTES, "pass release_bundle_promotion_source.json")
    return parse_document(SourceRun, raw, str(path), loads_strict)


@contextmanager
def _incoming(spec: str, session: Session) -> Iterator[BundleSource | None]:
    """The exported bundle (folder or .tar.gz) ``spec`` names, to import in the promotion's own
    write; None when ``spec`` is a bundle id."""
    if not Path(spec).exists():
        scope("bundle", spec)
        yield None
        return
    with open_bundle(spec, session.snapshot()) as source:
        yield source


def _print_report(report: PromotionReport | None, env: str, path: Path | None) -> None:
    if report is None:
        return
    click.echo("Release bundle promotion")
    click.echo(f"- environment: {env}")
    click.echo(f"- source_environment: {report.source_environment}")
    click.echo(f"- status: {report.status}")
    click.echo(f"- bundle_id: {report.bundle_id}")
    click.echo(f"- gate_decision: {report.gate_decision}")
    if path is not None:
        click.echo(f"- report: {path}")
    for check in report.checks:
        click.echo(f"  {'ok  ' if check.passed else 'FAIL'} {check.check_id}")


def _write_report(report: PromotionReport, reports_dir: Path) -> Path:
    path = reports_dir / f"release_bundle_promotion_{report.environment}.json"
    write_file(path, render(report.model_dump(mode="json")), "--reports-dir names a folder of regular files")
    return path


def _outcome(fmt: str, commit: str, outcome: env_ops.PromoteOutcome, reports_dir: Path) -> dict[str, Any]:
    """Report one promotion of a write that landed: its report file, then the line."""
    env = outcome.state.environment
    written = None
    if outcome.report is not None:
        try:
            written = _write_report(outcome.report, reports_dir)
        except InputError as exc:  # the promotion landed: a local copy of its report cannot undo that
            note(
                f"the promotion landed, but its report was not copied ({exc.message}); "
                f"the registry keeps it at {outcome.report_path}",
                "warning",
            )
    if fmt == "text":
        _print_report(outcome.report, env, written)
        click.echo(
            f"Promoted {outcome.state.bundle_id} to {env} (sequence {outcome.state.sequence}, commit {commit[:12]})"
        )
    return {"ok": True, "commit": commit, **outcome.as_dict(), "report_file": str(written) if written else None}


def _keeper(fmt: str, reports_dir: Path) -> Callable[[PromotionReport], str]:
    """Keep a refused gated promotion's report: write it, show it; returns where it is."""

    def keep(report: PromotionReport) -> str:
        if dry_running():  # a dry run writes no file: its plan lists the checks
            return "not written (dry run)"
        path = _write_report(report, reports_dir)
        if fmt == "text":
            _print_report(report, report.environment, path)
        return str(path)

    return keep


def _promote_all(
    session: Session,
    incoming: BundleSource | None,
    requests: list[env_ops.PromoteRequest],
    keep: Callable[[PromotionReport], str],
) -> tuple[str, list[env_ops.PromoteOutcome]]:
    """Import (when the bundle came from a path) and promote through every step in ONE write:
    a refusal anywhere leaves nothing behind, not even the import."""
    envs = ", ".join(r.environment for r in requests)
    bundle_id = requests[0].bundle_id
    message = f"docket: {'import and ' if incoming else ''}promote {bundle_id} to {envs}"

    def operation(tx: Transaction) -> list[env_ops.PromoteOutcome]:
        if incoming is not None:
            bundle_ops.import_bundle(tx, incoming)
        return [env_ops.promote(tx, req, keep) for req in requests]

    result, outcomes = session.write(message, operation)
    return result.commit, outcomes


@click.command()
@click.argument("spec", metavar="[BUNDLE]", required=False, shell_complete=bundles)
@click.option("--env", "environment", help="Promote to this one environment.", shell_complete=environments)
@click.option(
    "--to",
    "target",
    shell_complete=environments,
    help="Walk the chain (preview → dev → staging → prod) up to this environment, "
    "gated at every step, stopping at the first failure.",
)
@click.option(
    "--gated",
    is_flag=True,
    help="Run seed 002's eight checks (and Docket's bundle_packages_current) and store the promotion report.",
)
@click.option(
    "--source-env",
    "source",
    help="The environment the bundle comes from (must be running it).",
    shell_complete=environments,
)
@click.option(
    "--artifacts-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Evidence overriding the bundle's own (release_readiness_gate_report.json, "
    "policy_promotion_readiness_report.json).",
)
@click.option(
    "--source-run-json",
    type=click.Path(dir_okay=False, path_type=Path),
    help="release_bundle_promotion_source.json of the CI run the bundle came from (embedded in the reports).",
)
@click.option(
    "--override-hold",
    "override",
    metavar="REASON",
    help="Promote a release that a rollback holds in the environment, saying why (recorded in the "
    "signed event; lifts the hold). With --to it applies to every step that holds the bundle.",
)
@click.option(
    "--reports-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path(),
    show_default="the current folder",
    help="Where release_bundle_promotion_<env>.json is written for gated promotions.",
)
@click.option(
    "--batch",
    "batch_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Promote a batch instead (promotion_batch_v1, YAML or JSON: several bundles, each to one "
    "environment or up the chain to one) in ONE commit, all or nothing: every gate of every step "
    "is evaluated and reported, and one refusal writes nothing. Every event records the batch's "
    "name. Takes no BUNDLE, --env, --to, --gated, --source-env or --override-hold.",
)
@dry_run_option
@writer
def promote(
    spec: str | None,
    environment: str | None,
    target: str | None,
    gated: bool,
    source: str | None,
    artifacts_dir: Path | None,
    source_run_json: Path | None,
    override: str | None,
    reports_dir: Path,
    batch_file: Path | None,
    repo: Path,
    keys: tuple[str, ...],
    fmt: str,
) -> None:
    """Promote BUNDLE (an id, or an exported folder/.tar.gz, imported first) to an environment.

    Or a batch of bundles (--batch FILE). The bundle is verified first; the release is the
    bundle's own git tree (no copy)."""
    if batch_file is not None:
        if spec is not None or environment or target or gated or source or override is not None:
            raise click.UsageError("--batch takes its bundles and environments from the file: drop the others")
        session = Session(repo, keys)
        report = partial(_outcome, fmt, reports_dir=reports_dir)
        run_batch(batch_file, session, _artifacts(artifacts_dir), _keeper(fmt, reports_dir), report, fmt)
        return
    if spec is None:
        raise click.UsageError("pass BUNDLE, or --batch FILE")
    if (environment is None) == (target is None):
        raise click.UsageError("pass exactly one of --env and --to")
    if target is not None and source is not None:
        raise click.UsageError("--to chooses each step's source itself; drop --source-env")
    if override is not None and not override.strip():
        raise InputError("--override-hold is empty", "say why the held release comes back; it is recorded")
    session = Session(repo, keys)
    evidence, run = _artifacts(artifacts_dir), _source_run(source_run_json)
    with _incoming(spec, session) as incoming:
        bundle_id = incoming.bundle_id if incoming is not None else spec
        if environment is not None:
            requests = [env_ops.PromoteRequest(bundle_id, environment, source, gated, evidence, run, override)]
        else:
            requests = _chain(session, bundle_id, target or "", evidence, run, override, fmt)
        if not requests:
            emit(fmt, {"ok": True, "bundle_id": bundle_id, "target": target, "steps": []}, lambda: None)
            return
        commit, outcomes = _promote_all(session, incoming, requests, _keeper(fmt, reports_dir))
    steps = [_outcome(fmt, commit, outcome, reports_dir) for outcome in outcomes]
    if environment is not None:
        emit(fmt, steps[0], lambda: None)
    else:
        emit(fmt, {"ok": True, "bundle_id": bundle_id, "target": target, "steps": steps}, lambda: None)


def _chain(
    session: Session,
    bundle_id: str,
    target: str,
    evidence: dict[str, Evidence],
    run: SourceRun | None,
    override: str | None,
    fmt: str,
) -> list[env_ops.PromoteRequest]:
    """The gated steps of ``--to``, skipping the environments already running the bundle; the
    override of a hold goes to the steps that hold the bundle."""
    tree = session.snapshot()
    requests = []
    for env, step_source in promotion_chain(registry_config(tree), target):
        if deployments.status_of(tree, env).get("bundle_id") == bundle_id:
            if fmt == "text":
                click.echo(f"{bundle_id} is already active in {env}")
            continue
        held = bundle_id in deployments.holds_of(tree, env)
        requests.append(
            env_ops.PromoteRequest(bundle_id, env, step_source, True, evidence, run, override if held else None)
        )
    return requests


@click.command()
@click.option("--env", "environment", required=True, help="The environment to roll back.", shell_complete=environments)
@click.option("--reason", required=True, help="Why (recorded in the signed event).")
@click.option(
    "--to",
    "target",
    metavar="BUNDLE",
    shell_complete=bundles,
    help="Roll back to this bundle (it must have been promoted to the environment). "
    "Default: the previous release in the environment's history.",
)
@dry_run_option
@writer
def rollback(environment: str, reason: str, target: str | None, repo: Path, keys: tuple[str, ...], fmt: str) -> None:
    """Point an environment back at its previous verified release. Only the pointer moves."""
    if not reason.strip():
        raise InputError("--reason is empty", "say why you roll back; it is recorded in the signed event")
    result, state = Session(repo, keys).write(
        f"docket: roll back {environment}",
        lambda tx: env_ops.rollback(tx, environment, reason, target),
    )
    data = {
        "ok": True,
        "commit": result.commit,
        "environment": environment,
        "bundle_id": state.bundle_id,
        "previous_bundle_id": state.previous_bundle_id,
        "current_pointer": f"deployments/{environment}/current.json",
        "sequence": state.sequence,
        "reason": state.reason,
    }
    emit(
        fmt,
        data,
        lambda: click.echo(
            f"Rolled back {environment} to {state.bundle_id} (was "
            f"{state.previous_bundle_id}; sequence {state.sequence}, "
            f"commit {result.commit[:12]})"
        ),
    )
