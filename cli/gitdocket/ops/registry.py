"""``gitdocket init``: the policy with its first root identity, plus the registry skeleton."""

from __future__ import annotations

from gitdocket.adapters.files import dump_yaml, load_yaml
from gitdocket.adapters.templates import template_files
from gitdocket.core import sshsig
from gitdocket.core.sshsig import Signer
from gitdocket.lifecycles.gate_presets import PRESETS
from gitdocket.lifecycles.policy import Identity
from gitdocket.ops.transaction import POLICY, Transaction

__all__ = ["INITIAL_ROLES", "initialize"]

INITIAL_ROLES = ("root", "authors", "builders", "promoters")


def initialize(tx: Transaction, name: str, principal: str, signer: Signer, gate_preset: str = "default") -> None:
    identity = Identity(name=principal, kind="ssh", public_key=sshsig.public_key_line(signer.public_key))
    roles = {role: {"principals": [principal], "threshold": 1} for role in INITIAL_ROLES}
    tx.apply(POLICY, "InitPolicy", {"identities": [identity.model_dump(mode="json")], "roles": roles})
    for path, data in template_files().items():
        if path == "registry/registry.yaml":
            config = load_yaml(data, path)
            config["name"] = name
            config["gate"]["preset"] = gate_preset
            config["bundle"]["required_evidence"] = list(PRESETS[gate_preset].required_evidence)
            data = dump_yaml(config)
        if tx.tree.read(path) is None:
            tx.put(path, data)
