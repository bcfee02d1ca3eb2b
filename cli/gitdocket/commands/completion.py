"""Shell completion: ``gitdocket completion bash|zsh|fish`` prints the script (click's), and the
``shell_complete`` callbacks that complete archetype names, versions, bundle ids and environment
names from the registry the command would read (``--repo``, ``GITDOCKET_REPO`` or the current
folder, at ``--rev`` when given).

A completion runs on every Tab: the callbacks import what they need only when called, read one
snapshot, and on any failure (no repository, a broken registry, a bad ``--rev``) offer nothing
rather than print a traceback into the user's prompt.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import click
from click.shell_completion import CompletionItem, get_completion_class

if TYPE_CHECKING:
    from gitdocket.core.tree import TreeView

__all__ = ["archetypes", "bundles", "completion", "environments", "versions"]

SHELLS = ("bash", "zsh", "fish")
Complete = Callable[[click.Context, click.Parameter, str], list[CompletionItem]]


def _snapshot(ctx: click.Context) -> TreeView | None:
    """The registry the command being completed would read, or None when there is none."""
    from gitdocket.ops.session import Session

    root = ctx.find_root()
    params = {**root.params, **ctx.params}
    repo = params.get("repo") or os.environ.get("GITDOCKET_REPO") or "."
    rev = params.get("rev")
    return Session(Path(str(repo))).snapshot(str(rev) if rev else None)


def _offer(read: Callable[[click.Context, TreeView], list[str]]) -> Complete:
    """A ``shell_complete`` callback offering ``read``'s names that start with what was typed."""

    def complete(ctx: click.Context, _param: click.Parameter, incomplete: str) -> list[CompletionItem]:
        try:
            tree = _snapshot(ctx)
            names = read(ctx, tree) if tree is not None else []
        except Exception:  # noqa: BLE001 - a Tab must never print a traceback: no suggestions instead
            return []
        return [CompletionItem(name) for name in sorted(set(names)) if name.startswith(incomplete)]

    return complete


def _archetype_names(_ctx: click.Context, tree: TreeView) -> list[str]:
    return tree.listdir("registry/archetypes")


def _version_numbers(ctx: click.Context, tree: TreeView) -> list[str]:
    archetype = ctx.params.get("archetype_name") or ctx.params.get("name")
    if not archetype:
        return []
    return tree.listdir(f"registry/versions/{archetype}")


def _bundle_ids(_ctx: click.Context, tree: TreeView) -> list[str]:
    return [name for name in tree.listdir("bundles") if tree.kind(f"bundles/{name}") == "tree"]


def _environment_names(_ctx: click.Context, tree: TreeView) -> list[str]:
    from gitdocket.ops.documents import registry_config

    return [env.name for env in registry_config(tree).environments]


archetypes = _offer(_archetype_names)
versions = _offer(_version_numbers)
bundles = _offer(_bundle_ids)
environments = _offer(_environment_names)


@click.command()
@click.argument("shell", type=click.Choice(SHELLS))
def completion(shell: str) -> None:
    """Print the completion script for SHELL (bash, zsh or fish); it completes commands,
    options, and archetype names, versions, bundle ids and environment names from the registry.

    \b
    bash:  eval "$(gitdocket completion bash)"        (in ~/.bashrc)
    zsh:   eval "$(gitdocket completion zsh)"         (in ~/.zshrc)
    fish:  gitdocket completion fish > ~/.config/fish/completions/gitdocket.fish
    """
    cls = get_completion_class(shell)
    if cls is None:  # click.Choice admitted it: every shell listed has a class
        raise click.UsageError(f"no completion for {shell}")
    root = click.get_current_context().find_root().command
    click.echo(cls(root, {}, "gitdocket", "_GITDOCKET_COMPLETE").source())
