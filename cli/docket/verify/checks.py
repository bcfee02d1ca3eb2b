"""The registry core's own checks: scope folder contents, frozen snapshots, documents,
version ↔ package references, forks, and docket's tags. Each is registered in ``CHECKS``."""

from __future__ import annotations

from collections.abc import Iterable

from docket import sshsig
from docket.canonical import sha256_hex
from docket.documents import ArchetypeDoc, RegistryConfig
from docket.errors import DocketError, TrustError
from docket.files import load_yaml, validate
from docket.ops.reading import REGISTRY_YAML
from docket.scopes import SEMVER_RE, scope
from docket.verify.context import Context
from docket.verify.findings import Finding
from docket.verify.snapshot import CHECKS

__all__ = ["SCOPE_FILES"]

SCOPE_FILES: dict[str, set[str]] = {
    "policy": set(),
    "archetype": {"archetype.yaml", "method"},
    "version": {"method"},
    "package": set(),
    "placement": set(),
    "entitlement": set(),
    "bundle": {"bundle_manifest.json", "payload", "evidence"},
    "environment": {"releases", "reports"},
}
"""Entries a scope folder may hold besides history.jsonl and current.json."""


def scope_contents(ctx: Context) -> Iterable[Finding]:
    for target, _record in sorted(ctx.records.items()):
        allowed = {"history.jsonl", "current.json"} | SCOPE_FILES.get(target.kind, set())
        for name in ctx.tree.listdir(target.path):
            if name not in allowed:
                yield Finding(f"{target.path}/{name}", "UNEXPECTED_FILE", "no lifecycle writes this file",
                              target.label, hint="remove it; scope folders hold only what docket writes")


def frozen_snapshots(ctx: Context) -> Iterable[Finding]:
    for record in ctx.scopes("version"):
        state = record.state
        target = record.scope
        method = f"{target.path}/method"
        if state.snapshot is None:
            if ctx.tree.kind(method) is not None:
                yield Finding(method, "UNEXPECTED_FILE", "a version that is not frozen has a method/ snapshot",
                              target.label, "FROZEN_VERSION_IMMUTABLE", "remove it")
            continue
        snap = state.snapshot
        if ctx.tree.tree_id(method) == snap.method_tree:
            continue  # git's tree id covers every byte below it
        seen = {}
        for rel, _kind, _oid in ctx.tree.walk(method):
            seen[rel] = sha256_hex(ctx.tree.read(f"{method}/{rel}") or b"")
        for rel, entry in sorted(snap.manifest.items()):
            if rel not in seen:
                yield Finding(f"{method}/{rel}", "SNAPSHOT_MISMATCH", "frozen file is missing", target.label,
                              "FROZEN_VERSION_IMMUTABLE", "restore it from the version's tag")
            elif seen[rel] != entry.sha256:
                yield Finding(f"{method}/{rel}", "SNAPSHOT_MISMATCH", "frozen file was changed", target.label,
                              "FROZEN_VERSION_IMMUTABLE", "restore it from the version's tag")
        for rel in sorted(set(seen) - set(snap.manifest)):
            yield Finding(f"{method}/{rel}", "SNAPSHOT_MISMATCH", "file added to a frozen snapshot", target.label,
                          "FROZEN_VERSION_IMMUTABLE", "remove it; change the draft and freeze a new version")
        if set(seen) == set(snap.manifest) and all(seen[r] == e.sha256 for r, e in snap.manifest.items()):
            yield Finding(method, "SNAPSHOT_MISMATCH", "tree id differs from the recorded one (modes changed?)",
                          target.label, "FROZEN_VERSION_IMMUTABLE", "restore it from the version's tag")


def documents(ctx: Context) -> Iterable[Finding]:
    data = ctx.tree.read(REGISTRY_YAML)
    if data is None:
        yield Finding(REGISTRY_YAML, "DOCUMENT_INVALID", "missing", hint="restore it from git history")
    else:
        try:
            validate(RegistryConfig, load_yaml(data, REGISTRY_YAML), REGISTRY_YAML)
        except DocketError as exc:
            yield Finding(REGISTRY_YAML, "DOCUMENT_INVALID", exc.message, hint=exc.hint)
    for record in ctx.scopes("archetype"):
        path = f"{record.scope.path}/archetype.yaml"
        raw = ctx.tree.read(path)
        if raw is None:
            yield Finding(path, "DOCUMENT_INVALID", "missing", record.scope.label, hint="restore it")
            continue
        try:
            doc = validate(ArchetypeDoc, load_yaml(raw, path), path)
        except DocketError as exc:
            yield Finding(path, "DOCUMENT_INVALID", exc.message, record.scope.label, hint=exc.hint)
            continue
        if doc.name != record.scope.keys[0]:
            yield Finding(path, "DOCUMENT_INVALID", f"name {doc.name!r} does not match the folder",
                          record.scope.label, hint=f"set name: {record.scope.keys[0]}")


def package_references(ctx: Context) -> Iterable[Finding]:
    for record in ctx.scopes("package"):
        state = record.state
        if state.manifest is None:
            continue
        a, v = record.scope.keys
        vstate = ctx.state(scope("version", a, v))
        if vstate is None or vstate.snapshot is None:
            yield Finding(record.scope.history_path, "REFERENCE_BROKEN", f"package of {a} {v}, which is not frozen",
                          record.scope.label, "PACKAGE_REQUIRES_FROZEN_VERSION", "restore the version's log")
            continue
        if record.scope.path not in vstate.packages:
            yield Finding(record.scope.history_path, "REFERENCE_BROKEN",
                          "the version does not record this package", record.scope.label,
                          "PACKAGE_REQUIRES_FROZEN_VERSION", "publish with `docket package publish`")
        if state.manifest.content_hash != vstate.snapshot.content_hash or \
                state.manifest.method_tree != vstate.snapshot.method_tree:
            yield Finding(record.scope.current_path, "REFERENCE_BROKEN",
                          "manifest content does not match the frozen snapshot", record.scope.label,
                          "FROZEN_VERSION_IMMUTABLE", "restore the package log")
    for record in ctx.scopes("version"):
        for package in record.state.packages:
            target = record.scope.path.replace("registry/versions/", "registry/packages/", 1)
            if package != target or ctx.state(scope("package", *record.scope.keys)) is None:
                yield Finding(record.scope.history_path, "REFERENCE_BROKEN",
                              f"references package {package}, which does not exist", record.scope.label,
                              "PAST_PACKAGES_PRESERVED", "restore the package scope")


def forks(ctx: Context) -> Iterable[Finding]:
    for record in ctx.scopes("archetype"):
        origin = record.state.forked_from
        if origin is None:
            continue
        if ctx.state(scope("archetype", origin.archetype)) is None:
            yield Finding(record.scope.history_path, "REFERENCE_BROKEN",
                          f"forked from {origin.archetype}, which does not exist", record.scope.label)
        elif origin.version and ctx.state(scope("version", origin.archetype, origin.version)) is None:
            yield Finding(record.scope.history_path, "REFERENCE_BROKEN",
                          f"forked from {origin.archetype} {origin.version}, which does not exist",
                          record.scope.label)


def _expected_tags(ctx: Context) -> dict[str, tuple[str, str]]:
    """{tag name: (scope path, content hash)} for every frozen version and published package."""
    out: dict[str, tuple[str, str]] = {}
    for record in ctx.scopes("version"):
        snap = record.state.snapshot
        if snap is not None:
            a, v = record.scope.keys
            out[f"{a}/v{v}"] = (record.scope.current_path, snap.content_hash)
    for record in ctx.scopes("package"):
        manifest = record.state.manifest
        if manifest is not None:
            a, v = record.scope.keys
            out[f"packages/{a}/v{v}"] = (record.scope.current_path, manifest.content_hash)
    return out


def _is_docket_tag(name: str) -> bool:
    parts = name.split("/")
    if len(parts) == 3 and parts[0] == "packages":
        parts = parts[1:]
    return len(parts) == 2 and parts[1].startswith("v") and bool(SEMVER_RE.fullmatch(parts[1][1:]))


def _tag_signed(ctx: Context, name: str) -> bool:
    assert ctx.refs is not None
    signed = ctx.refs.tag_signature(name)
    if signed is None:
        return False
    signature, payload = signed
    for identity in ctx.policies[-1].identities.values():
        if identity.kind != "ssh" or identity.public_key is None:
            continue
        try:
            sshsig.verify(signature, payload, "git", sshsig.parse_public_key(identity.public_key))
        except (TrustError, ValueError):
            continue
        return True
    return False


def tags(ctx: Context) -> Iterable[Finding]:
    if ctx.refs is None:
        return
    actual = ctx.refs.tags()
    expected = _expected_tags(ctx)
    for name, (path, content) in sorted(expected.items()):
        commit = actual.get(name)
        if commit is None:
            yield Finding(f"refs/tags/{name}", "TAG_MISSING", "no tag for this record", path,
                          hint="tags are written by docket; fetch them (`git fetch --tags`)")
            continue
        old = ctx.refs.tree_at(commit).read(path)
        if old is None or content not in old.decode("utf-8", errors="replace"):
            yield Finding(f"refs/tags/{name}", "TAG_MISMATCH", f"points at {commit[:12]}, whose record differs",
                          path, hint="a tag was moved or forged; restore it from a trusted clone")
        elif not _tag_signed(ctx, name):
            yield Finding(f"refs/tags/{name}", "TAG_MISMATCH", "tag is not signed by a policy identity", path,
                          hint="a tag was forged; delete it and restore it from a trusted clone")
    for name in sorted(set(actual) - set(expected)):
        if _is_docket_tag(name):
            yield Finding(f"refs/tags/{name}", "TAG_MISMATCH", "tag in docket's namespace with no record",
                          hint="delete the forged tag")


CHECKS.extend([scope_contents, frozen_snapshots, documents, package_references, forks, tags])

from docket.verify import releases as _releases  # noqa: E402,F401 - registers the bundle and environment checks
