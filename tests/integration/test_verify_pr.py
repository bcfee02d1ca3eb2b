"""PR mode (`verify --base REF [--head REF]`) and history mode (`--since COMMIT`): what a change
may do to the records it finds at its base.

Most rows are changes that snapshot mode cannot see — every line is validly signed and chained —
so only the PR rule under test can refuse them.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from typing import Any

import pytest

from gitdocket.core.scopes import scope
from tests.integration.forgery import ARCHETYPE, VERSION, Forger, published_registry, ssh_signature
from tests.support import EXAMPLES, Registry

DRAFT = scope("version", "support-triage", "2.0.0")


def head(reg: Registry) -> str:
    return reg.git("rev-parse", "HEAD").strip()


def verify(reg: Registry, *args: str) -> tuple[int, set[str], dict[str, Any]]:
    result = reg.run("verify", *args, "--format", "json")
    assert "Traceback" not in result.out + result.err
    data = result.json()
    assert data["ok"] is (result.code == 0)
    return result.code, {f["code"] for f in data["findings"]}, data


def resigned_draft(f: Forger) -> None:
    """The 2.0.0 draft's only line replaced by another one alice really signed (another tree):
    chained, signed, replayable — and not the line the base recorded."""
    (first,) = f.events(DRAFT)
    other = first.model_copy(update={"data": {"method_tree": "0" * 40}, "signatures": ()})
    f.write_log(
        DRAFT,
        [other.model_copy(update={"signatures": (ssh_signature("alice", "alice", DRAFT.path, other),)})],
    )


@pytest.fixture
def based(registry: Registry) -> tuple[Registry, str]:
    """support-triage 1.0.0 published and a 2.0.0 draft open: the base of every PR below."""
    published_registry(registry)
    registry.ok("version", "draft", "support-triage", "2.0.0")
    return registry, head(registry)


def rewrite_base_line(f: Forger) -> None:
    resigned_draft(f)


def delete_draft_scope(f: Forger) -> None:
    shutil.rmtree(f.path(DRAFT.path))


def edit_frozen_file(f: Forger) -> None:
    path = f"{VERSION.path}/method/instructions.md"
    f.write(path, f.read(path) + b"Ignore the review step.\n")


def add_older_version(f: Forger) -> None:
    """A 0.9.0 draft appears after 1.0.0, correctly signed by the owner (gitdocket refuses to write
    it; plain git does not)."""
    old = scope("version", "support-triage", "0.9.0")
    tree = f.registry.git("rev-parse", f"HEAD:{ARCHETYPE.path}/method").strip()
    event = f.next_event(old, "draft_created", {"method_tree": tree}, "alice", policy_version=1)
    f.append(old, event, ssh_signature("alice", "alice", old.path, event))


PR_CASES = [
    pytest.param(rewrite_base_line, {"HISTORY_REWRITTEN"}, id="base-line-changed"),
    pytest.param(delete_draft_scope, {"SCOPE_DELETED"}, id="scope-deleted"),
    pytest.param(
        edit_frozen_file,
        {"IMMUTABLE_CHANGED", "SNAPSHOT_MISMATCH"},
        id="immutable-snapshot-changed",
    ),
    pytest.param(add_older_version, {"VERSION_NOT_MONOTONIC"}, id="version-older-than-base"),
]


@pytest.mark.parametrize(("change", "expected"), PR_CASES)
def test_pr_refuses(based: tuple[Registry, str], change: Callable[[Forger], None], expected: set[str]) -> None:
    reg, base = based
    forger = Forger(reg)
    change(forger)
    forger.commit("the pull request")
    code, codes, data = verify(reg, "--base", base)
    assert (code, codes, data["mode"], data["commit"]) == (1, expected, "pr", head(reg))
    text = reg.run("verify", "--base", base)
    assert (
        text.code == 1
        and f"verify (PR {base}..HEAD) at {head(reg)[:12]}: {len(data['findings'])} finding(s)" in text.out
    )


@pytest.mark.parametrize("change", [rewrite_base_line, delete_draft_scope, add_older_version])
def test_pr_rules_see_what_snapshot_cannot(based: tuple[Registry, str], change: Callable[[Forger], None]) -> None:
    """Each of these heads is a valid snapshot on its own: only the comparison with the base
    refuses it."""
    reg, _base = based
    forger = Forger(reg)
    change(forger)
    forger.commit()
    assert verify(reg)[:2] == (0, set())


def test_role_granted_and_used_in_the_same_pr(registry: Registry) -> None:
    """bob holds root at the base; in the PR he grants himself `authors` and uses it at once.
    Each event is valid under the policy it names, so the head snapshot passes; under the base
    policy bob may not create archetypes."""
    bob = registry.key("bob")
    registry.ok("policy", "add-identity", "bob", f"{bob}.pub")
    registry.ok("policy", "grant", "root", "bob")
    base = head(registry)
    registry.ok("policy", "grant", "authors", "bob", key="bob")
    registry.ok("archetype", "new", "support-triage", "--from", EXAMPLES / "support-triage", key="bob")
    assert verify(registry)[:2] == (0, set())
    code, codes, data = verify(registry, "--base", base)
    assert (code, codes) == (1, {"UNAUTHORIZED_AT_BASE"})
    (finding,) = data["findings"]
    assert finding["path"] == f"{ARCHETYPE.history_path}:1" and finding["scope"] == ARCHETYPE.label
    assert "authors" in finding["hint"] and "base policy (v3)" in finding["hint"]


def test_a_rewrite_is_reported_once(based: tuple[Registry, str]) -> None:
    """HISTORY_PRESERVED: 1.0.0 truncated back to its draft (current.json re-rendered, snapshot
    removed): the signed tag and the base both prove the rewrite; the report names it once, not
    once per witness."""
    reg, base = based
    forger = Forger(reg)
    forger.write_log(VERSION, forger.events(VERSION)[:1])
    shutil.rmtree(forger.path(f"{VERSION.path}/method"))
    forger.commit()
    code, _codes, data = verify(reg, "--base", base)
    assert code == 1
    assert [(f["code"], f["path"]) for f in data["findings"]] == [("HISTORY_REWRITTEN", VERSION.history_path)]


def test_head_not_descending_from_base(registry: Registry) -> None:
    published_registry(registry)
    registry.git("switch", "-q", "-c", "elsewhere")
    registry.git("commit", "-q", "--allow-empty", "-m", "a commit main never had")
    elsewhere = head(registry)
    registry.git("switch", "-q", "main")
    code, codes, data = verify(registry, "--base", elsewhere, "--head", "main")
    assert (code, codes) == (1, {"NOT_DESCENDANT"})
    assert data["findings"][0]["path"] == head(registry)


def test_legitimate_pr_passes(based: tuple[Registry, str]) -> None:
    """Edit the draft in git, freeze and publish 2.0.0, retire 1.0.0: every new event is
    authorized at the base, nothing old changes."""
    reg, base = based
    forger = Forger(reg)
    path = f"{ARCHETYPE.path}/method/instructions.md"
    forger.write(path, forger.read(path) + b"Escalate outages at once.\n")
    forger.commit("edit the draft")
    reg.ok("version", "freeze", "support-triage", "2.0.0")
    reg.ok("package", "publish", "support-triage", "2.0.0")
    reg.ok("version", "retire", "support-triage", "1.0.0", "--reason", "superseded by 2.0.0")
    code, codes, data = verify(reg, "--base", base)
    assert (code, codes, data["mode"]) == (0, set(), "pr")
    assert verify(reg, "--base", base, "--head", "HEAD")[:2] == (0, set())
    assert verify(reg, "--since", base)[:2] == (0, set())


def test_history_mode_catches_a_rewrite_that_was_undone(based: tuple[Registry, str]) -> None:
    """A step rewrote the draft's line and a later step put it back: the end points agree, so PR
    mode passes; history mode checks every first-parent step and names both rewrites."""
    reg, base = based
    forger = Forger(reg)
    original = forger.read(DRAFT.history_path), forger.read(DRAFT.current_path)
    resigned_draft(forger)
    forger.commit("rewrite")
    forger.write(DRAFT.history_path, original[0])
    forger.write(DRAFT.current_path, original[1])
    forger.commit("put it back")
    assert verify(reg, "--base", base)[:2] == (0, set())
    code, codes, data = verify(reg, "--since", base)
    assert (code, codes, data["mode"]) == (1, {"HISTORY_REWRITTEN"}, "history")
    assert reg.run("verify", "--since", base).out.rstrip().endswith("1 finding(s)")


def test_history_mode_from_a_commit_that_is_not_an_ancestor(registry: Registry) -> None:
    published_registry(registry)
    registry.git("switch", "-q", "-c", "side")
    registry.git("commit", "-q", "--allow-empty", "-m", "side")
    side = head(registry)
    registry.git("switch", "-q", "main")
    assert verify(registry, "--since", side)[:2] == (1, {"NOT_DESCENDANT"})


@pytest.mark.parametrize(
    ("args", "code"),
    [
        pytest.param(("--base", "HEAD", "--since", "HEAD"), 2, id="base-and-since"),
        pytest.param(("--base", "no-such-ref"), 2, id="unknown-base"),
        pytest.param(("--since", "0" * 40), 2, id="unknown-since"),
        pytest.param(("--rev", "no-such-tag"), 2, id="unknown-rev"),
    ],
)
def test_bad_refs_are_one_line_errors(registry: Registry, args: tuple[str, ...], code: int) -> None:
    result = registry.run("verify", *args)
    assert result.code == code and result.out == ""
    assert "Traceback" not in result.err
    assert [line.split(":")[0] for line in result.err.splitlines() if line][:1] == ["error"]
