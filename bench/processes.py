"""Timing whole processes for ``make bench``: CPU time of a child (and its children), best of N.

CPU time, not wall time: the machine is shared, and load only ever adds to a measurement, so the
least of a few runs is the cost. A child gets gitdocket's sources on its path and may write
bytecode (a ``PYTHONDONTWRITEBYTECODE`` in the caller's environment would make every run compile
every module, which no installed gitdocket does).
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

__all__ = ["ROOT", "RunFailedError", "best_cpu", "child_env", "cpu_of", "gitdocket_argv"]


class RunFailedError(Exception):
    """A measured command exited non-zero: the row says so instead of a number."""


def child_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "cli") + os.pathsep + os.environ.get("PYTHONPATH", "")}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.update(extra or {})
    return env


def gitdocket_argv(*args: str | Path) -> list[str]:
    return [sys.executable, "-m", "gitdocket", *map(str, args)]


def cpu_of(argv: Sequence[str], env: Mapping[str, str] | None = None, cwd: Path | None = None) -> float:
    """CPU seconds (user + system) of one run of ``argv`` and its children."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(list(argv), capture_output=True, env=dict(env or child_env()), cwd=cwd, check=False)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        tail = (done.stdout[-800:] + done.stderr[-800:]).decode(errors="replace")
        raise RunFailedError(f"{' '.join(argv[:6])} exited {done.returncode}: {tail.strip()}")
    return after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime


def best_cpu(argv: Sequence[str], runs: int, env: Mapping[str, str] | None = None, cwd: Path | None = None) -> float:
    """The least CPU time of ``runs`` runs."""
    return min(cpu_of(argv, env, cwd) for _ in range(runs))
