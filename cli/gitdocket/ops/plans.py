"""What a write would do, as data: the plan ``--dry-run`` prints instead of writing.

A dry run is the ordinary write stopped before the store writes anything (``Session.write``
with ``CommandWrites.dry_run``): the operation decides, signs and authorizes on a snapshot
exactly as it would for real, so its refusals (and its exit code) are the real command's. What
the transaction collected on the way becomes a ``WritePlan``: the events it would append and who
must sign them, the ``current.json`` changes (an environment's pointer among them), the gate
checks it ran with their verdicts, and every path and tag the commit would touch.

This module only shapes data; ``commands.plans`` prints it. It deliberately knows nothing of
click, of the terminal or of git: the store keeps every object of a rehearsal out of the
repository (``adapters.quarantine.rehearsal``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from gitdocket.core.tree import TagSpec, TreeRef, TreeView
from gitdocket.errors import DocketError
from gitdocket.lifecycles.authz import Verdict
from gitdocket.lifecycles.policy import Role

__all__ = ["Change", "Check", "PlanReady", "PlannedEvent", "Signoff", "WritePlan", "plan_of", "signoff"]


@dataclass(frozen=True)
class Signoff:
    """One policy's demand on an event: ``role`` with ``threshold`` signatures among
    ``holders``; ``counted`` are the given keys' principals that count towards it."""

    role: str
    threshold: int
    holders: tuple[str, ...]
    counted: tuple[str, ...]
    policy_version: int
    problems: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        return {
            "role": self.role,
            "threshold": self.threshold,
            "holders": list(self.holders),
            "counted": list(self.counted),
            "policy_version": self.policy_version,
            "ok": self.ok,
            "problems": list(self.problems),
        }


def signoff(verdict: Verdict, role: Role | None, policy_version: int) -> Signoff:
    """``verdict`` with the role it was judged against (None: nobody holds it)."""
    return Signoff(
        role=verdict.role,
        threshold=role.threshold if role is not None else 1,
        holders=tuple(sorted(role.principals)) if role is not None else (),
        counted=tuple(sorted(verdict.signers)),
        policy_version=policy_version,
        problems=verdict.problems,
    )


@dataclass(frozen=True)
class PlannedEvent:
    """An event the write would append to ``scope``'s log, signed by ``signed_by``."""

    scope: str
    seq: int
    type: str
    actor: str
    at: str
    signed_by: tuple[str, ...]
    signoffs: tuple[Signoff, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "scope": self.scope,
            "seq": self.seq,
            "type": self.type,
            "actor": self.actor,
            "at": self.at,
            "signed_by": list(self.signed_by),
            "signoffs": [s.as_dict() for s in self.signoffs],
        }


@dataclass(frozen=True)
class Check:
    """One gate check a write ran (``subject``: which promotion), with its verdict."""

    subject: str
    check_id: str
    passed: bool
    detail: str


@dataclass(frozen=True)
class Change:
    """One field of a ``current.json`` that would change (``key`` dotted; None: absent)."""

    path: str
    key: str
    before: Any
    after: Any


@dataclass(frozen=True)
class Pointer:
    """An environment's active release before and after the write."""

    environment: str
    before: str | None
    after: str | None


@dataclass(frozen=True)
class WritePlan:
    """Everything ``--dry-run`` shows; ``refusal`` is the error the real write would raise."""

    message: str
    events: tuple[PlannedEvent, ...]
    changes: tuple[Change, ...]
    pointers: tuple[Pointer, ...]
    checks: tuple[Check, ...]
    paths: tuple[str, ...]
    tags: tuple[str, ...]
    notes: tuple[str, ...] = ()
    refusal: DocketError | None = field(default=None, compare=False)

    def as_dict(self) -> dict[str, Any]:
        refusal = self.refusal
        return {
            "dry_run": True,
            "message": self.message,
            "would_write": refusal is None,
            "events": [e.as_dict() for e in self.events],
            "pointers": [asdict(p) for p in self.pointers],
            "current_changes": [asdict(c) for c in self.changes],
            "checks": [asdict(c) for c in self.checks],
            "paths": list(self.paths),
            "tags": list(self.tags),
            "notes": list(self.notes),
            "refusal": None if refusal is None else {"error": refusal.message, "hint": refusal.hint},
        }


class PlanReady(Exception):  # noqa: N818 - not an error: how a dry run leaves the command
    """Raised by a dry-run write in place of writing: the command's ``writer`` prints ``plan``
    and then exits as the real command would (``plan.refusal`` re-raised, else 0)."""

    def __init__(self, plan: WritePlan) -> None:
        super().__init__(plan.message)
        self.plan = plan


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """A JSON document as ``{dotted.key: leaf}``; lists are leaves (compared whole)."""
    if isinstance(value, Mapping) and value:
        flat: dict[str, Any] = {}
        for key in sorted(value):
            flat.update(_flatten(value[key], f"{prefix}{key}."))
        return flat
    return {prefix.rstrip("."): value}


def _document(raw: bytes | None) -> dict[str, Any]:
    if raw is None:
        return {}
    try:
        parsed = json.loads(raw)
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def _changes(path: str, before: bytes | None, after: bytes) -> list[Change]:
    old, new = _flatten(_document(before)), _flatten(_document(after))
    return [
        Change(path, key, old.get(key), new.get(key))
        for key in sorted(old.keys() | new.keys())
        if key and old.get(key) != new.get(key)
    ]


def _pointer(path: str, before: bytes | None, after: bytes) -> Pointer | None:
    parts = path.split("/")
    if len(parts) != 3 or parts[0] != "deployments" or parts[2] != "current.json":
        return None
    return Pointer(parts[1], _document(before).get("bundle_id"), _document(after).get("bundle_id"))


def _touched(writes: Mapping[str, bytes | TreeRef]) -> tuple[str, ...]:
    return tuple(f"{path}/" if isinstance(value, TreeRef) else path for path, value in sorted(writes.items()))


def plan_of(
    message: str,
    tree: TreeView,
    writes: Mapping[str, bytes | TreeRef],
    tags: Iterable[TagSpec],
    events: Iterable[PlannedEvent],
    checks: Iterable[Check],
    notes: Iterable[str] = (),
    refusal: DocketError | None = None,
) -> WritePlan:
    """The plan of a transaction's pending ``writes`` on ``tree`` (what it read from)."""
    changes: list[Change] = []
    pointers: list[Pointer] = []
    for path, value in sorted(writes.items()):
        if not path.endswith("current.json") or not isinstance(value, bytes):
            continue
        before = tree.read(path)
        changes.extend(_changes(path, before, value))
        pointer = _pointer(path, before, value)
        if pointer is not None:
            pointers.append(pointer)
    return WritePlan(
        message=message,
        events=tuple(events),
        changes=tuple(changes),
        pointers=tuple(pointers),
        checks=tuple(checks),
        paths=_touched(writes),
        tags=tuple(t.name for t in tags),
        notes=tuple(notes),
        refusal=refusal,
    )
