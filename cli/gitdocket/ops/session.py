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

import importlib
import os
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from gitdocket.adapters.store import GitRefs, GitStore, GitTree
from gitdocket.core.fields import parse_time
from gitdocket.core.tree import Plan, TagSpec, TreeView, WriteResult
from gitdocket.errors import DocketError, InputError, StateError, TrustError
from gitdocket.lifecycles import scope
from gitdocket.ops.logs import load_log

# What only a write (signers, keyless, the transaction, pushing, plans) or ``--at`` needs is
# imported where it is used: a read starts without them (ADR 0035, ``make bench``'s start-up rows).
if TYPE_CHECKING:
    from gitdocket.adapters.keyless import KeylessSigner
    from gitdocket.adapters.signing import AgentSigner, KeySigner
    from gitdocket.ops.plans import WritePlan
    from gitdocket.ops.publish import Published
    from gitdocket.ops.transaction import Transaction

__all__ = ["COMMAND_WRITES", "CommandWrites", "Session", "clock_now", "system_now"]


@dataclass
class CommandWrites:
    """What one command asks of all its writes beyond the commit (``push``: publish each to the
    remote), and what they report back for the command to print (``notes``). A command may open
    several sessions (an import, then a promotion); they share this."""

    push: bool = False
    dry_run: bool = False
    """Plan every write and stop before the store writes anything (``PlanReady`` carries it)."""
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
    from gitdocket.adapters.timeline import newest_event
    from gitdocket.core.log import newest_time

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

    def view(self, rev: str | None = None, at: datetime | None = None) -> TreeView:
        """What a read answers from: the registry at ``rev`` (default: what is checked out), as
        its logs say it stood at ``at`` when given (``verify.asof``; a time before the registry
        existed is bad input)."""
        tree = self.snapshot(rev)
        if at is None:
            return tree
        from gitdocket.adapters.past import Earlier
        from gitdocket.verify.asof import AsOf

        return AsOf.checked(tree, at, Earlier(tree.repo, tree.commit).current)

    def worktree(self) -> Path | None:
        """The folder a runtime reads files from, or None in a bare registry."""
        repo = self.store.repo
        return None if repo.is_bare or not repo.workdir else Path(repo.workdir)

    def signers(self) -> list[KeySigner | AgentSigner]:
        from gitdocket.adapters.signing import load_signer

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

    def cosigners(self) -> list[KeylessSigner]:
        """The keyless signer ``GITDOCKET_SIGSTORE`` names (the policy's name for this workflow's
        Sigstore identity), signing with the ambient OIDC token: GitHub Actions' keyless path
        (ADR 0022). ``auto``: the policy's identity for the running workflow
        (``GITHUB_WORKFLOW_REF``), or none, and the SSH key signs alone (the deploy-key path).
        ``GITDOCKET_SIGSTORE_SIGNER=module:function`` swaps the Fulcio and Rekor calls for
        another signer (a private Sigstore instance; the tests' generated one): what it makes is
        verified against the pinned trusted root like any bundle."""
        from gitdocket.adapters.keyless import KeylessSigner

        principal = os.environ.get("GITDOCKET_SIGSTORE", "").strip()
        if principal == "auto":
            principal = self._workflow_identity() or ""
        if not principal:
            return []
        return [KeylessSigner(principal, _signer_hook(os.environ.get("GITDOCKET_SIGSTORE_SIGNER", "")))]

    def _workflow_identity(self) -> str | None:
        """The policy's Sigstore identity whose certificate identity is this workflow run's."""
        ref = os.environ.get("GITHUB_WORKFLOW_REF", "").strip()
        if not ref:
            return None
        subject = f"{os.environ.get('GITHUB_SERVER_URL', 'https://github.com').rstrip('/')}/{ref}"
        policy = load_log(self.snapshot(), scope("policy")).state
        names = [i.name for i in policy.identities.values() if i.kind == "sigstore" and i.subject == subject]
        if not names:
            self.command.notes.append(
                f"no keyless identity for {subject} in the policy: the SSH key signs alone (docs/ci-identities.md)"
            )
        return min(names) if names else None

    def write(
        self, message: str, operation: Callable[[Transaction], T], bootstrap_principal: str | None = None
    ) -> tuple[WriteResult, T]:
        """Run ``operation`` in one signed, atomic commit on the current branch; returns the
        commit and its result. A detached HEAD is refused before any key is asked to sign."""
        from gitdocket.adapters.keyless import keyless_check
        from gitdocket.adapters.timeline import remember_write
        from gitdocket.ops.plans import PlanReady
        from gitdocket.ops.publish import push_hint, push_write
        from gitdocket.ops.transaction import Transaction

        branch = self.store.refname.removeprefix("refs/heads/")
        now = self.now  # every write needs the clock: a malformed GITDOCKET_NOW fails here, first
        clock = self.clock
        signers = self.signers()
        cosigners = self.cosigners()
        box: list[T] = []
        deferred: list[str] = []
        boxed: list[Transaction] = []

        def plan(tree: GitTree) -> Plan:
            box.clear()
            # A write off the default branch creates no tags: nor does it complete a missing one.
            tags_here = _tags_on(tree, branch)
            refs = GitRefs(tree.repo) if tags_here else None
            tx = Transaction(
                tree,
                list(signers),
                now,
                bootstrap_principal,
                refs,
                self.store.staged,
                clock=clock,
                newest=_newest,
                cosigners=cosigners,
                sigstore=keyless_check(tree),
            )
            boxed[:] = [tx]
            box.append(operation(tx))
            planned = tx.plan(message)
            deferred[:] = [] if tags_here else [tag.name for tag in planned.tags]
            if deferred:
                planned.tags = []
            return planned

        if self.command.dry_run:
            raise PlanReady(self._rehearse(message, plan, boxed))
        self.command.notes.extend(self.store.repair())  # even a refused write leaves HEAD in the worktree
        if self.command.push:
            result, published = push_write(self.store, plan, signers[0], now)
            self.command.pushed.append(published)
        else:
            result = self.store.write(plan, signers[0], now)
            hint = push_hint(self.store, result)
            if hint is not None:
                self.command.notes.append(hint)
        # The next write finds this commit's newest event cached, not by reading back its logs.
        remember_write(self.store.repo, boxed[0].tree.commit, result.commit, boxed[0].writes)
        self.command.notes.extend(result.repairs)
        self.command.warnings.extend(result.warnings)
        if deferred:
            result = replace(result, deferred=tuple(deferred))
            self.command.notes.append(_deferred_note(deferred, branch))
        return result, box[0]

    def _rehearse(self, message: str, plan: Callable[[GitTree], Plan], boxed: list[Transaction]) -> WritePlan:
        """The dry run of one write: plan on the tip, write nothing; a refusal is kept in the plan
        (the command prints what was planned up to it, then fails as the real one would)."""
        from gitdocket.ops.plans import plan_of

        refusal: DocketError | None = None
        tags: list[TagSpec] = []
        try:
            tags = self.store.rehearse(plan).tags  # without those a write off the default branch defers
        except DocketError as exc:
            refusal = exc
        if not boxed:  # refused before any transaction existed (no policy, no key)
            if refusal is not None:
                raise refusal
            raise StateError("the dry run planned nothing", "run the command without --dry-run")
        tx = boxed[0]
        return plan_of(message, tx.tree, tx.writes, tags, tx.planned, tx.checks, tx.notes, refusal)


def _signer_hook(spec: str) -> Callable[[bytes], dict[str, Any]] | None:
    """The signing function ``module:function`` names, or None for the ambient one."""
    if not spec.strip():
        return None
    module, _, name = spec.strip().partition(":")
    try:
        found = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError, ValueError) as exc:
        raise InputError(
            f"GITDOCKET_SIGSTORE_SIGNER={spec!r} names no importable function ({exc})",
            "unset it to sign with GitHub's ambient OIDC token, or name it as module:function",
        ) from exc
    if not callable(found):
        raise InputError(f"GITDOCKET_SIGSTORE_SIGNER={spec!r} is not callable", "name a function: module:function")
    signer: Callable[[bytes], dict[str, Any]] = found
    return signer


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
