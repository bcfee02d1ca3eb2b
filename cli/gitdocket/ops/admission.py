"""Run-admission tokens: issue one from the registry's verdict, check one against the registry.

``issue`` reads the verdict ``run-check`` gives (``entitlements.run_check``) and signs a token
only when it is Active, with a key of an entitlement authority of the project; nothing is
written (a token is a signed statement, not a record). ``verify_token`` decodes a token and asks
``admission.check_token`` with the registry's policy and its verdict now. ``allowed_signers``
writes what a runtime without the registry needs to check the signature with ``ssh-keygen``.
No printing.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from gitdocket.core import sshsig
from gitdocket.core.canonical import canonical
from gitdocket.core.log import SshSignature
from gitdocket.core.sshsig import Signer
from gitdocket.core.tree import TreeView
from gitdocket.errors import InvariantError, NotFoundError, TrustError
from gitdocket.lifecycles import scope
from gitdocket.lifecycles.admission import (
    NAMESPACE,
    AdmissionClaims,
    AdmissionToken,
    EntitlementClaim,
    check_token,
    claims_for,
    decode,
    issuer_role,
)
from gitdocket.lifecycles.invariants import ADMISSION_REQUIRES_ACTIVE_ENTITLEMENT
from gitdocket.lifecycles.policy import POLICY_SCOPE, PolicyState, holder_of, lookup_role
from gitdocket.ops.documents import registry_config
from gitdocket.ops.entitlements import run_check
from gitdocket.ops.logs import load_log

__all__ = ["allowed_signers", "issue", "verify_token"]


def _principal(policy: PolicyState, signer: Signer) -> str:
    holder = holder_of(policy, sshsig.public_key_line(signer.public_key))
    if holder is not None:
        return holder
    raise TrustError(
        f"signing key {sshsig.fingerprint(signer.public_key)} is not in the policy",
        "sign with the key of an entitlement authority of the project",
    )


def issue(
    tree: TreeView, signer: Signer, project: str, name: str, audience: str, ttl: timedelta, at: datetime
) -> AdmissionToken:
    """A token for ``project/name`` and ``audience``, valid from ``at`` for ``ttl``; refused
    unless the verdict at ``at`` is Active and ``signer`` is an authority of the project."""
    address = f"{project}/{name}"
    verdict = run_check(tree, project, name, at)
    if not verdict.eligible:
        raise InvariantError(
            f"cannot admit a run of {address}: run-check says {verdict.label}: {verdict.detail}",
            ADMISSION_REQUIRES_ACTIVE_ENTITLEMENT,
            f"see why: `gitdocket run-check {address}`",
        )
    policy = load_log(tree, POLICY_SCOPE).state
    issuer = _principal(policy, signer)
    role = lookup_role(policy, issuer_role(address))
    if role is None or issuer not in role.principals:
        raise TrustError(
            f"cannot admit a run of {address}: {issuer} is not an entitlement authority of {project}",
            f"sign with an {issuer_role(address)} key (`--key`)",
        )
    placement = load_log(tree, scope("placement", project, name)).state
    entitlement = load_log(tree, scope("entitlement", project, name))
    assert placement.pin is not None and entitlement.head is not None  # an Active verdict has both
    claims = claims_for(
        registry=registry_config(tree).name,
        commit=tree.commit or "0" * 40,
        placement=address,
        pin=placement.pin,
        entitlement=EntitlementClaim(
            verdict="Active",
            expires_at=entitlement.state.expires_at,
            seq=len(entitlement.events),
            head=entitlement.head,
        ),
        audience=audience,
        at=at,
        ttl=ttl,
        issuer=issuer,
    )
    sig = signer.sign(canonical(claims.model_dump(mode="json")), NAMESPACE).decode("ascii")
    return AdmissionToken(claims=claims, signature=SshSignature(kind="sshsig", principal=issuer, sig=sig))


def verify_token(
    tree: TreeView | None, text: str, audience: str, at: datetime, placement: str | None = None
) -> AdmissionClaims:
    """Check ``text`` against the registry in ``tree``: its policy signs off the issuer, and
    the placement's verdict at ``at`` must still be Active for the same content."""
    token = decode(text)
    if tree is None:
        raise NotFoundError("no registry to check the token against", "pass --repo")
    project, name = token.claims.placement.split("/", 1)
    policy = load_log(tree, POLICY_SCOPE).state
    pin = load_log(tree, scope("placement", project, name)).state.pin
    return check_token(token, policy, audience, at, placement, (run_check(tree, project, name, at), pin))


def allowed_signers(tree: TreeView, project: str) -> str:
    """ssh-keygen's allowed-signers lines for the project's entitlement authorities, limited to
    the run-admission namespace: what a runtime checks a token's signature with."""
    policy = load_log(tree, POLICY_SCOPE).state
    role = lookup_role(policy, f"authorities:{project}")
    lines = []
    for principal in sorted(role.principals if role is not None else ()):
        identity = policy.identities.get(principal)
        if identity is not None and identity.kind == "ssh" and identity.public_key:
            lines.append(f'{principal} namespaces="{NAMESPACE}" {" ".join(identity.public_key.split()[:2])}\n')
    return "".join(lines)
