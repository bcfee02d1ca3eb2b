"""``gitdocket init``: create a registry — the trust policy with you as root, and the skeleton."""

from __future__ import annotations

from pathlib import Path

import click

from gitdocket.adapters.store import GitStore
from gitdocket.commands.output import done, format_option, keys_option, tell
from gitdocket.errors import InputError, NotFoundError
from gitdocket.ops.registry import initialize
from gitdocket.ops.session import Session

__all__ = ["init"]


@click.command()
@click.argument("path", type=click.Path(file_okay=False, path_type=Path), default=".")
@click.option("--name", help="Registry name (default: the folder's name).")
@click.option(
    "--identity", "principal", required=True, help="Your principal name in the policy, e.g. your e-mail address."
)
@click.option("--bare", is_flag=True, help="Create a bare repository (no worktree).")
@click.option("--branch", default="main", show_default=True, help="Branch gitdocket writes to.")
@keys_option
@format_option
def init(
    path: Path, name: str | None, principal: str, bare: bool, branch: str, keys: tuple[str, ...], fmt: str
) -> None:
    """Create a registry in PATH: the trust policy with you as root, and the skeleton.

    The policy starts with one root key (yours, one --key). For a k-of-n root, add the other
    root holders afterwards: `gitdocket policy add-identity NAME PUBKEY`, `gitdocket policy grant root
    NAME` for each, then `gitdocket policy threshold root K` signed by K root keys (`--key A --key
    B`), since a policy change must satisfy the root threshold before and after it.
    """
    if len(keys) > 1:
        raise InputError(
            "gitdocket init takes one --key: the policy starts with a single root key",
            "init with one key, then add the other root holders with `gitdocket policy "
            "add-identity`, `policy grant root` and `policy threshold root K`",
        )
    path = path.resolve()
    try:
        store = GitStore.open(path, branch)
    except NotFoundError:
        store = GitStore.init(path, bare=bare, branch=branch)
    session = Session(path, keys, branch=branch, _store=store, tell=tell)
    registry_name = name or path.name.removesuffix(".git") or "registry"
    signers = session.signers()
    result, _ = session.write(
        f"docket: init registry {registry_name}",
        lambda tx: initialize(tx, registry_name, principal, signers[0]),
        bootstrap_principal=principal,
    )
    done(
        fmt,
        f"Initialized registry {registry_name!r} in {path} with root {principal}",
        result.commit,
        {"path": str(path), "name": registry_name},
    )
