"""Where every scope lives in the repository, and what a legal name is.

A scope is one lifecycle instance: one append-only log (``history.jsonl``, and once it grows
long its sealed segments in ``history/``, ADR 0037) plus its derived ``current.json`` under one
directory. Names are checked here once so that no path built from user
input can escape its folder (no ``..``, no slashes, no leading dots).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from gitdocket.core.fields import NAME_RE, SEMVER_RE
from gitdocket.core.limits import reserved
from gitdocket.core.tree import TreeView
from gitdocket.errors import InputError

__all__ = [
    "CURRENT",
    "HISTORY",
    "KIND_PATTERNS",
    "REGISTRY_YAML",
    "SEGMENTS",
    "Scope",
    "check_name",
    "check_version",
    "parse_scope_path",
    "scope",
    "scope_folders",
]

HISTORY = "history.jsonl"
SEGMENTS = "history"
"""The folder beside ``history.jsonl`` that holds a log's sealed segments (ADR 0037): the log is
the segments in name order followed by ``history.jsonl``, its open segment."""
CURRENT = "current.json"
REGISTRY_YAML = "registry/registry.yaml"
"""Where a registry's configuration lives (``RegistryConfig``): its readable face."""

BUNDLE_RE = re.compile(r"^[a-z0-9][a-z0-9.-]{0,127}$")
"""A bundle scope's folder name (the id a build gives a bundle is stricter: ``fields.BundleId``)."""

# kind -> path template; the order of placeholders is the order of keys.
KIND_PATTERNS: dict[str, str] = {
    "policy": "registry/policy",
    "config": "registry/config",
    "archetype": "registry/archetypes/{0}",
    "version": "registry/versions/{0}/{1}",
    "package": "registry/packages/{0}/{1}",
    "placement": "registry/placements/{0}/{1}",
    "entitlement": "registry/entitlements/{0}/{1}",
    "bundle": "bundles/{0}",
    "environment": "deployments/{0}",
}

# kind -> which checker each key uses
_KEY_KINDS: dict[str, tuple[str, ...]] = {
    "policy": (),
    "config": (),
    "archetype": ("name",),
    "version": ("name", "version"),
    "package": ("name", "version"),
    "placement": ("name", "name"),
    "entitlement": ("name", "name"),
    "bundle": ("bundle",),
    "environment": ("name",),
}


def check_name(value: str, what: str = "name") -> str:
    """``value`` as an archetype, project, placement, environment or label name: ``NAME_RE``, and
    never a device name Windows reserves (it names a folder; ``core.limits``)."""
    if not NAME_RE.fullmatch(value):
        raise InputError(
            f"invalid {what} {value!r}",
            "use 1-63 lowercase letters, digits and dashes, starting with a letter or digit",
        )
    if reserved(value):
        raise InputError(f"invalid {what} {value!r}: a device name Windows reserves", "pick another name")
    return value


def check_version(value: str) -> str:
    """``value`` as a version: semver, its pre-release in lowercase (two versions never differ
    only in case: they name folders)."""
    if not SEMVER_RE.fullmatch(value):
        raise InputError(f"invalid version {value!r}", "use semantic versioning, e.g. 1.2.0")
    if value != value.lower():
        raise InputError(f"invalid version {value!r}: a pre-release in capitals", f"write it {value.lower()!r}")
    return value


def _check_key(checker: str, value: str) -> str:
    if checker == "version":
        return check_version(value)
    if checker == "bundle":
        if not BUNDLE_RE.fullmatch(value) or ".." in value:
            raise InputError(f"invalid bundle id {value!r}", "bundle ids look like label-YYYYmmdd-HHMMSS-commit8")
        return value
    return check_name(value)


S_co = TypeVar("S_co", covariant=True)


@dataclass(frozen=True, order=True)
class Scope(Generic[S_co]):
    """One lifecycle instance: ``kind`` plus its keys, and the folder that holds it. The type
    parameter is the state of its lifecycle (``lifecycles.scope`` fills it in from the kind), so
    what reads a scope's state is typed; it plays no part at run time."""

    kind: str
    keys: tuple[str, ...]

    @functools.cached_property
    def path(self) -> str:  # kept: verify asks for it again and again (a format per call)
        return KIND_PATTERNS[self.kind].format(*self.keys)

    @property
    def history_path(self) -> str:
        return f"{self.path}/{HISTORY}"

    @property
    def segments_path(self) -> str:
        return f"{self.path}/{SEGMENTS}"

    @property
    def current_path(self) -> str:
        return f"{self.path}/{CURRENT}"

    @property
    def label(self) -> str:
        return f"{self.kind} {'/'.join(self.keys)}" if self.keys else self.kind


@functools.lru_cache(maxsize=65536)
def scope(kind: str, *keys: str) -> Scope[Any]:
    """Build a scope, validating every key against its kind's name rules. Cached (a scope is
    immutable): verify names the same scopes again and again (the policy, each archetype)."""
    if kind not in KIND_PATTERNS:
        raise InputError(f"unknown scope kind {kind!r}", f"known kinds: {', '.join(KIND_PATTERNS)}")
    checkers = _KEY_KINDS[kind]
    if len(keys) != len(checkers):
        raise InputError(f"{kind} scope takes {len(checkers)} key(s), got {len(keys)}")
    return Scope(kind, tuple(_check_key(c, k) for c, k in zip(checkers, keys, strict=True)))


def parse_scope_path(path: str) -> Scope[Any] | None:
    """The scope whose folder is ``path``, or None when ``path`` is not a scope folder."""
    parts = path.strip("/").split("/")
    for kind, pattern in KIND_PATTERNS.items():
        pparts = pattern.split("/")
        if len(pparts) != len(parts):
            continue
        keys: list[str] = []
        for pp, p in zip(pparts, parts, strict=True):
            if pp.startswith("{"):
                keys.append(p)
            elif pp != p:
                break
        else:
            try:
                return scope(kind, *keys)
            except InputError:
                return None
    return None


def _matching(tree: TreeView, parts: list[str], prefix: str) -> Iterator[str]:
    if not parts:
        yield prefix
        return
    head, rest = parts[0], parts[1:]
    if head.startswith("{"):
        for name in tree.listdir(prefix):
            if tree.kind(f"{prefix}/{name}") == "tree":
                yield from _matching(tree, rest, f"{prefix}/{name}")
    else:
        path = f"{prefix}/{head}" if prefix else head
        if tree.kind(path) == "tree":
            yield from _matching(tree, rest, path)


def scope_folders(tree: TreeView) -> Iterator[tuple[str, str]]:
    """(kind, folder) of every folder of ``tree`` where a scope of that kind would live, whether
    or not its name is legal (``parse_scope_path`` says)."""
    for kind, pattern in KIND_PATTERNS.items():
        for path in _matching(tree, pattern.split("/"), ""):
            yield kind, path
