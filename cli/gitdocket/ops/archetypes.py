"""Archetype operations: create one from a folder on disk, and change its owners."""

from __future__ import annotations

from pathlib import Path

from gitdocket.adapters.files import load_yaml, read_folder
from gitdocket.core.canonical import loads_strict
from gitdocket.core.documents import ArchetypeDoc, parse_document
from gitdocket.core.scopes import check_name
from gitdocket.errors import InputError, NotFoundError
from gitdocket.lifecycles import scope
from gitdocket.lifecycles.version import AgentConfig
from gitdocket.ops.transaction import Transaction

__all__ = ["add_archetype", "change_owners", "load_source_folder"]


def load_source_folder(source: Path, name: str) -> dict[str, bytes]:
    """Files of an archetype folder on disk (``archetype.yaml`` + ``method/``), checked."""
    files = read_folder(source)
    if "archetype.yaml" not in files:
        raise InputError(f"{source}: no archetype.yaml", "see examples/archetypes/ for the layout")
    doc = parse_document(ArchetypeDoc, files["archetype.yaml"], f"{source}/archetype.yaml", load_yaml)
    if doc.name != name:
        raise InputError(
            f"{source}/archetype.yaml: name {doc.name!r} does not match {name!r}",
            f"set name: {name} in the file, or create it under that name",
        )
    config = files.get("method/.agent-config.json")
    if config is not None:  # refused at the door, not at the first freeze
        where = f"{source}/method/.agent-config.json"
        parse_document(AgentConfig, config, where, loads_strict)
    extra = sorted(p for p in files if p != "archetype.yaml" and not p.startswith("method/"))
    if extra:
        raise InputError(
            f"{source}: unexpected file {extra[0]}", "an archetype folder holds archetype.yaml and method/ only"
        )
    return files


def add_archetype(
    tx: Transaction, name: str, files: dict[str, bytes], owners: tuple[str, ...], threshold: int = 1
) -> None:
    """Create archetype ``name`` owned by ``owners`` with the given folder contents."""
    check_name(name, "archetype name")
    target = scope("archetype", name)
    tx.apply(target, "CreateArchetype", {"owners": list(owners or (tx.actor,)), "threshold": threshold})
    for rel, data in sorted(files.items()):
        tx.put(f"{target.path}/{rel}", data)


def change_owners(
    tx: Transaction, name: str, add: tuple[str, ...], remove: tuple[str, ...], threshold: int | None
) -> tuple[tuple[str, ...], int]:
    """Add and remove owners of ``name`` (and change their threshold), signed by as many of the
    current owners as their threshold asks. Every new owner must be an identity of the policy,
    or nobody could ever sign for them."""
    target = scope("archetype", check_name(name, "archetype name"))
    state = tx.state(target)
    if state.phase != "active":
        raise NotFoundError(f"no archetype {name!r}", "list them with `gitdocket archetype list`")
    unknown = [p for p in add if p not in tx.policy.identities]
    if unknown:
        raise InputError(
            f"{unknown[0]} is not an identity of the trust policy",
            f"a root holder adds it first: `gitdocket policy add-identity {unknown[0]} PUBKEY`",
        )
    missing = [p for p in remove if p not in state.owners]
    if missing:
        raise InputError(f"{missing[0]} is not an owner of {name}", f"see `gitdocket archetype show {name}`")
    owners = tuple(sorted({*state.owners, *add} - set(remove)))
    new = tx.apply(target, "ChangeOwners", {"owners": list(owners), "threshold": threshold or state.threshold})
    return new.owners, new.threshold
