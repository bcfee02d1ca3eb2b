"""The adapter glue a command runs in: which repository, which keys, what time it is.

``Session.write`` runs an operation inside one store transaction (re-planned on conflict);
``Session.snapshot`` gives a read-only view. The clock is read here, and nowhere in the core.

Two clocks (ADR 0014). ``now`` is the time a write records in its events: ``GITDOCKET_NOW``
(RFC 3339) pins it for reproducible demos and tests, else the system clock; it is read lazily,
once, the first time a command asks (every write does), so a read-only command never fails on a
malformed ``GITDOCKET_NOW``. ``system_now`` is the machine's clock, which judges: the policy must be
unexpired at it and no event may be dated after it, whatever ``GITDOCKET_NOW`` says, so
``GITDOCKET_NOW`` can only date a write between the registry's newest event and the present.
``verify`` reads only ``system_now`` (or its ``--at``).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

from gitdocket.adapters.signing import AgentSigner, KeySigner, load_signer
from gitdocket.adapters.store import GitStore, GitTree
from gitdocket.adapters.timeline import newest_event
from gitdocket.core.fields import parse_time
from gitdocket.core.log import newest_time
from gitdocket.core.tree import TreeView, WriteResult
from gitdocket.errors import InputError, TrustError
from gitdocket.ops.transaction import Transaction

__all__ = ["Session", "clock_now", "system_now"]

T = TypeVar("T")


def system_now() -> datetime:
    """The machine's clock, to the second: what judges time. Never ``GITDOCKET_NOW``."""
    return datetime.now(UTC).replace(microsecond=0)


def clock_now() -> datetime:
    """The time a write records: ``GITDOCKET_NOW`` when set, else ``system_now``."""
    pinned = os.environ.get("GITDOCKET_NOW")
    if pinned:
        try:
            return parse_time(pinned)
        except ValueError as exc:
            raise InputError(
                f"GITDOCKET_NOW={pinned!r} is not an RFC 3339 time", "use e.g. 2026-01-01T00:00:00Z"
            ) from exc
    return system_now()


def _newest(tree: TreeView) -> str | None:
    return newest_event(tree) if isinstance(tree, GitTree) else newest_time(tree)


class Session:
    """One command's repository, keys and (lazily) clock; ``now`` pins the clock."""

    def __init__(
        self,
        repo_path: Path,
        key_specs: tuple[str, ...] = (),
        branch: str | None = None,
        now: datetime | None = None,
        _store: GitStore | None = None,
    ) -> None:
        self.repo_path = repo_path
        self.key_specs = key_specs
        self.branch = branch
        self._now = now
        self._clock: datetime | None = None
        self._store = _store

    @property
    def now(self) -> datetime:
        """The time this command's events record, read on first use (``GITDOCKET_NOW`` or the
        system clock)."""
        if self._now is None:
            self._now = clock_now()
        return self._now

    @property
    def clock(self) -> datetime:
        """The system clock, read on first use: what judges the events' time."""
        if self._clock is None:
            self._clock = system_now()
        return self._clock

    @property
    def store(self) -> GitStore:
        if self._store is None:
            self._store = GitStore.open(self.repo_path, self.branch)
        return self._store

    def snapshot(self, rev: str | None = None) -> GitTree:
        return self.store.snapshot(rev)

    def signers(self) -> list[KeySigner | AgentSigner]:
        specs = list(self.key_specs)
        if not specs and os.environ.get("GITDOCKET_SIGNING_KEY"):
            specs = [os.environ["GITDOCKET_SIGNING_KEY"]]
        if not specs:
            configured = self.store.git_config("user.signingkey")
            if configured:
                specs = [configured]
        if not specs:
            raise TrustError(
                "no signing key configured",
                "pass --key PATH, set GITDOCKET_SIGNING_KEY, or `git config user.signingkey`; "
                "create one with `gitdocket key create`",
            )
        return [load_signer(spec) for spec in specs]

    def write(
        self, message: str, operation: Callable[[Transaction], T], bootstrap_principal: str | None = None
    ) -> tuple[WriteResult, T]:
        """Run ``operation`` in one signed, atomic commit; returns the commit and its result."""
        now = self.now  # every write needs the clock: a malformed GITDOCKET_NOW fails here, first
        clock = self.clock
        signers = self.signers()
        box: list[T] = []

        def plan(tree: GitTree) -> object:
            box.clear()
            tx = Transaction(tree, list(signers), now, bootstrap_principal, clock=clock, newest=_newest)
            box.append(operation(tx))
            return tx.plan(message)

        result = self.store.write(plan, signers[0], now)  # type: ignore[arg-type]
        return result, box[0]
