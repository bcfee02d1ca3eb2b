"""Where the scopes of a snapshot are: every folder a scope pattern matches, judged by its name
and contents (``discover_scopes``), or only the folders of chosen scopes (``discover_only``, for
a context focused on a change, ADR 0034). Pure: reads a ``TreeView``."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from gitdocket.core.scopes import CURRENT, HISTORY, Scope, parse_scope_path, scope_folders
from gitdocket.core.tree import TreeView
from gitdocket.lifecycles import LIFECYCLES
from gitdocket.verify.findings import Finding

__all__ = ["discover_only", "discover_scopes", "present"]

_FILE_KINDS = ("blob", "exec")
"""The entry kinds ``TreeView.read`` returns bytes for."""


def _classify(tree: TreeView, kind: str, path: str) -> tuple[Scope[Any] | None, Finding | None]:
    """The scope whose folder is ``path`` (a folder matching ``kind``'s pattern), or the finding
    that it is no scope: its name breaks the rules, or it holds neither log nor current.json."""
    found = parse_scope_path(path)
    if found is None or found.kind != kind:
        return None, Finding(
            path,
            "UNEXPECTED_FILE",
            "folder name is not a legal scope name",
            hint="rename or remove the folder",
        )
    # ``read`` returns bytes exactly for blob entries: asking the kind is the same
    # question without inflating 12,000 files twice.
    if tree.kind(f"{path}/{HISTORY}") in _FILE_KINDS or tree.kind(f"{path}/{CURRENT}") in _FILE_KINDS:
        return found, None
    return None, Finding(
        path,
        "CURRENT_MISSING",
        "scope folder has no history.jsonl",
        found.label,
        hint="restore the scope's log from git history",
    )


def _discover(tree: TreeView, folders: Iterable[tuple[str, str]]) -> tuple[list[Scope[Any]], list[Finding]]:
    """The scopes among ``folders`` ((kind, path) of folders a scope pattern matches), and the
    findings about those that are no scope."""
    scopes: list[Scope[Any]] = []
    findings: list[Finding] = []
    for kind, path in folders:
        found, problem = _classify(tree, kind, path)
        if found is not None:
            scopes.append(found)
        if problem is not None:
            findings.append(problem)
    return sorted(scopes), findings


def discover_scopes(tree: TreeView) -> tuple[list[Scope[Any]], list[Finding]]:
    """Every scope folder in ``tree``; folders that match a pattern but not its name rules are
    reported."""
    return _discover(tree, ((kind, path) for kind, path in scope_folders(tree) if kind in LIFECYCLES))


def present(tree: TreeView, target: Scope[Any]) -> bool:
    """``target`` is a scope of ``tree`` (what ``discover_scopes`` would find)."""
    return tree.kind(target.path) == "tree" and _classify(tree, target.kind, target.path)[0] is not None


def discover_only(tree: TreeView, wanted: Iterable[Scope[Any]]) -> tuple[list[Scope[Any]], list[Finding]]:
    """``discover_scopes`` restricted to the folders of ``wanted``."""
    folders = [(t.kind, t.path) for t in sorted(set(wanted)) if tree.kind(t.path) == "tree"]
    return _discover(tree, folders)
