"""``gitdocket doctor``: list the drift around a registry's signed commits, and with ``--fix``
repair what needs no new authority. Parsing and printing only; the work is in ``ops.doctor``."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import click

from gitdocket.commands.output import emit, format_option, keys_option, repo_option, report_writes, table
from gitdocket.errors import StateError
from gitdocket.ops.doctor import Checkup, Drift, examine, repair
from gitdocket.ops.session import Session

__all__ = ["doctor"]


def _rows(drifts: list[Drift]) -> list[list[str]]:
    return [[d.code, d.subject, d.detail, "yes" if d.fixable else "no"] for d in drifts]


def _print(checkup: Checkup, fixing: bool) -> None:
    for line in checkup.fixed:
        click.echo(f"Fixed: {line}")
    shown = checkup.left if fixing else checkup.found
    if not shown:
        click.echo("No drift: " + ("everything found was repaired" if fixing and checkup.found else "all in line"))
        return
    table("Drift" + (" left after --fix" if fixing else ""), ["code", "subject", "detail", "fixable"], _rows(shown))
    for drift in shown:
        click.echo(f"hint: {drift.code} {drift.subject}: {drift.hint}")


def _next(left: list[Drift], fixing: bool) -> str:
    fixable = sum(d.fixable for d in left)
    if fixable and not fixing:
        return f"run `gitdocket doctor --fix` to repair {fixable} of them; the hints above say what the others need"
    return "the hints above say what each needs"


@click.command()
@click.option(
    "--fix", is_flag=True, help="Repair what needs no new authority (missing tags, stale worktree files, dead locks)."
)
@click.option(
    "--expiry-window",
    "window",
    type=click.IntRange(min=0),
    default=30,
    show_default=True,
    metavar="DAYS",
    help="Report a policy that expires within this many days.",
)
@repo_option
@keys_option
@format_option
def doctor(fix: bool, window: int, repo: Path, keys: tuple[str, ...], fmt: str) -> None:
    """List what is out of line in this clone; --fix repairs what needs no new authority.

    Drift: tags missing after a crash, worktree files left stale by an interrupted write,
    leftover locks (live or dead), a worktree current.json that differs from the commit,
    commits and tags the upstream lacks, a policy expired or close to expiry.

    With --fix: re-create missing tags from the signed events with your key (as `gitdocket tags
    sync` does: on the default branch, with a key the policy lists), restore stale files from the
    checked-out commit, remove dead locks. It never rewrites history, signs no event and pushes
    nothing. Exit status: 0 when nothing is out of line (after --fix: when everything was
    repaired), 1 when drift is left.
    """
    session = Session(repo, keys)
    span = timedelta(days=window)
    found = examine(session, span)
    checkup = repair(session, found, span) if fix and found else Checkup(found, left=found)
    left = checkup.left
    data = {
        "ok": not left,
        "drift": [d.as_dict() for d in found],
        "fixed": checkup.fixed,
        "left": [d.as_dict() for d in left],
    }
    emit(fmt, data, lambda: _print(checkup, fix))
    report_writes(session.command)
    if left:
        raise StateError(
            f"{len(left)} drift item(s) {'left after --fix' if fix else 'found'}",
            _next(left, fix),
        )
