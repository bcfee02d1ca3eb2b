"""The adapter glue a command runs in: which repository, which keys, what time it is.

``Session.write`` runs an operation inside one store transaction (re-planned on conflict);
``Session.snapshot`` gives a read-only view. The clock is read here, and nowhere in the core:
``GITDOCKET_NOW`` (RFC 3339) pins it for reproducible demos and tests. It is read lazily, once, the
first time a command asks for ``now`` (every write does), so a read-only command never fails on a
malformed ``GITDOCKET_NOW``.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

from gitdocket.adapters.signing import AgentSigner, KeySigner, load_signer
from gitdocket.adapters.store import GitRefs, GitStore, GitTree
from gitdocket.core.fields import parse_time
from gitdocket.core.tree import WriteResult
from gitdocket.errors import InputError, TrustError
from gitdocket.ops.transaction import Transaction

__all__ = ["Session", "clock_now"]

T = TypeVar("T")


def clock_now() -> datetime:
    pinned = os.environ.get("GITDOCKET_NOW")
    if pinned:
        try:
            return parse_time(pinned)
        except ValueError as exc:
            raise InputError(
                f"GITDOCKET_NOW={pinned!r} is not an RFC 3339 time", "use e.g. 2026-01-01T00:00:00Z"
            ) from exc
    return datetime.now(UTC).replace(microsecond=0)


class Session:
    """One command's repository, keys and (lazily) clock; ``now`` pins the clock."""

    def __init__(
        self,
        repo_path: Path,
        key_specs: tuple[str, ...] = (),
        branch: str | None = None,
        now: datetime | None = None,
        _store: GitStore | None = None,
        tell: Callable[[str, str], None] | None = None,
    ) -> None:
        self.repo_path = repo_path
        self.key_specs = key_specs
        self.branch = branch
        self._now = now
        self._store = _store
        self.tell = tell
        """Told ``("note", text)`` of what a write repaired of an interrupted earlier one, and
        ``("warning", text)`` of what a write that landed could not finish (the command prints
        them; it succeeds whatever they say)."""

    @property
    def now(self) -> datetime:
        """The command's clock, read on first use (``GITDOCKET_NOW`` or the system clock)."""
        if self._now is None:
            self._now = clock_now()
        return self._now

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
        signers = self.signers()
        box: list[T] = []

        def plan(tree: GitTree) -> object:
            box.clear()
            tx = Transaction(tree, list(signers), now, bootstrap_principal, GitRefs(tree.repo), self.store.staged)
            box.append(operation(tx))
            return tx.plan(message)

        self._told("note", self.store.repair())
        result = self.store.write(plan, signers[0], now)  # type: ignore[arg-type]
        self._told("note", result.repairs)
        self._told("warning", result.warnings)
        return result, box[0]

    def _told(self, kind: str, texts: tuple[str, ...]) -> None:
        for text in texts:
            if self.tell is not None:
                self.tell(kind, text)
