"""The newest-event cache (ADR 0014, ADR 0033): a write records its own commit from the logs it
wrote, and what it records is what reading every log of that commit gives, so the next write
need not read back the (possibly long) log the previous one appended to."""

from __future__ import annotations

from pathlib import Path

import pygit2
import pytest

from gitdocket.adapters import timeline
from gitdocket.adapters.store import GitTree
from gitdocket.core.log import newest_time
from gitdocket.core.tree import TreeRef
from tests.integration.forgery import published_registry
from tests.support import Registry

BASE = "1" * 40
COMMIT = "2" * 40
EARLIER = "2026-01-01T00:00:00Z"
LATER = "2026-02-01T00:00:00Z"


def _line(at: str) -> bytes:
    return f'{{"actor":"alice","at":"{at}"}}\n'.encode()


def _head(repo: pygit2.Repository) -> pygit2.Commit:
    return repo.head.peel(pygit2.Commit)


def test_a_write_caches_its_own_commit_as_reading_every_log_would(
    registry: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    published_registry(registry)
    monkeypatch.setenv("GITDOCKET_NOW", "2026-03-01T00:00:00Z")
    registry.ok("version", "draft", "support-triage", "2.0.0")
    repo = pygit2.Repository(str(registry.path))
    head = _head(repo)
    cached = timeline._load(repo)
    assert cached.get(str(head.id)) == "2026-03-01T00:00:00Z"  # recorded by the write itself
    assert cached[str(head.id)] == newest_time(GitTree(repo, head))  # what reading every log gives
    timeline._cache_path(repo).unlink()
    assert timeline.newest_event(GitTree(repo, head)) == cached[str(head.id)]  # and a cold read agrees


@pytest.mark.parametrize(
    ("placed", "recorded"),
    [
        pytest.param(None, LATER, id="logs-only"),
        pytest.param("deployments/dev/releases/blue-1", LATER, id="release-tree"),
        pytest.param("registry/versions/agent/1.0.0/method", LATER, id="method-tree"),
        pytest.param("registry", None, id="imported-registry-folder"),
        pytest.param("deployments/prod", None, id="imported-scope-folder"),
        pytest.param("bundles/blue-1/history.jsonl", None, id="tree-at-a-log-path"),
    ],
)
def test_a_write_is_recorded_only_when_its_logs_are_all_in_hand(
    tmp_path: Path, placed: str | None, recorded: str | None
) -> None:
    """A whole tree placed where a scope's log may be could hold logs the write never read: the
    write records nothing then, and the next one reads those logs back."""
    repo = pygit2.init_repository(str(tmp_path / "r.git"), bare=True)
    timeline._store(repo, {BASE: EARLIER})
    writes: dict[str, bytes | TreeRef] = {
        "deployments/dev/history.jsonl": _line(EARLIER) + _line(LATER),
        "deployments/dev/current.json": b"{}\n",
    }
    if placed is not None:
        writes[placed] = TreeRef("3" * 40)
    timeline.remember_write(repo, BASE, COMMIT, writes)
    assert timeline._load(repo).get(COMMIT) == recorded


def test_a_write_on_an_uncached_base_records_nothing(tmp_path: Path) -> None:
    repo = pygit2.init_repository(str(tmp_path / "r.git"), bare=True)
    timeline.remember_write(repo, BASE, COMMIT, {"deployments/dev/history.jsonl": _line(LATER)})
    assert COMMIT not in timeline._load(repo)
