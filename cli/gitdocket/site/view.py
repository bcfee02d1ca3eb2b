"""What the site reads from one verified snapshot: the ``SiteInput`` a build passes in, and the
read-only views the pages share (the registry's configuration, each archetype's document and
versions, placements by project, each bundle's manifest and gate report, each environment's
changes and promotion reports).

Everything is read from the verification ``Context`` (its scopes, their folds and events, its
tree and YAML parser), so the site shows exactly what ``gitdocket verify`` judged. A document
that does not parse is shown as missing (verify already reported it). Pure.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any

from gitdocket.core.canonical import loads_strict
from gitdocket.core.documents import (
    REGISTRY_YAML,
    ArchetypeDoc,
    BundleManifest,
    PromotionReport,
    RegistryConfig,
    parse_document,
)
from gitdocket.core.fields import semver_key
from gitdocket.core.readiness import GateReport
from gitdocket.errors import DocketError
from gitdocket.lifecycles import scope
from gitdocket.lifecycles.archetype import ArchetypeState
from gitdocket.lifecycles.bundle import BundleState
from gitdocket.lifecycles.entitlement import EntitlementState
from gitdocket.lifecycles.environment import DeploymentState
from gitdocket.lifecycles.package import PackageState
from gitdocket.lifecycles.placement import PlacementState
from gitdocket.lifecycles.version import VersionState
from gitdocket.site.evidence import TestRun
from gitdocket.site.timeline import Change
from gitdocket.verify.context import Context, ScopeRecord
from gitdocket.verify.findings import Finding

__all__ = ["GATE_REPORT", "SiteInput", "View"]

GATE_REPORT = "release_readiness_gate_report.json"
"""The gate report a bundle carries in its evidence (``gate evaluate --output``)."""


@dataclass(frozen=True)
class SiteInput:
    """Everything one site is built from. ``committed_at`` is the verified commit's time: run
    eligibility and the policy's expiry are judged at it (the site never reads a clock, so the
    same commit gives the same pages)."""

    ctx: Context
    findings: Sequence[Finding]
    commit: str | None
    committed_at: datetime | None
    tags: Mapping[str, str] = field(default_factory=dict)
    runs: Sequence[TestRun] = ()
    assets: Mapping[str, bytes] = field(default_factory=dict)
    """Files the site ships as they are (``javascripts/iframe-worker-shim.js``)."""


def _json(raw: bytes | None, where: str) -> Any:
    if raw is None:
        return None
    try:
        return loads_strict(raw, where)
    except DocketError:
        return None


class View:
    """Read-only views of one ``SiteInput``, each computed once."""

    def __init__(self, site: SiteInput) -> None:
        self.site = site
        self.ctx = site.ctx

    # -- configuration and archetypes --------------------------------------------------------

    @cached_property
    def config(self) -> RegistryConfig:
        raw = self.ctx.tree.read(REGISTRY_YAML)
        if raw is not None:
            try:
                return parse_document(RegistryConfig, raw, REGISTRY_YAML, self.ctx.parse_yaml)
            except DocketError:
                pass  # verify reported it; show the defaults
        return RegistryConfig(name="registry")

    @cached_property
    def archetypes(self) -> list[ScopeRecord[ArchetypeState]]:
        return [r for r in self.ctx.scopes("archetype") if r.events]

    @cached_property
    def archetype_states(self) -> dict[str, ArchetypeState]:
        return {r.scope.keys[0]: r.state for r in self.archetypes}

    def document(self, name: str) -> ArchetypeDoc | None:
        where = f"registry/archetypes/{name}/archetype.yaml"
        raw = self.ctx.tree.read(where)
        if raw is None:
            return None
        try:
            return parse_document(ArchetypeDoc, raw, where, self.ctx.parse_yaml)
        except DocketError:
            return None

    @cached_property
    def versions(self) -> dict[str, list[ScopeRecord[VersionState]]]:
        """Versions by archetype, oldest first."""
        out: dict[str, list[ScopeRecord[VersionState]]] = {}
        for record in self.ctx.scopes("version"):
            if record.events:
                out.setdefault(record.scope.keys[0], []).append(record)
        for records in out.values():
            records.sort(key=lambda r: semver_key(r.scope.keys[1]))
        return out

    @cached_property
    def packages(self) -> dict[tuple[str, str], ScopeRecord[PackageState]]:
        return {(r.scope.keys[0], r.scope.keys[1]): r for r in self.ctx.scopes("package") if r.events}

    @cached_property
    def placements(self) -> dict[str, list[ScopeRecord[PlacementState]]]:
        """Placements by project."""
        out: dict[str, list[ScopeRecord[PlacementState]]] = {}
        for record in self.ctx.scopes("placement"):
            if record.events:
                out.setdefault(record.scope.keys[0], []).append(record)
        return out

    @cached_property
    def entitlements(self) -> dict[tuple[str, str], ScopeRecord[EntitlementState]]:
        return {(r.scope.keys[0], r.scope.keys[1]): r for r in self.ctx.scopes("entitlement") if r.events}

    @cached_property
    def placed(self) -> dict[tuple[str, str], list[str]]:
        """(archetype, version) → the ``project/name`` of every placement pinning it now."""
        out: dict[tuple[str, str], list[str]] = {}
        for project, records in sorted(self.placements.items()):
            for record in records:
                pin = record.state.pin
                if pin is not None:
                    out.setdefault((pin.archetype, pin.version), []).append(f"{project}/{record.scope.keys[1]}")
        return out

    @cached_property
    def forks(self) -> dict[str, list[str]]:
        """Source archetype → the archetypes forked from it."""
        out: dict[str, list[str]] = {}
        for record in self.archetypes:
            origin = record.state.forked_from
            if origin is not None:
                out.setdefault(origin.archetype, []).append(record.scope.keys[0])
        return out

    # -- releases ------------------------------------------------------------------------------

    @cached_property
    def bundles(self) -> list[ScopeRecord[BundleState]]:
        return [r for r in self.ctx.scopes("bundle") if r.events]

    def manifest(self, bundle_id: str) -> BundleManifest | None:
        data = _json(self.ctx.tree.read(f"bundles/{bundle_id}/bundle_manifest.json"), bundle_id)
        try:
            return BundleManifest.model_validate(data) if data is not None else None
        except ValueError:
            return None

    def gate_report(self, bundle_id: str) -> GateReport | None:
        data = _json(self.ctx.tree.read(f"bundles/{bundle_id}/evidence/{GATE_REPORT}"), bundle_id)
        try:
            return GateReport.model_validate(data) if data is not None else None
        except ValueError:
            return None

    @cached_property
    def bundle_states(self) -> dict[str, BundleState]:
        return {r.scope.keys[0]: r.state for r in self.bundles}

    @cached_property
    def environments(self) -> list[ScopeRecord[DeploymentState]]:
        """Environments in the configured promotion order, then any other."""
        order = {e.name: i for i, e in enumerate(self.config.environments)}
        found = [r for r in self.ctx.scopes("environment") if r.events]
        known = {r.scope.keys[0] for r in found}
        empty = [ScopeRecord(scope("environment", e.name)) for e in self.config.environments if e.name not in known]
        both = found + empty
        return sorted(both, key=lambda r: (order.get(r.scope.keys[0], len(order)), r.scope.keys[0]))

    @staticmethod
    def changes(record: ScopeRecord[DeploymentState]) -> list[Change]:
        out = []
        for event in record.events:
            data = event.data
            rollback = event.type == "rolled_back"
            out.append(
                Change(
                    seq=event.seq,
                    at=event.at,
                    actor=event.actor,
                    bundle_id=str(data.get("target" if rollback else "bundle_id", "")),
                    rollback=rollback,
                    gate_decision=None if rollback else data.get("gate_decision"),
                    source_environment=None if rollback else data.get("source_environment"),
                    reason=data.get("reason") if rollback else _override(data.get("override")),
                    batch=None if rollback else _batch(data.get("batch")),
                )
            )
        return out

    def promotion_report(self, environment: str, seq: int) -> PromotionReport | None:
        where = f"deployments/{environment}/reports/{seq}.json"
        data = _json(self.ctx.tree.read(where), where)
        try:
            return PromotionReport.model_validate(data) if data is not None else None
        except ValueError:
            return None

    @cached_property
    def running(self) -> dict[str, list[str]]:
        """Bundle id → the environments running it now."""
        out: dict[str, list[str]] = {}
        for record in self.environments:
            if record.state.bundle_id:
                out.setdefault(record.state.bundle_id, []).append(record.scope.keys[0])
        return out


def _batch(name: object) -> str | None:
    return name if isinstance(name, str) else None


def _override(reason: object) -> str | None:
    """A promotion's reason to lift a rollback's hold, as the history shows it."""
    return f"hold lifted: {reason}" if isinstance(reason, str) else None
