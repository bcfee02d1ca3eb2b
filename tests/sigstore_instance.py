"""A Sigstore instance the tests generate: their own Fulcio-like CA, CT log and Rekor-like log
keys, a ``trusted_root.json`` that names them, and a signer that makes bundles the way Fulcio and
Rekor would (a leaf certificate with GitHub's OIDC claims and an embedded SCT, a hashedrekord log
entry with a signed checkpoint, an inclusion proof and a signed entry timestamp).

Only the OIDC token and the Fulcio and Rekor network calls are stood in for: sigstore-python's
own ``Verifier`` checks everything this makes (``gitdocket.adapters.keyless``). Deterministic keys
(derived from a seed), so a bundle made twice from the same inputs is the same but for ECDSA's
random nonces.
"""

from __future__ import annotations

import base64
import hashlib
import json
import struct
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import rfc8785
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

GITHUB_ISSUER = "https://token.actions.githubusercontent.com"
SCT_OID = x509.ObjectIdentifier("1.3.6.1.4.1.11129.2.4.2")


def _key(seed: str) -> ec.EllipticCurvePrivateKey:
    scalar = int.from_bytes(hashlib.sha256(seed.encode()).digest(), "big") % (2**255)
    return ec.derive_private_key(scalar, ec.SECP256R1())


def _spki(key: ec.EllipticCurvePublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _utf8(value: str) -> bytes:
    """DER UTF8String, as Fulcio encodes its v2 extensions."""
    raw = value.encode()
    assert len(raw) < 128
    return bytes([0x0C, len(raw)]) + raw


def github_claims(workflow: str, ref: str = "refs/heads/main", repository_id: str = "1234") -> dict[str, str]:
    """The claims of a GitHub Actions run of ``workflow`` (``OWNER/REPO/.github/workflows/F.yml``)
    at ``ref``: the Fulcio extension values, keyed by the names a policy pins."""
    owner, repo, path = workflow.split("/", 2)
    uri = f"https://github.com/{owner}/{repo}/{path}@{ref}"
    return {
        "subject": uri,
        "issuer": GITHUB_ISSUER,
        "repository": f"https://github.com/{owner}/{repo}",
        "repository_id": repository_id,
        "owner": f"https://github.com/{owner}",
        "workflow": uri,
        "ref": ref,
        "trigger": "workflow_dispatch",
        "runner": "github-hosted",
    }


_OIDS = {
    "issuer": "1.3.6.1.4.1.57264.1.8",
    "repository": "1.3.6.1.4.1.57264.1.12",
    "repository_id": "1.3.6.1.4.1.57264.1.15",
    "owner": "1.3.6.1.4.1.57264.1.16",
    "workflow": "1.3.6.1.4.1.57264.1.18",
    "ref": "1.3.6.1.4.1.57264.1.14",
    "trigger": "1.3.6.1.4.1.57264.1.20",
    "runner": "1.3.6.1.4.1.57264.1.11",
}


@dataclass
class SigstoreInstance:
    """One generated Sigstore: ``trusted_root()`` to pin, ``sign(payload, claims, at)`` for a
    bundle as Fulcio and Rekor would have made it at ``at``."""

    seed: str = "docket-test-sigstore"
    start: datetime = field(default_factory=lambda: datetime(2020, 1, 1, tzinfo=UTC))
    log_index: int = 0

    def __post_init__(self) -> None:
        self.ca_key = _key(self.seed + "/ca")
        self.ct_key = _key(self.seed + "/ct")
        self.rekor_key = _key(self.seed + "/rekor")
        name = x509.Name(
            [
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, "docket.test"),
                x509.NameAttribute(NameOID.COMMON_NAME, "test-fulcio"),
            ]
        )
        ski = x509.SubjectKeyIdentifier.from_public_key(self.ca_key.public_key())
        self.ca = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(self.ca_key.public_key())
            .serial_number(1)
            .not_valid_before(self.start)
            .not_valid_after(self.start + timedelta(days=365 * 30))
            .add_extension(x509.BasicConstraints(ca=True, path_length=1), critical=True)
            .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
            .add_extension(ski, critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski), critical=False)
            .sign(self.ca_key, hashes.SHA384())
        )

    # -- the trusted root -----------------------------------------------------------------------

    def _log(self, key: ec.EllipticCurvePrivateKey, url: str) -> dict[str, Any]:
        spki = _spki(key.public_key())
        return {
            "baseUrl": url,
            "hashAlgorithm": "SHA2_256",
            "publicKey": {
                "rawBytes": _b64(spki),
                "keyDetails": "PKIX_ECDSA_P256_SHA_256",
                "validFor": {"start": self.start.strftime("%Y-%m-%dT%H:%M:%SZ")},
            },
            "logId": {"keyId": _b64(hashlib.sha256(spki).digest())},
        }

    def trusted_root(self) -> bytes:
        root = {
            "mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
            "tlogs": [self._log(self.rekor_key, "https://rekor.docket.test")],
            "certificateAuthorities": [
                {
                    "subject": {"organization": "docket.test", "commonName": "test-fulcio"},
                    "uri": "https://fulcio.docket.test",
                    "certChain": {
                        "certificates": [{"rawBytes": _b64(self.ca.public_bytes(serialization.Encoding.DER))}]
                    },
                    "validFor": {"start": self.start.strftime("%Y-%m-%dT%H:%M:%SZ")},
                }
            ],
            "ctlogs": [self._log(self.ct_key, "https://ctfe.docket.test")],
            "timestampAuthorities": [],
        }
        return json.dumps(root, indent=2, sort_keys=True).encode() + b"\n"

    # -- Fulcio ---------------------------------------------------------------------------------

    def _leaf(
        self, key: ec.EllipticCurvePrivateKey, claims: dict[str, str], at: datetime, life: timedelta
    ) -> x509.Certificate:
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([]))
            .issuer_name(self.ca.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(at - timedelta(seconds=5))
            .not_valid_after(at - timedelta(seconds=5) + life)
            .add_extension(x509.KeyUsage(True, False, False, False, False, False, False, False, False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CODE_SIGNING]), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(self.ca_key.public_key()), critical=False)
            .add_extension(
                x509.SubjectAlternativeName([x509.UniformResourceIdentifier(claims["subject"])]), critical=True
            )
            .add_extension(
                x509.UnrecognizedExtension(x509.ObjectIdentifier("1.3.6.1.4.1.57264.1.1"), claims["issuer"].encode()),
                critical=False,
            )
        )
        for name, oid in _OIDS.items():
            if name in claims:
                builder = builder.add_extension(
                    x509.UnrecognizedExtension(x509.ObjectIdentifier(oid), _utf8(claims[name])), critical=False
                )
        precert = builder.sign(self.ca_key, hashes.SHA256())
        sct = self._sct(precert, at)
        return builder.add_extension(x509.UnrecognizedExtension(SCT_OID, sct), critical=False).sign(
            self.ca_key, hashes.SHA256()
        )

    def _sct(self, precert: x509.Certificate, at: datetime) -> bytes:
        """An RFC 6962 SCT over the precertificate, as the DER OCTET STRING of the SCT list."""
        tbs = precert.tbs_certificate_bytes
        issuer_key_hash = hashlib.sha256(_spki(self.ca_key.public_key())).digest()
        millis = int(at.timestamp() * 1000)
        signed = (
            struct.pack("!BBQH", 0, 0, millis, 1)
            + issuer_key_hash
            + len(tbs).to_bytes(3, "big")
            + tbs
            + struct.pack("!H", 0)
        )
        signature = self.ct_key.sign(signed, ec.ECDSA(hashes.SHA256()))
        log_id = hashlib.sha256(_spki(self.ct_key.public_key())).digest()
        sct = (
            struct.pack("!B", 0)
            + log_id
            + struct.pack("!QH", millis, 0)
            + struct.pack("!BBH", 4, 3, len(signature))
            + signature
        )
        sct_list = struct.pack("!H", len(sct) + 2) + struct.pack("!H", len(sct)) + sct
        return bytes([0x04]) + _der_len(len(sct_list)) + sct_list

    # -- Rekor ----------------------------------------------------------------------------------

    def _note(self, text: str) -> str:
        spki = _spki(self.rekor_key.public_key())
        key_hint = hashlib.sha256(spki).digest()[:4]
        signature = self.rekor_key.sign(text.encode(), ec.ECDSA(hashes.SHA256()))
        return f"{text}\n\u2014 rekor.docket.test {_b64(key_hint + signature)}\n"

    def _entry(self, body: bytes, at: datetime) -> dict[str, Any]:
        spki = _spki(self.rekor_key.public_key())
        log_id = hashlib.sha256(spki).digest()
        leaf = hashlib.sha256(b"\x00" + body).digest()  # a log of one leaf: the root is the leaf hash
        integrated = int(at.timestamp())
        index = self.log_index
        checkpoint = self._note(f"rekor.docket.test - 1\n1\n{_b64(leaf)}\n")
        promise = rfc8785.dumps(
            {"body": _b64(body), "integratedTime": integrated, "logID": log_id.hex(), "logIndex": index}
        )
        return {
            "logIndex": str(index),
            "logId": {"keyId": _b64(log_id)},
            "kindVersion": {"kind": "hashedrekord", "version": "0.0.1"},
            "integratedTime": str(integrated),
            "inclusionPromise": {"signedEntryTimestamp": _b64(self.rekor_key.sign(promise, ec.ECDSA(hashes.SHA256())))},
            "inclusionProof": {
                "logIndex": str(index),
                "rootHash": _b64(leaf),
                "treeSize": "1",
                "hashes": [],
                "checkpoint": {"envelope": checkpoint},
            },
            "canonicalizedBody": _b64(body),
        }

    # -- a bundle -------------------------------------------------------------------------------

    def sign(
        self,
        payload: bytes,
        claims: dict[str, str],
        at: datetime,
        *,
        life: timedelta = timedelta(minutes=10),
        logged_at: datetime | None = None,
    ) -> dict[str, Any]:
        """A v0.3 bundle: ``payload`` signed by a fresh key certified for ``claims`` at ``at``
        (valid ``life``), logged at ``logged_at`` (default ``at``)."""
        key = ec.generate_private_key(ec.SECP256R1())
        cert = self._leaf(key, claims, at, life)
        signature = key.sign(payload, ec.ECDSA(hashes.SHA256()))
        pem = cert.public_bytes(serialization.Encoding.PEM)
        body = rfc8785.dumps(
            {
                "apiVersion": "0.0.1",
                "kind": "hashedrekord",
                "spec": {
                    "data": {"hash": {"algorithm": "sha256", "value": hashlib.sha256(payload).hexdigest()}},
                    "signature": {"content": _b64(signature), "publicKey": {"content": _b64(pem)}},
                },
            }
        )
        return {
            "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
            "verificationMaterial": {
                "certificate": {"rawBytes": _b64(cert.public_bytes(serialization.Encoding.DER))},
                "tlogEntries": [self._entry(body, logged_at or at)],
            },
            "messageSignature": {
                "messageDigest": {"algorithm": "SHA2_256", "digest": _b64(hashlib.sha256(payload).digest())},
                "signature": _b64(signature),
            },
        }


def _der_len(n: int) -> bytes:
    if n < 128:
        return bytes([n])
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(raw)]) + raw


INSTANCE = SigstoreInstance()
"""The tests' Sigstore: the same keys in every process (derived from the seed)."""
CLAIMS_ENV = "DOCKET_TEST_SIGSTORE_CLAIMS"
SIGNER = "tests.sigstore_instance:sign_as_workflow"
"""What ``GITDOCKET_SIGSTORE_SIGNER`` names to sign with the tests' Sigstore instead of Fulcio and
Rekor (the stand-in for GitHub's OIDC token and the two network calls)."""


def workflow_env(workflow: str, override: dict[str, str] | None = None) -> dict[str, str]:
    """The environment a keyless write needs: the claims its certificate will carry (a run of
    ``workflow`` on main, but for ``override``)."""
    return {CLAIMS_ENV: json.dumps({**github_claims(workflow), **(override or {})})}


def sign_as_workflow(payload: bytes) -> dict[str, Any]:
    """``KeylessSigner``'s signing function for the tests: a bundle for the claims in
    ``DOCKET_TEST_SIGSTORE_CLAIMS``, or else for the running workflow (``GITHUB_WORKFLOW_REF``:
    what GitHub's OIDC token would say), certified and logged at ``GITDOCKET_NOW`` (the write's
    time) or now."""
    import os

    if CLAIMS_ENV in os.environ:
        claims = json.loads(os.environ[CLAIMS_ENV])
    else:
        workflow, _, ref = os.environ["GITHUB_WORKFLOW_REF"].partition("@")
        claims = github_claims(workflow, ref)
    stamp = os.environ.get("GITDOCKET_NOW")
    at = datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC) if stamp else datetime.now(UTC)
    return INSTANCE.sign(payload, claims, at)
