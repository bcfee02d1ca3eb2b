"""Every document gitdocket reads or writes that is not a scope's own log or state, as pydantic
models, one per contract:

- human-edited YAML: ``archetype.yaml`` (``archetype_v1``, with the protection posture it declares)
  and ``registry/registry.yaml`` (``registry_config_v1``);
- the documents of releases (seed 002): ``release_bundle_v1`` (``bundles/<id>/bundle_manifest.json``)
  and ``release_bundle_promotion_v1`` (the report of a gated promotion). The gate report and the
  promotion readiness evidence are in ``core.readiness`` (only the gate and promotion read them:
  a runtime's ``deployments resolve`` builds no model of theirs, ADR 0035).

Documents gitdocket writes (manifest, promotion report) refuse unknown fields; ``OpenRecord`` is
the base of evidence that other tools may produce, which keeps unknown fields so that a newer
generator does not break an older gitdocket. ``parse_document`` turns a document's bytes into its
model, with the parser as an argument: the YAML parser is I/O-side (``adapters.files.load_yaml``),
so the pure layers never import it; ``ops.documents`` and ``verify`` (``contents``, ``archetypes``) read through
here. ``verify.contracts`` maps contract names to these models.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Annotated, Any, Literal, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr, model_validator

from gitdocket.core.fields import BundleId, Digest, GitOid, Name, Sha256Hex, Timestamp
from gitdocket.core.limits import reserved
from gitdocket.core.model import Record, validate
from gitdocket.core.scopes import REGISTRY_YAML

__all__ = [
    "CONFIG_KEY_RE",
    "METHOD_FIELDS",
    "RECORD_ROOTS",
    "REGISTRY_YAML",
    "ArchetypeDoc",
    "BundleConfig",
    "BundleManifest",
    "EnvironmentConfig",
    "Expect",
    "GateCheckSpec",
    "GateConfig",
    "GateProfileSpec",
    "GitMeta",
    "ManifestEvidence",
    "ManifestPayload",
    "ManifestSource",
    "ManifestSummary",
    "OpenRecord",
    "PackageRef",
    "Parser",
    "Posture",
    "PromotionCheck",
    "PromotionReport",
    "ProtectedPath",
    "RegistryConfig",
    "RelPath",
    "SmokeRun",
    "SourceRun",
    "parse_document",
]

Parser = Callable[[bytes, str], Any]
"""``parse(raw, where)``: a document's bytes as plain data, or a ``DocketError`` naming ``where``
(``adapters.files.load_yaml`` for YAML, ``core.canonical.loads_strict`` for JSON)."""

ModelT = TypeVar("ModelT", bound=BaseModel)


def parse_document(model: type[ModelT], raw: bytes, where: str, parse: Parser) -> ModelT:
    """The document ``raw`` (the file at ``where``) parsed and validated against ``model``, or an
    ``InputError`` in one line naming the file and the field."""
    return validate(model, parse(raw, where), where)


METHOD_FIELDS = frozenset(
    {"model", "skills", "tools", "instructions", "method", "agent_config", "agent-config", "settings"}
)
"""Names of the method's own fields: never a placement's config key (INV-24)."""
CONFIG_KEY_RE = re.compile(r"^[a-z][a-z0-9_-]{0,62}$")
"""A placement config key: one plain name, no dots or slashes, so it can never reach into the
method's nested configuration."""


class ArchetypeDoc(Record):
    """``registry/archetypes/<a>/archetype.yaml`` (contract ``archetype_v1``). ``editable`` lists
    the config keys a placement may set (everything else is refused, INV-24); a freeze records
    the list with the version."""

    name: str
    title: str = Field(min_length=1)
    description: str = ""
    protection: Posture
    tags: tuple[str, ...] = ()
    editable: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _editable_keys(self) -> ArchetypeDoc:
        for key in self.editable:
            if not CONFIG_KEY_RE.fullmatch(key):
                raise ValueError(f"editable key {key!r} is not a plain name (a-z, 0-9, '_', '-'; no dots)")
            if key in METHOD_FIELDS:
                raise ValueError(f"editable key {key!r} names a field of the method, which a placement never changes")
        if len(set(self.editable)) != len(self.editable):
            raise ValueError("editable lists a key twice")
        return self


class EnvironmentConfig(Record):
    name: Name
    sources: tuple[str | None, ...] = ()
    gate_profile: Name | None = None
    """The gate profile `gate evaluate --env` uses for this environment (one of ``gate.profiles``)."""
    require_gate: bool = False


class Expect(Record):
    """What one field of an evidence document must hold: exactly one of the conditions."""

    equals: StrictBool | StrictInt | StrictStr | None = None
    """The same JSON value and type (``0`` is not ``false`` and not ``"0"``)."""
    one_of: tuple[str, ...] | None = None
    """A string equal to one of these, ignoring case and surrounding spaces."""
    none_of: tuple[str, ...] | None = None
    """Anything but one of these strings (ignoring case); a missing field passes."""
    at_least: float | None = None
    """A number (not a boolean) at least this big."""
    is_pass: Literal[True] | None = None
    """A status word that means passed: pass, passed, ok or success (ignoring case)."""

    @model_validator(mode="after")
    def _exactly_one(self) -> Expect:
        if sum(v is not None for v in self.model_dump().values()) != 1:
            raise ValueError("give exactly one of equals, one_of, none_of, at_least, is_pass")
        return self


class GateCheckSpec(Record):
    """One check of the readiness gate: a file in the evidence folder and what it must say."""

    id: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.:-]+$")
    file: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    """The evidence file's name (``.json``; ``.xml`` is read as JUnit: tests, failures, errors, skipped)."""
    expect: dict[str, Expect] = Field(default_factory=dict)
    """Field (dotted path) → what it must hold; every one must hold for the check to pass."""
    conforms: Literal["policy_promotion_readiness_v1", "release_readiness_gate_v1"] | None = None
    """The whole document must validate against this contract."""
    severity: Literal["high", "medium"] = "high"
    missing_id: str | None = None
    """The check id reported when the file is missing or unreadable (default: ``id``)."""
    when_missing: Literal["fail", "skip"] = "fail"
    """``skip``: an absent file is not a failure (e.g. JUnit results when there are no tests);
    a present file that cannot be read still fails."""

    @model_validator(mode="after")
    def _checks_something(self) -> GateCheckSpec:
        if not self.expect and self.conforms is None:
            raise ValueError(f"check {self.id} needs expect or conforms")
        return self


class GateProfileSpec(Record):
    """A gate profile: how many failures each severity may have, and what it relaxes."""

    max_high_failures: int = Field(default=0, ge=0)
    max_medium_failures: int = Field(default=0, ge=0)
    skip: tuple[str, ...] = ()
    """Check ids this profile does not run (``prefix*`` matches every id with that prefix)."""
    accept: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    """Check id → further values accepted as a pass of ``medium`` severity (a waiver)."""


class GateConfig(Record):
    """The ``gate`` section of ``registry.yaml``: a preset, plus checks and profiles of your own.

    ``checks`` are added to the preset's; a profile named like one of the preset's replaces it.
    ``preset: none`` starts from nothing."""

    preset: Literal["default", "agent-skills", "none"] = "default"
    checks: tuple[GateCheckSpec, ...] = ()
    profiles: dict[Name, GateProfileSpec] = Field(default_factory=dict)
    promotion_readiness: bool | None = None
    """Whether a gated promotion also needs ``policy_promotion_readiness_v1`` evidence
    (default: the preset's — only ``agent-skills`` does)."""


class BundleConfig(Record):
    include: tuple[str, ...] = ()
    required_evidence: tuple[str, ...] = (
        "release_readiness_gate_report.json",
        "release_lineage.json",
        "release_lineage_contract_report.json",
    )
    allow_secrets: tuple[str, ...] = ()


RECORD_ROOTS = ("registry/", "bundles/", "deployments/")
"""Where gitdocket's own signed records live: their logs protect them, so no protected path may
point inside (``ProtectedPath``)."""


def _protected_path(path: str) -> str:
    """A file (``a/b.yml``) or a folder (``a/``, with the slash) relative to the repository root."""
    parts = path.removesuffix("/").split("/")
    if not path or path.startswith("/") or "\\" in path or "\x00" in path or any(p in ("", ".", "..") for p in parts):
        raise ValueError(f"{path!r} is not a plain relative POSIX path (a folder ends with '/')")
    if any(path.startswith(root) or path == root.rstrip("/") for root in RECORD_ROOTS):
        raise ValueError(f"{path!r} is inside gitdocket's signed records, which their own logs protect")
    return path


class ProtectedPath(Record):
    """A path whose every change needs an approval signed by ``role`` (a cryptographic
    CODEOWNERS entry): a folder when it ends with ``/``, else one file."""

    path: Annotated[str, AfterValidator(_protected_path)]
    role: str = Field(default="root", min_length=1)


BRANCH_PATTERN = r"^[A-Za-z0-9_][A-Za-z0-9._/-]*$"
"""A git branch name, conservatively: letters, digits, ``._/-``, not starting with a dash or dot."""


def _default_envs() -> tuple[EnvironmentConfig, ...]:
    return (
        EnvironmentConfig(name="preview", sources=(None,), gate_profile="transitional"),
        EnvironmentConfig(name="dev", sources=(None, "preview"), gate_profile="transitional"),
        EnvironmentConfig(name="staging", sources=("dev",), gate_profile="promotion", require_gate=True),
        EnvironmentConfig(name="prod", sources=("staging",), gate_profile="promotion", require_gate=True),
    )


class RegistryConfig(Record):
    """``registry/registry.yaml`` (contract ``registry_config_v1``)."""

    name: str = Field(min_length=1)
    default_branch: str | None = Field(default=None, pattern=BRANCH_PATTERN)
    """The branch the registry's history lives on (``gitdocket init --branch`` records it): only
    writes there create tags. None in registries made before it was recorded: every branch tags."""
    environments: tuple[EnvironmentConfig, ...] = Field(default_factory=_default_envs)
    bundle: BundleConfig = Field(default_factory=BundleConfig)
    gate: GateConfig = Field(default_factory=GateConfig)
    retention: int | None = Field(default=None, ge=1)
    protected: tuple[ProtectedPath, ...] = ()
    """Paths outside the signed records whose changes need a signed approval (``.github/workflows/``)."""

    @model_validator(mode="after")
    def _sources_known(self) -> RegistryConfig:
        names = [e.name for e in self.environments]
        if len(set(names)) != len(names):
            raise ValueError("environment names must be unique")
        paths = [p.path for p in self.protected]
        if len(set(paths)) != len(paths):
            raise ValueError("protected paths must be unique")
        for env in self.environments:
            if reserved(env.name):
                raise ValueError(f"environment {env.name!r} is a device name Windows reserves")
            for source in env.sources:
                if source is not None and source not in names:
                    raise ValueError(f"environment {env.name} names unknown source {source!r}")
        return self

    def environment(self, name: str) -> EnvironmentConfig | None:
        return next((e for e in self.environments if e.name == name), None)

    def tags_on(self, branch: str) -> bool:
        """Whether a write to ``branch`` creates its tags: only on the default branch, where the
        event lands for good. A pull request's branch leaves them to ``gitdocket tags sync`` once
        it is merged (squash and rebase merges would orphan them)."""
        return self.default_branch is None or branch == self.default_branch

    def allowed_secrets(self) -> frozenset[str]:
        """The allow-list of secret-looking places: bundle paths (``evidence/fixture.pem``),
        frozen method files (``registry/archetypes/<a>/method/<file>``) and free-text fields
        (``<scope path>#<field>``). Every writer and ``verify`` ask this one function (kept in
        ``bundle.allow_secrets`` of the registry's configuration)."""
        return frozenset(self.bundle.allow_secrets)


class Posture(Record):
    """The protection posture a package declares (seed 000)."""

    deployment_mode: Literal["private/federated", "attested"]
    read_scope: tuple[str, ...] = ()
    crossing_terms: str = ""


def _relative(path: str) -> str:
    parts = path.split("/")
    if not path or path.startswith("/") or "\\" in path or "\x00" in path or any(p in ("", ".", "..") for p in parts):
        raise ValueError(f"{path!r} is not a plain relative POSIX path")
    return path


RelPath = Annotated[str, AfterValidator(_relative)]
"""A POSIX path relative to a section root: no leading slash, no empty, ``.`` or ``..`` parts."""


class OpenRecord(Record):
    """Evidence produced by other tools: known fields are checked, unknown ones are kept."""

    model_config = ConfigDict(frozen=True, extra="allow", strict=False, defer_build=True)


class GitMeta(Record):
    commit: GitOid | None
    dirty: bool | None


class ManifestSource(Record):
    runtime_root: str
    registry_root: str
    runtime_git: GitMeta
    registry_git: GitMeta


class PackageRef(Record):
    """One published package in ``payload/registry/<archetype>/<version>/`` (docket extension)."""

    archetype: str
    version: str
    content_hash: Digest


class ManifestPayload(Record):
    runtime_root: Literal["payload/runtime"] = "payload/runtime"
    registry_root: Literal["payload/registry"] = "payload/registry"
    runtime_checksums: dict[RelPath, Sha256Hex]
    registry_checksums: dict[RelPath, Sha256Hex]
    packages: tuple[PackageRef, ...] = ()


class ManifestEvidence(Record):
    root: Literal["evidence"] = "evidence"
    files: tuple[RelPath, ...]
    required: tuple[RelPath, ...]
    checksums: dict[RelPath, Sha256Hex]

    @model_validator(mode="after")
    def _consistent(self) -> ManifestEvidence:
        if list(self.files) != sorted(self.checksums):
            raise ValueError("evidence.files must list exactly the checksummed files, sorted")
        if list(self.required) != sorted(set(self.required)):
            raise ValueError("evidence.required must be sorted and unique")
        return self


class ManifestSummary(Record):
    included_files: int = Field(ge=0)
    runtime_files: int = Field(ge=0)
    registry_files: int = Field(ge=0)
    evidence_files: int = Field(ge=0)


class BundleManifest(Record):
    """``bundle_manifest.json`` (contract ``release_bundle_v1``)."""

    contract: Literal["release_bundle_v1"]
    bundle_id: BundleId
    bundle_label: Name
    created_at: Timestamp
    source: ManifestSource
    payload: ManifestPayload
    evidence: ManifestEvidence
    summary: ManifestSummary

    @model_validator(mode="after")
    def _summary_matches(self) -> BundleManifest:
        counts = (
            len(self.payload.runtime_checksums),
            len(self.payload.registry_checksums),
            len(self.evidence.checksums),
        )
        summary = self.summary
        if (
            summary.runtime_files,
            summary.registry_files,
            summary.evidence_files,
        ) != counts or summary.included_files != sum(counts):
            raise ValueError("summary does not match the checksums")
        if not self.bundle_id.startswith(self.bundle_label + "-"):
            raise ValueError("bundle_id does not start with bundle_label")
        if self.payload.packages:  # a gitdocket bundle: its package list and its payload agree
            listed = {f"{p.archetype}/{p.version}" for p in self.payload.packages}
            carried = {"/".join(path.split("/")[:2]) for path in self.payload.registry_checksums}
            if listed != carried or len(listed) != len(self.payload.packages):
                raise ValueError("payload.packages does not list exactly the packages payload/registry carries")
        return self


class PromotionCheck(Record):
    check_id: str
    passed: bool
    detail: str


class SourceRun(OpenRecord):
    """``release_bundle_promotion_source.json``: the CI run a promoted artifact came from."""

    source_run_id: str | int
    source_artifact_name: str = "release-preview-bundle"
    source_smoke_run_id: str | int | None = None
    source_head_sha: str | None = None
    source_head_branch: str | None = None
    source_workflow_path: str | None = None
    source_run_conclusion: str | None = None
    bundle_path: str | None = None
    target_environment: str | None = None


class SmokeRun(Record):
    run_id: str | int | None
    head_sha: str | None


class PromotionReport(Record):
    """The report of one gated promotion (contract ``release_bundle_promotion_v1``)."""

    contract: Literal["release_bundle_promotion_v1"]
    generated_at: Timestamp
    status: Literal["passed", "failed"]
    environment: str
    source_environment: str | None
    bundle_id: str | None
    bundle_root: str
    checks: tuple[PromotionCheck, ...]
    gate_decision: str | None
    promotion_readiness_status: str | None
    release_root: str | None = None
    current_pointer: str | None = None
    previous_bundle_id: str | None = None
    sequence: int | None = Field(default=None, ge=1)
    source_run: SourceRun | None = None
    smoke_run: SmokeRun | None = None

    @model_validator(mode="after")
    def _status_matches_checks(self) -> PromotionReport:
        if (self.status == "passed") != (bool(self.checks) and all(c.passed for c in self.checks)):
            raise ValueError("status must be passed exactly when every check passed")
        ids = [c.check_id for c in self.checks]
        if len(set(ids)) != len(ids):
            raise ValueError("a check is reported twice")
        return self
