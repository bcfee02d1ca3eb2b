"""Fixtures: every test runs with an isolated HOME and git config and a pinned clock: both the
time writes record (``GITDOCKET_NOW``) and the system clock that judges time (which, in a test,
follows ``GITDOCKET_NOW`` unless the test pins it elsewhere with ``support.pin_system_clock``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from gitdocket.errors import Invariant
from gitdocket.lifecycles import INVARIANTS
from gitdocket.lifecycles.environment import GATE_CHECKS
from gitdocket.site.evidence import rules_named
from tests.support import Registry, isolated, run_cli, write_key


@pytest.fixture(autouse=True)
def isolate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    with isolated(tmp_path / "home", monkeypatch):
        yield


def _registry(tmp_path: Path, *extra: str) -> Registry:
    keys = tmp_path / "keys"
    keys.mkdir()
    alice = write_key(keys, "alice")
    path = tmp_path / "reg"
    result = run_cli("init", path, "--identity", "alice", "--key", alice, *extra)
    assert result.code == 0, result.err
    reg = Registry(path, keys, alice)
    reg.principals["alice"] = alice
    return reg


@pytest.fixture
def registry(tmp_path: Path) -> Registry:
    """A fresh registry with a worktree, initialized by alice."""
    return _registry(tmp_path)


@pytest.fixture
def seed_registry(tmp_path: Path) -> Registry:
    """A fresh registry whose gate is seed 002's (``--gate-preset agent-skills``)."""
    return _registry(tmp_path, "--gate-preset", "agent-skills")


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
