"""The crash hook of the write path: ``GITDOCKET_TEST_CRASH_AT=<step>`` kills the process at that
step with SIGKILL, as a power cut or ``kill -9`` would, so the crash tests run real processes
really killed between two steps of a write (``tests/integration/test_crash.py``).

The steps, in the order a write passes them (``docs/failures.md`` says what each leaves):

- ``after-sign``: the commit and its tags are signed, their objects are still in the write's
  private object folder; no ref moved.
- ``in-swap``: the branch and tag refs are locked (``*.lock`` files) and the objects moved into the
  repository; no ref moved.
- ``after-swap``: the branch and the tags moved; the worktree still shows the old content.
- ``in-checkout``: the write marked that it is checking out, and has not begun; a kill inside
  libgit2's checkout leaves some files new, the index old and ``index.lock`` (the crash tests
  build that by hand from here).
- ``after-worktree``: the written paths are checked out; the command has not reported yet.

Outside the tests the variable is unset and ``crash_point`` is one dictionary lookup.
"""

from __future__ import annotations

import os
import signal

__all__ = ["CRASH_STEPS", "crash_point"]

CRASH_STEPS = ("after-sign", "in-swap", "after-swap", "in-checkout", "after-worktree")
VARIABLE = "GITDOCKET_TEST_CRASH_AT"


def crash_point(step: str) -> None:
    """Die here, at once and without cleaning up, when the crash hook names ``step``."""
    if os.environ.get(VARIABLE) == step:
        os.kill(os.getpid(), signal.SIGKILL)
