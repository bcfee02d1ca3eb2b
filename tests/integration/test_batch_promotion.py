"""Batch promotion in a real registry (``gitdocket promote --batch FILE``): several bundles in one
signed commit, every gate evaluated, all or nothing; the batch's name on every event, in
``history`` and on the site; bad batch files are one line and exit 2, and write nothing."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from gitdocket.ops.session import Session
from gitdocket.ops.site import site_input
from gitdocket.site import render_site
from tests.integration.releases_support import Release, copy_release


@dataclass
class Batch:
    rel: Release
    a: str
    b: str
    folder: Path

    def write(self, steps: list[dict[str, Any]], name: str = "weekly-01", **extra: Any) -> Path:
        path = self.folder / f"{name}-{len(list(self.folder.iterdir()))}.json"
        path.write_text(json.dumps({"contract": "promotion_batch_v1", "batch": name, "promotions": steps, **extra}))
        return path

    def run(self, path: Path, *extra: str) -> Any:
        return self.rel.reg.run("promote", "--batch", path, "--reports-dir", self.rel.reports, *extra)


@pytest.fixture
def batch(template: Path, tmp_path: Path) -> Batch:
    rel = copy_release(template, tmp_path / "copy")
    a = rel.build("apple")
    rel.chain(a, upto="dev")  # apple runs in preview and dev
    b = rel.build("banana")
    (tmp_path / "batches").mkdir()
    return Batch(rel, a, b, tmp_path / "batches")


def _forward(batch: Batch) -> list[dict[str, Any]]:
    """apple on to prod (staging from dev, then prod), then banana up to dev: 4 steps."""
    return [{"bundle": batch.a, "to": "prod"}, {"bundle": batch.b, "to": "dev"}]


def test_a_batch_is_one_commit_with_every_step(batch: Batch) -> None:
    before = batch.rel.head()
    result = batch.run(batch.write(_forward(batch)), "--format", "json")
    assert result.code == 0, result.err
    out = result.json()
    assert out["batch"] == "weekly-01" and len(out["steps"]) == 4
    assert batch.rel.reg.git("rev-parse", "HEAD~1").strip() == before  # ONE commit
    assert batch.rel.reg.git("log", "-1", "--format=%s").strip() == "docket: promote batch weekly-01 (4 steps)"
    running = {env: batch.rel.current(env)["bundle_id"] for env in ("preview", "dev", "staging", "prod")}
    assert running == {"preview": batch.b, "dev": batch.b, "staging": batch.a, "prod": batch.a}
    for env in ("preview", "dev", "staging", "prod"):
        last = batch.rel.history(env)[-1]
        assert last["data"]["batch"] == "weekly-01" and last["data"]["gated"] is True
    assert batch.rel.reg.run("verify").code == 0


def test_history_and_the_site_show_the_batch(batch: Batch) -> None:
    assert batch.run(batch.write(_forward(batch))).code == 0
    rows = batch.rel.reg.ok("history", "--env", "prod", "--format", "json").json()
    assert [r["batch"] for r in rows] == ["weekly-01"]
    dev = batch.rel.reg.ok("history", "--env", "dev", "--format", "json").json()
    assert [(r["bundle_id"], r["batch"]) for r in dev] == [(batch.a, None), (batch.b, "weekly-01")]
    assert batch.rel.reg.ok("history", "--env", "dev").out.splitlines()[0].endswith("\tbatch")
    pages = render_site(site_input(Session(batch.rel.reg.path)))
    prod = next(body for name, body in pages.items() if name.endswith("environments/prod.md"))
    assert "promoted in batch weekly-01" in str(prod)


def test_one_refused_step_writes_nothing_and_every_step_is_reported(batch: Batch) -> None:
    before = batch.rel.reg.refs()
    # banana first: dev then runs banana, so apple's step to staging (source dev) is refused too
    steps = [{"bundle": batch.b, "to": "dev"}, {"bundle": batch.a, "to": "prod"}]
    result = batch.run(batch.write(steps))
    assert result.code == 1
    assert "cannot promote batch weekly-01: 2 of 4 steps refused" in result.err
    assert f"{batch.a} to staging" in result.err and f"{batch.a} to prod" in result.err
    assert "nothing was promoted" in result.err and "(SOURCE_ENVIRONMENT_HAS_SAME_BUNDLE)" in result.err
    assert result.out.count("Release bundle promotion") == 4  # every gated step's report, the refused ones too
    assert result.out.count("FAIL source_environment_has_same_bundle") == 2
    assert batch.rel.reg.refs() == before
    assert batch.rel.reg.git("status", "--porcelain") == ""


def test_a_failing_gate_refuses_the_batch_and_shows_its_checks(batch: Batch) -> None:
    before = batch.rel.reg.refs()
    result = batch.run(batch.write(_forward(batch)), "--artifacts-dir", str(batch.rel.blocked))
    assert result.code == 1, result.err
    assert "steps refused" in result.err and "nothing was promoted" in result.err
    assert "FAIL promotion_readiness_status_passed" in result.out
    assert batch.rel.reg.refs() == before


def test_a_dry_run_of_a_batch_plans_every_step_and_writes_nothing(batch: Batch) -> None:
    before = batch.rel.reg.refs()
    result = batch.run(batch.write(_forward(batch)), "--dry-run", "--format", "json")
    assert result.code == 0, result.err
    plan = result.json()
    assert plan["would_write"] is True and len(plan["events"]) == 4
    assert {p["environment"] for p in plan["pointers"]} == {"preview", "dev", "staging", "prod"}
    assert batch.rel.reg.refs() == before


def test_a_batch_already_in_place_writes_nothing(batch: Batch) -> None:
    before = batch.rel.reg.refs()
    result = batch.run(batch.write([{"bundle": batch.a, "to": "dev"}]))
    assert result.code == 0 and "already where it names" in result.out
    assert batch.rel.reg.refs() == before


@pytest.mark.parametrize(
    ("steps", "extra", "words"),
    [
        pytest.param(
            lambda b: [{"bundle": b.a, "env": "staging"}, {"bundle": b.a, "env": "prod"}],
            {},
            "is named twice",
            id="bundle-named-twice",
        ),
        pytest.param(lambda b: [{"bundle": b.b, "env": "qa"}], {}, "unknown environment 'qa'", id="unknown-env"),
        pytest.param(
            lambda b: [{"bundle": b.b, "to": "prod", "source_env": "dev"}],
            {},
            "drop source_env",
            id="to-with-a-source",
        ),
        pytest.param(lambda b: [{"bundle": b.b}], {}, "exactly one of env and to", id="no-target"),
        pytest.param(
            lambda b: [{"bundle": b.b, "env": "preview"}, {"bundle": "c-1", "env": "prod"}],
            {},
            "bundle",
            id="not-a-bundle-id",
        ),
        pytest.param(
            lambda b: [{"bundle": b.b, "env": "staging"}, {"bundle": b.a, "to": "prod"}],
            {},
            "more than one bundle to staging",
            id="two-bundles-one-env",
        ),
        pytest.param(lambda b: [], {}, "promotions", id="empty"),
        pytest.param(lambda b: [{"bundle": b.b, "env": "dev"}], {"contract": "other_v1"}, "contract", id="contract"),
    ],
)
def test_bad_batch_files_are_one_line_and_write_nothing(batch: Batch, steps: Any, extra: Any, words: str) -> None:
    before = batch.rel.reg.refs()
    result = batch.run(batch.write(steps(batch), **extra))
    assert result.code == 2, result.err
    assert result.err.startswith("error: ") and len(result.err.splitlines()) == 2 and words in result.err
    assert ".json" in result.err.splitlines()[0]  # names the file
    assert batch.rel.reg.refs() == before


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(("BUNDLE",), id="with-a-bundle"),
        pytest.param(("--env", "prod"), id="with-env"),
        pytest.param(("--to", "prod"), id="with-to"),
    ],
)
def test_batch_takes_nothing_else_from_the_command_line(batch: Batch, args: tuple[str, ...]) -> None:
    result = batch.rel.reg.run("promote", *args, "--batch", batch.write(_forward(batch)))
    assert result.code == 2 and "--batch takes its bundles and environments from the file" in result.err


def test_a_missing_batch_file_is_bad_input(batch: Batch) -> None:
    result = batch.run(batch.folder / "nope.yaml")
    assert result.code == 2 and "nope.yaml" in result.err
