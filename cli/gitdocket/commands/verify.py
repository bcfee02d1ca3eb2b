"""``gitdocket verify``: print every finding (text or JSON) and exit 1 when there is any.

The JSON report is ``{ok, mode, commit, findings: [{code, path, scope, invariant, message,
hint}]}`` with ``mode`` one of ``snapshot``, ``pr``, ``history`` and ``commit`` the verified head
(``--report FILE`` writes it as well as the text); ``--summary FILE`` appends it as Markdown (a
GitHub job summary).

Time is judged by the verifier (ADR 0014): the system clock, or ``--at`` to audit the past;
``GITDOCKET_NOW``, which only dates writes, is never read here.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from gitdocket.adapters.files import load_yaml, write_file
from gitdocket.adapters.forking import forked
from gitdocket.adapters.keyless import keyless_check
from gitdocket.adapters.store import GitRefs, GitStore, GitTree, bound_git_memory
from gitdocket.commands.output import append_summary, common, note, past_time, summary_option
from gitdocket.core.fields import format_time
from gitdocket.errors import DocketError
from gitdocket.ops.documents import registry_config
from gitdocket.ops.session import Session, system_now
from gitdocket.verify import Finding, verify_snapshot
from gitdocket.verify.findings import report_order
from gitdocket.verify.pr import not_descendant, verify_history, verify_pr
from gitdocket.verify.report import VerifyReport
from gitdocket.verify.tags import split_missing

__all__ = ["verify"]


@click.command()
@click.option(
    "--base",
    metavar="REF",
    help="PR mode: also check every change from REF (e.g. origin/main) to the head. When REF is on the "
    "registry's default branch (and without --at), it is taken as verified and only what the change "
    "touched is judged; otherwise the whole head is. Snapshot mode is the full audit.",
)
@click.option(
    "--head",
    "--rev",
    "head",
    metavar="REF",
    help="The commit to verify (default: what is checked out, HEAD, even when detached).",
)
@click.option(
    "--since",
    metavar="COMMIT",
    help="History mode: PR mode for each first-parent step since COMMIT (the last one verified, taken "
    "as verified: only what the steps touched is judged).",
)
@click.option(
    "--require-tags",
    is_flag=True,
    help="Fail (TAG_MISSING) on every frozen version or published package without its tag; "
    "without it a missing tag is a note on standard error.",
)
@click.option(
    "--report",
    "report_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the JSON report (verify_report_v1) to this file, e.g. evidence/verify_report.json.",
)
@summary_option
@click.option(
    "--at",
    "at",
    metavar="TIME",
    help="Judge time as of TIME (RFC 3339, not in the future) instead of the system clock: audit "
    "the past, e.g. a commit verified while its policy was in force. GITDOCKET_NOW is never read.",
)
@common
def verify(
    base: str | None,
    head: str | None,
    since: str | None,
    report_file: Path | None,
    summary_file: Path | None,
    require_tags: bool,
    at: str | None,
    repo: Path,
    fmt: str,
) -> None:
    """Prove every record is a legal, signed transition (snapshot, PR or history mode).

    Snapshot mode (default) checks every document, log, signature, current.json, frozen
    snapshot, reference and tag of the head (tags the head does not reach are not judged), the
    signed configuration, and time: the policy must be unexpired at the verifier's clock and no
    event dated after it. Exit status: 0 when there is no finding, 1 when there is any, 2 on
    usage errors.
    """
    if base and since:
        raise click.UsageError("use --base or --since, not both")
    now = _clock(at)
    session = Session(repo)
    store = session.store
    refs = GitRefs(store.repo)
    head_tree = session.snapshot(head)
    if since:
        findings, mode, label = (
            _history(store, since, head_tree, refs, now, diff=at is None and _verified(store, session.snapshot(since))),
            "history",
            f"history since {since}",
        )
    elif base:
        base_tree = session.snapshot(base)
        descends = _descends(store, head_tree.commit, base_tree.commit)
        # The diff needs a base verified at a clock no later than this one: auditing the past
        # (--at) judges the whole registry. And a verified base: one on the default branch.
        findings = verify_pr(
            base_tree,
            head_tree,
            refs,
            descends,
            runner=forked,
            parse_yaml=load_yaml,
            clock=now,
            keyless=keyless_check,
            diff=at is None and _verified(store, base_tree),
        )
        mode, label = "pr", f"PR {base}..{head or 'HEAD'}"
    else:
        bound_git_memory()  # a snapshot reads every log of the registry (ADR 0036)
        findings, mode, label = (
            verify_snapshot(head_tree, refs, forked, parse_yaml=load_yaml, clock=now, keyless=keyless_check),
            "snapshot",
            "snapshot",
        )
    findings, notes = split_missing(findings, require_tags)
    _note_missing(notes)
    if at:
        label += f", as of {now}"
    report = VerifyReport.of(findings, mode, head_tree.commit)
    if report_file is not None:
        write_file(report_file, _json(report).encode(), "--report names a regular file (or a new one)")
    append_summary(summary_file, markdown(report, label))
    _report(findings, report, label, fmt)


def _clock(at: str | None) -> str:
    """The verifier's clock: the system's, or ``--at`` (never later than the system's)."""
    return format_time(system_now() if at is None else past_time(at))


def _note_missing(notes: list[Finding]) -> None:
    """Missing tags are drift, not a failure: two lines on standard error, naming the commands."""
    if not notes:
        return
    names = [n.path.removeprefix("refs/tags/") for n in notes]
    shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
    note(f"{len(names)} record(s) have no tag here (TAG_MISSING): {shown}")
    for hint in dict.fromkeys(n.hint for n in notes):  # one line per distinct next step
        note(hint)
    note("`gitdocket verify --require-tags` fails until then")


def _verified(store: GitStore, base: GitTree) -> bool:
    """Whether ``base`` may be taken as verified, so that only the change is judged (ADR 0034):
    it is on the registry's default branch, where every commit passed this check when it merged.
    Any other base (a forged pull-request payload naming the change's own head, a commit of the
    pull request's branch) has the whole head judged."""
    try:
        branch = registry_config(base).default_branch
    except DocketError:
        return False
    return branch is not None and base.commit is not None and store.on_branch(branch, base.commit)


def _descends(store: GitStore, head: str | None, base: str | None) -> bool:
    if not head or not base or head == base:
        return True
    return bool(store.repo.descendant_of(head, base))


def _history(store: GitStore, since: str, head: GitTree, refs: GitRefs, now: str, *, diff: bool) -> list[Finding]:
    """Walk the first parents from ``head`` back to ``since``; PR-check each step (``diff``: as
    ``verify_pr``'s)."""
    start = store.resolve(since)
    chain: list[GitTree] = []
    commit = store.resolve(head.commit) if head.commit else None
    while commit is not None and commit.id != start.id:
        chain.append(GitTree(store.repo, commit))
        commit = commit.parents[0] if commit.parents else None
    if commit is None:
        findings = verify_snapshot(head, refs, forked, parse_yaml=load_yaml, clock=now, keyless=keyless_check)
        return report_order([*findings, not_descendant(head.commit or "", str(start.id))])
    chain.append(GitTree(store.repo, start))
    return verify_history(
        chain[::-1], head, refs, runner=forked, parse_yaml=load_yaml, clock=now, keyless=keyless_check, diff=diff
    )


def _json(report: VerifyReport) -> str:
    return json.dumps(report.model_dump(mode="json"), indent=2, sort_keys=True) + "\n"


def _cell(text: str) -> str:
    """Text safe inside a Markdown table cell."""
    escaped = text.replace("\\", "\\\\").replace("|", "\\|").replace("`", "'")
    return escaped.replace("<", "&lt;").replace(">", "&gt;").replace("\n", " ")


def markdown(report: VerifyReport, label: str) -> str:
    """The report as a GitHub job summary: the verdict, then one table row per finding."""
    where = (report.commit or "empty")[:12]
    if report.ok:
        verdict = "every record is a legal, signed transition"
        return f"## gitdocket verify: OK\n\n{_cell(label)} at `{where}`: {verdict}.\n\n"
    lines = [
        f"## gitdocket verify: {len(report.findings)} finding(s)",
        "",
        f"{_cell(label)} at `{where}`.",
        "",
        "| code | path | what happened | rule | what to do |",
        "|---|---|---|---|---|",
    ]
    lines += [
        f"| {f.code} | {_cell(f.path)} | {_cell(f.message)} | {f.invariant} | {_cell(f.hint)} |"
        for f in report.findings
    ]
    return "\n".join(lines) + "\n\n"


def _report(findings: list[Finding], report: VerifyReport, label: str, fmt: str) -> None:
    if fmt == "json":
        click.echo(_json(report), nl=False)
    else:
        for finding in findings:
            click.echo(finding.line())
            if finding.hint:
                click.echo(f"    hint: {finding.hint}")
        where = (report.commit or "empty")[:12]
        click.echo(f"verify ({label}) at {where}: " + (f"{len(findings)} finding(s)" if findings else "OK"))
    if findings:
        raise SystemExit(1)
