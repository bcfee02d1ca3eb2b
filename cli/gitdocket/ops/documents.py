"""Reading registry documents out of a snapshot, for the operations: a missing document is an
error here. Parsing and validation are ``core.documents.parse_document``, which verify reads
through too (with the same YAML parser, passed in by the command).

The registry's configuration is the exception: ``registry_config`` reads the signed state
(``registry/config``), never ``registry.yaml``, which is only its readable face (ADR 0013)."""

from __future__ import annotations

from typing import Any

from gitdocket.adapters.files import load_yaml
from gitdocket.core.canonical import loads_strict
from gitdocket.core.documents import REGISTRY_YAML, ArchetypeDoc, RegistryConfig, parse_document
from gitdocket.core.tree import TreeView
from gitdocket.errors import NotFoundError, StateError
from gitdocket.lifecycles import scope
from gitdocket.ops.logs import load_log

__all__ = ["REGISTRY_YAML", "UNSIGNED_HINT", "allowed_secrets", "archetype_doc", "read_json", "registry_config"]

UNSIGNED_HINT = "a root holder signs registry/registry.yaml: `gitdocket config apply`"


def registry_config(tree: TreeView) -> RegistryConfig:
    """The configuration in force: the signed state of ``registry/config``, never the file."""
    state = load_log(tree, scope("config")).state
    if state.registry is None:
        raise StateError(f"{REGISTRY_YAML} is not signed: this registry has no signed configuration", UNSIGNED_HINT)
    return state.registry


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
    return parse_document(ArchetypeDoc, data, path, load_yaml)


def read_json(tree: TreeView, path: str) -> Any:
    data = tree.read(path)
    if data is None:
        raise NotFoundError(f"{path} is missing")
    return loads_strict(data, path)
