"""``gitdocket init``: the policy with its first root identity, the registry skeleton, and the pin
of the gitdocket the registry's CI installs."""

from __future__ import annotations

from gitdocket import __version__
from gitdocket.adapters.files import dump_yaml, load_yaml
from gitdocket.adapters.templates import template_files
from gitdocket.core import sshsig
from gitdocket.core.sshsig import Signer
from gitdocket.lifecycles.policy import Identity
from gitdocket.ops.transaction import POLICY, Transaction

__all__ = ["INITIAL_ROLES", "INSTALL_COMMAND", "PIN_PATH", "initialize", "pin_file"]

INITIAL_ROLES = ("root", "authors", "builders", "promoters")

PIN_PATH = ".github/gitdocket-requirements.txt"
"""The registry's pin: a pip requirements file naming the exact gitdocket its workflows install."""

INSTALL_COMMAND = f"pip install -r {PIN_PATH}"
"""The one install step of every workflow ``gitdocket init`` installs. pip's own variables point
it elsewhere: ``PIP_INDEX_URL`` (your index) or ``PIP_FIND_LINKS`` (a folder or page of wheels)."""


def pin_file(version: str) -> bytes:
    return (
        "# The gitdocket this registry's CI installs (`gitdocket init` wrote it; bump it in a pull\n"
        f"# request). The workflows run `{INSTALL_COMMAND}`; the repository variables\n"
        "# PIP_INDEX_URL or PIP_FIND_LINKS point pip at your own index or wheels.\n"
        f"gitdocket=={version}\n"
    ).encode()


def initialize(tx: Transaction, name: str, principal: str, signer: Signer, branch: str) -> None:
    """The policy (``principal`` root, author, builder, promoter), the skeleton with the registry's
    name and default ``branch`` in registry.yaml, and the pin; files already there are kept."""
    identity = Identity(name=principal, kind="ssh", public_key=sshsig.public_key_line(signer.public_key))
    roles = {role: {"principals": [principal], "threshold": 1} for role in INITIAL_ROLES}
    tx.apply(POLICY, "InitPolicy", {"identities": [identity.model_dump(mode="json")], "roles": roles})
    files = {**template_files(), PIN_PATH: pin_file(__version__)}
    for path, data in files.items():
        if path == "registry/registry.yaml":
            config = load_yaml(data, path)
            config["name"] = name
            config["default_branch"] = branch
            data = dump_yaml(config)
        if tx.tree.read(path) is None:
            tx.put(path, data)
