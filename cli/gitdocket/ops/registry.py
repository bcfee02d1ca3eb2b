"""``gitdocket init``: the policy with its first root identity, the registry skeleton, and the
signed configuration: what the new ``registry.yaml`` says and the content of every protected file
(the pinned contracts, the workflows), signed by that root in the same commit."""

from __future__ import annotations

import json

from gitdocket.adapters.files import load_yaml
from gitdocket.adapters.templates import template_files
from gitdocket.core import sshsig
from gitdocket.core.canonical import sha256_hex
from gitdocket.core.documents import REGISTRY_YAML, RegistryConfig, parse_document
from gitdocket.core.sshsig import Signer
from gitdocket.lifecycles.config import guard_of, protected_paths
from gitdocket.lifecycles.policy import Identity
from gitdocket.ops.config import CONFIG, approve_files
from gitdocket.ops.transaction import POLICY, Transaction

__all__ = ["INITIAL_ROLES", "initialize"]

INITIAL_ROLES = ("root", "authors", "builders", "promoters")


def _named(template: bytes, name: str) -> bytes:
    """The template with its ``name:`` line set to ``name`` (a JSON string is YAML), keeping the
    comments that explain the file to whoever edits it next."""
    lines = template.decode("utf-8").splitlines(keepends=True)
    out = [f"name: {json.dumps(name)}\n" if line.startswith("name:") else line for line in lines]
    return "".join(out).encode("utf-8")


def initialize(tx: Transaction, name: str, principal: str, signer: Signer) -> None:
    identity = Identity(name=principal, kind="ssh", public_key=sshsig.public_key_line(signer.public_key))
    roles = {role: {"principals": [principal], "threshold": 1} for role in INITIAL_ROLES}
    tx.apply(POLICY, "InitPolicy", {"identities": [identity.model_dump(mode="json")], "roles": roles})
    files: dict[str, bytes] = {}
    for path, data in template_files().items():
        if path == REGISTRY_YAML:
            data = _named(data, name)
        files[path] = tx.tree.read(path) or data
        if tx.tree.read(path) is None:
            tx.put(path, data)
    document = parse_document(RegistryConfig, files[REGISTRY_YAML], REGISTRY_YAML, load_yaml)
    tx.apply(CONFIG, "ApplyConfig", {"registry": document.model_dump(mode="json")})
    guards = protected_paths(document)
    approve_files(tx, {p: sha256_hex(d) for p, d in sorted(files.items()) if guard_of(guards, p) is not None})
