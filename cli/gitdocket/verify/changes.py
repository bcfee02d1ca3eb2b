"""What changed between two snapshots, in O(the change): a walk of both trees that descends only
into folders whose git tree ids differ (identical subtrees hold identical bytes, so they are
skipped without being read), and the scopes the changed files belong to.

PR and history mode use it to judge only what a change touched (ADR 0034). Pure: it reads two
``TreeView``s.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from gitdocket.core.log import read_log, resealed
from gitdocket.core.scopes import CURRENT, HISTORY, KIND_PATTERNS, SEGMENTS, Scope, parse_scope_path, scope
from gitdocket.core.tree import TreeView
from gitdocket.lifecycles.config import CONFIG_SCOPE, ConfigState, guard_of, protected_paths
from gitdocket.verify.context import Context, present

__all__ = ["APPENDABLE", "Change", "added", "appended", "changed_files", "diff", "focus_of", "guarded", "settled"]

_PATTERNS = [(kind, pattern.split("/")) for kind, pattern in KIND_PATTERNS.items()]


@dataclass
class Change:
    """The scopes whose folders differ between two snapshots, and every changed path that lies
    in no legal scope folder (``registry/registry.yaml``, a README, a folder with an illegal
    scope name, ``contracts/``)."""

    scopes: set[Scope[Any]] = field(default_factory=set)
    other: list[str] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)
    """Every changed path."""


Entry = tuple[str, object]
"""(kind, identity) of a tree entry: two entries with equal identities hold the same bytes."""


def _entries(tree: TreeView, path: str) -> dict[str, Entry]:
    """The entries of the folder ``path``: a view with ``entries`` (``store.GitTree``) gives
    their git object ids in one read of the folder; any other is asked entry by entry."""
    listing = getattr(tree, "entries", None)
    if listing is not None:
        found: dict[str, Entry] = listing(path)
        return found
    out: dict[str, Entry] = {}
    for name in tree.listdir(path):
        child = f"{path}/{name}" if path else name
        kind = tree.kind(child) or "?"
        identity = tree.tree_id(child) if kind == "tree" else tree.read(child)
        out[name] = (kind, identity if identity is not None else object())  # (a link: never equal)
    return out


def changed_files(before: TreeView, after: TreeView, path: str = "") -> Iterator[str]:
    """Every path below ``path`` that is a file (or link, or submodule) in either snapshot and
    differs between them: added, deleted, edited, its mode or kind changed. Folders that are
    the same git tree in both are not entered: the walk costs the folders on the way to what
    changed, never the rest."""
    old, new = _entries(before, path), _entries(after, path)
    for name in sorted(set(old) | set(new)):
        a, b = old.get(name), new.get(name)
        if a == b:
            continue  # the very same object: every byte below it is the same
        child = f"{path}/{name}" if path else name
        if any(e is not None and e[0] == "tree" for e in (a, b)):
            yield from changed_files(before, after, child)  # (a side without the folder lists nothing)
        if any(e is not None and e[0] != "tree" for e in (a, b)):
            yield child  # a file on one side at least, and not the same


def _scope_of(path: str) -> Scope[Any] | None:
    """The legal scope whose folder holds ``path`` (None: no scope's, or an illegal name)."""
    parts = path.split("/")
    for _kind, pattern in _PATTERNS:
        if len(parts) < len(pattern):
            continue
        if all(p.startswith("{") or p == part for p, part in zip(pattern, parts, strict=False)):
            found = parse_scope_path("/".join(parts[: len(pattern)]))
            return found if found is not None and found.kind == _kind else None
    return None


def diff(before: TreeView, after: TreeView) -> Change:
    """The ``Change`` from ``before`` to ``after``."""
    change = Change()
    for path in changed_files(before, after):
        change.paths.append(path)
        found = _scope_of(path)
        if found is None:
            change.other.append(path)
        else:
            change.scopes.add(found)
    return change


APPENDABLE = frozenset({"archetype", "version", "package", "placement", "entitlement"})
"""Kinds whose existing scopes a focused verify lets a change append to. Their dependents read
them by time (owners in force, a package line a placement relied on, a version's phase before a
promotion) or by what never changes once written (a frozen snapshot, a manifest), or share their
keys (``_NEIGHBOURS``). An environment or a bundle is read by its current state by scopes that
name it in their data (promotions, releases), which no index lists: a change to an existing one
is judged with the whole registry."""

_NEIGHBOURS = {
    "version": ("package",),
    "package": ("version",),
    "placement": ("entitlement",),
    "entitlement": ("placement",),
}
"""Kind → the kinds of the scopes with the same keys whose checks read it."""


def focus_of(before: TreeView, after: TreeView, change: Change) -> set[Scope[Any]] | None:
    """The scopes a focused verify judges for ``change`` (its scopes and their same-key
    neighbours), or None when the change must be judged with the whole registry: it touches a
    path outside every scope (``registry.yaml``, ``contracts/``, an illegal folder), the policy
    or the configuration (everything is judged under them), deletes a scope, rewrites a log,
    or changes an existing environment or bundle."""
    if change.other or any(s.kind in ("policy", "config") for s in change.scopes):
        return None
    focus = set(change.scopes)
    for target in change.scopes:
        existed = present(before, target)
        if not existed:
            continue  # new: nothing in a verified base depended on it
        if target.kind not in APPENDABLE or not present(after, target):
            return None
        if resealed(before, after, target) or not read_log(after, target).startswith(read_log(before, target)):
            return None
        if target.kind != "archetype" and _beyond_log(target, change.paths):
            return None
        focus.update(scope(kind, *target.keys) for kind in _NEIGHBOURS.get(target.kind, ()))
    return focus


def _beyond_log(target: Scope[Any], paths: list[str]) -> bool:
    """A change touches more of ``target``'s folder than its log and ``current.json``: only an
    archetype's draft legally changes; anything else there is immutable (a frozen method, which
    a later version's risk check reads as its baseline), so the whole registry is judged."""
    inside = (p.removeprefix(f"{target.path}/") for p in paths if p.startswith(f"{target.path}/"))
    return any(rel not in (HISTORY, CURRENT) and not rel.startswith(f"{SEGMENTS}/") for rel in inside)


def guarded(config: ConfigState | None, paths: list[str]) -> bool:
    """Some of ``paths`` is protected by the signed configuration ``config``."""
    guards = protected_paths(config.registry if config is not None else None)
    return any(guard_of(guards, path) is not None for path in paths)


def settled(base: Context, head: Context, change: Change) -> bool:
    """After both focused contexts are settled: whether the focus is enough. No changed path is
    a protected one, no log that existed at the base is broken at the head (a broken log's fold
    is no evidence, which checks of other scopes would notice), and every event appended to one
    is newer than every event of the base (so nothing a check of another scope reads by time,
    before a time the base already held, has changed)."""
    config = base.record(CONFIG_SCOPE)
    if guarded(config.state if config is not None and config.events else None, change.paths):
        return False
    appended = added(base, head, change)
    if appended is None:
        return False
    if not appended:
        return True
    newest = base.newest
    return newest is None or min(appended) > newest


def added(base: Context, head: Context, change: Change) -> list[str] | None:
    """The times of the events ``change`` appended to logs that existed at the base; None when
    such a log is broken at the head or lost events."""
    times: list[str] = []
    for target in change.scopes:
        before, after = base.record(target), head.record(target)
        if before is None:
            continue
        if after is None or after.broken or len(after.events) < len(before.events):
            return None
        times.extend(e.at for e in after.events[len(before.events) :])
    return times


def appended(base: Context, head: Context, change: Change) -> list[str]:
    """The times of every event ``change`` added, to new logs as well (parsed events only)."""
    times: list[str] = []
    for target in change.scopes:
        before, after = base.record(target), head.record(target)
        start = len(before.events) if before is not None else 0
        times.extend(e.at for e in (after.events[start:] if after is not None else []))
    return times
