"""The worktree of a registry whose branch gitdocket writes: refuse to overwrite local edits,
check the written paths out after the swap, and put back what an interrupted write left stale.

A write moves the branch first and checks its paths out after. A process killed in between leaves
those paths as they were before the write: the index and the files hold the old content, which
``git status`` shows as staged changes that would *undo* the signed event. Such a path is
**stale**: its index entry and its file agree (nothing was edited since), and both hold the content
the path had at one of the last ``LOOKBACK`` first-parent commits of the branch (or its absence
then), not at HEAD. Stale content is in git history by definition, so restoring it from HEAD loses
nothing: every write does that first and says so. Any other change is the user's, and is refused
with a hint that keeps it (commit) or discards it explicitly — never ``stash``, which would bring
stale content back over a signed event.
"""

from __future__ import annotations

import contextlib
import hashlib
import shlex
from collections.abc import Iterable
from pathlib import Path

import pygit2
from pygit2.enums import CheckoutStrategy, FileStatus

from gitdocket.adapters.locks import file_clock, ref_lock
from gitdocket.errors import StateError

__all__ = ["LOOKBACK", "check_out", "restored_note", "settle", "update"]

LOOKBACK = 16
"""How many first-parent commits back a stale path's content is looked for. A crash leaves the
content of the commit just before the write; a few later writes may have landed since."""

_WORKTREE_FLAGS = FileStatus.WT_NEW | FileStatus.WT_MODIFIED | FileStatus.WT_DELETED | FileStatus.WT_TYPECHANGE
_INDEX_FLAGS = (
    FileStatus.INDEX_NEW
    | FileStatus.INDEX_MODIFIED
    | FileStatus.INDEX_DELETED
    | FileStatus.INDEX_TYPECHANGE
    | FileStatus.INDEX_RENAMED
)


def _dirty(repo: pygit2.Repository) -> dict[str, int]:
    return {
        path: int(flags)
        for path, flags in repo.status().items()
        if flags not in (FileStatus.CURRENT, FileStatus.IGNORED)
    }


def _blob_at(repo: pygit2.Repository, commit: pygit2.Commit, path: str) -> str | None:
    with contextlib.suppress(KeyError):
        entry = commit.tree[path]
        return str(entry.id) if entry.type_str == "blob" else None
    return None


def _index_blob(repo: pygit2.Repository, path: str) -> str | None:
    entry = repo.index[path] if path in repo.index else None  # noqa: SIM401 - Index has no get
    return str(entry.id) if entry is not None else None


def _file_blob(repo: pygit2.Repository, path: str) -> str | None:
    """The blob id the file at ``path`` would have (None when absent)."""
    file = Path(repo.workdir or "") / path
    if file.is_symlink() or not file.is_file():
        return None
    data = file.read_bytes()
    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()


def _stale(repo: pygit2.Repository, tip: pygit2.Commit, path: str, flags: int) -> bool:
    """``path`` holds an earlier commit's content in both the index and the file (see module)."""
    if flags & _WORKTREE_FLAGS and not flags & _INDEX_FLAGS:
        return False  # an unstaged edit: the user's
    held = _index_blob(repo, path)
    if held != _file_blob(repo, path) or held == _blob_at(repo, tip, path):
        return False
    commit = tip
    for _ in range(LOOKBACK):
        if not commit.parents:
            return False
        commit = commit.parents[0]
        if _blob_at(repo, commit, path) == held:
            return True
    return False


def check_out(repo: pygit2.Repository, tip: pygit2.Commit, paths: Iterable[str]) -> None:
    """Make the index and the files of ``paths`` (files or folders) what ``tip`` holds."""
    wanted = sorted(set(paths))
    if not wanted:
        return
    repo.checkout_tree(  # type: ignore[no-untyped-call]  # untyped in pygit2's stubs
        tip.tree, strategy=CheckoutStrategy.FORCE, paths=wanted
    )
    # A file the tip does not have is left alone by a checkout: drop it from index and disk.
    index = repo.index
    gone = [path for path in wanted if path in index and not _in_tree(tip, path)]
    for path in gone:
        index.remove(path)
        (Path(repo.workdir or "") / path).unlink(missing_ok=True)
    if gone:
        index.write()


def _in_tree(tip: pygit2.Commit, path: str) -> bool:
    with contextlib.suppress(KeyError):
        tip.tree[path]
        return True
    return False


def _covered(path: str, prefixes: Iterable[str]) -> bool:
    return any(path == p or path.startswith(p.rstrip("/") + "/") for p in prefixes)


def settle(repo: pygit2.Repository, tip: pygit2.Commit | None, writes: Iterable[str]) -> tuple[str, ...]:
    """Before a write: put every stale path (module docstring) back to ``tip`` and return them;
    refuse when a path the write would replace holds a change of the user's."""
    dirty = _dirty(repo)
    stale = tuple(sorted(p for p, flags in dirty.items() if tip is not None and _stale(repo, tip, p, flags)))
    if tip is not None:
        try:
            check_out(repo, tip, stale)
        except pygit2.GitError:
            # A checkout takes index.lock: one left by a crashed git (or gitdocket) is named.
            lock = ref_lock(Path(repo.path), "index", file_clock())
            if lock is None:
                raise
            raise lock.error() from None
    prefixes = list(writes)
    mine = sorted(p for p in dirty if p not in stale and _covered(p, prefixes))
    if mine:
        raise _refusal(mine, {p for p in mine if dirty[p] == FileStatus.WT_NEW})
    return stale


def _refusal(dirty: list[str], untracked: set[str]) -> StateError:
    shown = ", ".join(dirty[:5]) + (" …" if len(dirty) > 5 else "")
    tracked = " ".join(shlex.quote(p) for p in dirty if p not in untracked)
    new = " ".join(shlex.quote(p) for p in dirty if p in untracked)
    ways = []
    if tracked:
        ways.append(
            f"keep your changes with `git commit -- {tracked}`, or discard them with "
            f"`git restore --source=HEAD --staged --worktree -- {tracked}`"
        )
    if new:
        ways.append(f"commit the new files (`git add -- {new}` and `git commit`), or move them away")
    return StateError(
        f"uncommitted changes in paths gitdocket would write: {shown}",
        "; ".join(ways) + "; then run the command again",
    )


def update(repo: pygit2.Repository, tip: pygit2.Commit, paths: Iterable[str]) -> tuple[str, ...]:
    """``check_out`` after a swap: the write has landed, so a failure is a warning that names
    the repair, never an error."""
    try:
        check_out(repo, tip, paths)
    except (pygit2.GitError, OSError) as exc:
        quoted = " ".join(shlex.quote(p) for p in sorted(paths))
        return (
            f"the write landed, but the worktree was not updated ({exc}); the next gitdocket write "
            f"restores it, or run `git restore --source=HEAD --staged --worktree -- {quoted}`",
        )
    return ()


def restored_note(paths: tuple[str, ...]) -> tuple[str, ...]:
    """What ``settle`` restored, in words (none when nothing was stale)."""
    if not paths:
        return ()
    shown = ", ".join(paths[:5]) + (" …" if len(paths) > 5 else "")
    return (
        f"restored {len(paths)} path(s) a killed gitdocket write had left stale in the worktree "
        f"(the old content is in git history): {shown}",
    )
