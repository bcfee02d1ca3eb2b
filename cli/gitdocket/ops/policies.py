"""Trust-policy operations and git's allowed_signers file."""

from __future__ import annotations

from datetime import datetime

from gitdocket.core import sshsig
from gitdocket.core.fields import format_time, parse_time
from gitdocket.core.model import validate
from gitdocket.errors import InputError, NotFoundError
from gitdocket.lifecycles.policy import Identity, PolicyState
from gitdocket.lifecycles.risk import RiskRule
from gitdocket.ops.transaction import POLICY, Transaction

__all__ = [
    "add_identity",
    "add_risk_rule",
    "allowed_signers",
    "grant",
    "parse_expiry",
    "remove_risk_rule",
    "revoke",
    "set_expiry",
    "set_threshold",
]


def add_identity(tx: Transaction, name: str, public_key: str) -> None:
    try:
        sshsig.parse_public_key(public_key)
    except ValueError as exc:
        raise InputError(f"public key for {name}: {exc}", "pass the contents of an ed25519 .pub file") from exc
    identity = Identity(name=name, kind="ssh", public_key=" ".join(public_key.split()[:2]))
    tx.apply(POLICY, "AddIdentity", {"identity": identity.model_dump(mode="json")})


def grant(tx: Transaction, role: str, principal: str, threshold: int | None = None) -> None:
    tx.apply(POLICY, "GrantRole", {"role": role, "principal": principal, "threshold": threshold})


def revoke(tx: Transaction, role: str, principal: str) -> None:
    tx.apply(POLICY, "RevokeRole", {"role": role, "principal": principal})


def set_threshold(tx: Transaction, role: str, threshold: int) -> None:
    tx.apply(POLICY, "SetThreshold", {"role": role, "threshold": threshold})


def add_risk_rule(tx: Transaction, fields: dict[str, object]) -> RiskRule:
    """Add (or replace, by name) a risk rule; the policy refuses one it could never meet."""
    rule = validate(RiskRule, fields, "the risk rule")
    kept = [r for r in tx.policy.risk_rules if r.name != rule.name]
    rules = sorted([*kept, rule], key=lambda r: r.name)
    tx.apply(POLICY, "SetRiskRules", {"rules": [r.model_dump(mode="json") for r in rules]})
    return rule


def remove_risk_rule(tx: Transaction, name: str) -> None:
    if name not in {r.name for r in tx.policy.risk_rules}:
        raise NotFoundError(f"no risk rule {name!r}", "see `gitdocket policy show`")
    rules = [r.model_dump(mode="json") for r in tx.policy.risk_rules if r.name != name]
    tx.apply(POLICY, "SetRiskRules", {"rules": rules})


def parse_expiry(text: str) -> datetime | None:
    """``never`` (no expiry) or an RFC 3339 time with a zone; ``InputError`` otherwise."""
    if text.strip().lower() == "never":
        return None
    try:
        return parse_time(text)
    except ValueError as exc:
        raise InputError(
            f"policy expiry {text!r} is not an RFC 3339 time with a zone, nor 'never'",
            "use e.g. 2027-01-01T00:00:00Z, or `never`",
        ) from exc


def set_expiry(tx: Transaction, expires: datetime | None) -> str | None:
    """Set (or clear, with None) the policy's expiry; it must lie after the transaction's clock,
    or the policy would expire the moment it is written."""
    stamp = None if expires is None else format_time(expires)
    if stamp is not None and stamp <= format_time(tx.at):
        raise InputError(
            f"policy expiry {stamp} is not after now ({format_time(tx.at)})", "pass a later time, or `never`"
        )
    tx.apply(POLICY, "SetExpiry", {"expires": stamp})
    return stamp


def allowed_signers(policy: PolicyState) -> str:
    """git's ``gpg.ssh.allowedSignersFile`` for every SSH identity, limited to the git namespace."""
    lines = [
        f'{i.name} namespaces="git" {i.public_key}'
        for i in sorted(policy.identities.values(), key=lambda i: i.name)
        if i.kind == "ssh" and i.public_key
    ]
    return "".join(line + "\n" for line in lines)
