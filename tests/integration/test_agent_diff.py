"""``gitdocket diff`` on a real registry: two frozen versions, a release against what runs in an
environment, and a pull request's changes; a diff of two archetypes is refused with nothing
written."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.integration.releases_support import Release
from tests.support import ROOT, Registry, repo_state, run_cli

ARCHETYPE = "support-triage"
RISKY_CONFIG = {
    "model": {"provider": "anthropic", "name": "claude-opus"},
    "skills": ["classify"],
    "tools": ["kb-search", "web-fetch"],
    "settings": {"temperature": 0.2},
    "egress": ["*.example.com"],
    "permissions": {"web-fetch": ["net:read"]},
}


def edit_method(reg: Registry, config: dict[str, Any], instructions: str | None = None) -> None:
    """Commit a new ``.agent-config.json`` (and instructions) and a file for every tool it names."""
    method = reg.path / "registry" / "archetypes" / ARCHETYPE / "method"
    (method / ".agent-config.json").write_text(json.dumps(config, indent=2) + "\n")
    for tool in config["tools"]:
        path = method / "tools" / f"{tool}.json"
        if not path.exists():
            path.write_text(json.dumps({"name": tool}) + "\n")
    if instructions is not None:
        (method / "instructions.md").write_text(instructions)
    reg.git("add", "-A")
    reg.git("commit", "-qm", "edit the method")


def kinds(report: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [(c["kind"], c["subject"], c["risk"]) for a in report["agents"] for c in a["changes"]]


def test_two_versions_show_every_agent_change_with_its_risk(rel: Release) -> None:
    edit_method(rel.reg, RISKY_CONFIG, "# Support triage\n\nTriage tickets; fetch linked pages.\n")
    rel.reg.ok("version", "freeze", ARCHETYPE, "1.1.0")
    report = rel.reg.ok("diff", f"{ARCHETYPE}@1.0.0", f"{ARCHETYPE}@1.1.0", "--format", "json").json()
    assert report["contract"] == "agent_diff_v1" and report["risk"] == "high"
    assert kinds(report) == [
        ("instructions_changed", "instructions.md", "medium"),
        ("tool_added", "web-fetch", "high"),
        ("tool_permission_added", "web-fetch: net:read", "high"),
        ("egress_widened", "*.example.com", "high"),
        ("model_changed", "model", "medium"),
    ]
    text = report["agents"][0]["instructions_diff"]
    assert "+Triage tickets; fetch linked pages." in text and text.startswith("--- support-triage@1.0.0/")
    markdown = rel.reg.ok("diff", f"{ARCHETYPE}@1.0.0", f"{ARCHETYPE}@1.1.0").out
    assert "## gitdocket diff: support-triage@1.0.0 → support-triage@1.1.0 (risk: **HIGH**)" in markdown
    assert "| **HIGH** | tool_permission_added | web-fetch: net:read |  | net:read |" in markdown
    assert "```diff" not in markdown and "~~~~diff" in markdown


def test_the_json_validates_against_its_contract(rel: Release, tmp_path: Path) -> None:
    edit_method(rel.reg, RISKY_CONFIG)
    rel.reg.ok("version", "freeze", ARCHETYPE, "1.1.0")
    out = tmp_path / "diff.json"
    out.write_text(rel.reg.ok("diff", f"{ARCHETYPE}@1.0.0", f"{ARCHETYPE}@1.1.0", "--format", "json").out)
    result = run_cli("contracts", "validate", out, "--kind", "agent_diff_v1", "--root", ROOT)
    assert result.code == 0, result.err + result.out


def test_the_same_version_twice_has_no_change(rel: Release) -> None:
    report = rel.reg.ok("diff", f"{ARCHETYPE}@1.0.0", f"{ARCHETYPE}@1.0.0", "--format", "json").json()
    assert report["risk"] == "none" and kinds(report) == []


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        pytest.param(
            (f"{ARCHETYPE}@1.0.0", "release-notes@1.0.0"),
            2,
            "they are versions of different archetypes",
            id="different-archetypes",
        ),
        pytest.param((f"{ARCHETYPE}@1.0.0",), 2, "pass two versions of one archetype", id="one-side"),
        pytest.param((f"{ARCHETYPE}@1.0.0", f"{ARCHETYPE}@9.0.0"), 1, "no version", id="unknown-version"),
        pytest.param((f"{ARCHETYPE}-1.0.0", f"{ARCHETYPE}@1.0.0"), 2, "is not ARCHETYPE@VERSION", id="no-at"),
        pytest.param(("no-such-bundle", "--env", "prod"), 1, "no bundle 'no-such-bundle'", id="unknown-bundle"),
        pytest.param(("no-such-bundle", "--env", "moon"), 1, "unknown environment 'moon'", id="unknown-env"),
    ],
)
def test_bad_input_is_one_line_and_writes_nothing(rel: Release, args: tuple[str, ...], code: int, message: str) -> None:
    before = repo_state(rel.reg)
    result = rel.reg.run("diff", *args)
    assert result.code == code, result.err
    assert message in result.err and result.err.startswith("error: ") and "\nhint: " in result.err
    assert "Traceback" not in result.err
    assert repo_state(rel.reg) == before


def test_a_release_against_what_runs_in_an_environment(rel: Release) -> None:
    first = rel.build()
    assert rel.promote(first, "preview").code == 0
    edit_method(rel.reg, RISKY_CONFIG)
    rel.reg.ok("version", "freeze", ARCHETYPE, "1.1.0")
    rel.reg.ok("package", "publish", ARCHETYPE, "1.1.0")
    second = rel.build()
    report = rel.reg.ok("diff", second, "--env", "preview", "--format", "json").json()
    assert report["old"] == f"preview ({first})" and report["new"] == second
    agent = report["agents"][0]
    assert (agent["old_version"], agent["new_version"], agent["risk"]) == ("1.0.0", "1.1.0", "high")
    empty = rel.reg.ok("diff", second, "--env", "dev", "--format", "json").json()
    assert empty["old"] == "dev (nothing deployed)"
    assert empty["agents"][0]["changes"][0]["kind"] == "agent_added"


def test_pull_request_mode_lists_new_versions_and_releases(rel: Release, tmp_path: Path) -> None:
    base = rel.head()
    edit_method(rel.reg, RISKY_CONFIG)
    rel.reg.ok("version", "freeze", ARCHETYPE, "1.1.0")
    rel.reg.ok("package", "publish", ARCHETYPE, "1.1.0")
    bundle = rel.build()
    assert rel.promote(bundle, "preview").code == 0
    summary = tmp_path / "summary.md"
    reports = rel.reg.ok("diff", "--base", base, "--summary", summary, "--format", "json").json()
    assert [(r["old"], r["new"], r["risk"]) for r in reports] == [
        (f"{ARCHETYPE}@1.0.0", f"{ARCHETYPE}@1.1.0", "high"),
        ("preview (nothing deployed)", f"preview ({bundle})", "high"),
    ]
    assert "## gitdocket diff: support-triage@1.0.0 → support-triage@1.1.0" in summary.read_text()
    nothing = rel.reg.ok("diff", "--base", "HEAD").out
    assert nothing == "## gitdocket diff: no agent changes\n"
