"""The provenance of a promoted release: an in-toto Statement v1 with an SLSA provenance v1
predicate, in a DSSE envelope signed by the promoter (ADR 0029).

``statement`` builds it from what the promotion records (the registry commit it was planned on,
the bundle and its packages, the builder, the run, the gate report's digest, the approvals: every
principal that signed the promotion); ``envelope`` wraps it; ``provenance_problems`` checks an
envelope offline against the promotion event, the bundle manifest and the policy that judged
the event. The DSSE signature is an SSH signature (SSHSIG, namespace ``docket-provenance-v1``)
over DSSE's pre-authentication encoding, by the key the policy lists for ``keyid``. The bytes are
deterministic: canonical JSON (RFC 8785), and Ed25519 signs deterministically. Pure.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from gitdocket.core import sshsig
from gitdocket.core.canonical import canonical, loads_strict
from gitdocket.errors import DocketError
from gitdocket.lifecycles.policy import PolicyState

__all__ = [
    "BUILD_TYPE",
    "NAMESPACE",
    "PAYLOAD_TYPE",
    "PREDICATE_TYPE",
    "STATEMENT_TYPE",
    "Promotion",
    "envelope",
    "pae",
    "provenance_path",
    "provenance_problems",
    "statement",
]

STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PREDICATE_TYPE = "https://slsa.dev/provenance/v1"
PAYLOAD_TYPE = "application/vnd.in-toto+json"
BUILD_TYPE = "https://docket.dev/promotion/v1"
NAMESPACE = "docket-provenance-v1"


def provenance_path(environment: str, sequence: int) -> str:
    """Where the provenance of ``environment``'s promotion number ``sequence`` is stored."""
    return f"deployments/{environment}/provenance/{sequence}.intoto.json"


@dataclass(frozen=True)
class Promotion:
    """What a promotion records, as its provenance states it."""

    environment: str
    bundle_id: str
    sequence: int
    previous_bundle_id: str | None
    source_environment: str | None
    gated: bool
    registry_commit: str
    manifest_digest: str
    bundle_tree: str
    packages: tuple[tuple[str, str, str], ...]
    """(archetype, version, content hash) of each package the bundle carries."""
    built_by: str
    built_at: str
    report_digest: str | None
    approvals: tuple[str, ...]
    promoted_by: str
    promoted_at: str
    run: Mapping[str, str]
    """GitHub run metadata when promoted in Actions (``invocation_id``: the run's URL), else empty."""
    gitdocket_version: str


def _digest(value: str) -> dict[str, str]:
    algorithm, _, hexdigest = value.partition(":")
    return {algorithm: hexdigest}


def statement(p: Promotion) -> dict[str, Any]:
    """The in-toto Statement v1 of promotion ``p`` (SLSA provenance v1 predicate)."""
    dependencies = [{"uri": "git+registry", "digest": {"gitCommit": p.registry_commit}}]
    dependencies += [
        {"uri": f"docket:package/{a}@{v}", "digest": _digest(content)} for a, v, content in sorted(p.packages)
    ]
    byproducts = [{"name": "gate-report", "digest": _digest(p.report_digest)}] if p.report_digest else []
    metadata: dict[str, str] = {"startedOn": p.promoted_at, "finishedOn": p.promoted_at}
    if p.run.get("invocation_id"):
        metadata["invocationId"] = p.run["invocation_id"]
    return {
        "_type": STATEMENT_TYPE,
        "subject": [
            {"name": f"bundles/{p.bundle_id}/bundle_manifest.json", "digest": _digest(p.manifest_digest)},
            {"name": f"bundles/{p.bundle_id}", "digest": {"gitTree": p.bundle_tree}},
        ],
        "predicateType": PREDICATE_TYPE,
        "predicate": {
            "buildDefinition": {
                "buildType": BUILD_TYPE,
                "externalParameters": {
                    "bundle_id": p.bundle_id,
                    "environment": p.environment,
                    "source_environment": p.source_environment,
                    "gated": p.gated,
                },
                "internalParameters": {
                    "sequence": p.sequence,
                    "previous_bundle_id": p.previous_bundle_id,
                    "built_by": p.built_by,
                    "built_at": p.built_at,
                    "approvals": list(p.approvals),
                    "promoted_by": p.promoted_by,
                    "run": dict(sorted(p.run.items())),
                },
                "resolvedDependencies": dependencies,
            },
            "runDetails": {
                "builder": {"id": BUILD_TYPE, "version": {"gitdocket": p.gitdocket_version}},
                "metadata": metadata,
                "byproducts": byproducts,
            },
        },
    }


def pae(payload_type: str, payload: bytes) -> bytes:
    """DSSE's pre-authentication encoding: what the signature covers."""
    kind = payload_type.encode()
    return b"DSSEv1 %d %s %d %s" % (len(kind), kind, len(payload), payload)


def envelope(payload: bytes, signatures: Sequence[tuple[str, bytes]]) -> bytes:
    """The DSSE envelope of ``payload`` (canonical statement bytes) and its (keyid, SSHSIG)
    signatures, as canonical JSON with a trailing newline."""
    doc = {
        "payloadType": PAYLOAD_TYPE,
        "payload": base64.b64encode(payload).decode("ascii"),
        "signatures": [
            {"keyid": keyid, "sig": base64.b64encode(sig).decode("ascii")} for keyid, sig in sorted(signatures)
        ],
    }
    return canonical(doc) + b"\n"


def _opened(raw: bytes, where: str) -> tuple[dict[str, Any], bytes, list[tuple[str, bytes]]]:
    doc = loads_strict(raw, where)
    if not isinstance(doc, dict) or doc.get("payloadType") != PAYLOAD_TYPE:
        raise ValueError(f"not a DSSE envelope of {PAYLOAD_TYPE}")
    payload = base64.b64decode(str(doc.get("payload", "")), validate=True)
    signatures = [
        (str(entry.get("keyid", "")), base64.b64decode(str(entry.get("sig", "")), validate=True))
        for entry in doc.get("signatures", [])
        if isinstance(entry, dict)
    ]
    parsed = loads_strict(payload, where)
    if not isinstance(parsed, dict):
        raise ValueError("the payload is not a statement")
    return parsed, payload, signatures


def _signers(policy: PolicyState, expected: Promotion) -> tuple[str, ...]:
    """Who may sign the envelope: the promoter; for a promoter that signed keylessly (no SSH
    key), an approval, i.e. an SSH key that co-signed the same promotion event."""
    promoter = policy.identities.get(expected.promoted_by)
    if promoter is not None and promoter.kind == "sigstore":
        return expected.approvals
    return (expected.promoted_by,)


def _signature_problems(
    payload: bytes, signatures: list[tuple[str, bytes]], policy: PolicyState, signers: tuple[str, ...]
) -> list[str]:
    signed = pae(PAYLOAD_TYPE, payload)
    for keyid, sig in signatures:
        identity = policy.identities.get(keyid)
        if keyid not in signers or identity is None or identity.public_key is None:
            continue
        try:
            sshsig.verify(sig, signed, NAMESPACE, sshsig.parse_public_key(identity.public_key))
        except (DocketError, ValueError) as exc:
            return [f"the signature by {keyid} does not verify: {exc}"]
        return []
    return [f"not signed by the promoter {' or '.join(signers)}"]


def provenance_problems(raw: bytes | None, expected: Promotion, policy: PolicyState, where: str) -> list[str]:
    """Why ``raw`` is not the provenance of promotion ``expected``: it is missing or malformed,
    its statement differs from what the registry records, or the promoter's signature under
    ``policy`` (the policy that judged the promotion) does not verify. Empty when it holds."""
    if raw is None:
        return [f"{where} is missing"]
    try:
        found, payload, signatures = _opened(raw, where)
    except (DocketError, ValueError, binascii.Error) as exc:
        return [f"{where} is not a provenance envelope: {exc}"]
    problems = []
    want = statement(expected)
    # The run is what the promoter's environment said: it is stated, not derivable; everything
    # else must be exactly what the registry records.
    found_run = found.get("predicate", {}).get("buildDefinition", {}).get("internalParameters", {}).get("run", {})
    if isinstance(found_run, dict) and all(isinstance(v, str) for v in found_run.values()):
        want = statement(_with_run(expected, found_run))
    if canonical(found) != canonical(want):
        problems.append(f"{where} does not state this promotion (bundle, packages, approvals or gate report differ)")
    if payload != canonical(found):
        problems.append(f"{where}: the payload is not in canonical form")
    problems += _signature_problems(payload, signatures, policy, _signers(policy, expected))
    return problems


def _with_run(p: Promotion, run: Mapping[str, str]) -> Promotion:
    return replace(p, run=dict(run))
