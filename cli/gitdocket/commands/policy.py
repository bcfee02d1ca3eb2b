"""``gitdocket policy``: show the trust policy, change identities (SSH keys and keyless CI
workflows), roles, thresholds, expiry and the pinned Sigstore trusted root, and export git's
allowed signers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from gitdocket.adapters.files import MAX_KEY_BYTES, read_file, write_file
from gitdocket.commands.output import done, emit, reader, repo_option, rev_option, table, write, writer
from gitdocket.commands.plans import dry_run_option
from gitdocket.core.fields import format_time
from gitdocket.lifecycles.policy import POLICY_SCOPE, PolicyState
from gitdocket.ops import policies as policy_ops
from gitdocket.ops.logs import load_log
from gitdocket.ops.session import Session

__all__ = ["policy"]

MAX_ROOT_BYTES = 1 << 20
"""A trusted_root.json is a few kilobytes (production's: 8 KiB); a megabyte is not one."""


@click.group()
def policy() -> None:
    """Show and change the trust policy (identities, roles, thresholds, expiry, risk rules)."""


def _policy_json(state: PolicyState) -> dict[str, Any]:
    return state.model_dump(mode="json")


@policy.command("show")
@reader
def policy_show(repo: Path, rev: str | None, fmt: str) -> None:
    """Show the policy's version, expiry, identities and roles."""
    state = load_log(Session(repo).snapshot(rev), POLICY_SCOPE).state

    def text() -> None:
        click.echo(
            f"policy version {state.version}, " + (f"expires {state.expires}" if state.expires else "never expires")
        )
        click.echo(f"Sigstore trusted root: {state.trusted_root or 'none pinned'}")
        table(
            "identities",
            ["name", "kind", "key", "claims"],
            [
                (i.name, i.kind, i.public_key or i.subject, ", ".join(f"{k}={v}" for k, v in sorted(i.claims.items())))
                for i in state.identities.values()
            ],
        )
        table(
            "roles",
            ["role", "threshold", "principals"],
            [(r, role.threshold, ", ".join(role.principals)) for r, role in sorted(state.roles.items())],
        )
        if state.risk_rules:
            table(
                "risk rules",
                ["rule", "changes", "needs", "on"],
                [
                    (
                        rule.name,
                        ", ".join([*rule.kinds, *([f"risk >= {rule.at_least}"] if rule.at_least else [])]),
                        f"{rule.signatures} x {rule.role}",
                        ", ".join(rule.on),
                    )
                    for rule in state.risk_rules
                ],
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
@click.argument("public_key", metavar="[PUBKEY]", required=False)
@click.option(
    "--github-workflow",
    metavar="OWNER/REPO/.github/workflows/FILE.yml@REF",
    help="A keyless CI identity: runs of this workflow at this ref (refs/heads/main), signing with "
    "GitHub's OIDC token through Sigstore. Pins the repository, the workflow and the ref.",
)
@click.option(
    "--environment",
    metavar="ENV",
    help="With a keyless identity: its signatures count only for promotions and rollbacks of ENV.",
)
@click.option("--issuer", help="A keyless identity's OIDC issuer (the generic form of --github-workflow).")
@click.option("--identity", "subject", help="A keyless identity's certificate identity (its SAN).")
@click.option(
    "--claim",
    "claims",
    multiple=True,
    metavar="NAME=VALUE",
    help="A certificate claim the keyless identity pins (repository, repository_id, owner, workflow, ref, "
    "trigger, runner); repeatable. At least one is required.",
)
@dry_run_option
@writer
def policy_add_identity(
    name: str,
    public_key: str | None,
    github_workflow: str | None,
    environment: str | None,
    issuer: str | None,
    subject: str | None,
    claims: tuple[str, ...],
    repo: Path,
    keys: tuple[str, ...],
    fmt: str,
) -> None:
    """Add identity NAME: an SSH key (PUBKEY: a .pub file path or an 'ssh-ed25519 AAAA…' line), or a
    keyless CI identity (--github-workflow, or --issuer/--identity/--claim).

    A keyless identity must pin at least one certificate claim besides its issuer and identity:
    without one it would trust any workflow in the world (IDENTITY_PINNED). See docs/ci-identities.md.
    """
    keyless = github_workflow is not None or issuer is not None or subject is not None or bool(claims)
    if keyless:
        if public_key is not None:
            raise click.UsageError("pass PUBKEY or a keyless identity (--github-workflow, --issuer …), not both")
        found_issuer, found_subject, pinned = _keyless(github_workflow, issuer, subject, claims)
        if environment is not None:
            pinned["environment"] = environment
        commit, _ = write(
            repo,
            keys,
            f"docket: policy add keyless identity {name}",
            lambda tx: policy_ops.add_keyless_identity(tx, name, found_issuer, found_subject, pinned),
        )
        done(fmt, f"Added keyless identity {name} ({found_subject})", commit)
        return
    if public_key is None:
        raise click.UsageError("pass PUBKEY (an SSH identity) or --github-workflow (a keyless CI identity)")
    if environment is not None:
        raise click.UsageError("--environment applies to a keyless identity only")
    if Path(public_key).exists():  # a path (a FIFO or a device too: read_file refuses those)
        raw = read_file(Path(public_key), MAX_KEY_BYTES, "pass the identity's .pub file or its 'ssh-ed25519 …' line")
        public_key = raw.decode("utf-8", errors="replace")
    line = public_key
    commit, _ = write(
        repo, keys, f"docket: policy add identity {name}", lambda tx: policy_ops.add_identity(tx, name, line)
    )
    done(fmt, f"Added identity {name}", commit)


def _keyless(
    workflow: str | None, issuer: str | None, subject: str | None, claims: tuple[str, ...]
) -> tuple[str, str, dict[str, str]]:
    """(issuer, identity, claims) from --github-workflow, refined by --issuer/--identity/--claim."""
    found_issuer, found_subject, pinned = (
        policy_ops.github_identity(workflow) if workflow is not None else (None, None, {})
    )
    found_issuer = issuer or found_issuer
    found_subject = subject or found_subject
    if not found_issuer or not found_subject:
        raise click.UsageError("a keyless identity needs --github-workflow, or both --issuer and --identity")
    return found_issuer, found_subject, {**pinned, **policy_ops.parse_claims(claims)}


@policy.command("pin-root")
@click.argument("file", required=False, type=click.Path(dir_okay=False, path_type=Path))
@writer
def policy_pin_root(file: Path | None, repo: Path, keys: tuple[str, ...], fmt: str) -> None:
    """Pin the Sigstore trusted root (FILE: a trusted_root.json; default: the production root
    shipped in the installed sigstore package) that keyless signatures are checked against, offline.

    Signed by root, like every policy change: verify reports a root file changed any other way.
    Rotate by pinning a refreshed root; events keep being judged by the root their policy pinned.
    """
    if file is None:
        raw, source = policy_ops.production_root()
    else:
        raw, source = read_file(file, MAX_ROOT_BYTES, "pass a Sigstore trusted_root.json"), str(file)
    commit, digest = write(
        repo, keys, "docket: policy pin Sigstore trusted root", lambda tx: policy_ops.pin_root(tx, raw, source)
    )
    done(fmt, f"Pinned the Sigstore trusted root {digest} from {source}", commit, {"trusted_root": digest})


@policy.command("grant")
@click.argument("role")
@click.argument("principal")
@click.option("--threshold", type=click.IntRange(min=1), help="Also set the role's threshold.")
@dry_run_option
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
@dry_run_option
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
@dry_run_option
@writer
def policy_threshold(role: str, count: int, repo: Path, keys: tuple[str, ...], fmt: str) -> None:
    """Require COUNT signatures for ROLE."""
    commit, _ = write(
        repo, keys, f"docket: policy threshold {role}={count}", lambda tx: policy_ops.set_threshold(tx, role, count)
    )
    done(fmt, f"{role} now needs {count} signature(s)", commit)


@policy.command("expires")
@click.argument("when", metavar="TIME")
@dry_run_option
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


@policy.group("risk-rule")
def risk_rule() -> None:
    """Which agent changes need extra signatures (docs/diff.md#risk-rules): root changes them."""


@risk_rule.command("add")
@click.argument("name")
@click.option(
    "--kind",
    "kinds",
    multiple=True,
    metavar="KIND",
    help="A change kind that triggers the rule, e.g. tool_permission_added (repeat; docs/diff.md lists them).",
)
@click.option(
    "--at-least",
    type=click.Choice(["low", "medium", "high"]),
    help="Or: any change of this risk or higher triggers the rule.",
)
@click.option("--role", required=True, help="The role whose members must sign as well, e.g. security.")
@click.option("--signatures", type=click.IntRange(min=1), default=1, show_default=True, help="How many of its members.")
@click.option(
    "--on",
    "actions",
    multiple=True,
    type=click.Choice(["freeze", "promote"]),
    help="Where the rule applies (repeat); default: both.",
)
@dry_run_option
@writer
def risk_rule_add(
    name: str,
    kinds: tuple[str, ...],
    at_least: str | None,
    role: str,
    signatures: int,
    actions: tuple[str, ...],
    repo: Path,
    keys: tuple[str, ...],
    fmt: str,
) -> None:
    """Add risk rule NAME (or replace the rule of that name): a freeze or promotion whose diff holds
    a change of --kind (or of --at-least that risk) needs --signatures more signatures from --role.

    \b
    gitdocket policy risk-rule add new-capabilities --role security \\
      --kind tool_added --kind tool_permission_added --kind egress_widened --kind posture_widened
    """
    if not kinds and not at_least:
        raise click.UsageError("a risk rule needs a trigger: pass --kind KIND (repeat) or --at-least RISK")
    fields: dict[str, object] = {"name": name, "kinds": kinds, "role": role, "signatures": signatures}
    if at_least:
        fields["at_least"] = at_least
    if actions:
        fields["on"] = actions
    commit, _ = write(repo, keys, f"docket: policy risk rule {name}", lambda tx: policy_ops.add_risk_rule(tx, fields))
    done(fmt, f"Risk rule {name} now needs {signatures} signature(s) by {role}", commit)


@risk_rule.command("remove")
@click.argument("name")
@dry_run_option
@writer
def risk_rule_remove(name: str, repo: Path, keys: tuple[str, ...], fmt: str) -> None:
    """Remove risk rule NAME."""
    commit, _ = write(
        repo, keys, f"docket: policy remove risk rule {name}", lambda tx: policy_ops.remove_risk_rule(tx, name)
    )
    done(fmt, f"Removed risk rule {name}", commit)


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
    text = policy_ops.allowed_signers(load_log(Session(repo).snapshot(rev), POLICY_SCOPE).state)
    if output:
        write_file(output, text.encode(), "--output names a regular file; leave it out to print to standard output")
    else:
        click.echo(text, nl=False)
