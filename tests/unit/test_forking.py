"""``forking.forked``: a child process computes ``[fn(x) for x in items]``; the results are
exactly the in-process ones, also when the child fails, dies or cannot be started, and nothing
is left running."""

from __future__ import annotations

import os
import signal
import time

import pytest

from gitdocket.adapters import forking
from gitdocket.verify.context import in_process, run_split

ITEMS = list(range(600))


def square(value: int) -> int:
    return value * value


@pytest.fixture
def fork_always(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fork even under pytest (whatever threads it runs) and for few items."""
    monkeypatch.setattr(forking, "MIN_ITEMS", 1)
    monkeypatch.setattr(forking, "can_fork", lambda count: count >= 1)


@pytest.mark.usefixtures("fork_always")
def test_child_computes_the_in_process_results() -> None:
    job = forking.forked(square, ITEMS)
    assert job.pid > 0  # a child was started
    assert job.result() == [square(x) for x in ITEMS] == list(in_process(square, ITEMS).result())
    assert job.pid == 0  # and reaped


@pytest.mark.usefixtures("fork_always")
def test_results_larger_than_a_pipe_buffer_arrive_whole() -> None:
    def block(value: int) -> bytes:
        return bytes([value % 256]) * 4096

    assert forking.forked(block, ITEMS).result() == [block(x) for x in ITEMS]


@pytest.mark.usefixtures("fork_always")
def test_child_changes_stay_in_the_child_and_results_are_the_parents_own() -> None:
    seen: list[int] = []

    def record(value: int) -> int:
        seen.append(value)
        return value

    assert forking.forked(record, ITEMS).result() == ITEMS
    assert seen == []  # the child appended to its own copy


@pytest.mark.usefixtures("fork_always")
def test_a_failing_child_is_replaced_by_the_parent_which_raises_the_same() -> None:
    calls = {"parent": 0}
    parent = os.getpid()

    def fragile(value: int) -> int:
        if os.getpid() != parent:
            raise RuntimeError("child trouble")
        calls["parent"] += 1
        return value + 1

    assert forking.forked(fragile, ITEMS).result() == [x + 1 for x in ITEMS]
    assert calls["parent"] == len(ITEMS)

    def broken(value: int) -> int:
        raise ValueError(f"bad {value}")

    with pytest.raises(ValueError, match="bad 0"):
        forking.forked(broken, ITEMS).result()


@pytest.mark.usefixtures("fork_always")
def test_a_killed_child_is_replaced_by_the_parent() -> None:
    parent = os.getpid()

    def dies(value: int) -> int:
        if os.getpid() != parent:
            os.kill(os.getpid(), signal.SIGKILL)
        return -value

    assert forking.forked(dies, ITEMS).result() == [-x for x in ITEMS]


@pytest.mark.usefixtures("fork_always")
def test_cancel_kills_and_reaps_the_child() -> None:
    parent = os.getpid()

    def stuck(value: int) -> int:
        if os.getpid() != parent:
            time.sleep(600)
        return value

    job = forking.forked(stuck, ITEMS)
    pid = job.pid
    started = time.monotonic()
    job.cancel()
    assert time.monotonic() - started < 60
    assert job.pid == 0
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)  # already reaped
    assert job.result() == ITEMS  # computed here instead


@pytest.mark.usefixtures("fork_always")
def test_run_split_keeps_the_order_and_cancels_on_failure() -> None:
    assert run_split(forking.forked, square, ITEMS, 250) == [square(x) for x in ITEMS]

    def late_failure(value: int) -> int:
        if value == len(ITEMS) - 1:
            raise KeyError("parent side")
        return value

    with pytest.raises(KeyError, match="parent side"):
        run_split(forking.forked, late_failure, ITEMS, 300)


def test_no_fork_for_few_items_or_with_threads_running(monkeypatch: pytest.MonkeyPatch) -> None:
    assert not forking.can_fork(forking.MIN_ITEMS - 1)
    monkeypatch.setattr(forking.threading, "active_count", lambda: 2)
    assert not forking.can_fork(10 * forking.MIN_ITEMS)
    job = forking.forked(square, ITEMS)
    assert job.pid == 0
    assert job.result() == [square(x) for x in ITEMS]


@pytest.mark.usefixtures("fork_always")
@pytest.mark.parametrize("failing", ["pipe", "fork"])
def test_no_child_when_the_system_refuses_one(monkeypatch: pytest.MonkeyPatch, failing: str) -> None:
    def refuse(*_args: object) -> None:
        raise OSError("Resource temporarily unavailable")

    monkeypatch.setattr(forking.os, failing, refuse)
    job = forking.forked(square, ITEMS)
    assert job.pid == 0
    assert job.result() == [square(x) for x in ITEMS]
