"""Fork operations: fork an archetype (owner-only), pull a newer frozen source version into the
fork's draft (three-way merge, all or nothing), and the fork forest.

A fork is an independent archetype with its own owners; its first event is ``forked``
(``forked_from``: source archetype, version and method tree) and its ``method/`` is the source's
tree placed with ``TreeRef`` — git shares the objects, nothing is copied. ``pull_from_source``
merges with base = the source tree last taken (the fork point, or the last pull), ours = the
fork's committed method, theirs = the source's newest frozen version; a conflict writes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gitdocket.adapters.files import dump_yaml, load_yaml
from gitdocket.adapters.merge import TreeMerger
from gitdocket.core.fields import semver_key
from gitdocket.core.scopes import check_name, check_version
from gitdocket.core.tree import TreeRef, TreeView
from gitdocket.errors import ConflictError, InvariantError, NotFoundError
from gitdocket.lifecycles import scope
from gitdocket.lifecycles.archetype import PULL_REQUIRES_FORK, ArchetypeState, ForkOrigin, fork_source
from gitdocket.lifecycles.version import FROZEN_VERSION_IMMUTABLE
from gitdocket.ops.logs import load_log
from gitdocket.ops.transaction import Transaction

__all__ = ["MAX_DEPTH", "PullResult", "fork", "fork_forest", "pull_from_source"]

MAX_DEPTH = 64


@dataclass(frozen=True)
class PullResult:
    source: str
    version: str | None
    merged: bool


def _active(tx: Transaction, name: str) -> ArchetypeState:
    state = tx.state(scope("archetype", check_name(name, "archetype name")))
    if state.phase != "active":
        raise NotFoundError(f"no archetype {name!r}", "list them with `gitdocket archetype list`")
    return state


def _source_tree(tx: Transaction, source: str, version: str | None) -> str:
    if version is None:
        tree = tx.tree.tree_id(f"registry/archetypes/{source}/method")
        if tree is None:
            raise NotFoundError(
                f"archetype {source} has no method/ to fork", "name a frozen version with --from-version"
            )
        return tree
    state = tx.state(scope("version", source, check_version(version)))
    if state.phase == "init":
        raise NotFoundError(f"no version {version} of {source!r}", f"list them with `gitdocket version list {source}`")
    if state.snapshot is None:
        raise InvariantError(
            f"{source} {version} is {state.phase}, not frozen",
            FROZEN_VERSION_IMMUTABLE,
            "fork a frozen version, or omit --from-version to fork the draft",
        )
    return state.snapshot.method_tree


def fork(
    tx: Transaction,
    source: str,
    new: str,
    from_version: str | None = None,
    owners: tuple[str, ...] = (),
    threshold: int = 1,
) -> ForkOrigin:
    """Make ``new`` an independent copy of ``source`` (signed by an owner of ``source``)."""
    _active(tx, source)
    target = scope("archetype", check_name(new, "archetype name"))
    tx.check(target, "ForkArchetype")  # ARCHETYPE_UNIQUE, before the source is read
    tree = _source_tree(tx, source, from_version)
    tx.apply(
        target,
        "ForkArchetype",
        {
            "owners": list(owners or (tx.actor,)),
            "threshold": threshold,
            "source": source,
            "source_version": from_version,
            "method_tree": tree,
        },
    )
    doc_path = f"registry/archetypes/{source}/archetype.yaml"
    doc = load_yaml(tx.tree.read(doc_path) or b"{}", doc_path)
    doc["name"] = new
    tx.put(f"{target.path}/archetype.yaml", dump_yaml(doc))
    tx.put(f"{target.path}/method", TreeRef(tree))
    origin = tx.state(target).forked_from
    assert origin is not None  # the forked event records it
    return origin


def _newest_frozen(tx: Transaction, source: str) -> tuple[str, str] | None:
    """(version, method tree) of the source's newest frozen, not retired, version."""
    found = []
    for version in tx.tree.listdir(f"registry/versions/{source}"):
        state = tx.state(scope("version", source, version))
        if state.phase in ("frozen", "packaged") and state.snapshot is not None:
            found.append((version, state.snapshot.method_tree))
    return max(found, key=lambda item: semver_key(item[0])) if found else None


def _last_taken(tx: Transaction, name: str) -> tuple[str, str | None, str | None]:
    """(source, version, tree) the fork last took from its source: the last pull, else the fork
    point — read from the archetype's log, which records both."""
    source, version, tree = "", None, None
    for event in tx.log(scope("archetype", name)).events:
        if event.type == "forked":
            source, version = event.data["source"], event.data.get("source_version")
            tree = event.data.get("method_tree")
        elif event.type == "pulled_from_source":
            version, tree = event.data["source_version"], event.data["source_tree"]
    return source, version, tree


def pull_from_source(tx: Transaction, name: str, merger: TreeMerger) -> PullResult:
    """Merge the source's newest frozen version into the fork's draft, or refuse and write
    nothing."""
    target = scope("archetype", name)
    with tx.refusing(target, "PullFromSource"):
        fork_source(_active(tx, name))
    source, taken, base = _last_taken(tx, name)
    newest = _newest_frozen(tx, source)
    if newest is None or (taken is not None and semver_key(newest[0]) <= semver_key(taken)):
        return PullResult(source, taken, merged=False)
    version, theirs = newest
    method = f"registry/archetypes/{name}/method"
    ours = tx.tree.tree_id(method)
    if base is None or ours is None:
        raise InvariantError(
            f"archetype {name}: no merge base recorded for its fork point",
            PULL_REQUIRES_FORK,
            "restore method/ from git history",
        )
    outcome = merger.merge(base, ours, theirs)
    if outcome.tree is None:
        shown = ", ".join(outcome.conflicts)
        raise ConflictError(
            f"pull-from-source: {len(outcome.conflicts)} conflicting path(s) merging "
            f"{source} {version} into {name}: {shown}; nothing was written",
            f"make {method}/ agree with {source} {version} on those paths (or pass "
            "--favor ours|theirs), commit, then pull again",
        )
    tx.put(method, TreeRef(outcome.tree))
    tx.apply(
        scope("archetype", name),
        "PullFromSource",
        {"source": source, "source_version": version, "source_tree": theirs, "merged_tree": outcome.tree},
    )
    return PullResult(source, version, merged=True)


def fork_forest(tree: TreeView) -> list[dict[str, Any]]:
    """Every archetype as a tree of forks: roots have no (existing) source; children by name."""
    states = {name: load_log(tree, scope("archetype", name)).state for name in tree.listdir("registry/archetypes")}
    children: dict[str | None, list[str]] = {}
    for name, state in sorted(states.items()):
        parent = state.forked_from.archetype if state.forked_from else None
        children.setdefault(parent if parent in states else None, []).append(name)

    def node(name: str, depth: int) -> dict[str, Any]:
        origin = states[name].forked_from
        kids = children.get(name, []) if depth < MAX_DEPTH else []
        return {
            "name": name,
            "forked_from": origin.model_dump() if origin else None,
            "children": [node(child, depth + 1) for child in kids],
        }

    return [node(root, 1) for root in children.get(None, [])]
