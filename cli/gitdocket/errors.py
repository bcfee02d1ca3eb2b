"""Every exception Docket raises on purpose, grouped by who is at fault.

Each error carries a one-line ``message`` (what happened, naming the file or scope) and a
``hint`` (what to do next). The CLI boundary in ``commands`` is the only place that turns them
into output and exit codes; nothing else catches broadly.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = [
    "BOUNDARY_CODES",
    "ConflictError",
    "DocketError",
    "InputError",
    "Invariant",
    "InvariantError",
    "NotFoundError",
    "StateError",
    "TrustError",
]


BOUNDARY_CODES = ("USAGE", "INTERRUPTED", "IO", "INTERNAL")
"""The ``--format json`` error codes of failures that are no ``DocketError``: a wrong command
line, Ctrl-C, git or the file system failing, a bug (``commands._fail``); every ``DocketError``
class names its own ``code``."""


class DocketError(Exception):
    """Base of all deliberate errors. ``exit_code`` is 1 (refused) unless a subclass says 2."""

    exit_code = 1
    code = "REFUSED"
    """The stable code ``--format json`` prints with the error (docs/operations.md lists them)."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message


class InputError(DocketError):
    """The user's input is malformed: bad YAML/JSON, unknown fields, bad names, bad paths."""

    exit_code = 2
    code = "BAD_INPUT"


class NotFoundError(DocketError):
    """A named archetype, version, scope, bundle or ref does not exist."""

    code = "NOT_FOUND"


class StateError(DocketError):
    """The repository is not in a state that allows the operation (dirty worktree, corrupt log)."""

    code = "STATE"


class ConflictError(StateError):
    """Another writer moved the branch and retries were exhausted."""

    code = "CONFLICT"


@dataclass(frozen=True)
class Invariant:
    """A named rule (the seeds' names): what a refusal or a finding cites. Each is declared once,
    in its lifecycle's module or in ``lifecycles.invariants`` (the rules that span scopes), and
    ``lifecycles.INVARIANTS`` lists them all; the site's guarantees page is drawn from them."""

    name: str
    kind: Literal["structural", "policy", "operational"]
    text: str


class InvariantError(DocketError):
    """A lifecycle refused a command. ``rule`` is the invariant it enforces, ``invariant`` its
    name, ``reason`` the message without the name; the hint is required: every refusal says what
    to do next."""

    code = "INVARIANT"

    def __init__(self, message: str, rule: Invariant, hint: str) -> None:
        super().__init__(f"{message} ({rule.name})", hint)
        self.reason = message
        self.rule = rule
        self.invariant = rule.name


class TrustError(DocketError):
    """Signatures or policy: a missing role, a bad key, a forged or missing signature."""

    code = "TRUST"
