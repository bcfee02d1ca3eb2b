"""The trust policy: identities, roles and thresholds, expiry, who signs which command (drawn
from the transition tables' ``role`` column), and every version of the policy. Pure."""

from __future__ import annotations

from gitdocket.core.fields import parse_time
from gitdocket.lifecycles import LIFECYCLES, scope
from gitdocket.lifecycles.policy import Identity, PolicyState
from gitdocket.site.diagrams import words
from gitdocket.site.markup import code, link, table, text
from gitdocket.site.pages.common import Page, event_words
from gitdocket.site.view import View

__all__ = ["pages"]


def _key(identity: Identity) -> str:
    if identity.kind == "ssh":
        parts = (identity.public_key or "").split()
        blob = parts[1] if len(parts) > 1 else ""
        return code(f"{parts[0] if parts else ''} …{blob[-16:]}")
    claims = ", ".join(f"{k}={v}" for k, v in sorted(identity.claims.items()))
    return text(f"{identity.issuer} / {identity.subject}" + (f" ({claims})" if claims else ""))


def _expiry(view: View, policy: PolicyState) -> str:
    if policy.expires is None:
        return "never expires"
    at = view.site.committed_at
    if at is None:
        return f"expires {text(policy.expires)}"
    try:
        expired = parse_time(policy.expires) <= at
    except ValueError:
        return f"expires {text(policy.expires)} (unreadable)"
    return f"expires {text(policy.expires)}" + (" — **expired** at the verified commit's time" if expired else "")


def _signers() -> str:
    rows = [
        [link(text(kind), f"lifecycles/{kind}.md"), text(words(row)), code(row.role or "bootstrap")]
        for kind, machine in LIFECYCLES.items()
        for row in machine.transitions
    ]
    return table(["lifecycle", "command", "signed by role"], rows)


def _policy(view: View) -> Page:
    source = "policy.md"
    record = view.ctx.record(scope("policy"))
    policy = record.state if record else PolicyState()
    identities = table(
        ["identity", "kind", "key or claims"],
        [[code(i.name), text(i.kind), _key(i)] for _, i in sorted(policy.identities.items())],
    )
    roles = table(
        ["role", "members", "threshold"],
        [
            [code(name), text(", ".join(role.principals)), str(role.threshold)]
            for name, role in sorted(policy.roles.items())
        ],
    )
    history = []
    if record is not None:
        for event, state in zip(record.events, record.states, strict=False):
            history.append(
                [
                    str(event.seq),
                    text(event.at),
                    text(event.actor),
                    text(event_words("policy", event.type)),
                    f"v{state.version}",
                ]
            )
    body = "\n\n".join(
        [
            "# Trust policy",
            f"Version **{policy.version}**, {_expiry(view, policy)}. Every event in the registry names the policy "
            "version it obeys; a policy change is signed by the old and the new root thresholds. Archetype "
            "owners live in each archetype's own log.",
            "## Identities",
            identities,
            "## Roles and thresholds",
            roles,
            "## Who signs what",
            _signers(),
            "## Version history",
            table(["#", "when", "signed by", "what", "version"], history),
        ]
    )
    return Page(source, "Trust policy", body, wide=True)


def pages(view: View) -> list[Page]:
    return [_policy(view)]
