"""``gitdocket admit-run`` (issue a signed, expiring run-admission token) and ``gitdocket
admission`` (``verify`` a token, ``signers`` for runtimes). See docs/admission.md."""

from __future__ import annotations

from pathlib import Path

import click

from gitdocket.adapters.files import read_file, write_file
from gitdocket.commands.output import address_argument, emit, keys_option, note, reader
from gitdocket.core.fields import format_time, parse_time
from gitdocket.core.scopes import check_name
from gitdocket.errors import InputError
from gitdocket.lifecycles.admission import check_audience, encode, parse_ttl
from gitdocket.ops import admission as admission_ops
from gitdocket.ops import placements as placement_ops
from gitdocket.ops.session import Session, clock_now, system_now

__all__ = ["admission", "admit_run"]

_AUDIENCE = click.option(
    "--audience", required=True, metavar="RUNTIME", help="The runtime the token is for (e.g. runtime-eu)."
)


@click.command("admit-run")
@address_argument
@_AUDIENCE
@click.option("--ttl", default="10m", show_default=True, help="How long the token lives: 30s, 10m, 2h, 1d (≤ 24h).")
@click.option("--out", type=click.Path(path_type=Path), help="Also write the token to this file.")
@keys_option
@reader
def admit_run(
    address: str,
    audience: str,
    ttl: str,
    out: Path | None,
    keys: tuple[str, ...],
    repo: Path,
    rev: str | None,
    fmt: str,
) -> None:
    """Issue a signed run-admission token for PROJECT/NAME (printed, or with --out written to the
    file and summed up), only when `run-check` says Active
    (an entitlement authority of the project signs; nothing is written to the registry). The
    token carries the placement, version, content hash, verdict, audience, issue and expiry
    times and a unique id; a runtime checks it offline (`gitdocket admission verify`)."""
    project, name = placement_ops.parse_address(address)
    duration = parse_ttl(ttl)
    check_audience(audience)
    session = Session(repo, keys)
    token = admission_ops.issue(
        session.snapshot(rev), session.signers()[0], project, name, audience, duration, clock_now()
    )
    text = encode(token)
    if out is not None:
        write_file(out, text.encode() + b"\n", "pass a file path to --out")
    claims = token.claims
    data = {"token": text, **claims.model_dump(mode="json")}
    summary = (
        f"Issued token {claims.id} for {claims.placement} ({claims.audience}) until {claims.expires_at} into {out}"
    )
    emit(fmt, data, lambda: click.echo(summary if out is not None else text))


@click.group()
def admission() -> None:
    """Check run-admission tokens (what a runtime does before it runs a placement)."""


@admission.command("verify")
@click.argument("token")
@_AUDIENCE
@click.option("--placement", metavar="PROJECT/NAME", help="Refuse a token for any other placement.")
@click.option("--at", "at", metavar="TIME", help="RFC 3339 time to judge at (default: now).")
@reader
def admission_verify(
    token: str, audience: str, placement: str | None, at: str | None, repo: Path, rev: str | None, fmt: str
) -> None:
    """Accept TOKEN (the text, or @FILE) for --audience: signed by an entitlement authority of
    its project under the registry's policy, for this audience (and --placement), not expired,
    and the entitlement still Active in the registry. Exit 0 accepted, 1 refused, 2 malformed."""
    if placement is not None:
        placement = "/".join(placement_ops.parse_address(placement))
    try:
        when = parse_time(at) if at else system_now()  # the verifier's clock, never GITDOCKET_NOW
    except ValueError as exc:
        raise InputError(f"--at {at!r} is not an RFC 3339 time with a zone", "use e.g. 2026-06-01T00:00:00Z") from exc
    if token.startswith("@"):
        token = read_file(
            Path(token[1:]), 16 * 1024, "pass the token, or @FILE of a file holding it", "token file"
        ).decode("utf-8", errors="replace")
    claims = admission_ops.verify_token(Session(repo).snapshot(rev), token, audience, when, placement)
    line = (
        f"accepted: token {claims.id} admits {claims.placement} ({claims.archetype} {claims.version}) "
        f"for {claims.audience} until {claims.expires_at}"
    )
    emit(fmt, {"ok": True, "at": format_time(when), **claims.model_dump(mode="json")}, lambda: click.echo(line))


@admission.command("signers")
@click.argument("project")
@click.option("--out", type=click.Path(path_type=Path), help="Write to this file instead of printing.")
@reader
def admission_signers(project: str, out: Path | None, repo: Path, rev: str | None, fmt: str) -> None:
    """Print ssh-keygen's allowed-signers lines for PROJECT's entitlement authorities, limited to
    the run-admission namespace: a runtime without the registry checks signatures with them."""
    text = admission_ops.allowed_signers(Session(repo).snapshot(rev), check_name(project, "project name"))
    if out is not None:
        write_file(out, text.encode(), "pass a file path to --out")
    emit(fmt, {"allowed_signers": text}, lambda: click.echo(text, nl=False))
    if not text and fmt == "text":
        note(
            f"project {project} has no entitlement authority with an SSH key, so no token can be accepted; "
            f"grant one: `gitdocket policy grant authorities:{project} NAME`"
        )
