"""The click layer: parse arguments, call operations, print. The one place that turns
``DocketError`` into a message and an exit code (1 refused or failed, 2 usage); ``--debug`` or
``GITDOCKET_DEBUG=1`` shows the traceback instead.
"""

from __future__ import annotations

import itertools
import json
import os
import sys
import traceback
from typing import NoReturn

import click
import pygit2

from gitdocket import __version__
from gitdocket.commands.lazy import COMMANDS, LazyGroup
from gitdocket.commands.output import command_streams, safe_streams
from gitdocket.core.limits import one_line
from gitdocket.errors import DocketError, InvariantError

__all__ = ["cli", "main"]


def _print_version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    """``gitdocket, version X`` and, when built from a git checkout, the commit (read only when
    asked: every other command starts without touching the build record)."""
    if not value or ctx.resilient_parsing:
        return
    from gitdocket.adapters.templates import build_commit

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
@click.option(
    "-q",
    "--quiet",
    is_flag=True,
    envvar="GITDOCKET_QUIET",
    help="Print nothing but errors and warnings (no output, no notes, no progress); the exit "
    "status says how it went. Env GITDOCKET_QUIET=1.",
)
@click.pass_context
def cli(ctx: click.Context, debug: bool, quiet: bool) -> None:
    """Docket: a GitOps registry for AI-agent archetypes.

    The git repository is the database. Every write is a signed event appended to a
    hash-chained scope log, committed as a signed commit; `gitdocket verify` proves every record
    is a legal, signed transition.

    Progress bars show on a terminal only (standard error); NO_COLOR turns every colour and
    style off.
    """
    del debug
    ctx.with_resource(command_streams(quiet))


_JSON_ERRORS: list[bool] = [False]
"""Whether this run asked for ``--format json``: its error is then JSON too (``_fail``)."""


def _wants_json(args: list[str]) -> bool:
    """``--format json`` or ``--format=json`` among the arguments (read before click parses
    them: a usage error must be JSON too)."""
    return "--format=json" in args or any(pair == ("--format", "json") for pair in itertools.pairwise(args))


def _fail(message: str, hint: str, exit_code: int, code: str, invariant: str | None = None) -> NoReturn:
    """The one way a command fails: ``error:`` and ``hint:`` lines on standard error, or with
    ``--format json`` one JSON object there (``error``, ``hint``, ``code``, ``exit`` and, for a
    refusal by a rule, ``invariant``); then the exit code."""
    if _JSON_ERRORS[0]:
        data = {"error": message, "hint": hint, "code": code, "exit": exit_code}
        if invariant is not None:
            data["invariant"] = invariant
        click.echo(json.dumps(data, sort_keys=True, ensure_ascii=False), err=True)
        sys.exit(exit_code)
    click.echo(f"error: {one_line(message)}", err=True)
    if hint:
        click.echo(f"hint: {one_line(hint)}", err=True)
    sys.exit(exit_code)


def _fail_usage(exc: click.ClickException) -> NoReturn:
    hint = ""
    if isinstance(exc, click.UsageError):
        hint = f"see `{exc.ctx.command_path if exc.ctx is not None else 'gitdocket'} --help`"
    _fail(exc.format_message(), hint, exc.exit_code, "USAGE")


def _fail_error(exc: Exception, debug: bool) -> NoReturn:
    if debug:
        traceback.print_exc()
    if isinstance(exc, DocketError):
        _fail(
            exc.message, exc.hint, exc.exit_code, exc.code, exc.invariant if isinstance(exc, InvariantError) else None
        )
    if isinstance(exc, pygit2.GitError | OSError):
        _fail(f"{type(exc).__name__}: {exc}", "rerun with --debug for details", 1, "IO")
    first = (str(exc).splitlines() or [""])[0]
    _fail(
        f"internal error: {type(exc).__name__}: {first}",
        "this is a bug in gitdocket; rerun with --debug and report the traceback",
        1,
        "INTERNAL",
    )


def main(argv: list[str] | None = None) -> None:
    # No pydantic plugins (ADR 0035): the first model validator would otherwise scan every
    # installed distribution's entry points for them (~5 ms of every start), and no third-party
    # hook has a place in validating signed records. Set the variable (empty: every plugin) to
    # choose otherwise.
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    with safe_streams():
        _main(argv)


def _main(argv: list[str] | None) -> None:
    args = argv if argv is not None else sys.argv
    debug = os.environ.get("GITDOCKET_DEBUG") == "1" or "--debug" in args
    _JSON_ERRORS[0] = _wants_json(list(args))
    try:
        cli.main(args=argv, prog_name="gitdocket", standalone_mode=False)
    except click.exceptions.Abort:  # Ctrl-C outside a write (a write words its own)
        _fail(
            "interrupted",
            "run the command again: a write that had landed says so, one that had not is made",
            1,
            "INTERRUPTED",
        )
    except click.exceptions.NoArgsIsHelpError as exc:
        exc.show()  # a group without its subcommand: the help is the message
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        _fail_usage(exc)
    except Exception as exc:  # noqa: BLE001 - the one boundary: even a bug is one line, exit 1
        _fail_error(exc, debug)
    sys.exit(0)
