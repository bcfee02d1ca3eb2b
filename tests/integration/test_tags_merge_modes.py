"""Tags and pull requests, with real git against a bare origin (docs/git.md, the tag design):
a release pull request merged by merge commit, by squash and by rebase, then `gitdocket tags
sync --push` on main, after which main — and a fresh clone of the origin — verifies with
`--require-tags`; and a pull request's own tags never break main's verify or another pull
request's."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitdocket.adapters.signing import KeySigner
from gitdocket.adapters.store import GitStore
from gitdocket.core.tree import TagSpec
from gitdocket.ops.session import clock_now
from tests.support import EXAMPLES, Registry, add_origin, git, run_cli

RELEASE = "release-1.0"
TAGS = ("packages/support-triage/v1.0.0", "support-triage/v1.0.0")


@pytest.fixture
def pull_request(registry: Registry, tmp_path: Path) -> Registry:
    """main with an archetype, pushed to a bare origin; a release branch that froze and published
    support-triage 1.0.0 (two commits, no tags: it is not the default branch), pushed; and main
    moved on meanwhile (another archetype), so a rebase really rewrites."""
    reg = registry
    reg.add_archetype()
    add_origin(reg, tmp_path / "origin.git")
    git(reg.path, "switch", "-q", "-c", RELEASE)
    frozen = reg.ok("version", "freeze", "support-triage", "1.0.0")
    assert f"created no tag on branch {RELEASE!r}" in frozen.err and "support-triage/v1.0.0" in frozen.err
    reg.ok("package", "publish", "support-triage", "1.0.0")
    assert not [r for r in reg.refs() if r.startswith("refs/tags/")], "a pull request's branch creates no tags"
    git(reg.path, "push", "-q", "origin", RELEASE)
    git(reg.path, "switch", "-q", "main")
    reg.ok("archetype", "new", "release-notes", "--from", EXAMPLES / "release-notes")
    git(reg.path, "push", "-q", "origin", "main")
    return reg


def _merge(reg: Registry, mode: str) -> None:
    """What GitHub's three merge buttons do to main."""
    if mode == "merge":
        git(reg.path, "merge", "-q", "--no-ff", RELEASE, "-m", "Merge pull request #1 from release-1.0")
    elif mode == "squash":
        git(reg.path, "merge", "-q", "--squash", RELEASE)
        git(reg.path, "commit", "-q", "-m", "Release support-triage 1.0.0 (#1)")
    else:
        git(reg.path, "switch", "-q", RELEASE)
        git(reg.path, "rebase", "-q", "main")
        git(reg.path, "switch", "-q", "main")
        git(reg.path, "merge", "-q", "--ff-only", RELEASE)
    git(reg.path, "push", "-q", "origin", "main")


def _tag_commits(reg: Registry) -> dict[str, str]:
    return {name: git(reg.path, "rev-parse", f"{name}^{{commit}}") for name in TAGS}


@pytest.mark.parametrize("mode", ["merge", "squash", "rebase"])
def test_a_release_pull_request_merged_then_synced_verifies_with_every_tag(
    pull_request: Registry, tmp_path: Path, mode: str
) -> None:
    reg = pull_request
    _merge(reg, mode)
    lenient = reg.run("verify")
    assert lenient.code == 0 and "TAG_MISSING" in lenient.err and "`gitdocket tags sync`" in lenient.err
    strict = reg.run("verify", "--require-tags", "--format", "json")
    assert strict.code == 1 and {f["code"] for f in strict.json()["findings"]} == {"TAG_MISSING"}

    synced = reg.ok("tags", "sync", "--push", "--format", "json").json()
    assert synced["created"] == sorted(TAGS) and synced["left"] == []
    assert synced["pushed"]["command"].startswith("git push --atomic --force-with-lease=")
    head, parent = git(reg.path, "rev-parse", "HEAD"), git(reg.path, "rev-parse", "HEAD~1")
    expected = {
        "merge": {TAGS[0]: head, TAGS[1]: head},  # the merge commit brought both events
        "squash": {TAGS[0]: head, TAGS[1]: head},
        "rebase": {TAGS[0]: head, TAGS[1]: parent},  # the rebased publish and freeze commits
    }[mode]
    assert _tag_commits(reg) == expected
    assert git(reg.path, "cat-file", "-p", TAGS[1]).count("-----BEGIN SSH SIGNATURE-----") == 1

    assert reg.ok("verify", "--require-tags").out.rstrip().endswith(": OK")
    again = reg.ok("tags", "sync", "--push", "--format", "json").json()
    assert (again["created"], again["pushed"]) == ([], None), "a second sync has nothing to do"

    clone = tmp_path / "fresh"
    git(tmp_path, "clone", "-q", str(tmp_path / "origin.git"), str(clone))
    fresh = run_cli("verify", "--require-tags", "--repo", clone)
    assert fresh.code == 0 and fresh.out.rstrip().endswith(": OK"), fresh.out


def _tag_the_pull_request(reg: Registry) -> None:
    """What an older gitdocket (or a hand-run tag) left: genuine signed tags on the pull request's
    own commits, pushed to the origin."""
    store = GitStore.open(reg.path)
    signer = KeySigner.from_file(reg.alice)
    freeze, publish = git(reg.path, "rev-parse", f"{RELEASE}~1"), git(reg.path, "rev-parse", RELEASE)
    specs = [(TagSpec(TAGS[1], "docket: froze"), freeze, None), (TagSpec(TAGS[0], "docket: published"), publish, None)]
    store.create_tags(specs, signer, "alice", clock_now())
    git(reg.path, "push", "-q", "origin", *(f"refs/tags/{t}" for t in TAGS))


def test_a_pull_requests_own_tags_break_neither_main_nor_another_pull_request(pull_request: Registry) -> None:
    reg = pull_request
    _tag_the_pull_request(reg)
    assert reg.run("verify", "--require-tags").code == 0, "main does not reach the pull request's tags"
    git(reg.path, "switch", "-q", "-c", "other-change", "main")
    reg.ok("version", "freeze", "release-notes", "0.1.0")
    other = reg.run("verify", "--base", "main", "--require-tags", "--format", "json")
    codes = {f["code"] for f in other.json()["findings"]}
    assert codes == {"TAG_MISSING"}, "only its own untagged freeze: the other pull request's tags are ignored"
    assert reg.run("verify", "--base", "main").code == 0


def test_squash_merge_orphans_are_replaced_only_when_asked(pull_request: Registry, tmp_path: Path) -> None:
    reg = pull_request
    _tag_the_pull_request(reg)
    orphans = _tag_commits(reg)
    _merge(reg, "squash")
    strict = reg.run("verify", "--require-tags", "--format", "json").json()
    hints = {f["hint"] for f in strict["findings"]}
    assert all("`gitdocket tags sync --replace-orphans --push`" in hint for hint in hints), hints

    refused = reg.run("tags", "sync")
    assert refused.code == 1 and refused.out == ""
    assert refused.err.startswith("error: 2 record(s) still lack their tag on main, none was created")
    assert "--replace-orphans" in refused.err
    assert _tag_commits(reg) == orphans, "nothing moved"

    replaced = reg.ok("tags", "sync", "--replace-orphans", "--push")
    assert replaced.out.count("Replaced the orphan at ") == 2 and "Pushed 2 tag(s) to origin" in replaced.out
    head = git(reg.path, "rev-parse", "HEAD")
    assert _tag_commits(reg) == {TAGS[0]: head, TAGS[1]: head}
    clone = tmp_path / "fresh"
    git(tmp_path, "clone", "-q", str(tmp_path / "origin.git"), str(clone))
    assert run_cli("verify", "--require-tags", "--repo", clone).code == 0


def test_tags_sync_runs_on_the_default_branch_only(pull_request: Registry) -> None:
    reg = pull_request
    git(reg.path, "switch", "-q", RELEASE)
    before = reg.refs()
    result = reg.run("tags", "sync")
    assert result.code == 1
    assert result.err.splitlines() == [
        "error: this is branch 'release-1.0'; tags are created on the registry's default branch 'main'",
        "hint: run it there once the change has landed: `git switch main`, then `gitdocket tags sync`",
    ]
    assert reg.refs() == before


def test_tags_sync_needs_a_key_of_the_policy(pull_request: Registry) -> None:
    reg = pull_request
    _merge(reg, "merge")
    before = reg.refs()
    result = reg.run("tags", "sync", key="mallory")
    assert result.code == 1 and "is not in the policy" in result.err
    assert reg.refs() == before
