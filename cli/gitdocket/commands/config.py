"""``gitdocket config``: show the signed configuration, sign what ``registry.yaml`` says, approve
the content of protected files."""

from __future__ import annotations

from pathlib import Path

import click

from gitdocket.commands.output import done, emit, reader, table, write, writer
from gitdocket.commands.plans import dry_run_option
from gitdocket.ops import config as config_ops
from gitdocket.ops.session import Session

__all__ = ["config"]


@click.group()
def config() -> None:
    """The registry's signed configuration (registry.yaml is its readable face).

    Environments, sources, gates, bundle rules, retention, the secret allow-list and protected
    paths decide what gitdocket accepts, so they change only by a signed event: edit
    registry/registry.yaml in a pull request, commit it, and `gitdocket config apply` signs it
    (root, unless the policy grants the config role). Files under a protected path (contracts/
    always, and what registry.yaml's `protected` lists, e.g. .github/workflows/) change only
    with an approval signed by the path's role: `gitdocket config approve`. `gitdocket verify`
    reports every unsigned difference.
    """


@config.command("show")
@reader
def config_show(repo: Path, rev: str | None, fmt: str) -> None:
    """Show the signed configuration, whether registry.yaml says the same, and which protected
    files wait for an approval."""
    found = config_ops.status(Session(repo).snapshot(rev))
    state = found.state
    data = {
        "version": state.version,
        "registry": state.registry.model_dump(mode="json") if state.registry else None,
        "approved": state.approved,
        "drift": found.drift,
        "unapproved": found.pending,
    }

    def text() -> None:
        click.echo(f"signed configuration v{state.version}")
        click.echo(
            "registry/registry.yaml: "
            + ("as signed" if found.drift is None else f"differs at {found.drift} (sign it: `gitdocket config apply`)")
        )
        rows = [(p, d or "(deleted)", "waiting for approval") for p, d in found.pending.items()]
        rows += [(p, d, "approved") for p, d in state.approved.items() if p not in found.pending]
        table("protected files", ["path", "sha256", "status"], sorted(rows))

    emit(fmt, data, text)


@config.command("apply")
@dry_run_option
@writer
def config_apply(repo: Path, keys: tuple[str, ...], fmt: str) -> None:
    """Sign what the committed registry/registry.yaml says (root, or the config role).

    Commit the edit first: the signed state is what writers read and what `gitdocket verify`
    compares the file with. Files under paths the new document protects for the first time are
    approved as they are, in the same commit.
    """
    commit, state = write(repo, keys, "docket: sign the registry configuration", config_ops.apply)
    done(fmt, f"Signed registry/registry.yaml as configuration v{state.version}", commit, {"version": state.version})


@config.command("approve")
@click.argument("paths", nargs=-1, metavar="[PATH]...")
@dry_run_option
@writer
def config_approve(paths: tuple[str, ...], repo: Path, keys: tuple[str, ...], fmt: str) -> None:
    """Approve the committed content of changed protected files (all of them, or those under
    PATH), signed by the role that protects each: a cryptographic CODEOWNERS."""
    commit, approved = write(
        repo, keys, "docket: approve protected files", lambda tx: config_ops.approve(tx, tuple(paths))
    )
    listed = ", ".join(approved)
    done(fmt, f"Approved {len(approved)} protected file(s): {listed}", commit, {"approved": approved})
