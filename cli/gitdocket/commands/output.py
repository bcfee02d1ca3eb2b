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
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

import click

from gitdocket.core.limits import printable

if TYPE_CHECKING:
    from gitdocket.ops.transaction import Transaction

__all__ = [
    "address_argument",
    "common",
    "done",
    "emit",
    "emit_table",
    "format_option",
    "keys_option",
    "pretty",
    "push_option",
    "reader",
    "reason_option",
    "reason_required",
    "repo_option",
    "rev_option",
    "safe_streams",
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
        click.echo(json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False))
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


@contextmanager
def safe_streams() -> Iterator[None]:
    """Standard output and error through ``SafeStream`` while a command runs."""
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = SafeStream(saved[0]), SafeStream(saved[1])
    try:
        yield
    finally:
        sys.stdout, sys.stderr = saved


def _raw_stdout() -> TextIO:
    stream = sys.stdout
    return stream.raw if isinstance(stream, SafeStream) else stream


def table(title: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """A rich table on a terminal; tab-separated lines otherwise (stable for scripts and tests).
    Rich writes colour codes, so it gets the raw stream, and every cell is escaped first (and
    its markup too: a cell is text, never formatting)."""
    if sys.stdout.isatty():
        from rich.console import Console
        from rich.markup import escape
        from rich.table import Table

        t = Table(title=escape(printable(title)))
        for column in columns:
            t.add_column(escape(printable(column)))
        for row in rows:
            t.add_row(*("" if v is None else escape(printable(str(v))) for v in row))
        Console(file=_raw_stdout()).print(t)
        return
    click.echo("\t".join(columns))
    for row in rows:
        click.echo("\t".join("" if v is None else str(v) for v in row))


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
    def command(*args: Any, push: bool, **kwargs: Any) -> Any:
        from gitdocket.ops.session import COMMAND_WRITES, CommandWrites  # the write path: writes only

        writes = CommandWrites(push=push)
        token = COMMAND_WRITES.set(writes)
        try:
            return func(*args, **kwargs)
        finally:
            COMMAND_WRITES.reset(token)
            for published in writes.pushed:
                click.echo(published.line(), err=True)
            for note in writes.notes:
                click.echo(f"note: {note}", err=True)
            for warning in writes.warnings:
                click.echo(f"warning: {warning}", err=True)

    return repo_option(keys_option(push_option(format_option(command))))


def rev_option(func: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--rev",
        metavar="COMMIT|TAG",
        help="Read the registry as of this commit, tag or branch (default: what is checked out, "
        "HEAD, even when detached).",
    )(func)


def reader(func: Callable[..., Any]) -> Callable[..., Any]:
    """The options of a command that only reads: --repo, --rev, --format."""
    return repo_option(rev_option(format_option(func)))


address_argument = click.argument("address", metavar="PROJECT/NAME")
reason_option = click.option("--reason", default="", help="Why (recorded in the signed event).")
reason_required = click.option("--reason", required=True, help="Why (recorded in the signed event).")
