"""What every scope folder may hold (its log, sealed segments, ``current.json`` and its kind's own
files) and ``registry.yaml`` against its model: the checks every snapshot runs, whatever scopes
it holds (``snapshot.CHECKS``). The archetypes', versions' and packages' own are
``verify.archetypes``. Pure."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel

from gitdocket.core.canonical import loads_strict
from gitdocket.core.documents import REGISTRY_YAML, Parser, RegistryConfig, parse_document
from gitdocket.core.log import SEGMENT_NAME_RE, WHOLE_LOG_KINDS
from gitdocket.core.scopes import CURRENT, HISTORY, SEGMENTS, Scope
from gitdocket.core.tree import TreeView
from gitdocket.errors import DocketError
from gitdocket.verify.context import Context
from gitdocket.verify.findings import Finding

__all__ = ["SCOPE_FILES", "registry_document", "scope_contents", "validated"]

SCOPE_FILES: dict[str, set[str]] = {
    "policy": {"trusted-roots"},  # the pinned Sigstore roots (verify.roots)
    "config": set(),
    "archetype": {"archetype.yaml", "method"},
    "version": {"method"},
    "package": set(),
    "placement": set(),
    "entitlement": set(),
    "bundle": {"bundle_manifest.json", "payload", "evidence"},
    "environment": {"releases", "reports", "provenance"},
}
"""Entries a scope folder may hold besides its log (history.jsonl, its sealed segments in
``history/`` but for ``WHOLE_LOG_KINDS``) and current.json."""


def scope_contents(ctx: Context) -> Iterable[Finding]:
    for target, _record in ctx.ordered():
        allowed = {HISTORY, CURRENT} | SCOPE_FILES.get(target.kind, set())
        if target.kind not in WHOLE_LOG_KINDS:
            allowed.add(SEGMENTS)
        for name in ctx.tree.listdir(target.path):
            if name not in allowed:
                yield Finding(
                    f"{target.path}/{name}",
                    "UNEXPECTED_FILE",
                    "no lifecycle writes this file",
                    target.label,
                    hint="remove it; scope folders hold only what gitdocket writes",
                )
            elif name == SEGMENTS:
                yield from _segments(ctx.tree, target)


def _segments(tree: TreeView, target: Scope[Any]) -> Iterable[Finding]:
    """What is wrong with ``target``'s sealed segments as files (ADR 0037): the log they make up
    with ``history.jsonl`` is parsed, chained and replayed like any other."""
    folder = target.segments_path
    if tree.kind(folder) != "tree":
        yield _segment_finding(target, folder, "is not a folder of sealed segments")
        return
    for name in sorted(tree.listdir(folder)):
        path = f"{folder}/{name}"
        named = SEGMENT_NAME_RE.fullmatch(name)
        data = tree.read(path) if named is not None and tree.kind(path) in ("blob", "exec") else None
        if named is None or data is None:
            problem = "is not a sealed segment (history/<first seq, nine digits>.jsonl, a file)"
        elif not data.endswith(b"\n"):
            problem = "does not end with a whole line"
        elif _first_seq(data) != int(named[1]):
            problem = f"does not begin with event {int(named[1])}, as its name says"
        else:
            continue
        yield _segment_finding(target, path, problem)


def _segment_finding(target: Scope[Any], path: str, problem: str) -> Finding:
    return Finding(
        path,
        "LOG_SEGMENT",
        problem,
        target.label,
        hint="sealed segments are never written again; restore the log's files from git history",
    )


def _first_seq(data: bytes) -> int | None:
    """The ``seq`` of a segment's first line (None when it is not an event's)."""
    try:
        event = loads_strict(data.split(b"\n", 1)[0], "segment")
    except DocketError:
        return None
    seq = event.get("seq") if isinstance(event, dict) else None
    return seq if isinstance(seq, int) else None


def validated(model: type[BaseModel], raw: bytes, path: str, parse: Parser) -> tuple[Any, str]:
    """``raw`` (the file at ``path``) parsed and validated against ``model``, or why not (the
    message without the path, for a ``DOCUMENT_INVALID`` finding)."""
    try:
        return parse_document(model, raw, path, parse), ""
    except DocketError as exc:
        return None, exc.message.removeprefix(f"{path}: ").removeprefix(f"{path}:")


def registry_document(ctx: Context) -> Iterable[Finding]:
    """``registry.yaml`` against its model."""
    data = ctx.tree.read(REGISTRY_YAML)
    problem = "missing" if data is None else validated(RegistryConfig, data, REGISTRY_YAML, ctx.parse_yaml)[1]
    if problem:
        hint = "fix the file or restore it from git history (in a new registry: `gitdocket init`)"
        yield Finding(REGISTRY_YAML, "DOCUMENT_INVALID", problem, hint=hint)
