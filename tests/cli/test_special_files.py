"""No special files, bounded reads: every file a command is pointed at — a key, evidence, a report,
an archive, an output — must be a regular file (or standard output where documented), read up to a
stated limit. A real FIFO (``os.mkfifo``) would block a naive reader or writer forever and
``/dev/zero`` would be read until memory runs out: each is one clear line, exit 2, nothing written.

Every case runs as a real process under a timeout: a hang fails the test instead of the suite.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support import ROOT, Registry, repo_state

TIMEOUT = 60


def _run(registry: Registry, *args: str | Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, **(env or {})}
    full["PYTHONPATH"] = str(ROOT / "cli")
    full.setdefault("GITDOCKET_SIGNING_KEY", str(registry.alice))
    return subprocess.run(  # the timeout is the guard: a blocked read or write fails here
        [sys.executable, "-m", "gitdocket", *map(str, args), *_repo(registry, args)],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        env=full,
        check=False,
    )


def _repo(registry: Registry, args: tuple[str | Path, ...]) -> list[str]:
    """``--repo`` for every command that has it (``contracts`` reads the project's own folder)."""
    return [] if args[0] == "contracts" else ["--repo", str(registry.path)]


def _fifo(tmp: Path) -> Path:
    path = tmp / "pipe"
    os.mkfifo(path)
    return path


Prepare = Callable[[Registry, Path], tuple[list[str | Path], dict[str, str]]]
FREEZE: list[str | Path] = ["version", "freeze", "support-triage", "1.0.0"]


def _big(tmp: Path) -> Path:
    path = tmp / "big_key"
    path.write_bytes(b"x" * (65 * 1024))
    return path


CASES: list[tuple[str, Prepare, str]] = [
    ("key-fifo", lambda r, t: ([*FREEZE, "--key", _fifo(t)], {}), "is a FIFO (named pipe), not a regular file"),
    ("key-dev-zero", lambda r, t: ([*FREEZE, "--key", "/dev/zero"], {}), "is a character device"),
    ("key-folder", lambda r, t: ([*FREEZE, "--key", t], {}), "is a folder"),
    ("key-too-big", lambda r, t: ([*FREEZE, "--key", _big(t)], {}), "larger than 64 KiB"),
    ("pub-key-fifo", lambda r, t: ([*FREEZE, "--key", _fifo(t).rename(t / "a.pub")], {}), "is a FIFO"),
    (
        "signing-key-env-fifo",
        lambda r, t: (FREEZE, {"GITDOCKET_SIGNING_KEY": str(_fifo(t))}),
        "is a FIFO",
    ),
    ("identity-fifo", lambda r, t: (["policy", "add-identity", "bob", _fifo(t)], {}), "is a FIFO"),
    ("identity-dev-zero", lambda r, t: (["policy", "add-identity", "bob", "/dev/zero"], {}), "is a character device"),
    (
        "allowed-signers-output-fifo",
        lambda r, t: (["policy", "allowed-signers", "-o", _fifo(t)], {}),
        "is a FIFO",
    ),
    (
        "gate-output-fifo",
        lambda r, t: (["gate", "evaluate", "--evidence", t, "--output", _fifo(t)], {}),
        "is a FIFO",
    ),
    (
        "source-run-fifo",
        lambda r, t: (["promote", "x-20260101-000000-00000000", "--env", "dev", "--source-run-json", _fifo(t)], {}),
        "is a FIFO",
    ),
    (
        "source-run-dev-zero",
        lambda r, t: (["promote", "x-20260101-000000-00000000", "--env", "dev", "--source-run-json", "/dev/zero"], {}),
        "is a character device",
    ),
    ("validate-fifo", lambda r, t: (["contracts", "validate", _fifo(t)], {}), "is a FIFO"),
    ("validate-dev-zero", lambda r, t: (["contracts", "validate", "/dev/zero"], {}), "is a character device"),
]


@pytest.mark.parametrize(("prepare", "message"), [pytest.param(p, m, id=i) for i, p, m in CASES])
def test_special_files_are_refused_in_one_line(
    registry: Registry, tmp_path: Path, prepare: Prepare, message: str
) -> None:
    registry.add_archetype()
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    args, env = prepare(registry, scratch)
    before = repo_state(registry)
    done = _run(registry, *args, env=env)
    assert done.returncode == 2, done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 2 and lines[0].startswith("error: ") and lines[1].startswith("hint: "), done.stderr
    assert message in lines[0]
    assert repo_state(registry) == before


def test_evidence_with_a_fifo_inside_is_refused(registry: Registry, tmp_path: Path) -> None:
    registry.add_archetype()
    registry.ok("version", "freeze", "support-triage", "1.0.0")
    registry.ok("package", "publish", "support-triage", "1.0.0")
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    os.mkfifo(evidence / "release_lineage.json")
    before = repo_state(registry)
    done = _run(registry, "bundle", "build", "--label", "rc", "--evidence", evidence)
    assert done.returncode == 2 and "release_lineage.json: is a special" in done.stderr, done.stderr
    assert repo_state(registry) == before


def test_a_fifo_is_no_bundle_archive(registry: Registry, tmp_path: Path) -> None:
    before = repo_state(registry)
    done = _run(registry, "bundle", "import", _fifo(tmp_path))
    assert done.returncode == 1 and "no bundle" in done.stderr, done.stderr
    assert repo_state(registry) == before


def test_standard_output_is_where_allowed_signers_goes_without_output(registry: Registry) -> None:
    done = _run(registry, "policy", "allowed-signers")
    assert done.returncode == 0 and done.stdout.startswith("alice "), done.stderr
