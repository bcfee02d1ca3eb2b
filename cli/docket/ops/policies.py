"""Trust-policy operations and git's allowed_signers file."""

from __future__ import annotations

from docket import sshsig
from docket.errors import InputError
from docket.lifecycles.policy import Identity, PolicyState
from docket.transaction import POLICY, Transaction

__all__ = ["add_identity", "allowed_signers", "grant", "revoke", "set_threshold"]


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


def allowed_signers(policy: PolicyState) -> str:
    """git's ``gpg.ssh.allowedSignersFile`` for every SSH identity, limited to the git namespace."""
    lines = [
        f'{i.name} namespaces="git" {i.public_key}'
        for i in sorted(policy.identities.values(), key=lambda i: i.name)
        if i.kind == "ssh" and i.public_key
    ]
    return "".join(line + "\n" for line in lines)
