"""Start-up: the CLI imports a command's code only when that command runs (``commands/lazy.py``).

The imports are checked in a fresh interpreter (this test process has imported everything), by
reading ``sys.modules`` after the command ran."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from gitdocket.commands import cli
from gitdocket.commands.lazy import COMMANDS, load
from tests.support import ROOT, Registry

PROBE = """
import json, sys
from gitdocket.commands import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
print(json.dumps(sorted(sys.modules)), file=sys.__stderr__)
"""

COMMAND_MODULES = sorted({entry.target.partition(":")[0] for entry in COMMANDS.values()})
"""Every module that holds a top-level command."""

HEAVY = ("jsonschema", "ruamel", "rich", "sigstore")
"""Dependencies a read of the environments never needs (the configuration it reads is the signed
state, JSON, not registry.yaml)."""


def _modules_after(*args: str) -> set[str]:
    """The modules a fresh ``gitdocket ARGS`` has imported when it is done."""
    env = {**os.environ, "PYTHONPATH": str(ROOT / "cli") + os.pathsep + os.environ.get("PYTHONPATH", "")}
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args], capture_output=True, text=True, env=env, timeout=120, check=False
    )
    last = done.stderr.strip().splitlines()[-1]
    return set(json.loads(last))


def _top(modules: set[str]) -> set[str]:
    return {name.split(".")[0] for name in modules}


@pytest.mark.parametrize("name", sorted(COMMANDS), ids=sorted(COMMANDS))
def test_the_table_help_is_the_command_help(name: str) -> None:
    """``--help`` lists the table's words: they must be the command's own."""
    command = load(COMMANDS[name])
    assert COMMANDS[name].summary == command.get_short_help_str(10_000)
    assert command.name == name


def test_the_table_lists_every_command_once() -> None:
    targets = [entry.target for entry in COMMANDS.values()]
    assert len(targets) == len(set(targets))
    assert list(cli.commands) == sorted(COMMANDS)


def test_help_imports_no_command() -> None:
    loaded = _modules_after("--help")
    assert loaded & set(COMMAND_MODULES) == set()
    assert _top(loaded) & set(HEAVY) == set()


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(("status",), id="status"),
        pytest.param(("history", "--env", "prod"), id="history"),
    ],
)
def test_a_read_imports_only_its_own_command(registry: Registry, args: tuple[str, ...]) -> None:
    loaded = _modules_after(*args, "--repo", str(registry.path))
    assert loaded & set(COMMAND_MODULES) == {"gitdocket.commands.reads"}
    assert _top(loaded) & set(HEAVY) == set()  # no JSON Schema, YAML parser, rich or sigstore
