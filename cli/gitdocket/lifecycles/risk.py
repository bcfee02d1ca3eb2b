"""Risk rules: which agent changes need extra signatures, as policy data.

A rule of the trust policy says: a freeze (or a promotion) whose diff holds a change of these
kinds, or of at least this risk, needs ``signatures`` more signatures on its event from role
``role`` — e.g. "a new tool permission, or a wider egress or posture, needs a signature from
``security``". ``CHANGE_KINDS`` is the risk of every kind of change, which
``lifecycles.agent_diff`` classifies with. Root changes the rules with a policy event, so
they are signed like every policy change. ``missing_approvals`` is the one check: the writers
(freeze, promote) ask it before they sign, and ``verify`` asks it of every recorded freeze and
promotion, in every mode. Pure.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from pydantic import Field, model_validator

from gitdocket.core.fields import Name
from gitdocket.core.model import Record
from gitdocket.errors import InvariantError
from gitdocket.lifecycles.invariants import RISK_APPROVAL_REQUIRED

if TYPE_CHECKING:
    from gitdocket.lifecycles.agent_diff import AgentDiff, Change

__all__ = [
    "CHANGE_KINDS",
    "RISKS",
    "RISK_APPROVAL_REQUIRED",
    "ChangeKind",
    "Missing",
    "Risk",
    "RiskRule",
    "check_approvals",
    "missing_approvals",
    "rule_problem",
]

Risk = Literal["none", "low", "medium", "high"]
RISKS: tuple[Risk, ...] = ("none", "low", "medium", "high")
"""Risk levels, lowest first."""


@dataclass(frozen=True)
class ChangeKind:
    """One row of the risk table: a kind of change, its risk, and what it means to a reviewer."""

    kind: str
    risk: Risk
    means: str


CHANGE_KINDS: tuple[ChangeKind, ...] = (
    ChangeKind("agent_added", "high", "an agent the other side does not run: everything it can do is new"),
    ChangeKind("agent_removed", "low", "an agent the other side runs is no longer there"),
    ChangeKind("instructions_changed", "medium", "instructions.md changed: what the agent is told to do"),
    ChangeKind("skill_added", "medium", "a skill the agent did not have"),
    ChangeKind("skill_removed", "low", "a skill the agent no longer has"),
    ChangeKind("skill_changed", "medium", "a skill's files changed"),
    ChangeKind("tool_added", "high", "a tool the agent could not call before"),
    ChangeKind("tool_removed", "low", "a tool the agent can no longer call"),
    ChangeKind("tool_changed", "medium", "a tool's definition changed"),
    ChangeKind("tool_permission_added", "high", "a tool may now do something it could not"),
    ChangeKind("tool_permission_removed", "low", "a tool may no longer do something"),
    ChangeKind("egress_widened", "high", "the agent may reach a network destination it could not"),
    ChangeKind("egress_narrowed", "low", "a network destination is no longer reachable"),
    ChangeKind("provider_changed", "high", "the model comes from another provider: the data goes elsewhere"),
    ChangeKind("model_changed", "medium", "another model of the same provider"),
    ChangeKind("settings_changed", "low", "a model setting changed (temperature, limits …)"),
    ChangeKind("posture_widened", "high", "the protection posture exposes more (deployment mode, read scope)"),
    ChangeKind("posture_narrowed", "low", "the protection posture exposes less"),
    ChangeKind("crossing_terms_changed", "medium", "the terms on which the method crosses changed"),
    ChangeKind("file_changed", "low", "another method file was added, removed or changed"),
)
"""The risk of every kind of change, as data: ``gitdocket diff`` classifies with it, the docs list
it, and a policy risk rule names its kinds or a level (``RiskRule``). Kept here, not with the diff,
so that reading a policy does not build the diff (ADR 0035)."""

Action = Literal["freeze", "promote"]
_KINDS = {row.kind for row in CHANGE_KINDS}


class RiskRule(Record):
    """One rule of the policy's ``risk_rules``."""

    name: Name
    kinds: tuple[str, ...] = ()
    """Change kinds that trigger the rule (``CHANGE_KINDS``)."""
    at_least: Risk | None = None
    """Or: any change of this risk or higher."""
    role: str = Field(min_length=1)
    signatures: int = Field(default=1, ge=1)
    on: tuple[Action, ...] = ("freeze", "promote")

    @model_validator(mode="after")
    def _triggered(self) -> RiskRule:
        if not self.kinds and self.at_least is None:
            raise ValueError("a risk rule needs kinds or at_least")
        if not self.on:
            raise ValueError("a risk rule applies on freeze, promote or both")
        return self

    def matches(self, change: Change) -> bool:
        if change.kind in self.kinds:
            return True
        return self.at_least is not None and RISKS.index(change.risk) >= RISKS.index(self.at_least)


def rule_problem(rule: RiskRule, members: tuple[str, ...] | None) -> str | None:
    """Why ``rule`` cannot be met (``members``: who holds its role, None when nobody), or None.
    The policy refuses a change that would leave it so (its ``RISK_RULE_SOUND``)."""
    unknown = [k for k in rule.kinds if k not in _KINDS]
    if unknown:
        return f"risk rule {rule.name} names unknown change kind {unknown[0]!r}"
    if members is None:
        return f"risk rule {rule.name} names role {rule.role!r}, which nobody holds"
    if rule.signatures > len(members):
        return (
            f"risk rule {rule.name} needs {rule.signatures} signature(s) by {rule.role}, "
            f"which has {len(members)} member(s)"
        )
    return None


@dataclass(frozen=True)
class Missing:
    """A rule a freeze or promotion does not meet: what triggered it and who must still sign."""

    rule: RiskRule
    changes: tuple[Change, ...]
    members: tuple[str, ...]
    got: int

    def describe(self) -> str:
        what = ", ".join(f"{c.kind} {c.subject}" for c in self.changes[:3])
        more = f" and {len(self.changes) - 3} more" if len(self.changes) > 3 else ""
        return (
            f"risk rule {self.rule.name} needs {self.rule.signatures} signature(s) by role {self.rule.role} "
            f"for {what}{more}; got {self.got}"
        )


def missing_approvals(
    rules: Iterable[RiskRule],
    action: Action,
    diffs: Iterable[AgentDiff],
    signers: Iterable[str],
    members_of: Callable[[str], tuple[str, ...] | None],
) -> list[Missing]:
    """The rules for ``action`` that ``diffs`` trigger and ``signers`` do not meet. A role's
    members come from ``members_of`` (the policy that judges the event); a signer counts for a
    rule when it holds the rule's role."""
    changes = [change for diff in diffs for change in diff.changes]
    signed = set(signers)
    out = []
    for rule in rules:
        if action not in rule.on:
            continue
        hits = tuple(c for c in changes if rule.matches(c))
        if not hits:
            continue
        members = members_of(rule.role) or ()
        got = len(signed & set(members))
        if got < rule.signatures:
            out.append(Missing(rule, hits, members, got))
    return out


def check_approvals(missing: list[Missing]) -> None:
    """Refuse with the first rule not met, naming who can sign and how to add the signature."""
    if not missing:
        return
    first = missing[0]
    holders = ", ".join(first.members) or "nobody yet"
    raise InvariantError(
        first.describe(),
        RISK_APPROVAL_REQUIRED,
        f"sign it with a {first.rule.role} key as well: repeat the command with one more "
        f"`--key` of a {first.rule.role} holder ({holders}); review the change with `gitdocket diff`",
    )
