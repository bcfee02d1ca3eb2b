"""Trust-policy operations and git's allowed_signers file.

Keyless identities (ADR 0022): ``github_identity`` turns ``OWNER/REPO/.github/workflows/F.yml@REF``
into the issuer, certificate identity and pinned claims of that workflow's Fulcio certificates;
``pin_root`` writes a Sigstore trusted root under the policy and pins its digest in one signed
event (ADR 0023).
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

from gitdocket.adapters.keyless import load_root
from gitdocket.core import sshsig
from gitdocket.core.canonical import sha256_hex
from gitdocket.core.fields import format_time, parse_time
from gitdocket.core.model import validate
from gitdocket.errors import InputError, NotFoundError, TrustError
from gitdocket.lifecycles.policy import CLAIMS, POLICY_SCOPE, Identity, PolicyState, trusted_root_path
from gitdocket.lifecycles.risk import RiskRule
from gitdocket.ops.transaction import Transaction

__all__ = [
    "GITHUB_ISSUER",
    "add_identity",
    "add_keyless_identity",
    "add_risk_rule",
    "allowed_signers",
    "github_identity",
    "grant",
    "parse_claims",
    "parse_expiry",
    "pin_root",
    "production_root",
    "remove_risk_rule",
    "revoke",
    "set_expiry",
    "set_threshold",
]

GITHUB_ISSUER = "https://token.actions.githubusercontent.com"
_WORKFLOW_RE = re.compile(
    r"^(?P<repo>[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+)/(?P<path>\.github/workflows/[A-Za-z0-9_./-]+\.ya?ml)@(?P<ref>refs/[^\s@]+)$"
)


def add_identity(tx: Transaction, name: str, public_key: str) -> None:
    try:
        sshsig.parse_public_key(public_key)
    except ValueError as exc:
        raise InputError(f"public key for {name}: {exc}", "pass the contents of an ed25519 .pub file") from exc
    identity = Identity(name=name, kind="ssh", public_key=" ".join(public_key.split()[:2]))
    tx.apply(POLICY_SCOPE, "AddIdentity", {"identity": identity.model_dump(mode="json")})


def github_identity(workflow: str) -> tuple[str, str, dict[str, str]]:
    """(issuer, certificate identity, claims) of GitHub Actions runs of ``workflow``
    (``OWNER/REPO/.github/workflows/FILE.yml@refs/heads/BRANCH``): its Fulcio certificates name
    the workflow ref URI as identity and build config, the repository and the ref."""
    found = _WORKFLOW_RE.fullmatch(workflow.strip())
    if found is None:
        raise InputError(
            f"--github-workflow {workflow!r} is not OWNER/REPO/.github/workflows/FILE.yml@REF",
            "e.g. --github-workflow acme/registry/.github/workflows/deployment-promote.yml@refs/heads/main",
        )
    repository = f"https://github.com/{found['repo']}"
    uri = f"{repository}/{found['path']}@{found['ref']}"
    return GITHUB_ISSUER, uri, {"repository": repository, "workflow": uri, "ref": found["ref"]}


def parse_claims(pairs: tuple[str, ...]) -> dict[str, str]:
    """``--claim k=v`` options as a dict; names from ``lifecycles.policy.CLAIMS``."""
    claims: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not value or name not in CLAIMS:
            raise InputError(
                f"--claim {pair!r} is not NAME=VALUE with a known claim",
                f"claims: {', '.join(CLAIMS)}",
            )
        claims[name] = value
    return claims


def add_keyless_identity(tx: Transaction, name: str, issuer: str, subject: str, claims: dict[str, str]) -> None:
    """Add a Sigstore identity; one that pins no claim is refused (IDENTITY_PINNED)."""
    identity = {"name": name, "kind": "sigstore", "issuer": issuer, "subject": subject, "claims": claims}
    tx.apply(POLICY_SCOPE, "AddIdentity", {"identity": identity})


def production_root() -> tuple[bytes, str]:
    """The production trusted root shipped in the installed sigstore wheel, and where it is."""
    import sigstore

    path = Path(sigstore.__file__).parent / "_store" / "https%3A%2F%2Ftuf-repo-cdn.sigstore.dev" / "trusted_root.json"
    try:
        return path.read_bytes(), str(path)
    except OSError as exc:
        raise InputError(
            f"the sigstore package ships no trusted root at {path}", "pass a trusted_root.json: pin-root FILE"
        ) from exc


def pin_root(tx: Transaction, raw: bytes, source: str) -> str:
    """Write ``raw`` (a ``trusted_root.json``) under the policy and pin its digest; returns it."""
    try:
        load_root(raw)
    except TrustError as exc:
        raise InputError(f"{source}: {exc.message}", "pass a Sigstore trusted_root.json") from exc
    digest = "sha256:" + sha256_hex(raw)
    tx.apply(POLICY_SCOPE, "PinTrustedRoot", {"digest": digest})
    tx.put(trusted_root_path(digest), raw)
    return digest


def grant(tx: Transaction, role: str, principal: str, threshold: int | None = None) -> None:
    tx.apply(POLICY_SCOPE, "GrantRole", {"role": role, "principal": principal, "threshold": threshold})


def revoke(tx: Transaction, role: str, principal: str) -> None:
    tx.apply(POLICY_SCOPE, "RevokeRole", {"role": role, "principal": principal})


def set_threshold(tx: Transaction, role: str, threshold: int) -> None:
    tx.apply(POLICY_SCOPE, "SetThreshold", {"role": role, "threshold": threshold})


def add_risk_rule(tx: Transaction, fields: dict[str, object]) -> RiskRule:
    """Add (or replace, by name) a risk rule; the policy refuses one it could never meet."""
    rule = validate(RiskRule, fields, "the risk rule")
    kept = [r for r in tx.policy.risk_rules if r.name != rule.name]
    rules = sorted([*kept, rule], key=lambda r: r.name)
    tx.apply(POLICY_SCOPE, "SetRiskRules", {"rules": [r.model_dump(mode="json") for r in rules]})
    return rule


def remove_risk_rule(tx: Transaction, name: str) -> None:
    if name not in {r.name for r in tx.policy.risk_rules}:
        raise NotFoundError(f"no risk rule {name!r}", "see `gitdocket policy show`")
    rules = [r.model_dump(mode="json") for r in tx.policy.risk_rules if r.name != name]
    tx.apply(POLICY_SCOPE, "SetRiskRules", {"rules": rules})


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
    tx.apply(POLICY_SCOPE, "SetExpiry", {"expires": stamp})
    return stamp


def allowed_signers(policy: PolicyState) -> str:
    """git's ``gpg.ssh.allowedSignersFile`` for every SSH identity, limited to the git namespace."""
    lines = [
        f'{i.name} namespaces="git" {i.public_key}'
        for i in sorted(policy.identities.values(), key=lambda i: i.name)
        if i.kind == "ssh" and i.public_key
    ]
    return "".join(line + "\n" for line in lines)
