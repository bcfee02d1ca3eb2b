"""The agent diff, pure: each kind of change in ``CHANGE_KINDS`` is found, with its risk from the
table, and nothing else is reported."""

from __future__ import annotations

from typing import Any

import pytest

from gitdocket.core.documents import Posture
from gitdocket.errors import InputError
from gitdocket.lifecycles.agent_diff import Agent, diff_agents, diff_sides, egress_covers
from gitdocket.lifecycles.risk import CHANGE_KINDS
from gitdocket.lifecycles.version import AgentConfig
from tests.support import ROOT

FILES = {
    "instructions.md": b"Triage.\n",
    ".agent-config.json": b"{}\n",
    "skills/classify.md": b"classify\n",
    "tools/kb-search.json": b"{}\n",
}
CONFIG: dict[str, Any] = {
    "model": {"provider": "anthropic", "name": "claude-sonnet"},
    "skills": ["classify"],
    "tools": ["kb-search"],
    "settings": {"temperature": 0.2},
    "egress": ["kb.example.com"],
    "permissions": {"kb-search": ["kb:read"]},
}
POSTURE: dict[str, Any] = {"deployment_mode": "private/federated", "read_scope": ["tickets"], "crossing_terms": "t"}


def agent(
    version: str = "1.0.0",
    files: dict[str, bytes] | None = None,
    posture: dict[str, Any] | None = None,
    name: str = "support-triage",
    **config: Any,
) -> Agent:
    return Agent(
        name,
        version,
        {**FILES, **(files or {})},
        AgentConfig.model_validate({**CONFIG, **config}),
        Posture.model_validate({**POSTURE, **(posture or {})}),
    )


def found(new: Agent) -> list[tuple[str, str, str]]:
    return [(c.kind, c.subject, c.risk) for c in diff_agents(agent(), new).changes]


CASES = [
    pytest.param(
        agent(files={"instructions.md": b"Do more.\n"}),
        [("instructions_changed", "instructions.md", "medium")],
        id="instructions",
    ),
    pytest.param(
        agent(skills=["classify", "reply"], files={"skills/reply.md": b"r\n"}),
        [("skill_added", "reply", "medium")],
        id="skill-added",
    ),
    pytest.param(
        agent(skills=[]),
        [("skill_removed", "classify", "low")],
        id="skill-removed",
    ),
    pytest.param(
        agent(files={"skills/classify.md": b"other\n"}),
        [("skill_changed", "classify", "medium")],
        id="skill-changed",
    ),
    pytest.param(
        agent(tools=["kb-search", "shell"], files={"tools/shell.json": b"{}\n"}),
        [("tool_added", "shell", "high")],
        id="tool-added",
    ),
    pytest.param(agent(tools=[]), [("tool_removed", "kb-search", "low")], id="tool-removed"),
    pytest.param(
        agent(files={"tools/kb-search.json": b'{"v": 2}\n'}),
        [("tool_changed", "kb-search", "medium")],
        id="tool-changed",
    ),
    pytest.param(
        agent(permissions={"kb-search": ["kb:read", "kb:write"]}),
        [("tool_permission_added", "kb-search: kb:write", "high")],
        id="permission-added",
    ),
    pytest.param(
        agent(permissions={}), [("tool_permission_removed", "kb-search: kb:read", "low")], id="permission-removed"
    ),
    pytest.param(agent(egress=["kb.example.com", "*"]), [("egress_widened", "*", "high")], id="egress-any"),
    pytest.param(agent(egress=[]), [("egress_narrowed", "kb.example.com", "low")], id="egress-narrowed"),
    pytest.param(
        agent(model={"provider": "other", "name": "claude-sonnet"}),
        [("provider_changed", "model provider", "high")],
        id="provider",
    ),
    pytest.param(
        agent(model={"provider": "anthropic", "name": "claude-opus"}),
        [("model_changed", "model", "medium")],
        id="model",
    ),
    pytest.param(
        agent(settings={"temperature": 0.7}), [("settings_changed", "settings.temperature", "low")], id="settings"
    ),
    pytest.param(
        agent(posture={"deployment_mode": "attested"}),
        [("posture_widened", "deployment mode", "high")],
        id="mode-widened",
    ),
    pytest.param(
        agent(posture={"read_scope": ["tickets", "crm"]}),
        [("posture_widened", "read scope", "high")],
        id="read-scope-widened",
    ),
    pytest.param(
        agent(posture={"read_scope": []}), [("posture_narrowed", "read scope", "low")], id="read-scope-narrowed"
    ),
    pytest.param(
        agent(posture={"crossing_terms": "u"}),
        [("crossing_terms_changed", "crossing terms", "medium")],
        id="crossing-terms",
    ),
    pytest.param(agent(files={"notes.md": b"n\n"}), [("file_changed", "notes.md", "low")], id="other-file"),
    pytest.param(agent(), [], id="nothing"),
]


@pytest.mark.parametrize(("new", "expected"), CASES)
def test_each_kind_of_change_is_found_with_its_risk(new: Agent, expected: list[tuple[str, str, str]]) -> None:
    assert found(new) == expected
    table = {row.kind: row.risk for row in CHANGE_KINDS}
    assert all(table[kind] == risk for kind, _subject, risk in expected)


def test_every_kind_in_the_table_has_a_case() -> None:
    """A kind the table lists but no case above produces would go untested (agents added and
    removed are ``diff_sides``'s, tested below)."""
    cased = {kind for case in CASES for kind, _subject, _risk in case.values[1]}
    assert {row.kind for row in CHANGE_KINDS} - cased == {"agent_added", "agent_removed"}


def test_a_first_version_adds_everything_it_can_do() -> None:
    first = diff_agents(None, agent())
    assert [(c.kind, c.subject) for c in first.changes] == [
        ("skill_added", "classify"),
        ("tool_added", "kb-search"),
        ("tool_permission_added", "kb-search: kb:read"),
        ("egress_widened", "kb.example.com"),
    ]
    assert first.risk == "high" and first.instructions_diff.startswith("--- /dev/null\n")


def test_sides_pair_archetypes_and_report_added_and_removed_agents() -> None:
    report = diff_sides({"a": agent(name="a")}, {"b": agent(name="b")}, "old", "new")
    assert [(a.archetype, a.changes[0].kind) for a in report.agents] == [("a", "agent_removed"), ("b", "agent_added")]
    assert report.risk == "high"


def test_two_archetypes_are_refused() -> None:
    with pytest.raises(InputError, match="different archetypes"):
        diff_agents(agent(), agent(name="release-notes"))


@pytest.mark.parametrize(
    ("allowed", "host", "covered"),
    [
        pytest.param(("*",), "x.org", True, id="any"),
        pytest.param(("*.example.com",), "kb.example.com", True, id="subdomain"),
        pytest.param(("*.example.com",), "example.org", False, id="other-domain"),
        pytest.param(("kb.example.com",), "*", False, id="any-is-wider"),
        pytest.param((), "kb.example.com", False, id="no-network"),
    ],
)
def test_egress_coverage(allowed: tuple[str, ...], host: str, covered: bool) -> None:
    assert egress_covers(allowed, host) is covered


def test_every_kind_in_the_table_is_distinct_and_has_a_risk() -> None:
    kinds = [row.kind for row in CHANGE_KINDS]
    assert len(kinds) == len(set(kinds)) and all(row.risk in ("low", "medium", "high") for row in CHANGE_KINDS)


def test_the_docs_list_the_risk_table() -> None:
    page = (ROOT / "docs" / "diff.md").read_text(encoding="utf-8")
    rows = [f"| `{row.kind}` | {row.risk} | {row.means} |" for row in CHANGE_KINDS]
    assert [row for row in rows if row not in page] == []
