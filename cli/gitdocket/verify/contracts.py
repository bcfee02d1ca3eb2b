"""Docket's contracts: the JSON Schemas (draft 2020-12) of every document gitdocket reads or
writes, generated from the pydantic models that are their source of truth.

Names, one scheme everywhere:

- contract id ``<name>_v<N>`` — what code, ``--kind`` and a document's ``contract`` field say
  (``release_bundle_v1``);
- folder ``contracts/<name>.v<N>/schema.json`` and golden documents ``examples/<name>.v<N>/``;
- ``$id`` ``https://docket.dev/contracts/<name>.v<N>/schema.json``.

``CONTRACTS`` maps ids to models. A contract in ``AUTHORED`` is written by people and read by
docket: its schema is pydantic's *validation* schema (fields with defaults may be omitted).
Every other contract is written by docket: its schema is the *serialization* schema with every
field required, because gitdocket always writes every field.

The seal (``contracts/contracts.seal.json``) pins each published contract version to the digest
of its *normative* schema: RFC 8785 bytes without the keywords that do not validate (``title``,
``description``, ``$comment``, ``examples``, ``discriminator``) and with local ``$ref``s inlined.
Wording and model class names may change; what validates never does.

Pure: models → schemas → bytes, comparisons, the seal, validation by kind. Reading and writing
files is the command's job (``commands/contracts_cmd``).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from jsonschema import Draft202012Validator  # type: ignore[import-untyped]  # no stubs shipped
from jsonschema.exceptions import ValidationError, best_match  # type: ignore[import-untyped]
from pydantic import BaseModel, Field
from pydantic.json_schema import GenerateJsonSchema
from pydantic_core import core_schema

from gitdocket.core.batches import PromotionBatch
from gitdocket.core.canonical import render
from gitdocket.core.documents import ArchetypeDoc, BundleManifest, PromotionReport, RegistryConfig
from gitdocket.core.exports import ExportRecord
from gitdocket.core.log import SEGMENT_NAME_RE, Event, LogPosition
from gitdocket.core.model import Record
from gitdocket.core.readiness import GateReport, PromotionReadiness
from gitdocket.core.scopes import CURRENT, HISTORY, SEGMENTS, parse_scope_path
from gitdocket.errors import InputError
from gitdocket.lifecycles.admission import AdmissionToken
from gitdocket.lifecycles.agent_diff import DiffReport
from gitdocket.lifecycles.archetype import ArchetypeState
from gitdocket.lifecycles.bundle import BundleState
from gitdocket.lifecycles.config import ConfigState
from gitdocket.lifecycles.entitlement import EntitlementState
from gitdocket.lifecycles.environment import DeploymentState, Hold, ReleaseRecord
from gitdocket.lifecycles.package import PackageState
from gitdocket.lifecycles.placement import PlacementState
from gitdocket.lifecycles.policy import PolicyState
from gitdocket.lifecycles.version import AgentConfig, VersionState
from gitdocket.verify.report import VerifyReport

__all__ = [
    "AUTHORED",
    "CONTRACTS",
    "CONTRACT_ID_RE",
    "CONTRACT_MODELS",
    "DRAFT",
    "FILE_CONTRACTS",
    "SCOPE_CONTRACTS",
    "SEAL_PATH",
    "BundleCurrent",
    "DeploymentCurrent",
    "LogPosition",
    "Problem",
    "contract_of_folder",
    "drift",
    "folder",
    "generate",
    "known_kind",
    "path_contract",
    "problems_in",
    "registry_contract",
    "resolve_kind",
    "schema_bytes",
    "schema_for",
    "schema_id",
    "schema_path",
    "violations",
]

DRAFT = "https://json-schema.org/draft/2020-12/schema"
ID_BASE = "https://docket.dev/contracts/"
SEAL_PATH = "contracts/contracts.seal.json"
ANNOTATIONS = frozenset({"title", "description", "$comment", "examples", "discriminator"})
"""Keywords that do not change what validates (``discriminator`` is an OpenAPI hint pydantic
emits; JSON Schema validators ignore it)."""

_NAME = r"[a-z][a-z0-9]*(?:_[a-z0-9]+)*"
CONTRACT_ID_RE = re.compile(rf"^({_NAME})_v([1-9][0-9]*)$")
_FOLDER_RE = re.compile(rf"^({_NAME})\.v([1-9][0-9]*)$")


# -- the documents that exist only as contracts ---------------------------------------------------


class PolicyCurrent(PolicyState):
    """``registry/policy/current.json``: the trust policy folded from its log."""

    log: LogPosition


class ConfigCurrent(ConfigState):
    """``registry/config/current.json``: the signed configuration (what ``registry.yaml`` must say)
    and the approved content of every protected file."""

    log: LogPosition


class ArchetypeCurrent(ArchetypeState):
    """``registry/archetypes/<a>/current.json``: an archetype's owners and origin."""

    log: LogPosition


class VersionCurrent(VersionState):
    """``registry/versions/<a>/<v>/current.json``: a version's phase and frozen snapshot."""

    log: LogPosition


class PackageCurrent(PackageState):
    """``registry/packages/<a>/<v>/current.json``: the package manifest (handles, never payload)."""

    log: LogPosition


class PlacementCurrent(PlacementState):
    """``registry/placements/<project>/<p>/current.json``: a placement's pin and install track."""

    log: LogPosition


class EntitlementCurrent(EntitlementState):
    """``registry/entitlements/<project>/<p>/current.json``: a deployment entitlement."""

    log: LogPosition


# -- the registry ---------------------------------------------------------------------------------


class DeploymentCurrent(DeploymentState):
    """``deployments/<env>/current.json``: the deployment_state_v2 pointer (holds included, the
    release list left to the log) and its log position. ``deployment_state_v1`` (the release
    list and rollback path in the pointer) is sealed and stays readable; nothing writes it any
    more (ADR 0033)."""

    log: LogPosition


class DeploymentCurrentV1(DeploymentCurrent):
    """``deployments/<env>/current.json`` as gitdocket wrote it before ADR 0033: the release list
    and rollback path in the pointer, no holds. Sealed; read and verified, never written."""

    contract: Literal["deployment_state_v1"] = "deployment_state_v1"  # type: ignore[assignment]
    holds: dict[str, Hold] = Field(default_factory=dict, exclude=True)
    releases: dict[str, ReleaseRecord] = Field(default_factory=dict)
    rollback_stack: tuple[str, ...] = ()


class BundleCurrent(BundleState):
    """``bundles/<id>/current.json``: who built and verified the bundle, and its log position."""

    log: LogPosition


CONTRACT_MODELS: dict[str, type[Record]] = {
    "release_bundle_v1": BundleManifest,
    "deployment_state_v1": DeploymentCurrentV1,
    "deployment_state_v2": DeploymentCurrent,
    "bundle_state_v1": BundleCurrent,
    "release_bundle_promotion_v1": PromotionReport,
    "release_readiness_gate_v1": GateReport,
    "policy_promotion_readiness_v1": PromotionReadiness,
    "run_admission_token_v1": AdmissionToken,
}
"""Contract name → model, for ``gitdocket contracts generate`` and for validating examples."""


CONTRACTS: dict[str, type[BaseModel]] = {
    "event_v1": Event,
    "archetype_v1": ArchetypeDoc,
    "registry_config_v1": RegistryConfig,
    "agent_config_v1": AgentConfig,
    "policy_v1": PolicyCurrent,
    "config_state_v1": ConfigCurrent,
    "archetype_state_v1": ArchetypeCurrent,
    "version_state_v1": VersionCurrent,
    "package_manifest_v1": PackageCurrent,
    "placement_state_v1": PlacementCurrent,
    "entitlement_state_v1": EntitlementCurrent,
    "verify_report_v1": VerifyReport,
    "promotion_batch_v1": PromotionBatch,
    "registry_export_v1": ExportRecord,
    "agent_diff_v1": DiffReport,
}
CONTRACTS.update(CONTRACT_MODELS)
"""Contract id → the model that generates its schema. Add a set with ``CONTRACTS.update(...)``."""

AUTHORED: set[str] = {"archetype_v1", "registry_config_v1", "agent_config_v1", "promotion_batch_v1"}
"""Contracts people write (validation schema: defaulted fields may be omitted)."""

SCOPE_CONTRACTS: dict[str, str] = {
    "policy": "policy_v1",
    "config": "config_state_v1",
    "archetype": "archetype_state_v1",
    "version": "version_state_v1",
    "package": "package_manifest_v1",
    "placement": "placement_state_v1",
    "entitlement": "entitlement_state_v1",
    "bundle": "bundle_state_v1",
    "environment": "deployment_state_v2",
}
"""Scope kind → the contract of its ``current.json``; every ``history.jsonl`` line is
``event_v1``."""

FILE_CONTRACTS: dict[str, str] = {
    "archetype.yaml": "archetype_v1",
    "registry.yaml": "registry_config_v1",
    ".agent-config.json": "agent_config_v1",
    "bundle_manifest.json": "release_bundle_v1",
}
"""File name → contract, for registry documents found by name."""


def folder(contract: str) -> str:
    """``release_bundle_v1`` → ``release_bundle.v1``."""
    match = CONTRACT_ID_RE.fullmatch(contract)
    if match is None:
        raise InputError(f"invalid contract id {contract!r}", "contract ids look like release_bundle_v1")
    return f"{match[1]}.v{match[2]}"


def contract_of_folder(name: str) -> str | None:
    """``release_bundle.v1`` → ``release_bundle_v1``; None for any other name."""
    match = _FOLDER_RE.fullmatch(name)
    return f"{match[1]}_v{match[2]}" if match else None


def schema_path(contract: str) -> str:
    return f"contracts/{folder(contract)}/schema.json"


def schema_id(contract: str) -> str:
    return f"{ID_BASE}{folder(contract)}/schema.json"


# -- generation -----------------------------------------------------------------------------------


class _Generator(GenerateJsonSchema):
    """pydantic's generator without per-field titles (noise), and with every field required in
    serialization mode (gitdocket writes every field)."""

    def field_title_should_be_set(self, schema: object) -> bool:
        return False

    def field_is_required(
        self,
        field: core_schema.ModelField | core_schema.DataclassField | core_schema.TypedDictField,
        total: bool,
    ) -> bool:
        if self.mode == "serialization":
            return field.get("serialization_exclude_if") is None
        return super().field_is_required(field, total)


def schema_for(contract: str) -> dict[str, Any]:
    """The JSON Schema of ``contract`` as a dict (``$schema``, ``$id``, title = the id)."""
    model = CONTRACTS.get(contract)
    if model is None:
        raise InputError(f"unknown contract {contract!r}", f"known: {', '.join(sorted(CONTRACTS))}")
    mode: Literal["validation", "serialization"] = "validation" if contract in AUTHORED else "serialization"
    body = model.model_json_schema(mode=mode, schema_generator=_Generator)
    return {**body, "$schema": DRAFT, "$id": schema_id(contract), "title": contract}


def schema_bytes(contract: str) -> bytes:
    """Deterministic bytes: sorted keys, two-space indent, trailing newline."""
    return render(schema_for(contract))


def generate() -> dict[str, bytes]:
    """{``contracts/<name>.v<N>/schema.json``: bytes} for every registered contract."""
    return {schema_path(c): schema_bytes(c) for c in sorted(CONTRACTS)}


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with the committed contracts: where, what, and what to do."""

    path: str
    message: str
    hint: str = ""

    def line(self) -> str:
        return f"{self.path}: {self.message}"


def path_contract(path: str) -> str | None:
    parts = path.split("/")
    ok = len(parts) == 3 and parts[0] == "contracts" and parts[2] == "schema.json"
    return contract_of_folder(parts[1]) if ok else None


def drift(generated: Mapping[str, bytes], committed: Mapping[str, bytes], sealed: Collection[str]) -> list[Problem]:
    """Where the committed schemas differ from what the models generate. A committed schema
    with no model is fine only when sealed (a superseded version kept for old documents)."""
    regenerate = "run `gitdocket contracts generate` and commit the result"
    problems = [Problem(p, "missing: not generated yet", regenerate) for p in sorted(generated) if p not in committed]
    problems += [
        Problem(p, "differs from what the models generate", regenerate)
        for p in sorted(generated)
        if p in committed and committed[p] != generated[p]
    ]
    for path in sorted(set(committed) - set(generated)):
        contract = path_contract(path)
        if contract is None:
            problems.append(
                Problem(path, "not a contract folder (contracts/<name>.v<N>/schema.json)", "rename or remove it")
            )
        elif contract not in sealed:
            problems.append(
                Problem(
                    path,
                    "no model in CONTRACTS generates it and it is not sealed",
                    "register its model in gitdocket.verify.contracts.CONTRACTS, or remove it",
                )
            )
    return problems


# -- the seal -------------------------------------------------------------------------------------


# -- validation by kind ---------------------------------------------------------------------------


def known_kind(kind: str, known: Collection[str]) -> str:
    """``kind`` as a contract id (``x_v1`` or ``x.v1`` accepted), or an error naming the known."""
    contract = contract_of_folder(kind) or kind
    if contract not in known:
        raise InputError(
            f"unknown contract kind {kind!r} (known: {', '.join(sorted(known))})",
            "pass --kind with one of them, or keep the file in examples/<name>.v<N>/",
        )
    return contract


def registry_contract(parts: Sequence[str]) -> str | None:
    """The contract of a registry file from its path parts (``…/registry/versions/a/1.0.0/
    current.json`` → ``version_state_v1``), or None."""
    if not parts:
        return None
    name = parts[-1]
    if name in FILE_CONTRACTS:
        return FILE_CONTRACTS[name]
    if len(parts) > 1 and parts[-2] == SEGMENTS and SEGMENT_NAME_RE.fullmatch(name):
        parts, name = parts[:-1], HISTORY  # a sealed segment of a log (ADR 0037)
    if name not in (CURRENT, HISTORY):
        return None
    for start in range(len(parts) - 1):
        found = parse_scope_path("/".join(parts[start:-1]))
        if found is not None:
            return "event_v1" if name == HISTORY else SCOPE_CONTRACTS.get(found.kind)
    return None


def resolve_kind(explicit: str | None, parts: Sequence[str], data: Any, known: Collection[str]) -> str:
    """The contract to validate a document against: ``--kind``, else the ``<name>.v<N>`` folder
    holding it (``examples/<name>.v<N>/``), else its place in a registry, else its own
    ``contract`` field."""
    if explicit:
        return known_kind(explicit, known)
    holder = contract_of_folder(parts[-2]) if len(parts) >= 2 else None
    if holder is not None:
        return known_kind(holder, known)
    by_place = registry_contract(parts)
    if by_place is not None:
        return known_kind(by_place, known)
    field = data.get("contract") if isinstance(data, dict) else None
    if isinstance(field, str):
        return known_kind(field, known)
    raise InputError(
        f"{'/'.join(parts)}: cannot tell its contract kind (known: {', '.join(sorted(known))})",
        "pass --kind NAME, or keep the file in examples/<name>.v<N>/",
    )


_JSON_TYPES = (
    (bool, "boolean"),
    (dict, "object"),
    (list, "array"),
    (str, "string"),
    (int, "integer"),
    (float, "number"),
)


def _message(error: ValidationError) -> str:
    """jsonschema's message on one line; a long quoted instance is named by its JSON type."""
    text = error.message
    shown = repr(error.instance)
    if len(shown) > 60 and text.startswith(shown):
        kind = next((name for cls, name in _JSON_TYPES if isinstance(error.instance, cls)), "value")
        text = f"the {kind}{text[len(shown) :]}"
    text = " ".join(text.split())
    return text if len(text) <= 200 else text[:199] + "…"


def violations(schema: Mapping[str, Any], data: Any) -> list[tuple[str, str]]:
    """Every way ``data`` fails ``schema`` as sorted (JSON path, one-line message) pairs. Within
    ``anyOf``/``oneOf`` the most relevant branch's error is reported."""
    validator = Draft202012Validator(dict(schema))
    found = set()
    for error in validator.iter_errors(data):
        leaf = best_match([error]) or error
        found.add((leaf.json_path, _message(leaf)))
    return sorted(found)


def problems_in(schema: Mapping[str, Any], data: Any) -> list[str]:
    """``violations`` as lines: ``<JSON path>: <message>``."""
    return [f"{path}: {message}" for path, message in violations(schema, data)]
