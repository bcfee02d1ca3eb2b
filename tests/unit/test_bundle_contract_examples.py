"""The golden examples of the release contracts validate against their models, and the models
reject what the contracts forbid."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from gitdocket.verify.contracts import CONTRACT_MODELS, folder

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def example(contract: str) -> dict[str, Any]:
    where = EXAMPLES / folder(contract)
    files = sorted(where.glob("*.json"))
    assert len(files) == 1, where
    data: dict[str, Any] = json.loads(files[0].read_text())
    return data


@pytest.mark.parametrize("contract", sorted(CONTRACT_MODELS))
def test_every_contract_has_a_valid_golden_example(contract: str) -> None:
    doc = example(contract)
    model = CONTRACT_MODELS[contract].model_validate(doc)
    assert doc.get("contract", contract) == contract
    assert model.model_dump(mode="json") == doc or contract in (
        "release_readiness_gate_v1",
        "policy_promotion_readiness_v1",
    )


@pytest.mark.parametrize(
    ("contract", "path", "value"),
    [
        pytest.param("release_bundle_v1", ("contract",), "release_bundle_v2", id="bundle-wrong-contract"),
        pytest.param("release_bundle_v1", ("summary", "evidence_files"), 99, id="bundle-summary-lies"),
        pytest.param("release_bundle_v1", ("surprise",), 1, id="bundle-unknown-field"),
        pytest.param("deployment_state_v2", ("sequence",), -1, id="state-negative-sequence"),
        pytest.param("release_bundle_promotion_v1", ("status",), "maybe", id="promotion-bad-status"),
        pytest.param(
            "release_readiness_gate_v1",
            ("decision",),
            "no-go",
            id="gate-decision-disagrees-with-status",
        ),
        pytest.param("release_readiness_gate_v1", ("summary", "failed"), 3, id="gate-summary-lies"),
        pytest.param(
            "policy_promotion_readiness_v1",
            ("environments", "dev_to_staging", "ready"),
            "yes",
            id="readiness-ready-not-bool",
        ),
    ],
)
def test_models_reject_broken_documents(contract: str, path: tuple[str, ...], value: object) -> None:
    doc = example(contract)
    node = doc
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    with pytest.raises(ValidationError):
        CONTRACT_MODELS[contract].model_validate(doc)


def test_evidence_contracts_keep_unknown_fields() -> None:
    doc = {**example("release_readiness_gate_v1"), "producer": "ci"}
    assert CONTRACT_MODELS["release_readiness_gate_v1"].model_validate(doc).model_dump()["producer"] == "ci"
