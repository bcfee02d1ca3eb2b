"""The trust policy as a lifecycle of its own (TUF-style): identities, roles, thresholds, a
version that strictly increases with every change, and an optional expiry.

Role names: ``root`` (changes the policy), ``config`` (signs the registry's configuration; root
when nobody holds it), ``authors`` (create archetypes), ``builders``
(bundles), ``promoters`` / ``promoters:<env>``, ``admins:<project>``, ``holders:<project>``,
``authorities:<project>``, ``security`` (the extra approval risk rules ask for, ADR 0028). The
policy also holds the risk rules (``lifecycles.risk``), changed by root like the rest. A role
with a ``:suffix`` falls back to the bare role when the suffixed one is not defined. Archetype
``owners:<a>`` live in the archetype scope, not here.

A Sigstore identity (CI, keyless: ADR 0022) names an OIDC issuer, a certificate identity (the
SAN: for GitHub Actions the workflow ref URI) and the certificate claims it pins (``CLAIMS``);
the policy also pins the Sigstore trusted root its signatures are checked against
(``trusted_root``: the digest of ``registry/policy/trusted-roots/<hex>.json``, ADR 0023).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any, Literal

from pydantic import Field, model_validator

from gitdocket.core.fields import Digest, Principal, Timestamp
from gitdocket.core.model import Record
from gitdocket.core.scopes import Scope, scope
from gitdocket.errors import DocketError, Invariant, InvariantError
from gitdocket.lifecycles.invariants import THRESHOLD_REACHABLE
from gitdocket.lifecycles.machine import DataT, Machine, Transition
from gitdocket.lifecycles.risk import RiskRule, rule_problem
from gitdocket.lifecycles.vendors import PinVendorData, VendorRoot

__all__ = [
    "CLAIMS",
    "IDENTITY_KNOWN",
    "IDENTITY_PINNED",
    "IDENTITY_UNIQUE",
    "LIFECYCLE",
    "POLICY_SCOPE",
    "POLICY_VERSION_INCREASES",
    "RISK_RULE_SOUND",
    "ROLE_ALREADY_HELD",
    "ROLE_FALLBACK",
    "ROLE_HELD",
    "ROLE_MEMBERS_KNOWN",
    "ROLE_NAMES",
    "ROLE_NAME_VALID",
    "ROLE_RE",
    "ROOT_NOT_EMPTY",
    "TRUSTED_ROOT_DIR",
    "TRUSTED_ROOT_PINNED",
    "VENDOR_ROOT_PINNED",
    "Identity",
    "PolicyState",
    "Role",
    "accepts",
    "expired",
    "holder_of",
    "lookup_role",
    "policy_versions",
    "renews_expiry",
    "trusted_root_path",
]

ROLE_RE = re.compile(
    r"^(root|config|authors|builders|promoters|admins|holders|authorities|security)(:[a-z0-9][a-z0-9-]*)?$"
)
ROLE_FALLBACK = {"config": "root"}
"""A role nobody holds falls back to this one: configuration changes are root's unless the policy
grants ``config`` (ADR 0013)."""
POLICY_SCOPE: Scope[PolicyState] = scope("policy")
TRUSTED_ROOT_DIR = "registry/policy/trusted-roots"
"""Every Sigstore trusted root a policy version pinned, named by its digest: an event is judged
against the root of the policy it names, so rotating the root never orphans an old signature."""

CLAIMS: dict[str, str] = {
    "repository": "the source repository URI (https://github.com/OWNER/REPO)",
    "repository_id": "the numeric source repository id (survives a rename, not a re-creation)",
    "owner": "the source repository owner URI",
    "workflow": "the build config URI (the workflow file at its ref)",
    "ref": "the source repository ref (refs/heads/main)",
    "trigger": "the event that triggered the workflow (push, workflow_dispatch …)",
    "runner": "the runner environment (github-hosted)",
    "environment": "the Docket environment whose promotions and rollbacks alone this identity signs",
}
"""The claims a Sigstore identity may pin: every one but ``environment`` is a Fulcio certificate
extension checked offline; ``environment`` restricts the identity to one environment's scope
(Fulcio certificates carry no GitHub environment claim: pin a workflow file whose job runs in
that GitHub environment, and this claim, ADR 0022)."""


def trusted_root_path(digest: str) -> str:
    """Where the trusted root with ``digest`` (``sha256:<hex>``) lives in the registry."""
    return f"{TRUSTED_ROOT_DIR}/{digest.removeprefix('sha256:')}.json"


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
        unknown = sorted(set(self.claims) - set(CLAIMS))
        if unknown:
            raise ValueError(f"unknown claim {unknown[0]!r} (claims: {', '.join(CLAIMS)})")
        if self.kind == "ssh" and self.claims:
            raise ValueError("an ssh identity pins no certificate claims")
        return self

    @property
    def pinned(self) -> dict[str, str]:
        """The certificate claims this identity pins (all but ``environment``)."""
        return {k: v for k, v in self.claims.items() if k != "environment"}


class Role(Record):
    principals: tuple[str, ...] = ()
    threshold: int = Field(default=1, ge=1)


class PolicyState(Record):
    phase: Literal["none", "active"] = "none"
    version: int = 0
    expires: str | None = None
    identities: dict[str, Identity] = Field(default_factory=dict)
    roles: dict[str, Role] = Field(default_factory=dict)
    trusted_root: Digest | None = None
    risk_rules: tuple[RiskRule, ...] = Field(default=(), exclude_if=lambda rules: not rules)
    """Which agent changes need extra signatures (ADR 0028); left out of the record when none."""
    vendors: dict[str, VendorRoot] = Field(default_factory=dict, exclude_if=lambda pins: not pins)
    """Other registries whose records this one trusts, each under the root pinned here."""


class RiskRulesData(Record):
    rules: tuple[RiskRule, ...]


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


class RootData(Record):
    digest: Digest


POLICY_VERSION_INCREASES = Invariant(
    "POLICY_VERSION_INCREASES", "structural", "every policy change increases the version by exactly one"
)
ROOT_NOT_EMPTY = Invariant("ROOT_NOT_EMPTY", "structural", "the root role always has a member")
IDENTITY_UNIQUE = Invariant(
    "IDENTITY_UNIQUE", "structural", "no two identities share a name (in any case) or an SSH key"
)
IDENTITY_KNOWN = Invariant("IDENTITY_KNOWN", "structural", "only an identity the policy lists is removed")
ROLE_NAMES = (
    "root, config, authors, builders, promoters[:env], admins:<project>, holders:<project>, "
    "authorities:<project>, security"
)
"""Every role name ``ROLE_RE`` accepts, in words (for the rule and the hints that cite it)."""
ROLE_NAME_VALID = Invariant("ROLE_NAME_VALID", "structural", f"roles are {ROLE_NAMES}")
ROLE_MEMBERS_KNOWN = Invariant(
    "ROLE_MEMBERS_KNOWN", "structural", "every member of a role is an identity of the policy"
)
ROLE_HELD = Invariant("ROLE_HELD", "structural", "only a role that exists, held by that principal, is changed")
IDENTITY_PINNED = Invariant(
    "IDENTITY_PINNED",
    "policy",
    "a Sigstore identity pins at least one certificate claim besides its issuer and identity "
    "(repository, workflow, ref …): without one it trusts any workflow in the world",
)
TRUSTED_ROOT_PINNED = Invariant(
    "TRUSTED_ROOT_PINNED",
    "policy",
    "every Sigstore signature is checked offline against the trusted root the policy pins, a file "
    "changed only by a signed policy event",
)
RISK_RULE_SOUND = Invariant(
    "RISK_RULE_SOUND",
    "structural",
    "a risk rule names known change kinds or a risk level, and a role the policy holds with at least as "
    "many members as the signatures it requires",
)
VENDOR_ROOT_PINNED = Invariant(
    "VENDOR_ROOT_PINNED",
    "structural",
    "another registry's records are trusted only when they verify offline under the root the "
    "client's policy pins for that vendor; the pin changes only by a signed policy event",
)
ROLE_ALREADY_HELD = Invariant(
    "ROLE_ALREADY_HELD", "operational", "a grant changes something: a new member, or a new threshold"
)


def _check_roles(state: PolicyState) -> None:
    for name, role in state.roles.items():
        if not ROLE_RE.fullmatch(name):
            raise InvariantError(
                f"unknown role {name!r}",
                ROLE_NAME_VALID,
                f"roles: {ROLE_NAMES}",
            )
        for principal in role.principals:
            if principal not in state.identities:
                raise InvariantError(
                    f"role {name} names unknown identity {principal!r}",
                    ROLE_MEMBERS_KNOWN,
                    "add the identity first",
                )
        if role.threshold > len(role.principals):
            raise InvariantError(
                f"role {name} needs {role.threshold} signatures but has {len(role.principals)} member(s)",
                THRESHOLD_REACHABLE,
                f"grant {name} to more principals first, or lower the threshold",
            )
    _check_risk_rules(state)
    root = state.roles.get("root")
    if root is None or not root.principals:
        raise InvariantError(
            "the root role must keep at least one member", ROOT_NOT_EMPTY, "grant root to someone else first"
        )


def _check_risk_rules(state: PolicyState) -> None:
    """Every risk rule can be met: known kinds, and a role held by enough members."""
    names = [rule.name for rule in state.risk_rules]
    if len(names) != len(set(names)):
        raise InvariantError("two risk rules share a name", RISK_RULE_SOUND, "give every risk rule its own name")
    for rule in state.risk_rules:
        if not ROLE_RE.fullmatch(rule.role):
            raise InvariantError(
                f"risk rule {rule.name} names unknown role {rule.role!r}",
                ROLE_NAME_VALID,
                "name a role of the policy, e.g. security (`gitdocket policy grant security NAME`)",
            )
        role = lookup_role(state, rule.role)
        problem = rule_problem(rule, role.principals if role is not None else None)
        if problem is not None:
            raise InvariantError(
                problem,
                RISK_RULE_SOUND,
                f"grant {rule.role} first (`gitdocket policy grant {rule.role} NAME`), or change the rule",
            )


def _ssh_key(identity: Identity) -> str | None:
    if identity.kind != "ssh" or not identity.public_key:
        return None
    return " ".join(identity.public_key.split()[:2])


def holder_of(state: PolicyState, public_key_line: str) -> str | None:
    """The identity whose key ``public_key_line`` is (type and key; the comment may differ),
    None when the policy has none: who a signing key signs as."""
    wanted = " ".join(public_key_line.split()[:2])
    return next((i.name for i in state.identities.values() if _ssh_key(i) == wanted), None)


def _keys_unique(state: PolicyState) -> bool:
    keys = [k for k in map(_ssh_key, state.identities.values()) if k]
    return len(keys) == len(set(keys))


def _check_keys(state: PolicyState) -> None:
    """One principal per key: a threshold counts principals, so two names on one key would let
    one key holder sign twice. And one name per person: ``Alice`` and ``alice`` are one to a
    reader."""
    names: dict[str, str] = {}
    for name in sorted(state.identities):
        other = names.setdefault(name.casefold(), name)
        if other != name:
            raise InvariantError(
                f"identities {other} and {name} differ only in case",
                IDENTITY_UNIQUE,
                "give every principal its own name",
            )
    holder: dict[str, str] = {}
    for identity in sorted(state.identities.values(), key=lambda i: i.name):
        key = _ssh_key(identity)
        if key is None:
            continue
        if key in holder:
            raise InvariantError(
                f"identities {holder[key]} and {identity.name} share one SSH key",
                IDENTITY_UNIQUE,
                "give every principal its own key",
            )
        holder[key] = identity.name


def _changed(state: PolicyState, **update: Any) -> PolicyState:
    """Every change makes the next version (POLICY_VERSION_INCREASES)."""
    return state.model_copy(update={**update, "version": state.version + 1})


def _initialized(state: PolicyState, data: InitData) -> PolicyState:
    identities = {i.name: i for i in data.identities}
    return _changed(state, identities=identities, roles=dict(data.roles), expires=data.expires)


def _identity_added(state: PolicyState, data: IdentityData) -> PolicyState:
    return _changed(state, identities={**state.identities, data.identity.name: data.identity})


def _identity_removed(state: PolicyState, data: NameData) -> PolicyState:
    return _changed(state, identities={k: v for k, v in state.identities.items() if k != data.name})


def _granted(state: PolicyState, data: GrantData) -> PolicyState:
    role = state.roles.get(data.role, Role())
    principals = tuple(sorted({*role.principals, data.principal}))
    granted = Role(principals=principals, threshold=data.threshold or role.threshold)
    return _changed(state, roles={**state.roles, data.role: granted})


def _revoked(state: PolicyState, data: RevokeData) -> PolicyState:
    roles = dict(state.roles)
    role = roles.get(data.role, Role())
    principals = tuple(p for p in role.principals if p != data.principal)
    if principals:
        roles[data.role] = role.model_copy(update={"principals": principals})
    else:
        roles.pop(data.role, None)
    return _changed(state, roles=roles)


def _threshold_set(state: PolicyState, data: ThresholdData) -> PolicyState:
    role = state.roles.get(data.role, Role())
    return _changed(state, roles={**state.roles, data.role: role.model_copy(update={"threshold": data.threshold})})


def _expiry_set(state: PolicyState, data: ExpiryData) -> PolicyState:
    return _changed(state, expires=data.expires)


def _root_pinned(state: PolicyState, data: RootData) -> PolicyState:
    return _changed(state, trusted_root=data.digest)


def _check_root(state: PolicyState, data: RootData) -> None:
    if state.trusted_root == data.digest:
        raise InvariantError(
            f"the trusted root {data.digest} is pinned already",
            TRUSTED_ROOT_PINNED,
            "nothing to change; pin a refreshed trusted_root.json to rotate it",
        )


def _risk_rules_set(state: PolicyState, data: RiskRulesData) -> PolicyState:
    return _changed(state, risk_rules=data.rules)


def _vendor_pinned(state: PolicyState, data: PinVendorData) -> PolicyState:
    return _changed(state, vendors={**state.vendors, data.vendor: data.root})


def _check_pin(state: PolicyState, data: PinVendorData) -> None:
    if state.vendors.get(data.vendor) == data.root:
        raise InvariantError(
            f"vendor {data.vendor} is already pinned to that root", VENDOR_ROOT_PINNED, "nothing to do"
        )
    if data.root.threshold > len(data.root.keys):
        raise InvariantError(
            f"the root needs {data.root.threshold} signatures but lists {len(data.root.keys)} key(s)",
            THRESHOLD_REACHABLE,
            "pin the root file the vendor printed with `gitdocket vendor root`",
        )


def _holds_after(apply: Callable[[PolicyState, DataT], PolicyState]) -> Callable[[PolicyState, DataT], None]:
    """A guard: the policy after the change keeps its identities unique and its roles sound."""

    def check(state: PolicyState, data: DataT) -> None:
        after = apply(state, data)
        _check_keys(after)
        _check_roles(after)

    return check


def _check_init(state: PolicyState, data: InitData) -> None:
    if len({i.name for i in data.identities}) < len(data.identities):
        raise InvariantError("an identity is listed twice", IDENTITY_UNIQUE, "list every identity once")
    _holds_after(_initialized)(state, data)


def _check_new_identity(state: PolicyState, data: IdentityData) -> None:
    if data.identity.kind == "sigstore" and not data.identity.pinned:
        raise InvariantError(
            f"Sigstore identity {data.identity.name} pins no certificate claim",
            IDENTITY_PINNED,
            "pin the workflow: --github-workflow OWNER/REPO/.github/workflows/FILE.yml@refs/heads/BRANCH, "
            "or --claim repository=… --claim ref=…",
        )
    if data.identity.name in state.identities:
        raise InvariantError(
            f"identity {data.identity.name!r} already exists", IDENTITY_UNIQUE, "pick another name for the identity"
        )
    _holds_after(_identity_added)(state, data)


def _check_removal(state: PolicyState, data: NameData) -> None:
    if data.name not in state.identities:
        raise InvariantError(f"no identity {data.name!r}", IDENTITY_KNOWN, "see `gitdocket policy show`")
    held = [r for r, role in state.roles.items() if data.name in role.principals]
    if held:
        raise InvariantError(
            f"{data.name} still holds {', '.join(held)}", ROLE_MEMBERS_KNOWN, "revoke those roles first"
        )
    _holds_after(_identity_removed)(state, data)


def _check_grant(state: PolicyState, data: GrantData) -> None:
    """A grant must change something: a new member, or a new threshold."""
    role = state.roles.get(data.role)
    if role is not None and data.principal in role.principals and data.threshold in (None, role.threshold):
        raise InvariantError(
            f"{data.principal} already holds {data.role}",
            ROLE_ALREADY_HELD,
            f"nothing to change; to change the threshold run `gitdocket policy threshold {data.role} N`",
        )
    _holds_after(_granted)(state, data)


def _check_revoke(state: PolicyState, data: RevokeData) -> None:
    """A revoke never lowers a threshold behind the signers' backs: it must stay reachable."""
    role = state.roles.get(data.role)
    if role is None or data.principal not in role.principals:
        raise InvariantError(f"{data.principal} does not hold {data.role}", ROLE_HELD, "see `gitdocket policy show`")
    left = len(role.principals) - 1
    if 0 < left < role.threshold:
        raise InvariantError(
            f"revoking {data.principal} would leave {data.role} with {left} member(s) "
            f"for a threshold of {role.threshold}",
            THRESHOLD_REACHABLE,
            f"lower the threshold first: `gitdocket policy threshold {data.role} {left}`",
        )
    _holds_after(_revoked)(state, data)


def _check_threshold(state: PolicyState, data: ThresholdData) -> None:
    if data.role not in state.roles:
        raise InvariantError(f"no role {data.role!r}", ROLE_HELD, f"grant {data.role} first: `gitdocket policy grant`")
    _holds_after(_threshold_set)(state, data)


_INIT_FIRST = "create the policy first: `gitdocket init`"
TRANSITIONS: tuple[Transition[PolicyState, Any], ...] = (
    Transition(
        "InitPolicy",
        "policy_initialized",
        ("none",),
        "active",
        InitData,
        does="create",
        hint="change it with `gitdocket policy` instead",
        role="root",
        guard=_check_init,
        apply=_initialized,
        doc="create the policy with its first root identity",
    ),
    Transition(
        "AddIdentity",
        "identity_added",
        ("active",),
        None,
        IdentityData,
        does="add an identity to",
        hint=_INIT_FIRST,
        role="root",
        guard=_check_new_identity,
        apply=_identity_added,
        doc="add a signing identity (SSH key or Sigstore identity)",
    ),
    Transition(
        "RemoveIdentity",
        "identity_removed",
        ("active",),
        None,
        NameData,
        does="remove an identity from",
        hint=_INIT_FIRST,
        role="root",
        guard=_check_removal,
        apply=_identity_removed,
        doc="remove an identity that holds no role",
    ),
    Transition(
        "GrantRole",
        "role_granted",
        ("active",),
        None,
        GrantData,
        does="grant a role in",
        hint=_INIT_FIRST,
        role="root",
        guard=_check_grant,
        apply=_granted,
        doc="give a principal a role (optionally set the threshold)",
    ),
    Transition(
        "RevokeRole",
        "role_revoked",
        ("active",),
        None,
        RevokeData,
        does="revoke a role in",
        hint=_INIT_FIRST,
        role="root",
        guard=_check_revoke,
        apply=_revoked,
        doc="take a role from a principal",
    ),
    Transition(
        "SetThreshold",
        "threshold_set",
        ("active",),
        None,
        ThresholdData,
        does="change a threshold of",
        hint=_INIT_FIRST,
        role="root",
        guard=_check_threshold,
        apply=_threshold_set,
        doc="change how many signatures a role needs",
    ),
    Transition(
        "SetExpiry",
        "expiry_set",
        ("active",),
        None,
        ExpiryData,
        does="change the expiry of",
        hint=_INIT_FIRST,
        role="root",
        guard=_holds_after(_expiry_set),
        apply=_expiry_set,
        doc="change when the policy expires",
    ),
    Transition(
        "PinTrustedRoot",
        "trusted_root_pinned",
        ("active",),
        None,
        RootData,
        does="pin the Sigstore trusted root of",
        hint=_INIT_FIRST,
        role="root",
        guard=_check_root,
        apply=_root_pinned,
        doc="pin the Sigstore trusted root keyless signatures are checked against",
    ),
    Transition(
        "SetRiskRules",
        "risk_rules_set",
        ("active",),
        None,
        RiskRulesData,
        does="change the risk rules of",
        hint=_INIT_FIRST,
        role="root",
        guard=_holds_after(_risk_rules_set),
        apply=_risk_rules_set,
        doc="change which agent changes need extra signatures",
    ),
    Transition(
        "PinVendor",
        "vendor_pinned",
        ("active",),
        None,
        PinVendorData,
        does="pin a vendor root in",
        hint=_INIT_FIRST,
        role="root",
        guard=_check_pin,
        apply=_vendor_pinned,
        doc="trust another registry's records under its root (pin, or re-pin after the vendor rotated it)",
    ),
)


def _initial(_scope: Scope[Any]) -> PolicyState:
    return PolicyState()


def expired(state: PolicyState, at: str) -> bool:
    """True when ``state`` has an expiry and ``at`` (``YYYY-MM-DDTHH:MM:SSZ``) is not before it:
    a policy is in force strictly before its expiry (TUF: expired when ``expires <= now``)."""
    return state.expires is not None and at >= state.expires


def renews_expiry(target: Scope[Any], event_type: str, data: dict[str, Any], at: str) -> bool:
    """True for the one change an expired policy still accepts: the policy's expiry set at
    ``at`` to a later time or to never (root signs it, like every policy change)."""
    if target.kind != "policy" or event_type != "expiry_set":
        return False
    expires = data.get("expires")
    return expires is None or (isinstance(expires, str) and expires > at)


def accepts(state: PolicyState, target: Scope[Any], event_type: str, data: dict[str, Any], at: str) -> bool:
    """Whether ``state`` accepts an event written at ``at``: a policy in force accepts any, an
    expired one only its own renewal. The writers refuse what it does not accept; ``verify``
    reports it (``POLICY_EXPIRED``)."""
    return not expired(state, at) or renews_expiry(target, event_type, data, at)


def lookup_role(state: PolicyState, name: str) -> Role | None:
    """The role ``name``, falling back from ``promoters:prod`` to ``promoters``, and from a role
    nobody holds to its ``ROLE_FALLBACK`` (``config`` → ``root``)."""
    if name in state.roles:
        return state.roles[name]
    base = name.split(":", 1)[0]
    if base != name and base in state.roles:
        return state.roles[base]
    fallback = ROLE_FALLBACK.get(base)
    return state.roles.get(fallback) if fallback is not None else None


LIFECYCLE: Machine[PolicyState] = Machine(
    kind="policy",
    state=PolicyState,
    initial=_initial,
    subject=lambda _s: "the trust policy",
    phases={"none": "it does not exist yet", "active": "it exists already"},
    transitions=TRANSITIONS,
    invariants=(
        POLICY_VERSION_INCREASES,
        ROOT_NOT_EMPTY,
        IDENTITY_UNIQUE,
        IDENTITY_KNOWN,
        ROLE_NAME_VALID,
        ROLE_MEMBERS_KNOWN,
        ROLE_HELD,
        ROLE_ALREADY_HELD,
        IDENTITY_PINNED,
        TRUSTED_ROOT_PINNED,
        RISK_RULE_SOUND,
        VENDOR_ROOT_PINNED,
    ),
    holds=(
        (POLICY_VERSION_INCREASES, lambda s: s.phase == "none" or s.version >= 1),
        (ROOT_NOT_EMPTY, lambda s: s.phase == "none" or bool(s.roles.get("root", Role()).principals)),
        (IDENTITY_UNIQUE, _keys_unique),
        (THRESHOLD_REACHABLE, lambda s: all(r.threshold <= len(r.principals) for r in s.roles.values())),
    ),
)


def policy_versions(events: Iterable[tuple[str, dict[str, Any]]]) -> list[PolicyState]:
    """``result[v]`` is the trust policy at version ``v`` (index 0: before it existed), folded
    from the policy log's events up to the first that does not fold (the versions after it do
    not exist). The one fold of the policy: the writers, bundle checks and ``verify`` use it."""
    versions = [PolicyState()]
    try:
        for state in LIFECYCLE.fold(POLICY_SCOPE, events):
            versions.append(state)
    except DocketError:
        pass  # a broken policy log: its own finding says so; later versions do not exist
    return versions
