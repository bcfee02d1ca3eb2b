"""``gitdocket contracts generate|check|seal|validate`` on a copy of this checkout: exit codes 0
(ok), 1 (drift, a changed seal, an invalid document), 2 (bad input), and never a traceback."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from gitdocket.commands import cli
from gitdocket.verify.contracts import CONTRACTS
from tests.support import ROOT, Result, run_cli, run_process

EVENT_SCHEMA = "contracts/event.v1/schema.json"


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """A copy of this project's contracts/, examples/ and invalid test documents."""
    root = tmp_path / "checkout"
    for folder in ("contracts", "examples", "tests/data/contracts"):
        shutil.copytree(ROOT / folder, root / folder)
    return root


def contracts(*args: str | Path) -> Result:
    result = run_cli("contracts", *args)
    assert "Traceback" not in result.err
    return result


def _edit(path: Path, change: str) -> None:
    schema = json.loads(path.read_text())
    if change == "pattern":
        schema["properties"]["at"]["pattern"] = ".*"
    else:
        schema["description"] = "Reworded."
    path.write_text(json.dumps(schema, indent=2, sort_keys=True) + "\n")


# -- generate -------------------------------------------------------------------------------------


def test_generate_check_passes_on_the_committed_contracts(checkout: Path) -> None:
    result = contracts("generate", "--check", "--root", checkout)
    assert result.code == 0, result.err
    assert result.out == f"{len(CONTRACTS)} contract schema(s) match their models\n"


def test_generate_check_fails_when_a_schema_is_stale_and_writes_nothing(checkout: Path) -> None:
    _edit(checkout / EVENT_SCHEMA, "description")
    before = (checkout / EVENT_SCHEMA).read_bytes()
    result = contracts("generate", "--check", "--root", checkout)
    assert result.code == 1
    assert f"{EVENT_SCHEMA}: differs from what the models generate" in result.out
    assert "hint: run `gitdocket contracts generate`" in result.err
    assert (checkout / EVENT_SCHEMA).read_bytes() == before


def test_generate_rewrites_stale_and_missing_schemas(checkout: Path) -> None:
    _edit(checkout / EVENT_SCHEMA, "description")
    shutil.rmtree(checkout / "contracts" / "policy.v1")
    result = contracts("generate", "--root", checkout)
    assert result.code == 0, result.err
    assert EVENT_SCHEMA in result.out and "contracts/policy.v1/schema.json" in result.out
    for path in (EVENT_SCHEMA, "contracts/policy.v1/schema.json"):
        assert (checkout / path).read_bytes() == (ROOT / path).read_bytes()
    assert contracts("generate", "--check", "--root", checkout).code == 0


def test_generate_fails_on_an_orphan_unsealed_schema(checkout: Path) -> None:
    orphan = checkout / "contracts" / "old_thing.v1"
    orphan.mkdir()
    (orphan / "schema.json").write_text("{}\n")
    result = contracts("generate", "--root", checkout, "--format", "json")
    assert result.code == 1
    report = result.json()
    assert report["ok"] is False
    assert report["problems"][0]["path"] == "contracts/old_thing.v1/schema.json"


def test_generate_refuses_a_folder_without_contracts(tmp_path: Path) -> None:
    result = contracts("generate", "--root", tmp_path)
    assert result.code == 2
    assert "no contracts/ folder" in result.err and "--root" in result.err
    assert list(tmp_path.iterdir()) == [tmp_path / "home"]


# -- check and seal -------------------------------------------------------------------------------


def test_check_passes_on_the_committed_seal(checkout: Path) -> None:
    result = contracts("check", "--root", checkout)
    assert result.code == 0, result.err
    assert "sealed contract(s) unchanged" in result.out


def test_check_fails_when_a_sealed_schema_changes(checkout: Path) -> None:
    _edit(checkout / EVENT_SCHEMA, "pattern")
    result = contracts("check", "--root", checkout)
    assert result.code == 1
    assert f"{EVENT_SCHEMA}: sealed contract event_v1 changed what it validates" in result.out
    assert "event_v2" in result.err


def test_check_ignores_wording_changes(checkout: Path) -> None:
    _edit(checkout / EVENT_SCHEMA, "description")
    assert contracts("check", "--root", checkout).code == 0
    assert contracts("generate", "--check", "--root", checkout).code == 1  # but the file is stale


def test_check_without_a_seal_asks_to_seal(checkout: Path) -> None:
    (checkout / "contracts" / "contracts.seal.json").unlink()
    result = contracts("check", "--root", checkout, "--format", "json")
    assert result.code == 1
    assert {p["message"].split()[1] for p in result.json()["problems"]} >= {"event_v1", "policy_v1"}
    assert "gitdocket contracts seal" in result.err


def test_seal_adds_only_missing_entries(checkout: Path) -> None:
    seal_path = checkout / "contracts" / "contracts.seal.json"
    original = seal_path.read_bytes()
    seal = json.loads(original)
    del seal["contracts"]["event_v1"]
    seal_path.write_text(json.dumps(seal))
    result = contracts("seal", "--root", checkout)
    assert result.code == 0, result.err
    assert result.out == "sealed event_v1\n"
    assert seal_path.read_bytes() == original
    again = contracts("seal", "--root", checkout)
    assert again.code == 0 and "nothing to seal" in again.out
    assert seal_path.read_bytes() == original


def test_seal_never_rewrites_a_changed_sealed_contract(checkout: Path) -> None:
    _edit(checkout / EVENT_SCHEMA, "pattern")
    seal_path = checkout / "contracts" / "contracts.seal.json"
    before = seal_path.read_bytes()
    result = contracts("seal", "--root", checkout)
    assert result.code == 1
    assert "seal only what the models generate" in result.err
    assert seal_path.read_bytes() == before


def test_a_corrupt_seal_is_an_error_naming_the_file(checkout: Path) -> None:
    (checkout / "contracts" / "contracts.seal.json").write_text('{"contracts": 1}')
    result = contracts("check", "--root", checkout)
    assert result.code == 1
    assert "contracts/contracts.seal.json: not a seal file" in result.err


# -- validate -------------------------------------------------------------------------------------


def test_validate_every_example_by_its_folder(checkout: Path) -> None:
    files = sorted(str(p) for p in (checkout / "examples").glob("*.v*/*"))
    result = contracts("validate", *files, "--root", checkout)
    assert result.code == 0, result.err + result.out
    assert "ok (registry_config_v1)" in result.out and "history.jsonl:3: ok (event_v1)" in result.out


def test_validate_prints_one_line_per_failure_with_its_json_path(checkout: Path) -> None:
    bad = checkout / "tests/data/contracts/policy.v1/threshold-zero.json"
    good = checkout / "examples/policy.v1/two-roots.json"
    result = contracts("validate", bad, good, "--root", checkout)
    assert result.code == 1
    assert result.out.splitlines() == [
        f"{bad}: $.roles.root.threshold: 0 is less than the minimum of 1",
        f"{good}: ok (policy_v1)",
    ]
    assert "error: 1 of 2 document(s) do not match their contract" in result.err


def test_validate_json_format(checkout: Path) -> None:
    bad = checkout / "tests/data/contracts/archetype.v1/public-posture.yaml"
    result = contracts("validate", bad, "--root", checkout, "--format", "json")
    assert result.code == 1
    [document] = result.json()["documents"]
    assert document["kind"] == "archetype_v1" and document["ok"] is False
    assert document["problems"][0]["path"] == "$.protection.deployment_mode"
    assert document["problems"][0]["message"].startswith("'public' is not one of")


@pytest.mark.parametrize("kind", ["agent_config_v1", "agent_config.v1"])
def test_validate_with_an_explicit_kind(checkout: Path, tmp_path: Path, kind: str) -> None:
    loose = tmp_path / "config.json"
    loose.write_text('{"model": {"provider": "anthropic", "name": "claude-sonnet"}}')
    result = contracts("validate", loose, "--kind", kind, "--root", checkout)
    assert result.code == 0, result.err
    assert result.out == f"{loose}: ok (agent_config_v1)\n"


def test_validate_unknown_kind_names_the_known_ones(checkout: Path) -> None:
    result = contracts(
        "validate",
        checkout / "examples/policy.v1/two-roots.json",
        "--kind",
        "release_bundle_v9",
        "--root",
        checkout,
    )
    assert result.code == 2
    assert "unknown contract kind 'release_bundle_v9'" in result.err
    for known in ("event_v1", "policy_v1", "version_state_v1", "verify_report_v1"):
        assert known in result.err


def test_validate_a_document_of_unknown_kind_asks_for_kind(checkout: Path, tmp_path: Path) -> None:
    loose = tmp_path / "doc.json"
    loose.write_text("{}")
    result = contracts("validate", loose, "--root", checkout)
    assert result.code == 2
    assert "cannot tell its contract kind" in result.err and "--kind" in result.err


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        pytest.param("{", "invalid JSON", id="bad-json"),
        pytest.param('{"a": 1, "a": 2}', "duplicate key", id="duplicate-key"),
    ],
)
def test_validate_unparseable_documents_exit_2(checkout: Path, content: str, expected: str) -> None:
    doc = checkout / "examples" / "policy.v1" / "broken.json"
    doc.write_text(content)
    result = contracts("validate", doc, "--root", checkout)
    assert result.code == 2
    assert expected in result.err and "broken.json" in result.err


def test_validate_a_missing_file_is_a_usage_error(checkout: Path) -> None:
    result = contracts("validate", checkout / "nope.json", "--root", checkout)
    assert result.code == 2
    assert "does not exist" in result.err


def test_failures_in_a_real_process_have_no_traceback(checkout: Path) -> None:
    _edit(checkout / EVENT_SCHEMA, "pattern")
    result = run_process("contracts", "check", "--root", checkout)
    assert result.code == 1
    assert result.err.startswith("error: contracts: 1 problem(s)")
    assert "Traceback" not in result.err


def test_every_contracts_command_and_option_has_help() -> None:
    group = cli.commands["contracts"]
    assert group.help
    for name, command in group.commands.items():  # type: ignore[attr-defined]
        assert command.help, name
        for param in command.params:
            if param.param_type_name == "option":
                assert param.help, f"{name} {param.name}"
        assert contracts(name, "--help").code == 0
