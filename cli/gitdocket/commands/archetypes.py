"""``gitdocket archetype``: create, list and show archetypes; fork one (owner-only), pull a newer
source version into a fork, and print the fork tree."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from gitdocket.adapters.merge import FAVOR, GitMerger
from gitdocket.commands.completion import archetypes
from gitdocket.commands.output import at_option, done, emit, emit_table, reader, write, writer
from gitdocket.core.scopes import check_name
from gitdocket.errors import NotFoundError
from gitdocket.lifecycles import scope
from gitdocket.ops import archetypes as archetype_ops
from gitdocket.ops import forks as fork_ops
from gitdocket.ops.documents import archetype_doc
from gitdocket.ops.logs import load_log
from gitdocket.ops.session import Session

__all__ = ["archetype"]


@click.group()
def archetype() -> None:
    """Create, list and show archetypes."""


@archetype.command("new")
@click.argument("name")
@click.option(
    "--from",
    "source",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder with archetype.yaml and method/ (see examples/archetypes/).",
)
@click.option("--owner", "owners", multiple=True, help="Owner principal (repeat); default: you.")
@click.option(
    "--threshold",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Owner signatures needed for owner actions.",
)
@writer
def archetype_new(
    name: str, source: Path, owners: tuple[str, ...], threshold: int, repo: Path, keys: tuple[str, ...], fmt: str
) -> None:
    """Create archetype NAME from a folder on disk."""
    check_name(name, "archetype name")
    files = archetype_ops.load_source_folder(source, name)
    commit, _ = write(
        repo,
        keys,
        f"docket: new archetype {name}",
        lambda tx: archetype_ops.add_archetype(tx, name, files, owners, threshold),
    )
    done(fmt, f"Created archetype {name}", commit, {"archetype": name})


@archetype.command("owners")
@click.argument("name", shell_complete=archetypes)
@click.option("--add", "add", multiple=True, metavar="PRINCIPAL", help="Make PRINCIPAL an owner (repeat).")
@click.option("--remove", "remove", multiple=True, metavar="PRINCIPAL", help="Remove an owner (repeat).")
@click.option("--threshold", type=click.IntRange(min=1), help="Owner signatures needed from now on.")
@writer
def archetype_owners(
    name: str,
    add: tuple[str, ...],
    remove: tuple[str, ...],
    threshold: int | None,
    repo: Path,
    keys: tuple[str, ...],
    fmt: str,
) -> None:
    """Add or remove owners of archetype NAME, or change their threshold.

    Signed by as many current owners as their threshold asks (`--key A --key B`, in any order).
    An archetype always keeps an owner, and never needs more signatures than it has owners.
    """
    if not (add or remove or threshold):
        raise click.UsageError("pass --add, --remove or --threshold")
    commit, (owners, needed) = write(
        repo,
        keys,
        f"docket: owners of {name}",
        lambda tx: archetype_ops.change_owners(tx, name, add, remove, threshold),
    )
    done(
        fmt,
        f"{name} is owned by {', '.join(owners)} ({needed} signature(s) needed)",
        commit,
        {"archetype": name, "owners": list(owners), "threshold": needed},
    )


def _archetypes(repo: Path, rev: str | None) -> list[dict[str, Any]]:
    tree = Session(repo).snapshot(rev)
    rows = []
    for name in tree.listdir("registry/archetypes"):
        state = load_log(tree, scope("archetype", name)).state
        versions = tree.listdir(f"registry/versions/{name}")
        rows.append(
            {
                "name": name,
                "owners": list(state.owners),
                "versions": versions,
                "forked_from": state.forked_from.model_dump() if state.forked_from else None,
            }
        )
    return rows


@archetype.command("list")
@reader
def archetype_list(repo: Path, rev: str | None, fmt: str) -> None:
    """List archetypes with their owners and versions."""
    emit_table(fmt, "archetypes", _archetypes(repo, rev), {"name": "name", "owners": "owners", "versions": "versions"})


@archetype.command("show")
@click.argument("name", shell_complete=archetypes)
@at_option
@reader
def archetype_show(name: str, repo: Path, rev: str | None, at: datetime | None, fmt: str) -> None:
    """Show one archetype: description, owners, versions (at --at: its owners and versions then;
    the description is the commit's archetype.yaml)."""
    check_name(name, "archetype name")
    tree = Session(repo).view(rev, at)
    state = load_log(tree, scope("archetype", name)).state
    if state.phase != "active":
        raise NotFoundError(f"no archetype {name!r}", "list them with `gitdocket archetype list`")
    doc = archetype_doc(tree, name)
    versions = {
        v: load_log(tree, scope("version", name, v)).state.phase for v in tree.listdir(f"registry/versions/{name}")
    }
    data = {
        "name": name,
        "title": doc.title,
        "description": doc.description,
        "owners": list(state.owners),
        "threshold": state.threshold,
        "protection": doc.protection.model_dump(),
        "versions": versions,
        "forked_from": state.forked_from.model_dump() if state.forked_from else None,
    }

    def text() -> None:
        click.echo(f"{name}: {doc.title}")
        if doc.description:
            click.echo(f"  {doc.description.strip()}")
        click.echo(f"  owners: {', '.join(state.owners)} (threshold {state.threshold})")
        click.echo(f"  protection: {doc.protection.deployment_mode}")
        for v, phase in versions.items():
            click.echo(f"  {v}: {phase}")

    emit(fmt, data, text)


@archetype.command("fork")
@click.argument("source", shell_complete=archetypes)
@click.argument("new")
@click.option("--from-version", metavar="VERSION", help="Fork this frozen version (default: the draft).")
@click.option("--owner", "owners", multiple=True, help="Owner of the fork (repeat); default: you.")
@click.option(
    "--threshold",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Owner signatures the fork needs for owner actions.",
)
@writer
def archetype_fork(
    source: str,
    new: str,
    from_version: str | None,
    owners: tuple[str, ...],
    threshold: int,
    repo: Path,
    keys: tuple[str, ...],
    fmt: str,
) -> None:
    """Fork SOURCE into a new, independent archetype NEW (owners of SOURCE only)."""
    commit, origin = write(
        repo,
        keys,
        f"docket: fork {source} into {new}",
        lambda tx: fork_ops.fork(tx, source, new, from_version, owners, threshold),
    )
    where = f"{source} {origin.version}" if origin.version else f"{source} (draft)"
    done(fmt, f"Forked {where} into {new}", commit, {"archetype": new, "forked_from": origin.model_dump()})


@archetype.command("pull-from-source")
@click.argument("name", shell_complete=archetypes)
@click.option(
    "--favor",
    type=click.Choice(sorted(FAVOR)),
    default="normal",
    show_default=True,
    help="On a conflicting file: report it (normal), or keep ours / take theirs.",
)
@writer
def archetype_pull(name: str, favor: str, repo: Path, keys: tuple[str, ...], fmt: str) -> None:
    """Three-way merge the source's newest frozen version into fork NAME's draft: clean, or a
    conflict report with the fork left untouched."""
    session = Session(repo, keys)
    merger = GitMerger(session.store.repo, favor)
    result, pulled = session.write(
        f"docket: pull {name} from its source", lambda tx: fork_ops.pull_from_source(tx, name, merger)
    )
    if not pulled.merged:
        emit(
            fmt,
            {"ok": True, "merged": False, "source": pulled.source, "version": pulled.version},
            lambda: click.echo(f"{name} is up to date with {pulled.source} {pulled.version or '(draft)'}"),
        )
        return
    done(
        fmt,
        f"Merged {pulled.source} {pulled.version} into {name}'s draft",
        result.commit,
        {"merged": True, "source": pulled.source, "version": pulled.version},
    )


def _label(node: dict[str, Any]) -> str:
    origin = node["forked_from"]
    if origin is None:
        return str(node["name"])
    return f"{node['name']} (fork of {origin['archetype']} {origin['version'] or 'draft'})"


def _tree_lines(nodes: list[dict[str, Any]], prefix: str = "") -> Iterator[str]:
    for index, node in enumerate(nodes):
        last = index == len(nodes) - 1
        yield prefix + ("└── " if last else "├── ") + _label(node)
        yield from _tree_lines(node["children"], prefix + ("    " if last else "│   "))


def _print_forest(forest: list[dict[str, Any]]) -> None:
    for root in forest:
        click.echo(_label(root))
        for line in _tree_lines(root["children"]):
            click.echo(line)


@archetype.command("tree")
@reader
def archetype_tree(repo: Path, rev: str | None, fmt: str) -> None:
    """Print the fork forest: every archetype under the one it was forked from."""
    forest = fork_ops.fork_forest(Session(repo).snapshot(rev))
    emit(fmt, forest, lambda: _print_forest(forest))
