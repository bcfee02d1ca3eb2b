"""Shared set-up for the crash tests (``test_crash``) and ``doctor``'s (``test_doctor``): the
registry they kill writes in, the kinds of write, and running one as a real process that the
``GITDOCKET_TEST_CRASH_AT`` hook kills."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pygit2
import pytest

from tests.integration.releases_support import ENV, Release, copy_release, make_template
from tests.support import Registry, Result, run_process


def make_crash_template(base: Path) -> Path:
    """A registry with 1.0.0 published and bundled (verified), 1.1.0 frozen, and an exported
    bundle the registry has never seen (built on a copy that is thrown away)."""
    make_template(base)
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


def _candidate_id(rel: Release) -> str:
    return next(p.name for p in (rel.reg.path / "bundles").iterdir() if p.name.startswith("candidate-"))


KINDS = [
    Kind("freeze", lambda rel, base: ["version", "freeze", "support-triage", "1.2.0"], 1),
    Kind("publish", lambda rel, base: ["package", "publish", "support-triage", "1.1.0"], 1),
    Kind("release", lambda rel, base: ["release", "support-triage", "1.2.0"], 1),
    Kind("bundle-build", lambda rel, base: ["bundle", "build", "--label", "rc", "--evidence", rel.evidence], 0),
    Kind("bundle-import", lambda rel, base: ["bundle", "import", rel.reg.path.parent / "imported.tar.gz"], 0),
    Kind(
        "promote",
        lambda rel, base: ["promote", _candidate_id(rel), "--env", "preview", "--gated", "--reports-dir", rel.reports],
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


def copy_crash_release(template: Path, tmp_path: Path) -> Release:
    shutil.copytree(template / "setup", tmp_path / "copy", symlinks=True)
    shutil.copy(template / "imported.tar.gz", tmp_path / "copy")
    keys = tmp_path / "copy" / "keys"
    alice = keys / "alice_ed25519"
    reg = Registry(tmp_path / "copy" / "reg", keys, alice, {"alice": alice})
    return Release(reg, tmp_path / "copy" / "evidence", tmp_path / "copy" / "blocked", tmp_path / "copy" / "reports")


def spawn(rel: Release, args: list[str | Path], crash: str | None = None) -> Result:
    env = {**ENV, "HOME": str(rel.reg.path.parent)}
    if crash is not None:
        env["GITDOCKET_TEST_CRASH_AT"] = crash
    return run_process(*args, "--repo", rel.reg.path, "--key", rel.reg.alice, env=env)


def new_objects(repo: pygit2.Repository, tip: str) -> tuple[str, dict[str, str]]:
    """The commit a killed write made on ``tip`` and its tag objects, by tag name."""
    objects = [repo[oid] for oid in repo.odb]
    commit = next(
        str(o.id) for o in objects if isinstance(o, pygit2.Commit) and [str(p) for p in o.parent_ids] == [tip]
    )
    tags = {o.name: str(o.id) for o in objects if isinstance(o, pygit2.Tag) and str(o.target) == commit and o.name}
    return commit, tags


def rename_into_place(git_dir: Path, ref: str, value: str) -> None:
    """What libgit2's ref transaction does to each ref when it commits: write the value into
    the ref's lock file and rename it over the ref."""
    lock = git_dir / f"{ref}.lock"
    lock.write_text(value + "\n")
    lock.rename(git_dir / ref)
