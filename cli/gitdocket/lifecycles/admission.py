"""Signed run-admission tokens (seed 000's key-release gate, ADR 0048 in its origin; seed 004's
boundary checks): the entitlement verdict, signed and expiring, for one audience.

``gitdocket admit-run`` issues a token only when the verdict is Active; a runtime accepts it only
with a valid signature by an entitlement authority of the placement's project, for its own
audience and placement, before its expiry — and, given the registry, only while the entitlement
still is Active (a token replayed after a suspension is refused). The token is a published
contract (``run_admission_token_v1``): ``gdrat1.`` + base64url (no padding) of the canonical JSON
``{"claims": …, "signature": …}``, the signature an SSHSIG over the claims' canonical JSON in
namespace ``gitdocket-run-admission``, so ``ssh-keygen -Y verify`` checks it too.

``check_token`` is the one rule both the command and any Python runtime call. Pure: the clock,
the policy and the current verdict are arguments.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from datetime import datetime, timedelta
from typing import Literal, NoReturn

from pydantic import Field, ValidationError

from gitdocket.core import sshsig
from gitdocket.core.canonical import canonical, loads_strict
from gitdocket.core.fields import Digest, Name, Principal, Semver, Timestamp, format_time, parse_time
from gitdocket.core.log import SshSignature
from gitdocket.core.model import Record, first_error
from gitdocket.errors import DocketError, InputError, Invariant, InvariantError, TrustError
from gitdocket.lifecycles.eligibility import Verdict
from gitdocket.lifecycles.invariants import ADMISSION_REQUIRES_ACTIVE_ENTITLEMENT, ADMISSION_TOKEN_BOUND
from gitdocket.lifecycles.placement import Pin
from gitdocket.lifecycles.policy import PolicyState, lookup_role

__all__ = [
    "MAX_TTL",
    "NAMESPACE",
    "PREFIX",
    "AdmissionClaims",
    "AdmissionToken",
    "EntitlementClaim",
    "check_audience",
    "check_token",
    "claims_for",
    "decode",
    "encode",
    "issuer_role",
    "parse_ttl",
]

NAMESPACE = "gitdocket-run-admission"
PREFIX = "gdrat1."
MAX_TTL = timedelta(hours=24)
"""The longest a token lives: a runtime re-asks at least daily (a suspension reaches it then even
when it cannot reach the registry)."""
_TTL = re.compile(r"^([1-9][0-9]{0,5})([smhd])$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_AUDIENCE = r"^[a-z0-9][a-z0-9.:_-]{0,127}$"
_PLACEMENT = r"^[a-z0-9][a-z0-9-]{0,62}/[a-z0-9][a-z0-9-]{0,62}$"
_MAX_TOKEN = 16 * 1024


class EntitlementClaim(Record):
    """The verdict the issuer saw, and the entitlement log line it judged."""

    verdict: Literal["Active"]
    expires_at: Timestamp | None
    seq: int = Field(ge=1)
    head: Digest


class AdmissionClaims(Record):
    contract: Literal["run_admission_token_v1"] = "run_admission_token_v1"
    id: str = Field(pattern=r"^[0-9a-f]{32}$")
    """Unique per registry commit, placement, audience, issuer and time of issue."""
    registry: str = Field(min_length=1)
    commit: str = Field(pattern=r"^[0-9a-f]{40}$")
    """The registry commit the verdict was read from."""
    placement: str = Field(pattern=_PLACEMENT)
    archetype: Name
    version: Semver
    content_hash: Digest
    vendor: Name | None = None
    entitlement: EntitlementClaim
    audience: str = Field(pattern=_AUDIENCE)
    issued_at: Timestamp
    expires_at: Timestamp
    issuer: Principal


class AdmissionToken(Record):
    """The ``run_admission_token_v1`` contract: claims and the issuer's signature over them."""

    claims: AdmissionClaims
    signature: SshSignature


def parse_ttl(text: str) -> timedelta:
    """``30s``, ``10m``, ``2h``, ``1d``: at most ``MAX_TTL``."""
    found = _TTL.fullmatch(text.strip())
    ttl = timedelta(seconds=int(found.group(1)) * _UNITS[found.group(2)]) if found else None
    if ttl is None or ttl > MAX_TTL:
        raise InputError(f"--ttl {text!r} is not a duration up to 24h", "e.g. --ttl 10m, --ttl 2h, --ttl 1d")
    return ttl


def check_audience(audience: str) -> str:
    """``audience`` as a token names it: lowercase letters, digits and ``.:_-``, up to 128."""
    if not re.fullmatch(_AUDIENCE, audience):
        raise InputError(
            f"invalid audience {audience!r}",
            "name the runtime with lowercase letters, digits, '.', ':', '_' and '-', e.g. runtime-eu",
        )
    return audience


def issuer_role(placement: str) -> str:
    """Who may issue (and sign) a token for ``placement``: its project's entitlement authorities."""
    return f"authorities:{placement.split('/', 1)[0]}"


def claims_for(
    *,
    registry: str,
    commit: str,
    placement: str,
    pin: Pin,
    entitlement: EntitlementClaim,
    audience: str,
    at: datetime,
    ttl: timedelta,
    issuer: str,
) -> AdmissionClaims:
    """The claims of a token issued at ``at`` for ``ttl``, never past the entitlement's expiry."""
    expires = at + ttl
    if entitlement.expires_at is not None:
        expires = min(expires, parse_time(entitlement.expires_at))
    issued = format_time(at)
    seed = "\n".join((registry, commit, placement, audience, issuer, issued, format_time(expires)))
    return AdmissionClaims(
        id=hashlib.sha256(seed.encode()).hexdigest()[:32],
        registry=registry,
        commit=commit,
        placement=placement,
        archetype=pin.archetype,
        version=pin.version,
        content_hash=pin.content_hash,
        vendor=pin.vendor,
        entitlement=entitlement,
        audience=audience,
        issued_at=issued,
        expires_at=format_time(expires),
        issuer=issuer,
    )


def encode(token: AdmissionToken) -> str:
    raw = canonical(token.model_dump(mode="json"))
    return PREFIX + base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def decode(text: str) -> AdmissionToken:
    """A token string as its model; ``InputError`` (bad input) for anything that is not one."""
    hint = "pass the whole token `gitdocket admit-run` printed (it starts with gdrat1.)"
    text = text.strip()
    if not text.startswith(PREFIX) or len(text) > _MAX_TOKEN:
        raise InputError("not a run-admission token", hint)
    body = text[len(PREFIX) :]
    try:
        raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        return AdmissionToken.model_validate(loads_strict(raw, "token"))
    except (binascii.Error, ValueError) as exc:
        why = first_error(exc, "token") if isinstance(exc, ValidationError) else "it does not decode (truncated?)"
        raise InputError(f"malformed run-admission token: {why}", hint) from exc
    except DocketError as exc:
        raise InputError(f"malformed run-admission token: {exc.message} (truncated?)", hint) from exc


def _refuse(claims: AdmissionClaims, why: str, rule: Invariant = ADMISSION_TOKEN_BOUND) -> NoReturn:
    raise InvariantError(
        f"cannot admit a run of {claims.placement}: {why}",
        rule,
        f"an authority of the project issues a new token: `gitdocket admit-run {claims.placement} "
        f"--audience {claims.audience} --ttl 10m`",
    )


def _check_signature(token: AdmissionToken, policy: PolicyState) -> None:
    claims = token.claims
    identity = policy.identities.get(claims.issuer)
    role = lookup_role(policy, issuer_role(claims.placement))
    if identity is None or identity.public_key is None or token.signature.principal != claims.issuer:
        _refuse(claims, f"its issuer {claims.issuer!r} is not an identity of the registry's policy")
    if role is None or claims.issuer not in role.principals:
        _refuse(claims, f"its issuer {claims.issuer} is not an entitlement authority of the project")
    try:
        key = sshsig.parse_public_key(identity.public_key)
        sshsig.verify(token.signature.sig.encode(), canonical(claims.model_dump(mode="json")), NAMESPACE, key)
    except (TrustError, ValueError) as exc:
        _refuse(claims, f"its signature does not verify ({getattr(exc, 'message', exc)})")


def check_token(
    token: AdmissionToken,
    policy: PolicyState,
    audience: str,
    at: datetime,
    placement: str | None = None,
    current: tuple[Verdict, Pin | None] | None = None,
) -> AdmissionClaims:
    """Accept ``token`` at ``at`` for ``audience`` (and ``placement``), or raise
    ``InvariantError``: signed by an entitlement authority of its project under ``policy``, for
    this audience and placement, issued by ``at`` and not expired; with ``current`` (the
    registry's verdict now and the placement's pin), the entitlement still Active for the same
    content (``ADMISSION_REQUIRES_ACTIVE_ENTITLEMENT``)."""
    claims = token.claims
    _check_signature(token, policy)
    if claims.audience != audience:
        _refuse(claims, f"it is for audience {claims.audience}, not {audience}")
    if placement is not None and claims.placement != placement:
        _refuse(claims, f"it is for placement {claims.placement}, not {placement}")
    stamp = format_time(at)
    if stamp >= claims.expires_at:
        _refuse(claims, f"it expired at {claims.expires_at}")
    if stamp < claims.issued_at:
        _refuse(claims, f"it is not valid before {claims.issued_at}")
    if current is not None:
        verdict, pin = current
        if not verdict.eligible:
            _refuse(
                claims,
                f"the registry now says {verdict.label}: {verdict.detail}",
                ADMISSION_REQUIRES_ACTIVE_ENTITLEMENT,
            )
        if pin is None or (pin.archetype, pin.version, pin.content_hash) != (
            claims.archetype,
            claims.version,
            claims.content_hash,
        ):
            _refuse(claims, "the placement now pins other content", ADMISSION_REQUIRES_ACTIVE_ENTITLEMENT)
    return claims
