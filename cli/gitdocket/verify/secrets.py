"""PR and history mode: no new event records a secret in its free text (``NO_SECRETS_RECORDED``).

The writers refuse such an event before it is signed (``ops.transaction``); a hand-written one in
a pull request is caught here, before it merges, judged by the same ``secrets_in_record`` and the
allow-list of the head's signed configuration (never the unsigned file: ADR 0013). Only new
events are scanned: what the base holds was judged when it arrived. Pure: reads two contexts.
"""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import ValidationError

from gitdocket.core.secrets import secrets_in_record
from gitdocket.lifecycles import machine_of
from gitdocket.lifecycles.config import CONFIG_SCOPE
from gitdocket.lifecycles.invariants import NO_SECRETS_RECORDED
from gitdocket.verify.context import Context
from gitdocket.verify.findings import Finding

__all__ = ["recorded_secrets"]


def _allowed(ctx: Context) -> frozenset[str]:
    state = ctx.state(CONFIG_SCOPE)
    return state.registry.allowed_secrets() if state is not None and state.registry is not None else frozenset()


def recorded_secrets(base: Context, head: Context) -> Iterable[Finding]:
    allowed = _allowed(head)
    for target, record in sorted(head.records.items()):
        known = base.records.get(target)
        machine = machine_of(target)
        for event in record.events[len(known.events) if known is not None else 0 :]:
            row = machine.by_event.get(event.type)
            if row is None:
                continue  # replay reports an unknown event type
            try:
                data = row.data.model_validate(event.data)
            except ValidationError:
                continue  # replay reports data no command carries
            for hit in secrets_in_record(target.path, data, allowed):
                yield Finding(
                    f"{target.history_path}:{event.seq}",
                    "SECRET_RECORDED",
                    f"{hit.path} holds a secret ({hit.kind})",
                    target.label,
                    NO_SECRETS_RECORDED,
                    "the secret is in git history now: rotate it, then rewrite the change without it",
                )
