"""The README's quick start runs as written (each `gitdocket` line through the real CLI)."""

from __future__ import annotations

import os
import shlex
from pathlib import Path

import pytest

from tests.support import ROOT, run_cli


def _quick_start() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = text.split("## Quick start", 1)[1].split("```sh\n", 1)[1].split("```", 1)[0]
    lines = [line.split("  #", 1)[0].strip() for line in block.splitlines()]
    return [line for line in lines if line and not line.startswith("#")]


def _expand(word: str, home: Path, variables: dict[str, str]) -> str:
    word = word.replace("~", str(home), 1) if word.startswith("~") else word
    for name, value in variables.items():
        word = word.replace(f"${name}", value)
    return word


def test_readme_quick_start_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = Path(os.environ["HOME"])
    monkeypatch.chdir(ROOT)
    variables = {"PWD": str(ROOT)}
    ran = []
    for line in _quick_start():
        words = [_expand(w, home, variables) for w in shlex.split(line)]
        if words[0] == "source":
            continue  # the venv: here gitdocket is already importable
        if words[0] == "export" or "=" in words[0]:
            name, value = words[-1].split("=", 1)
            variables[name] = value
            if words[0] == "export":
                monkeypatch.setenv(name, value)
        elif words[0] == "cd":
            monkeypatch.chdir(words[1])
            variables["PWD"] = words[1]
        else:
            assert words[0] == "gitdocket", f"unexpected line in the quick start: {line}"
            result = run_cli(*words[1:])
            assert result.code == 0, f"{line}\n{result.err}{result.out}"
            ran.append((words[1], result.out))
    assert [name for name, _ in ran] == [
        "key",
        "init",
        "archetype",
        "version",
        "package",
        "verify",
        "verify",
        "version",
    ]
    assert ran[-2][1].startswith("verify (PR main~2..HEAD)") and ran[-2][1].rstrip().endswith("OK")
    assert "support-triage\t1.0.0\tfrozen\t" in ran[-1][1], "before the publish, the version was only frozen"
