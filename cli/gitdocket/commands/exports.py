"""``gitdocket export`` and ``gitdocket replay``: the registry's history as one replayable file
(``registry_export_v1``) and a registry rebuilt from it. Parsing and printing only; the work is in
``ops.exports``."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click

from gitdocket.adapters.store import GitStore
from gitdocket.commands.output import at_value, emit, format_option, note, repo_option
from gitdocket.core.fields import format_time
from gitdocket.ops.exports import Exported, Replayed, export_registry, replay

__all__ = ["export_command", "replay_command"]


def _size(count: int) -> str:
    return f"{count / (1 << 20):.1f} MiB" if count >= 1 << 20 else f"{count / 1024:.1f} KiB"


def _exported(done: Exported) -> None:
    click.echo(
        f"Exported {done.branch} at {done.head[:12]}: {done.commits} commits, {done.blobs} blobs, "
        f"{done.tags} tags to {done.path} ({_size(done.size)})"
    )


@click.command("export")
@click.option(
    "--to",
    "to",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The file to write (registry_export_v1, JSON Lines); replaced whole once complete.",
)
@click.option(
    "--branch",
    metavar="NAME",
    help="The branch to export (default: the one checked out). Its tags come along.",
)
@repo_option
@format_option
def export_command(to: Path, branch: str | None, repo: Path, fmt: str) -> None:
    """Write the registry's whole history to FILE as a replayable log (registry_export_v1).

    Every commit of the branch and of its tags, parents first: the commit as git stores it (with
    its signature), the events it appended, the blobs it added (method snapshots, bundle
    payloads), then every tag with its signature. The same registry always exports to the same
    bytes. `gitdocket replay FILE --into DIR` rebuilds it.
    """
    done = export_registry(GitStore.open(repo), to, branch)
    emit(fmt, done.as_dict(), lambda: _exported(done))
    for name in done.skipped:
        note(f"left out tag {name}: it names no commit")


def _replayed(done: Replayed) -> None:
    click.echo(
        f"Replayed {done.commits} commits, {done.blobs} blobs and {done.tags} tags into {done.path}: "
        f"{done.branch} at {done.head[:12]}, byte for byte, and it verifies"
    )


@click.command("replay")
@click.argument("source", metavar="FILE", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--into",
    required=True,
    metavar="DIR",
    type=click.Path(file_okay=False, path_type=Path),
    help="The folder to rebuild the registry in: new, or empty. Nothing is left there unless the replay succeeds.",
)
@click.option(
    "--at",
    "at",
    metavar="TIME",
    callback=at_value,
    help="Verify the rebuilt registry as of TIME (RFC 3339 with a zone, not in the future), as "
    "`gitdocket verify --at` does: a registry whose policy has expired since. Default: the system clock.",
)
@format_option
def replay_command(source: Path, into: Path, at: datetime | None, fmt: str) -> None:
    """Rebuild the registry an export FILE holds, in a new folder, and prove it.

    Every blob, tree, commit and tag gets the id it had (a changed byte is refused, naming the
    line), every SSH commit signature must be a policy key's, and the result must pass `gitdocket
    verify`. Built next to DIR and renamed into place only then: a refused replay leaves nothing.
    For migration, disaster recovery, or a sandbox to try a change in. Exit status: 0 when
    replayed, 2 when the file is refused.
    """
    from gitdocket.ops.session import system_now  # the clock: read by the commands that ask

    done = replay(source, into, format_time(at if at is not None else system_now()))
    emit(fmt, done.as_dict(), lambda: _replayed(done))
    if done.unsigned:
        note(
            f"{done.unsigned} commit(s) carry no SSH signature (merges signed by GitHub, or unsigned): kept as they are"
        )
    for text in done.notes:
        note(text)
