"""``gitdocket bundle``: build, verify, export, import and list release bundles. Parsing and printing
only; the work is in ``ops.bundles``."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from pathlib import Path
from typing import Any

import click

from gitdocket.adapters.archives import export_folder, export_tarball, open_bundle
from gitdocket.adapters.bundle_files import disk_problems, read_evidence
from gitdocket.adapters.files import write_file
from gitdocket.commands.completion import bundles
from gitdocket.commands.output import emit, emit_table, reader, writer
from gitdocket.commands.plans import dry_run_option
from gitdocket.core.canonical import loads_strict, render
from gitdocket.core.documents import BundleManifest, SourceRun, parse_document
from gitdocket.errors import InputError, InvariantError, StateError
from gitdocket.lifecycles import scope
from gitdocket.lifecycles.bundle import BUNDLE_IMMUTABLE, MANIFEST
from gitdocket.lifecycles.promotion import PREVIEW_WORKFLOW, provenance_problems
from gitdocket.ops import bundles as bundle_ops
from gitdocket.ops.logs import load_log
from gitdocket.ops.session import Session
from gitdocket.verify.bundles import BundleCheck

__all__ = ["bundle"]


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
@dry_run_option
@writer
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


def _disk_errors(session: Session, bundle_id: str) -> list[str]:
    """What differs on disk in a registry worktree from the committed, signed bundle: what a
    runtime reading the folder would get (nothing to compare in a bare registry)."""
    root = session.worktree()
    if root is None:
        return []
    problems = disk_problems(session.snapshot(), bundle_id, root / "bundles" / bundle_id)
    return [f"On disk (bundles/{bundle_id}): {problem}" for problem in problems]


def _print_check(check: BundleCheck, where: str) -> None:
    click.echo(f"[bundle verify] {check.bundle_id} ({where})")
    click.echo(f"  verified files: {check.verified_files}")
    for error in check.errors:
        click.echo(f"  error: {error}")
    for warning in check.warnings:
        click.echo(f"  warning: {warning}")
    click.echo("Validation: OK" if check.ok else f"Validation: FAILED ({len(check.errors)} error(s))")


@bundle.command("verify")
@click.argument("spec", metavar="BUNDLE", shell_complete=bundles)
@click.option(
    "--record",
    is_flag=True,
    help="Also sign and record a `verified` event (registry bundles; role builders). "
    "Only verified bundles can be promoted.",
)
@writer
def bundle_verify(spec: str, record: bool, repo: Path, keys: tuple[str, ...], fmt: str) -> None:
    """Verify BUNDLE (a bundle id, or an exported folder or .tar.gz): contract, every checksum,
    missing and extra files, required evidence, bundle id, and the builder's signature."""
    session = Session(repo, keys)
    tree = session.snapshot()
    commit = None
    with open_bundle(spec, tree) as source:
        in_registry = source.where == f"bundles/{spec}"
        disk = _disk_errors(session, spec) if in_registry else []
        if record and not in_registry:
            raise InputError(
                "--record needs a bundle id in the registry",
                "import an exported bundle first: `gitdocket bundle import PATH`",
            )
        if record and not disk:
            written, check = session.write(
                f"docket: verify bundle {spec}", lambda tx: bundle_ops.record_verified(tx, spec)
            )
            commit = written.commit
        else:
            check = bundle_ops.verify_source(source, tree)
        check = replace(check, errors=(*check.errors, *disk))
    data: dict[str, Any] = check.as_dict() | ({"commit": commit} if commit else {})

    def text() -> None:
        _print_check(check, source.where)
        if commit:
            click.echo(f"Recorded the verified event (commit {commit[:12]})")

    emit(fmt, data, text)
    if not check.ok:
        raise SystemExit(1)


@bundle.command("export")
@click.argument("spec", metavar="BUNDLE", shell_complete=bundles)
@click.option(
    "--to",
    "dest",
    required=True,
    type=click.Path(path_type=Path),
    help="A folder (the bundle lands in DEST/<bundle-id>/) or a FILE.tar.gz (deterministic bytes).",
)
@reader
def bundle_export(spec: str, dest: Path, repo: Path, rev: str | None, fmt: str) -> None:
    """Write BUNDLE out for a CI artifact, after verifying it."""
    tree = Session(repo).snapshot(rev)
    with open_bundle(spec, tree) as source:
        check = bundle_ops.verify_source(source, tree)
        if not check.ok:
            raise InvariantError(
                f"bundle {source.bundle_id} does not verify: {check.errors[0]}",
                BUNDLE_IMMUTABLE,
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
@writer
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
@reader
def bundle_list(repo: Path, rev: str | None, fmt: str) -> None:
    """List the registry's bundles with who built and verified them."""
    tree = Session(repo).snapshot(rev)
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
    columns = {
        "bundle": "bundle_id",
        "phase": "phase",
        "built by": "built_by",
        "created": "created_at",
        "verified by": "verified_by",
        "files": "files",
    }
    emit_table(fmt, "bundles", rows, columns)


def _run_json(path: Path) -> dict[str, Any]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(
            f"{path}: cannot read ({exc.strerror})",
            "save the run with `gh api repos/OWNER/REPO/actions/runs/RUN_ID > run.json`",
        ) from exc
    run = loads_strict(raw, str(path))
    if not isinstance(run, dict) or "id" not in run:
        raise InputError(
            f"{path}: not a GitHub workflow run (no id)",
            "save the run with `gh api repos/OWNER/REPO/actions/runs/RUN_ID > run.json`",
        )
    return run


@bundle.command("provenance")
@click.argument("spec", metavar="[BUNDLE]", required=False, shell_complete=bundles)
@click.option(
    "--run",
    "run_file",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The source run as GitHub's API returns it (`gh api repos/OWNER/REPO/actions/runs/ID`).",
)
@click.option("--workflow", default=PREVIEW_WORKFLOW, show_default=True, help="The workflow that must have run.")
@click.option("--label", default="pr-preview", show_default=True, help="The label the bundle must carry.")
@click.option(
    "--artifact-name",
    default="release-preview-bundle",
    show_default=True,
    help="The artifact the bundle came in (recorded in the source file).",
)
@click.option("--target", "target_environment", help="The environment it is promoted to (recorded).")
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write release_bundle_promotion_source.json here, for `promote --source-run-json`.",
)
@reader
def bundle_provenance(
    spec: str | None,
    run_file: Path,
    workflow: str,
    label: str,
    artifact_name: str,
    target_environment: str | None,
    output: Path | None,
    repo: Path,
    rev: str | None,
    fmt: str,
) -> None:
    """Check that BUNDLE (an exported folder or .tar.gz) comes from a successful run of the
    preview workflow: the run succeeded, ran that workflow, and the bundle carries the label and
    was built from the run's head commit. Without BUNDLE, check the run only. Writes nothing
    but --output."""
    run = _run_json(run_file)
    manifest: BundleManifest | None = None
    bundle_id = None
    if spec is not None:
        with open_bundle(spec, Session(repo).snapshot(rev)) as source:
            manifest = parse_document(BundleManifest, source.read(MANIFEST), f"{spec}: {MANIFEST}", loads_strict)
            bundle_id = source.bundle_id
    problems = provenance_problems(run, manifest, workflow, label)
    if problems:
        raise StateError(
            f"provenance check failed: {problems[0]}",
            "dispatch with the id of the successful deployment-preview run that built this bundle, "
            "and its release-preview-bundle artifact",
        )
    data = {
        "source_run_id": run["id"],
        "source_artifact_name": artifact_name,
        "source_head_sha": run.get("head_sha"),
        "source_head_branch": run.get("head_branch"),
        "source_workflow_path": workflow,
        "source_run_conclusion": run.get("conclusion"),
        "bundle_path": spec,
        "target_environment": target_environment,
    }
    if output is not None:
        write_file(
            output,
            render(SourceRun.model_validate(data).model_dump(mode="json")),
            "--output names a regular file (or a new one)",
        )
    what = f"bundle {bundle_id}" if bundle_id else "the run"
    text = f"Provenance OK: {what} (run {run['id']})"
    emit(fmt, {"ok": True, "bundle_id": bundle_id, **data}, lambda: click.echo(text))
