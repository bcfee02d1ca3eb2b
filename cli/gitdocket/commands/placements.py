"""``gitdocket placement``: request, admit, reject, expire, install, edit, offer, upgrade, disable,
remove; status, list and show."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from gitdocket.commands.completion import archetypes, versions
from gitdocket.commands.output import (
    address_argument,
    done,
    emit,
    emit_table,
    pretty,
    reader,
    reason_option,
    reason_required,
    write,
    writer,
)
from gitdocket.commands.plans import dry_run_option
from gitdocket.core.scopes import check_name, check_version
from gitdocket.errors import InputError
from gitdocket.ops import placements as placement_ops
from gitdocket.ops.session import Session

__all__ = ["placement"]


@click.group()
def placement() -> None:
    """Place a published package in a project: request, admit, install, edit, upgrade, remove.

    A placement PROJECT/NAME pins one frozen version read-only; editing it changes config,
    context and notes only (INV-24). Holders (holders:<project>) request, install, edit,
    upgrade, disable and remove; the project's admins (admins:<project>) admit, reject, and
    record an expired request.
    """


expires_option = click.option(
    "--expires",
    default=f"{placement_ops.REQUEST_DAYS}d",
    show_default=True,
    metavar="DAYSd|TIME|never",
    help="When the request lapses unless an admin admits it: days from now (14d), an RFC 3339 time, or never.",
)
"""When an install request lapses unless the target admits it (``placement request``, ``vendor import``)."""


@placement.command("request")
@click.argument("archetype_name", metavar="ARCHETYPE", shell_complete=archetypes)
@click.argument("number", metavar="VERSION", shell_complete=versions)
@click.option("--project", required=True, help="The target project.")
@click.option("--name", help="The placement's name in the project (default: the archetype's).")
@expires_option
@writer
def placement_request(
    archetype_name: str,
    number: str,
    project: str,
    name: str | None,
    expires: str,
    repo: Path,
    keys: tuple[str, ...],
    fmt: str,
) -> None:
    """Ask to place the published package ARCHETYPE VERSION in --project (holders)."""
    check_name(project, "project name")
    name = check_name(name or archetype_name, "placement name")
    commit, pin = write(
        repo,
        keys,
        f"docket: request placement {project}/{name}",
        lambda tx: placement_ops.request(tx, project, name, archetype_name, number, expires),
    )
    done(
        fmt,
        f"Requested {project}/{name}: {archetype_name} {number} ({pin.content_hash}); "
        f"an admin of {project} admits it next",
        commit,
        {"address": f"{project}/{name}"},
    )


@placement.command("admit")
@address_argument
@click.option("--to", "to", metavar="VERSION", help="Admit the offered replacement VERSION instead.")
@writer
def placement_admit(address: str, to: str | None, repo: Path, keys: tuple[str, ...], fmt: str) -> None:
    """Admit the requested install, or with --to an offered replacement (admins)."""
    project, name = placement_ops.parse_address(address)
    commit, version = write(
        repo,
        keys,
        f"docket: admit {address}" + (f" {to}" if to else ""),
        lambda tx: placement_ops.admit(tx, project, name, to),
    )
    done(fmt, f"Admitted {address} {version}", commit, {"address": address, "version": version})


@placement.command("reject")
@address_argument
@reason_required
@writer
def placement_reject(address: str, reason: str, repo: Path, keys: tuple[str, ...], fmt: str) -> None:
    """Reject the pending install request (admins); the placement ends Denied."""
    project, name = placement_ops.parse_address(address)
    commit, _ = write(
        repo, keys, f"docket: reject {address}", lambda tx: placement_ops.reject(tx, project, name, reason)
    )
    done(fmt, f"Rejected the install request of {address}", commit, {"address": address})


@placement.command("expire")
@address_argument
@writer
def placement_expire(address: str, repo: Path, keys: tuple[str, ...], fmt: str) -> None:
    """Record that the pending install request expired unadmitted (admins); it ends Denied."""
    project, name = placement_ops.parse_address(address)
    commit, when = write(repo, keys, f"docket: expire {address}", lambda tx: placement_ops.expire(tx, project, name))
    done(fmt, f"The install request of {address} expired at {when}", commit, {"address": address, "expired_at": when})


@placement.command("install")
@address_argument
@writer
def placement_install(address: str, repo: Path, keys: tuple[str, ...], fmt: str) -> None:
    """Install an admitted placement (holders). Grants no payload and no run: see entitlement."""
    project, name = placement_ops.parse_address(address)
    commit, pin = write(repo, keys, f"docket: install {address}", lambda tx: placement_ops.install(tx, project, name))
    done(fmt, f"Installed {address}: {pin.archetype} {pin.version}", commit, {"address": address})


def _pairs(values: tuple[str, ...]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in values:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise InputError(f"--set {item!r} is not KEY=VALUE", "e.g. --set tone=formal")
        try:
            out[key] = json.loads(raw)
        except ValueError:
            out[key] = raw
    return out


@placement.command("edit")
@address_argument
@click.option(
    "--set",
    "sets",
    multiple=True,
    metavar="KEY=VALUE",
    help="Set a config key (VALUE is JSON, or else a string). Repeatable.",
)
@click.option("--unset", "unsets", multiple=True, metavar="KEY", help="Remove a config key. Repeatable.")
@click.option("--context", help="Replace the placement's context text.")
@click.option("--notes", help="Replace the placement's notes.")
@click.option(
    "--auto-upgrade",
    "auto",
    type=click.Choice(["on", "off"]),
    help="Opt in to (or out of) upgrades applied by the owners' `gitdocket release --auto-upgrade`.",
)
@writer
def placement_edit(
    address: str,
    sets: tuple[str, ...],
    unsets: tuple[str, ...],
    context: str | None,
    notes: str | None,
    auto: str | None,
    repo: Path,
    keys: tuple[str, ...],
    fmt: str,
) -> None:
    """Change config, context, notes or the auto-upgrade opt-in — never the method (INV-24)."""
    project, name = placement_ops.parse_address(address)
    values = _pairs(sets)
    opt = None if auto is None else auto == "on"
    commit, _ = write(
        repo,
        keys,
        f"docket: edit placement {address}",
        lambda tx: placement_ops.edit(tx, project, name, values, unsets, context, notes, opt),
    )
    done(fmt, f"Edited {address}", commit, {"address": address})


@placement.command("offer")
@address_argument
@click.option("--to", "to", metavar="VERSION", required=True, help="The newer published version.")
@writer
def placement_offer(address: str, to: str, repo: Path, keys: tuple[str, ...], fmt: str) -> None:
    """Offer a newer published version as the replacement (owners of the archetype)."""
    project, name = placement_ops.parse_address(address)
    commit, _ = write(
        repo, keys, f"docket: offer {to} to {address}", lambda tx: placement_ops.offer(tx, project, name, to)
    )
    done(
        fmt,
        f"Offered {to} to {address}; an admin of {project} admits it next",
        commit,
        {"address": address, "version": to},
    )


@placement.command("upgrade")
@address_argument
@click.option("--to", "to", metavar="VERSION", required=True, help="The admitted replacement.")
@dry_run_option
@writer
def placement_upgrade(address: str, to: str, repo: Path, keys: tuple[str, ...], fmt: str) -> None:
    """Move the pin to an offered and admitted replacement (holders). Idempotent; fails closed
    when the package's content does not match its frozen snapshot."""
    project, name = placement_ops.parse_address(address)
    check_version(to)
    commit, moved = write(
        repo, keys, f"docket: upgrade {address} to {to}", lambda tx: placement_ops.upgrade(tx, project, name, to)
    )
    text = f"Upgraded {address} to {to}" if moved else f"{address} is already on {to}; nothing to do"
    done(fmt, text, commit, {"address": address, "version": to, "changed": moved})


@placement.command("disable")
@address_argument
@reason_option
@writer
def placement_disable(address: str, reason: str, repo: Path, keys: tuple[str, ...], fmt: str) -> None:
    """Stop using the install (holders); its history stays."""
    project, name = placement_ops.parse_address(address)
    commit, _ = write(
        repo, keys, f"docket: disable {address}", lambda tx: placement_ops.disable(tx, project, name, reason)
    )
    done(fmt, f"Disabled {address}", commit, {"address": address})


@placement.command("remove")
@address_argument
@reason_option
@writer
def placement_remove(address: str, reason: str, repo: Path, keys: tuple[str, ...], fmt: str) -> None:
    """Remove the install (holders): future-only, the log keeps every record; its entitlement
    is withdrawn in the same commit."""
    project, name = placement_ops.parse_address(address)
    commit, _ = write(
        repo, keys, f"docket: remove {address}", lambda tx: placement_ops.remove(tx, project, name, reason)
    )
    done(fmt, f"Removed {address}", commit, {"address": address})


@placement.command("status")
@address_argument
@reader
def placement_status(address: str, repo: Path, rev: str | None, fmt: str) -> None:
    """Phase, pinned version, and whether an update is available."""
    project, name = placement_ops.parse_address(address)
    view = placement_ops.placement_view(Session(repo).snapshot(rev), project, name)
    pin = view["pin"]
    data = {
        k: view[k]
        for k in (
            "address",
            "phase",
            "distribution_phase",
            "package_phase",
            "update_available",
            "auto_upgrade",
            "replacement",
        )
    }
    data["pin"] = pin

    def text() -> None:
        update = view["update_available"]
        click.echo(f"{address}: {view['distribution_phase']} — {pin['archetype']} {pin['version']}")
        click.echo(f"  update available: {update}" if update else "  up to date")
        if view["replacement"]:
            admitted = "admitted" if view["replacement_target_admitted"] else "awaiting admission"
            click.echo(f"  replacement offered: {view['replacement']['version']} ({admitted})")

    emit(fmt, data, text)


@placement.command("show")
@address_argument
@reader
def placement_show(address: str, repo: Path, rev: str | None, fmt: str) -> None:
    """Everything recorded about one placement (its folded state)."""
    project, name = placement_ops.parse_address(address)
    view = placement_ops.placement_view(Session(repo).snapshot(rev), project, name)
    emit(fmt, view, lambda: pretty(view))


@placement.command("list")
@click.option("--project", help="Only this project.")
@reader
def placement_list(project: str | None, repo: Path, rev: str | None, fmt: str) -> None:
    """List placements with their phase and whether an update is available."""
    rows = placement_ops.list_placements(Session(repo).snapshot(rev), project)
    columns = {
        "placement": "address",
        "archetype": "archetype",
        "version": "version",
        "phase": "distribution_phase",
        "update": "update_available",
    }
    emit_table(fmt, "placements", rows, columns)
