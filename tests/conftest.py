"""Fixtures: every test runs with an isolated HOME and git config and a pinned clock: both the
time writes record (``GITDOCKET_NOW``) and the system clock that judges time (which, in a test,
follows ``GITDOCKET_NOW`` unless the test pins it elsewhere with ``support.pin_system_clock``)."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from gitdocket.errors import Invariant
from gitdocket.lifecycles import INVARIANTS
from gitdocket.lifecycles.environment import GATE_CHECKS
from gitdocket.site.evidence import rules_named
from tests.integration.crash_support import make_crash_template
from tests.integration.releases_support import Release, copy_release, make_template
from tests.support import Registry, isolated, new_registry


def pytest_configure(config: pytest.Config) -> None:
    """Ctrl-C behaves as in a terminal even when the suite runs as a background job: a shell
    without job control starts ``cmd &`` with SIGINT ignored, the workers inherit that, and so
    would every gitdocket process the tests start (the Ctrl-C tests would then see nothing)."""
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.fixture(autouse=True)
def isolate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    with isolated(tmp_path / "home", monkeypatch):
        yield


@pytest.fixture
def registry(tmp_path: Path) -> Registry:
    """A fresh registry with a worktree, initialized by alice."""
    return new_registry(tmp_path)


@pytest.fixture
def seed_registry(tmp_path: Path) -> Registry:
    """A fresh registry whose gate is seed 002's (``--gate-preset agent-skills``)."""
    return new_registry(tmp_path, "--gate-preset", "agent-skills")


@pytest.fixture(scope="session")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The release tests' registry (one published package, ready and blocked evidence), built once
    per session (per worker); copy it with ``copy_release`` before changing anything."""
    return make_template(tmp_path_factory.mktemp("release-template"))


@pytest.fixture
def rel(template: Path, tmp_path: Path) -> Release:
    """A fresh copy of ``template`` for one test."""
    return copy_release(template, tmp_path / "copy")


@pytest.fixture(scope="session")
def crash_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The crash and doctor tests' registry (``crash_support.make_crash_template``), once per session."""
    return make_crash_template(tmp_path_factory.mktemp("crash"))


def _rules_of(item: pytest.Item) -> list[str]:
    """The declared rules a test names: in its parameters (a name, an ``Invariant``, or a gated
    promotion's check id) and in its docstring, each once."""
    names: list[str] = []
    callspec = getattr(item, "callspec", None)
    for value in callspec.params.values() if callspec is not None else ():
        rule = GATE_CHECKS.get(value) if isinstance(value, str) else None  # a gated promotion's check id
        name = (rule or value).name if isinstance(rule or value, Invariant) else value
        if isinstance(name, str) and name in INVARIANTS and name not in names:
            names.append(name)
    doc = getattr(getattr(item, "obj", None), "__doc__", None) or ""
    names.extend(n for n in rules_named(doc, INVARIANTS) if n not in names)
    return names


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        help="Rewrite the golden files (tests/data/golden) from the code instead of comparing with them.",
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Write the rules each test is evidence for into its JUnit properties, for the site's
    guarantees page (``gitdocket.site.evidence`` documents the mapping). Tests marked
    ``declarations`` check how rules are declared, not that they hold: they are evidence for none."""
    for item in items:
        if item.get_closest_marker("declarations") is not None:
            item.user_properties.append(("evidence", "none"))
            continue
        item.user_properties.extend(("invariant", name) for name in _rules_of(item))
