"""``gitdocket tags sync``: which tags the records on the current branch are missing, and where each
belongs.

Tags are derived anchors (``verify.tags``): every frozen version and published package gets one, on
the commit of this branch's first-parent history that recorded its event. A tag the branch's head
already reaches is never moved (``verify`` judges it). A tag of the same name on a commit the head
does not reach is an **orphan** when that commit recorded the very same event (a squash or rebase
merge left the pull request's commit behind): it is re-created here only when asked
(``replace_orphans``). One that recorded something else (a closed pull request's own release) is
left alone, with a hint. Creating, signing and pushing the tags is the store's and the command's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from gitdocket.adapters import remote as remotes
from gitdocket.adapters.store import GitRefs
from gitdocket.core.tree import TagSpec, TreeView
from gitdocket.errors import StateError
from gitdocket.lifecycles import scope
from gitdocket.ops.documents import registry_config
from gitdocket.ops.logs import load_log
from gitdocket.ops.session import Session
from gitdocket.ops.transaction import Transaction
from gitdocket.verify.context import RefView
from gitdocket.verify.tags import (
    RECORDING_EVENT,
    in_namespace,
    recorded_at,
    recording_commits,
    tag_message,
    tag_name,
)

__all__ = ["Synced", "TagAction", "plan_sync", "sync_tags"]

Action = Literal["create", "replace", "orphan", "foreign"]


@dataclass(frozen=True)
class TagAction:
    """One tag the branch is missing: ``create`` it, ``replace`` an orphan, or leave an ``orphan``
    (not asked to replace) or a ``foreign`` tag (another record's) where it is."""

    spec: TagSpec
    commit: str
    """Where it belongs: the commit of this branch that recorded the event."""
    action: Action
    existing: str | None = None
    """The commit the tag of that name points at now (unreached by the head), if there is one."""

    @property
    def writes(self) -> bool:
        return self.action in ("create", "replace")


def _records(tree: TreeView) -> list[tuple[Any, int, str]]:
    """(scope, lines up to its recording event, content hash) of every frozen version and
    published package at ``tree``."""
    found = []
    for kind, event in RECORDING_EVENT.items():
        root = f"registry/{kind}s"
        for archetype in tree.listdir(root):
            for version in tree.listdir(f"{root}/{archetype}"):
                target = scope(kind, archetype, version)
                log = load_log(tree, target)
                index = next((i for i, e in enumerate(log.events) if e.type == event), None)
                if index is not None:
                    found.append((target, index + 1, _content_hash(log.state)))
    return found


def _content_hash(state: Any) -> str:
    snapshot = getattr(state, "snapshot", None) or getattr(state, "manifest", None)
    return str(snapshot.content_hash) if snapshot is not None else ""


def plan_sync(tree: TreeView, refs: RefView, replace_orphans: bool) -> list[TagAction]:
    """The tags ``tree``'s head (the checked-out commit of the branch) is missing, in name order."""
    head = tree.commit
    if head is None:
        return []
    tags = refs.tags()
    missing = {
        target: (lines, content)
        for target, lines, content in _records(tree)
        if not (tag_name(target) in tags and refs.reaches(head, tags[tag_name(target)]))
    }
    where = recording_commits(refs, head, {target: lines for target, (lines, _) in missing.items()})
    actions = []
    for target, (lines, content) in missing.items():
        name = tag_name(target)
        spec = TagSpec(name, tag_message(target, content))
        existing = tags.get(name)
        if existing is None:
            actions.append(TagAction(spec, where[target], "create"))
            continue
        at_head = load_log(tree, target).history.splitlines()[:lines]
        same = recorded_at(refs, existing, target) == at_head
        action: Action = ("replace" if replace_orphans else "orphan") if same else "foreign"
        actions.append(TagAction(spec, where[target], action, existing))
    return sorted(actions, key=lambda a: a.spec.name)


@dataclass
class Synced:
    """What ``sync_tags`` did on ``branch``: the actions planned (created, replaced, or left), and
    the push, if one was asked for and there was anything to push."""

    branch: str
    actions: list[TagAction]
    pushed: remotes.Pushed | None = None

    @property
    def written(self) -> list[TagAction]:
        return [a for a in self.actions if a.writes]

    @property
    def left(self) -> list[TagAction]:
        return [a for a in self.actions if not a.writes]


def _default_branch_only(session: Session, tree: TreeView) -> str:
    """The current branch, when it is the registry's default branch: tags belong on the commits
    that stay (a pull request's branch is squashed or rebased away)."""
    branch = session.store.refname.removeprefix("refs/heads/")  # a detached HEAD is refused here
    default = registry_config(tree).default_branch
    if default is not None and branch != default:
        raise StateError(
            f"this is branch {branch!r}; tags are created on the registry's default branch {default!r}",
            f"run it there once the change has landed: `git switch {default}`, then `gitdocket tags sync`",
        )
    return branch


def sync_tags(session: Session, replace_orphans: bool, push: bool) -> Synced:
    """Create (and sign, with the caller's key, which must be in the policy) every tag the current
    branch is missing, in one ref transaction; with ``push``, push them and every other reachable
    tag the remote lacks, atomically, each with a lease."""
    store = session.store
    tree = session.snapshot()
    synced = Synced(_default_branch_only(session, tree), [])
    session.command.notes.extend(store.repair())  # a killed write's lock files would be in the way
    refs = GitRefs(store.repo)
    synced.actions = plan_sync(tree, refs, replace_orphans)
    refnames = {a.spec.name: f"refs/tags/{a.spec.name}" for a in synced.written if a.existing}
    old = {name: str(store.repo.references[ref].target) for name, ref in refnames.items()}
    if synced.written:
        signer = session.signers()[0]
        principal = Transaction(tree, [signer], session.now).actor  # the caller's key is in the policy
        store.create_tags([(a.spec, a.commit, a.existing) for a in synced.written], signer, principal, session.now)
    if push:
        synced.pushed = _push(session, synced.branch, tree.commit, old)
    return synced


def _push(session: Session, branch: str, head: str | None, replaced: dict[str, str]) -> remotes.Pushed | None:
    """Push every gitdocket tag ``head`` reaches that the remote lacks or holds an orphan of."""
    store = session.store
    remote = remotes.remote_of(store, branch)
    there = remotes.remote_tags(store.root, remote)
    refs = GitRefs(store.repo)
    local = {
        name: commit
        for name, commit in refs.tags().items()
        if in_namespace(name) and head is not None and refs.reaches(head, commit)
    }
    names = sorted(n for n in local if n not in there or n in replaced)
    if not names:
        return None
    # A new tag must not exist there yet; a replaced orphan must still be the one judged here.
    leases = {f"refs/tags/{n}": replaced[n] if n in replaced and n in there else None for n in names}
    try:
        return remotes.push(store.root, remote, [f"refs/tags/{n}" for n in names], leases)
    except remotes.PushRejectedError as exc:
        raise StateError(
            f"{remote} refused the tags, none was pushed: {exc}",
            f"fetch its tags (`git fetch --tags {remote}`), run `gitdocket tags sync` again, then push",
        ) from exc
