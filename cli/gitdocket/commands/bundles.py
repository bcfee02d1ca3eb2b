"""Commands for release bundles and the readiness gate: ``gitdocket bundle build|verify|export|import|
list`` and ``gitdocket gate evaluate``. Parsing and printing only; the work is in ``ops``."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import click

from gitdocket.adapters.archives import export_folder, export_tarball, open_bundle
from gitdocket.adapters.bundle_files import MAX_EVIDENCE_BYTES, read_evidence
from gitdocket.commands.output import common, emit, format_option, keys_option, repo_option, table
from gitdocket.core.canonical import render
from gitdocket.core.documents import GateReport
from gitdocket.core.scopes import scope
from gitdocket.errors import DocketError, InputError, InvariantError
from gitdocket.lifecycles.gate import EVIDENCE_FILES, PROFILES, Evidence, evaluate_gate
from gitdocket.ops import bundles as bundle_ops
from gitdocket.ops.session import Session, clock_now
from gitdocket.ops.transaction import load_log, timestamp
from gitdocket.verify.bundles import BundleCheck

__all__ = ["bundle", "gate"]


@click.group()
def bundle() -> None:
    """Build, verify, export and import release bundles (release_bundle_v1)."""


@bundle.command("build")
@click.option("--label", required=True, help="Bundle label, e.g. pr-preview or candidate.")
@click.option(
    "--evidence",
    "evidence_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder of release evidence copied into evidence/ (registry.yaml lists the required files).",
)
@click.option(
    "--package",
    "packages",
    multiple=True,
    metavar="ARCHETYPE@VERSION",
    help="Bundle only this published package (repeat). Default: every published package.",
)
@repo_option
@keys_option
@format_option
def bundle_build(
    label: str,
    evidence_dir: Path | None,
    packages: tuple[str, ...],
    repo: Path,
    keys: tuple[str, ...],
    fmt: str,
) -> None:
    """Build bundles/<label>-<UTC stamp>-<commit8>/ from the registry (git trees, no copies)."""
    evidence = read_evidence(evidence_dir) if evidence_dir is not None else {}
    result, built = Session(repo, keys).write(
        f"docket: build bundle {label}", lambda tx: bundle_ops.build(tx, label, evidence, packages)
    )
    data = {"ok": True, "commit": result.commit, **built.as_dict()}

    def text() -> None:
        summary = built.manifest.summary
        click.echo(f"[bundle build] {built.bundle_id}")
        click.echo(f"  root: {built.bundle_root}")
        click.echo(
            f"  files: {summary.included_files} (runtime {summary.runtime_files}, registry "
            f"{summary.registry_files}, evidence {summary.evidence_files})"
        )
        click.echo(f"  packages: {', '.join(data['packages'])}")
        click.echo(f"Built bundle {built.bundle_id} (commit {result.commit[:12]})")
        click.echo(f"Next step: gitdocket bundle verify {built.bundle_id} --record")

    emit(fmt, data, text)


def _print_check(check: BundleCheck, where: str) -> None:
    click.echo(f"[bundle verify] {check.bundle_id} ({where})")
    click.echo(f"  verified files: {check.verified_files}")
    for error in check.errors:
        click.echo(f"  error: {error}")
    for warning in check.warnings:
        click.echo(f"  warning: {warning}")
    click.echo("Validation: OK" if check.ok else f"Validation: FAILED ({len(check.errors)} error(s))")


@bundle.command("verify")
@click.argument("spec", metavar="BUNDLE")
@click.option(
    "--record",
    is_flag=True,
    help="Also sign and record a `verified` event (registry bundles; role builders). "
    "Only verified bundles can be promoted.",
)
@repo_option
@keys_option
@format_option
def bundle_verify(spec: str, record: bool, repo: Path, keys: tuple[str, ...], fmt: str) -> None:
    """Verify BUNDLE (a bundle id, or an exported folder or .tar.gz): contract, every checksum,
    missing and extra files, required evidence, bundle id, and the builder's signature."""
    session = Session(repo, keys)
    tree = session.snapshot()
    commit = None
    with open_bundle(spec, tree) as source:
        if record:
            if source.where != f"bundles/{spec}":
                raise InputError(
                    "--record needs a bundle id in the registry",
                    "import an exported bundle first: `gitdocket bundle import PATH`",
                )
            written, check = session.write(
                f"docket: verify bundle {spec}", lambda tx: bundle_ops.record_verified(tx, spec)
            )
            commit = written.commit
        else:
            check = bundle_ops.verify_source(source, tree)
    data: dict[str, Any] = check.as_dict() | ({"commit": commit} if commit else {})

    def text() -> None:
        _print_check(check, source.where)
        if commit:
            click.echo(f"Recorded the verified event (commit {commit[:12]})")

    emit(fmt, data, text)
    if not check.ok:
        raise SystemExit(1)


@bundle.command("export")
@click.argument("spec", metavar="BUNDLE")
@click.option(
    "--to",
    "dest",
    required=True,
    type=click.Path(path_type=Path),
    help="A folder (the bundle lands in DEST/<bundle-id>/) or a FILE.tar.gz (deterministic bytes).",
)
@common
def bundle_export(spec: str, dest: Path, repo: Path, fmt: str) -> None:
    """Write BUNDLE out for a CI artifact, after verifying it."""
    tree = Session(repo).snapshot()
    with open_bundle(spec, tree) as source:
        check = bundle_ops.verify_source(source, tree)
        if not check.ok:
            raise InvariantError(
                f"bundle {source.bundle_id} does not verify: {check.errors[0]}",
                "BUNDLE_IMMUTABLE",
                f"see `gitdocket bundle verify {spec}`",
            )
        tarball = dest.name.endswith((".tar.gz", ".tgz"))
        out = export_tarball(source, dest) if tarball else export_folder(source, dest)
    data: dict[str, Any] = {
        "ok": True,
        "bundle_id": source.bundle_id,
        "path": str(out),
        "files": len(source.listing.entries),
    }
    if tarball:
        data["sha256"] = hashlib.sha256(out.read_bytes()).hexdigest()
    emit(
        fmt,
        data,
        lambda: click.echo(f"Exported {source.bundle_id} to {out} ({data['files']} files)"),
    )


@bundle.command("import")
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@repo_option
@keys_option
@format_option
def bundle_import(path: Path, repo: Path, keys: tuple[str, ...], fmt: str) -> None:
    """Import an exported bundle (folder or .tar.gz): verified under this registry's policy
    before anything is written; an identical bundle is a no-op."""
    session = Session(repo, keys)
    with open_bundle(str(path), session.snapshot()) as source:
        result, (check, changed) = session.write(
            f"docket: import bundle {source.bundle_id}",
            lambda tx: bundle_ops.import_bundle(tx, source),
        )
    data = {
        "ok": True,
        "bundle_id": check.bundle_id,
        "imported": changed,
        "commit": result.commit,
        "verified_files": check.verified_files,
    }
    emit(
        fmt,
        data,
        lambda: click.echo(
            f"Imported bundle {check.bundle_id} (commit {result.commit[:12]})"
            if changed
            else f"Bundle {check.bundle_id} is already in the registry; nothing to do"
        ),
    )


@bundle.command("list")
@common
def bundle_list(repo: Path, fmt: str) -> None:
    """List the registry's bundles with who built and verified them."""
    tree = Session(repo).snapshot()
    rows = []
    for name in tree.listdir("bundles"):
        if tree.kind(f"bundles/{name}") != "tree":
            continue
        state = load_log(tree, scope("bundle", name)).state
        rows.append(
            {
                "bundle_id": name,
                "phase": state.phase,
                "label": state.label,
                "created_at": state.created_at,
                "built_by": state.built_by,
                "verified_by": state.verified_by,
                "files": state.included_files,
            }
        )
    emit(
        fmt,
        rows,
        lambda: table(
            "bundles",
            ["bundle", "phase", "built by", "created", "verified by", "files"],
            [
                (
                    r["bundle_id"],
                    r["phase"],
                    r["built_by"],
                    r["created_at"],
                    r["verified_by"],
                    r["files"],
                )
                for r in rows
            ],
        ),
    )


# -- gate ----------------------------------------------------------------------------------------


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
    report = evaluate_gate(docs, profile, timestamp(clock_now()), exceptions, inputs)
    if output is not None:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_bytes(render(report.model_dump(mode="json")))
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
