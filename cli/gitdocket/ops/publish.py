"""``--push``: one write published to the remote, or nothing at all.

The write is planned on the remote's tip (fetched first), on a scratch ref that no worktree tracks,
then pushed with a lease: ``git push --atomic --force-with-lease=refs/heads/B:<the tip it planned
on>`` plus its tags, so the branch and the tags land together or not at all, and never over another
writer's commit. When another writer pushed first, the lease fails: fetch, plan again on their
commit (the lifecycle decides again, and may now refuse), bounded retries. Only once the remote
took the commit does the local branch move to it (with the worktree's paths), so a lost race, a
refusal or a rejected push leaves the repository as it was: the scratch ref and the tags of the
commit that was not pushed are dropped.

The local branch may be behind the remote (the write lands on the remote's tip and the branch
fast-forwards) or ahead (its unpushed commits are pushed too, as ``git push`` would); when the two
have diverged, nothing is signed and the user reconciles them first.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime

import pygit2

from gitdocket.adapters import remote as remotes
from gitdocket.adapters.store import GitStore, GitTree
from gitdocket.core.sshsig import Signer
from gitdocket.core.tree import Plan, WriteResult
from gitdocket.errors import ConflictError, StateError

__all__ = ["PUSH_ATTEMPTS", "Published", "push_hint", "push_write"]

PUSH_ATTEMPTS = 5
"""How often a write is planned again on another writer's newer commit before giving up."""


@dataclass(frozen=True)
class Published:
    """A pushed write: where, the ``git push`` line, and how many attempts it took."""

    remote: str
    branch: str
    commit: str
    tags: tuple[str, ...]
    command: str
    attempts: int

    def line(self) -> str:
        tags = f" and {len(self.tags)} tag(s)" if self.tags else ""
        retried = f" (attempt {self.attempts}: another writer pushed first)" if self.attempts > 1 else ""
        return f"pushed {self.commit[:12]}{tags} to {self.remote}/{self.branch}{retried}: {self.command}"


def _base(repo: pygit2.Repository, local: str | None, remote: str | None, branch: str, name: str) -> str | None:
    """The commit to plan on: the newer of the local branch and the remote's, when one contains
    the other."""
    if remote is None or local == remote or (local is not None and repo.descendant_of(local, remote)):
        return local
    if local is None or repo.descendant_of(remote, local):
        return remote
    raise StateError(
        f"branch {branch!r} and {name}/{branch} have diverged: gitdocket will not push over either",
        f"reconcile them first (`git pull --rebase {name} {branch}`, or a merge), then run the command again",
    )


def push_write(
    store: GitStore, plan: Callable[[GitTree], Plan], signer: Signer, when: datetime
) -> tuple[WriteResult, Published]:
    """Plan, commit on a scratch ref, push with a lease, then move the local branch; re-planned on
    the remote's new tip when another writer won the push."""
    branch = store.refname.removeprefix("refs/heads/")
    name = remotes.remote_of(store, branch)
    scratch = GitStore(store.repo, branch, ref=f"refs/gitdocket/push/{branch}")
    for attempt in range(1, PUSH_ATTEMPTS + 1):
        local = _tip(store)
        there = remotes.fetch_branch(store.root, name, branch)
        base = _base(store.repo, local, there, branch, name)
        store.drop([scratch.refname])
        if base is not None:
            store.repo.references.create(scratch.refname, pygit2.Oid(hex=base), force=True)
        result = None
        try:
            result = scratch.write(plan, signer, when)
            paths = store.changed_paths(local, result.commit)
            restored = store.refuse_dirty(paths)
            pushed = remotes.push(
                store.root,
                name,
                [f"{result.commit}:refs/heads/{branch}", *(f"refs/tags/{t}" for t in result.tags)],
                {f"refs/heads/{branch}": there, **{f"refs/tags/{t}": None for t in result.tags}},
            )
        except remotes.PushRejectedError as exc:
            _forget(store, scratch, result)
            if not exc.raced and remotes.fetch_branch(store.root, name, branch) == there:
                raise StateError(
                    f"{name} refused the push, nothing was pushed or written: {exc}",
                    "fix what the remote says (access, branch protection, a hook), then run the command again",
                ) from exc
            continue  # another writer pushed first: plan again on their commit
        except BaseException:
            _forget(store, scratch, result)
            raise
        store.drop([scratch.refname])
        warnings = store.advance(local, result.commit, paths)
        result = replace(result, repairs=(*result.repairs, *restored), warnings=(*result.warnings, *warnings))
        return result, Published(name, branch, result.commit, result.tags, pushed.command, attempt)
    raise ConflictError(
        f"lost the race to {name}/{branch} {PUSH_ATTEMPTS} times: other writers kept pushing first; "
        "nothing was pushed or written",
        "run the command again when the branch is quieter",
    )


def _tip(store: GitStore) -> str | None:
    tip = store.tip()
    return str(tip.id) if tip is not None else None


def _forget(store: GitStore, scratch: GitStore, result: WriteResult | None) -> None:
    """Drop what a write that was not pushed made locally: the scratch ref and its commit's tags."""
    store.drop([scratch.refname, *(f"refs/tags/{t}" for t in (result.tags if result else ()))])


def push_hint(store: GitStore, result: WriteResult) -> str | None:
    """What publishes a write made without ``--push``: one line with the ``git push`` to paste, to
    the remote ``--push`` would use; None when the repository has no remote."""
    branch = store.refname.removeprefix("refs/heads/")
    name = remotes.remote_name(store, branch)
    if name is None:
        return None
    refs = " ".join([branch, *(f"refs/tags/{t}" for t in result.tags)])
    return f"not pushed yet: `git push --atomic {name} {refs}` publishes it (or pass --push)"
