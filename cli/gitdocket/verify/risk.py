"""``RISK_APPROVAL_REQUIRED`` in every verification mode: each recorded freeze and promotion
carries the extra signatures the risk rules of the policy that judged it ask for. The writers ask
the same functions (``verify.agents.freeze_approvals``, ``promotion_approvals``) before they
sign, so a write never produces a registry this check rejects. The diff (``verify.agents``, the
version lifecycle) is imported only for an event a risk rule applies to: a chain judged by a
policy without such rules (``deployments resolve``) never builds it (ADR 0035). Pure."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from gitdocket.core.log import Event
from gitdocket.core.scopes import Scope
from gitdocket.errors import DocketError
from gitdocket.lifecycles import machine_of
from gitdocket.lifecycles.authz import valid_signers
from gitdocket.lifecycles.invariants import RISK_APPROVAL_REQUIRED
from gitdocket.lifecycles.policy import PolicyState
from gitdocket.verify.context import Context
from gitdocket.verify.findings import Finding

if TYPE_CHECKING:
    from gitdocket.lifecycles.risk import Missing

__all__ = ["risk_approvals"]

_HINT = (
    "a risky change was recorded without the approval its risk rule requires: revert the commit, "
    "and write it again with gitdocket and the key of a holder of the rule's role"
)


def _state(ctx: Context) -> Any:
    def state(target: Scope[Any]) -> Any:
        found = ctx.state(target)
        return found if found is not None else machine_of(target).initial(target)

    return state


def _ruled(ctx: Context, event: Event, action: str) -> PolicyState | None:
    policy = ctx.policy_at(event.policy_version)
    if policy is None or not any(action in rule.on for rule in policy.risk_rules):
        return None
    return policy


def _findings(path: str, label: str, missing: list[Missing]) -> Iterable[Finding]:
    for unmet in missing:
        yield Finding(path, "RISK_UNAPPROVED", unmet.describe(), label, RISK_APPROVAL_REQUIRED, _HINT)


def _freezes(ctx: Context) -> Iterable[Finding]:
    for record in ctx.scopes("version"):
        archetype, version = record.scope.keys
        for event, _state_after in record.judged:
            policy = _ruled(ctx, event, "freeze") if event.type == "version_frozen" else None
            if policy is None:
                continue
            from gitdocket.lifecycles.version import Snapshot
            from gitdocket.verify.agents import freeze_approvals, snapshot_agent

            snap = Snapshot.model_validate(event.data)
            signers, _problems = valid_signers(record.scope, event, policy)
            try:
                agent = snapshot_agent(ctx.tree, f"{record.scope.path}/method", archetype, version, snap)
                missing = freeze_approvals(ctx.tree, _state(ctx), policy, snap, agent, signers)
            except DocketError:
                continue  # a frozen file or the baseline is missing: the snapshot checks say so
            yield from _findings(f"{record.scope.history_path}:{event.seq}", record.scope.label, missing)


def _promotions(ctx: Context) -> Iterable[Finding]:
    for record in ctx.scopes("environment"):
        for event, _state_after in record.judged:
            policy = _ruled(ctx, event, "promote") if event.type == "promoted" else None
            if policy is None:
                continue
            from gitdocket.verify.agents import promotion_approvals

            signers, _problems = valid_signers(record.scope, event, policy)
            previous = event.data.get("previous_bundle_id")
            try:
                missing = promotion_approvals(
                    ctx.tree, _state(ctx), policy, str(event.data["bundle_id"]), previous, signers
                )
            except DocketError:
                continue  # a bundle or version is missing: the bundle and snapshot checks say so
            yield from _findings(f"{record.scope.history_path}:{event.seq}", record.scope.label, missing)


def risk_approvals(ctx: Context) -> Iterable[Finding]:
    """Every freeze and promotion meets the risk rules of the policy that judged it."""
    yield from _freezes(ctx)
    yield from _promotions(ctx)
