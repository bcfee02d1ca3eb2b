"""Forks on a real registry: owner-only, independent, recorded; pull-from-source merges the
source's newer frozen version three ways — clean, or a conflict report with nothing written;
the fork forest."""

from __future__ import annotations

import pytest

from tests.integration.clients_support import ARCHETYPE, findings, vendor_and_client
from tests.support import Registry

SOURCE_METHOD = f"registry/archetypes/{ARCHETYPE}/method"
FORK_METHOD = "registry/archetypes/triage-plus/method"


@pytest.fixture
def reg(registry: Registry) -> Registry:
    return vendor_and_client(registry)


def edit(reg: Registry, path: str, old: str, new: str) -> None:
    file = reg.path / path
    text = file.read_text()
    assert old in text
    file.write_text(text.replace(old, new))
    reg.git("commit", "-qam", f"edit {path}")


def read(reg: Registry, path: str) -> str:
    return (reg.path / path).read_text()


def test_fork_is_independent_and_recorded(reg: Registry) -> None:
    reg.ok("archetype", "fork", ARCHETYPE, "triage-plus", "--from-version", "1.0.0", "--owner", "bob")
    show = reg.ok("archetype", "show", "triage-plus", "--format", "json").json()
    assert show["owners"] == ["bob"]
    assert show["forked_from"]["archetype"] == ARCHETYPE
    assert show["forked_from"]["version"] == "1.0.0"
    source_tree = reg.git("rev-parse", f"HEAD:registry/versions/{ARCHETYPE}/1.0.0/method").strip()
    assert reg.git("rev-parse", f"HEAD:{FORK_METHOD}").strip() == source_tree  # shared, no copy
    assert "name: triage-plus" in read(reg, "registry/archetypes/triage-plus/archetype.yaml")
    # Independent: bob (its owner) releases it; alice (owner of the source only) cannot.
    reg.ok("release", "triage-plus", "1.0.0", key="bob")
    assert "owners:triage-plus" in reg.run("release", "triage-plus", "2.0.0").err
    assert findings(reg) == []


def test_fork_from_the_draft_and_refusals(reg: Registry) -> None:
    reg.ok("archetype", "fork", ARCHETYPE, "triage-draft")
    tree = reg.ok("archetype", "tree").out
    assert f"└── triage-draft (fork of {ARCHETYPE} draft)" in tree
    before = reg.refs()
    cases = [
        (("archetype", "fork", ARCHETYPE, "triage-draft"), "ARCHETYPE_UNIQUE"),
        (("archetype", "fork", "nope", "x"), "no archetype 'nope'"),
        (("archetype", "fork", ARCHETYPE, "x", "--from-version", "7.0.0"), "no version 7.0.0"),
        (("archetype", "pull-from-source", ARCHETYPE), "PULL_REQUIRES_FORK"),
    ]
    for args, message in cases:
        result = reg.run(*args)
        assert result.code == 1 and message in result.err, (args, result.err)
    assert reg.refs() == before


def test_pull_from_source_merges_cleanly(reg: Registry) -> None:
    reg.ok("archetype", "fork", ARCHETYPE, "triage-plus", "--from-version", "1.0.0")
    edit(
        reg,
        f"{FORK_METHOD}/instructions.md",
        "Never promise a fix date.",
        "Never promise a fix date. Answer in the customer's language.",
    )
    source_skill = read(reg, f"{SOURCE_METHOD}/skills/classify.md")
    (reg.path / SOURCE_METHOD / "skills/classify.md").write_text(source_skill + "\nNew: p0 is a security incident.\n")
    reg.git("commit", "-qam", "source: new urgency level")
    reg.ok("release", ARCHETYPE, "1.1.0")

    pulled = reg.ok("archetype", "pull-from-source", "triage-plus", "--format", "json").json()
    assert pulled["merged"] is True and pulled["version"] == "1.1.0"
    assert "p0 is a security incident" in read(reg, f"{FORK_METHOD}/skills/classify.md")
    assert "customer's language" in read(reg, f"{FORK_METHOD}/instructions.md")  # ours kept
    before = reg.refs()
    again = reg.ok("archetype", "pull-from-source", "triage-plus")
    assert "up to date" in again.out and reg.refs() == before
    assert reg.ok("release", "triage-plus", "1.0.0").code == 0  # the merged draft freezes
    assert findings(reg) == []


def test_pull_from_source_conflict_writes_nothing(reg: Registry) -> None:
    reg.ok("archetype", "fork", ARCHETYPE, "triage-plus", "--from-version", "1.0.0")
    edit(reg, f"{FORK_METHOD}/instructions.md", "Never promise a fix date.", "Promise a fix date only for p1.")
    edit(reg, f"{SOURCE_METHOD}/instructions.md", "Never promise a fix date.", "Never promise a fix date or a refund.")
    reg.ok("release", ARCHETYPE, "1.1.0")
    before = reg.refs()
    fork_before = read(reg, f"{FORK_METHOD}/instructions.md")
    result = reg.run("archetype", "pull-from-source", "triage-plus")
    assert result.code == 1 and "Traceback" not in result.err
    assert "conflicting path(s)" in result.err and "instructions.md" in result.err
    assert "nothing was written" in result.err
    assert reg.refs() == before
    assert read(reg, f"{FORK_METHOD}/instructions.md") == fork_before
    assert reg.git("status", "--porcelain") == ""
    # Taking a side resolves it, in one commit.
    reg.ok("archetype", "pull-from-source", "triage-plus", "--favor", "ours")
    assert "only for p1" in read(reg, f"{FORK_METHOD}/instructions.md")
    assert findings(reg) == []


def test_fork_tree_prints_the_forest(reg: Registry) -> None:
    reg.add_archetype("release-notes")
    reg.ok("archetype", "fork", ARCHETYPE, "triage-plus", "--from-version", "1.0.0")
    reg.ok("release", "triage-plus", "1.0.0")
    reg.ok("archetype", "fork", "triage-plus", "triage-eu", "--from-version", "1.0.0")
    reg.ok("archetype", "fork", ARCHETYPE, "triage-lite")
    assert reg.ok("archetype", "tree").out.splitlines() == [
        "release-notes",
        ARCHETYPE,
        f"├── triage-lite (fork of {ARCHETYPE} draft)",
        f"└── triage-plus (fork of {ARCHETYPE} 1.0.0)",
        "    └── triage-eu (fork of triage-plus 1.0.0)",
    ]
    forest = reg.ok("archetype", "tree", "--format", "json").json()
    assert [n["name"] for n in forest] == ["release-notes", ARCHETYPE]
    assert forest[1]["children"][1]["children"][0]["name"] == "triage-eu"
