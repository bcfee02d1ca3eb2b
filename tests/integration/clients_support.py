"""Shared setup for the client-side integration and CLI tests: a registry where alice owns
support-triage (1.0.0 released), bob holds and admins project acme, carol is acme's entitlement
authority, and mallory is a known identity with no role."""

from __future__ import annotations

import json
from typing import Any

from gitdocket.adapters.signing import KeySigner
from gitdocket.core.log import (
    EVENT_NAMESPACE,
    Event,
    SshSignature,
    append_line,
    event_line,
    head_digest,
    parse_history,
    render_current,
    signing_payload,
)
from gitdocket.core.scopes import parse_scope_path
from gitdocket.lifecycles import machine_for
from gitdocket.lifecycles.policy import POLICY_SCOPE as POLICY
from gitdocket.ops.session import Session
from gitdocket.ops.transaction import load_log
from tests.support import Registry

ARCHETYPE = "support-triage"


def add_people(registry: Registry) -> None:
    for name in ("bob", "carol", "mallory"):
        registry.ok("policy", "add-identity", name, f"{registry.key(name)}.pub")
    registry.ok("policy", "grant", "holders:acme", "bob")
    registry.ok("policy", "grant", "admins:acme", "bob")
    registry.ok("policy", "grant", "authorities:acme", "carol")


def vendor_and_client(registry: Registry) -> Registry:
    add_people(registry)
    registry.add_archetype(ARCHETYPE)
    registry.ok("release", ARCHETYPE, "1.0.0")
    return registry


def installed(registry: Registry, address: str = "acme/triage", version: str = "1.0.0") -> None:
    project, name = address.split("/")
    registry.ok("placement", "request", ARCHETYPE, version, "--project", project, "--name", name, key="bob")
    registry.ok("placement", "admit", address, key="bob")
    registry.ok("placement", "install", address, key="bob")


def entitled(registry: Registry, address: str = "acme/triage", *extra: str) -> None:
    registry.ok("entitlement", "request", address, key="bob")
    registry.ok("entitlement", "activate", address, *extra, key="carol")


def forge(
    registry: Registry, path: str, event_type: str, data: dict[str, Any], signer: str, at: str = "2026-01-01T00:00:00Z"
) -> None:
    """Append a hand-written event to the scope at ``path``, signed with ``signer``'s *real*
    key (so signatures and policy pass), with ``current.json`` re-rendered as the unguarded fold
    — only gitdocket's lifecycle and cross-scope rules can catch it. Committed with plain git."""
    target = parse_scope_path(path)
    assert target is not None
    folder = registry.path / path
    folder.mkdir(parents=True, exist_ok=True)
    history_file = folder / "history.jsonl"
    history = history_file.read_bytes() if history_file.exists() else b""
    events = parse_history(history, path)
    machine = machine_for(target.kind)
    policy = load_log(Session(registry.path).snapshot(), POLICY).state
    last = history.rstrip(b"\n").rsplit(b"\n", 1)[-1]
    unsigned = Event(
        seq=len(events) + 1,
        prev=head_digest(last) if history else None,
        at=at,
        type=event_type,
        actor=signer,
        data=data,
        policy_version=policy.version,
    )
    key = KeySigner.from_file(registry.key(signer))
    sig = key.sign(signing_payload(path, unsigned), EVENT_NAMESPACE).decode("ascii")
    event = unsigned.model_copy(update={"signatures": (SshSignature(kind="sshsig", principal=signer, sig=sig),)})
    history = append_line(history, event)
    state = machine.replay(target, ((e.type, e.data) for e in [*events, event]))
    history_file.write_bytes(history)
    (folder / "current.json").write_bytes(
        render_current(path, state.model_dump(mode="json"), event.seq, head_digest(event_line(event)))
    )
    registry.git("add", "-A")
    registry.git("commit", "-q", "--no-verify", "-m", f"hand-written {event_type} in {path}")


def log_lines(registry: Registry, path: str) -> list[dict[str, Any]]:
    text = (registry.path / path / "history.jsonl").read_text()
    return [json.loads(line) for line in text.splitlines()]


def package_ref(registry: Registry, archetype: str, version: str, seq: int | None = None) -> dict[str, Any]:
    """A truthful PackageRef to line ``seq`` (default: the last) of a package log."""
    path = f"registry/packages/{archetype}/{version}"
    raw = (registry.path / path / "history.jsonl").read_bytes().splitlines()
    seq = seq or len(raw)
    phase = ["published", "withdrawn"][seq - 1]  # a package log: published, then withdrawn
    return {"seq": seq, "head": head_digest(raw[seq - 1]), "phase": phase}


def findings(registry: Registry, *args: str) -> list[dict[str, Any]]:
    result = registry.run("verify", "--format", "json", *args)
    data = result.json()
    assert (result.code == 0) == data["ok"]
    found: list[dict[str, Any]] = data["findings"]
    return found
