"""A real wheel of this checkout, and clean virtual environments that install it: what a user (or a
registry's CI) gets from ``pip install gitdocket``. The package index is the only stand-in: the
wheel is found through ``--find-links`` (``PIP_FIND_LINKS``), its dependencies come from the
index pip is configured with."""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def build_wheel(dest: Path) -> Path:
    """``pip wheel`` of this checkout into ``dest``. Builds run in the checkout's ``build/``
    folder, so parallel test workers take turns (a file lock); its ``lib/`` goes first, or a
    module deleted from the checkout would still be in the wheel."""
    dest.mkdir(parents=True, exist_ok=True)
    lock = ROOT / "build" / ".wheel.lock"
    lock.parent.mkdir(exist_ok=True)
    with lock.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        shutil.rmtree(ROOT / "build" / "lib", ignore_errors=True)
        subprocess.run(
            [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "--wheel-dir", str(dest), str(ROOT)],
            check=True,
            capture_output=True,
            timeout=600,
        )
    (wheel,) = dest.glob("gitdocket-*.whl")
    return wheel


def clean_env(**extra: str) -> dict[str, str]:
    """The test's environment without anything that would reach this checkout's code."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
    env.update(extra)
    return env


def make_venv(path: Path) -> Path:
    """A fresh virtual environment (with pip); returns its ``bin/`` folder."""
    venv.EnvBuilder(with_pip=True, clear=True).create(path)
    return path / "bin"


def pip_install(bin_dir: Path, *args: str, find_links: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    """``pip install ARGS`` in the environment of ``bin_dir``, with ``find_links`` searched first."""
    return subprocess.run(
        [str(bin_dir / "python"), "-m", "pip", "install", "--quiet", *args],
        cwd=cwd,
        env=clean_env(PIP_FIND_LINKS=f"{find_links} {os.environ.get('PIP_FIND_LINKS', '')}".strip()),
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
