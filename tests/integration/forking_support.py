"""A runner that forks for any number of items, and the children it started: what the tests of a
verify split across two processes use to make sure a child really ran."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import pytest

from gitdocket.adapters import forking
from gitdocket.verify.context import Runner


def forking_always(monkeypatch: pytest.MonkeyPatch) -> tuple[Runner, list[int]]:
    """``forking.forked`` for any number of items, and the pids of the children it started."""
    monkeypatch.setattr(forking, "can_fork", lambda count: count >= 1)
    children: list[int] = []

    def counted(fn: Callable[[Any], Any], items: Sequence[Any], *, size: int | None = None) -> forking.Forked[Any]:
        job = forking.forked(fn, items, size=size)
        children.append(job.pid)
        return job

    return counted, children
