"""``gitdocket version``: draft, freeze, retire, abandon, list and show versions."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import click

from gitdocket.commands.completion import archetypes, versions
from gitdocket.commands.lazy import resolve
from gitdocket.commands.output import at_option, done, emit, emit_table, pretty, reader, reason_required, writer
from gitdocket.core.fields import semver_key
from gitdocket.core.scopes import check_name, check_version
from gitdocket.core.tree import TreeView
from gitdocket.errors import StateError
from gitdocket.lifecycles import scope
from gitdocket.ops.documents import read_json, recorded_state
from gitdocket.ops.session import Session

__all__ = ["show_current", "version", "version_write", "versioned_states"]


@click.group()
def version() -> None:
    """Draft, freeze, retire and abandon versions."""


def version_write(verb: str, target: str) -> Any:
    """A command that runs the operation ``target`` (``module:function``, imported when it runs:
    ``version list`` starts without the write path, ADR 0035) on ARCHETYPE VERSION."""

    @click.argument("archetype_name", metavar="ARCHETYPE", shell_complete=archetypes)
    @click.argument("number", metavar="VERSION", shell_complete=versions)
    @writer
    def command(archetype_name: str, number: str, repo: Path, keys: tuple[str, ...], fmt: str, **extra: Any) -> None:
        check_name(archetype_name, "archetype name")
        check_version(number)
        op = resolve(target)
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
    version_write("drafted", "gitdocket.ops.versions:draft")
)
version.command(
    "freeze",
    help="Freeze ARCHETYPE VERSION: snapshot its method, checked for "
    "completeness, signed and tagged <archetype>/v<version>.",
)(version_write("froze", "gitdocket.ops.versions:freeze"))
version.command("retire", help="Retire ARCHETYPE VERSION: no new packages; existing ones keep working.")(
    reason_required(version_write("retired", "gitdocket.ops.versions:retire"))
)
version.command("abandon", help="Abandon the draft ARCHETYPE VERSION (terminal).")(
    reason_required(version_write("abandoned", "gitdocket.ops.versions:abandon"))
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
            "phase": state.get("phase"),
            "content_hash": (state.get("snapshot") or {}).get("content_hash"),
        }
        for a, v, state in versioned_states(Session(repo).view(rev, at), "version", names)
    ]
    columns = {"archetype": "archetype", "version": "version", "phase": "phase", "content": "content_hash"}
    emit_table(fmt, "versions", rows, columns)


def versioned_states(tree: TreeView, kind: str, names: list[str] | None) -> list[tuple[str, str, dict[str, Any]]]:
    """(archetype, version, recorded state) of every ``kind`` scope (version or package) of
    ``tree``, in archetype then semver order. The state is each scope's ``current.json`` read as
    JSON, as ``show`` prints it: a listing builds no lifecycle and replays no log (whether each
    file is the fold of its signed log is ``gitdocket verify``'s question, ADR 0035)."""
    root = f"registry/{kind}s"
    return [
        (name, number, _listed(tree, scope(kind, name, number).current_path))
        for name in (names if names is not None else tree.listdir(root))
        for number in sorted(tree.listdir(f"{root}/{name}"), key=semver_key)
    ]


def _listed(tree: TreeView, path: str) -> dict[str, Any]:
    """``recorded_state``, whose ``snapshot`` and ``manifest`` (what the listings read a field
    of) are objects when present: a hand-edited file is named, not a crash."""
    state = recorded_state(tree, path)
    for name in ("snapshot", "manifest"):
        if state.get(name) is not None and not isinstance(state[name], dict):
            raise StateError(
                f"{path}: {name} is not a JSON object", "restore the file from git history; see `gitdocket verify`"
            )
    return state


def show_current(kind: str, archetype_name: str, number: str, repo: Path, rev: str | None, fmt: str) -> None:
    target = scope(kind, archetype_name, number)
    data = read_json(Session(repo).snapshot(rev), target.current_path)
    emit(fmt, data, lambda: pretty(data))


@version.command("show")
@click.argument("archetype_name", metavar="ARCHETYPE", shell_complete=archetypes)
@click.argument("number", metavar="VERSION", shell_complete=versions)
@reader
def version_show(archetype_name: str, number: str, repo: Path, rev: str | None, fmt: str) -> None:
    """Show one version's state and frozen snapshot (current.json)."""
    show_current("version", archetype_name, number, repo, rev, fmt)
