"""Keeping Python's cyclic garbage collector off objects that live to the end of the process: the
modules a command imports (``gitdocket.__main__``, ``commands.lazy``), verification's contexts
(``verify``), and what ``deployments resolve`` imports and replays (ADR 0035). Pure: the
collector is this process's own state, no I/O.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

__all__ = ["gc_paused", "lifelong"]


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while verification builds and checks contexts
    (also usable as a decorator). Verification allocates millions of small objects that all stay
    alive to the end (every event, fold and state), and each automatic collection walks them all
    again: 2.3 s of 14 on 1,000 archetypes / 10,000 versions. Reference counting still frees
    everything that is not cyclic. Nested use, and a collector the caller disabled, are left
    as they are."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


@contextlib.contextmanager
def lifelong() -> Iterator[None]:
    """Build what lives to the end of the process (imports: modules, classes, pydantic models,
    click commands) with the collector paused, then move all of it out of the collector's reach
    (``gc.freeze``), so that no later collection, nor the one at exit, walks it again. Each would
    free next to nothing: a start of ``status`` spent a tenth of its time in them (ADR 0035)."""
    with gc_paused():
        yield
    gc.freeze()
