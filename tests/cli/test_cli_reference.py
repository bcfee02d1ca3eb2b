"""docs/cli.md is generated from the click tree (docs/gen_cli.py) and must be current."""

from __future__ import annotations

import importlib.util
from types import ModuleType

from gitdocket.commands import cli
from tests.support import ROOT


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_cli", ROOT / "docs" / "gen_cli.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_cli_reference_is_current() -> None:
    expected = _generator().render()
    actual = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    assert actual == expected, "docs/cli.md is out of date: run `python docs/gen_cli.py`"


def test_cli_reference_lists_every_command() -> None:
    text = _generator().render()
    for name, command in cli.commands.items():
        subcommands = getattr(command, "commands", {})
        for sub in subcommands or [""]:
            assert f"| `gitdocket {name} {sub}".rstrip() in text, f"gitdocket {name} {sub} missing"
    assert "| `gitdocket version freeze ARCHETYPE VERSION` | Freeze ARCHETYPE VERSION:" in text
    assert "&lt;archetype&gt;" in text  # angle brackets are escaped, not swallowed as HTML
