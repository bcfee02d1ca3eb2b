"""SSHSIG: round trip, every way a signature can be malformed, and byte-for-byte agreement with
OpenSSH's ``ssh-keygen -Y sign`` / ``-Y verify`` / ``-lf`` in both directions.

The pure tests need nothing but the module; the interoperability tests run the real ssh-keygen
(OpenSSH is a hard requirement of gitdocket's agent signing) on key files in ``tmp_path``.
"""

from __future__ import annotations

import base64
import struct
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from gitdocket.core import sshsig
from gitdocket.errors import TrustError
from tests.support import det_key, write_key

MESSAGE = b"the payload gitdocket signs\n"
NS = "docket-event-v1"
ALICE = det_key("alice")
BOB = det_key("bob")


def _blob(armored: bytes) -> bytes:
    body = armored.strip()[len(sshsig.BEGIN) : -len(sshsig.END)]
    return base64.b64decode(b"".join(body.split()))


def _s(data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + data


def _fields(blob: bytes) -> list[bytes]:
    """The five length-prefixed fields after MAGIC and the version."""
    off, out = len(sshsig.MAGIC) + 4, []
    for _ in range(5):
        (n,) = struct.unpack_from(">I", blob, off)
        out.append(blob[off + 4 : off + 4 + n])
        off += 4 + n
    return out


def _rebuild(fields: list[bytes], version: int = 1, trailer: bytes = b"") -> bytes:
    blob = sshsig.MAGIC + struct.pack(">I", version) + b"".join(_s(f) for f in fields) + trailer
    return sshsig.armor(blob)


# -- pure ----------------------------------------------------------------------------------------


def test_round_trip_verifies() -> None:
    armored = sshsig.sign(ALICE, MESSAGE, NS)
    assert armored.startswith(sshsig.BEGIN + b"\n") and armored.endswith(sshsig.END + b"\n")
    sshsig.verify(armored, MESSAGE, NS, ALICE.public_key())
    assert sshsig.public_key_line(sshsig.signature_public_key(armored)) == sshsig.public_key_line(ALICE.public_key())


def test_signing_is_deterministic() -> None:
    assert sshsig.sign(ALICE, MESSAGE, NS) == sshsig.sign(ALICE, MESSAGE, NS)


def test_sha256_variant_verifies() -> None:
    armored = sshsig.sign(ALICE, MESSAGE, NS, hash_alg="sha256")
    assert _fields(_blob(armored))[3] == b"sha256"
    sshsig.verify(armored, MESSAGE, NS, ALICE.public_key())


def test_public_key_line_round_trips() -> None:
    line = sshsig.public_key_line(ALICE.public_key(), "alice@example")
    assert line.startswith("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5") and line.endswith(" alice@example")
    assert sshsig.public_key_line(sshsig.parse_public_key(line)) == line.removesuffix(" alice@example")


@pytest.mark.parametrize(
    "line",
    [
        pytest.param("", id="empty"),
        pytest.param("ssh-rsa AAAAB3NzaC1yc2E", id="rsa-type"),
        pytest.param("ssh-ed25519 not*base64", id="bad-base64"),
        pytest.param(
            "ssh-ed25519 " + base64.b64encode(_s(b"ssh-ed25519") + _s(b"x" * 31)).decode(),
            id="short-key",
        ),
        pytest.param(
            "ssh-ed25519 " + base64.b64encode(_s(b"ssh-ed25519") + _s(b"x" * 32) + b"!").decode(),
            id="trailing-bytes",
        ),
        pytest.param(
            "ssh-ed25519 " + base64.b64encode(_s(b"ssh-rsa") + _s(b"x" * 32)).decode(),
            id="blob-type-mismatch",
        ),
    ],
)
def test_parse_public_key_refuses(line: str) -> None:
    with pytest.raises(ValueError, match=r"."):
        sshsig.parse_public_key(line)


def test_wrong_namespace_is_refused() -> None:
    armored = sshsig.sign(ALICE, MESSAGE, "git")
    with pytest.raises(TrustError, match="namespace 'git' != 'docket-event-v1'"):
        sshsig.verify(armored, MESSAGE, NS, ALICE.public_key())


def test_different_key_is_refused() -> None:
    armored = sshsig.sign(BOB, MESSAGE, NS)
    with pytest.raises(TrustError, match="different key"):
        sshsig.verify(armored, MESSAGE, NS, ALICE.public_key())


def test_other_message_is_refused() -> None:
    armored = sshsig.sign(ALICE, MESSAGE, NS)
    with pytest.raises(TrustError, match="does not match the signed bytes"):
        sshsig.verify(armored, MESSAGE + b"x", NS, ALICE.public_key())


def test_substituted_embedded_key_is_refused() -> None:
    """Bob's key swapped into Alice's signature: the embedded key is Bob's, the maths fails."""
    fields = _fields(_blob(sshsig.sign(ALICE, MESSAGE, NS)))
    fields[0] = _fields(_blob(sshsig.sign(BOB, MESSAGE, NS)))[0]
    with pytest.raises(TrustError, match="does not match the signed bytes"):
        sshsig.verify(_rebuild(fields), MESSAGE, NS, BOB.public_key())


def _mutations() -> list[object]:
    good = sshsig.sign(ALICE, MESSAGE, NS)
    blob = _blob(good)
    fields = _fields(blob)
    sig_type, rest = fields[4][4 : 4 + 11], fields[4]
    raw = rest[4 + 11 + 4 :]
    assert sig_type == b"ssh-ed25519" and len(raw) == 64
    return [
        pytest.param(b"", "not an armored", id="empty"),
        pytest.param(
            good.replace(sshsig.END, b"-----END SSH SIG-----"),
            "not an armored",
            id="bad-end-marker",
        ),
        pytest.param(good + b"trailing text\n", "not an armored", id="text-after-armor"),
        pytest.param(good.replace(b"\n", b"\n*", 1), "not valid base64", id="bad-base64"),
        pytest.param(sshsig.armor(blob[:-1]), "truncated", id="truncated-by-one-byte"),
        pytest.param(sshsig.armor(blob[: len(blob) // 2]), "truncated", id="truncated-half"),
        pytest.param(sshsig.armor(blob[:10]), "truncated", id="truncated-after-version"),
        pytest.param(sshsig.armor(blob[:5]), "missing SSHSIG magic", id="truncated-in-version"),
        pytest.param(sshsig.armor(blob + b"\x00"), "trailing data", id="trailing-byte"),
        pytest.param(_rebuild(fields, trailer=_s(b"extra")), "trailing data", id="trailing-field"),
        pytest.param(sshsig.armor(b"SSHSIX" + blob[6:]), "missing SSHSIG magic", id="bad-magic"),
        pytest.param(_rebuild(fields, version=2), "unsupported SSHSIG version 2", id="version-2"),
        pytest.param(_rebuild([*fields[:3], b"md5", fields[4]]), "unsupported hash md5", id="hash-md5"),
        pytest.param(
            _rebuild([*fields[:4], _s(b"ssh-rsa") + _s(raw)]),
            "unsupported signature type",
            id="sig-type-rsa",
        ),
        pytest.param(
            _rebuild([*fields[:4], fields[4] + b"\x00"]),
            "unsupported signature type",
            id="sig-blob-trailing",
        ),
        pytest.param(
            _rebuild([*fields[:4], _s(b"ssh-ed25519") + _s(raw[:63])]),
            "does not match",
            id="sig-63-bytes",
        ),
        pytest.param(
            _rebuild([*fields[:4], _s(b"ssh-ed25519") + _s(bytes([raw[0] ^ 1]) + raw[1:])]),
            "does not match",
            id="sig-bit-flip",
        ),
        pytest.param(
            _rebuild([_s(b"ssh-rsa") + _s(b"k"), *fields[1:]]),
            "unsupported key type",
            id="key-type-rsa",
        ),
        pytest.param(
            _rebuild([*fields[:2], b"reserved", *fields[3:]]),
            "reserved field is not empty",
            id="reserved-not-empty",
        ),
    ]


@pytest.mark.parametrize(("armored", "message"), _mutations())
def test_malformed_signature_is_refused(armored: bytes, message: str) -> None:
    with pytest.raises(TrustError, match=message):
        sshsig.verify(armored, MESSAGE, NS, ALICE.public_key())


def test_a_decoded_signature_is_judged_again_for_each_key_message_and_namespace() -> None:
    """Decoded signatures are kept by their bytes; what was decoded for one check decides
    nothing about the next: another key, message or namespace is refused every time."""
    armored = sshsig.sign(ALICE, MESSAGE, NS)
    for _ in range(2):
        sshsig.verify(armored, MESSAGE, NS, ALICE.public_key())
        with pytest.raises(TrustError, match="different key"):
            sshsig.verify(armored, MESSAGE, NS, BOB.public_key())
        with pytest.raises(TrustError, match="does not match the signed bytes"):
            sshsig.verify(armored, MESSAGE + b"!", NS, ALICE.public_key())
        with pytest.raises(TrustError, match="namespace"):
            sshsig.verify(armored, MESSAGE, "git", ALICE.public_key())
    by_bob = sshsig.sign(BOB, MESSAGE, NS)
    sshsig.verify(by_bob, MESSAGE, NS, BOB.public_key())
    with pytest.raises(TrustError, match="different key"):
        sshsig.verify(by_bob, MESSAGE, NS, ALICE.public_key())


def test_a_malformed_signature_is_refused_every_time() -> None:
    broken = sshsig.sign(ALICE, MESSAGE, NS) + b"trailing"
    for _ in range(2):
        with pytest.raises(TrustError, match="malformed SSH signature"):
            sshsig.verify(broken, MESSAGE, NS, ALICE.public_key())


def test_signature_public_key_refuses_garbage() -> None:
    with pytest.raises(TrustError, match="malformed SSH signature"):
        sshsig.signature_public_key(b"-----BEGIN SSH SIGNATURE-----\nAAAA\n-----END SSH SIGNATURE-----\n")


def test_armor_wraps_at_70_columns() -> None:
    lines = sshsig.sign(ALICE, MESSAGE, NS).decode().splitlines()
    assert all(len(line) <= 70 for line in lines[1:-1])
    assert all(len(line) == 70 for line in lines[1:-2])


# -- against OpenSSH -----------------------------------------------------------------------------


def _ssh_keygen(*args: str | Path, data: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["ssh-keygen", *map(str, args)], input=data, capture_output=True, check=False, timeout=30)


@pytest.fixture
def alice_key(tmp_path: Path) -> Path:
    return write_key(tmp_path, "alice")


@pytest.mark.parametrize("namespace", [pytest.param("git", id="git"), pytest.param(NS, id="docket-event")])
def test_same_bytes_as_ssh_keygen_sign(alice_key: Path, namespace: str) -> None:
    done = _ssh_keygen("-Y", "sign", "-n", namespace, "-f", alice_key, "-q", data=MESSAGE)
    assert done.returncode == 0, done.stderr
    assert done.stdout == sshsig.sign(ALICE, MESSAGE, namespace)


def test_ssh_keygen_signature_verifies_here(alice_key: Path) -> None:
    done = _ssh_keygen("-Y", "sign", "-n", NS, "-f", alice_key, "-q", data=MESSAGE)
    assert done.returncode == 0, done.stderr
    sshsig.verify(done.stdout, MESSAGE, NS, ALICE.public_key())
    with pytest.raises(TrustError, match="namespace"):
        sshsig.verify(done.stdout, MESSAGE, "git", ALICE.public_key())


def _allowed(tmp_path: Path, key: Ed25519PrivateKey) -> Path:
    path = tmp_path / "allowed_signers"
    path.write_text(f'alice namespaces="{NS}" {sshsig.public_key_line(key.public_key())}\n')
    return path


def _ssh_verify(tmp_path: Path, armored: bytes, message: bytes, allowed: Path) -> subprocess.CompletedProcess[bytes]:
    sig = tmp_path / "msg.sig"
    sig.write_bytes(armored)
    return _ssh_keygen("-Y", "verify", "-f", allowed, "-I", "alice", "-n", NS, "-s", sig, data=message)


def test_ssh_keygen_verify_accepts_ours(tmp_path: Path) -> None:
    done = _ssh_verify(tmp_path, sshsig.sign(ALICE, MESSAGE, NS), MESSAGE, _allowed(tmp_path, ALICE))
    assert done.returncode == 0, done.stderr
    assert b'Good "docket-event-v1" signature for alice' in done.stdout + done.stderr


@pytest.mark.parametrize(
    ("signer", "message", "namespace"),
    [
        pytest.param(BOB, MESSAGE, NS, id="key-not-allowed"),
        pytest.param(ALICE, MESSAGE + b"x", NS, id="other-message"),
        pytest.param(ALICE, MESSAGE, "git", id="namespace-not-allowed"),
    ],
)
def test_ssh_keygen_verify_rejects_ours(
    tmp_path: Path, signer: Ed25519PrivateKey, message: bytes, namespace: str
) -> None:
    done = _ssh_verify(tmp_path, sshsig.sign(signer, MESSAGE, namespace), message, _allowed(tmp_path, ALICE))
    assert done.returncode != 0


@pytest.mark.parametrize("name", ["alice", "bob", "carol"])
def test_fingerprint_matches_ssh_keygen(tmp_path: Path, name: str) -> None:
    key = write_key(tmp_path, name)
    done = _ssh_keygen("-lf", key.with_name(key.name + ".pub"))
    assert done.returncode == 0, done.stderr
    assert done.stdout.split()[1].decode() == sshsig.fingerprint(det_key(name).public_key())
