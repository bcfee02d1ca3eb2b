"""``gitdocket init``: create a registry — the trust policy with you as root, and the skeleton.

All or nothing: a new repository is removed again when anything fails (a missing key, the
template, the write), and an existing one is only ever changed by the one signed commit.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import click

from gitdocket.adapters.store import GitStore, created_repository, git_default_branch
from gitdocket.commands.output import done, format_option, keys_option
from gitdocket.errors import InputError
from gitdocket.ops.registry import initialize
from gitdocket.ops.session import Session

__all__ = ["init"]


NEW_BRANCH = "main"
"""The branch of a new repository when neither --branch nor git's ``init.defaultBranch`` names one."""


@contextlib.contextmanager
def _repository(path: Path, bare: bool, branch: str | None) -> Iterator[GitStore]:
    """The repository rooted at ``path`` (on ``branch``, else the one checked out), or a new one
    (removed again when the block fails)."""
    existing = GitStore.at(path, branch)
    if existing is not None:
        yield existing
        return
    with created_repository(path, bare, branch or git_default_branch() or NEW_BRANCH) as store:
        yield store


@click.command()
@click.argument("path", type=click.Path(file_okay=False, path_type=Path), default=".")
@click.option("--name", help="Registry name (default: the folder's name).")
@click.option(
    "--identity", "principal", required=True, help="Your principal name in the policy, e.g. your e-mail address."
)
@click.option("--bare", is_flag=True, help="Create a bare repository (no worktree).")
@click.option(
    "--branch",
    help="The registry's default branch, recorded in registry.yaml: where its history lives and "
    "where writes create tags. Default: the branch checked out in an existing repository; for a "
    f"new one git's init.defaultBranch, else {NEW_BRANCH}.",
)
@keys_option
@format_option
def init(
    path: Path, name: str | None, principal: str, bare: bool, branch: str | None, keys: tuple[str, ...], fmt: str
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
    registry_name = name or path.name.removesuffix(".git") or "registry"
    with _repository(path, bare, branch) as store:
        default_branch = store.refname.removeprefix("refs/heads/")  # a detached HEAD is refused here
        session = Session(path, keys, branch=default_branch, _store=store)
        signers = session.signers()
        result, _ = session.write(
            f"docket: init registry {registry_name}",
            lambda tx: initialize(tx, registry_name, principal, signers[0], default_branch),
            bootstrap_principal=principal,
        )
    done(
        fmt,
        f"Initialized registry {registry_name!r} in {path} with root {principal} (default branch {default_branch})",
        result.commit,
        {"path": str(path), "name": registry_name, "default_branch": default_branch},
    )
