"""Entitlement operations (request, activate, suspend, resume, close, deny, receipt) and the
read side: ``entitlement_view`` and ``run_check`` (the pure verdict over recorded state).

``request`` first records that the placement is installed (``AdmitPackageInstall`` carrying a
``PlacementRef``: what the placement log said) and then the request, in one commit. No printing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from gitdocket.core.fields import format_time, parse_time
from gitdocket.core.scopes import Scope
from gitdocket.core.tree import TreeView
from gitdocket.errors import InputError, NotFoundError
from gitdocket.lifecycles import scope
from gitdocket.lifecycles.eligibility import Verdict, verdict
from gitdocket.lifecycles.entitlement import EntitlementState
from gitdocket.lifecycles.placement import PlacementState
from gitdocket.ops.logs import load_log
from gitdocket.ops.transaction import Transaction
from gitdocket.ops.vendors import pinned_package

__all__ = [
    "activate",
    "close",
    "deny",
    "entitlement_view",
    "receipt",
    "request",
    "resume",
    "run_check",
    "suspend",
]


def _placement(tx: Transaction, project: str, name: str) -> Scope[PlacementState]:
    target = scope("placement", project, name)
    if tx.state(target).phase == "none":
        raise NotFoundError(
            f"no placement {project}/{name}",
            "an entitlement is for an installed placement: request and install one with `gitdocket placement request`",
        )
    return target


def _existing(tx: Transaction, project: str, name: str) -> Scope[EntitlementState]:
    target = scope("entitlement", project, name)
    if not tx.log(target).exists:
        raise NotFoundError(
            f"no entitlement for {project}/{name}",
            f"the holder requests one: `gitdocket entitlement request {project}/{name}`",
        )
    return target


def request(tx: Transaction, project: str, name: str, terms: str = "") -> None:
    """Record the installed placement, then request the entitlement (one commit)."""
    log = tx.log(_placement(tx, project, name))
    target = scope("entitlement", project, name)
    state = tx.state(target)
    if not state.package_installed:
        ref = {"seq": log.seq, "head": log.head, "phase": log.state.phase}
        tx.apply(target, "AdmitPackageInstall", {"placement": ref})
    tx.apply(target, "RequestEntitlement", {"terms": terms})


def activate(tx: Transaction, project: str, name: str, expires: str | None = None, terms: str = "") -> str | None:
    """An authority activates the entitlement, optionally until ``expires`` (RFC 3339)."""
    target = _existing(tx, project, name)
    expires_at = None
    if expires is not None:
        try:
            when = parse_time(expires)
        except ValueError as exc:
            raise InputError(
                f"--expires {expires!r} is not an RFC 3339 time with a zone", "use e.g. 2027-01-01T00:00:00Z"
            ) from exc
        expires_at = format_time(when)
        if expires_at <= format_time(tx.at):
            raise InputError(
                f"--expires {expires_at} is not after now ({format_time(tx.at)})",
                "pass a later time, or omit --expires for an open-ended term",
            )
    tx.apply(target, "ActivateEntitlement", {"expires_at": expires_at, "terms": terms})
    return expires_at


def suspend(tx: Transaction, project: str, name: str, reason: str) -> None:
    tx.apply(_existing(tx, project, name), "SuspendEntitlement", {"reason": reason})


def resume(tx: Transaction, project: str, name: str) -> None:
    tx.apply(_existing(tx, project, name), "ResumeEntitlement", {})


def close(tx: Transaction, project: str, name: str, reason: str) -> None:
    tx.apply(_existing(tx, project, name), "CloseEntitlement", {"reason": reason})


def deny(tx: Transaction, project: str, name: str, reason: str) -> None:
    tx.apply(_existing(tx, project, name), "DenyOrExpire", {"reason": reason})


def receipt(tx: Transaction, project: str, name: str, kind: Literal["billing", "support"], reference: str) -> None:
    """Record a billing or support receipt: evidence only, it never activates (INV-16)."""
    command = "RecordBillingReceipt" if kind == "billing" else "RecordSupportReceipt"
    tx.apply(_existing(tx, project, name), command, {"reference": reference})


# -- reading -----------------------------------------------------------------------------------


def entitlement_view(tree: TreeView, project: str, name: str) -> dict[str, Any]:
    log = load_log(tree, scope("entitlement", project, name))
    if not log.exists:
        raise NotFoundError(
            f"no entitlement for {project}/{name}",
            f"the holder requests one: `gitdocket entitlement request {project}/{name}`",
        )
    data: dict[str, Any] = log.state.model_dump(mode="json")
    data["address"] = f"{project}/{name}"
    return data


def run_check(tree: TreeView, project: str, name: str, at: datetime) -> Verdict:
    """The verdict for ``project/name`` at ``at`` from recorded state only (fail-closed: a log
    that does not load raises, which the CLI reports as an error, exit 1)."""
    placement = load_log(tree, scope("placement", project, name)).state
    entitlement = load_log(tree, scope("entitlement", project, name)).state
    if placement.pin is None:
        return Verdict("NotInstalled", f"there is no placement {project}/{name}")
    package = pinned_package(tree, placement.pin)
    return verdict(placement, entitlement, package, at)
