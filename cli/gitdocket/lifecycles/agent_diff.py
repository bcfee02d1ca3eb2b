"""What changed between two agents, in the agent's own terms, and how risky each change is.

An agent here is one frozen version seen as an ``Agent``: its method files, its
``.agent-config.json`` and its protection posture. ``diff_agents`` lists the changes: the
instructions (with a text diff), skills and tools added, removed or changed, tool permissions,
network egress, the model and its provider, settings, the posture, and any other method file.
Each change kind has one row in ``lifecycles.risk.CHANGE_KINDS``, the table that says how risky it
is; nothing else classifies a change, and the docs and the risk rules of the policy read the same
table. Pure: the caller reads the files; this module only compares.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

from gitdocket.core.documents import Posture
from gitdocket.core.model import Record
from gitdocket.errors import InputError
from gitdocket.lifecycles.risk import CHANGE_KINDS, RISKS, Risk
from gitdocket.lifecycles.version import AgentConfig

__all__ = [
    "Agent",
    "AgentDiff",
    "Change",
    "DiffReport",
    "added_agent",
    "diff_agents",
    "diff_sides",
    "egress_covers",
    "highest",
    "removed_agent",
]

_BY_KIND = {row.kind: row for row in CHANGE_KINDS}
# A deployment mode that lets the method leave the publisher exposes more than one that keeps it.
_MODE_EXPOSURE = {"private/federated": 0, "attested": 1}
_INSTRUCTIONS = "instructions.md"
_CONFIG = ".agent-config.json"


class Change(Record):
    """One change, as ``agent_diff_v1`` records it."""

    kind: str
    risk: Risk
    subject: str
    old: str | None = None
    new: str | None = None


class AgentDiff(Record):
    """The changes of one archetype between two versions (either side may be absent)."""

    archetype: str
    old_version: str | None
    new_version: str | None
    risk: Risk
    changes: tuple[Change, ...]
    instructions_diff: str = ""


@dataclass(frozen=True)
class Agent:
    """One frozen version as the diff sees it: method files (path → bytes), config, posture."""

    archetype: str
    version: str
    files: Mapping[str, bytes]
    config: AgentConfig
    posture: Posture


def highest(risks: Iterable[Risk]) -> Risk:
    """The highest of ``risks`` (``none`` for none)."""
    return max(risks, key=RISKS.index, default="none")


def _change(kind: str, subject: str, old: str | None = None, new: str | None = None) -> Change:
    return Change(kind=kind, risk=_BY_KIND[kind].risk, subject=subject, old=old, new=new)


def _owned(files: Mapping[str, bytes], folder: str, name: str) -> dict[str, bytes]:
    """The files of skill or tool ``name``: ``folder/name``, ``folder/name.*`` or below
    ``folder/name/`` (the freeze's completeness rule reads them the same way)."""
    stem = f"{folder}/{name}"
    return {p: b for p, b in files.items() if p == stem or p.startswith((stem + "/", stem + "."))}


def _members(old: Agent | None, new: Agent, folder: Literal["skills", "tools"]) -> list[Change]:
    singular = folder[:-1]
    before = set(getattr(old.config, folder)) if old else set()
    after = set(getattr(new.config, folder))
    out = [_change(f"{singular}_added", name) for name in sorted(after - before)]
    out += [_change(f"{singular}_removed", name) for name in sorted(before - after)]
    if old is not None:
        out += [
            _change(f"{singular}_changed", name)
            for name in sorted(before & after)
            if _owned(old.files, folder, name) != _owned(new.files, folder, name)
        ]
    return out


def _permissions(old: Agent | None, new: Agent) -> list[Change]:
    before = old.config.permissions if old else {}
    out = []
    for tool in sorted({*before, *new.config.permissions}):
        had, has = set(before.get(tool, ())), set(new.config.permissions.get(tool, ()))
        out += [_change("tool_permission_added", f"{tool}: {p}", new=p) for p in sorted(has - had)]
        out += [_change("tool_permission_removed", f"{tool}: {p}", old=p) for p in sorted(had - has)]
    return out


def egress_covers(allowed: Iterable[str], host: str) -> bool:
    """Whether the egress list ``allowed`` already lets the agent reach ``host`` (a host name,
    ``*.domain`` or ``*``): ``*`` covers all, ``*.example.com`` covers its subdomains."""
    for pattern in allowed:
        if pattern in ("*", host):
            return True
        if pattern.startswith("*.") and host != "*" and host.endswith(pattern[1:]):
            return True
    return False


def _egress(old: Agent | None, new: Agent) -> list[Change]:
    before = old.config.egress if old else ()
    widened = [h for h in sorted(set(new.config.egress)) if not egress_covers(before, h)]
    narrowed = [h for h in sorted(set(before)) if not egress_covers(new.config.egress, h)]
    return [_change("egress_widened", h, new=h) for h in widened] + [
        _change("egress_narrowed", h, old=h) for h in narrowed
    ]


def _model(old: Agent | None, new: Agent) -> list[Change]:
    if old is None:
        return []
    was, now = old.config.model, new.config.model
    out = []
    if was.provider != now.provider:
        out.append(_change("provider_changed", "model provider", was.provider, now.provider))
    if was.name != now.name:
        out.append(_change("model_changed", "model", was.name, now.name))
    for key in sorted({*old.config.settings, *new.config.settings}):
        a, b = old.config.settings.get(key), new.config.settings.get(key)
        if a != b:
            out.append(_change("settings_changed", f"settings.{key}", _text(a), _text(b)))
    return out


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def _posture(old: Agent | None, new: Agent) -> list[Change]:
    if old is None:
        return []
    was, now = old.posture, new.posture
    out = []
    if was.deployment_mode != now.deployment_mode:
        wider = _MODE_EXPOSURE[now.deployment_mode] > _MODE_EXPOSURE[was.deployment_mode]
        kind = "posture_widened" if wider else "posture_narrowed"
        out.append(_change(kind, "deployment mode", was.deployment_mode, now.deployment_mode))
    out += [_change("posture_widened", "read scope", new=s) for s in sorted(set(now.read_scope) - set(was.read_scope))]
    out += [_change("posture_narrowed", "read scope", old=s) for s in sorted(set(was.read_scope) - set(now.read_scope))]
    if was.crossing_terms != now.crossing_terms:
        out.append(_change("crossing_terms_changed", "crossing terms", was.crossing_terms, now.crossing_terms))
    return out


def _other_files(old: Agent | None, new: Agent) -> list[Change]:
    """Method files no other change accounts for (not instructions, config, a skill or a tool)."""
    if old is None:
        return []
    owned = {_INSTRUCTIONS, _CONFIG}
    for agent in (old, new):
        for folder in ("skills", "tools"):
            for name in getattr(agent.config, folder):
                owned |= set(_owned(agent.files, folder, name))
    out = []
    for path in sorted({*old.files, *new.files} - owned):
        if old.files.get(path) != new.files.get(path):
            was = "absent" if path not in old.files else "present"
            now = "absent" if path not in new.files else "present"
            out.append(_change("file_changed", path, was, now))
    return out


def _instructions(old: Agent | None, new: Agent) -> tuple[list[Change], str]:
    before = old.files.get(_INSTRUCTIONS, b"") if old else b""
    after = new.files.get(_INSTRUCTIONS, b"")
    if before == after:
        return [], ""
    left = f"{old.archetype}@{old.version}/{_INSTRUCTIONS}" if old else "/dev/null"
    lines = difflib.unified_diff(
        before.decode("utf-8", errors="replace").splitlines(keepends=True),
        after.decode("utf-8", errors="replace").splitlines(keepends=True),
        left,
        f"{new.archetype}@{new.version}/{_INSTRUCTIONS}",
    )
    text = "".join(line if line.endswith("\n") else line + "\n" for line in lines)
    return ([_change("instructions_changed", _INSTRUCTIONS)] if old else []), text


def diff_agents(old: Agent | None, new: Agent) -> AgentDiff:
    """What changed from ``old`` to ``new`` (two versions of one archetype). Without ``old``
    (a first version) every skill, tool, permission and egress destination is new."""
    if old is not None and old.archetype != new.archetype:
        raise InputError(
            f"cannot compare {old.archetype}@{old.version} with {new.archetype}@{new.version}: "
            "they are versions of different archetypes",
            "compare two versions of one archetype, e.g. `gitdocket diff A@1.0.0 A@1.1.0`",
        )
    text_changes, text = _instructions(old, new)
    changes = [
        *text_changes,
        *_members(old, new, "skills"),
        *_members(old, new, "tools"),
        *_permissions(old, new),
        *_egress(old, new),
        *_model(old, new),
        *_posture(old, new),
        *_other_files(old, new),
    ]
    return AgentDiff(
        archetype=new.archetype,
        old_version=old.version if old else None,
        new_version=new.version,
        risk=highest(c.risk for c in changes),
        changes=tuple(changes),
        instructions_diff=text,
    )


def removed_agent(old: Agent) -> AgentDiff:
    """An archetype the new side no longer runs."""
    change = _change("agent_removed", old.archetype, old=old.version)
    return AgentDiff(
        archetype=old.archetype,
        old_version=old.version,
        new_version=None,
        risk=change.risk,
        changes=(change,),
    )


def added_agent(new: Agent) -> AgentDiff:
    """An archetype the old side does not run: the agent itself is new, and so is all it can do."""
    first = diff_agents(None, new)
    change = _change("agent_added", new.archetype, new=new.version)
    changes = (change, *first.changes)
    return first.model_copy(update={"changes": changes, "risk": highest(c.risk for c in changes)})


class DiffReport(Record):
    """``agent_diff_v1``: what changes between two sides (two versions, or two releases), per
    archetype, with the highest risk of all."""

    contract: Literal["agent_diff_v1"] = "agent_diff_v1"
    old: str
    new: str
    risk: Risk
    agents: tuple[AgentDiff, ...]


def diff_sides(old: Mapping[str, Agent], new: Mapping[str, Agent], old_label: str, new_label: str) -> DiffReport:
    """Compare two sides keyed by archetype (one agent each): changed, added and removed agents."""
    agents = []
    for name in sorted({*old, *new}):
        before, after = old.get(name), new.get(name)
        if after is not None:
            agents.append(diff_agents(before, after) if before is not None else added_agent(after))
        elif before is not None:
            agents.append(removed_agent(before))
    return DiffReport(old=old_label, new=new_label, risk=highest(a.risk for a in agents), agents=tuple(agents))
