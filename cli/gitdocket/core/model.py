"""The immutable pydantic base every Docket document and state derives from, the command data
that only carries a reason, and how a validation error becomes one line for a person.

The shared field types (``Timestamp``, ``Digest``, ``GitOid``, ...) are in ``core.fields``.
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from gitdocket.core.fields import FreeText
from gitdocket.errors import InputError

__all__ = ["OptionalReasonData", "ReasonData", "Record", "first_error", "validate"]

ModelT = TypeVar("ModelT", bound=BaseModel)


class Record(BaseModel):
    """Frozen, no unknown fields: change with ``model_copy(update=...)``."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=False, defer_build=True)


class ReasonData(Record):
    """Data of a command that carries only a reason, which it must give."""

    reason: FreeText = Field(min_length=1)


class OptionalReasonData(Record):
    """Data of a command that carries only a reason, which it may leave out."""

    reason: FreeText = ""


def first_error(exc: ValidationError, whole: str = "document") -> str:
    """``<field path>: <message>`` of the first error; ``whole`` names what failed when the
    error is about the value as a whole (a model validator, a value that is not an object)."""
    err = exc.errors()[0]
    loc = ".".join(str(p) for p in err["loc"]) or whole
    return f"{loc}: {err['msg']}"


def validate(model: type[ModelT], data: Any, where: str) -> ModelT:
    """``model.model_validate(data)``, or ``InputError`` in one line naming ``where`` (a file)
    and the field, with the fix as hint."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        hint = "remove the field" if exc.errors()[0]["type"] == "extra_forbidden" else "fix the value"
        raise InputError(f"{where}: {first_error(exc)}", hint) from exc
