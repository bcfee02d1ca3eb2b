"""Verification with part of its work in a forked child (what ``gitdocket verify`` does on a large
registry) finds exactly what it finds in one process, for every row of the tamper catalogue."""

from __future__ import annotations

import pytest

from gitdocket.adapters.files import load_yaml
from gitdocket.adapters.store import GitRefs, GitStore
from gitdocket.verify import verify_snapshot
from gitdocket.verify.context import Runner, in_process
from gitdocket.verify.findings import Finding
from tests.integration.forgery import Forger, published_registry
from tests.integration.forking_support import forking_always
from tests.integration.test_verify_tamper import CATALOGUE, Tamper
from tests.support import Registry


def _findings(registry: Registry, runner: Runner) -> list[Finding]:
    store = GitStore.open(registry.path)
    return verify_snapshot(store.snapshot(), GitRefs(store.repo), runner=runner, parse_yaml=load_yaml)


@pytest.mark.parametrize(("tamper", "expected"), CATALOGUE)
def test_forked_verify_finds_the_same(
    registry: Registry, monkeypatch: pytest.MonkeyPatch, tamper: Tamper, expected: set[str]
) -> None:
    published = published_registry(registry)
    forger = Forger(published)
    tamper(forger)
    forger.commit()
    here = _findings(published, in_process)

    runner, children = forking_always(monkeypatch)
    there = _findings(published, runner)
    assert there == here
    assert {f.code for f in here} == expected
    assert any(children), "no child process ran"
