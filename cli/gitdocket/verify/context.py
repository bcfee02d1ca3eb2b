"""What verification knows about one snapshot: every scope found, its parsed log and fold, the
policy at every version, and each archetype's owners over time. Built once, read by every check.

It also keeps what makes findings point at root causes: ``broken`` scopes (their log did not
parse, chain or replay, and a finding already says so) and ``missing`` scopes (named by a tag
or a record but absent, already reported). Checks that read another scope's fold skip those,
so one tampering yields its own finding instead of one per dependent record.
"""

from __future__ import annotations

import collections
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, Generic, Literal, Protocol, TypeVar, overload

from gitdocket.core.documents import Parser
from gitdocket.core.log import Event, iter_lines, newest_time, parse_line, read_log
from gitdocket.core.model import Record
from gitdocket.core.scopes import Scope, parse_scope_path
from gitdocket.core.tree import TreeView
from gitdocket.errors import DocketError
from gitdocket.lifecycles import machine_of, scope
from gitdocket.lifecycles.authz import SigstoreCheck, no_sigstore
from gitdocket.lifecycles.config import CONFIG_SCOPE
from gitdocket.lifecycles.policy import POLICY_SCOPE, PolicyState, Role, policy_versions
from gitdocket.verify.discovery import discover_only, discover_scopes, present
from gitdocket.verify.findings import Finding

if TYPE_CHECKING:  # the states name the types of reads; a lifecycle is built when its kind is read
    from gitdocket.lifecycles.archetype import ArchetypeState
    from gitdocket.lifecycles.bundle import BundleState
    from gitdocket.lifecycles.entitlement import EntitlementState
    from gitdocket.lifecycles.environment import DeploymentState
    from gitdocket.lifecycles.package import PackageState
    from gitdocket.lifecycles.placement import PlacementState
    from gitdocket.lifecycles.version import VersionState

__all__ = [
    "Context",
    "InProcess",
    "Keyless",
    "Pending",
    "RefView",
    "Runner",
    "ScopeRecord",
    "discover_scopes",
    "in_process",
    "names_of",
    "present",
    "run_split",
    "same_folder",
    "share_cut",
]

T = TypeVar("T")
R = TypeVar("R")
R_co = TypeVar("R_co", covariant=True)
S = TypeVar("S", bound=Record)


class Pending(Protocol[R_co]):
    """Results being computed by a ``Runner``."""

    def result(self) -> Sequence[R_co]:
        """``[fn(x) for x in items]``, in order."""
        ...

    def cancel(self) -> None:
        """Give up on the results (the caller failed)."""
        ...


class Runner(Protocol):
    """Where verification computes pure, independent parts of its work. The default,
    ``in_process``, computes them at once, here; the CLI passes ``forking.forked``, which uses a
    second process. Whatever runs ``fn`` must give the results running it here gives, so ``fn``
    only reads the context."""

    def __call__(self, fn: Callable[[T], R], items: Sequence[T], *, size: int | None = None) -> Pending[R]:
        """``size``: how much work the items stand for, counted in small items (a batch of a
        streamed verify is many scopes); ``len(items)`` when not given."""
        ...


class InProcess(Generic[R]):
    """``in_process``'s results: computed when created, in order."""

    def __init__(self, fn: Callable[[Any], R], items: Sequence[Any]) -> None:
        self.results = [fn(item) for item in items]

    def result(self) -> list[R]:
        return self.results

    def cancel(self) -> None:
        return None


def in_process(fn: Callable[[T], R], items: Sequence[T], *, size: int | None = None) -> InProcess[R]:
    return InProcess(fn, items)


def run_split(runner: Runner, fn: Callable[[T], R], items: Sequence[T], cut: int) -> list[R]:
    """``[fn(x) for x in items]``: ``items[:cut]`` through ``runner``, the rest here meanwhile."""
    pending = runner(fn, items[:cut])
    try:
        mine = [fn(item) for item in items[cut:]]
        theirs = pending.result()
    except BaseException:
        pending.cancel()
        raise
    return [*theirs, *mine]


def share_cut(sizes: Sequence[int], share: float) -> int:
    """The index before which ``sizes`` add up to ``share`` of their sum: where to cut a list of
    work (events, scopes) between a ``Runner`` and this process."""
    goal, seen = share * sum(sizes), 0
    for index, size in enumerate(sizes):
        if seen >= goal:
            return index
        seen += size
    return len(sizes)


class RefView(Protocol):
    """Refs and other commits, for the tag checks (implemented by the store adapter)."""

    def tags(self) -> dict[str, str]:
        """{tag name: commit id it peels to}."""
        ...

    def tree_at(self, commit: str) -> TreeView: ...

    def parent(self, commit: str) -> str | None:
        """The first parent of ``commit`` (None for a root commit)."""
        ...

    def tag_signature(self, name: str) -> tuple[bytes, bytes] | None:
        """(armored signature, signed bytes) of an annotated tag; None when unsigned."""
        ...

    def reaches(self, head: str, commit: str) -> bool:
        """``commit`` is ``head`` or one of its ancestors (through any parent)."""
        ...


@dataclass
class ScopeRecord(Generic[S]):
    scope: Scope[S]
    lines: list[bytes] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    readable: bool = True
    broken: bool = False
    """The log did not parse, chain, replay or extend its tagged prefix (a finding says so): its
    fold is not evidence for other checks."""
    states: list[S] = field(default_factory=list)
    """State after each event that replayed legally (``states[i]`` follows ``events[i]``): the
    whole log, or the prefix before the first illegal event."""
    size: int = 0
    """Bytes in the log (a cheap first test before a later context reuses this replay)."""
    replayed: tuple[list[Finding], bool] | None = None
    """Once the log was parsed, chained and replayed: the findings that said so and whether it
    was ``broken`` then (tags may break it later). Another context whose log holds the very same
    bytes takes both instead of replaying (``Context(prior=...)``)."""
    restore: Callable[[ScopeRecord[S]], None] | None = field(default=None, repr=False, compare=False)
    """Set on a ``release``d record (a streamed verify, ADR 0036): reads its ``lines``, ``events``
    and ``states`` again when something asks for them (they are functions of the log's bytes)."""

    def release(self, restore: Callable[[ScopeRecord[S]], None]) -> None:
        """Drop the parsed log and its fold, keeping ``broken`` and ``readable``; asking for
        ``lines``, ``events`` or ``states`` later calls ``restore`` to read them again."""
        for name in _HELD:
            self.__dict__.pop(name, None)
        self.replayed = None
        self.restore = restore

    def __getattr__(self, name: str) -> Any:
        # Only reached for an attribute the instance lacks: a released record's parsed log.
        restore = self.__dict__.get("restore")
        if name not in _HELD or restore is None:
            raise AttributeError(name)
        restore(self)
        return self.__dict__[name]

    @property
    def judged(self) -> list[tuple[Event, S]]:
        """The events that replayed legally, each with the state after it: the only events whose
        data other checks may read (their row's model validated every value, names included)."""
        return list(zip(self.events, self.states, strict=False))

    @property
    def state(self) -> S:
        if self.states:
            return self.states[-1]
        return machine_of(self.scope).initial(self.scope)

    def state_before(self, at: str) -> S:
        """The state as of the last event strictly earlier than ``at`` (an RFC 3339 UTC time):
        what another scope's event written at ``at`` must have seen. Events at the very same
        second are not counted: their order across logs is not known from time alone."""
        earlier = [state for event, state in zip(self.events, self.states, strict=False) if event.at < at]
        return earlier[-1] if earlier else machine_of(self.scope).initial(self.scope)

    def in_force(self, at: str) -> list[S]:
        """Every state the scope may have been in at time ``at``: the one after its last event
        dated before ``at``, and the one after each event dated exactly ``at`` (events of one
        second in different scopes have no order). Empty when no event came before or at it."""
        judged = self.judged
        before = [state for event, state in judged if event.at < at][-1:]
        return before + [state for event, state in judged if event.at == at]


_HELD = ("lines", "events", "states")
"""What ``ScopeRecord.release`` drops and ``restore`` reads again."""
RESTORED = 512
"""How many released records a context holds again at once after a check asked for them."""

Keyless = Callable[[TreeView], SigstoreCheck]
"""Builds the check of keyless signatures for one snapshot (``adapters.keyless.keyless_check``:
it reads the trusted roots pinned in that snapshot); verification never imports sigstore itself."""


class _Records(dict[Scope[Any], ScopeRecord[Any]]):
    """The records of a focused context (``Context(focus=...)``): iterating gives the scopes in
    focus only, the ones the checks judge; looking any other scope up (``get``, ``in``, ``[]``)
    reads and replays it from the snapshot on first use, as a full context would have held it.
    Those are outside the change, so the base verified them: their replay's findings (none)
    are not reported again."""

    def __init__(self, items: dict[Scope[Any], ScopeRecord[Any]], load: Callable[[Scope[Any]], Any]) -> None:
        super().__init__(items)
        self.load = load
        self.extra: dict[Scope[Any], ScopeRecord[Any] | None] = {}

    def _lookup(self, key: Scope[Any]) -> ScopeRecord[Any] | None:
        if dict.__contains__(self, key):
            return dict.__getitem__(self, key)
        if key not in self.extra:
            self.extra[key] = self.load(key)
        return self.extra[key]

    @overload
    def get(self, key: Scope[Any], default: None = None, /) -> ScopeRecord[Any] | None: ...
    @overload
    def get(self, key: Scope[Any], default: ScopeRecord[Any] | T, /) -> ScopeRecord[Any] | T: ...
    def get(self, key: Scope[Any], default: Any = None, /) -> Any:
        found = self._lookup(key)
        return default if found is None else found

    def __contains__(self, key: object) -> bool:
        return isinstance(key, Scope) and self._lookup(key) is not None

    def __getitem__(self, key: Scope[Any]) -> ScopeRecord[Any]:
        found = self._lookup(key)
        if found is None:
            raise KeyError(key)
        return found

    def loaded(self, key: Scope[Any]) -> ScopeRecord[Any] | None:
        """The record if it was read already (never reads one)."""
        return dict.get(self, key) or self.extra.get(key)


def names_of(record: ScopeRecord[Any]) -> list[Scope[Any]]:
    """The scopes ``record`` names (``Context.named``): every version and package names its
    archetype, a package its version, a version its packages, a fork its origin, every event
    the policy."""
    target = record.scope
    names: list[Scope[Any] | None] = []
    if target.kind != "policy" and record.events:
        names.append(scope("policy"))  # every event names the policy version it obeys
    if target.kind in ("version", "package"):
        names.append(scope("archetype", target.keys[0]))
    if target.kind == "package":
        names.append(scope("version", *target.keys))
    state = record.state
    names.extend(parse_scope_path(p) for p in getattr(state, "packages", ()) or ())
    origin = getattr(state, "forked_from", None)
    if origin is not None:
        names.append(parse_scope_path(f"registry/archetypes/{origin.archetype}"))
        if origin.version:
            names.append(parse_scope_path(f"registry/versions/{origin.archetype}/{origin.version}"))
    return [name for name in names if name is not None]


def same_folder(before: TreeView, after: TreeView, path: str) -> bool:
    """``path`` is the very same git tree in both (so is every file below it)."""
    found = after.tree_id(path)
    return found is not None and before.tree_id(path) == found


def _reuse(prior: Context | None, target: Scope[S], data: bytes | None) -> ScopeRecord[S] | None:
    """A fresh record sharing ``prior``'s parse and replay of the same log bytes (``data``, or
    None when the scope's folder is the same git tree in both: its log is too)."""
    found = prior.loaded(target) if prior is not None else None
    if found is None or found.replayed is None or not found.readable:
        return None
    if data is not None and (found.size != len(data) or b"\n".join(found.lines) + b"\n" != data):
        return None  # (the lines are kept without their newlines)
    # The lists are shared, never changed: a replayed record is not appended to again.
    return ScopeRecord(
        target,
        found.lines,
        found.events,
        broken=found.replayed[1],
        states=found.states,
        size=found.size,
        replayed=found.replayed,
    )


class Context:
    """``parse_yaml`` reads the YAML documents (``registry.yaml``, ``archetype.yaml``): the command
    passes ``adapters.files.load_yaml``, so verification never imports a YAML library itself.
    ``clock`` is the verifier's clock (a ``Timestamp``): the CLI passes the system clock or
    ``--at``; None skips the checks that need one. ``keyless`` builds the check of Sigstore
    signatures (``Keyless``); without it they do not verify."""

    def __init__(
        self,
        tree: TreeView,
        refs: RefView | None = None,
        runner: Runner = in_process,
        *,
        parse_yaml: Parser,
        clock: str | None = None,
        prior: Context | None = None,
        keyless: Keyless | None = None,
        focus: set[Scope[Any]] | None = None,
        replay: Callable[[Context, ScopeRecord[Any]], object] | None = None,
        since: str | None = None,
        stream: tuple[frozenset[str], int] | None = None,
    ) -> None:
        """``prior``: a context of another commit whose logs were replayed; a scope whose log
        holds the same bytes here takes its parse and replay instead of repeating them (both
        are functions of the bytes alone), so a chain of commits costs what changed.

        ``focus`` (PR and history mode, ADR 0034): the scopes a change touched. The context
        then holds only those (and the policy and configuration, which every check reads), so
        the checks judge only them; any other scope is read and replayed (``replay``) when a
        check looks it up. ``since`` is the base commit: tags it reaches that name no scope in
        focus were judged with it.

        ``stream`` (a snapshot verify, ADR 0036): ``(kinds, threshold)``. When the snapshot holds
        at least ``threshold`` scopes of those kinds (and its policy), their logs are not read
        here: ``streamed`` names the kinds, and ``verify.stream`` reads, judges and releases
        them a batch at a time (``read_log``); a released record reads its log again when a
        check asks for it (``replay`` replays it then)."""
        self.tree = tree
        self.keyless = keyless
        self.sigstore: SigstoreCheck = keyless(tree) if keyless is not None else no_sigstore
        self.refs = refs
        self.runner = runner
        self.parse_yaml = parse_yaml
        self.clock = clock
        self.focus = focus
        self.since = since
        self.findings: list[Finding] = []
        self._prior = prior
        self._replay = replay
        if focus is None:
            scopes, found = discover_scopes(tree)
        else:
            scopes, found = discover_only(tree, {*focus, POLICY_SCOPE, CONFIG_SCOPE})
        self.findings.extend(found)
        self.streamed: frozenset[str] = frozenset()
        if stream is not None and POLICY_SCOPE in scopes:
            kinds, threshold = stream
            if sum(1 for s in scopes if s.kind in kinds) >= threshold:
                self.streamed = kinds
        self._restored: collections.deque[ScopeRecord[Any]] = collections.deque()
        records = {
            s: self._unread(s) if s.kind in self.streamed else self._parse(s, prior, self.findings) for s in scopes
        }
        self.records: dict[Scope[Any], ScopeRecord[Any]] = (
            records if focus is None else _Records(records, self._outside)
        )
        self._order: list[Scope[Any]] = []
        policy = self.records.get(POLICY_SCOPE)
        self.policies = policy_versions((e.type, e.data) for e in (policy.events if policy else []))
        """``policies[v]`` is the policy at version ``v`` (index 0: before initialization)."""
        self.missing: set[Scope[Any]] = set()
        """Absent scopes already reported (``SCOPE_DELETED``)."""
        self.marked: set[Scope[Any]] = set()
        """Absent scopes that records name, known before their ``SCOPE_DELETED`` is reported (a
        streamed verify judges each batch before it reports the deleted scopes of all of them)."""
        self.view: list[Scope[Any]] | None = None
        """The scopes ``ordered`` (and so every check) iterates, when not all: a streamed
        verify's batch, or everything but the streamed kinds."""
        self.newest_from: Callable[[], str | None] | None = None
        """Where a focused context learns its newest event time (history mode: from the step
        before it), instead of scanning every log."""
        self.newest_bound: str | None = None
        """A time no event of this (focused, verified) context is newer than, known without
        reading its logs: the verifier's clock, or later events a history step appended."""

    def _outside(self, target: Scope[Any]) -> ScopeRecord[Any] | None:
        """A scope outside the focus, read and replayed on first use; None when absent."""
        if not present(self.tree, target):
            return None
        record = self._parse(target, self._prior, [])
        if self._replay is not None and record.readable:
            self._replay(self, record)
        return record

    def _unread(self, target: Scope[Any]) -> ScopeRecord[Any]:
        record: ScopeRecord[Any] = ScopeRecord(target)
        self.release(record)
        return record

    def _restore(self, record: ScopeRecord[Any]) -> None:
        """Read a released record's log again, with its replay (its findings were reported when
        it was judged, its ``broken`` stays what that judged). The last ``RESTORED`` records
        read so stay held; older ones are released again."""
        fresh = self._parse(record.scope, None, [])
        if fresh.readable and self._replay is not None:
            self._replay(self, fresh)
        record.lines, record.events, record.states = fresh.lines, fresh.events, fresh.states
        self._restored.append(record)
        if len(self._restored) > RESTORED:
            self._restored.popleft().release(self._restore)

    def release(self, record: ScopeRecord[Any]) -> None:
        """Release ``record`` (``ScopeRecord.release``): it is read again when asked for."""
        record.release(self._restore)

    def read_log(self, target: Scope[Any], sink: list[Finding]) -> ScopeRecord[Any]:
        """Read and parse ``target``'s log into a new record held by this context (a streamed
        batch); ``LOG_UNREADABLE`` findings go to ``sink``."""
        record = self._parse(target, None, sink)
        self.records[target] = record
        return record

    def loaded(self, target: Scope[Any]) -> ScopeRecord[Any] | None:
        """The record of ``target`` if this context read it already (never reads one)."""
        if isinstance(self.records, _Records):
            return self.records.loaded(target)
        return self.records.get(target)

    @cached_property
    def newest(self) -> str | None:
        """The newest event time of every log: of the records, or, in a focused context, what
        ``newest_from`` says, else of every log in the snapshot (a scan of their bytes; the same
        for a verified snapshot)."""
        if self.newest_from is not None:
            return self.newest_from()
        if self.focus is not None or self.streamed:  # (released records are not read again for it)
            return newest_time(self.tree)
        return max((e.at for record in self.records.values() for e in record.events), default=None)

    # -- building ------------------------------------------------------------------------------

    def add(self, finding: Finding) -> None:
        self.findings.append(finding)

    def _parse(self, target: Scope[S], prior: Context | None, sink: list[Finding]) -> ScopeRecord[S]:
        unchanged = prior is not None and same_folder(prior.tree, self.tree, target.path)
        data = None if unchanged else read_log(self.tree, target)
        reused = _reuse(prior, target, data)
        if reused is not None:
            return reused
        if data is None:
            data = read_log(self.tree, target)
        record = ScopeRecord(target, size=len(data))
        for number, line in iter_lines(data):
            where = f"{target.history_path}:{number}"
            try:
                record.events.append(parse_line(line, where))
                record.lines.append(line)
            except DocketError as exc:
                self._unreadable(record, where, exc.message.removeprefix(f"{where}: "), sink)
                return record
        if data and not data.endswith(b"\n"):
            self._unreadable(
                record,
                f"{target.history_path}:{len(record.lines)}",
                "last line has no newline (truncated?)",
                sink,
            )
        return record

    def deleted(self, target: Scope[Any], why: str) -> Finding:
        """The finding that ``target`` is gone although ``why`` proves it existed; it is now
        ``missing``, so checks that depend on it stay quiet."""
        self.missing.add(target)
        return Finding(
            target.path,
            "SCOPE_DELETED",
            f"is gone, but {why}",
            target.label,
            hint=f"scopes are never deleted; restore {target.path} from git history",
        )

    @staticmethod
    def _unreadable(record: ScopeRecord[Any], where: str, message: str, sink: list[Finding]) -> None:
        sink.append(
            Finding(
                where,
                "LOG_UNREADABLE",
                message,
                record.scope.label,
                hint="history is written by gitdocket only; restore it from git history",
            )
        )
        record.readable = False
        record.broken = True

    # -- reading -------------------------------------------------------------------------------

    def record(self, target: Scope[S]) -> ScopeRecord[S] | None:
        found: ScopeRecord[S] | None = self.records.get(target)
        return found

    def state(self, target: Scope[S]) -> S | None:
        """The fold of ``target``'s log, or None when the scope is absent or its log is empty."""
        record = self.record(target)
        return record.state if record and record.events else None

    def ordered(self) -> list[tuple[Scope[Any], ScopeRecord[Any]]]:
        """``records`` sorted by scope. Each comparison of two scopes runs dataclass code, so the
        order is computed once (and again only if ``records`` changed size)."""
        if self.view is not None:
            return [(s, self.records[s]) for s in self.view]
        if len(self._order) != len(self.records):
            self._order = sorted(self.records)
        return [(s, self.records[s]) for s in self._order]

    @overload
    def scopes(self, kind: Literal["archetype"]) -> list[ScopeRecord[ArchetypeState]]: ...
    @overload
    def scopes(self, kind: Literal["version"]) -> list[ScopeRecord[VersionState]]: ...
    @overload
    def scopes(self, kind: Literal["package"]) -> list[ScopeRecord[PackageState]]: ...
    @overload
    def scopes(self, kind: Literal["placement"]) -> list[ScopeRecord[PlacementState]]: ...
    @overload
    def scopes(self, kind: Literal["entitlement"]) -> list[ScopeRecord[EntitlementState]]: ...
    @overload
    def scopes(self, kind: Literal["bundle"]) -> list[ScopeRecord[BundleState]]: ...
    @overload
    def scopes(self, kind: Literal["environment"]) -> list[ScopeRecord[DeploymentState]]: ...
    def scopes(self, kind: str) -> list[ScopeRecord[Any]]:
        """Every record of one kind, typed by its lifecycle's state."""
        return [r for s, r in self.ordered() if s.kind == kind]

    def sound(self, target: Scope[Any]) -> bool:
        """True when ``target`` exists and its fold can be trusted by other checks."""
        record = self.records.get(target)
        return record is not None and not record.broken

    def accounted(self, target: Scope[Any]) -> bool:
        """True when a finding about ``target`` itself already explains anything that depends
        on it: its log is broken, or it is missing and was reported."""
        record = self.records.get(target)
        return target in self.missing or target in self.marked if record is None else record.broken

    @cached_property
    def named(self) -> dict[Scope[Any], str]:
        """Scopes that other records name, with the first record naming each: every version
        and package names its archetype, a package its version, a version its packages, a fork
        its origin, every event the policy. A named scope that is absent was deleted."""
        out: dict[Scope[Any], str] = {}
        for target, record in self.ordered():
            for name in names_of(record):
                out.setdefault(name, target.label)
        return out

    def policy_at(self, version: int) -> PolicyState | None:
        return self.policies[version] if 0 <= version < len(self.policies) else None

    def owners_at(self, archetype: str, at: str) -> Role | None:
        """The archetype's owners in force at time ``at`` (the last owner event not after it)."""
        found = self.owners_candidates(archetype, at)
        return found[-1] if found else None

    def owners_candidates(self, archetype: str, at: str) -> list[Role | None]:
        """Every owner set the archetype may have had at time ``at``: the one before its first
        event dated ``at``, and the one after each event dated exactly ``at`` (events of one
        second in different scopes have no order). An event dated before the archetype existed
        gets its first owners: its date is the finding (``EVENT_BACKDATED``), not its signers."""
        try:
            target = scope("archetype", archetype)
        except DocketError:  # a role naming no legal archetype (a forged event): nobody holds it
            return []
        record = self.record(target)
        if record is None or not record.states:
            return []
        chosen = record.in_force(at) or record.states[:1]
        return [state.owners_role for state in chosen]
