"""Valid command data and states for the lifecycle, authz and property tests (pure: no git).

Every builder returns plain JSON-shaped dicts, exactly what ``Machine.decide`` receives from the
operations, so the tests go through the same parsing as production.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from gitdocket.adapters.signing import KeySigner
from gitdocket.core import sshsig
from gitdocket.core.log import EVENT_NAMESPACE, Event, SshSignature, signing_payload
from gitdocket.core.scopes import Scope, scope
from gitdocket.core.tree import MemoryTree
from gitdocket.lifecycles import machine_for
from gitdocket.lifecycles.version import FileEntry, content_hash
from gitdocket.ops.transaction import Transaction
from tests.support import det_key

TREE = "1" * 40
TREE2 = "2" * 40
AT = datetime(2026, 1, 1, tzinfo=UTC)
VERSION = scope("version", "support-triage", "1.0.0")
PACKAGE = scope("package", "support-triage", "1.0.0")
ARCHETYPE = scope("archetype", "support-triage")
POLICY = scope("policy")


def entry(content: bytes) -> dict[str, Any]:
    import hashlib

    return {
        "sha256": hashlib.sha256(content).hexdigest(),
        "blob": hashlib.sha1(content, usedforsecurity=False).hexdigest(),
        "size": len(content),
    }


METHOD: dict[str, bytes] = {
    "instructions.md": b"Triage the ticket.\n",
    ".agent-config.json": b'{"model": {"provider": "anthropic", "name": "claude-sonnet"}}\n',
    "skills/classify.md": b"Classify by product area.\n",
    "tools/kb-search.json": b"{}\n",
}


def manifest(files: dict[str, bytes] | None = None) -> dict[str, dict[str, Any]]:
    return {path: entry(data) for path, data in (METHOD if files is None else files).items()}


def snapshot(
    tree: str = TREE,
    files: dict[str, bytes] | None = None,
    skills: tuple[str, ...] = ("classify",),
    tools: tuple[str, ...] = ("kb-search",),
    hash_override: str | None = None,
) -> dict[str, Any]:
    """A complete freeze record of ``files`` (default: ``METHOD``) at git tree ``tree``."""
    files_manifest = manifest(files)
    digest = content_hash({p: FileEntry.model_validate(e) for p, e in files_manifest.items()})
    return {
        "method_tree": tree,
        "manifest": files_manifest,
        "agent_config": {
            "model": {"provider": "anthropic", "name": "claude-sonnet"},
            "skills": list(skills),
            "tools": list(tools),
            "settings": {},
        },
        "protection_posture": {
            "deployment_mode": "private/federated",
            "read_scope": ["tickets"],
            "crossing_terms": "method stays with the vendor",
        },
        "provenance": {
            "source_commit": "3" * 40,
            "frozen_by": "alice",
            "frozen_at": "2026-01-01T00:00:00Z",
        },
        "content_hash": hash_override or digest,
    }


def package_manifest(archetype: str = "support-triage", version: str = "1.0.0") -> dict[str, Any]:
    snap = snapshot()
    return {
        "archetype": archetype,
        "version": version,
        "content_hash": snap["content_hash"],
        "method_tree": snap["method_tree"],
        "protection_posture": snap["protection_posture"],
        "publisher": "alice",
    }


def run(target: Scope, *commands: tuple[str, Any]) -> Any:
    """The state after deciding and evolving ``commands`` from ``target``'s initial state."""
    machine = machine_for(target.kind)
    state = machine.initial(target)
    for command, data in commands:
        decision = machine.decide(state, command, data)
        state = machine.evolve(state, decision.type, decision.data)
    return state


VERSION_PATHS: dict[str, tuple[tuple[str, Any], ...]] = {
    "init": (),
    "draft": (("CreateDraft", {"method_tree": TREE}),),
    "frozen": (("CreateDraft", {"method_tree": TREE}), ("FreezeVersion", snapshot())),
    "packaged": (
        ("CreateDraft", {"method_tree": TREE}),
        ("FreezeVersion", snapshot()),
        ("RecordPackageReference", {"package": PACKAGE.path}),
    ),
    "retired": (
        ("CreateDraft", {"method_tree": TREE}),
        ("FreezeVersion", snapshot()),
        ("RetireVersion", {"reason": "superseded"}),
    ),
    "retired-packaged": (
        ("CreateDraft", {"method_tree": TREE}),
        ("FreezeVersion", snapshot()),
        ("RecordPackageReference", {"package": PACKAGE.path}),
        ("RetireVersion", {"reason": "superseded"}),
    ),
    "abandoned": (
        ("CreateDraft", {"method_tree": TREE}),
        ("AbandonDraft", {"reason": "wrong idea"}),
    ),
}


def version_at(name: str) -> Any:
    return run(VERSION, *VERSION_PATHS[name])


PACKAGE_PATHS: dict[str, tuple[tuple[str, Any], ...]] = {
    "draft": (),
    "published": (("PublishPackage", package_manifest()),),
    "withdrawn": (
        ("PublishPackage", package_manifest()),
        ("WithdrawPackage", {"reason": "security issue"}),
    ),
}


def package_at(name: str) -> Any:
    return run(PACKAGE, *PACKAGE_PATHS[name])


def identity(name: str) -> dict[str, Any]:
    return {
        "name": name,
        "kind": "ssh",
        "public_key": sshsig.public_key_line(det_key(name).public_key()),
    }


def policy_init(
    root: tuple[str, ...] = ("alice",),
    threshold: int = 1,
    others: tuple[str, ...] = ("bob", "carol"),
) -> dict[str, Any]:
    names = sorted({*root, *others})
    return {
        "identities": [identity(n) for n in names],
        "roles": {
            "root": {"principals": list(root), "threshold": threshold},
            "authors": {"principals": ["alice"], "threshold": 1},
        },
    }


def policy_at(root: tuple[str, ...] = ("alice",), threshold: int = 1, *extra: tuple[str, Any]) -> Any:
    return run(POLICY, ("InitPolicy", policy_init(root, threshold)), *extra)


def sign(target: Scope, event: Event, *names: str) -> Event:
    """``event`` with an SSHSIG entry by each of ``names`` (deterministic keys)."""
    entries = tuple(
        SshSignature(
            kind="sshsig",
            principal=n,
            sig=sshsig.sign(det_key(n), signing_payload(target.path, event), EVENT_NAMESPACE).decode(),
        )
        for n in names
    )
    return event.model_copy(update={"signatures": entries})


def event(event_type: str, data: dict[str, Any], actor: str = "alice", seq: int = 1) -> Event:
    return Event(
        seq=seq,
        prev=None,
        at="2026-01-01T00:00:00Z",
        type=event_type,
        actor=actor,
        data=data,
        policy_version=1,
    )


def signer(name: str) -> KeySigner:
    return KeySigner(det_key(name), name)


def transaction(tree: MemoryTree, *names: str, bootstrap: str | None = None) -> Transaction:
    return Transaction(tree, [signer(n) for n in names], AT, bootstrap)


def committed(tree: MemoryTree, tx: Transaction) -> MemoryTree:
    """``tree`` with ``tx``'s staged writes applied (what the store would commit)."""
    files = dict(tree.files)
    for path, value in tx.writes.items():
        assert isinstance(value, bytes), path
        files[path] = value
    return MemoryTree(files)


def registry_tree() -> MemoryTree:
    """A memory tree holding a policy initialized by alice (root 1-of-1; bob and carol known, no
    roles) and the archetype support-triage owned by alice."""
    tx = transaction(MemoryTree({}), "alice", bootstrap="alice")
    tx.apply(POLICY, "InitPolicy", policy_init())
    tree = committed(MemoryTree({}), tx)
    tx = transaction(tree, "alice")
    tx.apply(ARCHETYPE, "CreateArchetype", {"owners": ["alice"], "threshold": 1})
    return committed(tree, tx)
