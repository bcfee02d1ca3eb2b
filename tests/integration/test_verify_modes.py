"""PR and history mode take the base (and each step) as verified (ADR 0018): they replay it
without judging its signatures, ``current.json`` and checks again, and reuse the replay of every
log whose bytes an earlier context already replayed. These tests hold that shortcut to the
reference it replaces — every context fully verified, nothing reused — on the whole tamper
catalogue applied as a pull request, and on random sequences of legal writes and tamperings
across several commits (Hypothesis)."""

from __future__ import annotations

import os
import subprocess
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
from gitdocket.verify.snapshot import verify_context
from gitdocket.verify.stream import verify_snapshot
from gitdocket.verify.tags import tag_scope
from tests.integration.forgery import Forger, published_registry
from tests.integration.test_verify_tamper import CATALOGUE, Tamper
from tests.support import Registry, new_registry

CLOCK = "2030-01-01T00:00:00Z"
RECENT = "2026-01-08T00:00:00Z"


def _reference_pr(base: GitTree, head: GitTree, refs: GitRefs, clock: str) -> list[Finding]:
    """PR mode as it was: both contexts fully verified, no replay shared."""
    head_ctx = Context(head, refs, parse_yaml=load_yaml, clock=clock)
    findings = verify_context(head_ctx)
    base_ctx = Context(base, parse_yaml=load_yaml)
    verify_context(base_ctx)
    return pr._merge(findings, pr_findings(base_ctx, head_ctx))


def _reference_history(steps: Sequence[GitTree], head: GitTree, refs: GitRefs, clock: str) -> list[Finding]:
    """History mode as it was: every step fully verified on its own."""
    findings = verify_context(Context(head, refs, parse_yaml=load_yaml, clock=clock))
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


def _both_modes(registry: Registry, base: str, clock: str = CLOCK) -> None:
    """Fast PR and history mode equal their references from ``base`` to HEAD; the diff mode of
    PR mode leaves out only findings about tags no commit of the change moved, which snapshot
    mode (the full audit) reports."""
    store = GitStore.open(registry.path)
    refs = GitRefs(store.repo)
    head, base_tree = store.snapshot(), GitTree(store.repo, store.resolve(base))
    reference = _reference_pr(base_tree, head, refs, clock)
    untouched = [f for f in reference if _untouched_tag(f, base_tree, head, refs)]
    fast = verify_pr(base_tree, head, refs, parse_yaml=load_yaml, clock=clock)
    assert fast == [f for f in reference if f not in untouched]
    assert verify_pr(base_tree, head, refs, parse_yaml=load_yaml, clock=clock, diff=False) == reference
    audit = verify_snapshot(head, refs, parse_yaml=load_yaml, clock=clock)
    assert all(f in audit for f in untouched)
    steps = _first_parents(store, base)
    reference = _reference_history(steps, head, refs, clock)
    fast = verify_history(steps, head, refs, parse_yaml=load_yaml, clock=clock)
    assert fast == [f for f in reference if not _untouched_tag(f, base_tree, head, refs)]
    assert verify_history(steps, head, refs, parse_yaml=load_yaml, clock=clock, diff=False) == reference


@pytest.mark.parametrize(("tamper", "expected"), CATALOGUE)
def test_fast_modes_equal_full_verification(registry: Registry, tamper: Tamper, expected: set[str]) -> None:
    """Every tampering of the catalogue, made in a pull request on a verified base."""
    published = published_registry(registry)
    base = published.git("rev-parse", "HEAD").strip()
    forger = Forger(published)
    tamper(forger)
    forger.commit("the pull request")
    _both_modes(published, base)


def _number(step: int) -> str:
    """The version a write at ``step`` makes: newer than every earlier step's."""
    return f"{step + 2}.0.0"


def _draft(reg: Registry, number: int) -> None:
    _at(reg, number, "version", "draft", "support-triage", _number(number))


def _freeze(reg: Registry, number: int) -> None:
    _at(reg, number, "version", "freeze", "support-triage", _number(number))


def _tamper(tamper: Tamper) -> Callable[[Registry, int], None]:
    def apply(reg: Registry, _number: int) -> None:
        forger = Forger(reg)
        tamper(forger)
        forger.commit("a tampering")

    return apply


def _later(number: int) -> str:
    return f"2026-01-{number + 2:02d}T00:00:00Z"


def _at(reg: Registry, number: int, *args: str) -> None:
    """A write dated a day later per step, so that it appends events newer than the base's:
    the shape the diff judges without the whole registry."""
    os.environ["GITDOCKET_NOW"] = _later(number)
    try:
        reg.ok(*args)
    finally:
        os.environ["GITDOCKET_NOW"] = "2026-01-01T00:00:00Z"


def _publish(reg: Registry, number: int) -> None:
    _at(reg, number, "version", "freeze", "support-triage", _number(number))
    _at(reg, number, "package", "publish", "support-triage", _number(number))


def _retire(reg: Registry, number: int) -> None:
    """Appends to logs the base holds (the version, and its package's line of sight)."""
    _at(reg, number, "version", "retire", "support-triage", "1.0.0", "--reason", "superseded")


def _policy(reg: Registry, number: int) -> None:
    """Everything is judged under the policy: the whole registry is judged."""
    _at(reg, number, "policy", "expires", "2027-06-01T00:00:00Z")


def _outside(reg: Registry, number: int) -> None:
    """A file in no scope folder."""
    forger = Forger(reg)
    forger.write(f"notes/{number}.md", b"# notes\n")
    forger.commit("notes")


def _merged(reg: Registry, number: int) -> None:
    """A draft on a side branch, merged (a merge commit; history mode walks first parents)."""
    main = reg.git("rev-parse", "--abbrev-ref", "HEAD").strip()
    reg.git("switch", "-q", "-c", f"side-{number}")
    _draft(reg, number)
    reg.git("switch", "-q", main)
    reg.git("commit", "-q", "--allow-empty", "-m", "main moves on")
    reg.git("merge", "-q", "--no-ff", "-m", "merge", f"side-{number}")


WRITES: list[Callable[[Registry, int], None]] = [_draft, _freeze, _publish, _retire, _policy, _outside, _merged]
TAMPERS = [_tamper(p.values[0]) for p in CATALOGUE if "tag" not in str(p.id)]  # tags: ref edits, not commits


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(st.sampled_from(WRITES), st.sampled_from(TAMPERS)), min_size=1, max_size=4))
def test_random_pull_requests(changes: list[Callable[[Registry, int], None]]) -> None:
    """Random sequences of legal writes and tamperings on a branch, one or more commits each:
    the fast modes find exactly what full verification finds."""
    with tempfile.TemporaryDirectory(prefix="gitdocket-modes-") as tmp:
        reg = published_registry(new_registry(Path(tmp)))
        base = reg.git("rev-parse", "HEAD").strip()
        for number, change in enumerate(changes):
            try:
                change(reg, number)
            except (AssertionError, OSError, DocketError, subprocess.CalledProcessError):
                continue  # refused or impossible after an earlier tampering: no commit
        _both_modes(reg, base)
        _both_modes(reg, base, RECENT)  # events within BRANCH_LAG of the clock: no log scanned


def _counting(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The scope of every log replayed from now on, in order."""
    replayed: list[str] = []
    check = snapshot._check_log

    def counted(record: ScopeRecord[Any]) -> list[Finding]:
        replayed.append(record.scope.path)
        return check(record)

    monkeypatch.setattr(snapshot, "_check_log", counted)
    return replayed


def test_only_changed_logs_are_replayed_again(registry: Registry, monkeypatch: pytest.MonkeyPatch) -> None:
    """Judging the whole registry (``diff=False``, what a change of the policy gets): a pull
    request that drafts one version: the base replays no log the head already replayed (every
    other log is byte for byte the head's), and history mode replays, per step, only the logs
    that step changed."""
    published = published_registry(registry)
    base = published.git("rev-parse", "HEAD").strip()
    published.ok("version", "draft", "support-triage", "2.0.0")
    replayed = _counting(monkeypatch)
    store = GitStore.open(published.path)
    head, base_tree = store.snapshot(), GitTree(store.repo, store.resolve(base))
    refs = GitRefs(store.repo)
    assert verify_pr(base_tree, head, refs, parse_yaml=load_yaml, clock=CLOCK, diff=False) == []
    changed = {"registry/versions/support-triage/2.0.0", "registry/archetypes/support-triage"}
    assert _replayed_once(replayed, changed)
    replayed.clear()
    steps = _first_parents(store, base)
    assert verify_history(steps, head, refs, parse_yaml=load_yaml, clock=CLOCK, diff=False) == []
    assert _replayed_once(replayed, changed)


def test_the_diff_replays_only_the_change(registry: Registry, monkeypatch: pytest.MonkeyPatch) -> None:
    """ADR 0034: a pull request that drafts, freezes and publishes a version of one archetype
    replays the logs it changed and the ones their checks look up (policy, configuration), and
    none of the other archetype's or the untouched version's."""
    published = published_registry(registry)
    published.add_archetype("release-notes")
    base = published.git("rev-parse", "HEAD").strip()
    _publish(published, 1)
    replayed = _counting(monkeypatch)
    store = GitStore.open(published.path)
    head, base_tree = store.snapshot(), GitTree(store.repo, store.resolve(base))
    refs = GitRefs(store.repo)
    assert verify_pr(base_tree, head, refs, parse_yaml=load_yaml, clock=RECENT) == []
    assert verify_history(_first_parents(store, base), head, refs, parse_yaml=load_yaml, clock=RECENT) == []
    assert {"registry/versions/support-triage/3.0.0", "registry/packages/support-triage/3.0.0"} <= set(replayed)
    untouched = {"registry/archetypes/release-notes", "registry/versions/support-triage/1.0.0"}
    assert untouched.isdisjoint(replayed)
    assert set(replayed) <= {*_CHANGED_BY_PUBLISH, "registry/policy", "registry/config"}


_CHANGED_BY_PUBLISH = {
    "registry/versions/support-triage/3.0.0",
    "registry/packages/support-triage/3.0.0",
    "registry/archetypes/support-triage",
}


def _replayed_once(replayed: list[str], changed: set[str]) -> bool:
    """Every log but the ``changed`` ones was replayed exactly once, and some were."""
    counts = Counter(replayed)
    return len(counts) > len(changed) and all(n == 1 for path, n in counts.items() if path not in changed)
