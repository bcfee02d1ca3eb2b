"""The git adapter: read snapshots and write transactions with pygit2, no worktree needed.

One transaction shape (design §2, ADR 0012), a write as one step: read the branch tip → ``plan``
(the caller's pure decision on that snapshot) → write only the changed blobs and trees, into a
private object folder (``quarantine``) → sign the commit, then every tag → one ref transaction
(``repo.transaction()``): lock the branch and the tags, re-read, compare, land the objects, move
the branch and create the tags together → on conflict re-plan on the new tip, bounded retries →
check the written paths out. A refused plan or a declined signature writes nothing, not even an
object; a lost race moves no ref.

When the branch is checked out in a worktree, paths an interrupted write left stale are put back
to HEAD first, a path holding the user's own change is refused, and the written paths are checked
out after the swap (``worktree``); a problem there is a warning, since the write has landed. A
stale ``.lock`` file in the way is named, told apart from a busy one (``locks``). The crash hook
(``faults``) kills the process between these steps in the crash tests.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pygit2
from pygit2.enums import ConfigLevel, FileMode, ObjectType, ReferenceFilter, SortMode

from gitdocket.adapters.faults import crash_point
from gitdocket.adapters.locks import RefLock, interrupts_deferred, worktree_lock
from gitdocket.adapters.quarantine import Quarantine, clear_dead, objects_dir, rehearsal
from gitdocket.adapters.refs import RefConflictError, RefLockedError, move_tags, swap
from gitdocket.adapters.worktree import restored_note, settle, update
from gitdocket.core.tree import EntryKind, Plan, TagSpec, TreeRef, TreeView, WriteResult
from gitdocket.errors import ConflictError, InputError, NotFoundError, StateError

if TYPE_CHECKING:  # a read opens the store without the signing code (ADR 0035)
    from gitdocket.core.sshsig import Signer

__all__ = [
    "GitRefs",
    "GitStore",
    "GitTree",
    "bound_git_memory",
    "created_repository",
    "git_default_branch",
]

MAX_RETRIES = 8
_MODE_KIND: dict[int, EntryKind] = {
    int(FileMode.BLOB): "blob",
    int(FileMode.BLOB_EXECUTABLE): "exec",
    int(FileMode.TREE): "tree",
    int(FileMode.LINK): "link",
    int(FileMode.COMMIT): "commit",
}

_BLOB_MODES = (int(FileMode.BLOB), int(FileMode.BLOB_EXECUTABLE))


GIT_WINDOW = 32 << 20
"""How much of a pack libgit2 maps at once while ``bound_git_memory`` holds (its default on 64-bit
systems is 1 GiB: the whole pack of a 100,000-version registry, resident once read)."""
GIT_MAPPED = 128 << 20
"""How much of its packs libgit2 keeps mapped in all while ``bound_git_memory`` holds."""
GIT_CACHE = 32 << 20
"""How many bytes of parsed objects (trees, commits) libgit2 keeps while ``bound_git_memory`` holds
(default 256 MiB)."""


def bound_git_memory() -> None:
    """Bound what libgit2 keeps in memory in this process: what a read of every log of a large
    registry (``gitdocket verify``) needs, since it visits each object about once. On 100,000
    versions the peak fell from 818 to 660 MiB at the same speed (ADR 0036). Process-wide, so only
    commands that read the whole registry call it."""
    pygit2.settings.mwindow_size = GIT_WINDOW
    pygit2.settings.mwindow_mapped_limit = GIT_MAPPED
    pygit2.settings.cache_max_size(GIT_CACHE)


FOLDERS_KEPT = 8192
"""How many folders a ``GitTree`` keeps looked up before it forgets them all: enough for every
folder one archetype's scopes hold, not every folder of a 100,000-version registry (each keeps
its entries in memory, ADR 0036)."""

_KEPT_BLOB_BYTES = 1 << 16
"""A blob this large is kept by ``GitTree.read`` until the next one: inflating it is what costs."""
SHARED_BLOBS = 512
"""How many smaller blobs every ``GitTree`` of the process shares, by object id: a verify reads a
scope's log at the head, then the very same blob at the commit its tag marks (ADR 0038)."""


class _Blobs:
    """The last ``SHARED_BLOBS`` small blobs read, by object id. A blob's id is the hash of its
    bytes, so whichever tree (commit, repository) names that id holds exactly these bytes."""

    def __init__(self) -> None:
        self.kept: dict[pygit2.Oid, bytes] = {}

    def get(self, oid: pygit2.Oid) -> bytes | None:
        return self.kept.get(oid)

    def put(self, oid: pygit2.Oid, data: bytes) -> None:
        if len(self.kept) >= SHARED_BLOBS:
            del self.kept[next(iter(self.kept))]  # the oldest: a verify reads a batch, then its tags
        self.kept[oid] = data


_SHARED = _Blobs()


class GitTree:
    """``TreeView`` over one commit of a pygit2 repository (or the empty tree).

    Subtrees are cached by path: a commit never changes, and without the cache every lookup
    walked (and inflated) each folder on the way again — half of ``gitdocket verify``'s time on a
    registry with 1,000 archetypes.
    """

    def __init__(self, repo: pygit2.Repository, commit: pygit2.Commit | None, root: pygit2.Tree | None = None) -> None:
        """``root``: a tree that is not (yet) a commit's, seen as if ``commit`` held it."""
        self.repo = repo
        self.commit = str(commit.id) if commit is not None else None
        self.committed_at = datetime.fromtimestamp(commit.commit_time, UTC) if commit is not None else None
        """The commit's committer time (what the site judges time-dependent states at)."""
        self._root = root if root is not None else (commit.tree if commit is not None else None)
        self._trees: dict[str, pygit2.Object | None] = {}
        self._blob: tuple[pygit2.Oid, bytes] | None = None
        """The last large blob read: a write reads its scope's log, then the newest-event cache
        reads it again (ADR 0033); a long log is inflated once."""

    def _entry(self, path: str) -> pygit2.Object | None:
        if self._root is None:
            return None
        if path in ("", "."):
            return self._root
        if path in self._trees:
            return self._trees[path]
        parent, _, name = path.rpartition("/")
        tree = self._entry(parent) if parent else self._root
        found: pygit2.Object | None = None
        if isinstance(tree, pygit2.Tree):
            with contextlib.suppress(KeyError):
                found = tree[name]
        if found is None or isinstance(found, pygit2.Tree):
            # Folders only: blobs are read once and not kept. Beyond FOLDERS_KEPT all go (a
            # verify visits every scope folder once, and each holds its entries): clearing is
            # cheaper than evicting one at a time, and looking a folder up again costs little.
            if len(self._trees) >= FOLDERS_KEPT:
                self._trees.clear()
            self._trees[path] = found
        return found

    def _lookup(self, path: str) -> tuple[int, pygit2.Oid] | None:
        if self._root is None:
            return None
        if path in ("", "."):
            return int(FileMode.TREE), self._root.id
        found = self._entry(path)
        if found is None:
            return None
        return int(found.filemode), found.id

    def kind(self, path: str) -> EntryKind | None:
        found = self._lookup(path)
        return _MODE_KIND.get(found[0]) if found else None

    def read(self, path: str) -> bytes | None:
        found = self._entry(path) if path not in ("", ".") else None
        if found is None or int(found.filemode) not in _BLOB_MODES:
            return None
        oid = found.id
        if self._blob is not None and self._blob[0] == oid:
            return self._blob[1]
        data = _SHARED.get(oid)
        if data is not None:
            return data
        # The tree entry's own object: a third faster than looking its id up again.
        data = bytes(found.read_raw())
        if len(data) >= _KEPT_BLOB_BYTES:
            self._blob = (oid, data)
        else:
            _SHARED.put(oid, data)
        return data

    def holds(self, path: str, data: bytes) -> bool:
        """Equal object ids are equal bytes: the blob need not be inflated (a verify compares
        every ``current.json`` with its rendering). Different ids are compared byte for byte (in
        a repository whose ids are not SHA-1, every id differs from ``pygit2.hash``'s)."""
        found = self._entry(path) if path not in ("", ".") else None
        if found is None or int(found.filemode) not in _BLOB_MODES:
            return False
        return found.id == pygit2.hash(data) or self.read(path) == data

    def listdir(self, path: str) -> list[str]:
        obj = self._entry(path)
        if not isinstance(obj, pygit2.Tree):
            return []
        return sorted(item.name for item in obj if item.name is not None)  # entries have names

    def entries(self, path: str) -> dict[str, tuple[str, object]]:
        """{name: (kind, "mode object-id")} of the folder ``path`` in one read (the tree diff
        of ``verify.changes`` compares these instead of looking each entry up)."""
        obj = self._entry(path) if path not in ("", ".") else self._root
        if not isinstance(obj, pygit2.Tree):
            return {}
        return {
            item.name: (_MODE_KIND.get(int(item.filemode), "blob"), f"{int(item.filemode):o} {item.id}")
            for item in obj
            if item.name is not None
        }

    def tree_id(self, path: str) -> str | None:
        found = self._lookup(path)
        return str(found[1]) if found and found[0] == int(FileMode.TREE) else None

    def walk(self, path: str) -> Iterator[tuple[str, EntryKind, str]]:
        obj = self._entry(path)
        if isinstance(obj, pygit2.Tree):
            yield from self._walk(obj, "")

    def _walk(self, tree: pygit2.Tree, prefix: str) -> Iterator[tuple[str, EntryKind, str]]:
        for item in tree:
            rel = prefix + (item.name or "")
            kind = _MODE_KIND.get(int(item.filemode), "blob")
            if kind != "tree":
                yield rel, kind, str(item.id)
            elif isinstance(subtree := self.repo[item.id], pygit2.Tree):
                yield from self._walk(subtree, rel + "/")
            else:  # a tree entry naming another kind of object: the repository is corrupt
                raise StateError(f"{rel}: not a tree in git", "run `git fsck` on the repository")


class GitRefs:
    """``verify.RefView`` over a pygit2 repository: tags and the trees of other commits."""

    def __init__(self, repo: pygit2.Repository) -> None:
        self.repo = repo
        self._trees: dict[str, GitTree] = {}
        self._ancestors: dict[str, set[str]] = {}
        self._parents: dict[str, str | None] = {}
        self._listed: dict[str, pygit2.Oid] = {}
        """{tag name: tag object id} as ``tags`` last listed them."""

    def tags(self) -> dict[str, str]:
        out: dict[str, str] = {}
        self._listed = {}
        for ref in self.repo.references.iterator(ReferenceFilter.TAGS):
            with contextlib.suppress(pygit2.GitError, ValueError, KeyError):
                name = ref.name.removeprefix("refs/tags/")
                out[name] = str(ref.peel(pygit2.Commit).id)
                if isinstance(ref.target, pygit2.Oid):
                    self._listed[name] = ref.target
        return out

    def tree_at(self, commit: str) -> GitTree:
        # Many tags point at the same commit (one freeze commit can tag many versions).
        if commit not in self._trees:
            self._trees[commit] = GitTree(self.repo, self.repo[commit].peel(pygit2.Commit))
        return self._trees[commit]

    def parent(self, commit: str) -> str | None:
        """The first parent, or None for a root commit or when a shallow clone lacks it. Kept by
        commit id (a commit's id hashes its parents): a verify asks once per tag."""
        if commit not in self._parents:
            parents = self.repo[commit].peel(pygit2.Commit).parent_ids
            self._parents[commit] = str(parents[0]) if parents and parents[0] in self.repo else None
        return self._parents[commit]

    def reaches(self, head: str, commit: str) -> bool:
        """``commit`` is ``head`` or an ancestor of it. The ancestors of a head are walked once
        (a verify asks for every tag) and kept; a shallow clone's missing history reaches nothing."""
        if head not in self._ancestors:
            walker = self.repo.walk(pygit2.Oid(hex=head), SortMode.NONE)
            self._ancestors[head] = {str(c.id) for c in walker}
        return commit in self._ancestors[head]

    def tag_signature(self, name: str) -> tuple[bytes, bytes] | None:
        """Of the tag object ``tags`` listed under ``name``: the one whose commit it gave (and no
        second look-up of each ref: a verify asks for every tag), else of the one the ref names."""
        listed = self._listed.get(name)
        if listed is not None:
            # The object database's (type, bytes) in one call: no object to wrap and read.
            kind, raw = self.repo.odb.read(listed)[:2]
        else:
            ref = self.repo.references.get(f"refs/tags/{name}")
            if ref is None:
                return None
            obj = self.repo[ref.target]
            kind, raw = obj.type, bytes(obj.read_raw())
        if kind != ObjectType.TAG:
            return None
        cut = raw.rfind(b"\n-----BEGIN SSH SIGNATURE-----")
        if cut < 0:
            return None
        return raw[cut + 1 :], raw[: cut + 1]


_SYSTEM_CONFIG_DIR = pygit2.settings.search_path[ConfigLevel.SYSTEM]


def _no_system() -> bool:
    """``GIT_CONFIG_NOSYSTEM`` is set to one of git's true values: no system configuration."""
    return os.environ.get("GIT_CONFIG_NOSYSTEM", "").lower() in ("1", "true", "yes", "on")


def follow_git_environment() -> None:
    """Find git's configuration the way git does, now rather than when pygit2 was imported.

    libgit2 fixes the global and XDG config locations from ``HOME`` at import and ignores
    ``GIT_CONFIG_GLOBAL``, ``GIT_CONFIG_NOSYSTEM`` and ``GIT_CONFIG_SYSTEM``; git honours them, so a
    CI job or a test that isolates git would not isolate gitdocket (a stray ``user.signingkey``
    would sign). ``GIT_CONFIG_GLOBAL`` and ``GIT_CONFIG_SYSTEM`` name files, which libgit2 cannot
    add to a repository's configuration: ``GitStore.git_config`` reads them after the repository's
    own, in git's order."""
    paths = pygit2.settings.search_path
    home = os.environ.get("HOME", "")
    global_file = "GIT_CONFIG_GLOBAL" in os.environ
    xdg = os.environ.get("XDG_CONFIG_HOME") or (f"{home}/.config" if home else "")
    paths[ConfigLevel.GLOBAL] = "" if global_file else home
    paths[ConfigLevel.XDG] = "" if global_file or not xdg else f"{xdg}/git"
    paths[ConfigLevel.SYSTEM] = "" if _no_system() or "GIT_CONFIG_SYSTEM" in os.environ else _SYSTEM_CONFIG_DIR


def _signed_tag(
    repo: pygit2.Repository, spec: TagSpec, target: pygit2.Oid, signer: Signer, principal: str, when: datetime
) -> pygit2.Oid:
    """Write an annotated tag object for ``target``, signed like ``git tag -s`` (SSHSIG,
    namespace ``git``); no ref yet."""
    tagger = _git_signature(principal, when)
    body = (
        f"object {target}\ntype commit\ntag {spec.name}\n"
        f"tagger {tagger.name} <{tagger.email}> {tagger.time} +0000\n\n"
        f"{spec.message.rstrip()}\n"
    ).encode()
    return repo.odb.write(ObjectType.TAG, body + signer.sign(body, "git"))


def git_default_branch() -> str | None:
    """git's ``init.defaultBranch`` as git itself reads it (None when unset or git is missing)."""
    try:
        done = subprocess.run(
            ["git", "config", "--get", "init.defaultBranch"], capture_output=True, text=True, check=False, timeout=30
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() or None


def _git_signature(principal: str, when: datetime) -> pygit2.Signature:
    email = principal if "@" in principal else f"{principal}@docket.invalid"
    return pygit2.Signature(principal, email, int(when.timestamp()), 0)


class GitStore:
    """A registry repository: bare, or with a worktree whose branch gitdocket keeps in step."""

    def __init__(self, repo: pygit2.Repository, branch: str | None = None, ref: str | None = None) -> None:
        self.repo = repo
        self.branch = branch if branch is not None else self._checked_out_branch()
        """The branch writes go to: the one given, else the one checked out; None on a detached
        HEAD (reads then see HEAD's commit, and writes are refused)."""
        self._ref = ref
        """A ref other than ``refs/heads/<branch>`` to write to (``--push`` plans on a scratch ref
        and moves the branch only once the remote took the commit)."""

    @classmethod
    def open(cls, path: Path, branch: str | None = None) -> GitStore:
        follow_git_environment()
        found = pygit2.discover_repository(str(path))
        if found is None:
            raise NotFoundError(f"{path}: not inside a git repository", "run `gitdocket init PATH` or pass --repo PATH")
        return cls(pygit2.Repository(found), branch)

    @classmethod
    def init(cls, path: Path, bare: bool, branch: str) -> GitStore:
        follow_git_environment()
        repo = pygit2.init_repository(str(path), bare=bare, initial_head=branch)
        return cls(repo, branch)

    @classmethod
    def at(cls, path: Path, branch: str | None = None) -> GitStore | None:
        """The repository whose root is exactly ``path`` (its worktree, or a bare repository's
        folder); None when ``path`` is not one, even when it lies inside another repository."""
        follow_git_environment()
        found = pygit2.discover_repository(str(path))
        if found is None:
            return None
        repo = pygit2.Repository(found)
        root = Path(repo.workdir if repo.workdir else repo.path).resolve()
        return cls(repo, branch) if root == path.resolve() else None

    def git_config(self, name: str) -> str | None:
        """``git config NAME`` as git would answer it: the repository's own configuration (and
        the global and system files found as ``follow_git_environment`` says), then the files
        ``GIT_CONFIG_GLOBAL`` and ``GIT_CONFIG_SYSTEM`` name."""
        sources: list[pygit2.Config] = [self.repo.config]
        for variable in ("GIT_CONFIG_GLOBAL", *(() if _no_system() else ("GIT_CONFIG_SYSTEM",))):
            path = os.environ.get(variable)
            if path and Path(path).is_file():  # /dev/null, git's "no such config", is not a file
                sources.append(pygit2.Config(path))
        for config in sources:
            with contextlib.suppress(KeyError, pygit2.GitError):
                return str(config[name])
        return None

    def _checked_out_branch(self) -> str | None:
        """The branch HEAD names (it may have no commit yet), or None on a detached HEAD."""
        with contextlib.suppress(pygit2.GitError, KeyError):
            target = self.repo.references["HEAD"].target
            if isinstance(target, str) and target.startswith("refs/heads/"):
                return target.removeprefix("refs/heads/")
        return None

    @property
    def refname(self) -> str:
        """The ref writes move; a detached HEAD has none, and a write there is refused."""
        if self._ref is not None:
            return self._ref
        if self.branch is None:
            head = str(self.repo.head.target)[:12] if not self.repo.head_is_unborn else "nothing"
            raise StateError(
                f"HEAD is detached at {head}: a write needs a branch to go to",
                "create one here with `git switch -c NAME` (or check out an existing branch), "
                "then run the command again",
            )
        return f"refs/heads/{self.branch}"

    @property
    def root(self) -> Path:
        return Path(self.repo.workdir or self.repo.path)

    def tip(self) -> pygit2.Commit | None:
        ref = self.repo.references.get(self.refname)
        if ref is None:
            return None
        return self.repo[ref.target].peel(pygit2.Commit)

    def on_branch(self, branch: str, commit: str) -> bool:
        """Whether ``commit`` is ``branch``'s tip or one of its ancestors, as this clone knows the
        branch: the local one or any remote-tracking copy (``refs/remotes/<remote>/<branch>``:
        what a CI checkout has). Only a configured remote's copy counts: a fetched pull-request
        branch ``refs/remotes/origin/someone/main`` is not ``main``."""
        names = [f"refs/heads/{branch}", *(f"refs/remotes/{r.name}/{branch}" for r in self.repo.remotes)]
        for name in names:
            ref = self.repo.references.get(name)
            if ref is None:
                continue
            tip = str(self.repo[ref.resolve().target].peel(pygit2.Commit).id)
            if tip == commit or self.repo.descendant_of(tip, commit):
                return True
        return False

    def resolve(self, rev: str) -> pygit2.Commit:
        """The commit ``rev`` (a commit id, tag, branch or any git revision) names; a name the
        user typed, so a miss is bad input."""
        try:
            return self.repo.revparse_single(rev).peel(pygit2.Commit)
        except (KeyError, ValueError, pygit2.GitError, pygit2.InvalidSpecError) as exc:
            if self.repo.is_shallow:  # the commit may well exist, beyond what this clone fetched
                raise InputError(
                    f"{rev!r} names no commit in {self.root}, a shallow clone: it may lie outside it",
                    f"fetch the history first (`git -C {self.root} fetch --unshallow`), or name a commit "
                    "the clone holds (`git log --oneline` lists them)",
                ) from exc
            raise InputError(
                f"{rev!r} names no commit in {self.root}",
                "name a commit, tag or branch that exists there (`git log --oneline --all` lists them)",
            ) from exc

    def head(self) -> pygit2.Commit | None:
        """What is checked out: the branch's tip (None before its first commit), or the commit of
        a detached HEAD (a pull request's checkout in CI, a worktree at an old commit)."""
        if self.branch is not None:
            return self.tip()
        return self.repo.head.peel(pygit2.Commit)

    def snapshot(self, rev: str | None = None) -> GitTree:
        """The registry at ``rev``, or at what is checked out."""
        return GitTree(self.repo, self.resolve(rev) if rev else self.head())

    # -- writing -------------------------------------------------------------------------------

    def repair(self) -> tuple[str, ...]:
        """Put right what killed writes left (module docstring): their private object folders and
        lock files, and the worktree paths they left stale. Every write runs it first, so that
        even a refused command leaves the worktree showing HEAD; returns what it did, in words."""
        if not self._tracks_worktree():
            return tuple(clear_dead(objects_dir(self.repo)))
        with self._worktree_lock():
            repairs = clear_dead(objects_dir(self.repo), Path(self.repo.path) / "index.lock")
            return (*repairs, *restored_note(settle(self.repo, self.tip(), ())))

    def write(self, plan_fn: Callable[[GitTree], Plan], signer: Signer, when: datetime) -> WriteResult:
        """Run one transaction (module docstring); ``plan_fn`` runs again on the new tip when
        another writer won. A refusal, a declined signature or a lost race writes nothing."""
        lock: RefLock | None = None
        for attempt in range(1, MAX_RETRIES + 1):
            try:
                with Quarantine.open(self.repo) as quarantine:
                    result = self._attempt(plan_fn, signer, when, attempt, quarantine)
            except KeyboardInterrupt:  # Ctrl-C is held back once the refs move: this is before
                raise StateError(
                    "interrupted before the write landed: nothing was written", "run the command again"
                ) from None
            except RefLockedError as exc:
                if exc.lock.stale:
                    raise exc.lock.stale_error() from None
                lock = exc.lock
                time.sleep(min(0.4, 0.02 * 2**attempt))  # a live lock lasts milliseconds
                continue
            if result is not None:
                return result
        if lock is not None:
            raise lock.busy_error(MAX_RETRIES)
        raise ConflictError(
            f"{self.refname} kept moving: gave up after {MAX_RETRIES} attempts",
            "another writer is busy on this branch; run the command again",
        )

    def rehearse(self, plan_fn: Callable[[GitTree], Plan]) -> Plan:
        """Run ``plan_fn`` on the branch tip as ``write`` would, and stop there: every object it
        makes goes to a folder outside the repository (``rehearsal``), nothing is signed into a
        commit, no ref, lock or worktree file is touched. What ``--dry-run`` runs."""
        original = self.repo
        with rehearsal(original) as scratch:
            self.repo = scratch
            try:
                return plan_fn(GitTree(self.repo, self.tip()))
            finally:
                self.repo = original

    def _attempt(
        self, plan_fn: Callable[[GitTree], Plan], signer: Signer, when: datetime, attempt: int, quarantine: Quarantine
    ) -> WriteResult | None:
        """Plan, sign and swap once; None when the branch moved (re-plan on the new tip)."""
        original, self.repo = self.repo, quarantine.repo  # every object goes to the private folder
        try:
            base = self.tip()
            plan = plan_fn(GitTree(self.repo, base))
            if self._tag_taken(plan):
                if self._moved(base):
                    return None  # a concurrent writer took the tag: re-plan, the lifecycle says why
                raise StateError(
                    f"tag {self._tag_taken(plan)} already exists",
                    "tags are immutable; verify the registry (`gitdocket verify`)",
                )
            with self._worktree_lock():
                return self._commit(plan, base, signer, when, attempt, quarantine, original)
        finally:
            self.repo = original

    def _commit(
        self,
        plan: Plan,
        base: pygit2.Commit | None,
        signer: Signer,
        when: datetime,
        attempt: int,
        quarantine: Quarantine,
        original: pygit2.Repository,
    ) -> WriteResult | None:
        """Sign ``plan`` on ``base`` (commit, then tags), then move the branch and the tags in one
        ref transaction and check the written paths out; None when the branch moved."""
        # The worktree belongs to the repository itself, not to this write's private view of it.
        checked_out = original[base.id].peel(pygit2.Commit) if base is not None else None
        restored = settle(original, checked_out, plan.writes) if self._tracks_worktree() else ()
        repairs = (*quarantine.repairs, *restored_note(restored))
        tree = self._build_tree(base.tree.id if base else None, plan.writes)
        commit = None
        if base is None or tree != base.tree.id:
            commit = self._signed_commit(plan.message, tree, base, signer, plan.author, when)
        head = commit if commit is not None else (base.id if base is not None else None)
        tags = [
            (
                t.name,
                _signed_tag(self.repo, t, pygit2.Oid(hex=t.target) if t.target else head, signer, plan.author, when),
            )
            for t in plan.tags
            if head is not None
        ]
        if head is None or (commit is None and not tags):
            return WriteResult(str(head or ""), (), attempt, tuple(plan.notes), repairs)
        crash_point("after-sign")
        with interrupts_deferred():  # from here the write lands whole: no Ctrl-C in between
            try:
                swap(original, self.refname, base.id if base is not None else None, commit, tags, quarantine)
            except RefConflictError:
                return None
            crash_point("after-swap")
            self.repo = original
            quarantine.checking_out()
            crash_point("in-checkout")
            warnings = self._update_worktree(plan) if commit is not None else ()
            crash_point("after-worktree")
        return WriteResult(str(head), tuple(n for n, _ in tags), attempt, tuple(plan.notes), repairs, warnings)

    def staged(self, tree: TreeView, writes: Mapping[str, bytes | TreeRef]) -> TreeView:
        """``tree`` with ``writes`` applied: what a transaction reads of its own pending writes
        (an import its promotion then checks). The trees are written to the write's private
        object folder, like everything a write makes before it lands."""
        if not isinstance(tree, GitTree) or not writes:
            return tree
        base = tree._root.id if tree._root is not None else None
        root = self.repo[self._build_tree(base, dict(writes))]
        commit = self.repo[tree.commit].peel(pygit2.Commit) if tree.commit else None
        return GitTree(self.repo, commit, root if isinstance(root, pygit2.Tree) else None)

    def _build_tree(self, base: pygit2.Oid | None, writes: dict[str, bytes | TreeRef]) -> pygit2.Oid:
        direct: dict[str, bytes | TreeRef] = {}
        nested: dict[str, dict[str, bytes | TreeRef]] = {}
        for path, value in writes.items():
            head, sep, rest = path.partition("/")
            if sep:
                nested.setdefault(head, {})[rest] = value
            else:
                direct[head] = value
        builder = self.repo.TreeBuilder(base) if base else self.repo.TreeBuilder()
        for name, value in direct.items():
            if isinstance(value, TreeRef):
                builder.insert(name, pygit2.Oid(hex=value.oid), FileMode.TREE)
            else:
                builder.insert(name, self.repo.create_blob(value), FileMode.BLOB)
        for name, sub in nested.items():
            existing = builder.get(name)
            sub_base = existing.id if existing is not None and existing.type == ObjectType.TREE else None
            builder.insert(name, self._build_tree(sub_base, sub), FileMode.TREE)
        return builder.write()

    def _signed_commit(
        self, message: str, tree: pygit2.Oid, base: pygit2.Commit | None, signer: Signer, principal: str, when: datetime
    ) -> pygit2.Oid:
        sig = _git_signature(principal, when)
        parents: list[str | pygit2.Oid] = [base.id] if base is not None else []
        # pygit2's stubs say Oid; at run time create_commit_string returns the commit text.
        payload = str(self.repo.create_commit_string(sig, sig, message, tree, parents))
        armored = signer.sign(payload.encode("utf-8"), "git")
        return self.repo.create_commit_with_signature(payload, armored.decode("ascii"))

    def _tag_taken(self, plan: Plan) -> str | None:
        """The first tag ``plan`` would create that already exists."""
        return next((t.name for t in plan.tags if self.repo.references.get(f"refs/tags/{t.name}") is not None), None)

    def _moved(self, base: pygit2.Commit | None) -> bool:
        tip = self.tip()
        return (tip.id if tip else None) != (base.id if base else None)

    # -- moving the branch to a commit made elsewhere (``--push``) ------------------------------

    def changed_paths(self, old: str | None, new: str) -> list[str]:
        """Every path that differs between the trees of commits ``old`` (None: empty) and ``new``."""
        new_tree = self.repo[new].peel(pygit2.Commit).tree
        diff = (
            self.repo[old].peel(pygit2.Commit).tree.diff_to_tree(new_tree)
            if old is not None
            else new_tree.diff_to_tree(swap=True)
        )
        return sorted({path for d in diff.deltas for path in (d.old_file.path, d.new_file.path) if path})

    def advance(self, expected: str | None, new: str, paths: list[str]) -> tuple[str, ...]:
        """Compare-and-swap this branch from ``expected`` to ``new`` (a descendant made elsewhere
        and already pushed), in the write path's ref transaction, then bring the worktree's
        ``paths`` (``refuse_dirty`` settled them) to ``new``; returns the warnings of that update."""
        with self._worktree_lock(), interrupts_deferred(), Quarantine.open(self.repo) as quarantine:
            old = pygit2.Oid(hex=expected) if expected else None
            try:
                swap(self.repo, self.refname, old, pygit2.Oid(hex=new), [], quarantine)
            except RefLockedError as exc:
                raise exc.lock.error() from None
            except RefConflictError as exc:
                raise ConflictError(
                    f"{self.refname} moved here while gitdocket pushed {new[:12]}",
                    f"the remote has {new[:12]}; bring this branch up to date with `git pull`",
                ) from exc
            tip = self.tip()
            if not self._tracks_worktree() or not paths or tip is None:
                return ()
            quarantine.checking_out()
            return update(self.repo, tip, paths)

    def drop(self, refnames: list[str]) -> None:
        """Delete refs gitdocket made and no longer wants (a scratch ref, tags of a commit that was
        not pushed); a ref already gone is fine."""
        for refname in refnames:
            with contextlib.suppress(KeyError, pygit2.GitError):
                self.repo.references.delete(refname)

    # -- tags of commits already written (``gitdocket tags sync``) ------------------------------

    def create_tags(
        self, tags: list[tuple[TagSpec, str, str | None]], signer: Signer, principal: str, when: datetime
    ) -> list[str]:
        """Create ``(spec, commit, expected)`` tags, each signed first: then all refs move in one
        ref transaction, or none (a declined signature or a tag someone else moved meanwhile
        writes no ref). ``expected`` is the commit the existing tag must peel to (an orphan being
        replaced), or None for a tag that must not exist yet."""
        with Quarantine.open(self.repo) as quarantine:  # a declined signature leaves no object
            signed = [
                (
                    spec.name,
                    _signed_tag(quarantine.repo, spec, pygit2.Oid(hex=commit), signer, principal, when),
                    expected,
                )
                for spec, commit, expected in tags
            ]
            try:
                with interrupts_deferred():
                    move_tags(self.repo, signed, quarantine)
            except RefLockedError as exc:
                raise exc.lock.error() from None
            except (RefConflictError, pygit2.GitError) as exc:
                raise ConflictError(
                    f"a tag changed while gitdocket was signing ({exc}); no tag was written",
                    "run `gitdocket tags sync` again",
                ) from exc
        return [name for name, _, _ in signed]

    # -- worktree ------------------------------------------------------------------------------

    def _tracks_worktree(self) -> bool:
        if self.repo.is_bare or self.repo.workdir is None:
            return False
        try:
            head = self.repo.references["HEAD"].target
        except KeyError:
            return False
        return head == self.refname

    @contextlib.contextmanager
    def _worktree_lock(self) -> Iterator[None]:
        """Serialize gitdocket writers on one worktree: between another writer's compare-and-swap
        and its worktree update, the written paths look dirty (the index still holds the old
        tree), and two checkouts at once race for ``index.lock``. Bare repositories need no lock:
        the compare-and-swap alone orders their writers."""
        if not self._tracks_worktree():
            yield
            return
        with worktree_lock(Path(self.repo.path)):
            yield

    def refuse_dirty(self, prefixes: list[str]) -> tuple[str, ...]:
        """Before this branch's worktree paths ``prefixes`` move: put the paths an interrupted
        write left stale back to HEAD, refuse the user's own changes (``worktree.settle``);
        returns what it restored, in words."""
        if not self._tracks_worktree():
            return ()
        with self._worktree_lock():
            return restored_note(settle(self.repo, self.tip(), prefixes))

    def _update_worktree(self, plan: Plan) -> tuple[str, ...]:
        """Check the written paths out (``settle`` proved they hold no local edits); after the swap
        nothing may fail the command, so a problem here is a warning naming the repair."""
        tip = self.tip()
        if not self._tracks_worktree() or not plan.writes or tip is None:
            return ()
        return update(self.repo, tip, plan.writes)


@contextlib.contextmanager
def created_repository(path: Path, bare: bool, branch: str) -> Iterator[GitStore]:
    """A new repository at ``path`` for the block; when the block raises, everything it created is
    removed again (the folder and the parents it had to make, or the entries it added to a folder
    that existed), so a failed ``gitdocket init`` leaves no half-made repository behind."""
    path = path.resolve()
    made = next((p for p in reversed((path, *path.parents)) if not p.exists()), None)
    before = set(path.iterdir()) if made is None else set()
    store = GitStore.init(path, bare=bare, branch=branch)
    try:
        yield store
    except BaseException:
        store.repo.free()  # release libgit2's handles before the files go
        if made is not None:
            shutil.rmtree(made, ignore_errors=True)
        else:
            for target in set(path.iterdir()) - before:
                if target.is_dir() and not target.is_symlink():
                    shutil.rmtree(target, ignore_errors=True)
                else:
                    target.unlink(missing_ok=True)
        raise
