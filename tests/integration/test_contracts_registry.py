"""What gitdocket writes is what its contracts promise: every document of a real registry (each
``current.json``, every history line, ``archetype.yaml``, ``registry.yaml``,
``.agent-config.json``) and ``gitdocket verify --format json`` validate against the contract schemas
pinned in the registry by ``gitdocket init``."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

from gitdocket.adapters.files import load_yaml
from gitdocket.core.canonical import loads_strict
from gitdocket.core.log import iter_lines
from gitdocket.verify import contracts
from gitdocket.verify.report import VerifyReport
from tests.support import ROOT, Registry, run_cli


def _pinned_schemas(root: Path) -> dict[str, Any]:
    return {
        contracts.contract_of_folder(d.name): json.loads((d / "schema.json").read_text())
        for d in (root / "contracts").iterdir()
        if (d / "schema.json").is_file()
    }


def _documents(root: Path) -> list[tuple[str, str, Any]]:
    """(label, contract, document) for every registry document gitdocket knows a contract for."""
    out = []
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if ".git" in rel.parts or not path.is_file():
            continue
        contract = contracts.registry_contract(rel.parts)
        if contract is None:
            continue
        data = path.read_bytes()
        if path.name == "history.jsonl":
            out += [(f"{rel}:{n}", contract, loads_strict(line, str(rel))) for n, line in iter_lines(data)]
        elif path.suffix == ".yaml":
            out.append((str(rel), contract, load_yaml(data, str(rel))))
        else:
            out.append((str(rel), contract, loads_strict(data, str(rel))))
    return out


def _busy_registry(registry: Registry) -> None:
    registry.add_archetype()
    registry.ok("version", "freeze", "support-triage", "1.0.0")
    registry.ok("package", "publish", "support-triage", "1.0.0")
    registry.ok("version", "draft", "support-triage", "1.1.0")
    registry.add_archetype("release-notes")
    registry.ok("version", "freeze", "release-notes", "0.9.0")
    registry.ok("version", "retire", "release-notes", "0.9.0", "--reason", "superseded")


def test_every_registry_document_validates_against_its_pinned_contract(registry: Registry) -> None:
    _busy_registry(registry)
    schemas = _pinned_schemas(registry.path)
    assert set(contracts.CONTRACTS) <= set(schemas)  # gitdocket init pins every contract
    documents = _documents(registry.path)
    failures = [
        f"{label}: {p}" for label, contract, doc in documents for p in contracts.problems_in(schemas[contract], doc)
    ]
    assert failures == []
    kinds = Counter(contract for _, contract, _ in documents)
    assert kinds["version_state_v1"] == 3 and kinds["package_manifest_v1"] == 1
    assert kinds["policy_v1"] == kinds["registry_config_v1"] == 1
    assert kinds["archetype_state_v1"] == kinds["archetype_v1"] == 2
    assert kinds["agent_config_v1"] >= 4  # the archetypes' drafts and the frozen snapshots
    assert kinds["event_v1"] >= 10


def test_the_pinned_contracts_are_this_checkouts_and_sealed(registry: Registry) -> None:
    for path in sorted((ROOT / "contracts").glob("*/schema.json")):
        assert (registry.path / path.relative_to(ROOT)).read_bytes() == path.read_bytes()
    result = run_cli("contracts", "check", "--root", registry.path)
    assert result.code == 0, result.err


def test_validate_a_registry_file_by_its_place(registry: Registry) -> None:
    _busy_registry(registry)
    current = registry.path / "registry/versions/support-triage/1.0.0/current.json"
    history = registry.path / "registry/versions/support-triage/1.0.0/history.jsonl"
    result = run_cli("contracts", "validate", current, history, "--root", registry.path)
    assert result.code == 0, result.err
    assert f"{current}: ok (version_state_v1)" in result.out
    assert f"{history}:3: ok (event_v1)" in result.out


def _verify_report(registry: Registry, expected_code: int) -> dict[str, Any]:
    result = registry.run("verify", "--format", "json", key=None)
    assert result.code == expected_code, result.err
    report: dict[str, Any] = result.json()
    schema = _pinned_schemas(registry.path)["verify_report_v1"]
    assert contracts.problems_in(schema, report) == []
    VerifyReport.model_validate(report)
    return report


def test_verify_output_matches_its_contract(registry: Registry) -> None:
    _busy_registry(registry)
    assert _verify_report(registry, 0)["ok"] is True
    stray = registry.path / "registry/packages/support-triage/1.0.0/notes.txt"
    stray.write_text("hand-written\n")
    registry.git("add", "-A")
    registry.git("commit", "-q", "--no-gpg-sign", "-m", "stray file")
    report = _verify_report(registry, 1)
    assert [f["code"] for f in report["findings"]] == ["UNEXPECTED_FILE"]
