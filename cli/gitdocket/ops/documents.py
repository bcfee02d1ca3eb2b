"""Reading registry documents out of a snapshot (shared by every operation and by verify)."""

from __future__ import annotations

from typing import Any

from gitdocket.adapters.files import load_yaml
from gitdocket.core.canonical import loads_strict
from gitdocket.core.documents import REGISTRY_YAML, ArchetypeDoc, RegistryConfig
from gitdocket.core.model import validate
from gitdocket.core.tree import TreeView
from gitdocket.errors import NotFoundError, StateError

__all__ = ["REGISTRY_YAML", "archetype_doc", "read_json", "registry_config"]


def registry_config(tree: TreeView) -> RegistryConfig:
    data = tree.read(REGISTRY_YAML)
    if data is None:
        raise StateError(f"{REGISTRY_YAML} is missing", "run `gitdocket init` or restore the file")
    return validate(RegistryConfig, load_yaml(data, REGISTRY_YAML), REGISTRY_YAML)


def archetype_doc(tree: TreeView, name: str) -> ArchetypeDoc:
    path = f"registry/archetypes/{name}/archetype.yaml"
    data = tree.read(path)
    if data is None:
        raise NotFoundError(f"{path} is missing", f"create the archetype with `gitdocket archetype new {name}`")
    return validate(ArchetypeDoc, load_yaml(data, path), path)


def read_json(tree: TreeView, path: str) -> Any:
    data = tree.read(path)
    if data is None:
        raise NotFoundError(f"{path} is missing")
    return loads_strict(data, path)
