"""OpenSSH SSHSIG (``PROTOCOL.sshsig``) for Ed25519, in pure Python on ``cryptography``.

The output is byte-identical to ``ssh-keygen -Y sign`` (Ed25519 is deterministic), so git's
``verify-commit`` / ``verify-tag`` and ``ssh-keygen -Y verify`` accept what we write. This module
is pure computation: it neither reads keys from disk nor runs ssh-keygen (see ``signing``).
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import struct
from typing import Protocol

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from gitdocket.errors import TrustError

__all__ = [
    "Signer",
    "fingerprint",
    "parse_public_key",
    "public_key_line",
    "sign",
    "signature_public_key",
    "verify",
]

MAGIC = b"SSHSIG"
BEGIN = b"-----BEGIN SSH SIGNATURE-----"
END = b"-----END SSH SIGNATURE-----"
KEY_TYPE = b"ssh-ed25519"
HASHES = {b"sha512": hashlib.sha512, b"sha256": hashlib.sha256}
"""The message hashes SSHSIG allows, by name."""


def _s(data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + data


def _read_s(buf: bytes, off: int) -> tuple[bytes, int]:
    if off + 4 > len(buf):
        raise ValueError("truncated length")
    (n,) = struct.unpack_from(">I", buf, off)
    off += 4
    if off + n > len(buf):
        raise ValueError("truncated field")
    return buf[off : off + n], off + n


def _pub_blob(pub: Ed25519PublicKey) -> bytes:
    # ``public_bytes_raw``, not ``public_bytes(Encoding.Raw, ...)``: importing ``serialization``
    # (every key format, RSA, the ciphers) costs a signature check 8 ms of start-up (ADR 0035).
    raw = pub.public_bytes_raw()
    return _s(KEY_TYPE) + _s(raw)


def public_key_line(pub: Ed25519PublicKey, comment: str = "") -> str:
    """``ssh-ed25519 AAAA… comment`` as in an ``.pub`` file or ``allowed_signers``."""
    return f"ssh-ed25519 {base64.b64encode(_pub_blob(pub)).decode()} {comment}".rstrip()


def _key_bytes(blob: bytes) -> bytes:
    """The raw 32 bytes of an ``ssh-ed25519`` key blob (ValueError for anything else)."""
    ktype, off = _read_s(blob, 0)
    raw, off = _read_s(blob, off)
    if ktype != KEY_TYPE or len(raw) != 32 or off != len(blob):
        raise ValueError(f"unsupported key type {ktype.decode(errors='replace')}")
    return raw


def _key_from_blob(blob: bytes) -> Ed25519PublicKey:
    return Ed25519PublicKey.from_public_bytes(_key_bytes(blob))


@functools.lru_cache(maxsize=4096)
def parse_public_key(line: str) -> Ed25519PublicKey:
    """Parse ``ssh-ed25519 AAAA… [comment]``. Raises ``ValueError`` on anything else.

    Cached: verification checks every event against the few keys its policy lists, and a key
    object is immutable."""
    parts = line.strip().split()
    if len(parts) < 2 or parts[0] != "ssh-ed25519":
        raise ValueError("expected an 'ssh-ed25519 AAAA…' public key")
    try:
        blob = base64.b64decode(parts[1], validate=True)
    except binascii.Error as exc:
        raise ValueError("public key is not valid base64") from exc
    return _key_from_blob(blob)


def fingerprint(pub: Ed25519PublicKey) -> str:
    """OpenSSH ``SHA256:…`` fingerprint."""
    digest = hashlib.sha256(_pub_blob(pub)).digest()
    return "SHA256:" + base64.b64encode(digest).decode().rstrip("=")


def _signed_data(message: bytes, namespace: bytes, hash_alg: bytes) -> bytes:
    digest = HASHES[hash_alg](message).digest()
    return MAGIC + _s(namespace) + _s(b"") + _s(hash_alg) + _s(digest)


def armor(blob: bytes) -> bytes:
    b64 = base64.b64encode(blob)
    lines = [b64[i : i + 70] for i in range(0, len(b64), 70)]
    return BEGIN + b"\n" + b"\n".join(lines) + b"\n" + END + b"\n"


def sign(key: Ed25519PrivateKey, message: bytes, namespace: str, hash_alg: str = "sha512") -> bytes:
    """Armored SSHSIG of ``message`` in ``namespace``."""
    ns, ha = namespace.encode(), hash_alg.encode()
    raw_sig = key.sign(_signed_data(message, ns, ha))
    blob = (
        MAGIC
        + struct.pack(">I", 1)
        + _s(_pub_blob(key.public_key()))
        + _s(ns)
        + _s(b"")
        + _s(ha)
        + _s(_s(KEY_TYPE) + _s(raw_sig))
    )
    return armor(blob)


def _parse(armored: bytes) -> tuple[Ed25519PublicKey, bytes, bytes, bytes]:
    pub_blob, namespace, hash_alg, raw_sig = _fields(armored)
    return _key_from_blob(pub_blob), namespace, hash_alg, raw_sig


@functools.lru_cache(maxsize=16)
def _fields(armored: bytes) -> tuple[bytes, bytes, bytes, bytes]:
    """(public key blob, namespace, hash algorithm, raw signature) of an armored signature, the
    key still in its wire form: ``verify`` compares it with the trusted key's bytes instead of
    building a key object from it.

    The last few are kept, by their exact bytes: a signature checked against each key a policy
    lists (a tag's), or under the policy before and after a change, is decoded once. A malformed
    one raises every time (``lru_cache`` keeps no exception)."""
    text = armored.strip()
    if not text.startswith(BEGIN) or not text.endswith(END):
        raise ValueError("not an armored SSH signature")
    body = b"".join(text[len(BEGIN) : -len(END)].split())
    try:
        blob = base64.b64decode(body, validate=True)
    except binascii.Error as exc:
        raise ValueError("signature is not valid base64") from exc
    if not blob.startswith(MAGIC) or len(blob) < len(MAGIC) + 4:
        raise ValueError("missing SSHSIG magic")
    (version,) = struct.unpack_from(">I", blob, len(MAGIC))
    if version != 1:
        raise ValueError(f"unsupported SSHSIG version {version}")
    off = len(MAGIC) + 4
    pub_blob, off = _read_s(blob, off)
    namespace, off = _read_s(blob, off)
    reserved, off = _read_s(blob, off)
    hash_alg, off = _read_s(blob, off)
    sig_blob, off = _read_s(blob, off)
    if off != len(blob):
        raise ValueError("trailing data after signature")
    if reserved:
        # OpenSSH ignores this field; we refuse it so that one signature has one encoding.
        raise ValueError("reserved field is not empty")
    if hash_alg not in HASHES:
        raise ValueError(f"unsupported hash {hash_alg.decode(errors='replace')}")
    stype, soff = _read_s(sig_blob, 0)
    raw_sig, soff = _read_s(sig_blob, soff)
    if stype != KEY_TYPE or soff != len(sig_blob):
        raise ValueError("unsupported signature type")
    return pub_blob, namespace, hash_alg, raw_sig


def signature_public_key(armored: bytes) -> Ed25519PublicKey:
    """The public key embedded in an armored signature (not yet trusted)."""
    try:
        return _parse(armored)[0]
    except ValueError as exc:
        raise TrustError(f"malformed SSH signature: {exc}") from exc


def verify(armored: bytes, message: bytes, namespace: str, key: Ed25519PublicKey) -> None:
    """Raise ``TrustError`` unless ``armored`` is ``key``'s signature of ``message`` in
    ``namespace``. The caller decides whether ``key`` is trusted (the policy does)."""
    try:
        pub_blob, ns, hash_alg, raw_sig = _fields(armored)
        _key_bytes(pub_blob)  # an embedded key of another type is malformed, whatever the key
    except ValueError as exc:
        raise TrustError(f"malformed SSH signature: {exc}") from exc
    if ns != namespace.encode():
        raise TrustError(f"signature namespace {ns.decode(errors='replace')!r} != {namespace!r}")
    if pub_blob != _pub_blob(key):
        # Only a mismatch needs the embedded key as an object (is it a key at all?).
        try:
            _key_from_blob(pub_blob)
        except ValueError as exc:
            raise TrustError(f"malformed SSH signature: {exc}") from exc
        raise TrustError("signature was made by a different key")
    try:
        key.verify(raw_sig, _signed_data(message, ns, hash_alg))
    except InvalidSignature as exc:
        raise TrustError("signature does not match the signed bytes") from exc


class Signer(Protocol):
    @property
    def public_key(self) -> Ed25519PublicKey: ...

    def sign(self, data: bytes, namespace: str) -> bytes: ...
