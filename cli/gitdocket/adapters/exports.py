"""The git side of a registry export (``registry_export_v1``, ``core.exports``): what an export
reads of a repository — its commits parents first, each commit's changes from its first parent,
its tags — and how replay writes the same objects into a new one.

Replay writes every object byte for byte (blobs, the trees their changes make, the commit and tag
objects the export carries whole), so each gets the id it had: a changed byte anywhere is a
different id, which the operation (``ops.exports``) refuses. Nothing here judges a signature or a
record; nothing here prints.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import cast

import pygit2
from pygit2.enums import CheckoutStrategy, FileMode, ObjectType, ReferenceFilter

from gitdocket.adapters.packs import PackWriter
from gitdocket.adapters.store import follow_git_environment
from gitdocket.core.exports import BLOB_MODES, MODES, Append, Change, Delete, Mode, Put, appended, git_oid, is_history
from gitdocket.errors import InputError, NotFoundError

__all__ = ["ExportSource", "Rebuild", "SourceTag", "valid_ref"]

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


Entries = dict[str, tuple[str, str]]
"""A tree's entries: name → (mode as git writes it, object id)."""
TREE_MODE = "40000"


def tree_bytes(entries: Entries) -> bytes:
    """A tree object's bytes, entries in git's order (a folder sorts as if its name ended in /)."""

    def key(name: str) -> bytes:
        return name.encode() + (b"/" if entries[name][0] == TREE_MODE else b"")

    return b"".join(
        f"{entries[name][0]} {name}".encode() + b"\0" + bytes.fromhex(entries[name][1])
        for name in sorted(entries, key=key)
    )


def tree_entries(raw: bytes) -> Entries:
    """A tree object's entries."""
    entries: Entries = {}
    pos = 0
    while pos < len(raw):
        space = raw.index(b" ", pos)
        nul = raw.index(b"\0", space)
        entries[raw[space + 1 : nul].decode()] = (raw[pos:space].decode(), raw[nul + 1 : nul + 21].hex())
        pos = nul + 21
    return entries


def valid_ref(name: str) -> bool:
    """``name`` is a ref name git accepts (``refs/tags/v1``; never ``refs/tags/../x``)."""
    return bool(pygit2.reference_is_valid_name(name))


class Rebuild:
    """A new repository that replay writes the exported objects into: one pack, appended to as
    records come (``packs.PackWriter``), trees made here from each commit's changes; refs and
    the worktree once every object is in."""

    def __init__(self, path: Path, branch: str) -> None:
        follow_git_environment()
        self.repo = pygit2.init_repository(str(path), bare=False, initial_head=branch)
        self.branch = branch
        self.pack = PackWriter(Path(self.repo.path) / "objects")
        self._trees: dict[str, Entries] = {}
        self._commits: dict[str, str] = {}
        """Commit id → its tree's id."""

    def has(self, oid: str) -> bool:
        return oid in self.pack

    def write(self, kind: str, raw: bytes) -> str:
        oid = git_oid(kind, raw)
        self.pack.write(kind, oid, raw)
        return oid

    def store(self, kind: str, oid: str, raw: bytes) -> None:
        """Write an object whose id the caller has checked."""
        self.pack.write(kind, oid, raw)

    def commit(self, oid: str, tree: str, raw: bytes) -> None:
        self.pack.write("commit", oid, raw)
        self._commits[oid] = tree

    def tree_of(self, commit: str) -> str:
        return self._commits[commit]

    def _entries(self, tree: str) -> Entries:
        if tree not in self._trees:
            self._trees[tree] = tree_entries(self.pack.read(tree))
        return self._trees[tree]

    def read(self, tree: str | None, path: str) -> bytes | None:
        """The blob at ``path`` in ``tree``, None when there is none."""
        *folders, name = path.split("/")
        for folder in folders:
            found = self._entries(tree).get(folder) if tree is not None else None
            tree = found[1] if found is not None and found[0] == TREE_MODE else None
        entry = self._entries(tree).get(name) if tree is not None else None
        if entry is None or entry[0] not in BLOB_MODES:
            return None
        return self.pack.read(entry[1])

    def tree(self, base: str | None, changes: list[Change]) -> str:
        """The tree ``changes`` make of ``base`` (None: the empty tree); a folder left empty is
        dropped, as git does."""
        return self._build(base, [(c.path.split("/"), c) for c in changes]) or self.write("tree", b"")

    def _build(self, base: str | None, changes: list[tuple[list[str], Change]]) -> str | None:
        """The id of the tree made, None when it is empty."""
        entries = dict(self._entries(base)) if base is not None else {}
        nested: dict[str, list[tuple[list[str], Change]]] = {}
        direct: list[tuple[str, Change]] = []
        for parts, change in changes:
            if len(parts) > 1:
                nested.setdefault(parts[0], []).append((parts[1:], change))
            else:
                direct.append((parts[0], change))
        # Deletes first and puts last: a file that becomes a folder, and a folder a file.
        for name, change in direct:
            if isinstance(change, Delete):
                entries.pop(name, None)
        for name, sub in nested.items():
            existing = entries.get(name)
            built = self._build(existing[1] if existing is not None and existing[0] == TREE_MODE else None, sub)
            if built is None:
                entries.pop(name, None)
            else:
                entries[name] = (TREE_MODE, built)
        for name, change in direct:
            if not isinstance(change, Delete):
                entries[name] = (change.mode, change.oid)
        if not entries:
            return None
        oid = self.write("tree", tree_bytes(entries))
        self._trees.setdefault(oid, entries)
        return oid

    def finish(self, head: str, tags: list[tuple[str, str, str | None]]) -> None:
        """Seal and index the pack, point the branch at ``head`` and each tag at its object
        (``(name, object, peeled commit or None)``, in one ``packed-refs`` file), then check
        the branch out."""
        self.pack.finish()
        refs = [(f"refs/heads/{self.branch}", head, None)] + [(f"refs/tags/{n}", o, p) for n, o, p in tags]
        lines = ["# pack-refs with: peeled fully-peeled sorted "]
        for name, target, peeled in sorted(refs):
            lines.append(f"{target} {name}")
            if peeled is not None:
                lines.append(f"^{peeled}")
        (Path(self.repo.path) / "packed-refs").write_text("\n".join(lines) + "\n")
        self.repo.free()
        self.repo = pygit2.Repository(self.repo.path)
        self.repo.checkout_head(strategy=CheckoutStrategy.FORCE)  # type: ignore[no-untyped-call]  # untyped in pygit2's stubs

    def close(self) -> None:
        self.pack.close()
        self.repo.free()
