"""A ``verify.Runner`` that computes part of a pure computation in a forked child process, so
``gitdocket verify`` uses a second core for the cryptography (a third of its time).

``forked(fn, items)`` forks a child that computes ``[fn(x) for x in items]`` while the parent goes
on; ``result()`` waits for it. The child starts as a copy-on-write image of the parent, so ``fn``
may be a closure over the verification context; only the results travel back, pickled through a
pipe. The results are always exactly what running ``fn`` here gives: when the child cannot be
started, fails or dies, the parent computes the list itself (raising whatever ``fn`` raises).
``fn`` must be pure: what the child changes in its copy of memory is lost.

It forks only where that is safe and worth it: on Linux (fork without exec is unsafe with macOS
system frameworks; Windows has no fork), with a single thread running (a lock another thread
holds would stay locked forever in the child), with more than one CPU to run on, and for at least
``MIN_ITEMS`` items. The child never writes to the repository, and never touches the terminal or
the clock; it leaves with ``os._exit``, so no buffered output or exit handler of the parent runs
twice. It may read the repository (a streamed verify's batches read their logs and frozen files,
ADR 0036): libgit2 reads packs through memory maps and opens loose objects afresh, and with a
single thread no lock of it is held at the fork.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from typing import Any, Generic, NoReturn, TypeVar

__all__ = ["MIN_ITEMS", "Forked", "can_fork", "forked"]

T = TypeVar("T")
R = TypeVar("R")

MIN_ITEMS = 256
"""Fewer items than this are computed in-process: a fork costs milliseconds."""


def can_fork(count: int) -> bool:
    """Whether ``forked`` would fork for ``count`` items here and now."""
    return (
        count >= MIN_ITEMS
        and sys.platform == "linux"
        and threading.active_count() == 1
        and len(os.sched_getaffinity(0)) > 1
    )


class Forked(Generic[R]):
    """The pending results of ``[fn(x) for x in items]``, computed by a child or, failing that,
    here."""

    def __init__(self, fn: Callable[[Any], R], items: Sequence[Any], size: int | None = None) -> None:
        self.fn = fn
        self.items = items
        self.pid = 0
        self.pipe = -1
        if can_fork(len(items) if size is None else size):
            self._start()

    def _start(self) -> None:
        try:
            read, write = os.pipe()
        except OSError:
            return
        try:
            pid = os.fork()
        except OSError:
            os.close(read)
            os.close(write)
            return
        if pid == 0:
            _child(self.fn, self.items, read, write)
        os.close(write)
        self.pid, self.pipe = pid, read

    def result(self) -> list[R]:
        """The results, in the order of the items."""
        if self.pid:
            data, status = self._collect()
            if status == 0:
                with contextlib.suppress(Exception):
                    return list(pickle.loads(data))  # noqa: S301 - our own child's bytes
        return [self.fn(item) for item in self.items]

    def _collect(self) -> tuple[bytes, int]:
        try:
            with os.fdopen(self.pipe, "rb") as pipe:
                data = pipe.read()
            _, status = os.waitpid(self.pid, 0)
        except BaseException:
            self.cancel()
            raise
        self.pid = 0
        return data, status

    def cancel(self) -> None:
        """Stop and reap the child (when the parent gives up on the results)."""
        if not self.pid:
            return
        pid, self.pid = self.pid, 0
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(OSError):
            os.waitpid(pid, 0)
        with contextlib.suppress(OSError):
            os.close(self.pipe)


def forked(fn: Callable[[T], R], items: Sequence[T], *, size: int | None = None) -> Forked[R]:
    """Start computing ``[fn(x) for x in items]`` in a child process (see the module). ``size``
    is the work the items stand for, counted in small items (``len(items)`` when not given):
    a few batches of many scopes each are worth a fork."""
    return Forked(fn, items, size)


def _child(fn: Callable[[Any], Any], items: Sequence[Any], read: int, write: int) -> NoReturn:
    status = 1
    try:
        os.close(read)
        data = pickle.dumps([fn(item) for item in items], protocol=pickle.HIGHEST_PROTOCOL)
        with os.fdopen(write, "wb") as pipe:
            pipe.write(data)
        status = 0
    finally:
        os._exit(status)
