"""Who may write what: one rule for every lifecycle.

Each transition row names a role template (``owners:{0}``, ``promoters:{0}``, ``root`` …). An
event is authorized when at least ``threshold`` distinct principals holding that role signed its
``signing_payload`` with a key the policy lists for them, its ``actor`` is one of them, and every
field of its data that names who did it (the row's ``signed_by``: ``promoted_by``, ``built_by``,
``provenance.frozen_by`` …) names the actor (``AUDIT_NAMES_SIGNER``). Pure:
signature checks are computation; the Sigstore check is injected (``SigstoreCheck``: it needs the
sigstore library and the trusted root the judging policy pins, ``adapters.keyless``). A Sigstore
identity that pins ``environment`` counts only for that environment's events.
"""

from __future__ import annotations

import functools
import string
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from gitdocket.core import sshsig
from gitdocket.core.log import EVENT_NAMESPACE, Event, SigstoreSignature, SshSignature, signing_payload
from gitdocket.core.model import dotted
from gitdocket.core.scopes import Scope
from gitdocket.errors import TrustError
from gitdocket.lifecycles.machine import Machine
from gitdocket.lifecycles.policy import Identity, PolicyState, Role, lookup_role

__all__ = [
    "RoleResolver",
    "SigstoreCheck",
    "Verdict",
    "audit_problems",
    "authorize",
    "judging_policy",
    "no_sigstore",
    "policy_resolver",
    "required_role",
    "valid_signers",
    "verdicts",
]

RoleResolver = Callable[[str], Role | None]
SigstoreCheck = Callable[[SigstoreSignature, Identity, bytes, PolicyState], None]
"""Raise ``TrustError`` (naming the claim that differs) unless the entry's bundle signs the
payload under the identity's issuer, certificate identity and claims, checked offline against
the trusted root ``PolicyState.trusted_root`` pins."""


@dataclass(frozen=True)
class Verdict:
    """Whether an event is authorized. ``problems`` says every reason it is not; ``audit`` those
    of them that are ``AUDIT_NAMES_SIGNER``'s (a "who" field naming someone else than the signer),
    for a finding that cites the rule."""

    role: str
    signers: frozenset[str]
    problems: tuple[str, ...]
    audit: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.problems


def audit_problems(machine: Machine[Any], event: Event) -> list[str]:
    """``AUDIT_NAMES_SIGNER``: every field the event's row says names who did it (``signed_by``)
    is the event's actor, whom ``authorize`` holds to be one of its valid signers. The writers
    fill these fields from the signing key, and ``verify`` reports an event that does not."""
    row = machine.by_event.get(event.type)
    fields = row.signed_by if row is not None else ()
    return [
        f"{field} names {dotted(event.data, field)!r}, but {event.actor!r} signed it"
        for field in fields
        if dotted(event.data, field) != event.actor
    ]


class _Fields(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


Part = tuple[str, int | str | None]
"""A piece of a role template: literal text, then the scope key's index or the data field's name
that follows it (None at the end)."""


@functools.cache
def _template(role: str) -> tuple[Part, ...] | None:
    """``role`` cut into its literal text and its plain fields (``{0}``, ``{archetype}``), parsed
    once per template instead of once per event; None for a template that uses anything else
    (a conversion, a format spec, an attribute or an index), which ``str.format`` formats."""
    parts: list[Part] = []
    for text, name, spec, conversion in string.Formatter().parse(role):
        if name is None:
            parts.append((text, None))
        elif spec or conversion or not (name.isdigit() or name.isidentifier()):
            return None
        else:
            parts.append((text, int(name) if name.isdigit() else name))
    return tuple(parts)


def required_role(machine: Machine[Any], scope: Scope[Any], event_type: str, data: dict[str, Any]) -> str:
    """The role whose holders must sign the event: its row's template formatted with the scope's
    keys and the data's string fields; a field the data lacks (or holds no string in) stays
    ``{name}``, which no policy role is called."""
    row = machine.by_event.get(event_type)
    if row is None or not row.role:
        return "root"
    parts = _template(row.role)
    if parts is None:
        fields = _Fields({k: v for k, v in data.items() if isinstance(v, str)})
        return string.Formatter().vformat(row.role, scope.keys, fields)
    out: list[str] = []
    for text, name in parts:
        out.append(text)
        if isinstance(name, int):
            out.append(format(scope.keys[name]))
        elif name is not None:
            value = data.get(name)
            out.append(value if isinstance(value, str) else "{" + name + "}")
    return "".join(out)


def no_sigstore(_entry: SigstoreSignature, identity: Identity, _payload: bytes, _policy: PolicyState) -> None:
    """The check of a caller that cannot judge keyless signatures (a pure unit test)."""
    raise TrustError(
        f"cannot check the Sigstore signature of {identity.name} here",
        "verify with `gitdocket verify`, which checks it offline against the pinned trusted root",
    )


def _outside_environment(identity: Identity, scope: Scope[Any]) -> str | None:
    """Why a Sigstore identity pinned to one environment cannot sign in ``scope``, or None."""
    env = identity.claims.get("environment")
    if env is None or (scope.kind == "environment" and scope.keys[0] == env):
        return None
    return f"{identity.name} signs for environment {env} only, not {scope.label}"


def valid_signers(
    scope: Scope[Any], event: Event, policy: PolicyState, sigstore: SigstoreCheck = no_sigstore
) -> tuple[set[str], list[str]]:
    """Principals whose signature on ``event`` verifies under ``policy``, and the problems."""
    payload = signing_payload(scope.path, event)
    good: set[str] = set()
    problems: list[str] = []
    if not event.signatures:
        problems.append("event is not signed")
    for entry in event.signatures:
        identity = policy.identities.get(entry.principal)
        if identity is None:
            problems.append(f"signature by {entry.principal!r}, who is not in policy v{policy.version}")
            continue
        try:
            if isinstance(entry, SshSignature):
                if identity.kind != "ssh" or identity.public_key is None:
                    raise TrustError(f"{entry.principal} is not an SSH identity")
                key = sshsig.parse_public_key(identity.public_key)
                sshsig.verify(entry.sig.encode("ascii"), payload, EVENT_NAMESPACE, key)
            else:
                if identity.kind != "sigstore":
                    raise TrustError(f"{entry.principal} is not a Sigstore identity")
                outside = _outside_environment(identity, scope)
                if outside is not None:
                    raise TrustError(outside)
                sigstore(entry, identity, payload, policy)
        except (TrustError, ValueError, UnicodeEncodeError) as exc:
            problems.append(f"signature by {entry.principal} does not verify: {exc}")
            continue
        good.add(entry.principal)
    return good, problems


def authorize(
    machine: Machine[Any],
    scope: Scope[Any],
    event: Event,
    policy: PolicyState,
    resolve: RoleResolver,
    sigstore: SigstoreCheck = no_sigstore,
) -> Verdict:
    """Check ``event``'s signatures against the role its transition requires."""
    role_name = required_role(machine, scope, event.type, event.data)
    role = resolve(role_name)
    good, problems = valid_signers(scope, event, policy, sigstore)
    if role is None:
        problems.append(f"no one holds role {role_name} in policy v{policy.version}")
        return Verdict(role_name, frozenset(good), tuple(problems))
    holders = good & set(role.principals)
    if len(holders) < role.threshold:
        who = ", ".join(sorted(good)) or "nobody"
        problems.append(
            f"needs {role.threshold} signature(s) by {role_name}, got {len(holders)} (valid signers: {who})"
        )
    if event.actor not in good:
        problems.append(f"actor {event.actor!r} did not sign the event")
    elif event.actor not in holders and len(holders) >= role.threshold:
        # The actor is one of the role's signers (module docstring); when the threshold already
        # failed, that finding says it all.
        problems.append(f"actor {event.actor!r} does not hold {role_name}")
    audit = audit_problems(machine, event)
    return Verdict(role_name, frozenset(holders), (*problems, *audit), tuple(audit))


def policy_resolver(policy: PolicyState, owners: Callable[[str], Role | None]) -> RoleResolver:
    """Resolve ``owners:<a>`` through ``owners`` and every other role through the policy."""

    def resolve(name: str) -> Role | None:
        if name.startswith("owners:"):
            return owners(name.split(":", 1)[1])
        return lookup_role(policy, name)

    return resolve


def judging_policy(
    target: Scope[Any], event: Event, policy_at: Callable[[int], PolicyState | None]
) -> PolicyState | str:
    """The policy ``event`` is judged by (``policy_at(v)``: the policy at version ``v``, None when
    there is no such version), or why there is none. A policy change is judged by the policy just
    before it: naming the version it creates would let anyone the policy lists sign their own
    promotion to root. The writers (before they extend a log) and ``verify`` both ask this."""
    version = event.policy_version
    if target.kind == "policy" and version != event.seq - 1:
        return f"names policy v{version}, but the policy before it is v{event.seq - 1}"
    policy = policy_at(version)
    if policy is None or (target.kind != "policy" and policy.phase == "none"):
        return f"names policy v{version}, which does not exist"
    return policy


def verdicts(
    machine: Machine[Any],
    target: Scope[Any],
    event: Event,
    judged_by: PolicyState,
    after: PolicyState | None,
    resolver: Callable[[PolicyState], RoleResolver],
    sigstore: SigstoreCheck = no_sigstore,
) -> list[Verdict]:
    """``event`` authorized under the policy that judges it, and a policy change also under the
    policy it makes (``after``): the old and the new root both sign it. A policy that does not
    exist yet (the very first one) judges nothing."""
    policies = [judged_by] if target.kind != "policy" else [judged_by, after]
    return [
        authorize(machine, target, event, policy, resolver(policy), sigstore)
        for policy in policies
        if policy is not None and policy.phase != "none"
    ]
