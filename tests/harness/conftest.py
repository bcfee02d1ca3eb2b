"""Fixtures of the workflow harness: the Python a workflow's setup-python step gets, and a
simulated GitHub repository holding a registry made by ``gitdocket init``, with a person (alice,
root and author) and the CI identity (role builders and promoters) whose key is the
``GITDOCKET_SIGNING_KEY`` secret."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.harness.github import GitHub
from tests.harness.registry import Person, harness_python, make_registry


@pytest.fixture(scope="session")
def python_bin() -> Path:
    """setup-python's stand-in: a clean venv with this checkout's wheel installed (pip finds
    it with --find-links; the package index is the only stand-in)."""
    return harness_python()


@pytest.fixture
def github(tmp_path: Path, python_bin: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[GitHub]:
    # The harness runs on the real clock, as CI does: expiries and bundle ids are real.
    monkeypatch.delenv("GITDOCKET_NOW", raising=False)
    base_env = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": str(tmp_path / "home" / ".gitconfig"),
        "HOME": str(tmp_path / "home"),
        "GIT_AUTHOR_NAME": "a person",
        "GIT_AUTHOR_EMAIL": "person@example.com",
        "GIT_COMMITTER_NAME": "GitHub",
        "GIT_COMMITTER_EMAIL": "noreply@github.com",
        "PIP_NO_INDEX": "1",
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        "PIP_FIND_LINKS": str(python_bin.parent.parent / "wheelhouse"),
    }
    (tmp_path / "home").mkdir(exist_ok=True)
    hub = GitHub(tmp_path / "github", python_bin, {}, base_env)
    # the documented repository variable: where pip finds the pinned wheel (no package index here)
    hub.variables["PIP_FIND_LINKS"] = base_env["PIP_FIND_LINKS"]
    yield hub


@pytest.fixture
def registry(github: GitHub, tmp_path: Path) -> Person:
    """alice's clone of a registry that `gitdocket init` made and pushed as the default branch."""
    return make_registry(github, tmp_path)


@pytest.fixture(autouse=True)
def _timing(request: pytest.FixtureRequest) -> Iterator[None]:
    """Each scenario's wall time, printed for the closing note (pytest -s, or the report)."""
    began = time.perf_counter()
    yield
    seconds = time.perf_counter() - began
    line = f"harness scenario {request.node.name}: {seconds:.1f} s"
    request.node.user_properties.append(("seconds", round(seconds, 1)))
    timings = Path(os.environ.get("HARNESS_TIMINGS", "")) if os.environ.get("HARNESS_TIMINGS") else None
    if timings is not None:
        with timings.open("a") as out:
            out.write(line + "\n")
    print(line)
