"""``gitdocket doctor``: the drift real crashes leave (processes killed through the crash hook of
``test_crash``), hand edits and unpushed work, each listed with its code; ``--fix`` repairs what
needs no new authority and never moves the branch or signs an event."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pygit2
import pytest

from gitdocket.adapters.quarantine import Quarantine
from tests.integration.crash_support import KINDS, copy_crash_release, new_objects, rename_into_place, spawn
from tests.integration.releases_support import Release
from tests.support import add_origin, git, pin_system_clock


@pytest.fixture
def template(crash_template: Path) -> Path:
    """The crash tests' registry: 1.0.0 published and bundled, 1.1.0 frozen."""
    return crash_template


@pytest.fixture
def rel(template: Path, tmp_path: Path) -> Release:
    return copy_crash_release(template, tmp_path)


def _doctor(rel: Release, *args: str) -> tuple[int, dict[str, object], str]:
    result = rel.reg.run("doctor", "--format", "json", *args)
    return result.code, result.json(), result.err


def _codes(drift: object) -> list[tuple[str, str]]:
    assert isinstance(drift, list)
    return [(d["code"], d["subject"]) for d in drift]


def test_a_clean_registry_has_no_drift(rel: Release) -> None:
    result = rel.reg.run("doctor")
    assert result.code == 0, result.err
    assert "No drift" in result.out


def test_tags_missing_after_a_kill_between_the_refs_are_recreated_by_fix(rel: Release, template: Path) -> None:
    """A freeze killed inside its ref transaction after the branch moved and before its tag did."""
    freeze = KINDS[0]
    tip = rel.reg.refs()["refs/heads/main"]
    assert spawn(rel, freeze.args(rel, template), crash="in-swap").code == -9
    commit, tags = new_objects(pygit2.Repository(str(rel.reg.path)), tip)
    rename_into_place(rel.reg.path / ".git", "refs/heads/main", commit)
    [name] = tags

    code, report, _ = _doctor(rel)
    assert code == 1
    found = _codes(report["drift"])
    assert ("TAG_MISSING", name) in found
    dead = [subject for kind, subject in found if kind == "LOCK_DEAD"]
    assert any(s.endswith(f"refs/tags/{name}.lock") for s in dead), found
    assert any("docket-incoming-" in s for s in dead), found

    code, report, err = _doctor(rel, "--fix")
    assert code == 0, err
    assert report["left"] == []
    refs = rel.reg.refs()
    assert refs["refs/heads/main"] == commit  # no commit, no history rewritten
    assert str(pygit2.Repository(str(rel.reg.path)).revparse_single(f"{name}^{{commit}}").id) == commit
    git_dir = rel.reg.path / ".git"
    assert set(git_dir.rglob("*.lock")) == {git_dir / "docket.lock"}  # gitdocket's flock file stays
    assert rel.reg.run("verify", "--require-tags").code == 0
    assert rel.reg.run("doctor").code == 0


def test_worktree_left_stale_by_a_kill_after_the_swap_is_restored_by_fix(rel: Release, template: Path) -> None:
    assert spawn(rel, KINDS[0].args(rel, template), crash="after-swap").code == -9
    head = rel.reg.refs()["refs/heads/main"]
    code, report, _ = _doctor(rel)
    assert code == 1
    stale = [s for c, s in _codes(report["drift"]) if c == "WORKTREE_STALE"]
    assert "registry/versions/support-triage/1.2.0/current.json" in stale, report
    assert all(d["fixable"] for d in report["drift"])  # type: ignore[index, union-attr]

    text = rel.reg.run("doctor")
    assert "run `gitdocket doctor --fix`" in text.err

    code, report, err = _doctor(rel, "--fix")
    assert code == 0, err
    assert any("restored registry/versions/support-triage/1.2.0/current.json" in f for f in report["fixed"])  # type: ignore[union-attr]
    assert git(rel.reg.path, "status", "--porcelain", "--untracked-files=all") == ""
    assert rel.reg.refs()["refs/heads/main"] == head


def test_a_hand_edited_current_json_differs_and_is_restored(rel: Release) -> None:
    state = rel.reg.path / "registry" / "versions" / "support-triage" / "1.0.0" / "current.json"
    committed = state.read_bytes()
    state.write_text(committed.decode().replace('"packaged"', '"retired"'))
    code, report, _ = _doctor(rel)
    assert code == 1
    assert _codes(report["drift"]) == [("STATE_DIFFERS", "registry/versions/support-triage/1.0.0/current.json")]
    assert _doctor(rel, "--fix")[0] == 0
    assert state.read_bytes() == committed


def test_a_live_lock_is_named_and_left_alone(rel: Release) -> None:
    with Quarantine.open(pygit2.Repository(str(rel.reg.path))) as live:
        code, report, _ = _doctor(rel, "--fix")
        assert code == 1
        assert ("LOCK_LIVE", str(live.folder)) in _codes(report["left"])
        assert live.folder.is_dir()
    assert _doctor(rel)[0] == 0


def test_a_dead_ref_lock_nobody_claims_is_removed_once_it_is_old(rel: Release) -> None:
    lock = rel.reg.path / ".git" / "refs" / "heads" / "main.lock"
    lock.write_text("0" * 40 + "\n")
    code, report, _ = _doctor(rel)
    assert code == 1
    assert ("LOCK_LIVE", str(lock)) in _codes(report["drift"])  # fresh: maybe a git at work
    os.utime(lock, (1, 1))  # unchanged for far longer than git ever holds one
    report = _doctor(rel)[1]
    assert ("LOCK_DEAD", str(lock)) in _codes(report["drift"])
    assert _doctor(rel, "--fix")[0] == 0
    assert not lock.exists()


def test_unpushed_commits_and_tags_are_listed_and_not_fixed(rel: Release, tmp_path: Path) -> None:
    add_origin(rel.reg, tmp_path / "origin.git")
    assert _doctor(rel)[0] == 0
    rel.reg.ok("release", "support-triage", "1.2.0")
    code, report, _ = _doctor(rel, "--fix")
    assert code == 1
    left = _codes(report["left"])
    assert ("COMMITS_UNPUSHED", "origin/main") in left
    assert ("TAGS_UNPUSHED", "support-triage/v1.2.0") in left
    assert ("TAGS_UNPUSHED", "packages/support-triage/v1.2.0") in left
    git(rel.reg.path, "push", "-q", "origin", "main", "--tags")
    assert _doctor(rel)[0] == 0


def test_a_policy_close_to_expiry_is_reported_within_the_window(rel: Release, monkeypatch: pytest.MonkeyPatch) -> None:
    rel.reg.ok("policy", "expires", "2026-01-20T00:00:00Z")
    code, report, _ = _doctor(rel)
    assert code == 1 and _codes(report["drift"]) == [("POLICY_EXPIRING", "registry/policy")]
    assert _doctor(rel, "--expiry-window", "10")[0] == 0
    pin_system_clock(monkeypatch, "2026-02-01T00:00:00Z")
    assert _codes(_doctor(rel)[1]["drift"]) == [("POLICY_EXPIRED", "registry/policy")]


def test_fix_with_a_key_the_policy_does_not_list_leaves_the_tag(rel: Release) -> None:
    git(rel.reg.path, "tag", "-d", "support-triage/v1.1.0")
    result = rel.reg.run("doctor", "--fix", "--format", "json", key="mallory")
    assert result.code == 1
    assert ("TAG_MISSING", "support-triage/v1.1.0") in _codes(json.loads(result.out)["left"])
    assert "could not re-create the missing tags" in result.err and "not in the policy" in result.err
    assert "support-triage/v1.1.0" not in git(rel.reg.path, "tag", "--list")
