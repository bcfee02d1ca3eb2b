"""Printing a dry run's ``WritePlan`` (``--dry-run``): JSON for scripts, sections for people.

The plan itself is made in the write path (``ops.session.Session.write``); this module only
prints it, the same way for every command that takes ``--dry-run``.
"""

from __future__ import annotations

import json
from typing import Any

import click

from gitdocket.commands.output import emit
from gitdocket.ops.plans import Change, PlannedEvent, WritePlan

__all__ = ["dry_run_option", "show_plan"]


def dry_run_option(func: Any) -> Any:
    """``--dry-run`` (goes above ``@writer``, which reads it)."""
    return click.option(
        "--dry-run",
        is_flag=True,
        help="Plan the write and print it (events and who must sign them, the current.json and "
        "pointer changes, gate checks, paths and tags) without writing anything; exits as the "
        "write would (1 when it would be refused).",
    )(func)


def _value(value: Any) -> str:
    return "(none)" if value is None else json.dumps(value, sort_keys=True, ensure_ascii=False)


def _event_lines(event: PlannedEvent) -> list[str]:
    lines = [
        f"  {event.scope} #{event.seq} {event.type} by {event.actor} at {event.at} "
        f"(signed by {', '.join(event.signed_by) or 'nobody'})"
    ]
    for need in event.signoffs:
        verdict = "ok" if need.ok else "NOT MET"
        lines.append(
            f"    needs {need.threshold} of {need.role} [{', '.join(need.holders) or 'nobody'}] under policy "
            f"v{need.policy_version}; counted: {', '.join(need.counted) or 'none'} -> {verdict}"
        )
        lines.extend(f"      {problem}" for problem in need.problems)
    return lines


def _change_lines(plan: WritePlan) -> list[str]:
    """Each changed field of an existing ``current.json``; a new one is one line (``--format
    json`` lists its every field)."""
    by_path: dict[str, list[Change]] = {}
    for change in plan.changes:
        by_path.setdefault(change.path, []).append(change)
    lines = []
    for path, changes in by_path.items():
        if all(c.before is None for c in changes):
            lines.append(f"  {path}: new ({len(changes)} fields)")
            continue
        lines.extend(f"  {path} {c.key}: {_value(c.before)} -> {_value(c.after)}" for c in changes)
    return lines


def _text(plan: WritePlan) -> list[str]:
    lines = [f"Dry run of {plan.message!r}: nothing was written."]
    lines.append(f"Events ({len(plan.events)}):")
    lines.extend(line for event in plan.events for line in _event_lines(event))
    if plan.pointers:
        lines.append("Pointers:")
        lines.extend(f"  {p.environment}: {p.before or '(none)'} -> {p.after or '(none)'}" for p in plan.pointers)
    if plan.changes:
        lines.append("current.json changes:")
        lines.extend(_change_lines(plan))
    if plan.checks:
        lines.append("Gate checks:")
        lines.extend(
            f"  {'pass' if c.passed else 'FAIL'} {c.check_id} ({c.subject}){': ' + c.detail if c.detail else ''}"
            for c in plan.checks
        )
    lines.append(f"Paths ({len(plan.paths)}):")
    lines.extend(f"  {path}" for path in plan.paths)
    if plan.tags:
        lines.append("Tags:")
        lines.extend(f"  {tag}" for tag in plan.tags)
    lines.extend(f"Note: {note}" for note in plan.notes)
    lines.append("Would be refused (see the error below)." if plan.refusal is not None else "Would write one commit.")
    return lines


def show_plan(fmt: str, plan: WritePlan) -> None:
    """Print ``plan``: as JSON on standard output, or as sections of text."""
    emit(fmt, plan.as_dict(), lambda: click.echo("\n".join(_text(plan))))
