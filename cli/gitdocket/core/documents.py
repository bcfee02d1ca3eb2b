"""Human-edited documents (YAML) and their contracts: ``archetype.yaml`` and
``registry/registry.yaml``. Pure pydantic models; parsing lives in ``files``."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from gitdocket.core.model import Record
from gitdocket.lifecycles.version import Posture

__all__ = ["REGISTRY_YAML", "ArchetypeDoc", "BundleConfig", "EnvironmentConfig", "RegistryConfig"]

REGISTRY_YAML = "registry/registry.yaml"
"""Where a registry's configuration lives (``RegistryConfig``)."""


class ArchetypeDoc(Record):
    """``registry/archetypes/<a>/archetype.yaml`` (contract ``archetype_v1``)."""

    name: str
    title: str = Field(min_length=1)
    description: str = ""
    protection: Posture
    tags: tuple[str, ...] = ()


class EnvironmentConfig(Record):
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")
    sources: tuple[str | None, ...] = ()
    gate_profile: Literal["strict", "transitional", "promotion"] | None = None
    require_gate: bool = False


class BundleConfig(Record):
    include: tuple[str, ...] = ()
    required_evidence: tuple[str, ...] = (
        "release_readiness_gate_report.json",
        "release_lineage.json",
        "release_lineage_contract_report.json",
    )
    allow_secrets: tuple[str, ...] = ()


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
    environments: tuple[EnvironmentConfig, ...] = Field(default_factory=_default_envs)
    bundle: BundleConfig = Field(default_factory=BundleConfig)
    retention: int | None = Field(default=None, ge=1)

    @model_validator(mode="after")
    def _sources_known(self) -> RegistryConfig:
        names = [e.name for e in self.environments]
        if len(set(names)) != len(names):
            raise ValueError("environment names must be unique")
        for env in self.environments:
            for source in env.sources:
                if source is not None and source not in names:
                    raise ValueError(f"environment {env.name} names unknown source {source!r}")
        return self

    def environment(self, name: str) -> EnvironmentConfig | None:
        return next((e for e in self.environments if e.name == name), None)
