"""Verify reads YAML documents only through the parser its caller passes (the pure layers import
no YAML library): what that parser returns is validated against the document's model, and
what it refuses becomes a finding."""

from __future__ import annotations

from typing import Any

from gitdocket.core.documents import REGISTRY_YAML
from gitdocket.core.tree import MemoryTree
from gitdocket.errors import InputError
from gitdocket.verify import verify_snapshot
from gitdocket.verify.findings import Finding

RAW = b"name: test registry\n"


def _document_findings(parse_yaml: Any) -> list[Finding]:
    findings = verify_snapshot(MemoryTree({REGISTRY_YAML: RAW}), parse_yaml=parse_yaml)
    return [f for f in findings if f.code == "DOCUMENT_INVALID"]


def test_the_given_parser_reads_registry_yaml() -> None:
    calls: list[tuple[bytes, str]] = []

    def parse(raw: bytes, where: str) -> dict[str, Any]:
        calls.append((raw, where))
        return {"name": "test registry"}

    assert _document_findings(parse) == []
    assert calls == [(RAW, REGISTRY_YAML)]


def test_what_the_parser_refuses_is_a_finding() -> None:
    def refuse(_raw: bytes, where: str) -> dict[str, Any]:
        raise InputError(f"{where}: line 1: invalid YAML: boom", "fix the YAML syntax")

    (finding,) = _document_findings(refuse)
    assert (finding.path, finding.message) == (REGISTRY_YAML, "line 1: invalid YAML: boom")


def test_what_the_parser_returns_is_validated() -> None:
    (finding,) = _document_findings(lambda _raw, _where: {"name": "x", "colour": "red"})
    assert finding.message == "colour: Extra inputs are not permitted"
