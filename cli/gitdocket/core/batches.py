"""A promotion batch (contract ``promotion_batch_v1``): several bundles promoted, each to one
environment or up the chain to one, in ONE signed commit (``gitdocket promote --batch FILE``).

Written by people (YAML or JSON), so validated here to the field: a bundle named twice, a step
with both or neither of ``env`` and ``to``, a source or an override with ``to`` are bad input.
Whether each environment exists is the registry's to say (``ops.batches``). Pure.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from gitdocket.core.fields import BundleId, Name, OptionalFreeText
from gitdocket.core.model import Record

__all__ = ["BatchStep", "PromotionBatch"]


class BatchStep(Record):
    """One bundle of a batch: to ``env`` (from ``source_env`` when given), or walked up the
    chain to ``to``, gated at every step (as ``promote --to``)."""

    bundle: BundleId
    env: Name | None = None
    to: Name | None = None
    source_env: Name | None = None
    gated: bool = True
    override_hold: OptionalFreeText = Field(default=None, min_length=1, pattern=r"\S")
    """Why a release a rollback holds in that environment comes back (as ``--override-hold``)."""

    @model_validator(mode="after")
    def _one_target(self) -> BatchStep:
        if (self.env is None) == (self.to is None):
            raise ValueError(f"{self.bundle}: give exactly one of env and to")
        if self.to is not None and (self.source_env is not None or not self.gated):
            raise ValueError(f"{self.bundle}: to walks the chain gated, choosing each source: drop source_env/gated")
        return self


class PromotionBatch(Record):
    """``promotion_batch_v1``: a named batch of promotions, all or nothing."""

    contract: Literal["promotion_batch_v1"] = "promotion_batch_v1"
    batch: Name
    """Recorded on every promotion event of the batch: ``history`` and the site show it as one step."""
    promotions: tuple[BatchStep, ...] = Field(min_length=1, max_length=100)

    @model_validator(mode="after")
    def _each_bundle_once(self) -> PromotionBatch:
        seen: set[str] = set()
        for step in self.promotions:
            if step.bundle in seen:
                raise ValueError(f"bundle {step.bundle} is named twice: one step per bundle (use to for a chain)")
            seen.add(step.bundle)
        return self
