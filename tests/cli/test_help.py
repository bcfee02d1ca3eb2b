"""Every command and option explains itself, and the exit codes are the documented ones:
0 success, 1 refused or failed, 2 usage."""

from __future__ import annotations

from collections.abc import Iterator

import click
import pytest

from gitdocket.commands import cli
from tests.support import run_cli


def _walk(command: click.Command, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], click.Command]]:
    yield path, command
    if isinstance(command, click.Group):
        for name, sub in sorted(command.commands.items()):
            yield from _walk(sub, (*path, name))


COMMANDS = list(_walk(cli))
IDS = [" ".join(path) or "gitdocket" for path, _ in COMMANDS]


def test_the_tree_is_walked() -> None:
    """The walk reaches the leaves (a regression here would make the tests below vacuous)."""
    assert {"verify", "version freeze", "package publish", "policy grant", "archetype new"} <= set(IDS)


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=IDS)
def test_command_and_options_have_help(path: tuple[str, ...], command: click.Command) -> None:
    assert (command.help or "").strip(), f"gitdocket {' '.join(path)} has no help text"
    for param in command.params:
        if isinstance(param, click.Option) and not param.hidden:
            assert (param.help or "").strip(), f"gitdocket {' '.join(path)} {param.opts[0]} has no help text"


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=IDS)
def test_help_exits_0(path: tuple[str, ...], command: click.Command) -> None:
    result = run_cli(*path, "--help")
    assert (result.code, result.err) == (0, "")
    assert result.out.startswith(f"Usage: gitdocket {' '.join(path)}".rstrip())
    first_line = (command.help or "").strip().splitlines()[0]
    assert first_line.split()[0] in result.out


def test_version_exits_0() -> None:
    result = run_cli("--version")
    assert result.code == 0 and result.out.startswith("gitdocket, version ")


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(["no-such-command"], id="unknown-command"),
        pytest.param(["verify", "--no-such-option"], id="unknown-option"),
        pytest.param(["verify", "--format", "xml"], id="bad-choice"),
        pytest.param(["version", "freeze", "only-one-argument"], id="missing-argument"),
        pytest.param(["verify", "--base", "a", "--since", "b"], id="conflicting-options"),
    ],
)
def test_usage_errors_exit_2(args: list[str]) -> None:
    result = run_cli(*args)
    assert result.code == 2 and result.out == ""
    error, hint = result.err.splitlines()
    assert error.startswith("error: ") and hint.startswith("hint: see `gitdocket")


def test_group_without_subcommand_shows_help_and_exits_2() -> None:
    result = run_cli("policy")
    assert result.code == 2 and "Usage: gitdocket policy" in result.err
