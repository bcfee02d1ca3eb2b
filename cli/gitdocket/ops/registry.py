"""``gitdocket init``: the policy with its first root identity, the registry skeleton, the pin of
the gitdocket the registry's CI installs, and the signed configuration: what the new
``registry.yaml`` says and the content of every protected file (the pinned contracts, the
workflows), signed by that root in the same commit."""

from __future__ import annotations

import json

from gitdocket import __version__
from gitdocket.adapters.files import load_yaml
from gitdocket.adapters.templates import template_files
from gitdocket.core import sshsig
from gitdocket.core.canonical import sha256_hex
from gitdocket.core.documents import REGISTRY_YAML, RegistryConfig, parse_document
from gitdocket.core.sshsig import Signer
from gitdocket.lifecycles.config import guard_of, protected_paths
from gitdocket.lifecycles.gate_presets import PRESETS
from gitdocket.lifecycles.policy import Identity
from gitdocket.ops.config import CONFIG, approve_files
from gitdocket.ops.transaction import POLICY, Transaction

__all__ = ["INITIAL_ROLES", "INSTALL_COMMAND", "PIN_PATH", "initialize", "pin_file"]

INITIAL_ROLES = ("root", "authors", "builders", "promoters")

PIN_PATH = ".github/gitdocket-requirements.txt"
"""The registry's pin: a pip requirements file naming the exact gitdocket its workflows install."""

INSTALL_COMMAND = f"pip install -r {PIN_PATH}"
"""The one install step of every workflow ``gitdocket init`` installs. pip's own variables point
it elsewhere: ``PIP_INDEX_URL`` (your index) or ``PIP_FIND_LINKS`` (a folder or page of wheels)."""


GITIGNORE = b"""# Written by `gitdocket init`: what gitdocket writes beside the registry, never part of it.
/site/
"""
"""``gitdocket site build`` writes ``site/`` by default: built from the registry, not kept in it."""


def pin_file(version: str) -> bytes:
    return (
        "# The gitdocket this registry's CI installs (`gitdocket init` wrote it; bump it in a pull\n"
        f"# request). The workflows run `{INSTALL_COMMAND}`; the repository variables\n"
        "# PIP_INDEX_URL or PIP_FIND_LINKS point pip at your own index or wheels.\n"
        f"gitdocket=={version}\n"
    ).encode()


def _configured(template: bytes, name: str, branch: str, gate_preset: str) -> bytes:
    """The template with its ``name:``, ``default_branch:`` and gate ``preset:`` lines set, and
    the preset's evidence as ``bundle.required_evidence`` (a JSON string is YAML), keeping the
    comments that explain the file to whoever edits it next."""
    values = {"name:": name, "default_branch:": branch, "  preset:": gate_preset}
    out: list[str] = []
    in_evidence = False
    for line in template.decode("utf-8").splitlines(keepends=True):
        if in_evidence and line.startswith("    - "):
            continue
        in_evidence = line.rstrip() == "  required_evidence:"
        if in_evidence:
            out.append(line)
            out += [f"    - {json.dumps(item)}\n" for item in PRESETS[gate_preset].required_evidence]
            continue
        key = next((key for key in values if line.startswith(key + " ")), None)
        out.append(f"{key} {json.dumps(values[key])}\n" if key else line)
    return "".join(out).encode("utf-8")


def initialize(
    tx: Transaction, name: str, principal: str, signer: Signer, branch: str, gate_preset: str = "default"
) -> None:
    """The policy (``principal`` root, author, builder, promoter), the skeleton with the registry's
    name, default ``branch`` and gate preset (and that preset's required bundle evidence) in
    registry.yaml, the pin, and the signed configuration; files already there are kept (and what
    they say is signed)."""
    identity = Identity(name=principal, kind="ssh", public_key=sshsig.public_key_line(signer.public_key))
    roles = {role: {"principals": [principal], "threshold": 1} for role in INITIAL_ROLES}
    tx.apply(POLICY, "InitPolicy", {"identities": [identity.model_dump(mode="json")], "roles": roles})
    files: dict[str, bytes] = {}
    for path, data in {**template_files(), PIN_PATH: pin_file(__version__), ".gitignore": GITIGNORE}.items():
        if path == REGISTRY_YAML:
            data = _configured(data, name, branch, gate_preset)
        files[path] = tx.tree.read(path) or data
        if tx.tree.read(path) is None:
            tx.put(path, data)
    document = parse_document(RegistryConfig, files[REGISTRY_YAML], REGISTRY_YAML, load_yaml)
    tx.apply(CONFIG, "ApplyConfig", {"registry": document.model_dump(mode="json")})
    guards = protected_paths(document)
    approve_files(tx, {p: sha256_hex(d) for p, d in sorted(files.items()) if guard_of(guards, p) is not None})
