"""``gitdocket tags sync``: create, sign and push the tags the records on the registry's default
branch are missing (after a pull request lands: merge, squash or rebase). Parsing and printing
only; the work is in ``ops.tags``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from gitdocket.commands.output import emit, format_option, keys_option, note, repo_option, report_writes
from gitdocket.errors import StateError
from gitdocket.ops.session import Session
from gitdocket.ops.tags import Synced, TagAction, sync_tags

__all__ = ["tags"]


@click.group()
def tags() -> None:
    """The signed tags of frozen versions and published packages: derived anchors, re-created
    from the signed records whenever they are missing."""


def _left(action: TagAction, branch: str) -> str:
    name, where = action.spec.name, (action.existing or "")[:12]
    if action.action == "orphan":
        return (
            f"left {name} at {where}, which {branch} does not reach (the same record, left behind by a squash "
            "or rebase merge): rerun with --replace-orphans to re-create it on this branch"
        )
    return (
        f"left {name} at {where}, which {branch} does not reach and which records something else (a closed "
        f"pull request's?): look at it (`git show {name}`), delete it (`git tag -d {name}`, and on the remote "
        f"`git push origin :refs/tags/{name}`), then sync again"
    )


def _as_dict(synced: Synced) -> dict[str, Any]:
    return {
        "ok": not synced.left,
        "branch": synced.branch,
        "created": [a.spec.name for a in synced.written if a.action == "create"],
        "replaced": [a.spec.name for a in synced.written if a.action == "replace"],
        "left": [{"tag": a.spec.name, "reason": a.action, "points_at": a.existing} for a in synced.left],
        "pushed": {"remote": p.remote, "command": p.command, "refs": list(p.refs)}
        if (p := synced.pushed) is not None
        else None,
    }


def _print(synced: Synced) -> None:
    for action in synced.written:
        verb = "Created" if action.action == "create" else f"Replaced the orphan at {(action.existing or '')[:12]}:"
        click.echo(f"{verb} {action.spec.name} at {action.commit[:12]}")
    if synced.pushed is not None:
        click.echo(f"Pushed {len(synced.pushed.refs)} tag(s) to {synced.pushed.remote}: {synced.pushed.command}")
    if not synced.actions:
        click.echo(f"Every record on {synced.branch} has its tag")


@tags.command("sync")
@click.option(
    "--push",
    is_flag=True,
    help="Then push every gitdocket tag of this branch that the remote lacks (one atomic `git push` "
    "with leases; the remote is the branch's, else origin).",
)
@click.option(
    "--replace-orphans",
    is_flag=True,
    help="Re-create a tag whose name is taken by a tag on a commit this branch does not reach, "
    "when that commit recorded the very same event (what a squash or rebase merge leaves).",
)
@repo_option
@keys_option
@format_option
def tags_sync(push: bool, replace_orphans: bool, repo: Path, keys: tuple[str, ...], fmt: str) -> None:
    """Create the missing tags of this branch's records, signed with your key (it must be in the
    policy), each on the commit of the first-parent history that recorded its event.

    Run it on the registry's default branch after a pull request lands (the installed tag-sync
    workflow does, on every push). It never moves a tag the branch reaches. Exit status: 0 when
    it wrote or pushed something or nothing was missing; 1 when tags are still missing and it
    could write none of them.
    """
    session = Session(repo, keys)
    try:
        synced = sync_tags(session, replace_orphans, push)
    finally:  # what it repaired first (a killed write's lock files), even when it then fails
        report_writes(session.command)
    if synced.left and not synced.written and synced.pushed is None:
        first = synced.left[0]
        raise StateError(
            f"{len(synced.left)} record(s) still lack their tag on {synced.branch}, none was created: "
            f"{', '.join(a.spec.name for a in synced.left)}",
            _left(first, synced.branch),
        )
    emit(fmt, _as_dict(synced), lambda: _print(synced))
    for action in synced.left:
        note(_left(action, synced.branch))
