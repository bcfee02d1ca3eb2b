"""A gitdocket tag is genuine when one of the policy's keys signed it: trying each key gives the
same verdict as looking the signature's embedded key up."""

from __future__ import annotations

import hashlib

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from gitdocket.core import sshsig
from gitdocket.core.tree import MemoryTree
from gitdocket.verify.tags import _signed

BODY = b"object 0000000000000000000000000000000000000000\ntype commit\ntag a/v1.0.0\n\nfroze\n"


def key(name: str) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(hashlib.sha256(name.encode()).digest())


class Tags:
    """A ``RefView`` holding only signed tag objects."""

    def __init__(self, tags: dict[str, tuple[bytes, bytes] | None]) -> None:
        self.signed = tags

    def tags(self) -> dict[str, str]:
        return {}

    def tree_at(self, commit: str) -> MemoryTree:
        return MemoryTree({}, commit)

    def parent(self, commit: str) -> str | None:
        return None

    def tag_signature(self, name: str) -> tuple[bytes, bytes] | None:
        return self.signed[name]

    def reaches(self, head: str, commit: str) -> bool:
        return head == commit


def test_signed_by_any_policy_key_and_that_key_is_tried_first_next() -> None:
    alice, bob, carol = key("alice"), key("bob"), key("carol")
    keys: list[Ed25519PublicKey] = [alice.public_key(), bob.public_key(), carol.public_key()]
    first = keys[:]
    refs = Tags(
        {
            "by-bob": (sshsig.sign(bob, BODY, "git"), BODY),
            "by-mallory": (sshsig.sign(key("mallory"), BODY, "git"), BODY),
            "wrong-namespace": (sshsig.sign(alice, BODY, "file"), BODY),
            "other-bytes": (sshsig.sign(alice, BODY, "git"), BODY + b"moved\n"),
            "malformed": (b"-----BEGIN SSH SIGNATURE-----\nAAAA\n-----END SSH SIGNATURE-----\n", BODY),
            "unsigned": None,
        }
    )
    assert _signed(keys, refs, "by-bob")
    assert keys == [first[1], first[0], first[2]]
    for name in ("by-mallory", "wrong-namespace", "other-bytes", "malformed", "unsigned"):
        assert not _signed(keys, refs, name), name
    assert not _signed([], refs, "by-bob")
    assert _signed(keys, refs, "by-bob")
