"""``gitdocket policy``: show the trust policy, change identities, roles, thresholds and expiry, and
export git's allowed signers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from gitdocket.adapters.files import MAX_KEY_BYTES, read_file, write_file
from gitdocket.commands.output import done, emit, reader, repo_option, rev_option, table, write, writer
from gitdocket.core.fields import format_time
from gitdocket.lifecycles.policy import PolicyState
from gitdocket.ops import policies as policy_ops
from gitdocket.ops.session import Session
from gitdocket.ops.transaction import POLICY, load_log

__all__ = ["policy"]


@click.group()
def policy() -> None:
    """Show and change the trust policy (identities, roles, thresholds, expiry)."""


def _policy_json(state: PolicyState) -> dict[str, Any]:
    return state.model_dump(mode="json")


@policy.command("show")
@reader
def policy_show(repo: Path, rev: str | None, fmt: str) -> None:
    """Show the policy's version, expiry, identities and roles."""
    state = load_log(Session(repo).snapshot(rev), POLICY).state

    def text() -> None:
        click.echo(
            f"policy version {state.version}, " + (f"expires {state.expires}" if state.expires else "never expires")
        )
        table(
            "identities",
            ["name", "kind", "key"],
            [(i.name, i.kind, i.public_key or i.subject) for i in state.identities.values()],
        )
        table(
            "roles",
            ["role", "threshold", "principals"],
            [(r, role.threshold, ", ".join(role.principals)) for r, role in sorted(state.roles.items())],
        )
        if state.vendors:
            table(
                "pinned vendors",
                ["vendor", "registry", "threshold", "root keys"],
                [
                    (v, p.registry, p.threshold, ", ".join(k.name for k in p.keys))
                    for v, p in sorted(state.vendors.items())
                ],
            )

    emit(fmt, _policy_json(state), text)


@policy.command("add-identity")
@click.argument("name")
@click.argument("public_key", metavar="PUBKEY")
@writer
def policy_add_identity(name: str, public_key: str, repo: Path, keys: tuple[str, ...], fmt: str) -> None:
    """Add identity NAME with PUBKEY (a .pub file path or an 'ssh-ed25519 AAAA…' line)."""
    if Path(public_key).exists():  # a path (a FIFO or a device too: read_file refuses those)
        raw = read_file(Path(public_key), MAX_KEY_BYTES, "pass the identity's .pub file or its 'ssh-ed25519 …' line")
        public_key = raw.decode("utf-8", errors="replace")
    commit, _ = write(
        repo, keys, f"docket: policy add identity {name}", lambda tx: policy_ops.add_identity(tx, name, public_key)
    )
    done(fmt, f"Added identity {name}", commit)


@policy.command("grant")
@click.argument("role")
@click.argument("principal")
@click.option("--threshold", type=click.IntRange(min=1), help="Also set the role's threshold.")
@writer
def policy_grant(role: str, principal: str, threshold: int | None, repo: Path, keys: tuple[str, ...], fmt: str) -> None:
    """Give PRINCIPAL the ROLE (root, authors, builders, promoters[:env], admins:<project>, …)."""
    commit, _ = write(
        repo,
        keys,
        f"docket: policy grant {role} to {principal}",
        lambda tx: policy_ops.grant(tx, role, principal, threshold),
    )
    done(fmt, f"Granted {role} to {principal}", commit)


@policy.command("revoke")
@click.argument("role")
@click.argument("principal")
@writer
def policy_revoke(role: str, principal: str, repo: Path, keys: tuple[str, ...], fmt: str) -> None:
    """Take ROLE from PRINCIPAL."""
    commit, _ = write(
        repo, keys, f"docket: policy revoke {role} from {principal}", lambda tx: policy_ops.revoke(tx, role, principal)
    )
    done(fmt, f"Revoked {role} from {principal}", commit)


@policy.command("threshold")
@click.argument("role")
@click.argument("count", type=click.IntRange(min=1))
@writer
def policy_threshold(role: str, count: int, repo: Path, keys: tuple[str, ...], fmt: str) -> None:
    """Require COUNT signatures for ROLE."""
    commit, _ = write(
        repo, keys, f"docket: policy threshold {role}={count}", lambda tx: policy_ops.set_threshold(tx, role, count)
    )
    done(fmt, f"{role} now needs {count} signature(s)", commit)


@policy.command("expires")
@click.argument("when", metavar="TIME")
@writer
def policy_expires(when: str, repo: Path, keys: tuple[str, ...], fmt: str) -> None:
    """Set the policy's expiry to TIME (RFC 3339, like 2027-01-01T00:00:00Z) or to `never`.

    From its expiry on, the registry refuses every write except this renewal (signed by root);
    `gitdocket verify` reports any other event written at or after it (POLICY_EXPIRED).
    """
    expires = policy_ops.parse_expiry(when)
    label = format_time(expires) if expires else "never"
    commit, stamp = write(repo, keys, f"docket: policy expires {label}", lambda tx: policy_ops.set_expiry(tx, expires))
    done(fmt, f"The policy expires {stamp}" if stamp else "The policy never expires", commit, {"expires": stamp})


@policy.command("allowed-signers")
@repo_option
@rev_option
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write to this file instead of standard output.",
)
def policy_allowed_signers(repo: Path, rev: str | None, output: Path | None) -> None:
    """Print git's allowed_signers file for `git verify-commit` / `verify-tag`."""
    text = policy_ops.allowed_signers(load_log(Session(repo).snapshot(rev), POLICY).state)
    if output:
        write_file(output, text.encode(), "--output names a regular file; leave it out to print to standard output")
    else:
        click.echo(text, nl=False)
