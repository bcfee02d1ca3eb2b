"""The shape every lifecycle shares: a table of transition rows, ``decide`` and ``evolve``.

A lifecycle is a ``Machine``: a typed ``State`` with a ``phase``, and a table of ``Transition``
rows. A row is the whole rule of one command, as data: the event it appends, the phases it is
allowed from and the one it leads to, its data, who signs it (``role``), what it does in the
user's words (``does``), the invariant and the hint a refusal from any other phase gives, its
``guard`` (rules beyond the phase) and its ``apply`` (state changes beyond the phase). Nothing is
keyed by a command's name, so no typo can disable a guard.

One command emits exactly one event whose data is the command's data, so ``verify`` replays a log
by re-deciding each event (``judge``); the writers fold a log they trust (``replay``). Refusals
are worded for people: ``cannot freeze version support-triage 1.0.0: it is already frozen
(FROZEN_VERSION_IMMUTABLE)`` with a hint, never a command or event name. Pure: no I/O, no clock.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import KW_ONLY, dataclass, field
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ValidationError

from gitdocket.core.model import Record, first_error
from gitdocket.core.scopes import Scope
from gitdocket.errors import InputError, Invariant, InvariantError
from gitdocket.lifecycles.invariants import TRANSITION_NOT_ALLOWED

__all__ = ["Decision", "Invariant", "Machine", "NoData", "Refusal", "StateT", "Transition"]


class NoData(Record):
    """Data of a command that carries none."""


StateT = TypeVar("StateT", bound=Record)
DataT = TypeVar("DataT", bound=Record)


@dataclass(frozen=True)
class Refusal:
    """What a refusal of a row from ``phases`` cites, and what to do instead (the row's own
    ``hint`` when empty)."""

    phases: tuple[str, ...]
    invariant: Invariant
    hint: str = ""


@dataclass(frozen=True)
class Transition(Generic[StateT, DataT]):
    """One row of a lifecycle's table. ``hint`` (and a ``Refusal``'s) may name the state's fields
    in braces, e.g. ``{archetype}``: they are filled in when the refusal is raised."""

    command: str
    event: str
    sources: tuple[str, ...]
    target: str | None
    data: type[DataT]
    _: KW_ONLY
    does: str
    """What the command does, in the user's words, followed by the scope: ``freeze``."""
    hint: str
    """What to do instead when the command is refused from a phase it is not allowed in."""
    role: str = ""
    """Who may sign: a policy role template formatted with the scope keys ``{0}``, ``{1}`` and the
    command data's fields, e.g. ``owners:{0}`` or ``promoters:{0}``."""
    invariant: Invariant = TRANSITION_NOT_ALLOWED
    """What a refusal from a phase outside ``sources`` cites (unless ``refusals`` says otherwise)."""
    refusals: tuple[Refusal, ...] = ()
    guard: Callable[[StateT, DataT], None] | None = None
    """Rules beyond the phase: raises ``InvariantError`` with the reason (``decide`` words it)."""
    timed: Callable[[StateT, DataT, str], None] | None = None
    """Rules that also need the event's time (a ``Timestamp``: the writer's date for its event,
    the recorded ``at`` when ``verify`` replays it), e.g. a request that expired."""
    apply: Callable[[StateT, DataT], StateT] | None = None
    """State changes beyond the phase."""
    needs_history: bool = False
    """Its rules read what ``current.json`` does not carry (an environment's releases and
    rollback path): a writer decides it on the fold of the whole log, not on ``current.json``."""
    signed_by: tuple[str, ...] = ()
    """Fields of the data (dotted paths) that name who did it: each must be the event's actor,
    the identity that signed it (``AUDIT_NAMES_SIGNER``, checked by ``authz.authorize``)."""
    doc: str = ""


@dataclass(frozen=True)
class Decision:
    type: str
    data: dict[str, Any]


@dataclass(frozen=True)
class Machine(Generic[StateT]):
    """A lifecycle. ``subject`` names one instance from its state (``version support-triage
    1.0.0``); ``phases`` says in words where an instance stands in each phase (``it is already
    frozen``); ``invariants`` are the rules this lifecycle declares; ``holds`` pairs a rule with a
    predicate every state after every event must satisfy."""

    kind: str
    state: type[StateT]
    initial: Callable[[Scope[Any]], StateT]
    subject: Callable[[StateT], str]
    phases: Mapping[str, str]
    transitions: tuple[Transition[StateT, Any], ...]
    invariants: tuple[Invariant, ...] = ()
    holds: tuple[tuple[Invariant, Callable[[StateT], bool]], ...] = ()
    earlier: Mapping[str, Callable[[StateT], dict[str, Any]]] = field(default_factory=dict)
    """Earlier contract versions of ``current.json`` that ``verify`` still accepts, by contract
    id: the state as that version rendered it (ADR 0033)."""
    by_command: dict[str, Transition[StateT, Any]] = field(init=False, repr=False)
    by_event: dict[str, Transition[StateT, Any]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_command", {t.command: t for t in self.transitions})
        object.__setattr__(self, "by_event", {t.event: t for t in self.transitions})
        for row in self.transitions:
            named = {*row.sources, *(p for r in row.refusals for p in r.phases)}
            named |= {row.target} if row.target is not None else set()
            unknown = named - set(self.phases)
            if unknown or not (row.does and row.hint):
                raise ValueError(f"{self.kind}: row {row.command} names undescribed phases or lacks words: {unknown}")

    # -- the table -----------------------------------------------------------------------------

    def row(self, command: str) -> Transition[StateT, Any]:
        try:
            return self.by_command[command]
        except KeyError:
            known = ", ".join(self.by_command)
            raise InputError(f"{self.kind}: unknown command {command!r}", f"known: {known}") from None

    def refusal(self, state: StateT, row: Transition[StateT, Any]) -> InvariantError | None:
        """The refusal of ``row`` in ``state``'s phase, or None when the phase allows it."""
        phase = getattr(state, "phase")  # noqa: B009 - every State has a phase
        if phase in row.sources:
            return None
        chosen = next((r for r in row.refusals if phase in r.phases), Refusal((phase,), row.invariant))
        fields = {name: getattr(state, name) for name in type(state).model_fields}
        return InvariantError(
            f"cannot {row.does} {self.subject(state)}: {self.phases[phase]}",
            chosen.invariant,
            (chosen.hint or row.hint).format_map(fields),
        )

    def check(self, state: StateT, command: str) -> None:
        """Refuse ``command`` now if ``state``'s phase does not allow it (what ``decide`` does
        first): the writers ask before they do expensive work."""
        refused = self.refusal(state, self.row(command))
        if refused is not None:
            raise refused

    @contextmanager
    def refusing(self, state: StateT, command: str) -> Iterator[None]:
        """Word a refusal raised inside (a rule's reason) as a refusal of ``command`` on
        ``state``'s instance: ``cannot <does> <subject>: <reason>``. ``decide`` runs guards in
        it; a writer that asks a rule before ``apply`` does too."""
        row = self.row(command)
        try:
            yield
        except InvariantError as exc:
            raise InvariantError(f"cannot {row.does} {self.subject(state)}: {exc.reason}", exc.rule, exc.hint) from None

    def parse_data(self, row: Transition[StateT, Any], data: dict[str, Any] | BaseModel, subject: str = "") -> Any:
        """``data`` as the row's data model; ``subject`` names the instance in the error."""
        raw = data.model_dump(mode="json") if isinstance(data, BaseModel) else data
        try:
            return row.data.model_validate(raw)
        except ValidationError as exc:
            raise InputError(
                f"cannot {row.does} {subject or self.kind}: {first_error(exc, 'data')}",
                "the command's data is built by gitdocket; check the values you passed",
            ) from exc

    # -- deciding and folding ------------------------------------------------------------------

    def decide(self, state: StateT, command: str, data: dict[str, Any] | BaseModel, at: str | None = None) -> Decision:
        """The event ``command`` produces from ``state`` at time ``at``, or ``InvariantError``.
        Without ``at`` the row's ``timed`` rules are not asked (the writers and ``verify`` always
        pass it)."""
        row = self.row(command)
        parsed = self._admitted(state, row, data, at)
        return Decision(row.event, parsed.model_dump(mode="json"))

    def _admitted(
        self, state: StateT, row: Transition[StateT, Any], data: dict[str, Any] | BaseModel, at: str | None
    ) -> Any:
        """``data`` as ``row``'s data model, once the row's phase, guard and timed rules admit it
        in ``state`` (what ``decide`` asks)."""
        refused = self.refusal(state, row)
        if refused is not None:
            raise refused
        parsed = self.parse_data(row, data, self.subject(state))
        with self.refusing(state, row.command):
            if row.guard is not None:
                row.guard(state, parsed)
            if row.timed is not None and at is not None:
                row.timed(state, parsed, at)
        return parsed

    def evolve(self, state: StateT, event_type: str, data: dict[str, Any]) -> StateT:
        row = self.by_event.get(event_type)
        if row is None:
            raise InputError(f"{self.kind}: unknown event type {event_type!r}", "restore the log from git history")
        return self._applied(state, row, self.parse_data(row, data))

    @staticmethod
    def _applied(state: StateT, row: Transition[StateT, Any], parsed: Any) -> StateT:
        new = row.apply(state, parsed) if row.apply is not None else state
        if row.target is not None:
            new = new.model_copy(update={"phase": row.target})
        return new

    def judge(self, state: StateT, event_type: str, data: dict[str, Any], at: str | None = None) -> StateT:
        """The state after a recorded event (recorded at ``at``), judged: it must be exactly what
        ``decide`` produces from ``state``. Raises ``InvariantError`` (it would be refused) or ``InputError`` (an
        unknown type, data no command carries, or other data than the command produces; these
        name the stored event type, which is what the log says). ``verify`` replays every log
        through this."""
        row = self.by_event.get(event_type)
        if row is None:
            raise InputError(f"unknown event type {event_type!r}", "restore the log from git history")
        decided = self.row(row.command)
        try:
            parsed = self._admitted(state, decided, data, at)  # what ``decide`` does
        except InputError as exc:  # data no command of this row would carry
            raise InputError(f"{event_type} would be refused: {exc.message}", "the log was edited by hand") from exc
        if (decided.event, parsed.model_dump(mode="json")) != (event_type, data):
            raise InputError("event data is not what the command produces", "the log was edited by hand")
        if decided is not row:  # (two rows of one command: ``evolve`` parses with the event's)
            return self.evolve(state, event_type, data)
        # ``evolve`` would parse the same data with the same row again: apply what was parsed.
        return self._applied(state, row, parsed)

    def fold(self, scope: Scope[Any], events: Iterable[tuple[str, dict[str, Any]]]) -> Iterator[StateT]:
        """The state after each event, without re-deciding (a log the caller trusts)."""
        state = self.initial(scope)
        for event_type, data in events:
            state = self.evolve(state, event_type, data)
            yield state

    def replay(self, scope: Scope[Any], events: Iterable[tuple[str, dict[str, Any]]]) -> StateT:
        """The fold of ``events`` (the initial state when there are none)."""
        state = self.initial(scope)
        for state in self.fold(scope, events):  # noqa: B007 - the last state is the fold
            pass
        return state

    def restore(self, body: Mapping[str, Any]) -> StateT:
        """The state ``current.json`` holds (its body, without the ``log`` block). Only the fields
        it renders come back: a row that reads the others has ``needs_history``."""
        return self.state.model_validate(body)

    def in_earlier_contract(self, body: Mapping[str, Any]) -> bool:
        """Whether a ``current.json`` body is in one of the ``earlier`` contract versions."""
        contract = body.get("contract")
        return isinstance(contract, str) and contract in self.earlier

    def renderings(self, state: StateT) -> list[dict[str, Any]]:
        """Every form of ``state`` a ``current.json`` may hold: the current contract's first,
        then the earlier versions ``verify`` still accepts."""
        return [state.model_dump(mode="json"), *(render(state) for render in self.earlier.values())]

    # -- invariants ----------------------------------------------------------------------------

    def broken(self, state: StateT) -> list[Invariant]:
        return [rule for rule, holds in self.holds if not holds(state)]

    def broken_invariants(self, state: StateT) -> list[str]:
        return [rule.name for rule in self.broken(state)]
