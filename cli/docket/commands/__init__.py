"""The click layer: parse arguments, call operations, print. The one place that turns
``DocketError`` into a message and an exit code (1 refused or failed, 2 usage); ``--debug`` or
``DOCKET_DEBUG=1`` shows the traceback instead.
"""

from __future__ import annotations

import os
import sys
import traceback

import click
import pygit2

from docket import __version__
from docket.commands.core import archetype, init, key, package, policy, version
from docket.commands.demo_cmd import demo
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


for command in (init, key, policy, archetype, version, package, verify, demo):
    cli.add_command(command)


def _fail(message: str, hint: str, code: int) -> None:
    click.echo(f"error: {message}", err=True)
    if hint:
        click.echo(f"hint: {hint}", err=True)
    sys.exit(code)


def main(argv: list[str] | None = None) -> None:
    debug = os.environ.get("DOCKET_DEBUG") == "1" or "--debug" in (argv if argv is not None else sys.argv)
    try:
        cli.main(args=argv, prog_name="docket", standalone_mode=False)
    except click.exceptions.Abort:
        _fail("aborted", "", 1)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except DocketError as exc:
        if debug:
            traceback.print_exc()
        _fail(exc.message, exc.hint, exc.exit_code)
    except (pygit2.GitError, OSError) as exc:
        if debug:
            traceback.print_exc()
        _fail(f"{type(exc).__name__}: {exc}", "rerun with --debug for details", 1)
    sys.exit(0)
