"""The immutable pydantic base every Docket document and state derives from, the command data
that only carries a reason, and how a validation error becomes one line for a person.

The shared field types (``Timestamp``, ``Digest``, ``GitOid``, ...) are in ``core.fields``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from gitdocket.core.fields import FreeText
from gitdocket.errors import InputError

__all__ = ["OptionalReasonData", "ReasonData", "Record", "dotted", "first_error", "validate"]

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


def dotted(data: Mapping[str, Any], path: str) -> Any:
    """The value at ``path`` (``a.b.c``) in nested objects, None where a step is missing or not an
    object: how a gate check (``expect``) and a transition row (``signed_by``) name a field."""
    value: Any = data
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value
