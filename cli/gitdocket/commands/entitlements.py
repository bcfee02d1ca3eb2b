"""``gitdocket entitlement`` (request, activate, suspend, resume, close, deny, receipt, show) and
``gitdocket run-check``: may a placement run now?"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import click

from gitdocket.commands.output import address_argument, done, emit, pretty, reader, reason_required, write, writer
from gitdocket.core.fields import format_time, parse_time
from gitdocket.errors import InputError
from gitdocket.ops import entitlements as entitlement_ops
from gitdocket.ops import placements as placement_ops
from gitdocket.ops.session import Session, clock_now

__all__ = ["entitlement", "run_check"]


@click.group()
def entitlement() -> None:
    """Govern whether a placement may run: request, activate, suspend, resume, close, deny.

    Holders request and record receipts; the project's entitlement authorities
    (authorities:<project>) activate, suspend, resume, close and deny. Receipts are evidence
    and never activate anything (INV-16).
    """


def _entitlement_write(
    verb: str, op: Callable[..., Any], message: str, help_text: str, *options: Callable[[Any], Any]
) -> None:
    """Register ``entitlement VERB PROJECT/NAME [options]`` running ``op(tx, project, name, …)``;
    ``message`` is what it prints, formatted with ``address`` and ``project``."""

    def command(address: str, repo: Path, keys: tuple[str, ...], fmt: str, **extra: Any) -> None:
        project, name = placement_ops.parse_address(address)
        commit, _ = write(
            repo, keys, f"docket: entitlement {verb} {address}", lambda tx: op(tx, project, name, **extra)
        )
        done(fmt, message.format(address=address, project=project), commit, {"address": address})

    for option in options:
        command = option(command)
    entitlement.command(verb, help=help_text)(address_argument(writer(command)))


_entitlement_write(
    "request",
    entitlement_ops.request,
    "Requested an entitlement for {address}; an authority of {project} decides",
    "Ask the project's authorities for an entitlement for an installed placement (holders).",
    click.option("--terms", default="", help="Terms asked for."),
)
_entitlement_write(
    "suspend",
    entitlement_ops.suspend,
    "Suspended the entitlement of {address}",
    "Block future governed runs (authorities); history stays.",
    reason_required,
)
_entitlement_write(
    "resume", entitlement_ops.resume, "Resumed the entitlement of {address}", "Lift a suspension (authorities)."
)
_entitlement_write(
    "close",
    entitlement_ops.close,
    "Closed the entitlement of {address}",
    "End the entitlement (authorities); every record stays.",
    reason_required,
)
_entitlement_write(
    "deny",
    entitlement_ops.deny,
    "Denied the entitlement of {address}",
    "Refuse a request (authorities).",
    reason_required,
)


@entitlement.command("activate")
@address_argument
@click.option("--expires", metavar="TIME", help="RFC 3339 expiry, e.g. 2027-01-01T00:00:00Z (default: none).")
@click.option("--terms", default="", help="Terms granted (recorded).")
@writer
def entitlement_activate(
    address: str, expires: str | None, terms: str, repo: Path, keys: tuple[str, ...], fmt: str
) -> None:
    """Activate the requested entitlement (authorities), optionally until --expires."""
    project, name = placement_ops.parse_address(address)
    commit, until = write(
        repo,
        keys,
        f"docket: entitlement activate {address}",
        lambda tx: entitlement_ops.activate(tx, project, name, expires, terms),
    )
    text = f"Activated the entitlement of {address}" + (f" until {until}" if until else "")
    done(fmt, text, commit, {"address": address, "expires_at": until})


@entitlement.command("receipt")
@address_argument
@click.option("--kind", type=click.Choice(["billing", "support"]), required=True, help="Receipt kind.")
@click.option("--ref", "reference", required=True, help="The receipt's reference (invoice, ticket).")
@writer
def entitlement_receipt(address: str, kind: str, reference: str, repo: Path, keys: tuple[str, ...], fmt: str) -> None:
    """Record a billing or support receipt: evidence only, it never activates (INV-16)."""
    project, name = placement_ops.parse_address(address)
    which: Literal["billing", "support"] = "billing" if kind == "billing" else "support"
    commit, _ = write(
        repo,
        keys,
        f"docket: {kind} receipt for {address}",
        lambda tx: entitlement_ops.receipt(tx, project, name, which, reference),
    )
    done(
        fmt,
        f"Recorded {kind} receipt {reference} for {address} (evidence; activates nothing)",
        commit,
        {"address": address},
    )


@entitlement.command("show")
@address_argument
@reader
def entitlement_show(address: str, repo: Path, rev: str | None, fmt: str) -> None:
    """Everything recorded about a placement's entitlement."""
    project, name = placement_ops.parse_address(address)
    view = entitlement_ops.entitlement_view(Session(repo).snapshot(rev), project, name)
    emit(fmt, view, lambda: pretty(view))


@click.command("run-check")
@address_argument
@click.option("--at", "at", metavar="TIME", help="RFC 3339 time to judge at (default: now).")
@reader
def run_check(address: str, at: str | None, repo: Path, rev: str | None, fmt: str) -> None:
    """May PROJECT/NAME run? Active, or Ineligible with the reason (Expired, Blocked,
    NoActiveEntitlement, NotInstalled, Withdrawn). Exit 0 when eligible, 1 when not."""
    project, name = placement_ops.parse_address(address)
    try:
        when = parse_time(at) if at else clock_now()
    except ValueError as exc:
        raise InputError(f"--at {at!r} is not an RFC 3339 time with a zone", "use e.g. 2026-06-01T00:00:00Z") from exc
    result = entitlement_ops.run_check(Session(repo).snapshot(rev), project, name, when)
    stamp = format_time(when)
    emit(
        fmt,
        {
            "address": address,
            "eligible": result.eligible,
            "verdict": "Active" if result.eligible else "Ineligible",
            "reason": result.reason,
            "detail": result.detail,
            "at": stamp,
        },
        lambda: click.echo(f"{address}: {result.label} — {result.detail}"),
    )
    if not result.eligible:
        raise SystemExit(1)
