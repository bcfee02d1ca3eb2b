"""The trust policy as a lifecycle of its own (TUF-style): identities, roles, thresholds, a
version that strictly increases with every change, and an optional expiry.

Role names: ``root`` (changes the policy), ``authors`` (create archetypes), ``builders``
(bundles), ``promoters`` / ``promoters:<env>``, ``admins:<project>``, ``holders:<project>``,
``authorities:<project>``. A role with a ``:suffix`` falls back to the bare role when the suffixed
one is not defined. Archetype ``owners:<a>`` live in the archetype scope, not here.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import Field, model_validator

from gitdocket.core.fields import Principal, Timestamp
from gitdocket.core.model import Record
from gitdocket.core.scopes import Scope
from gitdocket.errors import InvariantError
from gitdocket.lifecycles.machine import Invariant, Machine, Transition

__all__ = [
    "LIFECYCLE",
    "ROLE_RE",
    "Identity",
    "PolicyState",
    "Role",
    "expired",
    "lookup_role",
    "renews_expiry",
]

ROLE_RE = re.compile(r"^(root|authors|builders|promoters|admins|holders|authorities)(:[a-z0-9][a-z0-9-]*)?$")


class Identity(Record):
    name: Principal
    kind: Literal["ssh", "sigstore"]
    public_key: str | None = None
    issuer: str | None = None
    subject: str | None = None
    claims: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _complete(self) -> Identity:
        if self.kind == "ssh" and not (self.public_key or "").startswith("ssh-ed25519 "):
            raise ValueError("an ssh identity needs public_key 'ssh-ed25519 AAAA…'")
        if self.kind == "sigstore" and not (self.issuer and self.subject):
            raise ValueError("a sigstore identity needs issuer and subject")
        return self


class Role(Record):
    principals: tuple[str, ...] = ()
    threshold: int = Field(default=1, ge=1)


class PolicyState(Record):
    phase: Literal["none", "active"] = "none"
    version: int = 0
    expires: str | None = None
    identities: dict[str, Identity] = Field(default_factory=dict)
    roles: dict[str, Role] = Field(default_factory=dict)


class InitData(Record):
    identities: tuple[Identity, ...]
    roles: dict[str, Role]
    expires: Timestamp | None = None


class IdentityData(Record):
    identity: Identity


class NameData(Record):
    name: str


class GrantData(Record):
    role: str
    principal: str
    threshold: int | None = Field(default=None, ge=1)


class RevokeData(Record):
    role: str
    principal: str


class ThresholdData(Record):
    role: str
    threshold: int = Field(ge=1)


class ExpiryData(Record):
    expires: Timestamp | None


TRANSITIONS = (
    Transition(
        "InitPolicy",
        "policy_initialized",
        ("none",),
        "active",
        InitData,
        role="root",
        doc="create the policy with its first root identity",
    ),
    Transition(
        "AddIdentity",
        "identity_added",
        ("active",),
        None,
        IdentityData,
        role="root",
        doc="add a signing identity (SSH key or Sigstore identity)",
    ),
    Transition(
        "RemoveIdentity",
        "identity_removed",
        ("active",),
        None,
        NameData,
        role="root",
        doc="remove an identity that holds no role",
    ),
    Transition(
        "GrantRole",
        "role_granted",
        ("active",),
        None,
        GrantData,
        role="root",
        doc="give a principal a role (optionally set the threshold)",
    ),
    Transition(
        "RevokeRole", "role_revoked", ("active",), None, RevokeData, role="root", doc="take a role from a principal"
    ),
    Transition(
        "SetThreshold",
        "threshold_set",
        ("active",),
        None,
        ThresholdData,
        role="root",
        doc="change how many signatures a role needs",
    ),
    Transition(
        "SetExpiry", "expiry_set", ("active",), None, ExpiryData, role="root", doc="change when the policy expires"
    ),
)


def _check_roles(state: PolicyState) -> None:
    for name, role in state.roles.items():
        if not ROLE_RE.fullmatch(name):
            raise InvariantError(
                f"policy: unknown role {name!r}",
                "ROLE_NAME_VALID",
                "roles: root, authors, builders, promoters[:env], admins:<project>, "
                "holders:<project>, authorities:<project>",
            )
        for principal in role.principals:
            if principal not in state.identities:
                raise InvariantError(
                    f"policy: role {name} names unknown identity {principal!r}",
                    "ROLE_MEMBERS_KNOWN",
                    "add the identity first",
                )
        if role.threshold > len(role.principals):
            raise InvariantError(
                f"policy: role {name} needs {role.threshold} signatures but has {len(role.principals)} member(s)",
                "THRESHOLD_REACHABLE",
            )
    root = state.roles.get("root")
    if root is None or not root.principals:
        raise InvariantError("policy: the root role must keep at least one member", "ROOT_NOT_EMPTY")


def _ssh_key(identity: Identity) -> str | None:
    if identity.kind != "ssh" or not identity.public_key:
        return None
    return " ".join(identity.public_key.split()[:2])


def _keys_unique(state: PolicyState) -> bool:
    keys = [k for k in map(_ssh_key, state.identities.values()) if k]
    return len(keys) == len(set(keys))


def _check_identities(state: PolicyState, data: Any) -> None:
    """One principal per key: a threshold counts principals, so two names on one key would let
    one key holder sign twice."""
    if isinstance(data, InitData) and len({i.name for i in data.identities}) < len(data.identities):
        raise InvariantError("policy: an identity is listed twice", "IDENTITY_UNIQUE")
    holder: dict[str, str] = {}
    for identity in sorted(state.identities.values(), key=lambda i: i.name):
        key = _ssh_key(identity)
        if key is None:
            continue
        if key in holder:
            raise InvariantError(
                f"policy: identities {holder[key]} and {identity.name} share one SSH key",
                "IDENTITY_UNIQUE",
                "give every principal its own key",
            )
        holder[key] = identity.name


def _next(state: PolicyState, row: Transition, data: Any) -> PolicyState:
    """The policy after ``row`` with ``data``: shared by guard (to check) and apply."""
    identities = dict(state.identities)
    roles = dict(state.roles)
    expires = state.expires
    if isinstance(data, InitData):
        identities = {i.name: i for i in data.identities}
        roles = dict(data.roles)
        expires = data.expires
    elif isinstance(data, IdentityData):
        identities[data.identity.name] = data.identity
    elif isinstance(data, NameData):
        identities.pop(data.name, None)
    elif isinstance(data, GrantData):
        role = roles.get(data.role, Role())
        principals = tuple(sorted({*role.principals, data.principal}))
        roles[data.role] = Role(principals=principals, threshold=data.threshold or role.threshold)
    elif isinstance(data, RevokeData):
        role = roles.get(data.role, Role())
        principals = tuple(p for p in role.principals if p != data.principal)
        if principals:
            roles[data.role] = role.model_copy(update={"principals": principals})
        else:
            roles.pop(data.role, None)
    elif isinstance(data, ThresholdData):
        role = roles.get(data.role, Role())
        roles[data.role] = role.model_copy(update={"threshold": data.threshold})
    elif isinstance(data, ExpiryData):
        expires = data.expires
    return state.model_copy(
        update={"identities": identities, "roles": roles, "expires": expires, "version": state.version + 1}
    )


def _guard_grant(state: PolicyState, data: GrantData) -> None:
    """A grant must change something: a new member, or a new threshold."""
    role = state.roles.get(data.role)
    if role is not None and data.principal in role.principals and data.threshold in (None, role.threshold):
        raise InvariantError(
            f"policy: {data.principal} already holds {data.role}",
            "ROLE_ALREADY_HELD",
            f"nothing to change; to change the threshold run `gitdocket policy threshold {data.role} N`",
        )


def _guard_revoke(state: PolicyState, data: RevokeData) -> None:
    """A revoke never lowers a threshold behind the signers' backs: it must stay reachable."""
    role = state.roles.get(data.role)
    if role is None or data.principal not in role.principals:
        raise InvariantError(f"policy: {data.principal} does not hold {data.role}", "ROLE_HELD")
    left = len(role.principals) - 1
    if 0 < left < role.threshold:
        raise InvariantError(
            f"policy: revoking {data.principal} would leave {data.role} with {left} member(s) "
            f"for a threshold of {role.threshold}",
            "THRESHOLD_REACHABLE",
            f"lower the threshold first: `gitdocket policy threshold {data.role} {left}`",
        )


def _guard(state: PolicyState, row: Transition, data: Any) -> None:
    if isinstance(data, GrantData):
        _guard_grant(state, data)
    if isinstance(data, RevokeData):
        _guard_revoke(state, data)
    if isinstance(data, IdentityData) and data.identity.name in state.identities:
        raise InvariantError(f"policy: identity {data.identity.name!r} already exists", "IDENTITY_UNIQUE")
    if isinstance(data, NameData):
        if data.name not in state.identities:
            raise InvariantError(f"policy: no identity {data.name!r}", "IDENTITY_KNOWN")
        held = [r for r, role in state.roles.items() if data.name in role.principals]
        if held:
            raise InvariantError(
                f"policy: {data.name} still holds {', '.join(held)}", "ROLE_MEMBERS_KNOWN", "revoke those roles first"
            )
    if isinstance(data, ThresholdData) and data.role not in state.roles:
        raise InvariantError(f"policy: no role {data.role!r}", "ROLE_HELD")
    after = _next(state, row, data)
    _check_identities(after, data)
    _check_roles(after)


def _initial(_scope: Scope) -> PolicyState:
    return PolicyState()


def expired(state: PolicyState, at: str) -> bool:
    """True when ``state`` has an expiry and ``at`` (``YYYY-MM-DDTHH:MM:SSZ``) is not before it:
    a policy is in force strictly before its expiry (TUF: expired when ``expires <= now``)."""
    return state.expires is not None and at >= state.expires


def renews_expiry(target: Scope, event_type: str, data: dict[str, Any], at: str) -> bool:
    """True for the one change an expired policy still accepts: the policy's expiry set at
    ``at`` to a later time or to never (root signs it, like every policy change)."""
    if target.kind != "policy" or event_type != "expiry_set":
        return False
    expires = data.get("expires")
    return expires is None or (isinstance(expires, str) and expires > at)


def lookup_role(state: PolicyState, name: str) -> Role | None:
    """The role ``name``, falling back from ``promoters:prod`` to ``promoters``."""
    if name in state.roles:
        return state.roles[name]
    base = name.split(":", 1)[0]
    return state.roles.get(base) if base != name else None


LIFECYCLE: Machine[PolicyState] = Machine(
    kind="policy",
    state=PolicyState,
    initial=_initial,
    transitions=TRANSITIONS,
    guard=_guard,
    apply=_next,
    invariants=(
        Invariant(
            "POLICY_VERSION_INCREASES",
            "structural",
            "every policy change increases the version by exactly one",
            lambda s: s.phase == "none" or s.version >= 1,
        ),
        Invariant(
            "ROOT_NOT_EMPTY",
            "structural",
            "the root role always has a member",
            lambda s: s.phase == "none" or bool(s.roles.get("root", Role()).principals),
        ),
        Invariant("IDENTITY_UNIQUE", "structural", "no two identities share a name or an SSH key", _keys_unique),
        Invariant(
            "THRESHOLD_REACHABLE",
            "structural",
            "no role needs more signatures than it has members",
            lambda s: all(r.threshold <= len(r.principals) for r in s.roles.values()),
        ),
    ),
)
