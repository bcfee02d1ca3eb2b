"""The signed configuration (ADR 0013): sign what ``registry/registry.yaml`` says, approve the
content of protected files, and read the configuration the way every writer must: from the
signed state, never from the file.

``apply`` signs the committed ``registry.yaml`` (in one commit it also approves the current
content of paths the new document protects for the first time, so applying never leaves an
unapproved file behind); ``approve`` signs the content of changed protected files, one event per
role that protects them. No printing here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from gitdocket.adapters.files import load_yaml
from gitdocket.core.documents import REGISTRY_YAML, RegistryConfig, parse_document
from gitdocket.core.tree import TreeView
from gitdocket.errors import InputError, StateError
from gitdocket.lifecycles.config import CONFIG_SCOPE, ConfigState, guard_of, protected_paths, unapproved
from gitdocket.ops.documents import UNSIGNED_HINT
from gitdocket.ops.logs import load_log
from gitdocket.ops.transaction import Transaction
from gitdocket.verify.config import difference, protected_files

__all__ = ["ConfigStatus", "apply", "approve", "approve_files", "status"]


def _committed(tx: Transaction) -> RegistryConfig:
    raw = tx.read(REGISTRY_YAML)
    if raw is None:
        raise StateError(f"{REGISTRY_YAML} is missing", "restore the file (in a new registry: `gitdocket init`)")
    return parse_document(RegistryConfig, raw, REGISTRY_YAML, load_yaml)


def approve_files(tx: Transaction, files: Mapping[str, str | None]) -> dict[str, str | None]:
    """Approve ``files`` (path → sha256, or None for a deletion): one signed event per role that
    protects them. Returns what was approved."""
    state = tx.state(CONFIG_SCOPE)
    guards = protected_paths(state.registry)
    by_role: dict[str, dict[str, str | None]] = {}
    for path, digest in sorted(files.items()):
        guard = guard_of(guards, path)
        if guard is not None:
            by_role.setdefault(guard.role, {})[path] = digest
    for role, chosen in sorted(by_role.items()):
        tx.apply(CONFIG_SCOPE, "ApprovePaths", {"role": role, "files": chosen})
    return {p: d for chosen in by_role.values() for p, d in chosen.items()}


def apply(tx: Transaction) -> ConfigState:
    """Sign the committed ``registry.yaml``; files under paths it newly protects are approved as
    they are, in the same commit."""
    before = tx.state(CONFIG_SCOPE)
    document = _committed(tx)
    tx.apply(CONFIG_SCOPE, "ApplyConfig", {"registry": document.model_dump(mode="json")})
    old = {g.path for g in protected_paths(before.registry)} if before.registry is not None else set()
    fresh = [g for g in protected_paths(document) if g.path not in old]
    found = unapproved(tx.state(CONFIG_SCOPE), protected_files(tx.tree, fresh))
    approve_files(tx, {p: d for p, d in found.items() if guard_of(fresh, p) is not None})
    return tx.state(CONFIG_SCOPE)


def approve(tx: Transaction, paths: tuple[str, ...] = ()) -> dict[str, str | None]:
    """Approve the committed content of every unapproved protected file (only those under
    ``paths`` when given)."""
    state = tx.state(CONFIG_SCOPE)
    if state.registry is None:
        raise StateError(f"{REGISTRY_YAML} is not signed yet", UNSIGNED_HINT)
    pending = unapproved(state, protected_files(tx.tree, protected_paths(state.registry)))
    chosen = {p: d for p, d in pending.items() if not paths or any(_under(p, q) for q in paths)}
    if not chosen:
        named = f" under {', '.join(paths)}" if paths else ""
        raise InputError(
            f"no protected file{named} differs from its approval",
            "commit the change first; see `gitdocket config show` for what is protected",
        )
    return approve_files(tx, chosen)


def _under(path: str, prefix: str) -> bool:
    return path == prefix or path.startswith(prefix.rstrip("/") + "/")


@dataclass(frozen=True)
class ConfigStatus:
    """What ``config show`` prints: the signed state, whether the file says the same, and which
    protected files wait for an approval."""

    state: ConfigState
    drift: str | None
    pending: dict[str, str | None]


def status(tree: TreeView) -> ConfigStatus:
    state = load_log(tree, CONFIG_SCOPE).state
    if state.registry is None:
        raise StateError(f"{REGISTRY_YAML} is not signed: this registry has no signed configuration", UNSIGNED_HINT)
    raw = tree.read(REGISTRY_YAML)
    drift: str | None = "the file is missing"
    if raw is not None:
        found = parse_document(RegistryConfig, raw, REGISTRY_YAML, load_yaml)
        drift = difference(state.registry.model_dump(mode="json"), found.model_dump(mode="json"))
    pending = unapproved(state, protected_files(tree, protected_paths(state.registry)))
    return ConfigStatus(state, drift, pending)
