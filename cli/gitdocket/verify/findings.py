"""A finding: one thing wrong, with a stable code, where it is, which rule, and what to do.

The rule is an ``Invariant`` object, declared once (``lifecycles.INVARIANTS``), so a finding can
cite no rule that does not exist; the report prints its name."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from gitdocket.errors import DocketError, Invariant

__all__ = ["CODES", "Finding", "collect", "report_order"]

CODES: dict[str, str] = {
    "LOG_UNREADABLE": "a history line is not valid, canonical, schema-conforming JSON",
    "CHAIN_BROKEN": "seq or prev does not continue the hash chain",
    "SIGNATURE_INVALID": "a signature is missing, forged, or by someone outside the role",
    "POLICY_EXPIRED": "an event was written after the expiry of the policy version it names",
    "REPLAY_ILLEGAL": "an event is not what decide produces from the state before it",
    "INVARIANT_BROKEN": "the folded state breaks a lifecycle invariant",
    "CURRENT_MISMATCH": "current.json is not the fold of history.jsonl",
    "CURRENT_MISSING": "a scope has a history but no current.json, or the reverse",
    "SNAPSHOT_MISMATCH": "a frozen snapshot differs from its recorded manifest",
    "DOCUMENT_INVALID": "a document does not validate against its contract",
    "UNEXPECTED_FILE": "a file that no lifecycle writes sits in a scope folder",
    "LOG_SEGMENT": "a log's sealed segment is misnamed, not a file, or does not begin where its name says",
    "REFERENCE_BROKEN": "a record names another scope that does not match",
    "REFERENCE_STALE": "an event relied on a line of another log that was no longer its last (a stale line)",
    "SECRET_RECORDED": "a new event's free text holds a secret",
    "TAG_MISSING": "a frozen version or published package has no tag",
    "TAG_MISMATCH": "a gitdocket tag is unsigned, or not on the commit that recorded it (moved?)",
    "SCOPE_DELETED": "a scope is gone that the base, a signed tag or another record proves existed",
    "HISTORY_REWRITTEN": "a log does not extend the one its base or its signed tag recorded",
    "IMMUTABLE_CHANGED": "an immutable file changed or was deleted",
    "UNAUTHORIZED_AT_BASE": "a new event is not authorized by the base policy",
    "VERSION_NOT_MONOTONIC": "a new version is not newer than the existing ones",
    "NOT_DESCENDANT": "the head does not descend from the base",
    "BUNDLE_INVALID": "a release bundle's files do not match its manifest (changed, missing or extra)",
    "RELEASE_MISMATCH": "an environment's release is not the bundle tree recorded at promotion",
    "GATE_REPORT_INVALID": "a gated promotion's report is missing, altered or not passing",
    "AUDIT_MISMATCH": "a field naming who did it (promoted_by, built_by, …) names someone else than the signer",
    "RISK_UNAPPROVED": "a freeze or promotion lacks the extra signatures a risk rule of the policy requires",
    "VALUE_UNREADABLE": "a check met a value it cannot read and stopped there (its other findings stand)",
    "EVENT_BACKDATED": "an event is dated before the event it follows, the policy it names, or its base's newest event",
    "EVENT_IN_FUTURE": "an event is dated after the verifier's clock",
    "REGISTRY_EXPIRED": "the policy is expired at the verifier's clock",
    "POLICY_MISSING": "the repository has no trust policy: nothing in it can be verified",
    "CONFIG_UNSIGNED": "the registry has a registry.yaml but no signed configuration",
    "CONFIG_DRIFT": "registry.yaml differs from the signed configuration",
    "PATH_UNAPPROVED": "a file under a protected path changed without an approval signed by its role",
    "TRUSTED_ROOT_UNSIGNED": "a pinned Sigstore trusted root was added, edited or removed without a policy event",
    "CONFIG_NOT_FOLLOWED": "a promotion or a bundle did not follow the signed configuration in force",
    "VENDOR_UNTRUSTED": "a vendor's imported records do not verify under the root this registry pins for it",
    "CROSSING_NOT_PERMITTED": "a vendor package was installed without the vendor's permit for this registry",
    "PAYLOAD_CROSSED": "a vendor's method crossed although its crossing terms do not permit it (or not as frozen)",
}


@dataclass(frozen=True)
class Finding:
    path: str
    code: str
    message: str
    scope: str = ""
    invariant: Invariant | None = None
    hint: str = ""

    @property
    def rule(self) -> str:
        """The name of the invariant it cites ("" when none)."""
        return self.invariant.name if self.invariant is not None else ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "code": self.code,
            "message": self.message,
            "scope": self.scope,
            "invariant": self.rule,
            "hint": self.hint,
        }

    def line(self) -> str:
        rule = f" [{self.rule}]" if self.rule else ""
        return f"{self.code} {self.path}: {self.message}{rule}"


def report_order(findings: Iterable[Finding]) -> list[Finding]:
    """Unique findings by path; line numbers in numeric order (``:2`` before ``:10``)."""

    def key(f: Finding) -> tuple[str, int, str, str, str]:
        base, _, line = f.path.rpartition(":")
        if base and line.isdigit():
            return (base, int(line), f.code, f.message, f.hint)
        return (f.path, 0, f.code, f.message, f.hint)

    return sorted(set(findings), key=key)


def collect(check: Callable[[], Iterable[Finding]], name: str) -> list[Finding]:
    """Every finding of one check. Verification never stops early: a value the check cannot read
    (an error raised on the way, where a malformed value should have been a finding) stops that
    check only, and is a finding itself, so the report still holds every other finding."""
    found: list[Finding] = []
    try:
        found.extend(check())
    except DocketError as exc:
        found.append(
            Finding(
                ".",
                "VALUE_UNREADABLE",
                f"the {name.replace('_', ' ')} check stopped at a value it cannot read: {exc.message}",
                hint="a log or document holds a malformed value; restore it from git history, and report "
                "this: such a value should be its own finding",
            )
        )
    return found
