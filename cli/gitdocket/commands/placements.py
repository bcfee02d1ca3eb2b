"""Commands of the client side of a package: ``placement``, ``entitlement``, ``run-check``,
``release``, and the ``archetype fork | pull-from-source | tree`` subcommands (added to the core
``archetype`` group here). Parse, call an operation, print; nothing else.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC
from pathlib import Path
from typing import Any, Literal

import click

from gitdocket.adapters.merge import FAVOR, GitMerger
from gitdocket.commands.archetypes import archetype
from gitdocket.commands.output import common, emit, format_option, keys_option, repo_option, table
from gitdocket.core.scopes import check_name, check_version
from gitdocket.errors import InputError
from gitdocket.lifecycles.eligibility import parse_time
from gitdocket.ops import entitlements as entitlement_ops
from gitdocket.ops import forks as fork_ops
from gitdocket.ops import placements as placement_ops
from gitdocket.ops.releases import release as release_op
from gitdocket.ops.session import Session, clock_now
from gitdocket.ops.transaction import Transaction

__all__ = ["entitlement", "placement", "release", "run_check"]


def _write(repo: Path, keys: tuple[str, ...], message: str, op: Callable[[Transaction], Any]) -> tuple[str, Any]:
    result, value = Session(repo, keys).write(message, op)
    return result.commit, value


def _pretty(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False))


def _done(fmt: str, text: str, commit: str, extra: dict[str, Any] | None = None) -> None:
    emit(fmt, {"ok": True, "commit": commit, **(extra or {})}, lambda: click.echo(f"{text} (commit {commit[:12]})"))


def _writer(func: Callable[..., Any]) -> Callable[..., Any]:
    return repo_option(keys_option(format_option(func)))


_address = click.argument("address", metavar="PROJECT/NAME")
_reason = click.option("--reason", default="", help="Why (recorded in the signed event).")
_reason_required = click.option("--reason", required=True, help="Why (recorded in the signed event).")


# -- placement ---------------------------------------------------------------------------------


@click.group()
def placement() -> None:
    """Place a published package in a project: request, admit, install, edit, upgrade, remove.

    A placement PROJECT/NAME pins one frozen version read-only; editing it changes config,
    context and notes only (INV-24). Holders (holders:<project>) request, install, edit,
    upgrade, disable and remove; the project's admins (admins:<project>) admit.
    """


@placement.command("request")
@click.argument("archetype_name", metavar="ARCHETYPE")
@click.argument("number", metavar="VERSION")
@click.option("--project", required=True, help="The target project.")
@click.option("--name", help="The placement's name in the project (default: the archetype's).")
@_writer
def placement_request(
    archetype_name: str, number: str, project: str, name: str | None, repo: Path, keys: tuple[str, ...], fmt: str
) -> None:
    """Ask to place the published package ARCHETYPE VERSION in --project (holders)."""
    check_name(project, "project name")
    name = check_name(name or archetype_name, "placement name")
    commit, pin = _write(
        repo,
        keys,
        f"docket: request placement {project}/{name}",
        lambda tx: placement_ops.request(tx, project, name, archetype_name, number),
    )
    _done(
        fmt,
        f"Requested {project}/{name}: {archetype_name} {number} ({pin.content_hash}); "
        f"an admin of {project} admits it next",
        commit,
        {"address": f"{project}/{name}"},
    )


@placement.command("admit")
@_address
@click.option("--to", "to", metavar="VERSION", help="Admit the offered replacement VERSION instead.")
@_writer
def placement_admit(address: str, to: str | None, repo: Path, keys: tuple[str, ...], fmt: str) -> None:
    """Admit the requested install, or with --to an offered replacement (admins)."""
    project, name = placement_ops.parse_address(address)
    commit, version = _write(
        repo,
        keys,
        f"docket: admit {address}" + (f" {to}" if to else ""),
        lambda tx: placement_ops.admit(tx, project, name, to),
    )
    _done(fmt, f"Admitted {address} {version}", commit, {"address": address, "version": version})


@placement.command("install")
@_address
@_writer
def placement_install(address: str, repo: Path, keys: tuple[str, ...], fmt: str) -> None:
    """Install an admitted placement (holders). Grants no payload and no run: see entitlement."""
    project, name = placement_ops.parse_address(address)
    commit, pin = _write(repo, keys, f"docket: install {address}", lambda tx: placement_ops.install(tx, project, name))
    _done(fmt, f"Installed {address}: {pin.archetype} {pin.version}", commit, {"address": address})


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
@_address
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
@_writer
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
    commit, _ = _write(
        repo,
        keys,
        f"docket: edit placement {address}",
        lambda tx: placement_ops.edit(tx, project, name, values, unsets, context, notes, opt),
    )
    _done(fmt, f"Edited {address}", commit, {"address": address})


@placement.command("offer")
@_address
@click.option("--to", "to", metavar="VERSION", required=True, help="The newer published version.")
@_writer
def placement_offer(address: str, to: str, repo: Path, keys: tuple[str, ...], fmt: str) -> None:
    """Offer a newer published version as the replacement (owners of the archetype)."""
    project, name = placement_ops.parse_address(address)
    commit, _ = _write(
        repo, keys, f"docket: offer {to} to {address}", lambda tx: placement_ops.offer(tx, project, name, to)
    )
    _done(
        fmt,
        f"Offered {to} to {address}; an admin of {project} admits it next",
        commit,
        {"address": address, "version": to},
    )


@placement.command("upgrade")
@_address
@click.option("--to", "to", metavar="VERSION", required=True, help="The admitted replacement.")
@_writer
def placement_upgrade(address: str, to: str, repo: Path, keys: tuple[str, ...], fmt: str) -> None:
    """Move the pin to an offered and admitted replacement (holders). Idempotent; fails closed
    when the package's content does not match its frozen snapshot."""
    project, name = placement_ops.parse_address(address)
    check_version(to)
    commit, moved = _write(
        repo, keys, f"docket: upgrade {address} to {to}", lambda tx: placement_ops.upgrade(tx, project, name, to)
    )
    text = f"Upgraded {address} to {to}" if moved else f"{address} is already on {to}; nothing to do"
    _done(fmt, text, commit, {"address": address, "version": to, "changed": moved})


@placement.command("disable")
@_address
@_reason
@_writer
def placement_disable(address: str, reason: str, repo: Path, keys: tuple[str, ...], fmt: str) -> None:
    """Stop using the install (holders); its history stays."""
    project, name = placement_ops.parse_address(address)
    commit, _ = _write(
        repo, keys, f"docket: disable {address}", lambda tx: placement_ops.disable(tx, project, name, reason)
    )
    _done(fmt, f"Disabled {address}", commit, {"address": address})


@placement.command("remove")
@_address
@_reason
@_writer
def placement_remove(address: str, reason: str, repo: Path, keys: tuple[str, ...], fmt: str) -> None:
    """Remove the install (holders): future-only, the log keeps every record; its entitlement
    is withdrawn in the same commit."""
    project, name = placement_ops.parse_address(address)
    commit, _ = _write(
        repo, keys, f"docket: remove {address}", lambda tx: placement_ops.remove(tx, project, name, reason)
    )
    _done(fmt, f"Removed {address}", commit, {"address": address})


@placement.command("status")
@_address
@common
def placement_status(address: str, repo: Path, fmt: str) -> None:
    """Phase, pinned version, and whether an update is available."""
    project, name = placement_ops.parse_address(address)
    view = placement_ops.placement_view(Session(repo).snapshot(), project, name)
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
@_address
@common
def placement_show(address: str, repo: Path, fmt: str) -> None:
    """Everything recorded about one placement (its folded state)."""
    project, name = placement_ops.parse_address(address)
    view = placement_ops.placement_view(Session(repo).snapshot(), project, name)
    emit(fmt, view, lambda: _pretty(view))


@placement.command("list")
@click.option("--project", help="Only this project.")
@common
def placement_list(project: str | None, repo: Path, fmt: str) -> None:
    """List placements with their phase and whether an update is available."""
    rows = placement_ops.list_placements(Session(repo).snapshot(), project)
    columns = ["placement", "archetype", "version", "phase", "update"]
    emit(
        fmt,
        rows,
        lambda: table(
            "placements",
            columns,
            [
                (r["address"], r["archetype"], r["version"], r["distribution_phase"], r["update_available"] or "")
                for r in rows
            ],
        ),
    )


# -- entitlement -------------------------------------------------------------------------------


@click.group()
def entitlement() -> None:
    """Govern whether a placement may run: request, activate, suspend, resume, close, deny.

    Holders request and record receipts; the project's entitlement authorities
    (authorities:<project>) activate, suspend, resume, close and deny. Receipts are evidence
    and never activate anything (INV-16).
    """


def _entitlement_write(
    verb: str, op: Callable[..., Any], done: str, help_text: str, *options: Callable[[Any], Any]
) -> None:
    """Register ``entitlement VERB PROJECT/NAME [options]`` running ``op(tx, project, name, …)``;
    ``done`` is the message, formatted with ``address`` and ``project``."""

    def command(address: str, repo: Path, keys: tuple[str, ...], fmt: str, **extra: Any) -> None:
        project, name = placement_ops.parse_address(address)
        commit, _ = _write(
            repo, keys, f"docket: entitlement {verb} {address}", lambda tx: op(tx, project, name, **extra)
        )
        _done(fmt, done.format(address=address, project=project), commit, {"address": address})

    for option in options:
        command = option(command)
    entitlement.command(verb, help=help_text)(_address(_writer(command)))


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
    _reason_required,
)
_entitlement_write(
    "resume", entitlement_ops.resume, "Resumed the entitlement of {address}", "Lift a suspension (authorities)."
)
_entitlement_write(
    "close",
    entitlement_ops.close,
    "Closed the entitlement of {address}",
    "End the entitlement (authorities); every record stays.",
    _reason_required,
)
_entitlement_write(
    "deny",
    entitlement_ops.deny,
    "Denied the entitlement of {address}",
    "Refuse a request (authorities).",
    _reason_required,
)


@entitlement.command("activate")
@_address
@click.option("--expires", metavar="TIME", help="RFC 3339 expiry, e.g. 2027-01-01T00:00:00Z (default: none).")
@click.option("--terms", default="", help="Terms granted (recorded).")
@_writer
def entitlement_activate(
    address: str, expires: str | None, terms: str, repo: Path, keys: tuple[str, ...], fmt: str
) -> None:
    """Activate the requested entitlement (authorities), optionally until --expires."""
    project, name = placement_ops.parse_address(address)
    commit, until = _write(
        repo,
        keys,
        f"docket: entitlement activate {address}",
        lambda tx: entitlement_ops.activate(tx, project, name, expires, terms),
    )
    text = f"Activated the entitlement of {address}" + (f" until {until}" if until else "")
    _done(fmt, text, commit, {"address": address, "expires_at": until})


@entitlement.command("receipt")
@_address
@click.option("--kind", type=click.Choice(["billing", "support"]), required=True, help="Receipt kind.")
@click.option("--ref", "reference", required=True, help="The receipt's reference (invoice, ticket).")
@_writer
def entitlement_receipt(address: str, kind: str, reference: str, repo: Path, keys: tuple[str, ...], fmt: str) -> None:
    """Record a billing or support receipt: evidence only, it never activates (INV-16)."""
    project, name = placement_ops.parse_address(address)
    which: Literal["billing", "support"] = "billing" if kind == "billing" else "support"
    commit, _ = _write(
        repo,
        keys,
        f"docket: {kind} receipt for {address}",
        lambda tx: entitlement_ops.receipt(tx, project, name, which, reference),
    )
    _done(
        fmt,
        f"Recorded {kind} receipt {reference} for {address} (evidence; activates nothing)",
        commit,
        {"address": address},
    )


@entitlement.command("show")
@_address
@common
def entitlement_show(address: str, repo: Path, fmt: str) -> None:
    """Everything recorded about a placement's entitlement."""
    project, name = placement_ops.parse_address(address)
    view = entitlement_ops.entitlement_view(Session(repo).snapshot(), project, name)
    emit(fmt, view, lambda: _pretty(view))


# -- run-check and release ---------------------------------------------------------------------


@click.command("run-check")
@_address
@click.option("--at", "at", metavar="TIME", help="RFC 3339 time to judge at (default: now).")
@common
def run_check(address: str, at: str | None, repo: Path, fmt: str) -> None:
    """May PROJECT/NAME run? Active, or Ineligible with the reason (Expired, Blocked,
    NoActiveEntitlement, NotInstalled, Withdrawn). Exit 0 when eligible, 1 when not."""
    project, name = placement_ops.parse_address(address)
    try:
        when = parse_time(at) if at else clock_now()
    except ValueError as exc:
        raise InputError(f"--at {at!r} is not an RFC 3339 time with a zone", "use e.g. 2026-06-01T00:00:00Z") from exc
    result = entitlement_ops.run_check(Session(repo).snapshot(), project, name, when)
    stamp = when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
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


@click.command("release")
@click.argument("archetype_name", metavar="ARCHETYPE")
@click.argument("number", metavar="VERSION")
@click.option(
    "--auto-upgrade",
    "auto",
    is_flag=True,
    help="Also upgrade the placements whose holders opted in (placement edit --auto-upgrade on).",
)
@_writer
def release(archetype_name: str, number: str, auto: bool, repo: Path, keys: tuple[str, ...], fmt: str) -> None:
    """Freeze and publish ARCHETYPE VERSION in one atomic commit (owners)."""
    check_name(archetype_name, "archetype name")
    check_version(number)
    commit, done = _write(
        repo,
        keys,
        f"docket: release {archetype_name} {number}",
        lambda tx: release_op(tx, archetype_name, number, auto),
    )
    moved = f"; auto-upgraded {', '.join(done.upgraded)}" if done.upgraded else ""
    _done(
        fmt,
        f"Released {archetype_name} {number} ({done.content_hash}){moved}",
        commit,
        {
            "archetype": archetype_name,
            "version": number,
            "content_hash": done.content_hash,
            "upgraded": list(done.upgraded),
        },
    )


# -- forks (subcommands of the core `archetype` group) -----------------------------------------


@archetype.command("fork")
@click.argument("source")
@click.argument("new")
@click.option("--from-version", metavar="VERSION", help="Fork this frozen version (default: the draft).")
@click.option("--owner", "owners", multiple=True, help="Owner of the fork (repeat); default: you.")
@click.option(
    "--threshold",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Owner signatures the fork needs for owner actions.",
)
@_writer
def archetype_fork(
    source: str,
    new: str,
    from_version: str | None,
    owners: tuple[str, ...],
    threshold: int,
    repo: Path,
    keys: tuple[str, ...],
    fmt: str,
) -> None:
    """Fork SOURCE into a new, independent archetype NEW (owners of SOURCE only)."""
    commit, origin = _write(
        repo,
        keys,
        f"docket: fork {source} into {new}",
        lambda tx: fork_ops.fork(tx, source, new, from_version, owners, threshold),
    )
    where = f"{source} {origin.version}" if origin.version else f"{source} (draft)"
    _done(fmt, f"Forked {where} into {new}", commit, {"archetype": new, "forked_from": origin.model_dump()})


@archetype.command("pull-from-source")
@click.argument("name")
@click.option(
    "--favor",
    type=click.Choice(sorted(FAVOR)),
    default="normal",
    show_default=True,
    help="On a conflicting file: report it (normal), or keep ours / take theirs.",
)
@_writer
def archetype_pull(name: str, favor: str, repo: Path, keys: tuple[str, ...], fmt: str) -> None:
    """Three-way merge the source's newest frozen version into fork NAME's draft: clean, or a
    conflict report with the fork left untouched."""
    session = Session(repo, keys)
    merger = GitMerger(session.store.repo, favor)
    result, pulled = session.write(
        f"docket: pull {name} from its source", lambda tx: fork_ops.pull_from_source(tx, name, merger)
    )
    if not pulled.merged:
        emit(
            fmt,
            {"ok": True, "merged": False, "source": pulled.source, "version": pulled.version},
            lambda: click.echo(f"{name} is up to date with {pulled.source} {pulled.version or '(draft)'}"),
        )
        return
    _done(
        fmt,
        f"Merged {pulled.source} {pulled.version} into {name}'s draft",
        result.commit,
        {"merged": True, "source": pulled.source, "version": pulled.version},
    )


def _label(node: dict[str, Any]) -> str:
    origin = node["forked_from"]
    if origin is None:
        return str(node["name"])
    return f"{node['name']} (fork of {origin['archetype']} {origin['version'] or 'draft'})"


def _tree_lines(nodes: list[dict[str, Any]], prefix: str = "") -> Iterator[str]:
    for index, node in enumerate(nodes):
        last = index == len(nodes) - 1
        yield prefix + ("└── " if last else "├── ") + _label(node)
        yield from _tree_lines(node["children"], prefix + ("    " if last else "│   "))


def _print_forest(forest: list[dict[str, Any]]) -> None:
    for root in forest:
        click.echo(_label(root))
        for line in _tree_lines(root["children"]):
            click.echo(line)


@archetype.command("tree")
@common
def archetype_tree(repo: Path, fmt: str) -> None:
    """Print the fork forest: every archetype under the one it was forked from."""
    forest = fork_ops.fork_forest(Session(repo).snapshot())
    emit(fmt, forest, lambda: _print_forest(forest))
