"""Progress bars on a terminal only, ``-q`` everywhere, ``NO_COLOR`` honoured fully: real
processes whose standard error (or output) is a pseudo-terminal, and the same commands piped."""

from __future__ import annotations

import os
import pty
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import EXAMPLES, ROOT, Registry

SGR = re.compile(r"\x1b\[[0-9;]*m")
"""A Select Graphic Rendition sequence: colour or style."""


def _big_method(tmp_path: Path, files: int = 300) -> Path:
    source = tmp_path / "big-helper"
    shutil.copytree(EXAMPLES / "support-triage", source)
    (source / "archetype.yaml").write_text(
        (source / "archetype.yaml").read_text().replace("support-triage", "big-helper")
    )
    notes = source / "method" / "notes"
    notes.mkdir()
    for index in range(files):
        (notes / f"note-{index:04}.md").write_text(f"note {index}\n" * 50)
    return source


def _on_terminal(args: list[str | Path], env: dict[str, str], stream: str = "stderr") -> tuple[int, str, str]:
    """Run ``gitdocket ARGS`` with ``stream`` on a pseudo-terminal; (exit code, what the terminal
    showed, the other stream)."""
    master, slave = pty.openpty()
    full_env = {**os.environ, **env, "PYTHONPATH": str(ROOT / "cli"), "COLUMNS": "100", "TERM": "xterm"}
    if "NO_COLOR" not in env:
        full_env.pop("NO_COLOR", None)
    pipes = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE, stream: slave}
    proc = subprocess.Popen([sys.executable, "-m", "gitdocket", *map(str, args)], env=full_env, **pipes)
    os.close(slave)
    shown = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        shown += chunk
    other = (proc.stdout if stream == "stderr" else proc.stderr).read()  # type: ignore[union-attr]
    code = proc.wait(timeout=120)
    for pipe in (proc.stdout, proc.stderr):
        if pipe is not None:
            pipe.close()
    os.close(master)
    return code, shown.decode("utf-8", "replace"), other.decode()


def _env(registry: Registry) -> dict[str, str]:
    return {
        "GITDOCKET_SIGNING_KEY": str(registry.alice),
        "GITDOCKET_NOW": os.environ["GITDOCKET_NOW"],
        "HOME": os.environ["HOME"],
        "GIT_CONFIG_GLOBAL": "/dev/null",
        "GIT_CONFIG_NOSYSTEM": "1",
    }


def test_a_big_import_shows_a_bar_on_a_terminal_and_nothing_when_piped(registry: Registry, tmp_path: Path) -> None:
    source = _big_method(tmp_path)
    code, shown, out = _on_terminal(
        ["archetype", "new", "big-helper", "--from", source, "--repo", registry.path], _env(registry)
    )
    assert code == 0, shown
    assert "reading files" in shown, shown
    assert out.startswith("Created archetype big-helper"), out  # the result stays on standard output
    registry.git("reset", "-q", "--hard", "HEAD~1")
    piped = registry.run("archetype", "new", "big-helper", "--from", source)
    assert piped.code == 0 and piped.err == ""  # not a terminal: nothing but errors on stderr


def test_no_color_turns_every_style_off(registry: Registry, tmp_path: Path) -> None:
    registry.add_archetype()
    registry.ok("version", "freeze", "support-triage", "1.0.0")
    args: list[str | Path] = ["version", "list", "support-triage", "--repo", registry.path]
    _, styled, _ = _on_terminal(args, _env(registry), stream="stdout")
    assert SGR.search(styled), "a terminal table is styled"
    _, plain, _ = _on_terminal(args, {**_env(registry), "NO_COLOR": "1"}, stream="stdout")
    assert "support-triage" in plain
    assert not SGR.search(plain), repr(plain)


def test_quiet_prints_nothing_but_errors(registry: Registry) -> None:
    quiet = registry.run("-q", "archetype", "new", "support-triage", "--from", EXAMPLES / "support-triage")
    assert (quiet.code, quiet.out, quiet.err) == (0, "", "")
    assert "support-triage" in registry.ok("archetype", "list").out
    refused = registry.run("--quiet", "version", "freeze", "nobody", "1.0.0")
    assert refused.code != 0 and refused.out == "" and refused.err.startswith("error:")


@pytest.mark.parametrize("flag", [pytest.param("-q", id="short"), pytest.param("--quiet", id="long")])
def test_quiet_applies_to_readers_and_writers(registry: Registry, flag: str) -> None:
    registry.add_archetype()
    for args in (
        ("status",),
        ("verify",),
        ("version", "list", "support-triage"),
        ("version", "freeze", "support-triage", "1.0.0"),
    ):
        result = registry.run(flag, *args)
        assert (result.code, result.out) == (0, ""), (args, result.err)
