"""Version operations: draft, freeze (with the snapshot and its completeness), retire, abandon."""

from __future__ import annotations

from gitdocket.core.canonical import loads_strict, sha256_hex
from gitdocket.core.documents import parse_document
from gitdocket.core.fields import format_time
from gitdocket.core.limits import MAX_FILE_BYTES, MAX_FOLDER_FILES, is_lfs_pointer
from gitdocket.core.scopes import Scope, check_version
from gitdocket.core.secrets import find_secrets
from gitdocket.core.tree import TreeRef, TreeView
from gitdocket.errors import InputError, InvariantError, NotFoundError
from gitdocket.lifecycles import scope
from gitdocket.lifecycles.config import allow_hint
from gitdocket.lifecycles.invariants import NO_SECRETS_RECORDED, VERSIONS_MONOTONIC
from gitdocket.lifecycles.placement import PLACEMENT_IS_CONFIG_ONLY
from gitdocket.lifecycles.risk import check_approvals
from gitdocket.lifecycles.version import (
    FREEZE_PINS_CONTENT,
    FREEZE_REQUIRES_COMPLETE_SNAPSHOT,
    AgentConfig,
    FileEntry,
    Provenance,
    Snapshot,
    VersionState,
    baseline_of,
    blocking_version,
    content_hash,
)
from gitdocket.ops.documents import allowed_secrets, archetype_doc
from gitdocket.ops.transaction import Transaction
from gitdocket.verify.agents import freeze_approvals, snapshot_agent
from gitdocket.verify.tags import tag_message, tag_name

__all__ = ["abandon", "draft", "freeze", "frozen_as_committed", "retire", "snapshot_of"]


def _require_archetype(tx: Transaction, name: str) -> None:
    if tx.state(scope("archetype", name)).phase != "active":
        raise NotFoundError(f"no archetype {name!r}", "list them with `gitdocket archetype list`")


def _method_tree(tx: Transaction, name: str) -> str:
    path = f"registry/archetypes/{name}/method"
    tree = tx.tree.tree_id(path)
    if tree is None:
        raise InvariantError(
            f"{path}/ is missing or empty",
            FREEZE_REQUIRES_COMPLETE_SNAPSHOT,
            "add instructions.md and .agent-config.json, commit, then freeze",
        )
    return tree


def _check_monotonic(tx: Transaction, name: str, version: str) -> None:
    newest = blocking_version(version, listed_versions(tx.tree, name))
    if newest is not None:
        raise InvariantError(
            f"version {version} of {name} is not newer than {newest}",
            VERSIONS_MONOTONIC,
            "choose a higher version number",
        )


def draft(tx: Transaction, name: str, version: str) -> Scope[VersionState]:
    """Open (or revise) the draft ``name`` ``version`` from the archetype's committed method."""
    check_version(version)
    _require_archetype(tx, name)
    target = scope("version", name, version)
    state = tx.state(target)
    tree = _method_tree(tx, name)
    if state.phase == "init":
        _check_monotonic(tx, name, version)
        tx.apply(target, "CreateDraft", {"method_tree": tree})
    elif state.phase == "draft" and state.draft_tree != tree:
        tx.apply(target, "ReviseDraft", {"method_tree": tree})
    elif state.phase != "draft":
        tx.check(target, "ReviseDraft")  # refused: FROZEN_VERSION_IMMUTABLE
    return target


def snapshot_of(tx: Transaction, target: Scope[VersionState], tree: str) -> Snapshot:
    """The freeze record of version ``target``: its archetype's method folder as committed in
    ``tx.tree``."""
    name, version = target.keys
    base = f"registry/archetypes/{name}/method"
    manifest: dict[str, FileEntry] = {}
    for rel, kind, oid in tx.tree.walk(base):
        if kind not in ("blob", "exec"):
            what = "symlink" if kind == "link" else "submodule" if kind == "commit" else kind
            raise InvariantError(
                f"{base}/{rel} is a {what}: a pointer, not content",
                FREEZE_PINS_CONTENT,
                "a method holds regular files only; put the content itself in the method",
            )
        if len(manifest) >= MAX_FOLDER_FILES:
            raise InvariantError(
                f"{base}/ holds more than {MAX_FOLDER_FILES} files", FREEZE_PINS_CONTENT, "trim the method"
            )
        data = tx.tree.read(f"{base}/{rel}") or b""
        if len(data) > MAX_FILE_BYTES:
            raise InvariantError(
                f"{base}/{rel} is larger than {MAX_FILE_BYTES // 1024} KiB",
                FREEZE_PINS_CONTENT,
                "keep large assets out of the method",
            )
        if is_lfs_pointer(data):
            raise InvariantError(
                f"{base}/{rel} is a Git LFS pointer: its content is stored elsewhere",
                FREEZE_PINS_CONTENT,
                "commit the file's content itself (`git lfs untrack`, then re-add it)",
            )
        manifest[rel] = FileEntry(sha256=sha256_hex(data), blob=oid, size=len(data))
    config_path = f"{base}/.agent-config.json"
    raw = tx.tree.read(config_path)
    if raw is None:
        raise InvariantError(
            f"{config_path} is missing",
            FREEZE_REQUIRES_COMPLETE_SNAPSHOT,
            "add the agent configuration (model, skills, tools)",
        )
    config = parse_document(AgentConfig, raw, config_path, loads_strict)
    doc = archetype_doc(tx.tree, name)
    provenance = Provenance(
        source_commit=tx.tree.commit or "0" * 40,
        frozen_by=tx.actor_in(target, "FreezeVersion"),
        frozen_at=format_time(tx.at),
    )
    clashing = sorted(set(doc.editable) & set(loads_strict(raw, config_path)))
    if clashing:
        raise InvariantError(
            f"editable key {clashing[0]!r} of archetype.yaml is a field of {config_path}",
            PLACEMENT_IS_CONFIG_ONLY,
            "a placement never changes the method: remove it from `editable` in archetype.yaml",
        )
    return Snapshot(
        method_tree=tree,
        baseline=_baseline(tx, name, version),
        manifest=manifest,
        agent_config=config,
        protection_posture=doc.protection,
        provenance=provenance,
        content_hash=content_hash(manifest),
        editable=doc.editable,
    )


def _baseline(tx: Transaction, name: str, version: str) -> str | None:
    """``baseline_of`` ``version``, reading the state of the one or two versions it asks about,
    not every version's (ADR 0033)."""
    listed = listed_versions(tx.tree, name)
    return baseline_of(version, listed, lambda v: tx.state(scope("version", name, v)).snapshot is not None)


def listed_versions(tree: TreeView, name: str) -> list[str]:
    """The version folders of archetype ``name``; an entry that is no version is refused by name
    (the rules compare versions by the semver order)."""
    folder = f"registry/versions/{name}"
    listed = tree.listdir(folder)
    for entry in listed:
        try:
            check_version(entry)
        except InputError as exc:
            hint = "remove it: gitdocket writes one folder per version there"
            raise InputError(f"{folder}/{entry}: not a version's folder ({exc.message})", hint) from exc
    return listed


def frozen_as_committed(tx: Transaction, target: Scope[VersionState]) -> Snapshot | None:
    """The snapshot of ``target`` when it is frozen with the archetype's method as committed now
    (a re-run of its freeze would freeze the same content); else None."""
    snap = tx.state(target).snapshot
    if snap is None or snap.method_tree != tx.tree.tree_id(f"registry/archetypes/{target.keys[0]}/method"):
        return None
    return snap


def _refuse_secrets(tx: Transaction, name: str) -> None:
    """No method file a freeze pins holds a secret (NO_SECRETS_RECORDED), unless the registry's
    allow-list names exactly that file: a frozen version is permanent."""
    base = f"registry/archetypes/{name}/method"
    hits = [
        hit
        for rel, _kind, _oid in tx.tree.walk(base)
        for hit in find_secrets(f"{base}/{rel}", tx.tree.read(f"{base}/{rel}") or b"")
    ]
    if hits:
        allowed = allowed_secrets(tx.tree)
        hits = [hit for hit in hits if hit.path not in allowed]
    if hits:
        more = f" (and {len(hits) - 1} more)" if len(hits) > 1 else ""
        raise InvariantError(
            f"{hits[0].describe()} holds a secret{more}",
            NO_SECRETS_RECORDED,
            allow_hint(hits[0].path),
        )


def _refuse_unapproved(tx: Transaction, name: str, version: str, snap: Snapshot) -> None:
    """The policy's risk rules for a freeze hold with the keys this write signs with
    (RISK_APPROVAL_REQUIRED): asked before any key signs, as ``verify`` asks it afterwards."""
    agent = snapshot_agent(tx.tree, f"registry/archetypes/{name}/method", name, version, snap)
    signers = {tx.principal_of(signer) for signer in tx.signers}
    check_approvals(freeze_approvals(tx.tree, tx.state, tx.policy, snap, agent, signers))


def freeze(tx: Transaction, name: str, version: str) -> Snapshot:
    """Draft if needed, then freeze: record the snapshot, place the method tree, tag it. On a
    version already frozen with the same content whose tag is missing, create the tag."""
    target = scope("version", name, check_version(version))
    if tx.state(target).phase != "init":
        snap = frozen_as_committed(tx, target)
        if snap is not None and tx.complete_tag(target, snap.content_hash, "frozen"):
            return snap
        tx.check(target, "FreezeVersion")  # frozen already: say so, not that its draft is
    target = draft(tx, name, version)
    tree = _method_tree(tx, name)
    snap = snapshot_of(tx, target, tree)
    with tx.refusing(target, "FreezeVersion"):
        _refuse_secrets(tx, name)
        _refuse_unapproved(tx, name, version, snap)
    tx.apply(target, "FreezeVersion", snap)
    tx.put(f"{target.path}/method", TreeRef(tree))
    tx.tag(tag_name(target), tag_message(target, snap.content_hash))
    return snap


def _existing(tx: Transaction, name: str, version: str) -> Scope[VersionState]:
    check_version(version)
    target = scope("version", name, version)
    if tx.state(target).phase == "init":
        raise NotFoundError(f"no version {version} of {name!r}", "list them with `gitdocket version list`")
    return target


def retire(tx: Transaction, name: str, version: str, reason: str) -> None:
    tx.apply(_existing(tx, name, version), "RetireVersion", {"reason": reason})


def abandon(tx: Transaction, name: str, version: str, reason: str) -> None:
    tx.apply(_existing(tx, name, version), "AbandonDraft", {"reason": reason})
