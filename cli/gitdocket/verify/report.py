"""The verification report: what ``gitdocket verify --format json`` prints (contract
``verify_report_v1``).

A finding's ``code`` is any stable code of ``findings.CODES`` (the schema asks only for its
shape, so adding a code never changes the contract). This module only models the document; the
command builds and prints it.
"""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import Field, model_validator

from gitdocket.core.fields import GitOid
from gitdocket.core.model import Record
from gitdocket.verify.findings import Finding

__all__ = ["FindingRecord", "VerifyReport"]


class FindingRecord(Record):
    """One finding: a stable code, where, which scope and rule, what happened, what to do."""

    code: str = Field(pattern=r"^[A-Z][A-Z0-9_]*$")
    path: str
    scope: str
    invariant: str
    message: str = Field(min_length=1)
    hint: str


class VerifyReport(Record):
    """``docket verify --format json``: ``ok`` is true exactly when there are no findings."""

    ok: bool
    mode: str = Field(min_length=1)
    commit: GitOid | None
    findings: tuple[FindingRecord, ...]

    @model_validator(mode="after")
    def _ok_means_no_findings(self) -> VerifyReport:
        if self.ok == bool(self.findings):
            raise ValueError("ok must be true exactly when there are no findings")
        return self

    @classmethod
    def of(cls, findings: Iterable[Finding], mode: str, commit: str | None) -> VerifyReport:
        records = tuple(FindingRecord.model_validate(f.as_dict()) for f in findings)
        return cls(ok=not records, mode=mode, commit=commit, findings=records)
