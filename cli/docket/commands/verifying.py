"""``docket verify``: print every finding (text or JSON) and exit 1 when there is any."""

from __future__ import annotations

from pathlib import Path

import click

from docket.commands.output import common
from docket.session import Session
from docket.store import GitRefs
from docket.verify import Finding, verify_snapshot
from docket.verify.pr import verify_history, verify_pr

__all__ = ["verify"]


@click.command()
@click.option("--base", metavar="REF", help="PR mode: also check every change since REF.")
@click.option("--head", metavar="REF", help="PR mode: the head to check (default: the branch tip).")
@click.option("--since", metavar="COMMIT", help="History mode: PR mode for each first-parent step since COMMIT.")
@common
def verify(base: str | None, head: str | None, since: str | None, repo: Path, fmt: str) -> None:
    """Prove every record is a legal, signed transition (snapshot, PR or history mode)."""
    if base and since:
        raise click.UsageError("use --base or --since, not both")
    session = Session(repo)
    store = session.store
    refs = GitRefs(store.repo)
    head_tree = session.snapshot(head)
    if since:
        findings, mode = verify_history(store, since, head_tree, refs), f"history since {since}"
    elif base:
        findings, mode = verify_pr(session.snapshot(base), head_tree, refs, store), f"PR {base}..{head or 'HEAD'}"
    else:
        findings, mode = verify_snapshot(head_tree, refs), "snapshot"
    _report(findings, mode, head_tree.commit, fmt)


def _report(findings: list[Finding], mode: str, commit: str | None, fmt: str) -> None:
    import json

    if fmt == "json":
        click.echo(json.dumps({"ok": not findings, "mode": mode, "commit": commit,
                               "findings": [f.as_dict() for f in findings]}, indent=2, sort_keys=True))
    else:
        for finding in findings:
            click.echo(finding.line())
            if finding.hint:
                click.echo(f"    hint: {finding.hint}")
        where = (commit or "empty")[:12]
        click.echo(f"verify ({mode}) at {where}: " + (f"{len(findings)} finding(s)" if findings else "OK"))
    if findings:
        raise SystemExit(1)
