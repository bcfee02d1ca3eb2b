"""``gitdocket export`` and ``gitdocket replay`` on a real registry with every kind of record
(``site_support.build_registry``: archetypes, a fork, packaged, retired and withdrawn versions, a
placement installed and entitled, two bundles promoted everywhere, a rollback) plus a merge of a
side branch: the replayed registry has the same commits, trees, scope files and tags byte for
byte, verifies, and git accepts its signatures; the export is deterministic; every altered,
truncated or foreign file is refused (exit 2, naming the file and line) with nothing left behind."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pygit2
import pytest

from gitdocket.core import sshsig
from gitdocket.core.canonical import canonical
from gitdocket.core.exports import git_oid, signed_parts
from tests.cli.test_progress_quiet import _on_terminal
from tests.site_support import build_registry
from tests.support import assert_error_and_hint, det_key, git, isolated, run_cli


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path]]:
    """The registry (with a merge commit) and its export, built once for the module."""
    root = tmp_path_factory.mktemp("export")
    with pytest.MonkeyPatch.context() as patch, isolated(root / "home", patch):
        path = build_registry(root)
        # A side branch merged with a merge commit (what a pull request merged without squash
        # leaves): unsigned commits, two parents.
        git(path, "checkout", "-q", "-b", "side")
        (path / "NOTES.md").write_text("notes kept beside the registry\n")
        git(path, "add", "NOTES.md")
        git(path, "commit", "-q", "--no-gpg-sign", "-m", "notes")
        git(path, "checkout", "-q", "main")
        git(path, "merge", "-q", "--no-ff", "--no-gpg-sign", "-m", "merge side", "side")
        exported = root / "registry.export.jsonl"
        done = run_cli("export", "--to", exported, "--repo", path)
        assert done.code == 0, done.err
        yield path, exported


@pytest.fixture
def env(source: tuple[Path, Path]) -> tuple[Path, Path]:
    return source


def _refs(path: Path) -> dict[str, str]:
    repo = pygit2.Repository(str(path))
    return {name: str(repo.references[name].target) for name in repo.listall_references() if name != "refs/heads/side"}


def _records(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_bytes().splitlines()]


def _replay(exported: Path, into: Path, *extra: str) -> Any:
    return run_cli("replay", exported, "--into", into, *extra)


def test_replay_rebuilds_every_commit_scope_and_tag_byte_for_byte(env: tuple[Path, Path], tmp_path: Path) -> None:
    path, exported = env
    into = tmp_path / "copy"
    done = _replay(exported, into, "--format", "json")
    assert done.code == 0, done.err
    report = done.json()
    assert report["ok"] and report["head"] == git(path, "rev-parse", "main")
    # The same commits, with the same ids (so the same trees, authors, messages and signatures).
    assert git(into, "rev-list", "--topo-order", "main") == git(path, "rev-list", "--topo-order", "main")
    assert report["commits"] == int(git(path, "rev-list", "--count", "main", "--tags"))
    # Every ref: the branch and every tag, annotated tags as the same tag objects.
    assert _refs(into) == _refs(path)
    # Every file of the checked-out registry, scope logs and current.json included.
    assert git(into, "ls-tree", "-r", "HEAD") == git(path, "ls-tree", "-r", "HEAD")
    for file in (path / "registry").rglob("*"):
        if file.is_file():
            assert (into / file.relative_to(path)).read_bytes() == file.read_bytes(), file
    assert git(into, "status", "--porcelain") == ""
    # It verifies, and git accepts the commits' and tags' SSH signatures.
    assert run_cli("verify", "--repo", into).code == 0
    signers = tmp_path / "allowed_signers"
    assert run_cli("policy", "allowed-signers", "--output", signers, "--repo", into).code == 0
    config = ["-c", f"gpg.ssh.allowedSignersFile={signers}"]
    signed = [c for c in git(into, "rev-list", "main").split() if "gpgsig" in git(into, "cat-file", "commit", c)]
    assert len(signed) > 10
    for commit in signed:
        git(into, *config, "verify-commit", commit)
    tags = git(into, "tag", "--list").split()
    assert tags
    for tag in tags:
        git(into, *config, "verify-tag", tag)


def test_merge_commits_keep_both_parents(env: tuple[Path, Path], tmp_path: Path) -> None:
    path, exported = env
    into = tmp_path / "copy"
    assert _replay(exported, into).code == 0
    merge = git(into, "rev-parse", "main")
    assert len(git(into, "rev-list", "--parents", "-n", "1", merge).split()) == 3
    assert (into / "NOTES.md").read_text() == (path / "NOTES.md").read_text()


def test_export_is_deterministic_and_replays_to_the_same_export(env: tuple[Path, Path], tmp_path: Path) -> None:
    path, exported = env
    again = tmp_path / "again.jsonl"
    assert run_cli("export", "--to", again, "--repo", path).code == 0
    assert again.read_bytes() == exported.read_bytes()
    into = tmp_path / "copy"
    assert _replay(exported, into).code == 0
    round_trip = tmp_path / "round-trip.jsonl"
    assert run_cli("export", "--to", round_trip, "--repo", into).code == 0
    assert round_trip.read_bytes() == exported.read_bytes()


def test_the_export_carries_events_not_whole_logs(env: tuple[Path, Path]) -> None:
    """A log that grows is carried as the lines it gained: the export stays linear in history."""
    _, exported = env
    records = _records(exported)
    assert records[0]["record"] == "header" and records[0]["contract"] == "registry_export_v1"
    assert records[-1]["record"] == "end" and records[-1]["lines"] == len(records) - 1
    appended = [c for r in records if r["record"] == "commit" for c in r["changes"] if "events" in c]
    assert appended and all(c["path"].endswith("history.jsonl") for c in appended)
    for change in appended:
        for line in change["events"]:
            assert json.loads(line)["signatures"], change["path"]
    # Each blob once.
    blobs = [r["oid"] for r in records if r["record"] == "blob"]
    assert len(blobs) == len(set(blobs)) == records[0]["blobs"]


def test_contract_validates_every_line(env: tuple[Path, Path]) -> None:
    _, exported = env
    done = run_cli("contracts", "validate", exported, "--kind", "registry_export_v1")
    assert done.code == 0, done.err + done.out


def test_quiet_prints_nothing(env: tuple[Path, Path], tmp_path: Path) -> None:
    path, exported = env
    done = run_cli("-q", "export", "--to", tmp_path / "q.jsonl", "--repo", path)
    assert (done.code, done.out) == (0, "")
    done = run_cli("-q", "replay", exported, "--into", tmp_path / "copy")
    assert (done.code, done.out) == (0, "")


# -- bad input -----------------------------------------------------------------------------------


def _rewrite(records: list[dict[str, Any]]) -> bytes:
    """The records as an export, with a fresh end record (the seal itself is no defence)."""
    body = b"".join(canonical(r) + b"\n" for r in records if r["record"] != "end")
    end = {"record": "end", "lines": body.count(b"\n"), "sha256": hashlib.sha256(body).hexdigest()}
    return body + canonical(end) + b"\n"


def _first(records: list[dict[str, Any]], kind: str, test: Callable[[dict[str, Any]], bool] = lambda r: True) -> int:
    return next(i for i, r in enumerate(records) if r["record"] == kind and test(r))


def _truncate(data: bytes) -> bytes:
    return b"".join(data.splitlines(keepends=True)[:-1])


def _cut_mid_line(data: bytes) -> bytes:
    return data[: len(data) - 40]


def _wrong_contract(data: bytes) -> bytes:
    records = _records_of(data)
    records[0]["contract"] = "registry_export_v2"
    return _rewrite(records)


def _altered_blob(data: bytes) -> bytes:
    records = _records_of(data)
    index = _first(records, "blob", lambda r: r["size"] > 10)
    raw = bytearray(base64.b64decode(records[index]["data"]))
    raw[0] ^= 1
    records[index]["data"] = base64.b64encode(bytes(raw)).decode()
    return _rewrite(records)


def _altered_event(data: bytes) -> bytes:
    records = _records_of(data)
    index = _first(records, "commit", lambda r: any("events" in c for c in r["changes"]))
    change = next(c for c in records[index]["changes"] if "events" in c)
    change["events"][0] = change["events"][0].replace('"seq":', '"seq": ', 1)
    return _rewrite(records)


def _forged_signature(data: bytes) -> bytes:
    """The newest commit re-signed by a key the policy does not list, its id and the header's head
    recomputed to match: every hash holds, only the signature's key betrays it."""
    records = _records_of(data)
    index = max(i for i, r in enumerate(records) if r["record"] == "commit" and "gpgsig" in r["object"])
    raw = records[index]["object"].encode()
    parts = signed_parts(raw)
    assert parts is not None
    _, payload = parts
    armored = sshsig.sign(det_key("mallory"), payload, "git").decode().rstrip("\n")
    head, _, message = payload.partition(b"\n\n")
    signature = "gpgsig " + "\n ".join(armored.split("\n"))
    forged = head + b"\n" + signature.encode() + b"\n\n" + message
    renamed = {records[index]["oid"]: git_oid("commit", forged)}
    records[index]["object"], records[index]["oid"] = forged.decode(), renamed[records[index]["oid"]]
    for record in records[index + 1 :]:  # later commits and tags that name it, or its children
        if record["record"] == "commit":
            for old, new in list(renamed.items()):
                record["object"] = record["object"].replace(f"parent {old}", f"parent {new}")
            renamed[record["oid"]] = git_oid("commit", record["object"].encode())
            record["oid"] = renamed[record["oid"]]
        if record["record"] == "tag":
            record["target"] = renamed.get(record["target"], record["target"])
    records[0]["head"] = renamed.get(records[0]["head"], records[0]["head"])
    return _rewrite(records)


def _forged_merge_parent(data: bytes) -> bytes:
    records = _records_of(data)
    records.insert(1, records.pop(_first(records, "commit", lambda r: r["object"].count("\nparent ") == 2)))
    return _rewrite(records)


def _not_json(data: bytes) -> bytes:
    lines = data.splitlines(keepends=True)
    lines[2] = b"{not json\n"
    return b"".join(lines)


def _after_end(data: bytes) -> bytes:
    return data + b'{"record":"end","lines":0,"sha256":"' + b"0" * 64 + b'"}\n'


def _tag_named(name: str) -> Callable[[bytes], bytes]:
    def alter(data: bytes) -> bytes:
        records = _records_of(data)
        records[_first(records, "tag")]["name"] = name
        return _rewrite(records)

    return alter


def _path_named(path: str) -> Callable[[bytes], bytes]:
    def alter(data: bytes) -> bytes:
        records = _records_of(data)
        records[_first(records, "commit")]["changes"][0]["path"] = path
        return _rewrite(records)

    return alter


def _records_of(data: bytes) -> list[dict[str, Any]]:
    return [json.loads(line) for line in data.splitlines()]


@pytest.mark.parametrize(
    ("alter", "named"),
    [
        pytest.param(_truncate, "truncated", id="truncated-at-a-line"),
        pytest.param(_cut_mid_line, "truncated", id="cut-mid-line"),
        pytest.param(_wrong_contract, ":1: contract", id="wrong-contract-version"),
        pytest.param(_altered_blob, "do not hash", id="blob-bytes-altered"),
        pytest.param(_altered_event, "do not make blob", id="signed-event-altered"),
        pytest.param(_forged_signature, "SSH signature", id="forged-commit-signature"),
        pytest.param(_forged_merge_parent, "before its parent", id="commit-before-its-parent"),
        pytest.param(_not_json, ":3:", id="malformed-line"),
        pytest.param(_after_end, "after the end", id="line-after-the-end"),
        pytest.param(_tag_named("x\n0000 refs/heads/main"), "not a name git takes", id="tag-name-breaking-refs"),
        pytest.param(_tag_named("../../escape"), "not a name git takes", id="tag-name-escaping"),
        pytest.param(_path_named(".git/hooks/post-checkout"), "'.git'", id="path-into-dot-git"),
        pytest.param(_path_named("registry/../../escape"), "'..'", id="path-escaping"),
    ],
)
def test_bad_exports_are_refused_and_leave_nothing(
    env: tuple[Path, Path], tmp_path: Path, alter: Callable[[bytes], bytes], named: str
) -> None:
    _, exported = env
    bad = tmp_path / "bad.jsonl"
    bad.write_bytes(alter(exported.read_bytes()))
    into = tmp_path / "target" / "copy"
    done = _replay(bad, into)
    assert_error_and_hint(done, 2, str(bad), named)
    assert not (tmp_path / "target").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.jsonl", "home"]


def test_a_target_that_is_not_empty_is_refused_untouched(env: tuple[Path, Path], tmp_path: Path) -> None:
    _, exported = env
    into = tmp_path / "busy"
    into.mkdir()
    (into / "keep.txt").write_text("mine\n")
    done = _replay(exported, into)
    assert_error_and_hint(done, 2, str(into), "not empty")
    assert [p.name for p in into.iterdir()] == ["keep.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["busy", "home"]


def test_an_empty_target_folder_is_filled(env: tuple[Path, Path], tmp_path: Path) -> None:
    _, exported = env
    into = tmp_path / "empty"
    into.mkdir()
    assert _replay(exported, into).code == 0
    assert (into / "registry" / "registry.yaml").is_file()


def test_a_missing_export_is_bad_input(tmp_path: Path) -> None:
    done = _replay(tmp_path / "nothing.jsonl", tmp_path / "copy")
    assert_error_and_hint(done, 2, "nothing.jsonl")
    assert not (tmp_path / "copy").exists()


def test_export_of_a_detached_head_needs_a_branch(env: tuple[Path, Path], tmp_path: Path) -> None:
    path, _ = env
    clone = tmp_path / "clone"
    shutil.copytree(path, clone, symlinks=True)
    git(clone, "checkout", "-q", "--detach", "HEAD")
    done = run_cli("export", "--to", tmp_path / "x.jsonl", "--repo", clone)
    assert_error_and_hint(done, 1, "detached")
    assert not (tmp_path / "x.jsonl").exists()
    assert run_cli("export", "--to", tmp_path / "x.jsonl", "--branch", "main", "--repo", clone).code == 0


def test_a_bar_on_a_terminal_only(env: tuple[Path, Path], tmp_path: Path) -> None:
    path, exported = env
    terminal = {k: os.environ[k] for k in ("HOME", "GIT_CONFIG_GLOBAL", "GIT_CONFIG_NOSYSTEM")}
    code, shown, out = _on_terminal(["export", "--to", tmp_path / "tty.jsonl", "--repo", path], terminal)
    assert code == 0, shown
    assert "commits and blobs" in shown and out.startswith("Exported main")
    code, shown, out = _on_terminal(["replay", exported, "--into", tmp_path / "copy"], terminal)
    assert code == 0, shown
    assert "commits and blobs" in shown and out.startswith("Replayed")
    piped = run_cli("replay", exported, "--into", tmp_path / "piped")
    assert piped.code == 0 and "commits and blobs" not in piped.err


def test_at_judges_the_rebuilt_registry_as_of_then(env: tuple[Path, Path], tmp_path: Path) -> None:
    """The registry's events are dated 2026-01-01: as of a year before, it does not verify (an
    event dated after the verifier's clock) and nothing is left; as of that day, it does."""
    _, exported = env
    before = _replay(exported, tmp_path / "early", "--at", "2025-01-01T00:00:00Z")
    assert_error_and_hint(before, 2, "does not verify")
    assert not (tmp_path / "early").exists()
    assert _replay(exported, tmp_path / "copy", "--at", "2026-01-01T00:00:00Z").code == 0
    assert _replay(exported, tmp_path / "later", "--at", "2999-01-01T00:00:00Z").code == 2


def test_no_git_to_index_the_pack_is_an_error_that_leaves_nothing(
    env: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Replay indexes its pack with ``git index-pack``: without git on PATH that is a one-line
    error (no traceback), and neither the target nor the staging folder is left."""
    _, exported = env
    empty = tmp_path / "no-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    into = tmp_path / "target" / "copy"
    done = _replay(exported, into)
    assert_error_and_hint(done, 1, "index the pack")
    assert not (tmp_path / "target").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["home", "no-bin"]


def test_a_target_filled_during_the_replay_is_refused_untouched(
    env: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The empty target checked first gets a file while the replay proves the rebuild: the
    last step (the rename) refuses with an error, keeps that file, and leaves no staging."""
    from gitdocket.ops import exports

    _, exported = env
    into = tmp_path / "empty"
    into.mkdir()
    prove = exports._prove

    def filled_meanwhile(*args: Any) -> tuple[str, ...]:
        (into / "keep.txt").write_text("someone else's\n")
        return prove(*args)

    monkeypatch.setattr(exports, "_prove", filled_meanwhile)
    done = _replay(exported, into)
    assert_error_and_hint(done, 2, str(into), "cannot become the replayed registry")
    assert [p.name for p in into.iterdir()] == ["keep.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty", "home"]
