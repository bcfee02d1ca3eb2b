"""Tampering tools for verify tests: change a registry with plain git and real keys, so that
gitdocket's own checks are the only defence.

Every helper edits the worktree of a ``Registry`` (or its refs) the way an attacker with write
access to the repository could; ``commit`` records the change with plain ``git commit``
(unsigned, outside gitdocket). Events are built with the real log and SSHSIG code and deterministic
keys, so a forged event is byte-for-byte what a key holder could have produced.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pygit2
from pygit2.enums import ObjectType

from gitdocket.core import sshsig
from gitdocket.core.log import (
    EVENT_NAMESPACE,
    Event,
    SshSignature,
    event_line,
    head_digest,
    parse_history,
    render_current,
    signing_payload,
)
from gitdocket.core.scopes import Scope, scope
from gitdocket.lifecycles import machine_for
from tests.support import Registry, det_key

__all__ = [
    "ARCHETYPE",
    "PACKAGE",
    "VERSION",
    "Forger",
    "published_registry",
]

ARCHETYPE = scope("archetype", "support-triage")
VERSION = scope("version", "support-triage", "1.0.0")
PACKAGE = scope("package", "support-triage", "1.0.0")


def published_registry(registry: Registry) -> Registry:
    """support-triage 1.0.0 frozen and published (the state every tamper starts from)."""
    registry.add_archetype()
    registry.ok("version", "freeze", "support-triage", "1.0.0")
    registry.ok("package", "publish", "support-triage", "1.0.0")
    return registry


def ssh_signature(signer: str, principal: str, scope_path: str, event: Event) -> SshSignature:
    """``signer``'s real key signing ``event`` for ``scope_path``, claimed as ``principal``."""
    payload = signing_payload(scope_path, event)
    sig = sshsig.sign(det_key(signer), payload, EVENT_NAMESPACE).decode("ascii")
    return SshSignature(kind="sshsig", principal=principal, sig=sig)


@dataclass
class Forger:
    """Plain-file and plain-git edits of one registry worktree."""

    registry: Registry

    @property
    def root(self) -> Path:
        return self.registry.path

    # -- files and commits ---------------------------------------------------------------------

    def path(self, rel: str) -> Path:
        return self.root / rel

    def read(self, rel: str) -> bytes:
        return self.path(rel).read_bytes()

    def write(self, rel: str, data: bytes) -> None:
        target = self.path(rel)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)

    def commit(self, message: str = "tamper") -> str:
        """Record the worktree as it is with plain git (no gitdocket, no signature)."""
        self.registry.git("add", "-A")
        self.registry.git("commit", "-q", "--allow-empty", "-m", message)
        return self.registry.git("rev-parse", "HEAD").strip()

    # -- logs ----------------------------------------------------------------------------------

    def events(self, target: Scope) -> list[Event]:
        return parse_history(self.read(target.history_path), target.history_path)

    def write_log(self, target: Scope, events: list[Event]) -> None:
        """Write ``events`` as ``target``'s history and re-render its current.json from the fold,
        exactly as gitdocket would: only the log's own content can then betray the forgery."""
        lines = [event_line(e) for e in events]
        self.write(target.history_path, b"".join(line + b"\n" for line in lines))
        machine = machine_for(target.kind)
        state = machine.replay(target, ((e.type, e.data) for e in events))
        self.write(
            target.current_path,
            render_current(target.path, state.model_dump(mode="json"), events[-1].seq, head_digest(lines[-1])),
        )

    def next_event(
        self, target: Scope, event_type: str, data: dict[str, Any], actor: str, policy_version: int
    ) -> Event:
        """An unsigned event that continues ``target``'s hash chain."""
        events = self.events(target) if self.path(target.history_path).exists() else []
        prev = head_digest(event_line(events[-1])) if events else None
        return Event(
            seq=len(events) + 1,
            prev=prev,
            at="2026-01-01T00:00:00Z",
            type=event_type,
            actor=actor,
            data=data,
            policy_version=policy_version,
        )

    def append(self, target: Scope, event: Event, *signatures: SshSignature) -> None:
        events = self.events(target) if self.path(target.history_path).exists() else []
        self.write_log(target, [*events, event.model_copy(update={"signatures": signatures})])

    # -- tags ----------------------------------------------------------------------------------

    def tag(self, name: str, target: str, signer: str | None, signature: bytes = b"") -> None:
        """(Re)create annotated tag ``name`` at commit ``target``, SSH-signed by ``signer``'s
        real key (namespace ``git``, as gitdocket signs), or carrying the raw ``signature`` bytes
        when ``signer`` is None (unsigned when they are empty)."""
        repo = pygit2.Repository(str(self.root))
        body = (
            f"object {target}\ntype commit\ntag {name}\n"
            f"tagger mallory <mallory@example.com> 1767225600 +0000\n\nforged\n"
        ).encode()
        body += sshsig.sign(det_key(signer), body, "git") if signer is not None else signature
        oid = repo.odb.write(ObjectType.TAG, body)
        repo.references.create(f"refs/tags/{name}", oid, force=True)
