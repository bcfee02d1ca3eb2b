"""The click layer: parse arguments, call operations, print. The one place that turns
``DocketError`` into a message and an exit code (1 refused or failed, 2 usage); ``--debug`` or
``DOCKET_DEBUG=1`` shows the traceback instead.
"""

from __future__ import annotations

import os
import sys
import traceback
from typing import NoReturn

import click
import pygit2

from docket import __version__
from docket.commands.clients import entitlement, placement, release, run_check
from docket.commands.contracts_cmd import contracts
from docket.commands.core import archetype, init, key, package, policy, version
from docket.commands.demo_cmd import demo
from docket.commands.deployments import deployments, history, promote, rollback, status
from docket.commands.releases import bundle, gate
from docket.commands.verifying import verify
from docket.errors import DocketError

__all__ = ["cli", "main"]


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="docket")
@click.option("--debug", is_flag=True, envvar="DOCKET_DEBUG", help="Show tracebacks for errors.")
def cli(debug: bool) -> None:
    """Docket: a GitOps registry for AI-agent archetypes.

    The git repository is the database. Every write is a signed event appended to a
    hash-chained scope log, committed as a signed commit; `docket verify` proves every record
    is a legal, signed transition.
    """
    del debug


for command in (init, key, policy, archetype, version, package, verify, contracts, placement, entitlement,
                run_check, release, bundle, gate, promote, rollback, status, history, deployments, demo):
    cli.add_command(command)


def _fail(message: str, hint: str, code: int) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    if hint:
        click.echo(f"hint: {hint}", err=True)
    sys.exit(code)


def _fail_usage(exc: click.ClickException) -> NoReturn:
    hint = ""
    if isinstance(exc, click.UsageError):
        hint = f"see `{exc.ctx.command_path if exc.ctx is not None else 'docket'} --help`"
    _fail(exc.format_message(), hint, exc.exit_code)


def _fail_error(exc: Exception, debug: bool) -> NoReturn:
    if debug:
        traceback.print_exc()
    if isinstance(exc, DocketError):
        _fail(exc.message, exc.hint, exc.exit_code)
    if isinstance(exc, pygit2.GitError | OSError):
        _fail(f"{type(exc).__name__}: {exc}", "rerun with --debug for details", 1)
    first = (str(exc).splitlines() or [""])[0]
    _fail(f"internal error: {type(exc).__name__}: {first}",
          "this is a bug in docket; rerun with --debug and report the traceback", 1)


def main(argv: list[str] | None = None) -> None:
    args = argv if argv is not None else sys.argv
    debug = os.environ.get("DOCKET_DEBUG") == "1" or "--debug" in args
    try:
        cli.main(args=argv, prog_name="docket", standalone_mode=False)
    except click.exceptions.Abort:
        _fail("aborted", "", 1)
    except click.exceptions.NoArgsIsHelpError as exc:
        exc.show()  # a group without its subcommand: the help is the message
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        _fail_usage(exc)
    except Exception as exc:  # noqa: BLE001 - the one boundary: even a bug is one line, exit 1
        _fail_error(exc, debug)
    sys.exit(0)
