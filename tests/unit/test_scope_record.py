"""``ScopeRecord.in_force``: which states a scope may have been in at a time. Verify asks it for
the archetype owners that judge an event and for the signed configuration a promotion or a bundle
had to follow; events of one second in different scopes have no order, so every state of that
second counts."""

from __future__ import annotations

import pytest

from gitdocket.core.log import Event
from gitdocket.lifecycles import scope
from gitdocket.lifecycles.config import ConfigState
from gitdocket.verify.context import ScopeRecord

TIMES = ("2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z", "2026-01-02T00:00:00Z", "2026-01-03T00:00:00Z")


def _record(times: tuple[str, ...], replayed: int | None = None) -> ScopeRecord[ConfigState]:
    events = [
        Event(seq=n, prev=None, at=at, type="config_applied", actor="root", data={}, policy_version=1)
        for n, at in enumerate(times, start=1)
    ]
    states = [ConfigState(phase="active", version=n) for n in range(1, len(times) + 1)]
    return ScopeRecord(scope("config"), events=events, states=states[:replayed])


@pytest.mark.parametrize(
    ("at", "versions"),
    [
        pytest.param("2025-12-31T00:00:00Z", [], id="before-the-first-event"),
        pytest.param("2026-01-01T00:00:00Z", [1], id="at-the-first-event"),
        pytest.param("2026-01-01T12:00:00Z", [1], id="between-events"),
        pytest.param("2026-01-02T00:00:00Z", [1, 2, 3], id="the-second-of-two-events-counts-each"),
        pytest.param("2026-01-02T12:00:00Z", [3], id="after-a-second-of-two-events"),
        pytest.param("2027-01-01T00:00:00Z", [4], id="after-the-last-event"),
    ],
)
def test_in_force(at: str, versions: list[int]) -> None:
    assert [state.version for state in _record(TIMES).in_force(at)] == versions


def test_in_force_reads_only_the_events_that_replayed_legally() -> None:
    record = _record(TIMES, replayed=2)
    assert [state.version for state in record.in_force("2027-01-01T00:00:00Z")] == [2]
    assert record.state_before("2027-01-01T00:00:00Z").version == 2
