"""Every shell block of README.md and docs/*.md works when pasted.

Each file's blocks run in order in one bash session (a reader pastes them one after the other),
with ``set -eo pipefail``, in a fresh HOME and a fresh working folder that shows this checkout's
top-level entries (``examples/``, ``.venv/``, ``contracts/``, …) as links, on the real clock
(so no example may hold an expiry that passes), with the venv's ``gitdocket`` on PATH.

- ``sh``/``bash``/``shell`` blocks run as written;
- ``console`` blocks run the lines after ``$ `` (a trailing ``\\`` continues a command); the
  other lines are output and are not compared. A command documented to fail says so in a
  trailing comment, ``# exit N``: it must exit exactly N;
- a ``make TARGET`` line runs as ``make -n TARGET`` (the target exists and its recipe expands):
  running ``make test`` inside the tests would run them again.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import click
import pytest

from gitdocket.commands import cli
from tests.support import ROOT, run_cli

FENCE = re.compile(r"^```(\w+)[^\n]*\n(.*?)^```\s*$", re.M | re.S)
SHELLS = {"sh", "bash", "shell", "console"}
EXIT = re.compile(r"#\s*exit (\d+)\b")
MAKE = re.compile(r"^(\s*)make ", re.M)
SKIP_LINKS = {".git", "build", "dist", "site", ".pytest_cache", ".mypy_cache", ".ruff_cache", ".hypothesis"}

DOCS = sorted([ROOT / "README.md", *(ROOT / "docs").glob("*.md")])


def blocks(path: Path) -> list[str]:
    """The shell blocks of ``path``, each as the bash it runs."""
    out = []
    for lang, body in FENCE.findall(path.read_text(encoding="utf-8")):
        if lang in SHELLS:
            script = _console(body) if lang == "console" else body
            out.append(MAKE.sub(r"\1make -n ", script))
    return out


def _console(body: str) -> str:
    commands: list[str] = []
    continuing = False
    for line in body.splitlines():
        if line.startswith("$ ") or continuing:
            text = line[2:] if line.startswith("$ ") and not continuing else line
            if continuing:
                commands[-1] += "\n" + text
            else:
                commands.append(text)
            continuing = text.rstrip().endswith("\\")
    return "\n".join(_expect(c) for c in commands) + "\n"


def _expect(command: str) -> str:
    code = EXIT.search(command)
    if code is None:
        return command
    want = code.group(1)
    return f"{{ {command}\n}} && {{ echo 'expected exit {want}, got 0' >&2; exit 90; }} || test $? -eq {want}"


def _workdir(tmp_path: Path) -> Path:
    work = tmp_path / "work"
    work.mkdir()
    for entry in ROOT.iterdir():
        if entry.name not in SKIP_LINKS:
            (work / entry.name).symlink_to(entry)
    return work


@pytest.mark.parametrize("doc", [pytest.param(d, id=d.relative_to(ROOT).as_posix()) for d in DOCS if blocks(d)])
def test_every_shell_block_works_when_pasted(doc: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    script = ["set -eo pipefail"]
    for index, block in enumerate(blocks(doc), start=1):
        script += [f"echo '::block {index}::' >&2", block]
    env = {
        "HOME": str(home),
        "PATH": os.pathsep.join([str(ROOT / ".venv" / "bin"), "/usr/local/bin", "/usr/bin", "/bin"]),
        "LANG": "C.UTF-8",
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_AUTHOR_NAME": "you",
        "GIT_AUTHOR_EMAIL": "you@example.com",
        "GIT_COMMITTER_NAME": "you",
        "GIT_COMMITTER_EMAIL": "you@example.com",
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        **{k: v for k, v in os.environ.items() if k.startswith("PIP_")},
    }
    done = subprocess.run(
        ["bash", "-c", "\n".join(script)],
        cwd=_workdir(tmp_path),
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    failed = re.findall(r"::block (\d+)::", done.stderr)
    where = f"block {failed[-1]}" if failed else "before the first block"
    assert done.returncode == 0, f"{doc.name}: {where} fails when pasted:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"


EXPIRY = re.compile(r"expires\s+(\d{4}-\d\d-\d\dT[\d:]+Z)")


@pytest.mark.parametrize("doc", [pytest.param(d, id=d.relative_to(ROOT).as_posix()) for d in DOCS if blocks(d)])
def test_no_example_expiry_stops_working_within_a_year(doc: Path) -> None:
    """A pasted example must not start failing next month: every expiry a command sets is at
    least a year away, unless the line documents its failure (``# exit N``)."""
    soon = datetime.now(UTC) + timedelta(days=366)
    for line in "\n".join(blocks(doc)).splitlines():
        for when in EXPIRY.findall(line):
            expected_to_fail = EXIT.search(line) is not None or "test $? -eq" in line
            assert expected_to_fail or datetime.fromisoformat(when) > soon, f"{doc.name}: {line.strip()}"


def test_console_blocks_run_commands_and_expect_documented_failures() -> None:
    script = _console("$ gitdocket a \\\n    --b\nout\n$ gitdocket c   # exit 1\nerror: x\n")
    assert script.startswith("gitdocket a \\\n    --b\n{ gitdocket c   # exit 1\n}")
    assert "test $? -eq 1" in script


# The quick start, line by line through the in-process CLI: what each command printed.


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


def test_the_command_table_names_every_command() -> None:
    """README's Commands table is where a reader looks first: every top-level command is in it."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text[text.index("\n## Commands\n") :]
    section = section[: section.index("\n## ", 1)]
    rows = [line for line in section.splitlines() if line.startswith("| `gitdocket ")]
    named = {word.strip("`") for row in rows for word in re.findall(r"`[^`]*`", row.split(" | ")[0])}
    words = {part.split()[0] for name in named for part in [name.removeprefix("gitdocket ")] if part}
    missing = sorted(set(cli.list_commands(click.Context(cli))) - words)
    assert not missing, f"README.md's command table does not name: {', '.join(missing)}"
