"""The keyless check against a REAL production Sigstore bundle, offline: the pypi-attestations
0.0.30 sdist's test asset (Trail of Bits, Apache-2.0), signed keylessly in GitHub Actions by
``trailofbits/pypi-attestation-models``' release workflow in June 2024: a DSSE in-toto statement
naming the artifact's sha256, a Fulcio certificate with GitHub's claims, a Rekor entry. Checked
against the production trusted root shipped in the sigstore wheel, pinned the way ``gitdocket
policy pin-root`` pins it, with every socket connection refused.

The files are fetched once by ``make test`` (``tools/sigstore-fixture/fetch.py``), never here."""

from __future__ import annotations

import base64
import copy
import json
import socket
from pathlib import Path
from typing import Any

import pytest

from gitdocket.adapters.keyless import KeylessCheck
from gitdocket.core.canonical import sha256_hex
from gitdocket.core.log import SigstoreSignature
from gitdocket.core.tree import MemoryTree
from gitdocket.errors import TrustError
from gitdocket.lifecycles.policy import Identity, PolicyState, trusted_root_path
from gitdocket.ops.policies import github_identity, production_root
from tests.sigstore_instance import INSTANCE

FIXTURE = Path(__file__).resolve().parents[1] / "data" / "sigstore-production"
ARTIFACT = "pypi_attestation_models-0.0.4a2.tar.gz"
WORKFLOW = "trailofbits/pypi-attestation-models/.github/workflows/release.yml@refs/tags/v0.0.4a2"


@pytest.fixture(autouse=True)
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """No network: any connection attempt fails the test."""

    def refuse(*_args: object) -> None:
        raise AssertionError("the offline check tried to connect")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def _files() -> tuple[bytes, dict[str, Any]]:
    artifact, bundle = FIXTURE / ARTIFACT, FIXTURE / f"{ARTIFACT}.sigstore"
    assert bundle.is_file(), f"{bundle} is missing: `make test` fetches it (tools/sigstore-fixture/fetch.py)"
    loaded: dict[str, Any] = json.loads(bundle.read_bytes())
    return artifact.read_bytes(), loaded


def _identity(**claims: str) -> Identity:
    issuer, subject, pinned = github_identity(WORKFLOW)
    return Identity(name="release", kind="sigstore", issuer=issuer, subject=subject, claims={**pinned, **claims})


def _check(bundle: dict[str, Any], payload: bytes, identity: Identity, root: bytes | None = None) -> None:
    raw = root if root is not None else production_root()[0]
    digest = "sha256:" + sha256_hex(raw)
    check = KeylessCheck(MemoryTree({trusted_root_path(digest): raw}))
    entry = SigstoreSignature(kind="sigstore", principal=identity.name, bundle=bundle)
    check(entry, identity, payload, PolicyState(phase="active", version=1, trusted_root=digest))


def test_the_production_bundle_verifies_offline_against_the_pinned_production_root() -> None:
    artifact, bundle = _files()
    _check(bundle, artifact, _identity(runner="github-hosted"))


@pytest.mark.parametrize(
    ("identity", "named"),
    [
        pytest.param(_identity(repository="https://github.com/trailofbits/other"), "repository", id="wrong-repository"),
        pytest.param(
            _identity(
                workflow="https://github.com/trailofbits/pypi-attestation-models/.github/workflows/ci.yml@refs/tags/v0.0.4a2"
            ),
            "workflow",
            id="wrong-workflow",
        ),
        pytest.param(_identity(ref="refs/heads/main"), "ref", id="wrong-ref"),
        pytest.param(_identity(runner="self-hosted"), "runner", id="wrong-runner"),
        pytest.param(
            _identity().model_copy(update={"issuer": "https://accounts.google.com"}), "issuer", id="wrong-issuer"
        ),
        pytest.param(
            _identity().model_copy(
                update={"subject": "https://github.com/evil/x/.github/workflows/r.yml@refs/heads/main"}
            ),
            "identity",
            id="wrong-identity",
        ),
    ],
)
def test_a_claim_that_differs_is_named(identity: Identity, named: str) -> None:
    artifact, bundle = _files()
    with pytest.raises(TrustError, match=f"certificate {named} is "):
        _check(bundle, artifact, identity)


def test_the_bundle_for_another_payload_is_refused() -> None:
    artifact, bundle = _files()
    with pytest.raises(TrustError, match="the bundle signs another payload"):
        _check(bundle, artifact + b"\0", _identity())


def test_a_tampered_production_bundle_is_refused() -> None:
    artifact, bundle = _files()
    tampered = copy.deepcopy(bundle)
    signature = tampered["dsseEnvelope"]["signatures"][0]
    raw = bytearray(base64.b64decode(signature["sig"]))
    raw[10] ^= 0x01
    signature["sig"] = base64.b64encode(bytes(raw)).decode()
    with pytest.raises(TrustError) as info:
        _check(tampered, artifact, _identity())
    assert "\n" not in info.value.message


def test_the_production_bundle_under_another_pinned_root_is_refused() -> None:
    artifact, bundle = _files()
    with pytest.raises(TrustError, match="does not chain to the pinned root"):
        _check(bundle, artifact, _identity(), root=INSTANCE.trusted_root())
