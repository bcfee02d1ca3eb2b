"""The shape every lifecycle shares: a transition table, ``decide`` and ``evolve``.

A lifecycle is a ``Machine``: a typed ``State`` with a ``phase``, a table of ``Transition`` rows
(command → event, allowed source phases, target phase, the invariant a refusal cites), a
``guard`` for rules beyond the phase, and an ``apply`` for state changes beyond the phase. One
command emits exactly one event whose data is the command's data, so ``verify`` replays a log by
re-deciding each event and comparing. Pure: no I/O, no clock.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ValidationError

from gitdocket.core.model import Record, first_error
from gitdocket.core.scopes import Scope
from gitdocket.errors import InputError, InvariantError

__all__ = ["Decision", "Invariant", "Machine", "NoData", "StateT", "Transition"]


class NoData(Record):
    """Data of a command that carries none."""


StateT = TypeVar("StateT", bound=Record)


@dataclass(frozen=True)
class Transition:
    command: str
    event: str
    sources: tuple[str, ...]
    target: str | None
    data: type[Record] = NoData
    invariant: str = ""
    doc: str = ""
    role: str = ""
    """Who may sign: a policy role template formatted with the scope keys ``{0}``, ``{1}`` and the
    command data's fields, e.g. ``owners:{0}`` or ``promoters:{0}``."""
    refusals: tuple[tuple[str, str], ...] = ()
    """(phase, invariant) pairs: the invariant a refusal from that phase cites."""


@dataclass(frozen=True)
class Invariant(Generic[StateT]):
    """A named rule of the seeds. ``check`` is a state predicate (None for a rule that only a
    refused transition can express); ``teeth`` names the forbidden move it guards."""

    name: str
    kind: Literal["structural", "policy", "operational"]
    text: str
    check: Callable[[StateT], bool] | None = None


@dataclass(frozen=True)
class Decision:
    type: str
    data: dict[str, Any]


@dataclass(frozen=True)
class Machine(Generic[StateT]):
    kind: str
    state: type[StateT]
    initial: Callable[[Scope], StateT]
    transitions: tuple[Transition, ...]
    guard: Callable[[StateT, Transition, Any], None] = lambda s, t, d: None
    apply: Callable[[StateT, Transition, Any], StateT] = lambda s, t, d: s
    invariants: tuple[Invariant[StateT], ...] = ()
    by_command: dict[str, Transition] = field(init=False, repr=False)
    by_event: dict[str, Transition] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_command", {t.command: t for t in self.transitions})
        object.__setattr__(self, "by_event", {t.event: t for t in self.transitions})

    def row(self, command: str) -> Transition:
        try:
            return self.by_command[command]
        except KeyError:
            known = ", ".join(self.by_command)
            raise InputError(f"{self.kind}: unknown command {command!r}", f"known: {known}") from None

    def parse_data(self, row: Transition, data: dict[str, Any] | BaseModel) -> Any:
        raw = data.model_dump(mode="json") if isinstance(data, BaseModel) else data
        try:
            return row.data.model_validate(raw)
        except ValidationError as exc:
            raise InputError(f"{self.kind} {row.command}: {first_error(exc, 'data')}") from exc

    def decide(self, state: StateT, command: str, data: dict[str, Any] | BaseModel) -> Decision:
        """The event ``command`` produces from ``state``, or ``InvariantError``."""
        row = self.row(command)
        phase = getattr(state, "phase")  # noqa: B009 - every State has a phase
        if phase not in row.sources:
            allowed = ", ".join(row.sources)
            invariant = dict(row.refusals).get(phase, row.invariant or "TRANSITION_NOT_ALLOWED")
            raise InvariantError(
                f"{self.kind}: {row.command} is not allowed in phase {phase!r} (only from {allowed})",
                invariant,
            )
        parsed = self.parse_data(row, data)
        self.guard(state, row, parsed)
        return Decision(row.event, parsed.model_dump(mode="json"))

    def evolve(self, state: StateT, event_type: str, data: dict[str, Any]) -> StateT:
        row = self.by_event.get(event_type)
        if row is None:
            raise InputError(f"{self.kind}: unknown event type {event_type!r}")
        parsed = self.parse_data(row, data)
        new = self.apply(state, row, parsed)
        if row.target is not None:
            new = new.model_copy(update={"phase": row.target})
        return new

    def replay(self, scope: Scope, events: Iterable[tuple[str, dict[str, Any]]]) -> StateT:
        """Fold events without re-deciding (``verify`` re-decides separately)."""
        state = self.initial(scope)
        for event_type, data in events:
            state = self.evolve(state, event_type, data)
        return state

    def broken_invariants(self, state: StateT) -> list[str]:
        return [i.name for i in self.invariants if i.check is not None and not i.check(state)]
