"""The adapter glue a command runs in: which repository, which keys, what time it is.

``Session.write`` runs an operation inside one store transaction (re-planned on conflict);
``Session.snapshot`` gives a read-only view. The clock is read here, once, and nowhere in the
core: ``DOCKET_NOW`` (RFC 3339) pins it for reproducible demos and tests.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

import pygit2

from docket.errors import InputError, TrustError
from docket.signing import AgentSigner, KeySigner, load_signer
from docket.store import GitStore, GitTree, WriteResult
from docket.transaction import Transaction

__all__ = ["Session", "clock_now"]

T = TypeVar("T")


def clock_now() -> datetime:
    pinned = os.environ.get("DOCKET_NOW")
    if pinned:
        try:
            return datetime.fromisoformat(pinned.replace("Z", "+00:00")).astimezone(UTC)
        except ValueError as exc:
            raise InputError(f"DOCKET_NOW={pinned!r} is not an RFC 3339 time",
                             "use e.g. 2026-01-01T00:00:00Z") from exc
    return datetime.now(UTC).replace(microsecond=0)


@dataclass
class Session:
    repo_path: Path
    key_specs: tuple[str, ...] = ()
    branch: str | None = None
    now: datetime = field(default_factory=clock_now)
    _store: GitStore | None = None

    @property
    def store(self) -> GitStore:
        if self._store is None:
            self._store = GitStore.open(self.repo_path, self.branch)
        return self._store

    def snapshot(self, rev: str | None = None) -> GitTree:
        return self.store.snapshot(rev)

    def signers(self) -> list[KeySigner | AgentSigner]:
        specs = list(self.key_specs)
        if not specs and os.environ.get("DOCKET_SIGNING_KEY"):
            specs = [os.environ["DOCKET_SIGNING_KEY"]]
        if not specs:
            try:
                configured = self.store.repo.config["user.signingkey"]
            except (KeyError, pygit2.GitError):
                configured = None
            if configured:
                specs = [str(configured)]
        if not specs:
            raise TrustError("no signing key configured",
                             "pass --key PATH, set DOCKET_SIGNING_KEY, or `git config user.signingkey`; "
                             "create one with `docket key create`")
        return [load_signer(spec) for spec in specs]

    def write(self, message: str, operation: Callable[[Transaction], T],
              bootstrap_principal: str | None = None) -> tuple[WriteResult, T]:
        """Run ``operation`` in one signed, atomic commit; returns the commit and its result."""
        signers = self.signers()
        box: list[T] = []

        def plan(tree: GitTree) -> object:
            box.clear()
            tx = Transaction(tree, list(signers), self.now, bootstrap_principal)
            box.append(operation(tx))
            return tx.plan(message)

        result = self.store.write(plan, signers[0], self.now)  # type: ignore[arg-type]
        return result, box[0]
