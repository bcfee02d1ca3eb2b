"""The offline check of one keyless signature (``adapters.keyless.KeylessCheck``) against bundles
the generated Sigstore makes and then breaks: each bad bundle is one clear reason, never a
traceback, and the pinned root decides. sigstore-python's ``Verifier`` does the checking."""

from __future__ import annotations

import base64
import copy
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from gitdocket.adapters.keyless import KeylessCheck
from gitdocket.core.canonical import sha256_hex
from gitdocket.core.log import SigstoreSignature
from gitdocket.core.tree import MemoryTree
from gitdocket.errors import TrustError
from gitdocket.lifecycles.policy import Identity, PolicyState, trusted_root_path
from tests.sigstore_instance import INSTANCE, SigstoreInstance, github_claims

AT = datetime(2026, 1, 1, tzinfo=UTC)
PAYLOAD = b'{"event":{"seq":1},"scope":"registry/archetypes/a"}'
CLAIMS = github_claims("acme/registry/.github/workflows/deployment-promote.yml")
CI = Identity(
    name="ci",
    kind="sigstore",
    issuer=CLAIMS["issuer"],
    subject=CLAIMS["subject"],
    claims={"repository": CLAIMS["repository"], "workflow": CLAIMS["workflow"], "ref": CLAIMS["ref"]},
)


def _pinned(instance: SigstoreInstance = INSTANCE) -> tuple[KeylessCheck, PolicyState]:
    raw = instance.trusted_root()
    digest = "sha256:" + sha256_hex(raw)
    policy = PolicyState(phase="active", version=2, trusted_root=digest)
    return KeylessCheck(MemoryTree({trusted_root_path(digest): raw})), policy


def _check(bundle: dict[str, Any], payload: bytes = PAYLOAD, identity: Identity = CI) -> None:
    check, policy = _pinned()
    check(SigstoreSignature(kind="sigstore", principal="ci", bundle=bundle), identity, payload, policy)


def _good() -> dict[str, Any]:
    return INSTANCE.sign(PAYLOAD, CLAIMS, AT)


def _flip(text: str) -> str:
    raw = bytearray(base64.b64decode(text))
    raw[len(raw) // 2] ^= 0x01
    return base64.b64encode(bytes(raw)).decode()


def _entry(bundle: dict[str, Any]) -> dict[str, Any]:
    entry: dict[str, Any] = bundle["verificationMaterial"]["tlogEntries"][0]
    return entry


def _edited(change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    bundle = copy.deepcopy(_good())
    change(bundle)
    return bundle


def test_a_good_bundle_verifies_offline_against_the_pinned_root() -> None:
    _check(_good())


BAD = [
    pytest.param({"mediaType": "nonsense"}, "the Sigstore bundle does not parse", id="bundle-does-not-parse"),
    pytest.param(
        _edited(lambda b: b["verificationMaterial"].update(tlogEntries=[])),
        "the Sigstore bundle does not parse",
        id="log-entry-missing",
    ),
    pytest.param(
        _edited(
            lambda b: _entry(b)["inclusionPromise"].update(
                signedEntryTimestamp=_flip(_entry(b)["inclusionPromise"]["signedEntryTimestamp"])
            )
        ),
        "the transparency log entry does not verify",
        id="log-entry-promise-forged",
    ),
    pytest.param(
        _edited(
            lambda b: _entry(b)["inclusionProof"]["checkpoint"].update(
                envelope=_entry(b)["inclusionProof"]["checkpoint"]["envelope"].replace("\n1\n", "\n2\n", 1)
            )
        ),
        "the transparency log entry does not verify",
        id="log-checkpoint-forged",
    ),
    pytest.param(
        _edited(lambda b: b["messageSignature"].update(signature=_flip(b["messageSignature"]["signature"]))),
        "the bundle signs another payload, or was altered",
        id="signature-tampered",
    ),
    pytest.param(
        INSTANCE.sign(PAYLOAD, CLAIMS, AT, logged_at=AT + timedelta(hours=1)),
        "the signing certificate was not valid at the log entry's time",
        id="certificate-expired-at-the-log-time",
    ),
    pytest.param(
        SigstoreInstance(seed="another-sigstore").sign(PAYLOAD, CLAIMS, AT),
        "the signing certificate does not chain to the pinned root",
        id="certificate-from-another-ca",
    ),
]


@pytest.mark.parametrize(("bundle", "words"), BAD)
def test_a_bad_bundle_is_one_clear_reason(bundle: dict[str, Any], words: str) -> None:
    with pytest.raises(TrustError) as info:
        _check(bundle)
    message = info.value.message
    assert "\n" not in message
    assert message.startswith(words), message


def test_a_bundle_for_another_payload_is_refused() -> None:
    with pytest.raises(TrustError, match="signs another payload"):
        _check(_good(), payload=PAYLOAD + b" ")


def test_a_policy_without_a_pinned_root_trusts_no_bundle() -> None:
    check, _ = _pinned()
    unpinned = PolicyState(phase="active", version=1)
    with pytest.raises(TrustError, match="pins no Sigstore trusted root"):
        check(SigstoreSignature(kind="sigstore", principal="ci", bundle=_good()), CI, PAYLOAD, unpinned)


def test_a_pinned_root_missing_from_the_snapshot_trusts_no_bundle() -> None:
    _, policy = _pinned()
    empty = KeylessCheck(MemoryTree({}))
    with pytest.raises(TrustError, match="is missing"):
        empty(SigstoreSignature(kind="sigstore", principal="ci", bundle=_good()), CI, PAYLOAD, policy)


def test_an_extra_pinned_claim_the_certificate_lacks_is_named() -> None:
    strict = CI.model_copy(update={"claims": {**CI.claims, "repository_id": "999"}})
    with pytest.raises(TrustError, match="certificate repository_id is '1234', the policy pins '999'"):
        _check(_good(), identity=strict)
