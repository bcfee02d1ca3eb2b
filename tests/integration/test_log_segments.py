"""A log kept in segments (ADR 0037), in a real registry written by the real CLI.

``SEGMENT_BYTES`` is lowered to one byte here, so that every append seals the open segment: each
log of n events is n - 1 sealed segments and a one-line ``history.jsonl``, the most segmented a
log can be. Everything that reads a log must then read it whole (verify, PR mode, time travel,
history, export and replay), and every tampering with the segments must be named.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from gitdocket.core import log as core_log
from gitdocket.core.log import read_log
from gitdocket.core.scopes import scope
from gitdocket.core.tree import MemoryTree
from gitdocket.verify.asof import AsOf
from tests.integration.clients_support import findings
from tests.integration.crossing_support import VENDOR, crossing, installed
from tests.integration.forgery import ARCHETYPE, PACKAGE, VERSION, Forger, published_registry
from tests.integration.releases_support import copy_release
from tests.support import Registry, repo_state, run_cli

POLICY = scope("policy")


@pytest.fixture
def segmented(registry: Registry, monkeypatch: pytest.MonkeyPatch) -> Registry:
    """support-triage 1.0.0 frozen and published, every log in one-event segments."""
    monkeypatch.setattr(core_log, "SEGMENT_BYTES", 1)
    return published_registry(registry)


def _segments(registry: Registry, target: object) -> list[str]:
    folder = registry.path / target.segments_path  # type: ignore[attr-defined]
    return sorted(os.listdir(folder)) if folder.is_dir() else []


def _whole(registry: Registry, target: object) -> bytes:
    """The log as its files hold it: the sealed segments in name order, then history.jsonl."""
    folder = registry.path / target.segments_path  # type: ignore[attr-defined]
    sealed = b"".join((folder / name).read_bytes() for name in _segments(registry, target))
    return sealed + (registry.path / target.history_path).read_bytes()  # type: ignore[attr-defined]


def test_every_append_past_the_size_seals_the_open_segment(segmented: Registry) -> None:
    for target in (POLICY, ARCHETYPE, VERSION, PACKAGE):
        whole = _whole(segmented, target)
        events = whole.count(b"\n")
        assert events >= (3 if target == VERSION else 1), target
        assert _segments(segmented, target) == [f"{n:09d}.jsonl" for n in range(1, events)]
        assert (segmented.path / target.history_path).read_bytes().count(b"\n") == 1
    # ... and the registry verifies, in full and as a change from its first commit
    assert segmented.run("verify", "--require-tags").out.rstrip().endswith(": OK")
    first = segmented.git("rev-list", "--max-parents=0", "HEAD").strip()
    checked = segmented.run("verify", "--base", first, "--format", "json").json()
    assert checked["ok"] is True and checked["mode"] == "pr", checked


def test_an_environment_in_segments_reads_whole(
    template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Promotions and a rollback into an environment whose log seals at every append: the
    rollback reads the whole release list, ``history`` lists every event, ``--at`` cuts across
    the segments, and the registry verifies."""
    rel = copy_release(template, tmp_path / "rel")
    monkeypatch.setattr(core_log, "SEGMENT_BYTES", 1)
    first, second = rel.build(), rel.build("pr-second")
    for bundle, now in ((first, "2026-01-02T00:00:00Z"), (second, "2026-01-03T00:00:00Z")):
        monkeypatch.setenv("GITDOCKET_NOW", now)
        assert rel.promote(bundle, "preview", gated=False).code == 0
    monkeypatch.setenv("GITDOCKET_NOW", "2026-01-04T00:00:00Z")
    rel.reg.ok("rollback", "--env", "preview", "--reason", "regression")
    preview = scope("environment", "preview")
    assert _segments(rel.reg, preview) == ["000000001.jsonl", "000000002.jsonl"]
    rows = rel.reg.ok("history", "--env", "preview", "--format", "json").json()
    assert [row["bundle_id"] for row in rows] == [first, second, first]
    earlier = rel.reg.ok("history", "--env", "preview", "--at", "2026-01-02T12:00:00Z", "--format", "json").json()
    assert [row["bundle_id"] for row in earlier] == [first]
    assert rel.reg.ok("status", "--format", "json").json() is not None
    resolved = rel.reg.ok("deployments", "resolve", "--env", "preview", "--format", "json").json()
    assert first in json.dumps(resolved)
    then = ("deployments", "resolve", "--env", "preview", "--at", "2026-01-03T12:00:00Z", "--format", "json")
    assert second in json.dumps(rel.reg.ok(*then).json())
    assert rel.reg.run("verify").out.rstrip().endswith(": OK")


def test_a_write_after_a_long_segmented_log_lands_and_verifies(segmented: Registry) -> None:
    """Writes read the newest segment's last line only when history.jsonl holds one line; the
    next write of a long log seals again, and the registry still verifies."""
    before = len(_segments(segmented, VERSION))
    segmented.ok("version", "retire", "support-triage", "1.0.0", "--reason", "superseded")
    assert len(_segments(segmented, VERSION)) == before + 1
    assert segmented.run("verify", "--require-tags").out.rstrip().endswith(": OK")


def test_the_default_size_keeps_short_logs_in_one_file(registry: Registry) -> None:
    published_registry(registry)
    assert _segments(registry, VERSION) == [] and _segments(registry, POLICY) == []
    assert core_log.SEGMENT_BYTES == 256 * 1024


def test_time_travel_cuts_across_segments() -> None:
    """``--at`` shows a segmented log whole as history.jsonl, cut at the time, its segments
    hidden: every reader then reads one file, as for a short log."""
    lines = [b'{"at":"2026-01-0%dT00:00:00Z","seq":%d}\n' % (n, n) for n in range(1, 5)]
    files = {
        f"{VERSION.segments_path}/000000001.jsonl": lines[0],
        f"{VERSION.segments_path}/000000002.jsonl": lines[1] + lines[2],
        VERSION.history_path: lines[3],
    }
    tree = MemoryTree(files)
    assert read_log(tree, VERSION) == b"".join(lines)
    view = AsOf(tree, "2026-01-02T12:00:00Z")
    assert view.read(VERSION.history_path) == lines[0] + lines[1]
    assert view.listdir(VERSION.path) == ["history.jsonl"]
    assert view.kind(VERSION.segments_path) is None and read_log(view, VERSION) == lines[0] + lines[1]


def test_export_and_replay_rebuild_a_segmented_registry(segmented: Registry) -> None:
    out = segmented.path.parent / "registry.export.jsonl"
    segmented.ok("export", "--to", out)
    into = segmented.path.parent / "replayed"
    assert run_cli("replay", out, "--into", into).code == 0
    assert Registry(into, segmented.keys, segmented.alice).git("rev-parse", "HEAD") == segmented.git(
        "rev-parse", "HEAD"
    )


# -- tampering with the segments ------------------------------------------------------------------

Tamper = Callable[[Forger], None]
FIRST = f"{VERSION.segments_path}/000000001.jsonl"
SECOND = f"{VERSION.segments_path}/000000002.jsonl"


def delete_sealed_segment(f: Forger) -> None:
    f.path(SECOND).unlink()


def edit_sealed_segment(f: Forger) -> None:
    f.write(SECOND, f.read(SECOND).replace(b'"at":"20', b'"at":"21', 1))


def rename_sealed_segment(f: Forger) -> None:
    f.path(SECOND).rename(f.path(f"{VERSION.segments_path}/000000007.jsonl"))


def stray_file_in_segments(f: Forger) -> None:
    f.write(f"{VERSION.segments_path}/notes.txt", b"kept here\n")


def segment_becomes_symlink(f: Forger) -> None:
    f.path(SECOND).unlink()
    f.path(SECOND).symlink_to("000000001.jsonl")


def segment_truncated_mid_line(f: Forger) -> None:
    f.write(SECOND, f.read(SECOND)[:-10])


def segments_folder_becomes_file(f: Forger) -> None:
    shutil.rmtree(f.path(VERSION.segments_path))
    f.write(VERSION.segments_path, b"gone\n")


def segment_duplicated_out_of_order(f: Forger) -> None:
    f.write(f"{VERSION.segments_path}/000000009.jsonl", f.read(FIRST))


CATALOGUE = [
    pytest.param(delete_sealed_segment, {"CHAIN_BROKEN"}, id="sealed-segment-deleted"),
    pytest.param(
        edit_sealed_segment,
        {"SIGNATURE_INVALID", "CHAIN_BROKEN", "EVENT_IN_FUTURE", "EVENT_BACKDATED"},
        id="sealed-segment-edited",
    ),
    pytest.param(rename_sealed_segment, {"LOG_SEGMENT", "CHAIN_BROKEN"}, id="sealed-segment-renamed"),
    pytest.param(stray_file_in_segments, {"LOG_SEGMENT"}, id="stray-file-among-segments"),
    pytest.param(segment_becomes_symlink, {"LOG_SEGMENT", "CHAIN_BROKEN"}, id="sealed-segment-replaced-by-symlink"),
    pytest.param(segment_truncated_mid_line, {"LOG_SEGMENT", "LOG_UNREADABLE"}, id="sealed-segment-truncated"),
    pytest.param(segments_folder_becomes_file, {"LOG_SEGMENT", "CHAIN_BROKEN"}, id="segments-folder-replaced-by-file"),
    pytest.param(
        segment_duplicated_out_of_order, {"LOG_SEGMENT", "CHAIN_BROKEN"}, id="segment-duplicated-out-of-order"
    ),
]


@pytest.mark.parametrize(("tamper", "expected"), CATALOGUE)
def test_tampering_with_segments_is_caught(segmented: Registry, tamper: Tamper, expected: set[str]) -> None:
    tamper(Forger(segmented))
    Forger(segmented).commit()
    text = segmented.run("verify")
    assert text.code == 1 and "Traceback" not in text.out + text.err, text.out + text.err
    findings = segmented.run("verify", "--format", "json").json()["findings"]
    codes = {f["code"] for f in findings}
    assert codes and codes <= expected, "\n".join(f"{f['code']} {f['path']}: {f['message']}" for f in findings)
    if "LOG_SEGMENT" in expected:
        assert "LOG_SEGMENT" in codes


def test_a_change_that_splits_sealed_segments_anew_is_a_rewrite(segmented: Registry) -> None:
    """The same bytes cut differently are still a sealed segment written again: PR mode names it,
    though the log reads the same."""
    base = segmented.git("rev-parse", "HEAD").strip()
    forger = Forger(segmented)
    joined = forger.read(FIRST) + forger.read(SECOND)
    forger.path(SECOND).unlink()
    forger.write(FIRST, joined)
    forger.commit()
    findings = segmented.run("verify", "--base", base, "--format", "json").json()["findings"]
    assert [(f["code"], f["path"]) for f in findings if f["code"] == "HISTORY_REWRITTEN"] == [
        ("HISTORY_REWRITTEN", FIRST)
    ]


def test_a_vendor_package_crosses_with_its_logs_in_segments(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A vendor's export carries its logs' sealed segments; the client's verify reads the
    vendor's logs whole, and accepts the segments among the files it imports."""
    monkeypatch.setattr(core_log, "SEGMENT_BYTES", 1)
    c = crossing(tmp_path)
    installed(c)
    vendored = c.client.path / f"registry/vendors/{VENDOR}" / PACKAGE.path
    assert sorted(p.name for p in (vendored / "history").iterdir()) == _segments(c.vendor, PACKAGE) != []
    assert findings(c.client) == []


@pytest.mark.parametrize(
    "occupied",
    [
        pytest.param(VERSION.segments_path, id="file-where-the-folder-goes"),
        pytest.param(f"{VERSION.segments_path}/000000001.jsonl", id="segment-of-that-name"),
    ],
)
def test_a_seal_over_something_already_there_is_refused_cleanly(
    registry: Registry, monkeypatch: pytest.MonkeyPatch, occupied: str
) -> None:
    """Something put by hand where the seal would write: the write is refused with one line
    naming it, and the repository is left as it was (neither overwritten nor made a folder)."""
    published_registry(registry)
    forger = Forger(registry)
    forger.write(occupied, b"put here by hand\n")
    forger.commit()
    before = repo_state(registry)
    monkeypatch.setattr(core_log, "SEGMENT_BYTES", 1)
    result = registry.run("version", "retire", "support-triage", "1.0.0", "--reason", "superseded")
    assert result.code != 0 and "Traceback" not in result.err, result.err
    assert result.err.startswith(f"error: {occupied}: ") and "\nhint: " in result.err, result.err
    assert repo_state(registry) == before
