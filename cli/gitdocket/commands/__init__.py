"""The click layer: parse arguments, call operations, print. The one place that turns
``DocketError`` into a message and an exit code (1 refused or failed, 2 usage); ``--debug`` or
``GITDOCKET_DEBUG=1`` shows the traceback instead.
"""

from __future__ import annotations

import os
import sys
import traceback
from typing import NoReturn

import click
import pygit2

from gitdocket import __version__
from gitdocket.adapters.templates import build_commit
from gitdocket.commands.lazy import COMMANDS, LazyGroup
from gitdocket.commands.output import safe_streams
from gitdocket.errors import DocketError

__all__ = ["cli", "main"]


def _print_version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    """``gitdocket, version X`` and, when built from a git checkout, the commit (read only when
    asked: every other command starts without touching the build record)."""
    if not value or ctx.resilient_parsing:
        return
    commit = build_commit()
    click.echo(f"gitdocket, version {__version__}" + (f" (commit {commit})" if commit else ""))
    ctx.exit()


@click.group(
    cls=LazyGroup, table=COMMANDS, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100}
)
@click.option(
    "--version",
    is_flag=True,
    is_eager=True,
    expose_value=False,
    callback=_print_version,
    help="Show the version (and the git commit it was built from) and exit.",
)
@click.option("--debug", is_flag=True, envvar="GITDOCKET_DEBUG", help="Show tracebacks for errors.")
def cli(debug: bool) -> None:
    """Docket: a GitOps registry for AI-agent archetypes.

    The git repository is the database. Every write is a signed event appended to a
    hash-chained scope log, committed as a signed commit; `gitdocket verify` proves every record
    is a legal, signed transition.
    """
    del debug


def _one_line(text: str) -> str:
    """An error or hint on one line, whatever it quotes (a file name may hold a newline)."""
    return text.replace("\r", "\\r").replace("\n", "\\n")


def _fail(message: str, hint: str, code: int) -> NoReturn:
    click.echo(f"error: {_one_line(message)}", err=True)
    if hint:
        click.echo(f"hint: {_one_line(hint)}", err=True)
    sys.exit(code)


def _fail_usage(exc: click.ClickException) -> NoReturn:
    hint = ""
    if isinstance(exc, click.UsageError):
        hint = f"see `{exc.ctx.command_path if exc.ctx is not None else 'gitdocket'} --help`"
    _fail(exc.format_message(), hint, exc.exit_code)


def _fail_error(exc: Exception, debug: bool) -> NoReturn:
    if debug:
        traceback.print_exc()
    if isinstance(exc, DocketError):
        _fail(exc.message, exc.hint, exc.exit_code)
    if isinstance(exc, pygit2.GitError | OSError):
        _fail(f"{type(exc).__name__}: {exc}", "rerun with --debug for details", 1)
    first = (str(exc).splitlines() or [""])[0]
    _fail(
        f"internal error: {type(exc).__name__}: {first}",
        "this is a bug in gitdocket; rerun with --debug and report the traceback",
        1,
    )


def main(argv: list[str] | None = None) -> None:
    with safe_streams():
        _main(argv)


def _main(argv: list[str] | None) -> None:
    args = argv if argv is not None else sys.argv
    debug = os.environ.get("GITDOCKET_DEBUG") == "1" or "--debug" in args
    try:
        cli.main(args=argv, prog_name="gitdocket", standalone_mode=False)
    except click.exceptions.Abort:  # Ctrl-C outside a write (a write words its own)
        _fail("interrupted", "run the command again: a write that had landed says so, one that had not is made", 1)
    except click.exceptions.NoArgsIsHelpError as exc:
        exc.show()  # a group without its subcommand: the help is the message
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        _fail_usage(exc)
    except Exception as exc:  # noqa: BLE001 - the one boundary: even a bug is one line, exit 1
        _fail_error(exc, debug)
    sys.exit(0)
