"""The git side of a registry export (``registry_export_v1``, ``core.exports``): what an export
reads of a repository — its commits parents first, each commit's changes from its first parent,
its tags — and how replay writes the same objects into a new one.

Replay writes every object byte for byte (blobs, the trees their changes make, the commit and tag
objects the export carries whole), so each gets the id it had: a changed byte anywhere is a
different id, which the operation (``ops.exports``) refuses. Nothing here judges a signature or a
record; nothing here prints.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import pygit2
from pygit2.enums import CheckoutStrategy, FileMode, ObjectType, ReferenceFilter

from gitdocket.adapters.store import follow_git_environment
from gitdocket.core.exports import MODES, Append, Change, Delete, Mode, Put, appended, is_history
from gitdocket.errors import InputError, NotFoundError

__all__ = ["ExportSource", "Rebuild", "SourceTag", "appended_blob"]

_TREE = int(FileMode.TREE)
_GITLINK = int(FileMode.COMMIT)


@dataclass(frozen=True)
class SourceTag:
    """A tag of the exported repository: the commit it names and, when annotated, its object."""

    name: str
    target: str
    oid: str | None
    raw: bytes | None


class ExportSource:
    """What an export reads of one repository."""

    def __init__(self, repo: pygit2.Repository) -> None:
        self.repo = repo

    def tip(self, branch: str) -> str:
        ref = self.repo.references.get(f"refs/heads/{branch}")
        if ref is None:
            raise NotFoundError(f"no branch {branch!r} in {self.repo.path}", "name an existing branch with --branch")
        return str(ref.peel(pygit2.Commit).id)

    def tags(self) -> tuple[list[SourceTag], list[str]]:
        """Every tag naming a commit, by name; and the names of the others (a tag of a tree, a
        blob or another tag), which an export leaves out."""
        kept: list[SourceTag] = []
        skipped: list[str] = []
        for ref in sorted(self.repo.references.iterator(ReferenceFilter.TAGS), key=lambda r: r.name):
            name = ref.name.removeprefix("refs/tags/")
            obj = self.repo[ref.target]
            if obj.type == ObjectType.COMMIT:
                kept.append(SourceTag(name, str(obj.id), None, None))
            elif isinstance(obj, pygit2.Tag) and self.repo[obj.target].type == ObjectType.COMMIT:
                kept.append(SourceTag(name, str(obj.target), str(obj.id), bytes(obj.read_raw())))
            else:
                skipped.append(name)
        return kept, skipped

    def commits(self, heads: list[str]) -> list[pygit2.Commit]:
        """Every commit ``heads`` reach, each after all its parents: a depth-first walk from each
        head in turn, parents in order, so the same history gives the same order (no clock, no
        hash order)."""
        order: list[pygit2.Commit] = []
        seen: set[str] = set()
        for head in heads:
            if head in seen:
                continue
            seen.add(head)
            stack: list[tuple[pygit2.Commit, int]] = [(self.commit(head), 0)]
            while stack:
                commit, index = stack.pop()
                parents = [str(p) for p in commit.parent_ids]
                if index < len(parents):
                    stack.append((commit, index + 1))
                    if parents[index] not in seen:
                        seen.add(parents[index])
                        stack.append((self.commit(parents[index]), 0))
                else:
                    order.append(commit)
        return order

    def commit(self, oid: str) -> pygit2.Commit:
        try:
            return self.repo[oid].peel(pygit2.Commit)
        except (KeyError, ValueError) as exc:
            raise NotFoundError(
                f"commit {oid[:12]} is missing from {self.repo.path} (a shallow clone?)",
                "export from a full clone: `git fetch --unshallow`",
            ) from exc

    def raw(self, oid: str) -> bytes:
        return bytes(self.repo[oid].read_raw())

    def changes(self, commit: pygit2.Commit) -> list[Change]:
        """The changes from the commit's first parent's tree (or from nothing) to its own."""
        base = self.commit(str(commit.parent_ids[0])).tree if commit.parent_ids else None
        out: list[Change] = []
        self._diff(base, commit.tree, "", out)
        return out

    def _diff(self, old: pygit2.Tree | None, new: pygit2.Tree | None, prefix: str, out: list[Change]) -> None:
        before = {str(e.name): e for e in old} if old is not None else {}
        after = {str(e.name): e for e in new} if new is not None else {}
        for name in sorted(set(before) | set(after)):
            was, now = before.get(name), after.get(name)
            if was is not None and now is not None and was.id == now.id and was.filemode == now.filemode:
                continue
            path = prefix + name
            was_tree = was is not None and int(was.filemode) == _TREE
            now_tree = now is not None and int(now.filemode) == _TREE
            if was is not None and not was_tree and (now is None or now_tree):
                out.append(Delete(path=path, delete=True))
            if was_tree or now_tree:
                self._diff(
                    self._tree(was) if was_tree else None, self._tree(now) if now_tree else None, path + "/", out
                )
            if now is not None and not now_tree:
                out.append(self._put(path, was if not was_tree else None, now))

    def _tree(self, entry: pygit2.Object | None) -> pygit2.Tree | None:
        found = self.repo[entry.id] if entry is not None else None
        return found if isinstance(found, pygit2.Tree) else None

    def _put(self, path: str, was: pygit2.Object | None, now: pygit2.Object) -> Change:
        mode = f"{int(now.filemode):06o}"
        if mode not in MODES:
            raise InputError(f"{path}: git mode {mode} cannot be exported", "remove the entry from the registry")
        oid = str(now.id)
        if was is not None and is_history(path) and int(was.filemode) == int(now.filemode) and mode != "160000":
            events = appended(self.raw(str(was.id)), self.raw(oid))
            if events is not None:
                return Append(path=path, mode=cast(Mode, mode), oid=oid, events=events)
        return Put(path=path, mode=cast(Mode, mode), oid=oid)


class Rebuild:
    """A new repository that replay writes the exported objects into, object by object."""

    def __init__(self, path: Path, branch: str) -> None:
        follow_git_environment()
        self.repo = pygit2.init_repository(str(path), bare=False, initial_head=branch)
        self.branch = branch

    def has(self, oid: str) -> bool:
        return pygit2.Oid(hex=oid) in self.repo.odb

    def blob(self, data: bytes) -> str:
        return str(self.repo.odb.write(ObjectType.BLOB, data))

    def commit(self, raw: bytes) -> str:
        return str(self.repo.odb.write(ObjectType.COMMIT, raw))

    def tag(self, raw: bytes) -> str:
        return str(self.repo.odb.write(ObjectType.TAG, raw))

    def tree_of(self, commit: str) -> str:
        return str(self.repo[commit].peel(pygit2.Commit).tree.id)

    def read(self, tree: str | None, path: str) -> bytes | None:
        """The blob at ``path`` in ``tree``, None when there is none."""
        if tree is None:
            return None
        with contextlib.suppress(KeyError):
            entry = self.repo[tree].peel(pygit2.Tree)[path]
            if entry.type == ObjectType.BLOB:
                return bytes(self.repo[entry.id].read_raw())
        return None

    def tree(self, base: str | None, changes: list[Change]) -> str:
        """The tree ``changes`` make of ``base`` (None: the empty tree); a folder left empty is
        dropped, as git does."""
        return str(self._build(pygit2.Oid(hex=base) if base else None, [(c.path.split("/"), c) for c in changes]))

    def _build(self, base: pygit2.Oid | None, changes: list[tuple[list[str], Change]]) -> pygit2.Oid:
        builder = self.repo.TreeBuilder(base) if base is not None else self.repo.TreeBuilder()
        nested: dict[str, list[tuple[list[str], Change]]] = {}
        direct: list[tuple[str, Change]] = []
        for parts, change in changes:
            if len(parts) > 1:
                nested.setdefault(parts[0], []).append((parts[1:], change))
            else:
                direct.append((parts[0], change))
        # Deletes first and puts last: a file that becomes a folder, and a folder a file.
        for name, change in direct:
            if isinstance(change, Delete) and builder.get(name) is not None:
                builder.remove(name)
        for name, sub in nested.items():
            existing = builder.get(name)
            sub_base = existing.id if existing is not None and int(existing.filemode) == _TREE else None
            built = self._build(sub_base, sub)
            if len(self.repo[built].peel(pygit2.Tree)) == 0:
                if existing is not None:
                    builder.remove(name)
            else:
                builder.insert(name, built, FileMode.TREE)
        for name, change in direct:
            if not isinstance(change, Delete):
                builder.insert(name, pygit2.Oid(hex=change.oid), int(change.mode, 8))
        return builder.write()

    def finish(self, head: str, tags: list[tuple[str, str]]) -> None:
        """Point the branch at ``head`` and each tag at its object, then check the branch out."""
        self.repo.references.create(f"refs/heads/{self.branch}", pygit2.Oid(hex=head), force=True)
        for name, target in tags:
            self.repo.references.create(f"refs/tags/{name}", pygit2.Oid(hex=target))
        self.repo.checkout_head(strategy=CheckoutStrategy.FORCE)  # type: ignore[no-untyped-call]  # untyped in pygit2's stubs

    def close(self) -> None:
        self.repo.free()


def appended_blob(old: bytes | None, change: Append) -> bytes | None:
    """The blob an ``Append`` makes of the old one, None when there is no old one."""
    if old is None or (old and not old.endswith(b"\n")):
        return None
    return old + "".join(line + "\n" for line in change.events).encode("utf-8")
