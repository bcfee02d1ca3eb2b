"""Time travel in a real registry: ``--at TIME`` answers from the signed logs as they stood, and
agrees with ``--rev`` of the commit that was the tip then; ``gitdocket trace`` follows a release
through every environment; bad times and revisions are one line and exit 2."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from gitdocket.adapters.past import Earlier
from gitdocket.adapters.store import GitStore
from gitdocket.verify.asof import AsOf
from tests.integration.releases_support import Release, copy_release
from tests.support import run_cli

DAY1 = "2026-01-01T00:00:00Z"  # the template: registry, support-triage 1.0.0 published
DAY2 = "2026-01-02T09:00:00Z"  # bundle A walks to prod
DAY3 = "2026-01-03T09:00:00Z"  # 1.1.0 frozen and published; bundle B walks to prod
DAY4 = "2026-01-04T09:00:00Z"  # prod rolled back to A


@dataclass
class Timeline:
    rel: Release
    a: str
    b: str
    tips: dict[str, str]
    """The branch's tip at the end of each day."""

    def json(self, *args: str) -> Any:
        return self.rel.reg.ok(*args, "--format", "json").json()


@pytest.fixture
def timeline(template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Timeline:
    rel = copy_release(template, tmp_path / "copy")
    tips = {DAY1: rel.head()}
    monkeypatch.setenv("GITDOCKET_NOW", DAY2)
    a = rel.build("blue")
    rel.chain(a)
    tips[DAY2] = rel.head()
    monkeypatch.setenv("GITDOCKET_NOW", DAY3)
    method = rel.reg.path / "registry/archetypes/support-triage/method/instructions.md"
    method.write_text(method.read_text() + "\nAnswer in the customer's language.\n")
    rel.reg.git("commit", "-qam", "method: language")
    rel.reg.ok("version", "freeze", "support-triage", "1.1.0")
    rel.reg.ok("package", "publish", "support-triage", "1.1.0")
    b = rel.build("green")
    rel.chain(b)
    tips[DAY3] = rel.head()
    monkeypatch.setenv("GITDOCKET_NOW", DAY4)
    rel.reg.ok("rollback", "--env", "prod", "--reason", "latency doubled")
    tips[DAY4] = rel.head()
    return Timeline(rel, a, b, tips)


def _prod(rows: list[dict[str, Any]]) -> dict[str, Any]:
    return next(r for r in rows if r["environment"] == "prod")


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        pytest.param(DAY1, None, id="before-any-promotion"),
        pytest.param(DAY2, "a", id="first-bundle"),
        pytest.param(DAY3, "b", id="second-bundle"),
        pytest.param(DAY4, "a", id="after-the-rollback"),
    ],
)
def test_status_at_a_time_is_status_of_the_commit_that_was_the_tip(
    timeline: Timeline, day: str, expected: str | None
) -> None:
    at = timeline.json("status", "--at", day)
    assert at == timeline.json("status", "--rev", timeline.tips[day])
    assert _prod(at)["bundle_id"] == (getattr(timeline, expected) if expected else None)


def test_a_time_between_events_answers_with_the_last_event_before_it(timeline: Timeline) -> None:
    noon = timeline.json("status", "--at", "2026-01-03T12:00:00Z")
    assert noon == timeline.json("status", "--rev", timeline.tips[DAY3])
    assert _prod(noon)["bundle_id"] == timeline.b and _prod(noon)["rollback"] is False


def test_at_combines_with_rev(timeline: Timeline) -> None:
    assert timeline.json("status", "--rev", timeline.tips[DAY3], "--at", DAY2) == timeline.json(
        "status", "--rev", timeline.tips[DAY2]
    )


def test_history_at_a_time_keeps_the_events_up_to_it(timeline: Timeline) -> None:
    full = timeline.json("history", "--env", "prod")
    assert [r["type"] for r in full] == ["promoted", "promoted", "rolled_back"]
    assert timeline.json("history", "--env", "prod", "--at", DAY3) == full[:2]
    assert timeline.json("history", "--env", "prod", "--at", DAY1) == []


def test_listings_at_a_time_show_only_what_existed_then(timeline: Timeline) -> None:
    versions = timeline.json("version", "list", "support-triage", "--at", DAY2)
    assert [(v["version"], v["phase"]) for v in versions] == [("1.0.0", "packaged")]
    packages = timeline.json("package", "list", "--at", DAY2)
    assert [(p["version"], p["phase"]) for p in packages] == [("1.0.0", "published")]
    assert len(timeline.json("package", "list", "--at", DAY3)) == 2
    shown = timeline.json("archetype", "show", "support-triage", "--at", DAY2)
    assert shown["versions"] == {"1.0.0": "packaged"}
    assert timeline.json("archetype", "show", "support-triage")["versions"] == {
        "1.0.0": "packaged",
        "1.1.0": "packaged",
    }


def test_resolve_at_a_time_exports_the_release_that_was_active_then(timeline: Timeline, tmp_path: Path) -> None:
    out = timeline.json("deployments", "resolve", "--env", "prod", "--at", DAY3, "--export", str(tmp_path / "out"))
    assert out["bundle_id"] == timeline.b
    assert (tmp_path / "out" / timeline.b / "bundle_manifest.json").is_file()
    assert timeline.json("deployments", "resolve", "--env", "prod")["bundle_id"] == timeline.a
    nothing = timeline.rel.reg.run("deployments", "resolve", "--env", "prod", "--at", DAY1)
    assert nothing.code == 1 and "nothing is deployed in prod" in nothing.err


def test_trace_a_bundle_lists_every_environment_and_how_it_left(timeline: Timeline) -> None:
    data = timeline.json("trace", timeline.b)
    reached = [(r["environment"], r["how"], r["at"], r["left"]) for r in data["reached"]]
    assert reached == [
        ("preview", "promoted", DAY3, "active"),
        ("dev", "promoted", DAY3, "active"),
        ("staging", "promoted", DAY3, "active"),
        ("prod", "promoted", DAY3, "rolled back"),
    ]
    prod = data["reached"][-1]
    assert (prod["by"], prod["gate_decision"], prod["source_environment"]) == (["alice"], "go", "staging")
    assert (prod["left_at"], prod["left_by"], prod["reason"], prod["held"]) == (
        DAY4,
        ["alice"],
        "latency doubled",
        True,
    )
    assert data["bundles"][timeline.b]["built_at"] == DAY3


def test_trace_of_the_first_bundle_shows_it_replaced_then_rolled_back_to(timeline: Timeline) -> None:
    reached = timeline.json("trace", timeline.a)["reached"]
    assert [(r["environment"], r["how"], r["left"]) for r in reached] == [
        ("preview", "promoted", f"replaced by {timeline.b}"),
        ("dev", "promoted", f"replaced by {timeline.b}"),
        ("staging", "promoted", f"replaced by {timeline.b}"),
        ("prod", "promoted", f"replaced by {timeline.b}"),
        ("prod", "rolled back to", "active"),
    ]


def test_trace_a_version_follows_every_bundle_that_carries_it(timeline: Timeline) -> None:
    first = timeline.json("trace", "support-triage@1.0.0")
    assert set(first["bundles"]) == {timeline.a, timeline.b}
    second = timeline.json("trace", "support-triage@1.1.0")
    assert set(second["bundles"]) == {timeline.b}
    not_yet = timeline.rel.reg.run("trace", timeline.b, "--at", DAY2)  # built on day 3
    assert not_yet.code == 1 and f"no bundle {timeline.b!r}" in not_yet.err


def test_trace_at_a_time_sees_the_release_still_active(timeline: Timeline) -> None:
    prod = timeline.json("trace", timeline.b, "--at", DAY3)["reached"][-1]
    assert (prod["environment"], prod["left"], prod["held"]) == ("prod", "active", False)


def test_trace_text_names_each_environment(timeline: Timeline) -> None:
    out = timeline.rel.reg.ok("trace", timeline.b).out
    assert f"{timeline.b}: built {DAY3} by alice, verified by alice" in out
    assert "rolled back 2026-01-04T09:00:00Z by alice: latency doubled (held)" in out


@pytest.mark.parametrize(
    ("args", "words"),
    [
        pytest.param(
            ("status", "--at", "2025-12-31T23:59:59Z"), "before the registry existed", id="at-before-registry"
        ),
        pytest.param(("history", "--env", "prod", "--at", "2025-01-01T00:00:00Z"), "before the registry", id="history"),
        pytest.param(("status", "--at", "2099-01-01T00:00:00Z"), "in the future", id="at-in-the-future"),
        pytest.param(("status", "--at", "tuesday"), "not an RFC 3339 time", id="at-not-a-time"),
        pytest.param(("status", "--rev", "0" * 40), "names no commit", id="rev-missing-commit"),
        pytest.param(("version", "list", "--rev", "no-such-tag"), "names no commit", id="rev-missing-tag"),
        pytest.param(("trace", "nope@1.0.0"), "no version nope@1.0.0", id="trace-unknown-version"),
        pytest.param(("trace", "not a bundle"), "invalid bundle id", id="trace-bad-bundle-id"),
    ],
)
def test_bad_times_and_revisions_are_one_line(timeline: Timeline, args: tuple[str, ...], words: str) -> None:
    result = timeline.rel.reg.run(*args)
    assert result.code in (1, 2) and words in result.err, result.err
    assert result.code == (1 if args[0] == "trace" and "@" in args[1] else 2)
    assert result.err.startswith("error: ") and len(result.err.splitlines()) == 2 and result.out == ""


def test_rev_outside_a_shallow_clone_is_named(timeline: Timeline, tmp_path: Path) -> None:
    clone = tmp_path / "shallow"
    subprocess.run(
        ["git", "clone", "-q", "--depth", "1", f"file://{timeline.rel.reg.path}", str(clone)],
        check=True,
        capture_output=True,
    )
    result = run_cli("status", "--rev", timeline.tips[DAY2], "--repo", clone)
    assert result.code == 2 and "a shallow clone: it may lie outside it" in result.err
    assert "fetch --unshallow" in result.err
    inside = run_cli("status", "--at", DAY2, "--format", "json", "--repo", clone)
    assert inside.code == 0 and _prod(inside.json())["bundle_id"] == timeline.a  # the logs travel with the tip


@pytest.mark.parametrize("day", [pytest.param(d, id=d[:10]) for d in (DAY1, DAY2, DAY3)])
def test_a_cut_log_reads_as_the_commit_of_that_day_wrote_it_folded_or_from_history(
    timeline: Timeline, day: str
) -> None:
    store = GitStore.open(timeline.rel.reg.path)
    tip, then = store.snapshot(), store.snapshot(timeline.tips[day])
    folded = AsOf(tip, day)  # no history: the cut log is folded here
    recorded = AsOf(tip, day, Earlier(tip.repo, tip.commit).current)  # the commit that wrote it
    for environment in ("preview", "dev", "staging", "prod"):
        for name in ("current.json", "history.jsonl"):
            path = f"deployments/{environment}/{name}"
            assert folded.read(path) == recorded.read(path) == then.read(path), path
    assert sorted(folded.listdir("bundles")) == sorted(then.listdir("bundles"))
    assert folded.listdir("deployments/prod/releases") == then.listdir("deployments/prod/releases")
    for environment in ("dev", "prod"):  # a gated promotion's report appears with its event
        assert folded.listdir(f"deployments/{environment}/reports") == then.listdir(
            f"deployments/{environment}/reports"
        )
