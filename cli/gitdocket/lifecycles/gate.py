"""The release readiness gate (``release_readiness_gate_v1``, seed 002): evidence in, a decision
out — ``go``, ``conditional-go`` or ``no-go``.

What the gate checks is configuration: the ``gate`` section of ``registry.yaml`` names a preset
(``lifecycles.gate_presets``) and adds checks and profiles of its own (``GateRules``). Each check
reads one evidence file and says what its fields must hold (``core.documents.GateCheckSpec``);
a missing file fails the check (under its ``missing_id``) unless the check is ``when_missing:
skip``. A JUnit XML file is read as ``{tests, failures, errors, skipped}`` summed over its suites.

Every check has a severity. A profile skips checks and may accept further values as a pass of
``medium`` severity (a waiver). Approved exceptions that have not expired downgrade a failing
``high`` check to ``medium``; expired or malformed ones become failing ``medium`` checks of their
own. The decision: more ``high`` failures than the profile allows → no-go; more ``medium``
failures than it allows → no-go; any ``medium`` failure → conditional-go; otherwise go.

Pure: evidence arrives as bytes or parsed (``Evidence``), the clock arrives as a string.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from xml.etree import ElementTree

from pydantic import BaseModel, ValidationError

from gitdocket.core.canonical import loads_strict
from gitdocket.core.documents import Expect, GateCheckSpec, GateConfig, GateProfileSpec
from gitdocket.core.fields import format_time, parse_time
from gitdocket.core.model import dotted, first_error
from gitdocket.core.readiness import GateReport, PromotionReadiness, gate_decision, status_is_pass
from gitdocket.errors import DocketError, InputError, NotFoundError

__all__ = [
    "Evidence",
    "GateRules",
    "evaluate_gate",
    "status_is_pass",
]

CONTRACT_MODELS: dict[str, type[BaseModel]] = {
    "policy_promotion_readiness_v1": PromotionReadiness,
    "release_readiness_gate_v1": GateReport,
}
"""The contracts a check's ``conforms`` may name."""


@dataclass(frozen=True)
class Evidence:
    """One evidence document as read: its parsed object, or why it could not be read."""

    name: str
    data: dict[str, Any] | None
    error: str | None = None
    source: str = "evidence"

    @classmethod
    def missing(cls, name: str, source: str = "evidence") -> Evidence:
        return cls(name, None, "missing", source)

    @classmethod
    def parse(cls, name: str, raw: bytes | None, source: str) -> Evidence:
        """Parse ``raw`` strictly (JSON, or JUnit XML for a ``.xml`` name); a missing, unparsable
        or non-object document keeps its error."""
        if raw is None:
            return cls.missing(name, source)
        if name.endswith(".xml"):
            return _junit(name, raw, source)
        try:
            data = loads_strict(raw, name)
        except DocketError as exc:
            return cls(name, None, f"invalid_json: {exc.message}", source)
        if not isinstance(data, dict):
            return cls(name, None, "invalid_shape", source)
        return cls(name, data, None, source)


def _junit(name: str, raw: bytes, source: str) -> Evidence:
    """JUnit XML (``<testsuites>`` or one ``<testsuite>``) as its summed counts."""
    if b"<!DOCTYPE" in raw or b"<!ENTITY" in raw:  # no entity expansion from CI's files
        return Evidence(name, None, "invalid_xml: a DOCTYPE is not allowed", source)
    try:
        root = ElementTree.fromstring(raw)  # noqa: S314 - bounded size, no DOCTYPE (checked above)
    except ElementTree.ParseError as exc:
        return Evidence(name, None, f"invalid_xml: {exc}", source)
    suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
    if root.tag not in ("testsuite", "testsuites"):
        return Evidence(name, None, "invalid_shape: not JUnit XML", source)
    totals = dict.fromkeys(("tests", "failures", "errors", "skipped"), 0)
    for suite in suites:
        for key in totals:
            value = suite.get(key, "0")
            if not value.isdigit():
                return Evidence(name, None, f"invalid_shape: {key}={value!r}", source)
            totals[key] += int(value)
    return Evidence(name, totals, None, source)


@dataclass(frozen=True)
class GateRules:
    """What the gate checks, resolved from a preset and the registry's own additions."""

    checks: tuple[GateCheckSpec, ...]
    profiles: Mapping[str, GateProfileSpec]
    promotion_readiness: bool = False
    preset: str = "none"
    required_evidence: tuple[str, ...] = field(default=())

    def files(self) -> tuple[str, ...]:
        """Every evidence file a check reads, in check order."""
        return tuple(dict.fromkeys(check.file for check in self.checks))

    def profile(self, name: str) -> GateProfileSpec:
        if name not in self.profiles:
            raise NotFoundError(
                f"unknown gate profile {name!r}",
                f"profiles of this registry's gate: {', '.join(sorted(self.profiles))} "
                "(registry/registry.yaml, gate.profiles)",
            )
        return self.profiles[name]

    def extended(self, config: GateConfig) -> GateRules:
        """These rules plus the registry's own checks and profiles."""
        ids = {c.id for c in self.checks}
        clash = next((c.id for c in config.checks if c.id in ids), None)
        if clash is not None:
            raise InputError(
                f"registry/registry.yaml: gate check {clash!r} is defined twice",
                f"rename it in registry/registry.yaml, or use `preset: none` to replace the {self.preset} preset",
            )
        readiness = self.promotion_readiness if config.promotion_readiness is None else config.promotion_readiness
        return GateRules(
            checks=self.checks + config.checks,
            profiles={**self.profiles, **config.profiles},
            promotion_readiness=readiness,
            preset=config.preset,
            required_evidence=self.required_evidence,
        )


def _words(values: tuple[str, ...]) -> set[str]:
    return {v.strip().lower() for v in values}


def _holds(expect: Expect, value: Any) -> bool:
    """Whether ``value`` satisfies ``expect`` (exactly one condition is set)."""
    if expect.is_pass:
        return status_is_pass(value)
    if expect.at_least is not None:
        return isinstance(value, int | float) and not isinstance(value, bool) and value >= expect.at_least
    if expect.one_of is not None:
        return isinstance(value, str) and value.strip().lower() in _words(expect.one_of)
    if expect.none_of is not None:
        return str(value).strip().lower() not in _words(expect.none_of)
    return type(value) is type(expect.equals) and value == expect.equals


class _Checks:
    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []

    def add(self, check_id: str, passed: bool, detail: str, severity: str = "high") -> None:
        self.items.append({"check_id": check_id, "passed": bool(passed), "severity": severity, "detail": detail})

    def has(self, check_id: str) -> bool:
        return any(item["check_id"] == check_id for item in self.items)


def _conforms(contract: str, data: dict[str, Any]) -> tuple[bool, str]:
    try:
        CONTRACT_MODELS[contract].model_validate(data)
    except ValidationError as exc:
        return False, f"contract={data.get('contract')}; error={first_error(exc)}"
    return True, f"contract={contract}"


def _run(check: GateCheckSpec, doc: Evidence, profile: GateProfileSpec, checks: _Checks) -> None:
    if doc.data is None:
        missing = check.missing_id or check.id
        absent = doc.error == "missing"  # present but unreadable fails even a skippable check
        if not (absent and check.when_missing == "skip") and not checks.has(missing):
            checks.add(missing, False, doc.error or "missing", check.severity)
        return
    if check.conforms is not None:
        passed, detail = _conforms(check.conforms, doc.data)
        checks.add(check.id, passed, detail, check.severity)
        return
    values = {name: dotted(doc.data, name) for name in check.expect}
    passed = all(_holds(expect, values[name]) for name, expect in check.expect.items())
    detail = "; ".join(f"{name}={value}" for name, value in values.items())
    accepted = _words(profile.accept.get(check.id, ()))
    waived = not passed and all(
        _holds(expect, values[name]) or str(values[name]).strip().lower() in accepted
        for name, expect in check.expect.items()
    )
    checks.add(check.id, passed or (waived and bool(accepted)), detail, "medium" if waived else check.severity)


def _skipped(check_id: str, profile: GateProfileSpec) -> bool:
    return any(check_id.startswith(p[:-1]) if p.endswith("*") else check_id == p for p in profile.skip)


def _parse_time(value: str) -> datetime | None:
    """Evidence written by other tools: a time without a zone is UTC; None when unreadable."""
    try:
        return parse_time(value, naive=UTC)
    except ValueError:
        return None


def _exceptions(doc: Evidence | None, now: str, checks: _Checks) -> dict[str, dict[str, str]]:
    if doc is None:
        return {}
    items = doc.data.get("exceptions") if doc.data is not None else None
    if doc.data is None or not isinstance(items, list):
        checks.add(
            "exceptions_file_load",
            False,
            f"exceptions file error: {doc.error or 'exceptions must be a list'}",
        )
        return {}
    checks.add("exceptions_file_load", True, f"loaded from {doc.source}")
    active: dict[str, dict[str, str]] = {}
    clock = _parse_time(now)
    for index, item in enumerate(items):
        fields = (
            {k: item.get(k) for k in ("check_id", "expires_at", "approved_by", "reason")}
            if isinstance(item, dict)
            else {}
        )
        bad = [
            k
            for k in ("check_id", "expires_at", "approved_by", "reason")
            if not isinstance(fields.get(k), str) or not str(fields[k]).strip()
        ]
        expires = _parse_time(str(fields.get("expires_at"))) if not bad else None
        if bad or expires is None:
            checks.add(
                "exceptions_entry_issue",
                False,
                f"exceptions[{index}] invalid: {(bad or ['expires_at'])[0]}",
                "medium",
            )
        elif clock is None or expires <= clock:
            checks.add(
                "exceptions_entry_issue",
                False,
                f"exceptions[{index}] expired: {fields['check_id']} at {fields['expires_at']}",
                "medium",
            )
        else:
            active[str(fields["check_id"]).strip()] = {
                "approved_by": str(fields["approved_by"]).strip(),
                "reason": str(fields["reason"]).strip(),
                "expires_at": format_time(expires),
            }
    return active


def _decide(items: list[dict[str, Any]], profile: GateProfileSpec) -> str:
    high = sum(1 for c in items if not c["passed"] and c["severity"] == "high")
    medium = sum(1 for c in items if not c["passed"] and c["severity"] == "medium")
    return gate_decision(high, medium, profile.max_high_failures, profile.max_medium_failures)


def _apply_exceptions(items: list[dict[str, Any]], active: dict[str, dict[str, str]]) -> list[dict[str, str]]:
    applied = []
    for item in items:
        exception = active.get(item["check_id"])
        if item["passed"] or exception is None:
            continue
        item["severity"] = "medium"
        item["detail"] += (
            f" | exception approved_by={exception['approved_by']} "
            f"expires_at={exception['expires_at']} reason={exception['reason']}"
        )
        applied.append({"check_id": item["check_id"], **exception})
    return applied


def evaluate_gate(
    docs: Mapping[str, Evidence],
    rules: GateRules,
    profile_name: str,
    now: str,
    exceptions: Evidence | None = None,
    inputs: Mapping[str, Any] | None = None,
) -> GateReport:
    """The gate report for ``docs`` (by file name; absent ones count as missing) under ``rules``
    and the named profile."""
    profile = rules.profile(profile_name)
    checks = _Checks()
    active = _exceptions(exceptions, now, checks)
    for check in rules.checks:
        if not _skipped(check.id, profile):
            _run(check, docs.get(check.file) or Evidence.missing(check.file), profile, checks)
    applied = _apply_exceptions(checks.items, active)
    failed = [c for c in checks.items if not c["passed"]]
    decision = _decide(checks.items, profile)
    return GateReport.model_validate(
        {
            "generated_at": now,
            "status": "passed" if decision == "go" else "failed",
            "contract": "release_readiness_gate_v1",
            "decision": decision,
            "summary": {
                "total": len(checks.items),
                "passed": len(checks.items) - len(failed),
                "failed": len(failed),
                "high_failures": sum(c["severity"] == "high" for c in failed),
                "medium_failures": sum(c["severity"] == "medium" for c in failed),
            },
            "checks": checks.items,
            "inputs": {
                **dict(inputs or {}),
                "gate_preset": rules.preset,
                "policy_profile": profile_name,
                **profile.model_dump(mode="json"),
            },
            "exceptions_applied": applied,
        }
    )
