"""PR and history mode take the base (and each step) as verified (ADR 0018): they replay it
without judging its signatures, ``current.json`` and checks again, and reuse the replay of every
log whose bytes an earlier context already replayed. These tests hold that shortcut to the
reference it replaces — every context fully verified, nothing reused — on the whole tamper
catalogue applied as a pull request, and on random sequences of legal writes and tamperings
across several commits (Hypothesis)."""

from __future__ import annotations

import tempfile
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gitdocket.adapters.files import load_yaml
from gitdocket.adapters.store import GitRefs, GitStore, GitTree
from gitdocket.errors import DocketError
from gitdocket.verify import pr, snapshot
from gitdocket.verify.changes import diff
from gitdocket.verify.context import Context, ScopeRecord
from gitdocket.verify.findings import Finding
from gitdocket.verify.pr import pr_findings, verify_history, verify_pr
from gitdocket.verify.snapshot import verify_context, verify_snapshot
from gitdocket.verify.tags import tag_scope
from tests.integration.forgery import Forger, published_registry
from tests.integration.test_verify_tamper import CATALOGUE, Tamper
from tests.support import Registry, new_registry

CLOCK = "2030-01-01T00:00:00Z"


def _reference_pr(base: GitTree, head: GitTree, refs: GitRefs) -> list[Finding]:
    """PR mode as it was: both contexts fully verified, no replay shared."""
    head_ctx = Context(head, refs, parse_yaml=load_yaml, clock=CLOCK)
    findings = verify_context(head_ctx)
    base_ctx = Context(base, parse_yaml=load_yaml)
    verify_context(base_ctx)
    return pr._merge(findings, pr_findings(base_ctx, head_ctx))


def _reference_history(steps: Sequence[GitTree], head: GitTree, refs: GitRefs) -> list[Finding]:
    """History mode as it was: every step fully verified on its own."""
    findings = verify_context(Context(head, refs, parse_yaml=load_yaml, clock=CLOCK))
    extra: list[Finding] = []
    contexts: list[Context] = []
    for step in steps:
        ctx = Context(step, parse_yaml=load_yaml)
        verify_context(ctx)
        if contexts:
            extra.extend(pr_findings(contexts[-1], ctx))
        contexts.append(ctx)
    extra.extend(pr.config.unsigned_in_history(contexts[:-1], contexts[-1]))
    return pr._merge(findings, extra)


def _first_parents(store: GitStore, since: str) -> list[GitTree]:
    """The first-parent commits from ``since`` to HEAD, oldest first (what the command walks)."""
    chain: list[GitTree] = []
    commit = store.resolve("HEAD")
    while str(commit.id) != since:
        chain.append(GitTree(store.repo, commit))
        commit = commit.parents[0]
    chain.append(GitTree(store.repo, commit))
    return chain[::-1]


def _untouched_tag(finding: Finding, base: GitTree, head: GitTree, refs: GitRefs) -> bool:
    """A finding about a tag that no commit of the change moved: it names a scope the change
    left alone and points at a commit the base reaches (ADR 0034: snapshot mode judges it)."""
    if not finding.path.startswith("refs/tags/"):
        return False
    name = finding.path.removeprefix("refs/tags/")
    target = tag_scope(name)
    if target is not None and target in diff(base, head).scopes:
        return False
    commit = refs.tags().get(name)
    return commit is None or refs.reaches(base.commit or "", commit)


def _both_modes(registry: Registry, base: str) -> None:
    """Fast PR and history mode equal their references from ``base`` to HEAD; the diff mode of
    PR mode leaves out only findings about tags no commit of the change moved, which snapshot
    mode (the full audit) reports."""
    store = GitStore.open(registry.path)
    refs = GitRefs(store.repo)
    head, base_tree = store.snapshot(), GitTree(store.repo, store.resolve(base))
    reference = _reference_pr(base_tree, head, refs)
    untouched = [f for f in reference if _untouched_tag(f, base_tree, head, refs)]
    fast = verify_pr(base_tree, head, refs, parse_yaml=load_yaml, clock=CLOCK)
    assert fast == [f for f in reference if f not in untouched]
    assert verify_pr(base_tree, head, refs, parse_yaml=load_yaml, clock=CLOCK, diff=False) == reference
    audit = verify_snapshot(head, refs, parse_yaml=load_yaml, clock=CLOCK)
    assert all(f in audit for f in untouched)
    steps = _first_parents(store, base)
    fast = verify_history(steps, head, refs, parse_yaml=load_yaml, clock=CLOCK)
    assert fast == _reference_history(steps, head, refs)


@pytest.mark.parametrize(("tamper", "expected"), CATALOGUE)
def test_fast_modes_equal_full_verification(registry: Registry, tamper: Tamper, expected: set[str]) -> None:
    """Every tampering of the catalogue, made in a pull request on a verified base."""
    published = published_registry(registry)
    base = published.git("rev-parse", "HEAD").strip()
    forger = Forger(published)
    tamper(forger)
    forger.commit("the pull request")
    _both_modes(published, base)


def _draft(reg: Registry, number: int) -> None:
    reg.ok("version", "draft", "support-triage", f"2.{number}.0")


def _freeze(reg: Registry, number: int) -> None:
    reg.ok("version", "freeze", "support-triage", f"3.{number}.0")


def _tamper(tamper: Tamper) -> Callable[[Registry, int], None]:
    def apply(reg: Registry, _number: int) -> None:
        forger = Forger(reg)
        tamper(forger)
        forger.commit("a tampering")

    return apply


WRITES: list[Callable[[Registry, int], None]] = [_draft, _freeze]
TAMPERS = [_tamper(p.values[0]) for p in CATALOGUE if "tag" not in str(p.id)]  # tags: ref edits, not commits


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from([*WRITES, *TAMPERS]), min_size=1, max_size=4))
def test_random_pull_requests(changes: list[Callable[[Registry, int], None]]) -> None:
    """Random sequences of legal writes and tamperings on a branch, one or more commits each:
    the fast modes find exactly what full verification finds."""
    with tempfile.TemporaryDirectory(prefix="gitdocket-modes-") as tmp:
        reg = published_registry(new_registry(Path(tmp)))
        base = reg.git("rev-parse", "HEAD").strip()
        for number, change in enumerate(changes):
            try:
                change(reg, number)
            except (AssertionError, OSError, DocketError):
                continue  # refused or impossible after an earlier tampering: no commit
        _both_modes(reg, base)


def test_only_changed_logs_are_replayed_again(registry: Registry, monkeypatch: pytest.MonkeyPatch) -> None:
    """A pull request that drafts one version: the base replays no log the head already
    replayed (every other log is byte for byte the head's), and history mode replays, per step,
    only the logs that step changed."""
    published = published_registry(registry)
    base = published.git("rev-parse", "HEAD").strip()
    published.ok("version", "draft", "support-triage", "2.0.0")
    replayed: list[str] = []
    check = snapshot._check_log

    def counted(record: ScopeRecord[Any]) -> list[Finding]:
        replayed.append(record.scope.path)
        return check(record)

    monkeypatch.setattr(snapshot, "_check_log", counted)
    store = GitStore.open(published.path)
    head, base_tree = store.snapshot(), GitTree(store.repo, store.resolve(base))
    assert verify_pr(base_tree, head, GitRefs(store.repo), parse_yaml=load_yaml, clock=CLOCK) == []
    changed = {"registry/versions/support-triage/2.0.0", "registry/archetypes/support-triage"}
    assert _replayed_once(replayed, changed)
    replayed.clear()
    steps = _first_parents(store, base)
    assert verify_history(steps, head, GitRefs(store.repo), parse_yaml=load_yaml, clock=CLOCK) == []
    assert _replayed_once(replayed, changed)


def _replayed_once(replayed: list[str], changed: set[str]) -> bool:
    """Every log but the ``changed`` ones was replayed exactly once, and some were."""
    counts = Counter(replayed)
    return len(counts) > len(changed) and all(n == 1 for path, n in counts.items() if path not in changed)
