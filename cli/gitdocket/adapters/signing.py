"""Signers: who holds the private key, and how we ask it to sign.

- ``KeySigner``: an OpenSSH Ed25519 private key file (or bytes), signed in pure Python.
- ``AgentSigner``: only the public key is given; ``ssh-keygen -Y sign`` asks ssh-agent (works with
  hardware-backed keys Python cannot use directly).

Which key: ``--key``, else ``GITDOCKET_SIGNING_KEY``, else git's ``user.signingkey``. A value that
names a ``.pub`` file or is a literal ``ssh-ed25519 …`` line means "ask the agent".
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from gitdocket.core import sshsig
from gitdocket.errors import InputError, TrustError

__all__ = [
    "AgentSigner",
    "KeySigner",
    "create_key",
    "load_signer",
]


class KeySigner:
    def __init__(self, key: Ed25519PrivateKey, source: str = "key") -> None:
        self.key = key
        self.source = source

    @property
    def public_key(self) -> Ed25519PublicKey:
        return self.key.public_key()

    def sign(self, data: bytes, namespace: str) -> bytes:
        return sshsig.sign(self.key, data, namespace)

    @classmethod
    def from_file(cls, path: Path) -> KeySigner:
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise InputError(
                f"{path}: cannot read signing key ({exc.strerror})",
                "pass --key PATH to an OpenSSH ed25519 private key, or run `gitdocket key create`",
            ) from exc
        if not raw.strip():
            raise _empty(path)
        passphrase = os.environ.get("GITDOCKET_KEY_PASSPHRASE")
        try:
            key = serialization.load_ssh_private_key(raw, passphrase.encode() if passphrase else None)
        except UnsupportedAlgorithm as exc:  # encrypted OpenSSH keys need bcrypt, not a dependency
            raise InputError(
                f"{path}: cannot decrypt this key here ({exc})",
                "load it into ssh-agent (`ssh-add`) and pass its .pub file",
            ) from exc
        except (ValueError, TypeError) as exc:
            raise InputError(
                f"{path}: not a usable OpenSSH private key ({exc})",
                "use an unencrypted ed25519 key, set GITDOCKET_KEY_PASSPHRASE, or load it "
                "into ssh-agent and pass the .pub file",
            ) from exc
        if not isinstance(key, Ed25519PrivateKey):
            raise InputError(f"{path}: only ed25519 keys are supported", "create one with `gitdocket key create`")
        return cls(key, str(path))


class AgentSigner:
    """Sign through ``ssh-keygen -Y sign -f KEY.pub``, which asks ssh-agent for the private half."""

    def __init__(self, public_line: str, source: str) -> None:
        try:
            self._public = sshsig.parse_public_key(public_line)
        except ValueError as exc:
            raise InputError(f"{source}: {exc}", "pass an ed25519 public key held by ssh-agent") from exc
        self.public_line = public_line.strip()
        self.source = source

    @property
    def public_key(self) -> Ed25519PublicKey:
        return self._public

    def sign(self, data: bytes, namespace: str) -> bytes:
        with tempfile.TemporaryDirectory() as tmp:
            pub = Path(tmp) / "key.pub"
            pub.write_text(self.public_line + "\n")
            try:
                done = subprocess.run(
                    ["ssh-keygen", "-Y", "sign", "-n", namespace, "-f", str(pub), "-q"],
                    input=data,
                    capture_output=True,
                    check=False,
                    timeout=60,
                )
            except (OSError, subprocess.TimeoutExpired) as exc:
                raise TrustError(f"ssh-keygen could not sign: {exc}", "install OpenSSH ≥ 8.2") from exc
        if done.returncode != 0:
            reason = done.stderr.decode(errors="replace").strip().splitlines()
            raise TrustError(
                f"ssh-agent did not sign with {self.source}: {reason[-1] if reason else 'no reason'}",
                "run `ssh-add` for that key, or pass --key with the private key file",
            )
        return done.stdout


def _empty(path: Path) -> InputError:
    return InputError(
        f"{path}: the signing key file is empty",
        "write the key into it; in GitHub Actions the repository secret GITDOCKET_SIGNING_KEY is "
        "empty or missing: add it under Settings → Secrets and variables → Actions",
    )


def load_signer(spec: str) -> KeySigner | AgentSigner:
    """A signer from a path or a literal public key line (see module docstring)."""
    text = spec.strip()
    if text.startswith("key::"):
        text = text.removeprefix("key::")
    if not text:
        raise InputError(
            "the signing key is empty",
            "pass --key PATH to an OpenSSH ed25519 private key, or a .pub file held by ssh-agent",
        )
    if text.startswith("ssh-"):
        return AgentSigner(text, "the configured public key")
    path = Path(text).expanduser()
    if path.suffix == ".pub":
        try:
            public = path.read_text()
        except OSError as exc:
            raise InputError(f"{path}: cannot read public key ({exc.strerror})") from exc
        if not public.strip():
            raise _empty(path)
        return AgentSigner(public, str(path))
    return KeySigner.from_file(path)


def create_key(path: Path, comment: str) -> str:
    """Write a new ed25519 key pair (``path`` 0600 and ``path.pub``); return the public line."""
    if path.exists() or path.with_name(path.name + ".pub").exists():
        raise InputError(f"{path}: already exists", "choose another path; gitdocket never overwrites keys")
    key = Ed25519PrivateKey.generate()
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption()
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(private)
    line = sshsig.public_key_line(key.public_key(), comment)
    path.with_name(path.name + ".pub").write_text(line + "\n")
    return line
