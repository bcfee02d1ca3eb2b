"""Hypothesis: a writer that reads each scope from its end (``current.json`` at the log's last
line, ADR 0033) decides and writes exactly what a writer that replays every log from its first
event does, over random promotions, rollbacks and version commands; and after every step each
``current.json`` is the rendering of its log's full fold (what ``verify`` checks)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from gitdocket.core import log as core_log
from gitdocket.core.canonical import loads_strict
from gitdocket.core.log import head_digest, last_lines, read_log, render_current, segment_paths, segments
from gitdocket.core.scopes import Scope, scope
from gitdocket.core.tree import MemoryTree
from gitdocket.errors import DocketError
from gitdocket.lifecycles import machine_of
from gitdocket.lifecycles.environment import rollback_target
from gitdocket.ops.transaction import ScopeLog, Transaction, load_log, load_tail
from tests.factories import AT, TREE, TREE2, committed, policy_init, signer, snapshot

ENV = scope("environment", "prod")
VERSIONS = [scope("version", "support-triage", v) for v in ("1.0.0", "1.1.0")]
BUNDLES = [f"b{n}-20260101-000000-0000000{n}" for n in range(4)]
SCOPES: list[Scope[Any]] = [ENV, *VERSIONS, scope("archetype", "support-triage")]


class Replaying(Transaction):
    """The writer as it was before ADR 0033: every log folded from its first event."""

    def log(self, target: Scope[Any]) -> ScopeLog[Any]:
        if target not in self._logs:
            self._logs[target] = load_log(self.tree, target)
        return self._logs[target]


def _registry() -> MemoryTree:
    init = policy_init()
    init["roles"]["promoters:prod"] = {"principals": ["alice"], "threshold": 1}
    tx = Transaction(MemoryTree({}), [signer("alice")], AT, "alice")
    tx.apply(scope("policy"), "InitPolicy", init)
    tree = committed(MemoryTree({}), tx)
    tx = Transaction(tree, [signer("alice")], AT)
    tx.apply(scope("archetype", "support-triage"), "CreateArchetype", {"owners": ["alice"], "threshold": 1})
    return committed(tree, tx)


def _promote(bundle: str, override: bool) -> Callable[[Transaction], None]:
    def write(tx: Transaction) -> None:
        state = tx.state(ENV)
        tx.apply(
            ENV,
            "Promote",
            {
                "override": "fixed and re-tested" if override else None,
                "bundle_id": bundle,
                "bundle_tree": "a" * 40,
                "manifest_digest": "sha256:" + "0" * 64,
                "source_environment": None,
                "allowed_sources": [None],
                "require_gate": False,
                "gated": False,
                "sequence": state.sequence + 1,
                "previous_bundle_id": state.bundle_id,
                "promoted_at": "2026-01-01T00:00:00Z",
                "promoted_by": "alice",
            },
        )

    return write


def _rollback(to: str | None) -> Callable[[Transaction], None]:
    def write(tx: Transaction) -> None:
        state = tx.replayed(ENV).state
        target = to if to is not None else rollback_target(state)
        tx.apply(
            ENV,
            "Rollback",
            {
                "target": target or BUNDLES[0],
                "requested": to is not None,
                "reason": "regression",
                "sequence": state.sequence + 1,
                "previous_bundle_id": state.bundle_id,
                "rolled_back_at": "2026-01-01T00:00:00Z",
                "rolled_back_by": "alice",
            },
        )

    return write


def _version(index: int, command: str) -> Callable[[Transaction], None]:
    data: dict[str, Any] = {
        "CreateDraft": {"method_tree": TREE},
        "ReviseDraft": {"method_tree": TREE2},
        "FreezeVersion": snapshot(),
        "RetireVersion": {"reason": "superseded"},
        "AbandonDraft": {"reason": "dropped"},
    }[command]
    return lambda tx: tx.apply(VERSIONS[index], command, data) and None


class Writes(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.tree = _registry()

    def _both(self, write: Callable[[Transaction], None]) -> None:
        """Run ``write`` on both writers from the same tree: both refuse alike, or both stage
        the same bytes (signatures are deterministic); keep the tail reader's."""
        outcomes: list[object] = []
        kept: Transaction | None = None
        for kind in (Transaction, Replaying):
            tx = kind(self.tree, [signer("alice")], AT)
            try:
                write(tx)
            except DocketError as exc:
                outcomes.append((type(exc).__name__, str(exc)))
                continue
            outcomes.append(dict(tx.writes))
            kept = kept or tx
        assert outcomes[0] == outcomes[1]
        if kept is not None:
            self.tree = committed(self.tree, kept)

    @rule(bundle=st.sampled_from(BUNDLES), override=st.booleans())
    def promote(self, bundle: str, override: bool) -> None:
        self._both(_promote(bundle, override))

    @rule(to=st.one_of(st.none(), st.sampled_from(BUNDLES)))
    def roll_back(self, to: str | None) -> None:
        self._both(_rollback(to))

    @rule(
        index=st.integers(0, len(VERSIONS) - 1),
        command=st.sampled_from(["CreateDraft", "ReviseDraft", "FreezeVersion", "RetireVersion", "AbandonDraft"]),
    )
    def version(self, index: int, command: str) -> None:
        self._both(_version(index, command))

    @invariant()
    def every_pointer_is_the_full_fold(self) -> None:
        for target in SCOPES:
            log = load_log(self.tree, target)
            if not log.exists:
                continue
            state = machine_of(target).replay(target, ((e.type, e.data) for e in log.events))
            assert log.history == read_log(self.tree, target)
            head = head_digest(last_lines(log.history)[0])
            expected = render_current(target.path, state.model_dump(mode="json"), log.seq, head)
            assert self.tree.read(target.current_path) == expected
            # ... and the next write reads it from its end, never falling back
            tail = load_tail(self.tree, target)
            assert tail is not None and tail.state.model_dump(mode="json") == state.model_dump(mode="json")


TestWrites = Writes.TestCase
TestWrites.settings = settings(max_examples=40, stateful_step_count=20, deadline=None)


def test_the_machine_accepts_legal_writes() -> None:
    """The comparison above is not vacuous: legal writes go through both writers and land."""
    machine = Writes()
    for step in (lambda: machine.promote(BUNDLES[0], False), lambda: machine.version(0, "CreateDraft")):
        before = dict(machine.tree.files)
        step()
        assert machine.tree.files != before
    machine.every_pointer_is_the_full_fold()


class SegmentedWrites(Writes):
    """The same, with logs sealed every few events (ADR 0037): the tail reader, which reads no
    sealed segment but for the last line of the newest, and the full replay, which reads them
    all, still stage the same files, seals included; a rollback reads the whole release list
    across the segments."""

    def __init__(self) -> None:
        self._size = core_log.SEGMENT_BYTES
        core_log.SEGMENT_BYTES = 2_500  # two or three events a segment
        super().__init__()

    def teardown(self) -> None:
        core_log.SEGMENT_BYTES = self._size

    @invariant()
    def the_segments_make_up_the_log(self) -> None:
        for target in SCOPES:
            sealed = segments(self.tree, target)
            assert read_log(self.tree, target) == b"".join(d for _p, d in sealed) + (
                self.tree.read(target.history_path) or b""
            )
            for path, data in sealed:
                assert data.endswith(b"\n") and len(data) <= core_log.SEGMENT_BYTES
                first = int(path.rsplit("/", 1)[1].removesuffix(".jsonl"))
                assert loads_strict(data.split(b"\n", 1)[0], path)["seq"] == first


TestSegmentedWrites = SegmentedWrites.TestCase
TestSegmentedWrites.settings = settings(max_examples=25, stateful_step_count=25, deadline=None)


def test_the_segmented_machine_seals() -> None:
    """Not vacuous: a few promotions seal the environment's log, and the next write still reads
    it from its end."""
    machine = SegmentedWrites()
    try:
        for n in range(6):
            machine.promote(BUNDLES[n % 2], False)
        assert len(segments(machine.tree, ENV)) >= 2
        machine.roll_back(None)
        machine.every_pointer_is_the_full_fold()
        machine.the_segments_make_up_the_log()
    finally:
        machine.teardown()


class _Reads(MemoryTree):
    """A tree that remembers every path read."""

    def __init__(self, files: dict[str, bytes]) -> None:
        super().__init__(files)
        self.reads: list[str] = []

    def read(self, path: str) -> bytes | None:
        self.reads.append(path)
        return super().read(path)


def test_a_write_reads_no_sealed_segment_but_the_newest_one() -> None:
    """What keeps a write's cost flat (ADR 0037): reading a long log from its end touches
    ``history.jsonl``, ``current.json`` and at most the newest sealed segment, and a promotion
    writes nothing longer than the open segment."""
    machine = SegmentedWrites()
    try:
        for n in range(12):
            machine.promote(BUNDLES[n % 2], False)
        sealed = segment_paths(machine.tree, ENV)
        assert len(sealed) >= 4
        tree = _Reads(dict(machine.tree.files))
        tx = Transaction(tree, [signer("alice")], AT)
        _promote(BUNDLES[0], False)(tx)
        assert {p for p in tree.reads if p.startswith(f"{ENV.segments_path}/")} <= {sealed[-1]}
        assert all(len(v) <= core_log.SEGMENT_BYTES for v in tx.writes.values() if isinstance(v, bytes))
    finally:
        machine.teardown()
