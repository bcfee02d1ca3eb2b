"""Verification of the signed configuration (ADR 0013), listed in ``snapshot.CHECKS``; history
mode also asks ``unsigned_in_history`` about every step, so an unsigned change that was reverted
before the head is still reported.

- ``registry/registry.yaml`` says exactly what the last signed change says (``CONFIG_DRIFT``),
  and a registry with a policy has a signed configuration at all (``CONFIG_UNSIGNED``);
- every file under a protected path (``contracts/`` always, and what ``registry.yaml`` protects)
  has the content an approval bound (``PATH_UNAPPROVED``): a cryptographic CODEOWNERS;
- every promotion recorded the sources and gate rule the signed configuration in force at its
  time gives its environment, and every bundle the evidence it required (``CONFIG_NOT_FOLLOWED``):
  an event a promoter or builder signed cannot bring its own rules.

Pure: reads a ``TreeView`` through the context.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from gitdocket.core.canonical import loads_strict, sha256_hex
from gitdocket.core.documents import REGISTRY_YAML, ProtectedPath, RegistryConfig, parse_document
from gitdocket.core.tree import TreeView
from gitdocket.errors import DocketError
from gitdocket.lifecycles.config import (
    CONFIG_ROLE,
    CONFIG_SCOPE,
    CONFIG_SIGNED,
    PROTECTED_PATHS_APPROVED,
    ConfigState,
    guard_of,
    protected_paths,
    unapproved,
)
from gitdocket.lifecycles.environment import ENVIRONMENT_TRANSITION_ALLOWED, GATE_REQUIRED
from gitdocket.lifecycles.policy import POLICY_SCOPE
from gitdocket.verify.context import Context, ScopeRecord
from gitdocket.verify.findings import Finding

__all__ = [
    "APPLY",
    "configuration",
    "difference",
    "policy_present",
    "protected_files",
    "signer_words",
    "unsigned_in_history",
]

APPLY = "gitdocket config apply"


def protected_files(tree: TreeView, guards: Iterable[ProtectedPath]) -> dict[str, str]:
    """Every file ``tree`` holds under ``guards``: path → sha256 of its bytes (a link or a
    submodule hashes as its kind and object id, so it never matches a file's approval)."""
    out: dict[str, str] = {}
    for guard in guards:
        if guard.path.endswith("/"):
            base = guard.path.removesuffix("/")
            entries = [(f"{base}/{rel}", kind, oid) for rel, kind, oid in tree.walk(base)]
        else:
            kind = tree.kind(guard.path)
            entries = [(guard.path, kind, "")] if kind is not None and kind != "tree" else []
        for path, kind, oid in entries:
            data = tree.read(path) if kind in ("blob", "exec") else None
            out[path] = sha256_hex(data) if data is not None else sha256_hex(f"{kind}:{oid}".encode())
    return dict(sorted(out.items()))


def difference(signed: Mapping[str, Any], found: Mapping[str, Any], where: str = "") -> str | None:
    """The first field (dotted path, list items by index or name) where ``found`` differs from
    ``signed``, or None when they are equal."""
    for key in sorted(set(signed) | set(found)):
        a, b = signed.get(key), found.get(key)
        path = f"{where}.{key}" if where else key
        if a == b:
            continue
        if isinstance(a, dict) and isinstance(b, dict):
            return difference(a, b, path)
        if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
            for index, (x, y) in enumerate(zip(a, b, strict=True)):
                if x != y:
                    name = x.get("name") if isinstance(x, dict) else None
                    item = f"{path}.{name}" if isinstance(name, str) and name == y.get("name") else f"{path}[{index}]"
                    return difference(x, y, item) if isinstance(x, dict) and isinstance(y, dict) else item
        return path
    return None


def _signed(ctx: Context) -> ConfigState | None:
    record = ctx.record(CONFIG_SCOPE)
    if record is None or not record.events or record.broken:
        return None
    return record.state


def policy_present(ctx: Context) -> Iterable[Finding]:
    """Nothing can be verified without a trust policy: a repository without one is no registry
    (or lost its policy), and says so instead of "OK"."""
    if ctx.record(POLICY_SCOPE) is None and POLICY_SCOPE not in ctx.missing:  # else SCOPE_DELETED says it
        yield Finding(
            "registry/policy",
            "POLICY_MISSING",
            "this repository has no trust policy, so nothing in it can be verified",
            "policy",
            hint="create a registry with `gitdocket init`; in one that had it, restore registry/policy from git",
        )


def _unsigned(ctx: Context) -> Iterator[Finding]:
    if ctx.record(CONFIG_SCOPE) is None and ctx.record(POLICY_SCOPE) is not None:
        yield Finding(
            REGISTRY_YAML,
            "CONFIG_UNSIGNED",
            "is not signed: the registry has no signed configuration (registry/config)",
            "config",
            CONFIG_SIGNED,
            f"a root holder signs what it says: `{APPLY}`",
        )


def _drift(ctx: Context, state: ConfigState) -> Iterator[Finding]:
    raw = ctx.tree.read(REGISTRY_YAML)
    if raw is None or state.registry is None:
        return  # a missing file is DOCUMENT_INVALID (verify.contents.registry_document)
    try:
        found = parse_document(RegistryConfig, raw, REGISTRY_YAML, ctx.parse_yaml)
    except DocketError:
        return  # DOCUMENT_INVALID says why
    where = difference(state.registry.model_dump(mode="json"), found.model_dump(mode="json"))
    if where is not None:
        yield Finding(
            REGISTRY_YAML,
            "CONFIG_DRIFT",
            f"{where} differs from the signed configuration (v{state.version}); nothing unsigned decides anything",
            "config",
            CONFIG_SIGNED,
            f"sign the change: `{APPLY}` (by root, or the config role), or revert the file",
        )


def _protected(ctx: Context, state: ConfigState) -> Iterator[Finding]:
    guards = protected_paths(state.registry)
    for path, digest in unapproved(state, protected_files(ctx.tree, guards)).items():
        guard = guard_of(guards, path)
        role = signer_words(guard.role if guard is not None else CONFIG_ROLE)
        what = "deleted" if digest is None else ("added" if path not in state.approved else "changed")
        yield Finding(
            path,
            "PATH_UNAPPROVED",
            f"{what} without an approval signed by {role} (protected path {guard.path if guard else path})",
            "config",
            PROTECTED_PATHS_APPROVED,
            f"{role} approves it: `gitdocket config approve {path}`, or revert the change",
        )


def signer_words(role: str) -> str:
    """Who signs for ``role``, in words: the config role is root's unless the policy grants it."""
    return "root (or the config role)" if role == CONFIG_ROLE else role


def _environment_rule(state: ConfigState, environment: str) -> tuple[tuple[str | None, ...], bool] | None:
    env = state.registry.environment(environment) if state.registry is not None else None
    return (env.sources, env.require_gate) if env is not None else None


def _promotions(ctx: Context, record: ScopeRecord[ConfigState]) -> Iterator[Finding]:
    for env in ctx.scopes("environment"):
        name = env.scope.keys[0]
        for event in env.events:
            if event.type != "promoted":
                continue
            candidates = record.in_force(event.at)
            recorded = (tuple(event.data.get("allowed_sources") or ()), event.data.get("require_gate"))
            rules = [_environment_rule(state, name) for state in candidates]
            if not candidates or recorded in rules:
                continue
            rule = rules[-1]
            expected = "no such environment" if rule is None else _describe(*rule)
            yield Finding(
                f"{env.scope.history_path}:{event.seq}",
                "CONFIG_NOT_FOLLOWED",
                f"promoted under {_describe(*recorded)}, but the signed configuration says {expected}",
                env.scope.label,
                ENVIRONMENT_TRANSITION_ALLOWED if rule is None or recorded[0] != rule[0] else GATE_REQUIRED,
                "promotions take their rules from the signed configuration; restore the log from git history",
            )


def _describe(sources: tuple[Any, ...], gate: Any) -> str:
    names = ", ".join("a build" if s is None else str(s) for s in sources) or "nothing"
    return f"sources [{names}] and {'a required gate' if gate else 'no required gate'}"


def _bundles(ctx: Context, record: ScopeRecord[ConfigState]) -> Iterator[Finding]:
    for bundle in ctx.scopes("bundle"):
        built = bundle.events[0] if bundle.events else None
        raw = ctx.tree.read(f"{bundle.scope.path}/bundle_manifest.json")
        if built is None or raw is None or bundle.broken:
            continue
        candidates = record.in_force(built.at)
        try:
            required = loads_strict(raw, bundle.scope.path)["evidence"]["required"]
        except (DocketError, KeyError, TypeError):
            continue  # the bundle's own checks say what is wrong with its manifest
        wanted = [sorted(set(s.registry.bundle.required_evidence)) for s in candidates if s.registry is not None]
        if candidates and required not in wanted:
            yield Finding(
                f"{bundle.scope.path}/bundle_manifest.json",
                "CONFIG_NOT_FOLLOWED",
                f"requires evidence {required}, but the signed configuration required {wanted[-1]}",
                bundle.scope.label,
                CONFIG_SIGNED,
                "build bundles with `gitdocket bundle build`, which follows the signed configuration",
            )


def configuration(ctx: Context) -> Iterable[Finding]:
    """The snapshot's configuration checks."""
    yield from _unsigned(ctx)
    state = _signed(ctx)
    record = ctx.record(CONFIG_SCOPE)
    if state is None or record is None:
        return
    yield from _drift(ctx, state)
    yield from _protected(ctx, state)
    yield from _promotions(ctx, record)
    yield from _bundles(ctx, record)


def _ever_signed(head: Context) -> tuple[list[Any], set[tuple[str, str | None]]]:
    """Every document the head's configuration log ever signed, and every (path, digest) it ever
    approved."""
    record = head.record(CONFIG_SCOPE)
    documents: list[Any] = []
    approved: set[tuple[str, str | None]] = set()
    for event in record.events if record is not None else []:
        if event.type == "config_applied":
            documents.append(event.data.get("registry"))
        files = event.data.get("files") if event.type == "paths_approved" else None
        approved.update(files.items() if isinstance(files, dict) else ())
    return documents, approved


def unsigned_in_history(steps: Iterable[Context], head: Context) -> Iterator[Finding]:
    """What a commit between two verified ones held unsigned: a ``registry.yaml`` that no change
    in the head's configuration log ever signed, a protected file's content no approval ever
    bound. Signing it in a later commit is fine (edit, then sign); reverting it is not: it was
    never signed, and it sat on the branch."""
    documents, approved = _ever_signed(head)
    for ctx in steps:
        state = _signed(ctx)
        if state is None:
            continue
        where = (ctx.tree.commit or "")[:12]
        for finding in _drift(ctx, state):
            raw = ctx.tree.read(REGISTRY_YAML) or b""
            found = parse_document(RegistryConfig, raw, REGISTRY_YAML, ctx.parse_yaml).model_dump(mode="json")
            if found not in documents:
                yield _at_commit(finding, where)
        for finding in _protected(ctx, state):
            digest = protected_files(ctx.tree, [ProtectedPath(path=finding.path)]).get(finding.path)
            if (finding.path, digest) not in approved:
                yield _at_commit(finding, where)


def _at_commit(finding: Finding, commit: str) -> Finding:
    return dataclasses.replace(finding, message=f"at commit {commit}: {finding.message}")
