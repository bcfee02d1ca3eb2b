"""Crash tests: every kind of write, run as a real process and really killed (SIGKILL, through
the ``GITDOCKET_TEST_CRASH_AT`` hook) at every step of the write path, and what the next run finds.

After each kill: the registry verifies, the repository holds no ref in a third state, the next
run of the same command finishes (or says the write is already done), the registry verifies
again, the worktree holds the committed files, and ``git fsck`` is clean. The steps are
``faults.CRASH_STEPS``; "between tags" — a kill inside libgit2's ref transaction, after it renamed
some refs and before the others — cannot be reached by a hook and is built by hand from the state
such a kill leaves (``test_kill_between_tags_*``).
"""

from __future__ import annotations

from pathlib import Path

import pygit2
import pytest

from gitdocket.adapters.faults import CRASH_STEPS
from tests.integration.crash_support import KINDS, Kind, copy_crash_release, new_objects, rename_into_place, spawn
from tests.integration.releases_support import Release
from tests.support import git, object_ids

LANDED = {"after-sign": False, "in-swap": False, "after-swap": True, "in-checkout": True, "after-worktree": True}
"""Whether the write has landed when the process dies at each step."""


@pytest.fixture
def template(crash_template: Path) -> Path:
    return crash_template


def _sound(rel: Release) -> None:
    """The registry verifies, the worktree holds the committed files, git finds nothing wrong."""
    verified = rel.reg.run("verify")
    assert verified.code == 0, verified.out + verified.err
    assert git(rel.reg.path, "status", "--porcelain", "--untracked-files=all") == ""
    git(rel.reg.path, "fsck", "--strict", "--no-dangling")


@pytest.mark.parametrize("step", CRASH_STEPS)
@pytest.mark.parametrize("kind", [pytest.param(k, id=k.name) for k in KINDS])
def test_kill_at_every_step(template: Path, tmp_path: Path, kind: Kind, step: str) -> None:
    rel = copy_crash_release(template, tmp_path)
    args = kind.args(rel, template)
    refs, objects = rel.reg.refs(), object_ids(rel.reg.path)

    killed = spawn(rel, args, crash=step)
    assert killed.code == -9, killed.err  # really killed, by SIGKILL

    after = rel.reg.refs()
    if LANDED[step]:
        assert after["refs/heads/main"] != refs["refs/heads/main"]
        new_tags = set(after) - set(refs)
        assert all(after[t] != refs.get(t) for t in new_tags)
    else:  # nothing moved, and only a write that got as far as the ref locks left objects
        assert after == refs
        assert step == "in-swap" or object_ids(rel.reg.path) == objects
    # The registry verifies whatever the moment of the kill.
    assert rel.reg.run("verify").code == 0

    rerun = spawn(rel, args)
    expected = kind.rerun_when_landed if LANDED[step] else 0
    assert rerun.code == expected, rerun.err
    if expected:
        assert "already" in rerun.err, rerun.err
    if step == "in-swap":  # the killed write's lock files are gone, and the re-run said so
        assert "left by a gitdocket write that was killed" in rerun.err
    if step in ("after-swap", "in-checkout"):  # the paths it had left stale were put back, and it said so
        assert "left stale in the worktree" in rerun.err
    _sound(rel)
    # The registry takes the next write.
    assert rel.reg.run("policy", "expires", "2030-01-01T00:00:00Z").code == 0
    _sound(rel)


# -- between tags ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "moved"),
    [
        pytest.param(KINDS[0], (), id="freeze-branch-moved-tag-not"),
        pytest.param(KINDS[1], (), id="publish-branch-moved-tag-not"),
        pytest.param(KINDS[2], ("support-triage/v1.2.0",), id="release-one-tag-of-two"),
        pytest.param(KINDS[2], ("packages/support-triage/v1.2.0",), id="release-the-other-tag"),
    ],
)
@pytest.mark.parametrize("repair", ["rerun", "tags-sync"])
def test_kill_between_tags_is_completed_by_the_rerun(
    template: Path, tmp_path: Path, kind: Kind, moved: tuple[str, ...], repair: str
) -> None:
    rel = copy_crash_release(template, tmp_path)
    args = kind.args(rel, template)
    tip = rel.reg.refs()["refs/heads/main"]
    assert spawn(rel, args, crash="in-swap").code == -9
    git_dir = rel.reg.path / ".git"
    repo = pygit2.Repository(str(rel.reg.path))
    commit, tags = new_objects(repo, tip)
    left = sorted(set(tags) - set(moved))
    assert commit and left, (commit, tags)
    # The kill came after libgit2 renamed the branch and some tags, before the others.
    rename_into_place(git_dir, "refs/heads/main", commit)
    for name in moved:
        rename_into_place(git_dir, f"refs/tags/{name}", tags[name])
    assert all((git_dir / f"refs/tags/{name}.lock").exists() for name in left)

    # The registry verifies without the missing tags: drift, a note naming the repair.
    verified = rel.reg.run("verify")
    assert verified.code == 0, verified.out
    assert all(name in verified.err for name in left) and "gitdocket tags sync" in verified.err

    # Either repair the note names: the same command again, or `gitdocket tags sync`.
    rerun = spawn(rel, args if repair == "rerun" else ["tags", "sync"])
    assert rerun.code == 0, rerun.err
    assert "left by a gitdocket write that was killed" in rerun.err
    assert all(name in rerun.out for name in left), rerun.out
    refs = rel.reg.refs()
    assert refs["refs/heads/main"] == commit  # the re-run made no new commit
    for name in tags:
        assert str(repo.revparse_single(f"{name}^{{commit}}").id) == commit
    _sound(rel)


# -- inside the checkout -----------------------------------------------------------------------


@pytest.mark.parametrize("kind", [pytest.param(k, id=k.name) for k in KINDS if k.name in ("freeze", "bundle-build")])
def test_kill_inside_the_checkout_is_repaired_by_the_next_write(template: Path, tmp_path: Path, kind: Kind) -> None:
    """A kill inside libgit2's checkout leaves some written files new, the index old, and
    index.lock: built here from the ``in-checkout`` step, the state such a kill leaves."""
    rel = copy_crash_release(template, tmp_path)
    assert spawn(rel, kind.args(rel, template), crash="in-checkout").code == -9
    stale = sorted(p for p in git(rel.reg.path, "status", "--porcelain").splitlines())
    assert stale, "the written paths still show the old content"
    repo = pygit2.Repository(str(rel.reg.path))
    changed = git(rel.reg.path, "diff", "--name-only", "HEAD~1", "HEAD").split()
    first = rel.reg.path / changed[0]  # one file already new on disk, its index entry still old
    first.parent.mkdir(parents=True, exist_ok=True)
    first.write_bytes(repo.revparse_single(f"HEAD:{changed[0]}").data)
    (rel.reg.path / ".git" / "index.lock").write_bytes(b"")  # libgit2 was writing the index
    assert rel.reg.run("verify").code == 0

    nxt = rel.reg.run("policy", "expires", "2030-01-01T00:00:00Z")
    assert nxt.code == 0, nxt.err
    assert "index.lock, left by a gitdocket write that was killed" in nxt.err
    assert "left stale in the worktree" in nxt.err
    assert not (rel.reg.path / ".git" / "index.lock").exists()
    _sound(rel)
