"""What ``gitdocket diff`` compares: two frozen versions of one archetype, a release bundle with
what runs in an environment, and everything a pull request adds (new frozen versions against the
version they were compared with at their freeze, environments that now run another release)."""

from __future__ import annotations

from typing import Any

from gitdocket.core.scopes import Scope, check_name, check_version
from gitdocket.core.tree import TreeView
from gitdocket.errors import InputError
from gitdocket.lifecycles import scope
from gitdocket.lifecycles.agent_diff import DiffReport, diff_agents, diff_sides
from gitdocket.ops.deployments import environment_names
from gitdocket.ops.environments import environment_config
from gitdocket.ops.logs import load_log
from gitdocket.verify.agents import StateOf, bundle_agents, parse_spec, version_agent

__all__ = ["pull_request", "release", "versions"]


def _state(tree: TreeView) -> StateOf:
    def state(target: Scope[Any]) -> Any:
        return load_log(tree, target).state

    return state


def versions(tree: TreeView, old_spec: str, new_spec: str) -> DiffReport:
    """``A@V1`` against ``A@V2``; two archetypes are refused before anything is read."""
    (old_name, old_version), (new_name, new_version) = parse_spec(old_spec), parse_spec(new_spec)
    for name, number in ((old_name, old_version), (new_name, new_version)):
        check_name(name, "archetype name")
        check_version(number)
    if old_name != new_name:
        raise InputError(
            f"cannot compare {old_spec} with {new_spec}: they are versions of different archetypes",
            f"compare two versions of one archetype, e.g. `gitdocket diff {old_spec} {old_name}@VERSION`",
        )
    state = _state(tree)
    old = version_agent(tree, state, old_name, old_version)
    new = version_agent(tree, state, new_name, new_version)
    return diff_sides({old_name: old}, {new_name: new}, old_spec, new_spec)


def release(tree: TreeView, bundle_id: str, environment: str) -> DiffReport:
    """Release ``bundle_id`` against what runs in ``environment`` (nothing when it runs none)."""
    environment_config(tree, environment)
    state = _state(tree)
    new = bundle_agents(tree, state, bundle_id)
    active = load_log(tree, scope("environment", environment)).state.bundle_id
    old = bundle_agents(tree, state, active) if active else {}
    label = f"{environment} ({active})" if active else f"{environment} (nothing deployed)"
    return diff_sides(old, new, label, bundle_id)


def _new_versions(base: TreeView, head: TreeView) -> list[DiffReport]:
    """Each version frozen in ``head`` and not in ``base``, against its recorded baseline."""
    state, reports = _state(head), []
    for name in head.listdir("registry/versions"):
        for number in head.listdir(f"registry/versions/{name}"):
            target = scope("version", name, number)
            snap = load_log(head, target).state.snapshot
            if snap is None or load_log(base, target).state.snapshot is not None:
                continue
            new = version_agent(head, state, name, number)
            old = version_agent(head, state, name, snap.baseline) if snap.baseline else None
            label = f"{name}@{snap.baseline}" if snap.baseline else f"{name} (first version)"
            agent = diff_agents(old, new)
            reports.append(DiffReport(old=label, new=f"{name}@{number}", risk=agent.risk, agents=(agent,)))
    return reports


def pull_request(base: TreeView, head: TreeView) -> list[DiffReport]:
    """What a pull request from ``base`` to ``head`` changes in agents: every version it freezes,
    and every environment whose release it changes (the new release against the old one)."""
    reports = _new_versions(base, head)
    state = _state(head)
    for environment in environment_names(head):
        was = load_log(base, scope("environment", environment)).state.bundle_id
        now = load_log(head, scope("environment", environment)).state.bundle_id
        if now is None or now == was:
            continue
        old = bundle_agents(head, state, was) if was else {}
        label = f"{environment} ({was})" if was else f"{environment} (nothing deployed)"
        reports.append(diff_sides(old, bundle_agents(head, state, now), label, f"{environment} ({now})"))
    return reports
