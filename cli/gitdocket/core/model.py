"""The immutable pydantic base every Docket document and state derives from."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

__all__ = ["Record"]


class Record(BaseModel):
    """Frozen, no unknown fields: change with ``model_copy(update=...)``."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=False)
