"""Hypothesis: ``gitdocket verify`` never stops early. One byte flipped or inserted anywhere in any
log line (or in a copy of it appended as a new event) of a full registry (the demo's: archetypes
and forks, versions, packages, placements, entitlements, bundles, environments, the policy) is a
finding with a code and exit status 1 — never exit 2 (kept for the user's own usage errors),
never an internal error or a traceback.

Each mutation is committed on top of the registry's branch (no branch moves) and verified with
``--head``, in snapshot mode or in PR mode against the branch, through the real entry point."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pygit2
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.integration.releases_support import ENV
from tests.support import run_cli

SIGNATURE = b'"policy_version"'
"""Lines are canonical JSON with sorted keys: the event's data comes before this key, the
signatures after it. Half the mutations land in the first part, where names and references are."""


@pytest.fixture(scope="module")
def demo_registry(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("fuzz")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HOME", str(base))
        for name, value in ENV.items():
            patch.setenv(name, value)
        done = run_cli("demo", "--dir", base / "demo")
        assert done.code == 0, done.err
    return base / "demo" / "acme-registry"


def _logs(repo: pygit2.Repository) -> list[str]:
    found = []

    def walk(tree: pygit2.Tree, prefix: str) -> None:
        for entry in tree:
            if isinstance(entry, pygit2.Tree):
                walk(entry, f"{prefix}{entry.name}/")
            elif entry.name == "history.jsonl":
                found.append(f"{prefix}{entry.name}")

    walk(repo.head.peel(pygit2.Commit).tree, "")
    return sorted(found)


def _commit(repo: pygit2.Repository, path: str, data: bytes) -> str:
    """A commit on top of the branch whose only change is ``path``; no ref moves."""
    tip = repo.head.peel(pygit2.Commit)
    index = pygit2.Index()
    index.read_tree(tip.tree)
    index.add(pygit2.IndexEntry(path, repo.create_blob(data), pygit2.enums.FileMode.BLOB))
    sig = pygit2.Signature("fuzz", "fuzz@example.com", 0, 0)
    return str(repo.create_commit(None, sig, sig, "fuzz", index.write_tree(repo), [tip.id]))


def _mutate(line: bytes, position: int, byte: int, insert: bool) -> bytes:
    if insert:
        return line[:position] + bytes([byte]) + line[position:]
    return line[:position] + bytes([byte]) + line[position + 1 :]


EXAMPLES = int(os.environ.get("GITDOCKET_FUZZ_EXAMPLES", "150"))
"""A longer campaign: ``GITDOCKET_FUZZ_EXAMPLES=5000 pytest tests/property/test_verify_fuzz.py``."""


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_a_flipped_or_inserted_byte_in_any_log_is_a_finding(demo_registry: Path, data: st.DataObject) -> None:
    repo = pygit2.Repository(str(demo_registry))
    path = data.draw(st.sampled_from(_logs(repo)), label="log")
    lines = repo.head.peel(pygit2.Commit).tree[path].data.split(b"\n")[:-1]
    index = data.draw(st.integers(0, len(lines) - 1), label="line")
    line = lines[index]
    end = line.find(SIGNATURE) if data.draw(st.booleans(), label="in the data") else len(line)
    position = data.draw(st.integers(0, max(0, end - 1)), label="position")
    insert = data.draw(st.booleans(), label="insert")
    byte = data.draw(st.integers(0, 255).filter(lambda b: insert or b != line[position]), label="byte")
    if data.draw(st.booleans(), label="as a new line"):
        lines.append(_mutate(line, position, byte, insert))  # a new event, for PR mode to judge
    else:
        lines[index] = _mutate(line, position, byte, insert)
    head = _commit(repo, path, b"".join(part + b"\n" for part in lines))

    mode = data.draw(st.sampled_from([(), ("--base", str(repo.head.target))]), label="mode")
    result = run_cli("verify", "--repo", demo_registry, "--head", head, *mode, "--format", "json")
    assert result.code == 1, result.err
    assert result.err == ""
    report = json.loads(result.out)
    assert report["ok"] is False and report["findings"]
    assert all(f["code"] and f["path"] for f in report["findings"])


def test_a_fork_naming_an_illegal_source_is_a_finding(demo_registry: Path) -> None:
    """The byte that used to stop verify: a fork's or a pull's source name made illegal."""
    repo = pygit2.Repository(str(demo_registry))
    path = next(p for p in _logs(repo) if (repo.head.peel(pygit2.Commit).tree[p].data.find(b'"forked"') > 0))
    text = repo.head.peel(pygit2.Commit).tree[path].data
    cut = text.index(b'"source":"') + len(b'"source":"') + 3
    head = _commit(repo, path, text[:cut] + b"^" + text[cut + 1 :])
    result = run_cli("verify", "--repo", demo_registry, "--head", head, "--format", "json")
    assert result.code == 1 and result.err == "", result.err
    assert {f["code"] for f in json.loads(result.out)["findings"]} >= {"SIGNATURE_INVALID"}
