"""A streamed snapshot verify (ADR 0036: versions and packages judged an archetype at a time, then
released) finds exactly what the whole verify finds: on every row of the tamper catalogue, in one
process and with batches judged by a forked child, and on random registries of several archetypes
with legal writes and tamperings. And it holds what it promised to release, released."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gitdocket.adapters.files import load_yaml
from gitdocket.adapters.store import GitRefs, GitStore
from gitdocket.errors import DocketError
from gitdocket.verify import context, stream
from gitdocket.verify.context import Context, Runner, in_process
from gitdocket.verify.findings import Finding
from gitdocket.verify.snapshot import check_log
from gitdocket.verify.stream import LEAVES, verify_snapshot, verify_streamed
from tests.integration.forgery import Forger, published_registry
from tests.integration.forking_support import forking_always
from tests.integration.test_verify_modes import TAMPERS
from tests.integration.test_verify_tamper import CATALOGUE, Tamper
from tests.support import EXAMPLES, Registry, new_registry

CLOCK = "2030-01-01T00:00:00Z"


def _verify(registry: Registry, runner: Runner = in_process, stream_from: int | None = 0) -> list[Finding]:
    store = GitStore.open(registry.path)
    refs = GitRefs(store.repo)
    return verify_snapshot(store.snapshot(), refs, runner, parse_yaml=load_yaml, clock=CLOCK, stream_from=stream_from)


@pytest.mark.parametrize(("tamper", "expected"), CATALOGUE)
def test_streamed_verify_finds_the_same(
    registry: Registry, monkeypatch: pytest.MonkeyPatch, tamper: Tamper, expected: set[str]
) -> None:
    registry.add_archetype("release-notes")  # a second batch (first: the tampers go by the last commits)
    published = published_registry(registry)
    forger = Forger(published)
    tamper(forger)
    forger.commit()
    whole = _verify(published, stream_from=None)
    assert {f.code for f in whole} >= expected
    assert _verify(published) == whole
    runner, children = forking_always(monkeypatch)
    monkeypatch.setattr(stream, "CHILD_SHARE", 1.0)  # every batch judged by the child
    assert _verify(published, runner) == whole
    assert any(children), "no child process ran"


def _source(reg: Registry, name: str) -> Path:
    """The support-triage example, named ``name``."""
    folder = reg.path.parent / "sources" / name
    shutil.copytree(EXAMPLES / "support-triage", folder)
    yaml = folder / "archetype.yaml"
    yaml.write_text(yaml.read_text().replace("name: support-triage", f"name: {name}", 1))
    return folder


def _published(reg: Registry, number: int) -> None:
    name = f"agent-{number}"
    reg.add_archetype(name, _source(reg, name))
    reg.ok("version", "freeze", name, "1.0.0")
    reg.ok("package", "publish", name, "1.0.0")


def _second(reg: Registry, _number: int) -> None:
    reg.ok("version", "freeze", "support-triage", "1.1.0")


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(st.sampled_from([_published, _second]), st.sampled_from(TAMPERS)), min_size=1, max_size=5))
def test_random_registries(changes: list[Callable[[Registry, int], None]]) -> None:
    """Several archetypes, legal writes and tamperings in any order: streamed equals whole."""
    with tempfile.TemporaryDirectory(prefix="gitdocket-stream-") as tmp:
        reg = published_registry(new_registry(Path(tmp)))
        for number, change in enumerate(changes):
            try:
                change(reg, number)
            except (AssertionError, OSError, DocketError, subprocess.CalledProcessError):
                continue  # refused or impossible after an earlier tampering
        assert _verify(reg) == _verify(reg, stream_from=None)


def test_times_are_judged_in_batches(registry: Registry) -> None:
    """A verifier's clock before the events: every event is in the future, streamed or not."""
    published = published_registry(registry)
    store = GitStore.open(published.path)
    tree, refs = store.snapshot(), GitRefs(store.repo)
    early = "2025-06-01T00:00:00Z"
    whole = verify_snapshot(tree, refs, parse_yaml=load_yaml, clock=early, stream_from=None)
    streamed = verify_snapshot(tree, refs, parse_yaml=load_yaml, clock=early, stream_from=0)
    assert streamed == whole
    future = {f.path.rsplit("/", 1)[0] for f in whole if f.code == "EVENT_IN_FUTURE"}
    assert {"registry/versions/support-triage/1.0.0", "registry/packages/support-triage/1.0.0"} <= future


def test_versions_and_packages_are_released(registry: Registry, monkeypatch: pytest.MonkeyPatch) -> None:
    """After a streamed verify no version or package holds its parsed log beyond the few a check
    read again; reading one again gives what the whole verify held."""
    published = published_registry(registry)
    for number in range(3):
        _published(published, number)
    monkeypatch.setattr(context, "RESTORED", 1)
    store = GitStore.open(published.path)
    tree, refs = store.snapshot(), GitRefs(store.repo)
    streamed = Context(tree, refs, parse_yaml=load_yaml, clock=CLOCK, replay=check_log, stream=(LEAVES, 0))
    assert streamed.streamed == LEAVES
    verify_streamed(streamed)
    whole = Context(tree, refs, parse_yaml=load_yaml, clock=CLOCK)
    leaves = [s for s in whole.records if s.kind in LEAVES]
    assert len(leaves) == 8
    held = [s for s in leaves if "events" in vars(streamed.records[s])]
    assert len(held) <= 1
    assert streamed.newest == whole.newest  # from the logs' bytes, not by reading every record again
    assert [s for s in leaves if "events" in vars(streamed.records[s])] == held
    for target in leaves:
        again, full = streamed.records[target], whole.records[target]
        check_log(whole, full)
        assert (again.lines, again.events, again.states) == (full.lines, full.events, full.states)
        assert again.broken == full.broken


def test_a_small_registry_is_not_streamed(registry: Registry) -> None:
    published = published_registry(registry)
    store = GitStore.open(published.path)
    ctx = Context(store.snapshot(), parse_yaml=load_yaml, stream=(LEAVES, stream.STREAM_FROM))
    assert ctx.streamed == frozenset()
