"""``gitdocket doctor``: the drift between a registry's signed commits and what surrounds them,
and the repairs that need no new authority.

Drift, each with a stable code: a record whose tag is missing (``TAG_MISSING``; a crash between
the refs, a write on another branch, a tag deleted) or taken by another commit (``TAG_ORPHANED``);
worktree paths an interrupted write left stale (``WORKTREE_STALE``); a worktree ``current.json``
that differs from the commit's (``STATE_DIFFERS``); leftover locks, dead (``LOCK_DEAD``) or held
by a write running now (``LOCK_LIVE``); commits or tags the upstream lacks (``COMMITS_UNPUSHED``,
``TAGS_UNPUSHED``); a policy expired or close to expiry (``POLICY_EXPIRED``,
``POLICY_EXPIRING``).

``repair`` fixes what derives from what is already signed: it re-creates missing tags from the
signed events with the caller's key, through the very code of ``gitdocket tags sync`` (so only
when the policy lists that key and the branch is the registry's default one), restores stale and
differing worktree files from the checked-out commit, and removes dead locks. It never moves a
branch, never rewrites history, never signs an event, and never pushes.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from gitdocket.adapters import drift
from gitdocket.adapters.store import GitRefs
from gitdocket.core.fields import format_time, parse_time
from gitdocket.errors import DocketError
from gitdocket.lifecycles.policy import POLICY_SCOPE, PolicyState
from gitdocket.ops.logs import load_log
from gitdocket.ops.session import Session
from gitdocket.ops.tags import plan_sync, sync_tags
from gitdocket.verify.tags import in_namespace

__all__ = ["CODES", "Checkup", "Drift", "examine", "repair"]

CODES = {
    "TAG_MISSING": "a frozen version or published package has no tag (fixable: re-created and signed)",
    "TAG_ORPHANED": "the tag's name is taken by a commit the branch does not reach",
    "WORKTREE_STALE": "a worktree path still holds what it held before an interrupted write (fixable)",
    "STATE_DIFFERS": "a worktree current.json differs from the committed one (fixable: restored)",
    "LOCK_DEAD": "a lock file or write folder left by a process that died (fixable: removed)",
    "LOCK_LIVE": "a lock held by a write running now",
    "COMMITS_UNPUSHED": "the branch has commits its upstream lacks",
    "TAGS_UNPUSHED": "gitdocket tags the upstream lacks",
    "POLICY_EXPIRED": "the trust policy has expired: verify refuses the registry",
    "POLICY_EXPIRING": "the trust policy expires within the window",
}
"""Every drift code, with what it means (docs/operations.md lists them)."""

FIX = "run `gitdocket doctor --fix`"


@dataclass(frozen=True)
class Drift:
    """One thing out of line: its ``code``, what it concerns (``subject``), and the next step."""

    code: str
    subject: str
    detail: str
    fixable: bool
    hint: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Checkup:
    """What ``examine`` found and, after ``repair``, what it did and what is left."""

    found: list[Drift]
    fixed: list[str] = field(default_factory=list)
    left: list[Drift] = field(default_factory=list)


def _tags(session: Session) -> list[Drift]:
    store = session.store
    tree = session.snapshot()
    drifts = []
    for action in plan_sync(tree, GitRefs(store.repo), replace_orphans=False):
        if action.action == "create":
            drifts.append(
                Drift(
                    "TAG_MISSING",
                    action.spec.name,
                    f"belongs on {action.commit[:12]}",
                    True,
                    "run `gitdocket doctor --fix` (or `gitdocket tags sync`) on the default branch",
                )
            )
        else:
            drifts.append(
                Drift(
                    "TAG_ORPHANED",
                    action.spec.name,
                    f"points at {(action.existing or '')[:12]}, which this branch does not reach",
                    False,
                    "`gitdocket tags sync --replace-orphans` when it is the same record; else look at it "
                    f"(`git show {action.spec.name}`)",
                )
            )
    return drifts


def _worktree(session: Session) -> list[Drift]:
    store = session.store
    restore = "run `gitdocket doctor --fix` (restored from the checked-out commit; the old content is in history)"
    stale = drift.stale(store)
    found = [Drift("WORKTREE_STALE", path, "left by an interrupted write", True, restore) for path in stale]
    found += [
        Drift("STATE_DIFFERS", path, "differs from the committed current.json", True, restore)
        for path in drift.differing(store)
        if path not in stale
    ]
    return found


def _locks(session: Session) -> list[Drift]:
    found = []
    for lock in drift.locks(session.store):
        if lock.live:
            found.append(Drift("LOCK_LIVE", str(lock.path), f"{lock.what}, held now", False, "wait for that write"))
        else:
            found.append(
                Drift(
                    "LOCK_DEAD",
                    str(lock.path),
                    f"{lock.what}, left by a process that died",
                    True,
                    "run `gitdocket doctor --fix`",
                )
            )
    return found


def _unpushed(session: Session) -> list[Drift]:
    store = session.store
    head = store.tip()
    refs = GitRefs(store.repo)
    local = {
        name: commit
        for name, commit in refs.tags().items()
        if in_namespace(name) and head is not None and refs.reaches(str(head.id), commit)
    }
    found = drift.unpushed(store, local)
    if found is None:
        return []
    drifts = []
    if found.commits is None or found.commits:
        count = "some" if found.commits is None else str(found.commits)
        drifts.append(
            Drift(
                "COMMITS_UNPUSHED",
                f"{found.remote}/{found.branch}",
                f"{count} commit(s) of {store.branch} are not on {found.remote}"
                + (" (it holds a commit this clone has not fetched)" if found.commits is None else ""),
                False,
                f"`git fetch {found.remote}` and reconcile, then `git push {found.remote} {store.branch}`",
            )
        )
    drifts += [
        Drift(
            "TAGS_UNPUSHED",
            name,
            f"not on {found.remote}",
            False,
            "`gitdocket tags sync --push` (on the default branch)",
        )
        for name in found.tags
    ]
    return drifts


def _policy(policy: PolicyState, clock: datetime, window: timedelta) -> list[Drift]:
    if policy.phase == "none" or policy.expires is None:
        return []
    expires = parse_time(policy.expires)
    renew = "a root holder renews it: `gitdocket policy expires TIME`"
    if expires <= clock:
        return [
            Drift("POLICY_EXPIRED", "registry/policy", f"v{policy.version} expired at {policy.expires}", False, renew)
        ]
    if expires - clock <= window:
        days = (expires - clock).days
        return [
            Drift(
                "POLICY_EXPIRING",
                "registry/policy",
                f"v{policy.version} expires at {policy.expires}, in {days} day(s) (now {format_time(clock)})",
                False,
                renew,
            )
        ]
    return []


def examine(session: Session, window: timedelta) -> list[Drift]:
    """Every drift of the registry ``session`` opens; writes nothing."""
    tree = session.snapshot()
    found = _locks(session) + _worktree(session)
    if tree.commit is not None:
        found += _tags(session) + _unpushed(session)
        found += _policy(load_log(tree, POLICY_SCOPE).state, session.clock, window)
    return found


def repair(session: Session, found: list[Drift], window: timedelta) -> Checkup:
    """Fix the fixable drift in ``found`` (module docstring) and examine again: what is left."""
    checkup = Checkup(found)
    store = session.store
    codes = {d.code for d in found if d.fixable}
    if "LOCK_DEAD" in codes:
        for lock in drift.dead_locks(store):
            drift.discard(lock)
            checkup.fixed.append(f"removed {lock.path} ({lock.what}, left by a process that died)")
    paths = tuple(sorted(d.subject for d in found if d.code in ("WORKTREE_STALE", "STATE_DIFFERS")))
    if paths:
        drift.restore(store, paths)
        checkup.fixed.extend(f"restored {path} from the checked-out commit" for path in paths)
    if "TAG_MISSING" in codes:
        checkup.fixed.extend(_sync(session))
    checkup.left = examine(session, window)
    return checkup


def _sync(session: Session) -> list[str]:
    """Re-create the missing tags as ``gitdocket tags sync`` does; a refusal (not the default
    branch, a key the policy does not list, no key) leaves them, and ``examine`` reports them."""
    try:
        synced = sync_tags(session, replace_orphans=False, push=False)
    except DocketError as exc:
        session.command.warnings.append(f"could not re-create the missing tags: {exc.message} ({exc.hint})")
        return []
    return [f"created {a.spec.name} at {a.commit[:12]}, signed with your key" for a in synced.written]
