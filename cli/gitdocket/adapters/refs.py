"""The one ref transaction of a write: the branch's compare-and-swap and the tags, together.

Every ref a write moves is locked first (git's ``<ref>.lock`` files, through libgit2's
``repo.transaction()``); then the branch must still be where the write was planned and no tag it
creates may exist; then the write's objects land (``quarantine``) and every ref moves in one
commit of the transaction. A lock in the way is ``RefLockedError`` with the lock described
(``locks.RefLock``: busy or dead), a moved branch or a taken tag ``RefConflictError`` (the
store re-plans). Nothing here signs: every signature is made before.
"""

from __future__ import annotations

import pygit2
from pygit2.transaction import ReferenceTransaction

from gitdocket.adapters.faults import crash_point
from gitdocket.adapters.locks import RefLock, file_clock, ref_lock
from gitdocket.adapters.quarantine import Quarantine, objects_dir

__all__ = ["RefConflictError", "RefLockedError", "move_tags", "swap"]


class RefConflictError(Exception):
    """The branch moved between read and compare-and-swap, or a tag appeared (re-plan)."""


class RefLockedError(Exception):
    """A ref the write must move is locked by a ``.lock`` file."""

    def __init__(self, lock: RefLock) -> None:
        super().__init__(str(lock.path))
        self.lock = lock


def _lock(txn: ReferenceTransaction, ref: str, repo: pygit2.Repository) -> None:
    try:
        txn.lock_ref(ref)
    except pygit2.GitError as exc:
        found = ref_lock(objects_dir(repo).parent, ref, file_clock())
        if found is None:
            raise
        raise RefLockedError(found) from exc


def _lock_all(txn: ReferenceTransaction, refs: list[str], repo: pygit2.Repository, quarantine: Quarantine) -> None:
    """Lock every ref, and tell the quarantine which lock files are this write's: if it is killed
    before the transaction commits, the next write removes exactly those."""
    git_dir = objects_dir(repo).parent
    for count, ref in enumerate(refs, start=1):
        _lock(txn, ref, repo)
        quarantine.hold([git_dir / f"{held}.lock" for held in refs[:count]])  # at once: a kill may follow


def swap(
    repo: pygit2.Repository,
    refname: str,
    expected: pygit2.Oid | None,
    commit: pygit2.Oid | None,
    tags: list[tuple[str, pygit2.Oid]],
    quarantine: Quarantine,
) -> None:
    """Compare-and-swap ``refname`` from ``expected`` to ``commit`` (None: the branch stays, a
    write of tags only) and create ``tags`` (none may exist), in one ref transaction."""
    refs = [refname, *(f"refs/tags/{name}" for name, _ in tags)]
    with repo.transaction() as txn:
        _lock_all(txn, refs, repo, quarantine)
        current = repo.references.get(refname)
        if (current.target if current is not None else None) != expected:
            raise RefConflictError(refname)
        if any(repo.references.get(ref) is not None for ref in refs[1:]):
            raise RefConflictError(refname)  # a concurrent writer took a tag: re-plan
        quarantine.land()
        crash_point("in-swap")
        if commit is not None:
            txn.set_target(refname, commit, message="docket: compare-and-swap")
        for (name, oid), ref in zip(tags, refs[1:], strict=True):
            txn.set_target(ref, oid, message=f"docket: tag {name}")


def move_tags(
    repo: pygit2.Repository, signed: list[tuple[str, pygit2.Oid, str | None]], quarantine: Quarantine
) -> None:
    """Create or move tags ``(name, tag object, expected)`` in one ref transaction: each must
    still peel to ``expected`` (None: must not exist), as ``gitdocket tags sync`` planned."""
    refs = [f"refs/tags/{name}" for name, _, _ in signed]
    with repo.transaction() as txn:
        _lock_all(txn, refs, repo, quarantine)
        for ref, (_name, _oid, expected) in zip(refs, signed, strict=True):
            current = repo.references.get(ref)
            now = str(current.peel(pygit2.Commit).id) if current is not None else None
            if now != expected:
                raise RefConflictError(ref)
        quarantine.land()
        for ref, (_name, oid, _expected) in zip(refs, signed, strict=True):
            txn.set_target(ref, oid, message="docket: tags sync")
