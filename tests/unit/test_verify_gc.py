"""Verification pauses the cyclic garbage collector while it works and always restores it."""

from __future__ import annotations

import gc
from collections.abc import Iterable

import pytest

from gitdocket.adapters.files import load_yaml
from gitdocket.core.collector import gc_paused, lifelong
from gitdocket.core.tree import MemoryTree
from gitdocket.verify import snapshot, stream
from gitdocket.verify.context import Context
from gitdocket.verify.findings import Finding


def test_gc_paused_nests_and_restores() -> None:
    assert gc.isenabled()
    with gc_paused():
        assert not gc.isenabled()
        with gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # the inner pause does not re-enable early
    assert gc.isenabled()


def test_gc_paused_leaves_a_disabled_collector_disabled() -> None:
    gc.disable()
    try:
        with gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_lifelong_pauses_then_freezes_what_was_built() -> None:
    """An import's objects: built with the collector paused, then frozen out of its reach (and
    the collector running again)."""
    before = gc.get_freeze_count()
    try:
        with lifelong():
            assert not gc.isenabled()
            built = [[object()] for _ in range(100)]
        assert gc.isenabled()
        assert gc.get_freeze_count() >= before + len(built)
    finally:
        gc.unfreeze()


def test_verify_snapshot_runs_paused_and_restores_after_an_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: list[bool] = []

    def spy(_ctx: Context) -> Iterable[Finding]:
        seen.append(gc.isenabled())
        return []

    def boom(_ctx: Context) -> Iterable[Finding]:
        raise RuntimeError("check failed")

    monkeypatch.setattr(snapshot, "CHECKS", [spy])
    stream.verify_snapshot(MemoryTree({}), parse_yaml=load_yaml)
    assert seen == [False]
    assert gc.isenabled()
    monkeypatch.setattr(snapshot, "CHECKS", [boom])
    with pytest.raises(RuntimeError, match="check failed"):
        stream.verify_snapshot(MemoryTree({}), parse_yaml=load_yaml)
    assert gc.isenabled()
