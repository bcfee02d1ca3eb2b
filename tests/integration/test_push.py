"""`--push` on writes, against a real bare origin: the commit and its tags land together with a
lease, the local branch follows only once the remote took them, another writer's newer commit is
planned on again (bounded), and a lost race, a refusing remote or a diverged branch writes
nothing. Two real processes race for the same branch and both land."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from gitdocket.ops.publish import PUSH_ATTEMPTS
from tests.support import EXAMPLES, ROOT, Registry, add_origin, git, run_cli, write_key

ANOTHER_WRITER = """#!/bin/sh
# Another writer wins the race: main moves just before this push lands ({when}).
unset GIT_QUARANTINE_PATH
[ "{when}" = once ] && [ -e won-once ] && exit 0
touch won-once
tip=$(git rev-parse refs/heads/main)
new=$(git commit-tree -p "$tip" -m "another writer" "$tip^{{tree}}")
git update-ref refs/heads/main "$new" "$tip"
"""

DECLINE = """#!/bin/sh
echo "branch main is protected: changes need a pull request" >&2
exit 1
"""


@pytest.fixture
def origin(registry: Registry, tmp_path: Path) -> Path:
    """A bare origin holding the registry's main, which the registry tracks."""
    registry.add_archetype()
    return add_origin(registry, tmp_path / "origin.git")


def _hook(origin: Path, text: str) -> None:
    hook = origin / "hooks" / "pre-receive"
    hook.write_text(text)
    hook.chmod(0o755)


def _local(reg: Registry) -> tuple[dict[str, str], str]:
    """Refs (but the remote-tracking ones, which a fetch rightly updates) and the worktree."""
    refs = {name: oid for name, oid in reg.refs().items() if not name.startswith("refs/remotes/")}
    return refs, reg.git("status", "--porcelain", "--untracked-files=all")


def test_push_lands_the_commit_and_its_tags_and_moves_the_branch(registry: Registry, origin: Path) -> None:
    result = registry.ok("version", "freeze", "support-triage", "1.0.0", "--push", "--format", "json")
    commit = result.json()["commit"]
    line = result.err.splitlines()[0]
    assert line.startswith(f"pushed {commit[:12]} and 1 tag(s) to origin/main: git push --atomic ")
    assert f"--force-with-lease=refs/heads/main:{git(origin, 'rev-parse', 'main~1')}" in line
    assert f"{commit}:refs/heads/main refs/tags/support-triage/v1.0.0" in line
    assert git(origin, "rev-parse", "main") == commit == git(registry.path, "rev-parse", "main")
    assert git(origin, "rev-parse", "support-triage/v1.0.0^{commit}") == commit
    assert "refs/gitdocket/push/main" not in registry.refs(), "the scratch ref is gone"
    assert registry.git("status", "--porcelain") == ""


def test_a_write_without_push_names_the_push_that_publishes_it(registry: Registry, origin: Path) -> None:
    """As gto does: the note holds the `git push` to paste, and pasting it publishes the commit and
    its tag; a repository without a remote gets no such note."""
    result = registry.ok("version", "freeze", "support-triage", "1.0.0", "--format", "json")
    commit = result.json()["commit"]
    [note] = [line for line in result.err.splitlines() if "not pushed yet" in line]
    command = note.split("`")[1]
    assert command == "git push --atomic origin main refs/tags/support-triage/v1.0.0"
    assert git(origin, "rev-parse", "main") != commit
    subprocess.run(command.split(), cwd=registry.path, check=True, capture_output=True)
    assert git(origin, "rev-parse", "main") == commit == git(origin, "rev-parse", "support-triage/v1.0.0^{commit}")
    registry.git("remote", "remove", "origin")
    assert "not pushed" not in registry.ok("version", "draft", "support-triage", "1.1.0").err


def test_a_clone_behind_the_remote_writes_on_the_remotes_tip(registry: Registry, origin: Path, tmp_path: Path) -> None:
    """Another clone pushed meanwhile: the write is planned on its commit, and the branch and the
    worktree fast-forward to the pushed result."""
    other = Registry(tmp_path / "other", registry.keys, registry.alice, dict(registry.principals))
    git(tmp_path, "clone", "-q", str(origin), str(other.path))
    other.ok("archetype", "new", "release-notes", "--from", EXAMPLES / "release-notes", "--push")
    behind = git(registry.path, "rev-parse", "main")
    result = registry.ok("version", "freeze", "support-triage", "1.0.0", "--push", "--format", "json")
    assert git(registry.path, "rev-parse", "main~1") == git(other.path, "rev-parse", "main") != behind
    assert git(origin, "rev-parse", "main") == result.json()["commit"]
    assert (registry.path / "registry" / "archetypes" / "release-notes" / "archetype.yaml").is_file()
    assert registry.git("status", "--porcelain") == ""
    assert run_cli("verify", "--repo", registry.path).code == 0


def test_a_race_lost_once_is_planned_again_on_the_winners_commit(registry: Registry, origin: Path) -> None:
    _hook(origin, ANOTHER_WRITER.format(when="once"))
    result = registry.ok("version", "freeze", "support-triage", "1.0.0", "--push", "--format", "json")
    assert "(attempt 2: another writer pushed first)" in result.err
    commit = result.json()["commit"]
    assert git(origin, "log", "-1", "--format=%s", f"{commit}~1") == "another writer"
    assert git(origin, "rev-parse", "main") == commit == git(registry.path, "rev-parse", "main")


def test_a_race_lost_every_time_is_one_line_and_writes_nothing(registry: Registry, origin: Path) -> None:
    _hook(origin, ANOTHER_WRITER.format(when="always"))
    before = _local(registry)
    result = registry.run("version", "freeze", "support-triage", "1.0.0", "--push")
    assert result.code == 1 and result.out == ""
    assert result.err.splitlines() == [
        f"error: lost the race to origin/main {PUSH_ATTEMPTS} times: other writers kept pushing first; "
        "nothing was pushed or written",
        "hint: run the command again when the branch is quieter",
    ]
    assert _local(registry) == before
    assert "support-triage/v1.0.0" not in git(origin, "tag")


def test_a_remote_that_refuses_gets_nothing_and_so_does_the_clone(registry: Registry, origin: Path) -> None:
    _hook(origin, DECLINE)
    before, remote_before = _local(registry), git(origin, "rev-parse", "main")
    result = registry.run("version", "freeze", "support-triage", "1.0.0", "--push")
    assert result.code == 1
    lines = result.err.splitlines()
    assert lines[0].startswith("error: origin refused the push, nothing was pushed or written: ")
    assert lines[1].startswith("hint: ") and len(lines) == 2
    assert _local(registry) == before and git(origin, "rev-parse", "main") == remote_before


def test_a_diverged_branch_is_refused_before_signing(registry: Registry, origin: Path, tmp_path: Path) -> None:
    other = Registry(tmp_path / "other", registry.keys, registry.alice, dict(registry.principals))
    git(tmp_path, "clone", "-q", str(origin), str(other.path))
    other.ok("archetype", "new", "release-notes", "--from", EXAMPLES / "release-notes", "--push")
    registry.ok("version", "draft", "support-triage", "1.0.0")  # a local commit origin lacks
    before = _local(registry)
    result = registry.run("version", "freeze", "support-triage", "1.0.0", "--push")
    assert result.code == 1
    assert result.err.splitlines()[0] == (
        "error: branch 'main' and origin/main have diverged: gitdocket will not push over either"
    )
    assert "`git pull --rebase origin main`" in result.err
    assert _local(registry) == before


def _racer(clone: Path, key: Path, names: list[str], pubs: Path) -> subprocess.Popen[str]:
    script = "; ".join(
        f"run(['policy', 'add-identity', '{name}', '{pubs / (name + '_ed25519.pub')}', '--push', '--repo', '{clone}'])"
        for name in names
    )
    code = (
        "import sys\n"
        "from gitdocket.commands import main\n"
        "def run(args):\n"
        "    try:\n"
        "        main(args)\n"
        "    except SystemExit as exc:\n"
        "        if exc.code:\n"
        "            sys.exit(exc.code)\n"
        f"{script}\n"
    )
    env = {**os.environ, "GITDOCKET_SIGNING_KEY": str(key), "PYTHONPATH": str(ROOT / "cli")}
    return subprocess.Popen([sys.executable, "-c", code], env=env, text=True, stderr=subprocess.PIPE)


def test_two_processes_racing_for_one_branch_both_land(registry: Registry, origin: Path, tmp_path: Path) -> None:
    """Two clones, two real processes, each adding identities to the one policy log (every write
    conflicts with the other's): all of them land on the origin, each exactly once, in a registry
    that verifies."""
    clones = []
    for name in ("one", "two"):
        git(tmp_path, "clone", "-q", str(origin), str(tmp_path / name))
        clones.append(tmp_path / name)
    names = {"one": ["bob", "carol", "dave"], "two": ["erin", "frank", "grace"]}
    pubs = tmp_path / "pubs"
    pubs.mkdir()
    for name in names["one"] + names["two"]:
        write_key(pubs, name)
    racers = [_racer(clone, registry.alice, names[clone.name], pubs) for clone in clones]
    errors = [racer.communicate(timeout=300)[1] for racer in racers]
    assert [racer.returncode for racer in racers] == [0, 0], errors
    assert [sum(line.startswith("pushed ") for line in err.splitlines()) for err in errors] == [3, 3], errors
    fresh = tmp_path / "fresh"
    git(tmp_path, "clone", "-q", str(origin), str(fresh))
    policy = run_cli("policy", "show", "--format", "json", "--repo", fresh).json()
    assert sorted(policy["identities"]) == sorted(["alice", *names["one"], *names["two"]])
    assert run_cli("verify", "--repo", fresh).code == 0
