"""Provenance of promoted releases: written with each promotion (signed by the promoter, in the
same commit) and checked offline by ``gitdocket provenance verify`` (``verify.provenance``)."""

from __future__ import annotations

import base64
import binascii
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from gitdocket import __version__
from gitdocket.core.canonical import canonical, loads_strict
from gitdocket.core.documents import BundleManifest
from gitdocket.core.log import Event
from gitdocket.core.tree import TreeView
from gitdocket.errors import DocketError, NotFoundError, StateError
from gitdocket.lifecycles import scope
from gitdocket.lifecycles.authz import valid_signers
from gitdocket.lifecycles.bundle import MANIFEST
from gitdocket.ops.bundles import policy_versions
from gitdocket.ops.logs import load_log
from gitdocket.ops.transaction import Transaction
from gitdocket.verify.provenance import (
    NAMESPACE,
    PAYLOAD_TYPE,
    Promotion,
    envelope,
    pae,
    provenance_path,
    provenance_problems,
    statement,
)

__all__ = ["ProvenanceCheck", "check", "run_metadata", "write"]


def run_metadata(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The GitHub Actions run this command runs in (its URL, workflow and attempt); empty
    outside Actions."""
    env = os.environ if environ is None else environ
    run_id, repository = env.get("GITHUB_RUN_ID", ""), env.get("GITHUB_REPOSITORY", "")
    if not run_id or not repository:
        return {}
    server = env.get("GITHUB_SERVER_URL", "https://github.com")
    out = {
        "invocation_id": f"{server}/{repository}/actions/runs/{run_id}/attempts/{env.get('GITHUB_RUN_ATTEMPT', '1')}",
        "repository": repository,
        "run_id": run_id,
    }
    if env.get("GITHUB_WORKFLOW_REF"):
        out["workflow_ref"] = env["GITHUB_WORKFLOW_REF"]
    return out


def _packages(tree: TreeView, bundle_id: str) -> tuple[tuple[str, str, str], ...]:
    raw = tree.read(f"bundles/{bundle_id}/{MANIFEST}")
    if raw is None:
        raise NotFoundError(f"no bundle {bundle_id!r}", "list them with `gitdocket bundle list`")
    manifest = BundleManifest.model_validate(loads_strict(raw, f"bundles/{bundle_id}/{MANIFEST}"))
    return tuple((p.archetype, p.version, p.content_hash) for p in manifest.payload.packages)


def _promotion(
    tree: TreeView,
    environment: str,
    data: Mapping[str, object],
    commit: str,
    approvals: tuple[str, ...],
    run: Mapping[str, str],
) -> Promotion:
    bundle_id = str(data["bundle_id"])
    built = load_log(tree, scope("bundle", bundle_id)).state
    previous, source, report = data.get("previous_bundle_id"), data.get("source_environment"), data.get("report_digest")
    return Promotion(
        environment=environment,
        bundle_id=bundle_id,
        sequence=int(str(data["sequence"])),
        previous_bundle_id=str(previous) if previous else None,
        source_environment=str(source) if source else None,
        gated=bool(data.get("gated")),
        registry_commit=commit,
        manifest_digest=str(data["manifest_digest"]),
        bundle_tree=str(data["bundle_tree"]),
        packages=_packages(tree, bundle_id),
        built_by=built.built_by or "",
        built_at=built.created_at or "",
        report_digest=str(report) if report else None,
        approvals=approvals,
        promoted_by=str(data["promoted_by"]),
        promoted_at=str(data["promoted_at"]),
        run=run,
        gitdocket_version=__version__,
    )


def write(tx: Transaction, view: TreeView, environment: str) -> str:
    """Sign and stage the provenance of the promotion ``tx`` just applied to ``environment``;
    returns its path. Signed by the promoter's key; every signer of the promotion is an approval.
    ``view`` is the snapshot the promotion read its bundle from."""
    event = tx.log(scope("environment", environment)).last  # only the tail: the log may be long (ADR 0033)
    if event is None:
        raise StateError(f"no promotion of {environment} to state the provenance of", "promote a bundle first")
    approvals = tuple(sorted(tx.principal_of(s) for s in tx.signers))
    promotion = _promotion(view, environment, event.data, tx.tree.commit or "0" * 40, approvals, run_metadata())
    payload = canonical(statement(promotion))
    # The promoter's SSH key signs; a promoter that signed keylessly (a CI workflow's Sigstore
    # identity, ADR 0022) has none, so the first SSH key that co-signed the promotion does.
    keyed = {tx.principal_of(s): s for s in tx.ordered()}
    name = event.actor if event.actor in keyed else next(iter(keyed))
    path = provenance_path(environment, promotion.sequence)
    tx.put(path, envelope(payload, [(name, keyed[name].sign(pae(PAYLOAD_TYPE, payload), NAMESPACE))]))
    return path


@dataclass(frozen=True)
class ProvenanceCheck:
    """The outcome of ``gitdocket provenance verify``: which promotion, where, what is wrong."""

    environment: str
    bundle_id: str
    sequence: int
    path: str
    problems: tuple[str, ...]
    registry_commit: str


def _promoted(tree: TreeView, environment: str, bundle_id: str) -> Event:
    log = load_log(tree, scope("environment", environment))
    found = [e for e in log.events if e.type == "promoted" and e.data.get("bundle_id") == bundle_id]
    if not found:
        raise NotFoundError(
            f"{bundle_id} was never promoted to {environment}",
            f"see `gitdocket history --env {environment}`",
        )
    return found[-1]


def _stated_commit(raw: bytes | None, path: str) -> str:
    """The registry commit a provenance file states it was built from ("" when unreadable)."""
    try:
        payload = base64.b64decode(str(loads_strict(raw or b"{}", path).get("payload", "")), validate=True)
        deps = loads_strict(payload, path)["predicate"]["buildDefinition"]["resolvedDependencies"]
        return str(deps[0]["digest"]["gitCommit"])
    except (DocketError, ValueError, KeyError, IndexError, TypeError, AttributeError, binascii.Error):
        return ""


def check(tree: TreeView, environment: str, bundle_id: str, reaches: Callable[[str], bool]) -> ProvenanceCheck:
    """Check the provenance of the latest promotion of ``bundle_id`` to ``environment`` offline:
    the statement must state what the registry records, name a registry commit in this
    history (``reaches``), and carry the promoter's signature under the policy that judged
    the promotion."""
    event = _promoted(tree, environment, bundle_id)
    policies = policy_versions(tree)
    if event.policy_version >= len(policies):
        raise StateError(
            f"the promotion names policy v{event.policy_version}, which does not exist", "run `gitdocket verify`"
        )
    policy = policies[event.policy_version]
    signers, _problems = valid_signers(scope("environment", environment), event, policy)
    sequence = int(str(event.data["sequence"]))
    path = provenance_path(environment, sequence)
    raw = tree.read(path)
    commit = _stated_commit(raw, path)
    problems = [] if raw is None or reaches(commit) else [f"{path} names commit {commit[:12]!r}, not in this history"]
    expected = _promotion(tree, environment, event.data, commit, tuple(sorted(signers)), {})
    problems += provenance_problems(raw, expected, policy, path)
    return ProvenanceCheck(environment, bundle_id, sequence, path, tuple(problems), commit)
