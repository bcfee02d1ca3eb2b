"""Reading registry documents out of a snapshot, for the operations: a missing document is an
error here. Parsing and validation are ``core.documents.parse_document``, which verify reads
through too (with the same YAML parser, passed in by the command)."""

from __future__ import annotations

from typing import Any

from gitdocket.adapters.files import load_yaml
from gitdocket.core.canonical import loads_strict
from gitdocket.core.documents import REGISTRY_YAML, ArchetypeDoc, RegistryConfig, parse_document
from gitdocket.core.tree import TreeView
from gitdocket.errors import NotFoundError, StateError

__all__ = ["REGISTRY_YAML", "allowed_secrets", "archetype_doc", "read_json", "registry_config"]


def registry_config(tree: TreeView) -> RegistryConfig:
    data = tree.read(REGISTRY_YAML)
    if data is None:
        raise StateError(f"{REGISTRY_YAML} is missing", "run `gitdocket init` or restore the file")
    return parse_document(RegistryConfig, data, REGISTRY_YAML, load_yaml)


def allowed_secrets(tree: TreeView) -> frozenset[str]:
    """The registry's allow-list of secret-looking places (``RegistryConfig.allowed_secrets``);
    none before the registry has a configuration (its very first commit)."""
    if tree.read(REGISTRY_YAML) is None:
        return frozenset()
    return registry_config(tree).allowed_secrets()


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
