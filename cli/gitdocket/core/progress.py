"""How long work says how far it got, without printing: the progress API.

Work that may take seconds (verifying every scope of a large registry, hashing a bundle's
files, exporting or importing one, reading a big method) calls ``steps(label, items)`` — or
``advance`` for work that is not a loop — and goes on. What happens with that is injected by
the command layer (``commands.output``, with ``reporting``): a rich progress bar on a terminal,
nothing otherwise, nothing under ``--quiet``. By default nobody listens, so tests, the demo's
helpers and every pure caller pay one context-variable read per step and print nothing.

A ``Reporter`` gets ``(label, done, total)``: ``done`` counts up to ``total``; the last call of
a task has ``done == total``. It must be cheap; it is called from the thread that does the work
(never from a worker of a pool: callers report as results come back).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TypeVar

__all__ = ["Reporter", "advance", "reporting", "silent", "steps"]

Reporter = Callable[[str, int, int], None]
T = TypeVar("T")


def silent(label: str, done: int, total: int) -> None:
    """The reporter nobody listens to."""
    del label, done, total


_REPORTER: ContextVar[Reporter] = ContextVar("gitdocket_progress", default=silent)


@contextmanager
def reporting(reporter: Reporter) -> Iterator[None]:
    """Send the progress of the work inside to ``reporter`` (what a command injects)."""
    token = _REPORTER.set(reporter)
    try:
        yield
    finally:
        _REPORTER.reset(token)


def advance(label: str, done: int, total: int) -> None:
    """Say that ``done`` of ``total`` units of ``label`` are done."""
    _REPORTER.get()(label, done, total)


def steps(label: str, items: Sequence[T]) -> Iterator[T]:
    """``items``, one by one, reporting each as done once the caller asks for the next."""
    reporter = _REPORTER.get()
    total = len(items)
    for done, item in enumerate(items):
        reporter(label, done, total)
        yield item
    reporter(label, total, total)
