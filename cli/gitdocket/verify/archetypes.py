"""The checks of archetypes, versions and packages: frozen snapshots, archetype documents (against
their models) and version ↔ package references. ``snapshot.CHECKS`` lists them, run when a
snapshot holds such a scope (this module builds the version lifecycle, which a verification of
an environment's chain never reads: ADR 0035). What every scope folder may hold and
``registry.yaml`` are ``verify.contents``; docket's tags are checked with the logs (``tags``)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from gitdocket.core.canonical import loads_strict, sha256_hex
from gitdocket.core.documents import ArchetypeDoc, Parser
from gitdocket.core.scopes import Scope
from gitdocket.lifecycles import scope
from gitdocket.lifecycles.invariants import PACKAGE_REQUIRES_FROZEN_VERSION
from gitdocket.lifecycles.version import FROZEN_VERSION_IMMUTABLE, PAST_PACKAGES_PRESERVED, AgentConfig, VersionState
from gitdocket.verify.contents import validated
from gitdocket.verify.context import Context, ScopeRecord
from gitdocket.verify.findings import Finding

if TYPE_CHECKING:  # a type only: the package lifecycle is built when a package is read (ADR 0035)
    from gitdocket.lifecycles.package import PackageState

__all__ = ["archetype_documents", "frozen_snapshots", "package_references"]


def _frozen_files(ctx: Context, record: ScopeRecord[VersionState]) -> Iterable[Finding]:
    """File by file: what differs between a frozen method/ and its recorded manifest."""
    target = record.scope
    snap = record.state.snapshot
    if snap is None:
        return
    method = f"{target.path}/method"
    seen = {rel: sha256_hex(ctx.tree.read(f"{method}/{rel}") or b"") for rel, _kind, _oid in ctx.tree.walk(method)}
    hint = "restore it from the version's tag; change the draft and freeze a new version instead"
    for rel, entry in sorted(snap.manifest.items()):
        if rel not in seen:
            yield Finding(
                f"{method}/{rel}",
                "SNAPSHOT_MISMATCH",
                "frozen file is missing",
                target.label,
                FROZEN_VERSION_IMMUTABLE,
                hint,
            )
        elif seen[rel] != entry.sha256:
            yield Finding(
                f"{method}/{rel}",
                "SNAPSHOT_MISMATCH",
                "frozen file was changed",
                target.label,
                FROZEN_VERSION_IMMUTABLE,
                hint,
            )
    for rel in sorted(set(seen) - set(snap.manifest)):
        yield Finding(
            f"{method}/{rel}",
            "SNAPSHOT_MISMATCH",
            "file added to a frozen snapshot",
            target.label,
            FROZEN_VERSION_IMMUTABLE,
            hint,
        )
    if set(seen) == set(snap.manifest) and all(seen[r] == e.sha256 for r, e in snap.manifest.items()):
        yield Finding(
            method,
            "SNAPSHOT_MISMATCH",
            "tree id differs from the recorded one (modes changed?)",
            target.label,
            FROZEN_VERSION_IMMUTABLE,
            hint,
        )
    config = ctx.tree.read(f"{method}/.agent-config.json")
    problem = (
        validated(AgentConfig, config, f"{method}/.agent-config.json", loads_strict)[1] if config is not None else None
    )
    if problem:
        yield Finding(
            f"{method}/.agent-config.json",
            "DOCUMENT_INVALID",
            problem,
            target.label,
            hint="a frozen configuration never changes; restore it from the version's tag",
        )


def frozen_snapshots(ctx: Context) -> Iterable[Finding]:
    for record in ctx.scopes("version"):
        if record.broken:
            continue  # the log's own finding is the root cause; its snapshot record is unknown
        target = record.scope
        method = f"{target.path}/method"
        if record.state.snapshot is None:
            if ctx.tree.kind(method) is not None:
                yield Finding(
                    method,
                    "UNEXPECTED_FILE",
                    "a version that is not frozen has a method/ snapshot",
                    target.label,
                    FROZEN_VERSION_IMMUTABLE,
                    "remove it",
                )
        elif ctx.tree.tree_id(method) != record.state.snapshot.method_tree:
            yield from _frozen_files(ctx, record)  # the same tree id covers every byte below it


def _archetype_problem(raw: bytes | None, path: str, name: str, parse_yaml: Parser) -> str:
    if raw is None:
        return "missing"
    doc, problem = validated(ArchetypeDoc, raw, path, parse_yaml)
    if doc is not None and doc.name != name:
        return f"name {doc.name!r} does not match the folder {name!r}"
    return problem


def archetype_documents(ctx: Context) -> Iterable[Finding]:
    """Every archetype.yaml and every draft .agent-config.json against its model."""
    for record in ctx.scopes("archetype"):
        label = record.scope.label
        path = f"{record.scope.path}/archetype.yaml"
        problem = _archetype_problem(ctx.tree.read(path), path, record.scope.keys[0], ctx.parse_yaml)
        if problem:
            hint = "fix the file (see examples/archetypes/)"
            yield Finding(path, "DOCUMENT_INVALID", problem, label, hint=hint)
        config_path = f"{record.scope.path}/method/.agent-config.json"
        config = ctx.tree.read(config_path)
        problem = "" if config is None else validated(AgentConfig, config, config_path, loads_strict)[1]
        if problem:
            hint = "fix the draft's agent configuration (model, skills, tools, settings)"
            yield Finding(config_path, "DOCUMENT_INVALID", problem, label, hint=hint)


def package_references(ctx: Context) -> Iterable[Finding]:
    """A package names a frozen version that records it, with the same content; and back."""
    for record in ctx.scopes("package"):
        version = scope("version", *record.scope.keys)
        if record.state.manifest is None or record.broken or ctx.accounted(version):
            continue
        yield from _package_matches(ctx, record, version)
    for vrecord in ctx.scopes("version"):
        yield from _version_packages(ctx, vrecord)


def _version_packages(ctx: Context, record: ScopeRecord[VersionState]) -> Iterable[Finding]:
    """Every package a version records is its own package, and exists."""
    if not record.broken:
        for package in record.state.packages:
            target = record.scope.path.replace("registry/versions/", "registry/packages/", 1)
            if package != target:
                yield Finding(
                    record.scope.history_path,
                    "REFERENCE_BROKEN",
                    f"references package {package}, which is not this version's package",
                    record.scope.label,
                    PAST_PACKAGES_PRESERVED,
                    "restore the log from git history",
                )
            elif ctx.records.get(scope("package", *record.scope.keys)) is None and not ctx.accounted(
                scope("package", *record.scope.keys)
            ):
                yield Finding(
                    record.scope.history_path,
                    "REFERENCE_BROKEN",
                    f"references package {package}, which does not exist",
                    record.scope.label,
                    PAST_PACKAGES_PRESERVED,
                    "restore the package scope from git history",
                )


def _package_matches(
    ctx: Context, record: ScopeRecord[PackageState], version: Scope[VersionState]
) -> Iterable[Finding]:
    a, v = record.scope.keys
    vstate = ctx.state(version)
    manifest = record.state.manifest
    if manifest is None:
        return
    if vstate is None or vstate.snapshot is None:
        yield Finding(
            record.scope.history_path,
            "REFERENCE_BROKEN",
            f"package of {a} {v}, which is not frozen",
            record.scope.label,
            PACKAGE_REQUIRES_FROZEN_VERSION,
            "restore the version's log",
        )
        return
    if record.scope.path not in vstate.packages:
        yield Finding(
            record.scope.history_path,
            "REFERENCE_BROKEN",
            "the version does not record this package",
            record.scope.label,
            PACKAGE_REQUIRES_FROZEN_VERSION,
            "restore the version's log",
        )
    if (manifest.content_hash, manifest.method_tree) != (
        vstate.snapshot.content_hash,
        vstate.snapshot.method_tree,
    ):
        yield Finding(
            record.scope.current_path,
            "REFERENCE_BROKEN",
            "manifest content does not match the frozen snapshot",
            record.scope.label,
            FROZEN_VERSION_IMMUTABLE,
            "restore the package log",
        )
