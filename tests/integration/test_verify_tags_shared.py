"""Tags that share a commit (``gitdocket release`` tags a version and its package at one commit;
a large registry's writer commits tag a hundred scopes each): the tag check looks each scope's
folder up at the tagged commit and at its parent, and a commit that left a scope's folder as it
was recorded nothing there (ADR 0038, 2026-12-01). One tampered tag among genuine ones at the same
commit is still named, alone, whether the snapshot is judged whole, streamed or by a child."""

from __future__ import annotations

import pytest

from gitdocket.adapters.files import load_yaml
from gitdocket.adapters.store import GitRefs, GitStore
from gitdocket.core.scopes import scope
from gitdocket.verify import stream
from gitdocket.verify.context import Runner, in_process
from gitdocket.verify.findings import Finding
from gitdocket.verify.stream import verify_snapshot
from tests.integration.forgery import Forger, published_registry
from tests.integration.forking_support import forking_always
from tests.support import Registry

CLOCK = "2030-01-01T00:00:00Z"
V11, P11 = "support-triage/v1.1.0", "packages/support-triage/v1.1.0"
V12, P12 = "support-triage/v1.2.0", "packages/support-triage/v1.2.0"
V11_LOG = scope("version", "support-triage", "1.1.0").history_path


def _verify(registry: Registry, runner: Runner = in_process, stream_from: int | None = 0) -> list[Finding]:
    store = GitStore.open(registry.path)
    refs = GitRefs(store.repo)
    return verify_snapshot(store.snapshot(), refs, runner, parse_yaml=load_yaml, clock=CLOCK, stream_from=stream_from)


@pytest.fixture
def released(registry: Registry) -> Registry:
    """support-triage 1.0.0 frozen, then published (two commits); 1.1.0 and 1.2.0 each released
    in one commit, whose version and package tags share it."""
    published_registry(registry)
    registry.ok("release", "support-triage", "1.1.0")
    registry.ok("release", "support-triage", "1.2.0")
    return registry


def _at(f: Forger, name: str) -> str:
    return f.registry.git("rev-parse", f"{name}^{{commit}}").strip()


def move_onto_shared_commit(f: Forger) -> None:
    """1.0.0's tag re-pointed (re-signed by alice) at the commit two genuine tags mark."""
    f.tag("support-triage/v1.0.0", _at(f, V11), signer="alice")


def move_to_parent_of_shared_commit(f: Forger) -> None:
    """One of two tags at a commit moved to that commit's parent, where the package is absent."""
    f.tag(P11, _at(f, f"{P11}~1"), signer="alice")


def move_to_commit_that_left_the_scope(f: Forger) -> None:
    """1.1.0's tag moved to the next release's commit: its folder is there, unchanged."""
    f.tag(V11, _at(f, V12), signer="alice")


def move_to_commit_before_the_scope(f: Forger) -> None:
    """1.2.0's tag moved back to 1.1.0's commit, where 1.2.0's folder does not exist yet."""
    f.tag(V12, _at(f, V11), signer="alice")


def forge_signature_at_shared_commit(f: Forger) -> None:
    """Re-made at its own commit, by a key no policy lists."""
    f.tag(P11, _at(f, P11), signer="mallory")


def rewrite_log_after_its_tag(f: Forger) -> None:
    """1.1.0's log cut back to its draft in a later commit: its tag, which shares its commit
    with the package's, remembers the freeze."""
    target = scope("version", "support-triage", "1.1.0")
    f.write_log(target, f.events(target)[:1])


SHARED = [
    pytest.param(
        move_onto_shared_commit,
        {("TAG_MISMATCH", "refs/tags/support-triage/v1.0.0")},
        id="moved-onto-a-shared-commit",
    ),
    pytest.param(
        move_to_parent_of_shared_commit, {("TAG_MISMATCH", f"refs/tags/{P11}")}, id="moved-to-the-shared-commits-parent"
    ),
    pytest.param(
        move_to_commit_that_left_the_scope,
        {("TAG_MISMATCH", f"refs/tags/{V11}")},
        id="moved-to-a-commit-that-left-the-scope-as-it-was",
    ),
    pytest.param(
        move_to_commit_before_the_scope,
        {("TAG_MISMATCH", f"refs/tags/{V12}")},
        id="moved-to-a-commit-before-the-scope-existed",
    ),
    pytest.param(
        forge_signature_at_shared_commit,
        {("TAG_MISMATCH", f"refs/tags/{P11}")},
        id="forged-signature-among-genuine-tags",
    ),
    pytest.param(rewrite_log_after_its_tag, {("HISTORY_REWRITTEN", V11_LOG)}, id="log-rewritten-after-a-shared-tag"),
]
TAG_CODES = {"TAG_MISMATCH", "HISTORY_REWRITTEN", "TAG_MISSING"}


def test_released_tags_share_their_commits_and_verify(released: Registry) -> None:
    assert _at(Forger(released), V11) == _at(Forger(released), P11) != _at(Forger(released), V12)
    assert _verify(released) == _verify(released, stream_from=None) == []


@pytest.mark.parametrize(("tamper", "expected"), SHARED)
def test_one_tampered_tag_among_shared_ones_is_named_alone(
    released: Registry, monkeypatch: pytest.MonkeyPatch, tamper: object, expected: set[tuple[str, str]]
) -> None:
    forger = Forger(released)
    assert callable(tamper)
    tamper(forger)
    forger.commit()
    whole = _verify(released, stream_from=None)
    assert {(f.code, f.path) for f in whole if f.code in TAG_CODES} == expected, whole
    assert _verify(released) == whole
    runner, children = forking_always(monkeypatch)
    monkeypatch.setattr(stream, "CHILD_SHARE", 1.0)  # every batch judged by the child
    assert _verify(released, runner) == whole
    assert any(children), "no child process ran"
