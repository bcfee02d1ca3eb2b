"""``GitStore.on_branch``: what ``verify --base`` trusts as already verified (ADR 0034). A
commit counts as on the default branch through the local branch or a configured remote's copy of
it, never through another branch whose name merely ends in ``/main``."""

from __future__ import annotations

from pathlib import Path

import pygit2
import pytest

from gitdocket.adapters.store import GitStore


def _commit(repo: pygit2.Repository, message: str, parents: list[pygit2.Oid]) -> pygit2.Oid:
    who = pygit2.Signature("t", "t@example.org", 1_700_000_000, 0)
    tree = repo.TreeBuilder().write()
    return repo.create_commit(None, who, who, message, tree, parents)


@pytest.fixture
def store(tmp_path: Path) -> tuple[GitStore, dict[str, str]]:
    repo = pygit2.init_repository(str(tmp_path / "r"), bare=True, initial_head="main")
    repo.remotes.create("origin", str(tmp_path / "elsewhere"))
    root = _commit(repo, "root", [])
    merged = _commit(repo, "merged", [root])
    fetched = _commit(repo, "on origin/main", [merged])
    forged = _commit(repo, "a pull request's", [root])
    repo.references.create("refs/heads/main", merged)
    repo.references.create("refs/remotes/origin/main", fetched)
    repo.references.create("refs/remotes/origin/someone/main", forged)
    repo.references.create("refs/remotes/stale/main", forged)  # no such remote is configured
    ids = {"root": root, "merged": merged, "fetched": fetched, "forged": forged}
    return GitStore(repo, "main"), {k: str(v) for k, v in ids.items()}


@pytest.mark.parametrize(
    ("commit", "on"),
    [
        pytest.param("root", True, id="ancestor-of-the-local-branch"),
        pytest.param("merged", True, id="tip-of-the-local-branch"),
        pytest.param("fetched", True, id="on-the-remote-copy"),
        pytest.param("forged", False, id="only-on-a-branch-ending-in-main-or-an-unconfigured-remote"),
    ],
)
def test_on_branch(store: tuple[GitStore, dict[str, str]], commit: str, on: bool) -> None:
    git_store, ids = store
    assert git_store.on_branch("main", ids[commit]) is on
