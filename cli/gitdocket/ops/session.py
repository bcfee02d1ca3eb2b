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
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

from gitdocket.adapters.signing import AgentSigner, KeySigner, load_signer
from gitdocket.adapters.store import GitRefs, GitStore, GitTree
from gitdocket.adapters.timeline import newest_event
from gitdocket.core.fields import parse_time
from gitdocket.core.log import newest_time
from gitdocket.core.tree import Plan, TreeView, WriteResult
from gitdocket.errors import InputError, TrustError
from gitdocket.lifecycles import scope
from gitdocket.ops.publish import Published, push_hint, push_write
from gitdocket.ops.transaction import Transaction, load_log

__all__ = ["COMMAND_WRITES", "CommandWrites", "Session", "clock_now", "system_now"]


@dataclass
class CommandWrites:
    """What one command asks of all its writes beyond the commit (``push``: publish each to the
    remote), and what they report back for the command to print (``notes``). A command may open
    several sessions (an import, then a promotion); they share this."""

    push: bool = False
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    """What a write that landed could not finish (it still succeeded: the command exits 0)."""
    pushed: list[Published] = field(default_factory=list)


COMMAND_WRITES: ContextVar[CommandWrites | None] = ContextVar("COMMAND_WRITES", default=None)
"""Set by ``commands.output.writer`` for the duration of one command; a session opened outside a
command (the tests, the demo's helpers) writes locally and its notes go nowhere."""

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
        self.command = COMMAND_WRITES.get() or CommandWrites()

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

    def worktree(self) -> Path | None:
        """The folder a runtime reads files from, or None in a bare registry."""
        repo = self.store.repo
        return None if repo.is_bare or not repo.workdir else Path(repo.workdir)

    def signers(self) -> list[KeySigner | AgentSigner]:
        specs = list(self.key_specs)
        from_env = os.environ.get("GITDOCKET_SIGNING_KEY")
        if not specs and from_env is not None:
            if not from_env.strip():  # an unset CI secret arrives as an empty variable
                raise InputError(
                    "GITDOCKET_SIGNING_KEY is set but empty",
                    "set it to your signing key's path (in GitHub Actions: add the repository secret "
                    "GITDOCKET_SIGNING_KEY), or unset it to use --key or git's user.signingkey",
                )
            specs = [from_env]
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
        """Run ``operation`` in one signed, atomic commit on the current branch; returns the
        commit and its result. A detached HEAD is refused before any key is asked to sign."""
        branch = self.store.refname.removeprefix("refs/heads/")
        now = self.now  # every write needs the clock: a malformed GITDOCKET_NOW fails here, first
        clock = self.clock
        signers = self.signers()
        box: list[T] = []
        deferred: list[str] = []

        def plan(tree: GitTree) -> Plan:
            box.clear()
            # A write off the default branch creates no tags: nor does it complete a missing one.
            refs = GitRefs(tree.repo) if _tags_on(tree, branch) else None
            tx = Transaction(
                tree, list(signers), now, bootstrap_principal, refs, self.store.staged, clock=clock, newest=_newest
            )
            box.append(operation(tx))
            planned = tx.plan(message)
            deferred[:] = [tag.name for tag in planned.tags if not _tags_on(tree, branch)]
            if deferred:
                planned.tags = []
            return planned

        self.command.notes.extend(self.store.repair())  # even a refused write leaves HEAD in the worktree
        if self.command.push:
            result, published = push_write(self.store, plan, signers[0], now)
            self.command.pushed.append(published)
        else:
            result = self.store.write(plan, signers[0], now)
            hint = push_hint(self.store, result)
            if hint is not None:
                self.command.notes.append(hint)
        self.command.notes.extend(result.repairs)
        self.command.warnings.extend(result.warnings)
        if deferred:
            result = replace(result, deferred=tuple(deferred))
            self.command.notes.append(_deferred_note(deferred, branch))
        return result, box[0]


def _tags_on(tree: GitTree, branch: str) -> bool:
    """Whether a write to ``branch`` creates its tags (``RegistryConfig.tags_on``) as the signed
    configuration says; a registry without one (only being made, or not signed yet) keeps every
    tag."""
    config = load_log(tree, scope("config")).state.registry
    return config is None or config.tags_on(branch)


def _deferred_note(tags: list[str], branch: str) -> str:
    return (
        f"created no tag on branch {branch!r} (not the registry's default branch): "
        f"{', '.join(tags)} will be created when this lands there, by `gitdocket tags sync`"
    )
