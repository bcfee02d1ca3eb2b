"""Batch promotion: several bundles promoted, each to one environment or up the chain to one,
in ONE signed commit (``gitdocket promote --batch FILE``, contract ``promotion_batch_v1``).

All or nothing, and every gate is evaluated: each step runs ``environments.promote`` in the one
transaction, in the batch's order (a chain's later steps see its earlier ones, as ``promote --to``
does); a step that is refused — a failing gate, a hold, a source not running the bundle — is
recorded and the next step runs anyway (a refused gated step's report is kept and shown by ``keep``
as it is evaluated, the passed steps' reports too once the batch is refused), so every check of
every step is reported. Then, if any step was refused, the whole
write is refused, naming every refused step, and nothing is written. Every promotion event
of a batch carries its name (``PromotedData.batch``); ``history`` and the site show it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from gitdocket.core.batches import BatchStep, PromotionBatch
from gitdocket.core.documents import PromotionReport
from gitdocket.core.tree import TreeView
from gitdocket.errors import DocketError, InputError, InvariantError
from gitdocket.lifecycles.gate import Evidence
from gitdocket.lifecycles.promotion import promotion_chain
from gitdocket.ops.deployments import holds_of, status_of
from gitdocket.ops.documents import registry_config
from gitdocket.ops.environments import PromoteOutcome, PromoteRequest, promote
from gitdocket.ops.transaction import Transaction

__all__ = ["StepFailure", "promote_batch", "steps_of"]


@dataclass(frozen=True)
class StepFailure:
    """A refused step of a batch: which promotion, and why."""

    bundle_id: str
    environment: str
    error: DocketError


def _refusal(batch: str, failures: list[StepFailure], steps: int) -> DocketError:
    """The whole batch refused, as an error of the first refusal's kind (its exit code, its rule
    and hint), naming every refused step on one line."""
    first = failures[0].error
    reasons = "; ".join(
        f"{f.bundle_id} to {f.environment}: {getattr(f.error, 'reason', f.error.message)}" for f in failures
    )
    why = f"cannot promote batch {batch}: {len(failures)} of {steps} steps refused: {reasons}; nothing was promoted"
    if isinstance(first, InvariantError):
        return InvariantError(why, first.rule, first.hint)
    return type(first)(why, first.hint)  # every other error takes (message, hint)


def _known(tree: TreeView, step: BatchStep, where: str) -> None:
    names = [e.name for e in registry_config(tree).environments]
    for environment in (step.env, step.to, step.source_env):
        if environment is not None and environment not in names:
            raise InputError(
                f"{where}: unknown environment {environment!r} (for {step.bundle})",
                f"environments in registry/registry.yaml: {', '.join(names)}",
            )


def steps_of(
    tree: TreeView, batch: PromotionBatch, evidence: Mapping[str, Evidence], where: str
) -> list[PromoteRequest]:
    """The promotions of ``batch`` in order: ``to`` expands to the gated chain up to it, skipping
    environments already running the bundle (as ``promote --to``). An unknown environment, or two
    steps promoting to one environment, is bad input."""
    requests: list[PromoteRequest] = []
    for step in batch.promotions:
        _known(tree, step, where)
        if step.env is not None:
            requests.append(
                PromoteRequest(
                    step.bundle, step.env, step.source_env, step.gated, evidence, None, step.override_hold, batch.batch
                )
            )
            continue
        for env, source in promotion_chain(registry_config(tree), step.to or ""):
            if status_of(tree, env).get("bundle_id") == step.bundle:
                continue
            override = step.override_hold if step.bundle in holds_of(tree, env) else None
            requests.append(PromoteRequest(step.bundle, env, source, True, evidence, None, override, batch.batch))
    targets = [r.environment for r in requests]
    twice = sorted({t for t in targets if targets.count(t) > 1})
    if twice:
        raise InputError(
            f"{where}: the batch promotes more than one bundle to {', '.join(twice)}",
            "an environment runs one bundle: give each environment one step",
        )
    return requests


def promote_batch(
    tx: Transaction, name: str, requests: list[PromoteRequest], keep: Callable[[PromotionReport], str]
) -> list[PromoteOutcome]:
    """Run every step in ``tx`` (module docstring); refuse the whole batch when any step is."""
    outcomes: list[PromoteOutcome] = []
    failures: list[StepFailure] = []
    for req in requests:
        try:
            outcomes.append(promote(tx, req, keep))
        except DocketError as exc:  # recorded, and the next step still runs: every gate is evaluated
            failures.append(StepFailure(req.bundle_id, req.environment, exc))
    if failures:
        for outcome in outcomes:  # the steps that passed: their checks are part of the answer too
            if outcome.report is not None:
                keep(outcome.report)
        raise _refusal(name, failures, len(requests)) from failures[0].error
    return outcomes
