"""The worktree of a registry whose branch gitdocket writes: refuse to overwrite local edits,
check the written paths out after the swap, and put back what an interrupted write left stale.

A write moves the branch first and checks its paths out after. A process killed in between leaves
those paths as they were before the write: the index and the files hold the old content, which
``git status`` shows as staged changes that would *undo* the signed event; killed during the
checkout, some files are new and the index still old. Such a path is **stale**: its index entry
and its file each hold either HEAD's content or the content the path had at one of the last
``LOOKBACK`` first-parent commits of the branch (its absence included), and not both HEAD's. Stale
content is in git history by definition, so restoring it from HEAD loses nothing: every write does
that first and says so. Any other change is the user's, and is refused
with a hint that keeps it (commit) or discards it explicitly — never ``stash``, which would bring
stale content back over a signed event.
"""

from __future__ import annotations

import contextlib
import hashlib
import shlex
from collections.abc import Iterable, Iterator
from pathlib import Path

import pygit2
from pygit2.enums import CheckoutStrategy, FileStatus

from gitdocket.adapters.locks import file_clock, ref_lock
from gitdocket.errors import StateError

__all__ = ["LOOKBACK", "check_out", "differing_state", "restored_note", "settle", "stale_paths", "update"]

LOOKBACK = 16
"""How many first-parent commits back a stale path's content is looked for. A crash leaves the
content of the commit just before the write; a few later writes may have landed since."""


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


def _stale(repo: pygit2.Repository, tip: pygit2.Commit, path: str) -> bool:
    """``path``'s index entry and its file each hold what HEAD holds or what one of the last
    ``LOOKBACK`` first-parent commits held there (absence included), and not both HEAD's: what a
    write killed before or during its checkout leaves (see module)."""
    head = _blob_at(repo, tip, path)
    held = {_index_blob(repo, path), _file_blob(repo, path)}
    if held == {head}:
        return False
    committed = {head}
    commit = tip
    for _ in range(LOOKBACK):
        if not commit.parents:
            return False
        commit = commit.parents[0]
        committed.add(_blob_at(repo, commit, path))
        if held <= committed:
            return True
    return False


def _files(tree: pygit2.Tree, path: str) -> Iterator[tuple[str, pygit2.Object]]:
    """(path, entry) of every file at or below ``path`` in ``tree``."""
    try:
        entry = tree[path]
    except KeyError:
        return
    if isinstance(entry, pygit2.Tree):
        for child in entry:
            yield from _files(tree, f"{path}/{child.name}")
    else:
        yield path, entry


def check_out(repo: pygit2.Repository, tip: pygit2.Commit, paths: Iterable[str]) -> None:
    """Make the index and the files of ``paths`` (files or folders) what ``tip`` holds."""
    wanted = sorted(set(paths))
    if not wanted:
        return
    repo.checkout_tree(  # type: ignore[no-untyped-call]  # untyped in pygit2's stubs
        tip.tree, strategy=CheckoutStrategy.FORCE, paths=wanted
    )
    index = repo.index
    index.read()
    changed = False
    for path in wanted:
        # A file already on disk with the right content is left out of the index by a checkout
        # (what a checkout killed half-way leaves): the entries are set from the tip here.
        for rel, entry in _files(tip.tree, path):
            held = index[rel] if rel in index else None  # noqa: SIM401 - Index has no get
            if held is None or held.id != entry.id or held.mode != entry.filemode:
                index.add(pygit2.IndexEntry(rel, entry.id, entry.filemode))
                changed = True
        # A file the tip does not have is left alone by a checkout: drop it from index and disk.
        if path in index and not _in_tree(tip, path):
            index.remove(path)
            (Path(repo.workdir or "") / path).unlink(missing_ok=True)
            changed = True
    if changed:
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
    stale = stale_paths(repo, tip, dirty)
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


def stale_paths(
    repo: pygit2.Repository, tip: pygit2.Commit | None, dirty: Iterable[str] | None = None
) -> tuple[str, ...]:
    """The paths an interrupted write left stale (module docstring), without touching them."""
    if tip is None:
        return ()
    return tuple(sorted(p for p in (_dirty(repo) if dirty is None else dirty) if _stale(repo, tip, p)))


def differing_state(repo: pygit2.Repository, tip: pygit2.Commit | None) -> tuple[str, ...]:
    """The ``current.json`` files of the worktree that differ from ``tip``'s and are not stale:
    derived state edited (or broken) by hand, which a runtime reading the worktree would trust."""
    if tip is None:
        return ()
    dirty = _dirty(repo)
    stale = set(stale_paths(repo, tip, dirty))
    return tuple(sorted(p for p in dirty if p.endswith("current.json") and p not in stale and _in_tree(tip, p)))


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
