"""Hypothesis over writers' clocks (issue 9, item 2): a write can never produce a registry that
``gitdocket verify`` rejects, whatever ``GITDOCKET_NOW`` says.

The system clock only moves forward (as a machine's does); ``GITDOCKET_NOW`` jumps anywhere: years
back, a minute back, into the future. Each step is a real write through the CLI on a real
repository: refused (one error line, the repository untouched) or written, and after every
written step ``verify`` at the system clock finds nothing. Policy expiries are set along the way,
so expired registries, renewals and writes dated just before an expiry are all tried."""

from __future__ import annotations

import shutil
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gitdocket.core.fields import format_time
from tests.support import EXAMPLES, Registry, pin_system_clock, run_cli, write_key

START = datetime(2026, 1, 1, tzinfo=UTC)
JUMPS = st.sampled_from(
    [
        timedelta(days=-3650),
        timedelta(days=-8),
        timedelta(days=-1),
        timedelta(minutes=-6),
        timedelta(minutes=-1),
        timedelta(0),
        timedelta(minutes=4),
        timedelta(minutes=6),
        timedelta(days=2),
    ]
) | st.integers(min_value=-400 * 24, max_value=48).map(lambda h: timedelta(hours=h))
"""How far ``GITDOCKET_NOW`` is from the system clock."""

OPERATIONS = st.one_of(
    st.tuples(st.just("archetype"), st.integers(0, 2)),
    st.tuples(st.just("draft"), st.integers(0, 2), st.integers(0, 3)),
    st.tuples(st.just("expires"), st.integers(-48, 24 * 30)),
    st.tuples(st.just("never"), st.just(0)),
)
STEPS = st.lists(st.tuples(OPERATIONS, JUMPS, st.integers(0, 72)), min_size=3, max_size=7)


def _folder(root: Path, name: str) -> Path:
    target = root / "src" / name
    if not target.exists():
        shutil.copytree(EXAMPLES / "support-triage", target)
        doc = target / "archetype.yaml"
        doc.write_text(doc.read_text().replace("name: support-triage", f"name: {name}"))
    return target


def _args(root: Path, operation: tuple[object, ...], clock: datetime) -> list[str]:
    kind = operation[0]
    if kind == "archetype":
        name = f"a{operation[1]}"
        return ["archetype", "new", name, "--from", str(_folder(root, name))]
    if kind == "draft":
        return ["version", "draft", f"a{operation[1]}", f"1.{operation[2]}.0"]
    if kind == "expires":
        hours = operation[1]
        assert isinstance(hours, int)
        return ["policy", "expires", format_time(clock + timedelta(hours=hours))]
    return ["policy", "expires", "never"]


@settings(max_examples=12, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=STEPS)
def test_no_clock_makes_a_write_that_verify_rejects(
    monkeypatch: pytest.MonkeyPatch, steps: list[tuple[tuple[object, ...], timedelta, int]]
) -> None:
    with tempfile.TemporaryDirectory(prefix="docket-time-") as tmp:
        root = Path(tmp)
        keys = root / "keys"
        keys.mkdir()
        alice = write_key(keys, "alice")
        clock = START
        pin_system_clock(monkeypatch, format_time(clock))
        monkeypatch.setenv("GITDOCKET_NOW", format_time(clock))
        assert run_cli("init", root / "reg", "--identity", "alice", "--key", alice).code == 0
        reg = Registry(root / "reg", keys, alice, {"alice": alice})
        for operation, jump, advance in steps:
            clock += timedelta(hours=advance)
            pin_system_clock(monkeypatch, format_time(clock))
            monkeypatch.setenv("GITDOCKET_NOW", format_time(clock + jump))
            before = reg.refs()
            result = reg.run(*_args(root, operation, clock))
            if result.code != 0:
                assert result.code in (1, 2) and result.err.startswith("error: "), result.err
                assert len(result.err.splitlines()) <= 2, result.err
                assert reg.refs() == before
                continue
            found = reg.run("verify", "--format", "json")
            assert found.code == 0, f"{operation} at {clock + jump} (clock {clock}):\n{found.out}"
