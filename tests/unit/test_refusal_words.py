"""Refusals in the user's words: every row of every lifecycle, tried from every phase it is not
allowed in, says what was tried (``cannot freeze version support-triage 1.0.0``), why (where the
instance stands: ``it is already frozen``), which invariant (in parentheses), and what to do next
— and never names an internal command or event (``ReviseDraft``, ``draft_revised``).

Guard refusals are checked where each lifecycle's teeth tests trigger them (``assert_worded`` in
``lifecycle_checks``) and in the Hypothesis stateful tests; CLI refusals in
``tests/cli/test_refusal_words.py``."""

from __future__ import annotations

from typing import Any, get_args

import pytest

from gitdocket.errors import InvariantError
from gitdocket.lifecycles import INVARIANTS, LIFECYCLES, scope
from gitdocket.lifecycles.machine import Machine
from tests.unit.lifecycle_checks import IDENTIFIERS, assert_worded, identifiers_in

KEYS: dict[str, tuple[str, ...]] = {
    "policy": (),
    "config": (),
    "archetype": ("support-triage",),
    "version": ("support-triage", "1.0.0"),
    "package": ("support-triage", "1.0.0"),
    "placement": ("acme", "triage"),
    "entitlement": ("acme", "triage"),
    "bundle": ("pr-preview-20260101-000000-c8a770ee",),
    "environment": ("prod",),
}

REFUSED = [
    pytest.param(kind, row.command, phase, id=f"{kind}-{row.command}-from-{phase}")
    for kind, machine in LIFECYCLES.items()
    for row in machine.transitions
    for phase in machine.phases
    if phase not in row.sources
]


def _in_phase(machine: Machine[Any], kind: str, phase: str) -> Any:
    return machine.initial(scope(kind, *KEYS[kind])).model_copy(update={"phase": phase})


@pytest.mark.parametrize(("kind", "command", "phase"), REFUSED)
def test_every_row_is_refused_in_words_from_every_other_phase(kind: str, command: str, phase: str) -> None:
    machine = LIFECYCLES[kind]
    state = _in_phase(machine, kind, phase)
    with pytest.raises(InvariantError) as info:
        machine.decide(state, command, {})
    assert_worded(machine, state, command, info.value)
    assert info.value.message.startswith(f"cannot {machine.row(command).does} {machine.subject(state)}: ")
    assert f": {machine.phases[phase]} (" in info.value.message


def test_the_walk_covers_every_row() -> None:
    walked = {(p.values[0], p.values[1]) for p in REFUSED}
    rows = {(k, r.command) for k, m in LIFECYCLES.items() for r in m.transitions if set(m.phases) - set(r.sources)}
    assert walked == rows
    assert len(REFUSED) > 100


@pytest.mark.parametrize("kind", LIFECYCLES)
def test_every_phase_is_described(kind: str) -> None:
    """``phases`` words every phase the state can be in, and no other."""
    machine = LIFECYCLES[kind]
    assert set(get_args(machine.state.model_fields["phase"].annotation)) == set(machine.phases)
    assert all(words.strip() and identifiers_in(words) == [] for words in machine.phases.values())


def test_freezing_a_frozen_version_says_it_is_frozen_and_what_to_do() -> None:
    machine = LIFECYCLES["version"]
    with pytest.raises(InvariantError) as info:
        machine.decide(_in_phase(machine, "version", "frozen"), "FreezeVersion", {})
    assert info.value.message == (
        "cannot freeze version support-triage 1.0.0: it is already frozen (FROZEN_VERSION_IMMUTABLE)"
    )
    assert info.value.hint == (
        "a frozen version never changes; change method/ and freeze a new version: "
        "`gitdocket version freeze support-triage NEW-VERSION`"
    )


def test_a_refusal_cites_the_row_or_its_phase_specific_invariant() -> None:
    version = LIFECYCLES["version"]
    cited = {
        phase: version.refusal(_in_phase(version, "version", phase), version.row("RecordPackageReference"))
        for phase in ("draft", "retired")
    }
    assert {p: r.invariant for p, r in cited.items() if r is not None} == {
        "draft": "PACKAGE_REQUIRES_FROZEN_VERSION",
        "retired": "RETIREMENT_BLOCKS_FUTURE_PACKAGING",
    }
    assert version.refusal(_in_phase(version, "version", "frozen"), version.row("RecordPackageReference")) is None


def test_the_identifier_check_has_teeth() -> None:
    """The check the walk relies on catches both kinds of internal name, and spares English."""
    assert identifiers_in("version: ReviseDraft is not allowed in phase 'frozen'") == ["ReviseDraft"]
    assert identifiers_in("wrote draft_revised") == ["draft_revised"]
    assert identifiers_in("it is already verified; it was built and promoted") == []
    assert {"ReviseDraft", "InitPolicy", "draft_revised", "Promote"} <= set(IDENTIFIERS)


def test_every_row_words_a_refusal() -> None:
    """No row lacks what a refusal is made of (``Machine`` refuses such a table at import)."""
    for machine in LIFECYCLES.values():
        for row in machine.transitions:
            assert row.does and row.hint, row.command
            assert row.invariant.name in INVARIANTS
            assert all(r.invariant is INVARIANTS[r.invariant.name] for r in row.refusals)
