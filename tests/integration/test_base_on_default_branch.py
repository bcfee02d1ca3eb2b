"""What ``verify --base`` may take as verified (ADR 0034): a base on the registry's default
branch, local or remote-tracking. Any other base has the whole head judged, so a hand edit on
the pull request's branch is found whatever base the caller names."""

from __future__ import annotations

import subprocess

from gitdocket.adapters.store import GitStore
from tests.support import Registry, git


def _hand_edit(registry: Registry) -> None:
    current = registry.path / "registry" / "policy" / "current.json"
    current.write_text(current.read_text().replace('"version": 1', '"version": 7'))
    git(registry.path, "commit", "-qam", "hand edit", "--no-gpg-sign")


def test_on_branch_knows_local_and_remote_tracking_tips(registry: Registry) -> None:
    main = git(registry.path, "rev-parse", "HEAD")
    git(registry.path, "switch", "-qc", "side")
    _hand_edit(registry)
    side = git(registry.path, "rev-parse", "HEAD")
    store = GitStore.open(registry.path)
    assert store.on_branch("main", main)
    assert not store.on_branch("main", side)
    assert store.on_branch("side", main)
    # A CI checkout has no local main, only the remote-tracking copy.
    clone = registry.path.parent / "ci"
    subprocess.run(["git", "clone", "-q", "--no-checkout", str(registry.path), str(clone)], check=True)
    git(clone, "checkout", "-q", "--detach", side)
    for local in git(clone, "for-each-ref", "--format=%(refname:short)", "refs/heads").split():
        git(clone, "branch", "-q", "-D", local)
    assert "refs/remotes/origin/main" in git(clone, "for-each-ref", "--format=%(refname)")
    ci = GitStore.open(clone)
    assert ci.on_branch("main", main) and not ci.on_branch("main", side)


def test_a_base_off_the_default_branch_has_the_whole_head_judged(registry: Registry) -> None:
    git(registry.path, "switch", "-qc", "side")
    _hand_edit(registry)
    # Naming the change's own head as the base leaves nothing to diff: the head is judged whole.
    done = registry.run("verify", "--base", "HEAD")
    assert done.code == 1 and "CURRENT_MISMATCH" in done.out + done.err
    # The honest base (main's tip) finds it through the diff as well.
    honest = registry.run("verify", "--base", "main")
    assert honest.code == 1 and "CURRENT_MISMATCH" in honest.out + honest.err


def test_a_since_off_the_default_branch_has_the_whole_head_judged(registry: Registry) -> None:
    """``--since C`` takes C as verified only when C is on the default branch, like ``--base``:
    a hand edit made in C itself, on a side branch, is found from a later commit whose own
    change (another archetype) does not touch it."""
    git(registry.path, "switch", "-qc", "side")
    registry.add_archetype("support-triage")
    current = registry.path / "registry" / "archetypes" / "support-triage" / "current.json"
    current.write_text(current.read_text().replace('"phase": "active"', '"phase": "retired"', 1))
    git(registry.path, "commit", "-qam", "hand edit", "--no-gpg-sign")
    edited = git(registry.path, "rev-parse", "HEAD")
    registry.add_archetype("release-notes")
    done = registry.run("verify", "--since", edited)
    assert done.code == 1 and "CURRENT_MISMATCH" in done.out + done.err
