"""Commands that read environments: ``gitdocket status``, ``gitdocket history`` and ``gitdocket
deployments resolve``. Parsing and printing only.

Kept apart from ``promote`` and ``rollback`` (``commands/environments.py``) so that a read
imports only what a read needs: these are what runtimes and people call most, and their cost is
mostly start-up (``bench/run.py`` measures it against the bare imports)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click
from click.shell_completion import CompletionItem

from gitdocket.commands.output import at_option, emit, emit_table, reader, table
from gitdocket.core.collector import gc_paused
from gitdocket.core.tree import TreeView
from gitdocket.errors import NotFoundError, StateError
from gitdocket.lifecycles import scope
from gitdocket.ops import deployments as reading
from gitdocket.ops.session import Session, system_now

__all__ = ["deployments", "history", "status"]


def _environments(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    """Environment names for shell completion, imported only when a shell asks."""
    from gitdocket.commands.completion import environments

    return environments(ctx, param, incomplete)


@click.command()
@at_option
@reader
def status(repo: Path, rev: str | None, at: datetime | None, fmt: str) -> None:
    """What is deployed where: bundle, since when, by whom, sequence, gate decision (read from the
    current.json pointers only; `history --env E` shows the holds). With --at: what was deployed
    where at that time."""
    rows = reading.status(Session(repo).view(rev, at))
    emit(
        fmt,
        rows,
        lambda: table(
            "environments",
            ["environment", "bundle", "since", "by", "seq", "gate"],
            [
                (
                    r["environment"],
                    (r["bundle_id"] or "-") + (" (rollback)" if r["rollback"] else ""),
                    r["since"],
                    r["by"],
                    r["sequence"],
                    r["gate_decision"],
                )
                for r in rows
            ],
        ),
    )


@click.command()
@click.option(
    "--env", "environment", required=True, help="The environment whose history to show.", shell_complete=_environments
)
@at_option
@reader
def history(environment: str, repo: Path, rev: str | None, at: datetime | None, fmt: str) -> None:
    """Every promotion and rollback of an environment, oldest first (up to --at)."""
    scope("environment", environment)
    rows = reading.history(Session(repo).view(rev, at), environment)
    columns = {
        "seq": "seq",
        "at": "at",
        "event": "type",
        "bundle": "bundle_id",
        "by": "signed_by",
        "from": "source_environment",
        "gate": "gate_decision",
        "reason": "reason",
        "hold": "hold",
        "batch": "batch",
    }
    emit_table(fmt, f"history of {environment}", rows, columns)


@click.group()
def deployments() -> None:
    """Read environments the way a runtime does."""


@deployments.command("resolve")
@click.option(
    "--env",
    "environment",
    required=True,
    help="The environment to resolve.",
    shell_complete=_environments,
)
@click.option(
    "--export",
    "export_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write the active release from git objects to DIR/<bundle-id>/ (verified after writing) "
    "and print that path: what a runtime of a bare registry reads.",
)
@at_option
@reader
# Its imports build about a hundred pydantic classes and its replay their models, all alive to
# the end: each automatic collection walked them again (~10 ms of what a runtime waits; ADR 0035).
@gc_paused()
def deployments_resolve(
    environment: str, export_dir: Path | None, repo: Path, rev: str | None, at: datetime | None, fmt: str
) -> None:
    """Verify an environment's chain, check that the active release's files are exactly the signed
    bundle (changed, missing or extra files fail, naming the first), then print its path. With
    --at: the release that was active at that time, its chain judged as of then."""
    # Imported here, not at the top: status and history start without verify, YAML and bundles.
    from gitdocket.adapters.bundle_files import disk_problems
    from gitdocket.adapters.files import load_yaml
    from gitdocket.adapters.keyless import keyless_check
    from gitdocket.core.fields import format_time
    from gitdocket.verify.deployments import verify_environment

    scope("environment", environment)
    session = Session(repo)
    tree = session.view(rev, at)
    reading.require_configured(tree, environment)
    clock = format_time(at if at is not None else system_now())
    findings = verify_environment(tree, environment, parse_yaml=load_yaml, clock=clock, keyless=keyless_check)
    if findings:
        raise StateError(
            f"environment {environment} does not verify: {findings[0].line()}"
            + (f" (and {len(findings) - 1} more)" if len(findings) > 1 else ""),
            "run `gitdocket verify` for every finding",
        )
    row = reading.status_of(tree, environment)
    bundle_id = row.get("bundle_id")
    if not bundle_id:
        raise NotFoundError(
            f"nothing is deployed in {environment}",
            f"promote a bundle with `gitdocket promote BUNDLE --env {environment}`",
        )
    release = f"deployments/{environment}/releases/{bundle_id}"
    folder = _release_folder(session, tree, release, bundle_id, export_dir)
    problems = disk_problems(tree, bundle_id, folder, release)
    if problems:
        raise StateError(
            f"{folder}: the release on disk is not the signed bundle {bundle_id}: {problems[0]}"
            + (f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""),
            f"restore it with `git checkout -- {release}`, or read it from git objects with --export DIR",
        )
    data = {
        "environment": environment,
        "bundle_id": bundle_id,
        "release_root": release,
        "path": str(folder),
        "tree": tree.tree_id(release),
        "sequence": row["sequence"],
    }
    emit(fmt, data, lambda: click.echo(str(folder)))


def _release_folder(session: Session, tree: TreeView, release: str, bundle_id: str, export_dir: Path | None) -> Path:
    """Where a runtime reads the release: exported from git objects to ``export_dir``, or the
    registry worktree's copy (a bare registry has none)."""
    from gitdocket.adapters.archives import export_folder
    from gitdocket.adapters.bundle_files import from_tree

    if export_dir is not None:
        return export_folder(from_tree(tree, bundle_id, release), export_dir)
    root = session.worktree()
    if root is None:
        raise StateError(
            f"{session.store.root}: a bare registry has no files on disk for {release}",
            "materialize the release from git objects with `gitdocket deployments resolve --env ENV --export DIR`",
        )
    checked_out = session.snapshot().commit
    if tree.commit != checked_out:
        raise StateError(
            f"{root} holds commit {(checked_out or 'nothing')[:12]}, not {(tree.commit or '')[:12]} (--rev): its files "
            "are not that commit's release",
            "read the release of that commit from git objects: add --export DIR",
        )
    return root / release
