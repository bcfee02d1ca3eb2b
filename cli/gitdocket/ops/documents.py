"""Reading registry documents out of a snapshot, for the operations: a missing document is an
error here. Parsing and validation are ``core.documents.parse_document``, which verify reads
through too (with the same YAML parser, passed in by the command).

The registry's configuration is the exception: ``registry_config`` reads the signed state
(``registry/config``), never ``registry.yaml``, which is only its readable face (ADR 0013).
``configured_environments`` reads only the environments' names from that state's
``current.json``, as JSON, for the reads that need no more (``status``, ``history``; ADR 0035):
so this module imports the document models only where it parses one."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gitdocket.adapters.files import load_yaml
from gitdocket.core.canonical import loads_strict
from gitdocket.core.scopes import REGISTRY_YAML
from gitdocket.core.tree import TreeView
from gitdocket.errors import NotFoundError, StateError
from gitdocket.lifecycles import scope
from gitdocket.ops.logs import load_log

if TYPE_CHECKING:
    from gitdocket.core.documents import ArchetypeDoc, RegistryConfig

__all__ = [
    "REGISTRY_YAML",
    "UNSIGNED_HINT",
    "allowed_secrets",
    "archetype_doc",
    "configured_environments",
    "read_json",
    "recorded_state",
    "registry_config",
]

UNSIGNED_HINT = "a root holder signs registry/registry.yaml: `gitdocket config apply`"


def registry_config(tree: TreeView) -> RegistryConfig:
    """The configuration in force: the signed state of ``registry/config``, never the file."""
    state = load_log(tree, scope("config")).state
    if state.registry is None:
        raise _unsigned()
    return state.registry


def configured_environments(tree: TreeView) -> list[str]:
    """The configured environments in promotion order, as the signed configuration's state
    (``registry/config/current.json``) records them: read as JSON, like the environments'
    pointers, building no model and replaying no log. Whether that file is the fold of its
    signed log is ``gitdocket verify``'s question (ADR 0035)."""
    path = scope("config").current_path
    raw = tree.read(path)
    state = loads_strict(raw, path) if raw is not None else {}
    registry = state.get("registry") if isinstance(state, dict) else None
    if registry is None and isinstance(state, dict):
        raise _unsigned()
    environments = registry.get("environments") if isinstance(registry, dict) else None
    if not isinstance(environments, list) or not all(
        isinstance(e, dict) and isinstance(e.get("name"), str) for e in environments
    ):
        raise StateError(f"{path}: not a configuration state (no registry.environments)", "run `gitdocket verify`")
    return [e["name"] for e in environments]


def _unsigned() -> StateError:
    return StateError(f"{REGISTRY_YAML} is not signed: this registry has no signed configuration", UNSIGNED_HINT)


def allowed_secrets(tree: TreeView) -> frozenset[str]:
    """The registry's allow-list of secret-looking places (``RegistryConfig.allowed_secrets``) as
    the signed configuration says; none before it is signed (the registry's very first commit)."""
    state = load_log(tree, scope("config")).state
    return state.registry.allowed_secrets() if state.registry is not None else frozenset()


def archetype_doc(tree: TreeView, name: str) -> ArchetypeDoc:
    path = f"registry/archetypes/{name}/archetype.yaml"
    data = tree.read(path)
    if data is None:
        raise NotFoundError(f"{path} is missing", f"create the archetype with `gitdocket archetype new {name}`")
    from gitdocket.core.documents import ArchetypeDoc, parse_document  # the models, only when one is parsed

    return parse_document(ArchetypeDoc, data, path, load_yaml)


def recorded_state(tree: TreeView, path: str) -> dict[str, Any]:
    """A scope's ``current.json`` as JSON: the state as recorded, for the reads that show it."""
    state = read_json(tree, path)
    if not isinstance(state, dict):
        raise StateError(f"{path}: not a JSON object", "restore the file from git history; see `gitdocket verify`")
    return state


def read_json(tree: TreeView, path: str) -> Any:
    data = tree.read(path)
    if data is None:
        raise NotFoundError(f"{path} is missing", "restore it from git history; see `gitdocket verify`")
    return loads_strict(data, path)
