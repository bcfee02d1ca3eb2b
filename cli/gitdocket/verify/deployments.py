"""Verification of one environment's chain, the way a runtime checks it before it resolves a
deployment (``gitdocket deployments resolve``): the snapshot checks over a view of the tree that
shows only that environment, the environments it received bundles from, those bundles, the
policy that signed them, ``registry.yaml``, its signed configuration and the files that
configuration protects. Pure: reads a ``TreeView``.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Iterator
from typing import Any

from gitdocket.core.canonical import loads_strict
from gitdocket.core.documents import Parser
from gitdocket.core.log import iter_lines, read_log
from gitdocket.core.scopes import parse_scope_path
from gitdocket.core.tree import EntryKind, TreeView
from gitdocket.errors import DocketError
from gitdocket.verify.context import Keyless
from gitdocket.verify.findings import Finding
from gitdocket.verify.stream import verify_snapshot

__all__ = ["verify_environment"]


class _Only:
    """A ``TreeView`` that shows only ``prefixes`` of another (and the folders leading to them)."""

    def __init__(self, tree: TreeView, prefixes: Iterable[str]) -> None:
        self.tree = tree
        self.commit = tree.commit
        self.prefixes = tuple(prefixes)

    def _inside(self, path: str) -> bool:
        return any(path == p or path.startswith(p + "/") for p in self.prefixes)

    def _visible(self, path: str) -> bool:
        return path in ("", ".") or self._inside(path) or any(p.startswith(path + "/") for p in self.prefixes)

    def read(self, path: str) -> bytes | None:
        return self.tree.read(path) if self._inside(path) else None

    def kind(self, path: str) -> EntryKind | None:
        return self.tree.kind(path) if self._visible(path) else None

    def listdir(self, path: str) -> list[str]:
        if not self._visible(path):
            return []
        return [n for n in self.tree.listdir(path) if self._visible(f"{path}/{n}" if path else n)]

    def tree_id(self, path: str) -> str | None:
        return self.tree.tree_id(path) if self._inside(path) else None

    def walk(self, path: str) -> Iterator[tuple[str, EntryKind, str]]:
        if self._inside(path):
            yield from self.tree.walk(path)


def _protected(tree: TreeView) -> set[str]:
    """The protected paths the signed configuration names (``verify`` checks that its
    ``current.json`` is the fold of its log), so that hiding them is not mistaken for deleting."""
    raw = tree.read("registry/config/current.json")
    try:
        state = loads_strict(raw, "registry/config/current.json") if raw else {}
        guards = [g["path"] for g in state.get("registry", {}).get("protected", [])]
        return {p.rstrip("/") for p in [*guards, *state.get("approved", {}), "contracts/"] if isinstance(p, str)}
    except (DocketError, AttributeError, KeyError, TypeError):
        return set()


def _promotions(tree: TreeView, environment: str) -> Iterator[dict[str, Any]]:
    """The data of every promotion in ``environment``'s log, read as plain JSON: the release
    list is in the log, not in ``current.json`` (ADR 0033). A line that is not an event is left
    to the snapshot checks, which report it."""
    target = parse_scope_path(f"deployments/{environment}")  # None for a name no scope has
    for _n, line in iter_lines(read_log(tree, target) if target is not None else b""):
        try:
            event = loads_strict(line, environment)
        except DocketError:
            continue
        if isinstance(event, dict) and event.get("type") == "promoted" and isinstance(event.get("data"), dict):
            yield event["data"]


def verify_environment(
    tree: TreeView, environment: str, *, parse_yaml: Parser, clock: str | None = None, keyless: Keyless | None = None
) -> list[Finding]:
    """Every finding about ``environment``'s chain: its log, its releases and reports, the
    environments it received bundles from, those bundles, and the policy that signed them."""
    prefixes = {"registry/policy", "registry/registry.yaml", "registry/config", f"deployments/{environment}"}
    prefixes.update(_protected(tree))
    pending, seen = [environment], set()
    while pending:
        env = pending.pop()
        if env in seen:
            continue
        seen.add(env)
        prefixes.add(f"deployments/{env}")
        promoted = list(_promotions(tree, env))
        prefixes.update(f"bundles/{p['bundle_id']}" for p in promoted if isinstance(p.get("bundle_id"), str))
        pending.extend(str(p["source_environment"]) for p in promoted if isinstance(p.get("source_environment"), str))
    view = _Only(tree, sorted(prefixes))
    return verify_snapshot(view, parse_yaml=_parsed_once(parse_yaml), clock=clock, keyless=keyless)


def _parsed_once(parse: Parser) -> Parser:
    """``parse``, each document parsed once (the document and configuration checks both read
    ``registry.yaml``; a runtime waits on resolve, and YAML is parsed in pure Python). Each
    caller gets its own copy; a document that does not parse raises every time."""
    parsed: dict[tuple[bytes, str], Any] = {}

    def parse_once(raw: bytes, where: str) -> Any:
        if (raw, where) not in parsed:
            parsed[raw, where] = parse(raw, where)
        return copy.deepcopy(parsed[raw, where])

    return parse_once
