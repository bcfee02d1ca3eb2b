"""What ``status``, ``history`` and ``deployments resolve`` read of the environments: their
configuration, the ``current.json`` pointers, one environment's log and holds.

Apart from the writers (``ops/environments.py``: promote and roll back) so that a read imports
what a read needs and nothing of promotion, gates or bundles: these are what runtimes and people
call most, and their cost is mostly start-up (ADR 0035). ``status`` reads the pointers as JSON
and builds no lifecycle; ``history`` folds the one environment's log it shows.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gitdocket.core.scopes import CURRENT
from gitdocket.core.tree import TreeView
from gitdocket.errors import DocketError, NotFoundError
from gitdocket.lifecycles import scope
from gitdocket.ops.documents import configured_environments, recorded_state
from gitdocket.ops.logs import load_log

if TYPE_CHECKING:
    from gitdocket.lifecycles.environment import Hold

__all__ = ["environment_names", "history", "holds_of", "require_configured", "status", "status_of"]


def require_configured(tree: TreeView, name: str) -> None:
    """Refuse ``name`` unless the configuration names it (what ``history`` and ``resolve`` ask
    before they read an environment)."""
    names = configured_environments(tree)
    if name not in names:
        raise NotFoundError(
            f"unknown environment {name!r}", f"environments in registry/registry.yaml: {', '.join(names)}"
        )


def environment_names(tree: TreeView) -> list[str]:
    """Configured environments in order, then any other environment folder found."""
    names = configured_environments(tree)
    return names + [
        n for n in tree.listdir("deployments") if n not in names and tree.kind(f"deployments/{n}") == "tree"
    ]


def status_of(tree: TreeView, name: str) -> dict[str, Any]:
    """One environment's row, read from its ``current.json`` (the pointer consumers read)."""
    path = f"deployments/{name}/{CURRENT}"
    data = recorded_state(tree, path) if tree.kind(path) in ("blob", "exec") else {}  # (none yet: empty)
    return {
        "environment": name,
        "bundle_id": data.get("bundle_id"),
        "since": data.get("promoted_at"),
        "by": data.get("promoted_by"),
        "sequence": data.get("sequence", 0),
        "gate_decision": data.get("gate_decision"),
        "rollback": data.get("rollback", False),
        "reason": data.get("reason"),
        "previous_bundle_id": data.get("previous_bundle_id"),
    }


def status(tree: TreeView) -> list[dict[str, Any]]:
    """One row per environment, configured ones first in promotion order."""
    return [status_of(tree, name) for name in environment_names(tree)]


def holds_of(tree: TreeView, environment: str) -> dict[str, Hold]:
    """The releases rollbacks hold in ``environment`` (by bundle id); none for a folder that is
    not an environment scope (``verify`` reports it)."""
    try:
        target = scope("environment", environment)
    except DocketError:
        return {}
    return load_log(tree, target).state.holds


def _hold_words(event_type: str, data: dict[str, Any]) -> str | None:
    """What an event did to holds, in words: a rollback holds the release it left, an override
    lifts the hold on the release it promotes."""
    if event_type == "rolled_back":
        return f"holds {data.get('previous_bundle_id')}"
    if data.get("override"):
        return f"lifted: {data['override']}"
    return None


def history(tree: TreeView, environment: str) -> list[dict[str, Any]]:
    """Every promotion and rollback of ``environment``, oldest first, with what each did to the
    environment's holds (``hold``); ``held`` says which are still in force."""
    require_configured(tree, environment)
    rows = []
    log = load_log(tree, scope("environment", environment))
    for event in log.events:
        data = event.data
        rows.append(
            {
                "seq": event.seq,
                "at": event.at,
                "type": event.type,
                "actor": event.actor,
                # Who signed it: a registry that verifies has its actor among them, and every
                # "who" field of its data naming the actor (AUDIT_NAMES_SIGNER).
                "signed_by": [signature.principal for signature in event.signatures],
                "bundle_id": data.get("bundle_id", data.get("target")),
                "previous_bundle_id": data.get("previous_bundle_id"),
                "source_environment": data.get("source_environment"),
                "gate_decision": data.get("gate_decision"),
                "report_digest": data.get("report_digest"),
                "reason": data.get("reason"),
                "override": data.get("override"),
                "batch": data.get("batch"),
                "hold": _hold_words(event.type, data),
                "held": event.type == "rolled_back"
                and data.get("previous_bundle_id") in log.state.holds
                and log.state.holds[str(data.get("previous_bundle_id"))].sequence == data.get("sequence"),
            }
        )
    return rows
