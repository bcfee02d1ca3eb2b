"""Agents read from a registry snapshot for ``lifecycles.agent_diff``, and a diff as Markdown.

A version is read from its frozen snapshot (config and posture as recorded at the freeze) and its
frozen method files; a release is the newest version of each archetype its bundle carries. The
reader gets each scope's state from its caller (``state``): a writer's transaction or a verified
``Context``, so both judge the same state. Markdown is what a pull request's job summary shows.
Pure: the tree is a ``TreeView``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from gitdocket.core.canonical import loads_strict
from gitdocket.core.documents import BundleManifest
from gitdocket.core.fields import semver_key
from gitdocket.core.scopes import Scope
from gitdocket.core.tree import TreeView
from gitdocket.errors import InputError, NotFoundError, StateError
from gitdocket.lifecycles import scope
from gitdocket.lifecycles.agent_diff import Agent, AgentDiff, DiffReport, diff_agents, diff_sides
from gitdocket.lifecycles.bundle import MANIFEST
from gitdocket.lifecycles.policy import PolicyState, lookup_role
from gitdocket.lifecycles.risk import CHANGE_KINDS, Missing, missing_approvals
from gitdocket.lifecycles.version import Snapshot, VersionState

__all__ = [
    "StateOf",
    "bundle_agents",
    "freeze_approvals",
    "members_in",
    "parse_spec",
    "promotion_approvals",
    "render_markdown",
    "snapshot_agent",
    "version_agent",
]

StateOf = Callable[[Scope[Any]], Any]
"""The state of a scope at the moment of the question."""


def parse_spec(spec: str) -> tuple[str, str]:
    """``ARCHETYPE@VERSION`` as its two parts, or ``InputError``."""
    name, sep, version = spec.partition("@")
    if not sep or not name or not version:
        raise InputError(
            f"{spec!r} is not ARCHETYPE@VERSION", "e.g. `gitdocket diff support-triage@1.0.0 support-triage@1.1.0`"
        )
    return name, version


def version_agent(tree: TreeView, state: StateOf, archetype: str, version: str) -> Agent:
    """Frozen version ``archetype`` ``version`` as an ``Agent``; ``NotFoundError`` when it has no
    snapshot (never frozen)."""
    vstate: VersionState = state(scope("version", archetype, version))
    snap = vstate.snapshot
    if vstate.phase == "init":
        raise NotFoundError(f"no version {archetype} {version}", f"see `gitdocket version list {archetype}`")
    if snap is None:
        raise NotFoundError(
            f"version {archetype} {version} is not frozen: there is nothing fixed to compare",
            f"see `gitdocket version list {archetype}`; freeze it first",
        )
    return snapshot_agent(tree, f"registry/versions/{archetype}/{version}/method", archetype, version, snap)


def snapshot_agent(tree: TreeView, base: str, archetype: str, version: str, snap: Snapshot) -> Agent:
    """The agent ``snap`` records, its files read from the method folder ``base`` (the frozen
    one, or the archetype's while a freeze is being decided)."""
    files = {}
    for rel in sorted(snap.manifest):
        data = tree.read(f"{base}/{rel}")
        if data is None:
            raise StateError(f"{base}/{rel} is missing", "run `gitdocket verify`; the registry was changed by hand")
        files[rel] = data
    return Agent(archetype, version, files, snap.agent_config, snap.protection_posture)


def members_in(policy: PolicyState) -> Callable[[str], tuple[str, ...] | None]:
    """Who holds a role in ``policy`` (None when nobody): what a risk rule's role resolves to."""

    def members(name: str) -> tuple[str, ...] | None:
        role = lookup_role(policy, name)
        return role.principals if role is not None else None

    return members


def freeze_approvals(
    tree: TreeView, state: StateOf, policy: PolicyState, snap: Snapshot, agent: Agent, signers: Iterable[str]
) -> list[Missing]:
    """The risk rules a freeze of ``agent`` (recorded as ``snap``) does not meet with
    ``signers``' signatures: its diff against its baseline (``RISK_APPROVAL_REQUIRED``)."""
    if not any("freeze" in rule.on for rule in policy.risk_rules):
        return []
    old = version_agent(tree, state, agent.archetype, snap.baseline) if snap.baseline else None
    diff = diff_agents(old, agent)
    return missing_approvals(policy.risk_rules, "freeze", [diff], signers, members_in(policy))


def promotion_approvals(
    tree: TreeView, state: StateOf, policy: PolicyState, bundle_id: str, previous: str | None, signers: Iterable[str]
) -> list[Missing]:
    """The risk rules a promotion of ``bundle_id`` over ``previous`` (what ran there) does not
    meet with ``signers``' signatures (``RISK_APPROVAL_REQUIRED``)."""
    if not any("promote" in rule.on for rule in policy.risk_rules):
        return []
    old = bundle_agents(tree, state, previous) if previous else {}
    report = diff_sides(old, bundle_agents(tree, state, bundle_id), previous or "", bundle_id)
    return missing_approvals(policy.risk_rules, "promote", report.agents, signers, members_in(policy))


def bundle_agents(tree: TreeView, state: StateOf, bundle_id: str) -> dict[str, Agent]:
    """The agents release ``bundle_id`` runs: the newest version of each archetype it carries."""
    raw = tree.read(f"bundles/{bundle_id}/{MANIFEST}")
    if raw is None:
        raise NotFoundError(f"no bundle {bundle_id!r}", "list them with `gitdocket bundle list`")
    manifest = BundleManifest.model_validate(loads_strict(raw, f"bundles/{bundle_id}/{MANIFEST}"))
    newest: dict[str, str] = {}
    for ref in manifest.payload.packages:
        held = newest.get(ref.archetype)
        if held is None or semver_key(ref.version) > semver_key(held):
            newest[ref.archetype] = ref.version
    return {name: version_agent(tree, state, name, number) for name, number in sorted(newest.items())}


_RISK_BADGE = {"none": "none", "low": "low", "medium": "**medium**", "high": "**HIGH**"}
_MEANS = {row.kind: row.means for row in CHANGE_KINDS}


def _cell(text: str | None) -> str:
    """A table cell: pipes and line breaks would break the row."""
    if text is None:
        return ""
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ").replace("`", "'")


def _agent_markdown(agent: AgentDiff) -> list[str]:
    was, now = agent.old_version or "(none)", agent.new_version or "(none)"
    lines = [f"### {agent.archetype}: {was} → {now} (risk: {_RISK_BADGE[agent.risk]})", ""]
    if not agent.changes:
        return [*lines, "No change.", ""]
    lines += ["| risk | change | subject | before | after |", "|---|---|---|---|---|"]
    for c in agent.changes:
        lines.append(f"| {_RISK_BADGE[c.risk]} | {c.kind} | {_cell(c.subject)} | {_cell(c.old)} | {_cell(c.new)} |")
    lines.append("")
    if agent.instructions_diff:
        fence = "~~~~" if "~~~" not in agent.instructions_diff else "`````"
        lines += [
            "<details><summary>instructions.md</summary>",
            "",
            f"{fence}diff",
            agent.instructions_diff.rstrip("\n"),
            fence,
            "",
            "</details>",
            "",
        ]
    return lines


def render_markdown(report: DiffReport) -> str:
    """The report as Markdown: a heading with the highest risk, then one table per archetype and
    the instructions' text diff, then the meaning of each kind that occurs."""
    lines = [f"## gitdocket diff: {_cell(report.old)} → {_cell(report.new)} (risk: {_RISK_BADGE[report.risk]})", ""]
    if not report.agents:
        lines += ["No agent changes.", ""]
    for agent in report.agents:
        lines += _agent_markdown(agent)
    kinds = sorted({c.kind for a in report.agents for c in a.changes})
    if kinds:
        lines += ["| change | means |", "|---|---|", *(f"| {k} | {_MEANS[k]} |" for k in kinds), ""]
    return "\n".join(lines)
