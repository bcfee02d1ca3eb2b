"""Printing: JSON for scripts (``--format json``), plain lines or rich tables for people. Rich
and colour only when standard output is a terminal.

Everything gitdocket prints passes through ``safe_streams``: what a person wrote (a reason, a
note, a name in a file) is printed with controls, bidi overrides and zero-width characters
escaped (``core.limits.printable``), so it can neither move the cursor nor reorder the line a
reader sees. JSON stays valid: such a character only occurs inside a string, where ``\u202e``
is its escape."""

from __future__ import annotations

import functools
import io
import json
import os
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

import click

from gitdocket.core.fields import format_time, parse_time
from gitdocket.core.limits import printable
from gitdocket.core.progress import reporting
from gitdocket.errors import InputError

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress, TaskID

    from gitdocket.ops.session import CommandWrites
    from gitdocket.ops.transaction import Transaction

__all__ = [
    "QUIET",
    "address_argument",
    "append_summary",
    "at_option",
    "command_streams",
    "common",
    "console",
    "done",
    "dry_running",
    "emit",
    "emit_table",
    "format_option",
    "keys_option",
    "no_color",
    "note",
    "past_time",
    "pretty",
    "push_option",
    "reader",
    "reason_option",
    "reason_required",
    "render_table",
    "repo_option",
    "report_writes",
    "rev_option",
    "safe_streams",
    "summary_option",
    "table",
    "write",
    "writer",
]


def repo_option(func: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--repo",
        type=click.Path(file_okay=False, path_type=Path),
        envvar="GITDOCKET_REPO",
        default=".",
        show_default="the repository around the current directory; env GITDOCKET_REPO",
        help="The registry repository (bare or with a worktree).",
    )(func)


def keys_option(func: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--key",
        "keys",
        multiple=True,
        metavar="PATH|PUBKEY",
        help="Signing key: an ed25519 private key file, or a .pub file / public key line held by "
        "ssh-agent. Repeat to add threshold signatures. Default: GITDOCKET_SIGNING_KEY, then "
        "git's user.signingkey.",
    )(func)


def format_option(func: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True, help="Output format."
    )(func)


def common(func: Callable[..., Any]) -> Callable[..., Any]:
    return repo_option(format_option(func))


def emit(fmt: str, data: Any, text: Callable[[], None]) -> None:
    if fmt == "json":
        pretty(data)
    else:
        text()


def emit_table(fmt: str, title: str, rows: Sequence[Mapping[str, Any]], columns: Mapping[str, str]) -> None:
    """``rows`` as JSON, or as a ``table`` with one column per ``{header: key}`` of ``columns``
    (a list shows comma-separated)."""
    emit(fmt, rows, lambda: table(title, list(columns), [[_cell(r[key]) for key in columns.values()] for r in rows]))


def _cell(value: Any) -> Any:
    return ", ".join(str(v) for v in value) if isinstance(value, list | tuple) else value


class SafeStream(io.TextIOBase):
    """A text stream that escapes, on the way out, what a terminal would obey instead of show."""

    def __init__(self, raw: TextIO) -> None:
        super().__init__()
        self.raw = raw

    def write(self, text: str) -> int:
        self.raw.write(printable(text))
        return len(text)

    def flush(self) -> None:
        self.raw.flush()

    def isatty(self) -> bool:
        return self.raw.isatty()

    @property
    def buffer(self) -> Any:
        """The raw binary stream, for the one writer of bytes: click's shell completion, whose
        candidates are registry names (``core.limits`` keeps them printable)."""
        return getattr(self.raw, "buffer", None)


@contextmanager
def safe_streams() -> Iterator[None]:
    """Standard output and error through ``SafeStream`` while a command runs."""
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = SafeStream(saved[0]), SafeStream(saved[1])
    try:
        yield
    finally:
        sys.stdout, sys.stderr = saved


QUIET: ContextVar[bool] = ContextVar("QUIET", default=False)
"""``gitdocket -q``: print nothing but errors and warnings (the exit status says the rest)."""

MIN_BAR = 64
"""Work of fewer steps than this gets no bar: it is over before a bar would help."""


class _Discard(io.TextIOBase):
    """Standard output under ``--quiet``."""

    def write(self, text: str) -> int:
        return len(text)

    def isatty(self) -> bool:
        return False


def no_color() -> bool:
    """``NO_COLOR`` set to anything but empty (no-color.org): no colour and no styling at all."""
    return bool(os.environ.get("NO_COLOR"))


def console(file: TextIO, width: int | None = None) -> Console:
    """A rich console on ``file`` that honours ``NO_COLOR`` fully (no escape sequence for colour
    or style); imported lazily, so commands that print no table start fast."""
    from rich.console import Console

    if no_color():
        return Console(file=file, width=width, color_system=None, no_color=True, highlight=False, emoji=False)
    return Console(file=file, width=width, highlight=False, emoji=False)


class _Bars:
    """A progress reporter (``core.progress``) drawing rich bars on standard error, started on the
    first step worth a bar and removed when the command ends."""

    def __init__(self) -> None:
        self._progress: Progress | None = None
        self._tasks: dict[str, TaskID] = {}

    def __call__(self, label: str, done: int, total: int) -> None:
        if label not in self._tasks:
            if 0 < total < MIN_BAR or (total == 0 and done < MIN_BAR):
                return
            self._tasks[label] = self._start().add_task(label, total=total or None)
        assert self._progress is not None  # started with the first task
        self._progress.update(self._tasks[label], completed=done, total=total or None)

    def _start(self) -> Progress:
        if self._progress is None:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self._progress = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=console(_raw(sys.stderr)),
                transient=True,
                redirect_stdout=False,  # the command's output stays on its own stream
                redirect_stderr=False,
            )
            self._progress.start()
        return self._progress

    def stop(self) -> None:
        if self._progress is not None:
            self._progress.stop()


@contextmanager
def command_streams(quiet: bool) -> Iterator[None]:
    """What one command prints to, for its whole run: nothing on standard output under
    ``--quiet``; progress bars on standard error only when it is a terminal and not quiet."""
    token = QUIET.set(quiet)
    saved = sys.stdout
    if quiet:
        sys.stdout = _Discard()
    bars = _Bars() if not quiet and sys.stderr.isatty() else None
    try:
        if bars is None:
            yield
        else:
            with reporting(bars):
                yield
    finally:
        if bars is not None:
            bars.stop()
        sys.stdout = saved
        QUIET.reset(token)


def note(text: str, kind: str = "note") -> None:
    """``note: …`` (or ``warning: …``) on standard error; a note not under ``--quiet``."""
    if kind == "note" and QUIET.get():
        return
    click.echo(f"{kind}: {text}", err=True)


def _raw(stream: TextIO) -> TextIO:
    return stream.raw if isinstance(stream, SafeStream) else stream


def table(title: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """A rich table on a terminal; tab-separated lines otherwise (stable for scripts and tests).
    Rich writes colour codes, so it gets the raw stream; every cell is escaped first and given
    as plain text (never markup)."""
    if sys.stdout.isatty():
        render_table(console(_raw(sys.stdout)), title, columns, rows)
        return
    click.echo("\t".join(columns))
    for row in rows:
        click.echo("\t".join("" if v is None else str(v) for v in row))


def render_table(out: Console, title: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Print a rich table on ``out`` that never cuts a value people paste (gto#489 showed
    ``v0.0.100`` as ``v0.0.10``): a column whose every value is one word (an id, a version, a
    hash, a name) is never wrapped, folded or shortened; columns of text wrap instead; and when
    even that does not fit, the table is drawn wider than the terminal, which then wraps lines
    without losing a character."""
    from rich.measure import Measurement
    from rich.table import Table
    from rich.text import Text

    cells = [["" if v is None else printable(str(v)) for v in row] for row in rows]
    t = Table(title=Text(printable(title)))
    for index, column in enumerate(columns):
        values = [row[index] for row in cells]
        if all(len(v.split()) <= 1 for v in values):
            t.add_column(Text(printable(column)), no_wrap=True, min_width=max(map(len, [column, *values])))
        else:
            t.add_column(Text(printable(column)), overflow="fold", min_width=min(8, len(column)))
    for row in cells:
        t.add_row(*(Text(v) for v in row))
    needed = Measurement.get(out, out.options.update_width(1 << 16), t).minimum
    width = out.width
    out.width = max(width, needed)
    try:
        out.print(t)
    finally:
        out.width = width


def write(repo: Path, keys: tuple[str, ...], message: str, op: Callable[[Transaction], Any]) -> tuple[str, Any]:
    """Run ``op`` in one signed commit; returns the commit id and ``op``'s result."""
    from gitdocket.ops.session import Session  # the write path: imported by writes only

    result, value = Session(repo, keys).write(message, op)
    return result.commit, value


def done(fmt: str, text: str, commit: str, extra: dict[str, Any] | None = None, notes: Sequence[str] = ()) -> None:
    """Report a write: ``{"ok", "commit", ...}`` as JSON, or one line naming the commit. A write
    that only completed an earlier one (``notes``) says that instead of ``text``."""
    line = "; ".join(notes) if notes else f"{text} (commit {commit[:12]})"
    data = {"ok": True, "commit": commit, **(extra or {}), **({"notes": list(notes)} if notes else {})}
    emit(fmt, data, lambda: click.echo(line))


def pretty(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False))


def push_option(func: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--push",
        is_flag=True,
        help="Publish the write: plan it on the remote's tip, push the commit and its tags in one "
        "atomic `git push` with a lease, plan again when another writer pushed first; the local "
        "branch moves only once the remote took it. The remote is the branch's, else origin.",
    )(func)


def writer(func: Callable[..., Any]) -> Callable[..., Any]:
    """The options of a command that writes: --repo, --key, --push, --format. What its writes
    report besides the commit — what was pushed (with the `git push` line), tags left for later,
    what they repaired of an interrupted write, and warnings (what a write that landed could not
    finish) — goes to standard error after it, even when it fails half-way through."""

    @functools.wraps(func)
    def command(*args: Any, push: bool, dry_run: bool = False, **kwargs: Any) -> Any:
        # The write path is imported by writes only (reads start faster without it).
        from gitdocket.commands.plans import show_plan
        from gitdocket.ops.plans import PlanReady
        from gitdocket.ops.session import COMMAND_WRITES, CommandWrites

        if dry_run and push:
            raise click.UsageError("--dry-run writes nothing, so there is nothing to push: drop --push")
        writes = CommandWrites(push=push, dry_run=dry_run)
        token = COMMAND_WRITES.set(writes)
        try:
            return func(*args, **kwargs)
        except PlanReady as ready:  # a dry run: print the plan, exit as the write would have
            show_plan(kwargs.get("fmt", "text"), ready.plan)
            if ready.plan.refusal is not None:
                raise ready.plan.refusal from None
            return None
        finally:
            COMMAND_WRITES.reset(token)
            report_writes(writes)

    return repo_option(keys_option(push_option(format_option(command))))


def report_writes(writes: CommandWrites) -> None:
    """What a command's writes report besides the commit, on standard error: what was pushed
    (with the `git push` line), notes (tags left for later, what they repaired of an interrupted
    write) and warnings (what a write that landed could not finish)."""
    for published in writes.pushed:
        click.echo(published.line(), err=True)
    for text in writes.notes:
        note(text)
    for warning in writes.warnings:
        note(warning, "warning")


def dry_running() -> bool:
    """Whether the command runs with ``--dry-run`` (it must then write no file of its own)."""
    from gitdocket.ops.session import COMMAND_WRITES

    writes = COMMAND_WRITES.get()
    return writes is not None and writes.dry_run


def rev_option(func: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--rev",
        metavar="COMMIT|TAG",
        help="Read the registry as of this commit, tag or branch (default: what is checked out, "
        "HEAD, even when detached).",
    )(func)


def past_time(text: str, option: str = "--at") -> datetime:
    """``text`` as an RFC 3339 time with a zone, not after the system clock (usage error, exit 2)."""
    from gitdocket.ops.session import system_now  # the clock: read by the commands that ask

    try:
        when = parse_time(text)
    except ValueError as exc:
        raise click.BadParameter(f"{text!r} is not an RFC 3339 time with a zone", param_hint=option) from exc
    if when > system_now():
        raise click.BadParameter(f"{format_time(when)} is in the future; {option} audits the past", param_hint=option)
    return when


def at_value(_ctx: click.Context, _param: click.Parameter, value: str | None) -> datetime | None:
    """The callback of an ``--at TIME`` option: a time in the past, or None."""
    return None if value is None else past_time(value)


def at_option(func: Callable[..., Any]) -> Callable[..., Any]:
    """``--at TIME``: answer from the signed logs as they stood at TIME (``verify.asof``)."""
    return click.option(
        "--at",
        "at",
        metavar="TIME",
        callback=at_value,
        help="Answer as things stood at TIME (RFC 3339 with a zone, e.g. 2026-03-01T12:00:00Z), from "
        "the signed logs: each scope's events up to TIME, folded. Combines with --rev (the logs of "
        "that commit). Files outside the logs (archetype.yaml, methods) are read as the commit has them.",
    )(func)


def reader(func: Callable[..., Any]) -> Callable[..., Any]:
    """The options of a command that only reads: --repo, --rev, --format."""
    return repo_option(rev_option(format_option(func)))


summary_option = click.option(
    "--summary",
    "summary_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help='Append a Markdown summary to this file (in GitHub Actions: --summary "$GITHUB_STEP_SUMMARY").',
)
"""``--summary FILE``: where a command appends its Markdown for a GitHub job summary."""


def append_summary(path: Path | None, markdown: str) -> None:
    """Append ``markdown`` to ``--summary``'s file, when one was given (a job summary grows step by
    step); a folder that is not there or a file that cannot be written is bad input, said in one
    line."""
    if path is None:
        return
    try:
        with path.open("a", encoding="utf-8") as out:
            out.write(markdown)
    except OSError as exc:
        raise InputError(
            f"{path}: cannot append the summary ({exc.strerror})",
            '--summary names a writable file in an existing folder, e.g. "$GITHUB_STEP_SUMMARY"',
        ) from exc


address_argument = click.argument("address", metavar="PROJECT/NAME")
reason_option = click.option("--reason", default="", help="Why (recorded in the signed event).")
reason_required = click.option("--reason", required=True, help="Why (recorded in the signed event).")
