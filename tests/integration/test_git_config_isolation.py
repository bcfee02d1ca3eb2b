"""A developer's own git configuration never reaches gitdocket where git's would not: libgit2 fixes
its config locations when pygit2 is imported and ignores git's environment variables, so both the
test isolation and the product follow them explicitly."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import ROOT, Registry, write_key

HOSTILE = """[user]
\tname = Mallory
\temail = mallory@example.com
\tsigningkey = {key}
"""


def _hostile_home(tmp_path: Path) -> Path:
    home = tmp_path / "hostile-home"
    home.mkdir()
    key = write_key(home, "mallory")
    (home / ".gitconfig").write_text(HOSTILE.format(key=key))
    (home / ".config" / "git").mkdir(parents=True)
    (home / ".config" / "git" / "config").write_text(HOSTILE.format(key=key))
    return home


def test_a_hostile_global_config_changes_no_test(tmp_path: Path) -> None:
    """The suite's isolation holds even when the HOME pytest starts in has a signing key."""
    env = {**os.environ, "HOME": str(_hostile_home(tmp_path)), "XDG_CONFIG_HOME": ""}
    env.pop("GIT_CONFIG_GLOBAL", None)
    env.pop("GIT_CONFIG_NOSYSTEM", None)
    test = "tests/integration/test_signing.py::test_which_key_is_used"
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly", test],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "1 passed" in run.stdout


def test_git_config_global_is_honoured_like_git(
    registry: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GIT_CONFIG_GLOBAL=/dev/null hides ~/.gitconfig from git, and so from gitdocket; pointing it at
    a file makes that file the global config, as it does for git. Without it, ~/.gitconfig is
    read from the HOME of the moment, not the one pygit2 was imported under."""
    monkeypatch.setenv("HOME", str(_hostile_home(tmp_path)))
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", "/dev/null")
    hidden = registry.run("policy", "grant", "promoters:prod", "alice", key=None)
    assert hidden.code == 1 and "error: no signing key configured" in hidden.err
    chosen = tmp_path / "chosen.gitconfig"
    chosen.write_text(f"[user]\n\tsigningkey = {registry.alice}\n")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(chosen))
    registry.ok("policy", "grant", "promoters:prod", "alice", key=None)
    monkeypatch.delenv("GIT_CONFIG_GLOBAL")
    mallory = registry.run("policy", "grant", "promoters:staging", "alice", key=None)
    assert mallory.code == 1 and "is not in the policy" in mallory.err  # ~/.gitconfig's key: read, refused
