"""``gitdocket diff``: what changes in an agent, classified by risk (``agent_diff_v1``).

Three forms: two versions of one archetype (``A@V1 A@V2``), a release bundle against what runs in
an environment (``BUNDLE --env E``), and everything a pull request changes (``--base REF``: each
version it freezes against the version it was compared with at its freeze, each environment that
now runs another release). Text is Markdown (what a pull request's job summary shows); ``--format
json`` prints the ``agent_diff_v1`` document (a list of them with ``--base``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from gitdocket.commands.output import append_summary, emit, reader, summary_option
from gitdocket.errors import InputError
from gitdocket.lifecycles.agent_diff import DiffReport
from gitdocket.ops import diffs
from gitdocket.ops.session import Session
from gitdocket.verify.agents import render_markdown

__all__ = ["diff"]

_USAGE_HINT = (
    "`gitdocket diff A@V1 A@V2`, `gitdocket diff BUNDLE --env ENV`, or `gitdocket diff --base REF` (see --help)"
)


def _reports(session: Session, rev: str | None, sides: tuple[str, ...], env: str | None, base: str | None) -> Any:
    tree = session.snapshot(rev)
    if base is not None:
        if sides or env:
            raise InputError("--base compares a pull request as a whole: pass no VERSION or BUNDLE", _USAGE_HINT)
        return diffs.pull_request(session.snapshot(base), tree)
    if env is not None:
        if len(sides) != 1:
            raise InputError("--env compares one release bundle with what runs there: pass one BUNDLE", _USAGE_HINT)
        return diffs.release(tree, sides[0], env)
    if len(sides) != 2:
        raise InputError("pass two versions of one archetype (A@V1 A@V2), or one BUNDLE with --env", _USAGE_HINT)
    return diffs.versions(tree, sides[0], sides[1])


@click.command("diff")
@click.argument("sides", nargs=-1, metavar="[A@V1 A@V2 | BUNDLE]")
@click.option("--env", "env", metavar="ENV", help="Compare release BUNDLE with the release ENV runs now.")
@click.option(
    "--base",
    metavar="REF",
    help="Pull request mode: every version frozen and every release deployed between REF and the "
    "head (--rev, default: what is checked out).",
)
@summary_option
@reader
def diff(
    sides: tuple[str, ...],
    env: str | None,
    base: str | None,
    summary_file: Path | None,
    repo: Path,
    rev: str | None,
    fmt: str,
) -> None:
    """Show what changes in an agent, each change with its risk (agent_diff_v1).

    Compares instructions (a text diff), skills, tools, tool permissions, network egress, model,
    provider, settings and protection posture; each change is low, medium or high risk
    (docs/diff.md lists the table). Read-only; exits 0 whatever the risk.

    \b
    gitdocket diff support-triage@1.0.0 support-triage@1.1.0
    gitdocket diff BUNDLE --env prod
    gitdocket diff --base origin/main --summary "$GITHUB_STEP_SUMMARY"
    """
    found = _reports(Session(repo), rev, sides, env, base)
    reports: list[DiffReport] = found if isinstance(found, list) else [found]
    markdown = "\n".join(render_markdown(r) for r in reports) if reports else "## gitdocket diff: no agent changes\n"
    append_summary(summary_file, markdown + "\n")
    data = [r.model_dump(mode="json") for r in reports] if base is not None else reports[0].model_dump(mode="json")
    emit(fmt, data, lambda: click.echo(markdown, nl=False))
