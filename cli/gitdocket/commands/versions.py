"""``gitdocket version``: draft, freeze, retire, abandon, list and show versions."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from gitdocket.commands.completion import archetypes, versions
from gitdocket.commands.output import at_option, done, emit, emit_table, reader, reason_required, writer
from gitdocket.core.fields import semver_key
from gitdocket.core.scopes import check_name, check_version
from gitdocket.core.tree import TreeView
from gitdocket.lifecycles import scope
from gitdocket.ops import versions as version_ops
from gitdocket.ops.documents import read_json
from gitdocket.ops.logs import load_log
from gitdocket.ops.session import Session

__all__ = ["show_current", "version", "version_write", "versioned_states"]


@click.group()
def version() -> None:
    """Draft, freeze, retire and abandon versions."""


def version_write(verb: str, op: Any) -> Any:
    @click.argument("archetype_name", metavar="ARCHETYPE", shell_complete=archetypes)
    @click.argument("number", metavar="VERSION", shell_complete=versions)
    @writer
    def command(archetype_name: str, number: str, repo: Path, keys: tuple[str, ...], fmt: str, **extra: Any) -> None:
        check_name(archetype_name, "archetype name")
        check_version(number)
        result, _ = Session(repo, keys).write(
            f"docket: {verb} {archetype_name} {number}", lambda tx: op(tx, archetype_name, number, **extra)
        )
        done(
            fmt,
            f"{verb.capitalize()} {archetype_name} {number}",
            result.commit,
            {"archetype": archetype_name, "version": number, "tags": list(result.tags)},
            result.notes,
        )

    return command


version.command("draft", help="Open or revise the draft ARCHETYPE VERSION from its committed method/.")(
    version_write("drafted", lambda tx, a, v: version_ops.draft(tx, a, v))
)
version.command(
    "freeze",
    help="Freeze ARCHETYPE VERSION: snapshot its method, checked for "
    "completeness, signed and tagged <archetype>/v<version>.",
)(version_write("froze", version_ops.freeze))
version.command("retire", help="Retire ARCHETYPE VERSION: no new packages; existing ones keep working.")(
    reason_required(version_write("retired", version_ops.retire))
)
version.command("abandon", help="Abandon the draft ARCHETYPE VERSION (terminal).")(
    reason_required(version_write("abandoned", version_ops.abandon))
)


@version.command("list")
@click.argument("archetype_name", metavar="[ARCHETYPE]", required=False, shell_complete=archetypes)
@at_option
@reader
def version_list(archetype_name: str | None, repo: Path, rev: str | None, at: datetime | None, fmt: str) -> None:
    """List versions (of one archetype, or all) with their phase (at --at: those that existed then,
    in the phase they were in)."""
    names = [check_name(archetype_name)] if archetype_name else None
    rows = [
        {
            "archetype": a,
            "version": v,
            "phase": state.phase,
            "content_hash": state.snapshot.content_hash if state.snapshot else None,
        }
        for a, v, state in versioned_states(Session(repo).view(rev, at), "version", names)
    ]
    columns = {"archetype": "archetype", "version": "version", "phase": "phase", "content": "content_hash"}
    emit_table(fmt, "versions", rows, columns)


def versioned_states(tree: TreeView, kind: str, names: list[str] | None) -> list[tuple[str, str, Any]]:
    """(archetype, version, folded state) of every ``kind`` scope (version or package) of
    ``tree``, in archetype then semver order."""
    root = f"registry/{kind}s"
    return [
        (name, number, load_log(tree, scope(kind, name, number)).state)
        for name in (names if names is not None else tree.listdir(root))
        for number in sorted(tree.listdir(f"{root}/{name}"), key=semver_key)
    ]


def show_current(kind: str, archetype_name: str, number: str, repo: Path, rev: str | None, fmt: str) -> None:
    target = scope(kind, archetype_name, number)
    data = read_json(Session(repo).snapshot(rev), target.current_path)
    emit(fmt, data, lambda: click.echo(json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False)))


@version.command("show")
@click.argument("archetype_name", metavar="ARCHETYPE", shell_complete=archetypes)
@click.argument("number", metavar="VERSION", shell_complete=versions)
@reader
def version_show(archetype_name: str, number: str, repo: Path, rev: str | None, fmt: str) -> None:
    """Show one version's state and frozen snapshot (current.json)."""
    show_current("version", archetype_name, number, repo, rev, fmt)
