"""The build hook (ADR 0009): the wheel carries the registry template, the contracts, the registry
workflows and the examples as package data, copied at build time from this project's top-level
folders, which stay the one source of truth. It also records the commit the wheel was built from,
for ``gitdocket --version``. Everything else is in pyproject.toml."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
SHIPPED = ("registry", "bundles", "deployments", "contracts", "workflows", "examples")
"""Top-level folders copied into ``gitdocket/_data/`` under the same names
(``gitdocket.adapters.templates`` reads them there, or from the checkout when installed editable)."""


def _commit() -> str | None:
    """The checkout's commit, or None when not building from a git checkout (an sdist)."""
    try:
        done = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--verify", "HEAD"],
            capture_output=True,
            text=True,
            check=False,
            timeout=30,
        )
    except OSError:
        return None
    if done.returncode != 0:
        return None
    return done.stdout.strip() or None


class BuildWithData(build_py):
    """``build_py``, then the shipped folders and ``build.json`` into the built package."""

    def run(self) -> None:
        super().run()
        data = Path(self.build_lib) / "gitdocket" / "_data"
        shutil.rmtree(data, ignore_errors=True)
        for folder in SHIPPED:
            source = ROOT / folder
            if not source.is_dir():
                raise SystemExit(f"error: {source} is missing: build gitdocket from its source checkout or sdist")
            shutil.copytree(source, data / folder, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        commit = _commit()
        build = {"commit": commit} if commit else {}
        (data / "build.json").write_text(json.dumps(build, sort_keys=True) + "\n")


setup(cmdclass={"build_py": BuildWithData})
