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

import os
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pygit2
import pytest

from gitdocket.adapters.faults import CRASH_STEPS
from tests.integration.releases_support import ENV, Release, copy_release, make_template
from tests.support import Registry, Result, object_ids, run_process

LANDED = {"after-sign": False, "in-swap": False, "after-swap": True, "in-checkout": True, "after-worktree": True}
"""Whether the write has landed when the process dies at each step."""


@pytest.fixture(scope="session")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A registry with 1.0.0 published and bundled (verified), 1.1.0 frozen, and an exported
    bundle the registry has never seen (built on a copy that is thrown away)."""
    base = make_template(tmp_path_factory.mktemp("crash"))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HOME", str(base))
        for name, value in ENV.items():
            patch.setenv(name, value)
        rel = copy_release(base, base / "setup")
        rel.reg.ok("version", "freeze", "support-triage", "1.1.0")
        rel.build(label="candidate")
        shutil.copytree(rel.reg.path, base / "scratch", symlinks=True)
        rel.reg.path = base / "scratch"
        rel.reg.ok("bundle", "export", rel.build(label="imported"), "--to", base / "imported.tar.gz")
    shutil.rmtree(base / "scratch")
    return base


@dataclass(frozen=True)
class Kind:
    """One kind of write: the command, and what its re-run says once the write has landed."""

    name: str
    args: Callable[[Release, Path], list[str | Path]]
    rerun_when_landed: int
    """Exit code of running the command again after it landed: 0 (idempotent) or 1 (refused
    as already done: the write is complete)."""


def _bundle_id(rel: Release) -> str:
    return next(p.name for p in (rel.reg.path / "bundles").iterdir() if p.name.startswith("candidate-"))


KINDS = [
    Kind("freeze", lambda rel, base: ["version", "freeze", "support-triage", "1.2.0"], 1),
    Kind("publish", lambda rel, base: ["package", "publish", "support-triage", "1.1.0"], 1),
    Kind("release", lambda rel, base: ["release", "support-triage", "1.2.0"], 1),
    Kind("bundle-build", lambda rel, base: ["bundle", "build", "--label", "rc", "--evidence", rel.evidence], 0),
    Kind("bundle-import", lambda rel, base: ["bundle", "import", rel.reg.path.parent / "imported.tar.gz"], 0),
    Kind(
        "promote",
        lambda rel, base: ["promote", _bundle_id(rel), "--env", "preview", "--gated", "--reports-dir", rel.reports],
        1,
    ),
    Kind(
        "promote-exported",
        lambda rel, base: [
            "promote",
            rel.reg.path.parent / "imported.tar.gz",
            *("--env", "preview", "--gated", "--reports-dir", rel.reports),
        ],
        1,
    ),
]


def _copy(template: Path, tmp_path: Path) -> Release:
    shutil.copytree(template / "setup", tmp_path / "copy", symlinks=True)
    shutil.copy(template / "imported.tar.gz", tmp_path / "copy")
    keys = tmp_path / "copy" / "keys"
    alice = keys / "alice_ed25519"
    reg = Registry(tmp_path / "copy" / "reg", keys, alice, {"alice": alice})
    return Release(reg, tmp_path / "copy" / "evidence", tmp_path / "copy" / "blocked", tmp_path / "copy" / "reports")


def _spawn(rel: Release, args: list[str | Path], crash: str | None = None) -> Result:
    env = {**ENV, "HOME": str(rel.reg.path.parent)}
    if crash is not None:
        env["GITDOCKET_TEST_CRASH_AT"] = crash
    return run_process(*args, "--repo", rel.reg.path, "--key", rel.reg.alice, env=env)


def _git(path: Path, *args: str) -> str:
    env = {**os.environ, **ENV}
    done = subprocess.run(["git", "-C", str(path), *args], capture_output=True, text=True, env=env, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


def _sound(rel: Release) -> None:
    """The registry verifies, the worktree holds the committed files, git finds nothing wrong."""
    verified = rel.reg.run("verify")
    assert verified.code == 0, verified.out + verified.err
    assert _git(rel.reg.path, "status", "--porcelain", "--untracked-files=all") == ""
    _git(rel.reg.path, "fsck", "--strict", "--no-dangling")


@pytest.mark.parametrize("step", CRASH_STEPS)
@pytest.mark.parametrize("kind", [pytest.param(k, id=k.name) for k in KINDS])
def test_kill_at_every_step(template: Path, tmp_path: Path, kind: Kind, step: str) -> None:
    rel = _copy(template, tmp_path)
    args = kind.args(rel, template)
    refs, objects = rel.reg.refs(), object_ids(rel.reg.path)

    killed = _spawn(rel, args, crash=step)
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

    rerun = _spawn(rel, args)
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


def _new_objects(repo: pygit2.Repository, tip: str) -> tuple[str, dict[str, str]]:
    """The commit a killed write made on ``tip`` and its tag objects, by tag name."""
    objects = [repo[oid] for oid in repo.odb]
    commit = next(
        str(o.id) for o in objects if isinstance(o, pygit2.Commit) and [str(p) for p in o.parent_ids] == [tip]
    )
    tags = {o.name: str(o.id) for o in objects if isinstance(o, pygit2.Tag) and str(o.target) == commit and o.name}
    return commit, tags


def _rename_into_place(git_dir: Path, ref: str, value: str) -> None:
    """What libgit2's ref transaction does to each ref when it commits: write the value into
    the ref's lock file and rename it over the ref."""
    lock = git_dir / f"{ref}.lock"
    lock.write_text(value + "\n")
    lock.rename(git_dir / ref)


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
    rel = _copy(template, tmp_path)
    args = kind.args(rel, template)
    tip = rel.reg.refs()["refs/heads/main"]
    assert _spawn(rel, args, crash="in-swap").code == -9
    git_dir = rel.reg.path / ".git"
    repo = pygit2.Repository(str(rel.reg.path))
    commit, tags = _new_objects(repo, tip)
    left = sorted(set(tags) - set(moved))
    assert commit and left, (commit, tags)
    # The kill came after libgit2 renamed the branch and some tags, before the others.
    _rename_into_place(git_dir, "refs/heads/main", commit)
    for name in moved:
        _rename_into_place(git_dir, f"refs/tags/{name}", tags[name])
    assert all((git_dir / f"refs/tags/{name}.lock").exists() for name in left)

    # The registry verifies without the missing tags: drift, a note naming the repair.
    verified = rel.reg.run("verify")
    assert verified.code == 0, verified.out
    assert all(name in verified.err for name in left) and "gitdocket tags sync" in verified.err

    # Either repair the note names: the same command again, or `gitdocket tags sync`.
    rerun = _spawn(rel, args if repair == "rerun" else ["tags", "sync"])
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
    rel = _copy(template, tmp_path)
    assert _spawn(rel, kind.args(rel, template), crash="in-checkout").code == -9
    stale = sorted(p for p in _git(rel.reg.path, "status", "--porcelain").splitlines())
    assert stale, "the written paths still show the old content"
    repo = pygit2.Repository(str(rel.reg.path))
    changed = _git(rel.reg.path, "diff", "--name-only", "HEAD~1", "HEAD").split()
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
