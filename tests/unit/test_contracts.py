"""Contract integrity (seed 003, gate 1): every schema is a draft 2020-12 schema, the committed
schemas are exactly what the models generate, every golden document validates by kind, the
seal catches a changed contract, and kinds resolve (or fail naming the known ones)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from gitdocket.adapters.files import load_yaml
from gitdocket.core.canonical import loads_strict, render
from gitdocket.core.log import iter_lines
from gitdocket.core.model import Record
from gitdocket.errors import InputError, StateError
from gitdocket.verify import contracts, seal
from gitdocket.verify.findings import Finding
from gitdocket.verify.report import VerifyReport

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
INVALID = ROOT / "tests" / "data" / "contracts"


def _committed() -> dict[str, bytes]:
    return {
        f"contracts/{d.name}/schema.json": (d / "schema.json").read_bytes()
        for d in sorted((ROOT / "contracts").iterdir())
        if (d / "schema.json").is_file()
    }


COMMITTED = _committed()
SEAL = seal.parse_seal((ROOT / contracts.SEAL_PATH).read_bytes())
REGENERATE = "run `gitdocket contracts generate` and commit the result"


def _documents(path: Path) -> list[tuple[str, Any]]:
    data = path.read_bytes()
    if path.suffix in (".yaml", ".yml"):
        return [(path.name, load_yaml(data, str(path)))]
    if path.suffix == ".jsonl":
        return [(f"{path.name}:{n}", loads_strict(line, path.name)) for n, line in iter_lines(data)]
    return [(path.name, loads_strict(data, str(path)))]


def _example_files(base: Path) -> list[Path]:
    return sorted(p for p in base.glob("*.v*/*") if p.is_file())


# -- schemas --------------------------------------------------------------------------------------


@pytest.mark.parametrize("contract", sorted(contracts.CONTRACTS))
def test_generated_schema_is_valid_draft_2020_12(contract: str) -> None:
    schema = contracts.schema_for(contract)
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == f"https://docket.dev/contracts/{contracts.folder(contract)}/schema.json"
    assert schema["title"] == contract


@pytest.mark.parametrize("path", sorted(COMMITTED))
def test_committed_schema_is_valid_draft_2020_12(path: str) -> None:
    schema = json.loads(COMMITTED[path])
    Draft202012Validator.check_schema(schema)
    assert schema["$id"].endswith(path.removeprefix("contracts/"))


@pytest.mark.parametrize("contract", sorted(contracts.CONTRACTS))
def test_generated_equals_committed(contract: str) -> None:
    path = contracts.schema_path(contract)
    assert path in COMMITTED, f"{path} is missing: {REGENERATE}"
    assert contracts.schema_bytes(contract) == COMMITTED[path], f"{path} is stale: {REGENERATE}"


def test_no_drift_at_all() -> None:
    problems = contracts.drift(contracts.generate(), COMMITTED, SEAL)
    assert problems == [], f"{[p.line() for p in problems]}: {REGENERATE}"


def test_generation_is_deterministic() -> None:
    first, second = contracts.generate(), contracts.generate()
    assert first == second
    for data in first.values():
        assert data.endswith(b"}\n")
        assert render(json.loads(data)) == data  # sorted keys, two-space indent, trailing newline
        assert b'\n  "$id": "https://docket.dev/contracts/' in data  # top-level keys at two spaces


def test_written_contracts_require_every_field_authored_ones_do_not() -> None:
    version = contracts.schema_for("version_state_v1")
    assert set(version["required"]) == set(version["properties"])  # gitdocket writes every field
    assert "log" in version["required"]
    registry = contracts.schema_for("registry_config_v1")
    assert registry["required"] == ["name"]  # people may omit defaulted fields


def test_field_titles_are_not_generated() -> None:
    schema = contracts.schema_for("event_v1")
    assert all("title" not in prop for prop in schema["properties"].values())


def test_adding_a_set_of_contracts_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    class Demo(Record):
        """A demo document."""

        name: str

    monkeypatch.setattr(contracts, "CONTRACTS", {**contracts.CONTRACTS})
    contracts.CONTRACTS.update({"demo_thing_v1": Demo})
    generated = contracts.generate()
    schema = json.loads(generated["contracts/demo_thing.v1/schema.json"])
    assert schema["$id"] == "https://docket.dev/contracts/demo_thing.v1/schema.json"
    assert schema["required"] == ["name"]


@pytest.mark.parametrize(
    ("contract", "folder"),
    [
        pytest.param("release_bundle_v1", "release_bundle.v1", id="two-words"),
        pytest.param("event_v1", "event.v1", id="one-word"),
        pytest.param("gate_v12", "gate.v12", id="two-digit-version"),
    ],
)
def test_contract_id_and_folder_map_both_ways(contract: str, folder: str) -> None:
    assert contracts.folder(contract) == folder
    assert contracts.contract_of_folder(folder) == contract


@pytest.mark.parametrize("bad", ["event", "Event_v1", "event_v0", "event-v1", "event_v1.json"])
def test_invalid_contract_ids_are_refused(bad: str) -> None:
    with pytest.raises(InputError, match="invalid contract id"):
        contracts.folder(bad)
    assert contracts.contract_of_folder(bad) is None


# -- golden documents -----------------------------------------------------------------------------


def _example_cases() -> list[Any]:
    cases = []
    for path in _example_files(EXAMPLES):
        for label, document in _documents(path):
            cases.append(pytest.param(path, document, id=f"{path.parent.name}/{label}"))
    return cases


@pytest.mark.parametrize(("path", "document"), _example_cases())
def test_every_example_validates_by_kind(path: Path, document: Any) -> None:
    kind = contracts.resolve_kind(None, path.parts, document, contracts.CONTRACTS)
    assert kind == contracts.contract_of_folder(path.parent.name)
    assert contracts.problems_in(contracts.schema_for(kind), document) == []
    contracts.CONTRACTS[kind].model_validate(document)  # the model agrees with its schema


def test_every_contract_has_an_example() -> None:
    kinds = {contracts.contract_of_folder(p.parent.name) for p in _example_files(EXAMPLES)}
    assert set(contracts.CONTRACTS) <= kinds, f"no examples for {set(contracts.CONTRACTS) - kinds}"


@pytest.mark.parametrize(
    "path",
    sorted(EXAMPLES.glob("archetypes/*/archetype.yaml"))
    + sorted(EXAMPLES.glob("archetypes/*/method/.agent-config.json")),
    ids=lambda p: f"{p.parts[-3]}/{p.name}" if p.suffix == ".json" else p.parent.name,
)
def test_sample_archetypes_validate_by_their_place(path: Path) -> None:
    [(_, document)] = _documents(path)
    kind = contracts.resolve_kind(None, path.parts, document, contracts.CONTRACTS)
    assert kind in {"archetype_v1", "agent_config_v1"}
    assert contracts.problems_in(contracts.schema_for(kind), document) == []


INVALID_CASES = [
    pytest.param("agent_config.v1/no-model.json", "$: 'model' is a required property", id="missing-field"),
    pytest.param(
        "archetype.v1/public-posture.yaml",
        "$.protection.deployment_mode: 'public' is not one of ['private/federated', 'attested']",
        id="enum-in-yaml",
    ),
    pytest.param("event.v1/bad-timestamp.json", "$.at: '2026-01-01 00:00:00' does not match", id="pattern"),
    pytest.param(
        "event.v1/unknown-signature-kind.json",
        "$.signatures[0]: the object is not valid under any of the given schemas",
        id="union-long-instance-shortened",
    ),
    pytest.param(
        "package_manifest.v1/wrong-contract.json",
        "$.contract: 'package_manifest_v1' was expected",
        id="const-contract",
    ),
    pytest.param(
        "policy.v1/threshold-zero.json",
        "$.roles.root.threshold: 0 is less than the minimum of 1",
        id="minimum-in-map",
    ),
    pytest.param(
        "registry_config.v1/misspelled-field.yaml",
        "$: Additional properties are not allowed ('retain' was unexpected)",
        id="extra-field",
    ),
    pytest.param(
        "verify_report.v1/bad-code.json",
        "$.findings[0].code: 'unexpected-file' does not match",
        id="finding-code",
    ),
    pytest.param(
        "version_state.v1/bad-file-digest.json",
        "$.snapshot.manifest['instructions.md'].sha256: 'not-a-digest' does not match",
        id="deep-path",
    ),
    pytest.param(
        "version_state.v1/missing-log.json",
        "$: 'log' is a required property",
        id="current-needs-log",
    ),
]


@pytest.mark.parametrize(("name", "expected"), INVALID_CASES)
def test_invalid_documents_fail_with_their_json_path(name: str, expected: str) -> None:
    path = INVALID / name
    [(_, document)] = _documents(path)
    kind = contracts.resolve_kind(None, path.parts, document, contracts.CONTRACTS)
    problems = contracts.problems_in(contracts.schema_for(kind), document)
    assert len(problems) == 1
    assert problems[0].startswith(expected)
    assert "\n" not in problems[0] and len(problems[0]) < 260


def test_every_invalid_fixture_is_tested() -> None:
    tested = {case.values[0] for case in INVALID_CASES}
    assert {p.relative_to(INVALID).as_posix() for p in _example_files(INVALID)} == tested


def test_several_failures_are_one_sorted_line_each() -> None:
    document = {
        "seq": 0,
        "prev": None,
        "at": "now",
        "type": "X",
        "actor": "",
        "data": {},
        "policy_version": 1,
        "signatures": [],
    }
    problems = contracts.problems_in(contracts.schema_for("event_v1"), document)
    assert [p.split(":")[0] for p in problems] == ["$.actor", "$.at", "$.seq", "$.type"]


# -- kinds ----------------------------------------------------------------------------------------


def test_unknown_kind_is_an_error_naming_the_known_ones() -> None:
    with pytest.raises(InputError) as caught:
        contracts.known_kind("release_bundle_v9", contracts.CONTRACTS)
    for known in contracts.CONTRACTS:
        assert known in caught.value.message
    assert "--kind" in caught.value.hint


def test_unknown_example_folder_names_the_known_kinds() -> None:
    with pytest.raises(InputError, match=r"unknown contract kind 'nothing_v1'.*event_v1"):
        contracts.resolve_kind(None, ("examples", "nothing.v1", "a.json"), {}, contracts.CONTRACTS)


def test_a_document_of_no_known_place_needs_kind() -> None:
    with pytest.raises(InputError, match=r"cannot tell its contract kind.*agent_config_v1"):
        contracts.resolve_kind(None, ("tmp", "doc.json"), {"a": 1}, contracts.CONTRACTS)


@pytest.mark.parametrize(
    ("explicit", "parts", "data", "expected"),
    [
        pytest.param("event_v1", ("examples", "policy.v1", "x.json"), {}, "event_v1", id="flag-wins"),
        pytest.param("event.v1", ("x.json",), {}, "event_v1", id="flag-folder-form"),
        pytest.param(
            None,
            ("examples", "policy.v1", "x.json"),
            {"contract": "event_v1"},
            "policy_v1",
            id="folder-before-field",
        ),
        pytest.param(
            None,
            ("reg", "registry", "versions", "a", "1.0.0", "current.json"),
            {},
            "version_state_v1",
            id="version-current",
        ),
        pytest.param(
            None,
            ("/", "tmp", "r", "registry", "policy", "current.json"),
            {},
            "policy_v1",
            id="policy-current-absolute",
        ),
        pytest.param(
            None,
            ("registry", "packages", "a", "1.0.0", "history.jsonl"),
            {},
            "event_v1",
            id="history-line",
        ),
        pytest.param(
            None,
            ("registry", "archetypes", "a", "current.json"),
            {},
            "archetype_state_v1",
            id="archetype-current",
        ),
        pytest.param(
            None,
            ("registry", "archetypes", "a", "archetype.yaml"),
            {},
            "archetype_v1",
            id="archetype-yaml",
        ),
        pytest.param(None, ("registry", "registry.yaml"), {}, "registry_config_v1", id="registry-yaml"),
        pytest.param(None, ("m", ".agent-config.json"), {}, "agent_config_v1", id="agent-config"),
        pytest.param(
            None,
            ("out", "p.json"),
            {"contract": "package_manifest_v1"},
            "package_manifest_v1",
            id="contract-field",
        ),
    ],
)
def test_kind_resolution(explicit: str | None, parts: tuple[str, ...], data: Any, expected: str) -> None:
    assert contracts.resolve_kind(explicit, parts, data, contracts.CONTRACTS) == expected


def test_a_sealed_segment_holds_events() -> None:
    """A log's sealed segments (ADR 0037) are validated as its lines are; nothing else in the
    folder is."""
    segment = ("deployments", "prod", "history", "000000001.jsonl")
    assert contracts.registry_contract(segment) == "event_v1"
    assert contracts.registry_contract(("deployments", "prod", "history", "notes.jsonl")) is None
    assert contracts.registry_contract(("notes", "history", "000000001.jsonl")) is None


def test_a_folder_that_is_not_a_scope_has_no_registry_contract() -> None:
    assert contracts.registry_contract(("registry", "versions", "Bad Name", "1.0.0", "current.json")) is None
    assert contracts.registry_contract(("notes", "current.json")) is None
    assert contracts.registry_contract(()) is None


# -- the seal -------------------------------------------------------------------------------------


def _with(path: str, schema: dict[str, Any]) -> dict[str, bytes]:
    return {**COMMITTED, path: render(schema)}


def test_committed_seal_covers_every_contract_unchanged() -> None:
    assert seal.seal_problems(SEAL, COMMITTED) == []
    assert set(contracts.CONTRACTS) <= set(SEAL)


def test_seal_detects_a_changed_schema() -> None:
    path = contracts.schema_path("event_v1")
    schema = json.loads(COMMITTED[path])
    schema["properties"]["at"]["pattern"] = ".*"
    [problem] = seal.seal_problems(SEAL, _with(path, schema))
    assert problem.path == path
    assert "event_v1 changed what it validates" in problem.message
    assert "event_v2" in problem.hint and "gitdocket contracts generate" in problem.hint


def test_seal_catches_a_change_to_a_property_named_like_an_annotation() -> None:
    path = contracts.schema_path("archetype_v1")
    schema = json.loads(COMMITTED[path])
    schema["properties"]["description"]["type"] = "integer"
    [problem] = seal.seal_problems(SEAL, _with(path, schema))
    assert "changed what it validates" in problem.message


def test_wording_changes_keep_the_seal() -> None:
    path = contracts.schema_path("version_state_v1")
    schema = json.loads(COMMITTED[path])
    schema["description"] = "Reworded."
    schema["$defs"]["Posture"]["description"] = "Also reworded."
    schema["$defs"]["FileEntry"]["title"] = "Renamed"
    assert seal.seal_problems(SEAL, _with(path, schema)) == []


def test_seal_reports_a_missing_sealed_schema_and_an_unsealed_one() -> None:
    committed = dict(COMMITTED)
    del committed[contracts.schema_path("policy_v1")]
    partial = {k: v for k, v in SEAL.items() if k != "event_v1"}
    problems = seal.seal_problems(partial, committed)
    assert [(p.path, p.message) for p in problems] == [
        ("contracts/event.v1/schema.json", "contract event_v1 is not sealed"),
        ("contracts/policy.v1/schema.json", "sealed contract policy_v1 is missing"),
    ]


def test_sealing_adds_new_entries_and_never_rewrites_old_ones() -> None:
    partial = {k: v for k, v in SEAL.items() if k != "event_v1"}
    entries, added = seal.sealed_with(partial, COMMITTED)
    assert added == ["event_v1"]
    assert entries == SEAL
    path = contracts.schema_path("policy_v1")
    schema = json.loads(COMMITTED[path])
    schema["required"] = ["phase"]
    with pytest.raises(StateError, match="policy_v1 changed what it validates"):
        seal.sealed_with(partial, _with(path, schema))


def test_seal_file_is_deterministic_and_round_trips() -> None:
    data = seal.render_seal(dict(reversed(list(SEAL.items()))))
    assert data == (ROOT / contracts.SEAL_PATH).read_bytes()
    assert seal.parse_seal(data) == SEAL
    assert seal.parse_seal(None) == {}


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"[]", id="not-an-object"),
        pytest.param(b'{"algorithm": "md5", "contracts": {}}', id="other-algorithm"),
        pytest.param(
            b'{"algorithm": "sha256-rfc8785-normative", "contracts": {"x": "sha256:00"}}',
            id="bad-entry",
        ),
    ],
)
def test_a_corrupt_seal_is_refused(data: bytes) -> None:
    with pytest.raises(StateError, match="not a seal file"):
        seal.parse_seal(data)


def test_normative_form_strips_only_annotations() -> None:
    schema = {
        "title": "T",
        "description": "D",
        "$comment": "C",
        "examples": [1],
        "type": "object",
        "properties": {"title": {"type": "string", "description": "kept key, dropped text"}},
        "anyOf": [{"title": "x", "minimum": 1}],
        "items": {"description": "d", "type": "integer"},
    }
    assert seal.normative(schema) == {
        "type": "object",
        "properties": {"title": {"type": "string"}},
        "anyOf": [{"minimum": 1}],
        "items": {"type": "integer"},
    }


def test_normative_form_inlines_references() -> None:
    schema = {
        "$defs": {
            "Node": {"type": "object", "properties": {"next": {"$ref": "#/$defs/Node"}}},
            "Leaf": {"title": "Leaf", "type": "integer"},
        },
        "properties": {
            "leaf": {"$ref": "#/$defs/Leaf", "description": "only wording beside the ref"},
            "bounded": {"$ref": "#/$defs/Leaf", "maximum": 3},
            "node": {"$ref": "#/$defs/Node"},
        },
    }
    node = {"type": "object", "properties": {"next": {"$ref": "#/$defs/Node"}}}
    assert seal.normative(schema) == {
        "properties": {
            "leaf": {"type": "integer"},
            "bounded": {"maximum": 3, "allOf": [{"type": "integer"}]},
            "node": node,  # the recursive reference stays a reference
        },
    }


def test_renaming_a_nested_model_keeps_the_seal() -> None:
    path = contracts.schema_path("event_v1")
    text = COMMITTED[path].decode().replace("SshSignature", "SshSignatureEntry")
    assert text != COMMITTED[path].decode()
    assert seal.seal_problems(SEAL, {**COMMITTED, path: text.encode()}) == []


# -- drift ----------------------------------------------------------------------------------------


def test_drift_names_missing_stale_and_orphan_schemas() -> None:
    generated = contracts.generate()
    committed = {
        **COMMITTED,
        "contracts/old_thing.v1/schema.json": b"{}\n",
        "contracts/NotAContract/schema.json": b"{}\n",
        contracts.schema_path("event_v1"): b"{}\n",
    }
    del committed[contracts.schema_path("policy_v1")]
    problems = contracts.drift(generated, committed, SEAL)
    assert [(p.path, p.message) for p in problems] == [
        ("contracts/policy.v1/schema.json", "missing: not generated yet"),
        ("contracts/event.v1/schema.json", "differs from what the models generate"),
        (
            "contracts/NotAContract/schema.json",
            "not a contract folder (contracts/<name>.v<N>/schema.json)",
        ),
        (
            "contracts/old_thing.v1/schema.json",
            "no model in CONTRACTS generates it and it is not sealed",
        ),
    ]
    assert problems[0].hint == REGENERATE


def test_a_sealed_schema_without_a_model_is_a_kept_old_version() -> None:
    committed = {**COMMITTED, "contracts/old_thing.v1/schema.json": b"{}\n"}
    assert contracts.drift(contracts.generate(), committed, {**SEAL, "old_thing_v1": "sha256:" + "0" * 64}) == []


# -- the verify report ----------------------------------------------------------------------------


def test_verify_report_is_built_from_findings() -> None:
    finding = Finding(
        "registry/x",
        "UNEXPECTED_FILE",
        "no lifecycle writes this file",
        "package a/1.0.0",
        hint="remove it",
    )
    report = VerifyReport.of([finding], "snapshot", "a" * 40)
    assert report.ok is False
    document = report.model_dump(mode="json")
    assert contracts.problems_in(contracts.schema_for("verify_report_v1"), document) == []
    assert document["findings"][0] == finding.as_dict()


def test_verify_report_ok_means_no_findings() -> None:
    with pytest.raises(ValueError, match="ok must be true exactly when"):
        VerifyReport(ok=False, mode="snapshot", commit=None, findings=())


def test_the_contracts_page_lists_every_contract() -> None:
    page = (ROOT / "docs" / "contracts.md").read_text()
    missing = [c for c in contracts.CONTRACTS if f"| `{c}` |" not in page]
    assert missing == [], f"add {missing} to the table in docs/contracts.md"
