"""Every exception Docket raises on purpose, grouped by who is at fault.

Each error carries a one-line ``message`` (what happened, naming the file or scope) and a
``hint`` (what to do next). The CLI boundary in ``commands`` is the only place that turns them
into output and exit codes; nothing else catches broadly.
"""

from __future__ import annotations

__all__ = [
    "ConflictError",
    "DocketError",
    "InputError",
    "InvariantError",
    "NotFoundError",
    "StateError",
    "TrustError",
]


class DocketError(Exception):
    """Base of all deliberate errors. ``exit_code`` is 1 (refused) unless a subclass says 2."""

    exit_code = 1

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message


class InputError(DocketError):
    """The user's input is malformed: bad YAML/JSON, unknown fields, bad names, bad paths."""

    exit_code = 2


class NotFoundError(DocketError):
    """A named archetype, version, scope, bundle or ref does not exist."""


class StateError(DocketError):
    """The repository is not in a state that allows the operation (dirty worktree, corrupt log)."""


class ConflictError(StateError):
    """Another writer moved the branch and retries were exhausted."""


class InvariantError(DocketError):
    """A lifecycle refused a command; ``invariant`` names the rule (seeds' names)."""

    def __init__(self, message: str, invariant: str = "", hint: str = "") -> None:
        text = f"{message} ({invariant})" if invariant else message
        super().__init__(text, hint)
        self.invariant = invariant


class TrustError(DocketError):
    """Signatures or policy: a missing role, a bad key, a forged or missing signature."""
