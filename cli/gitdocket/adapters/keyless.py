"""Keyless (Sigstore) signatures: checking them offline, and making them in GitHub Actions.

- ``KeylessCheck``: the ``lifecycles.authz.SigstoreCheck`` the writers and ``verify`` inject. It
  reads the trusted root the judging policy pins (``registry/policy/trusted-roots/<hex>.json``)
  from the snapshot and verifies an entry's bundle with sigstore-python's ``Verifier`` against
  it: certificate chain and SCT, the transparency log entry (inclusion proof, signed checkpoint,
  signed entry timestamp), the certificate's validity at the log's time, and the identity's
  issuer, certificate identity and pinned claims, each checked alone so a refusal names the
  claim that differs. No network: the root is the pinned file, never sigstore's TUF cache.
- ``KeylessSigner``: signs an event's payload in GitHub Actions with the ambient OIDC token
  (``id-token: write``) through Fulcio and Rekor (ADR 0022).

The sigstore library is imported only when a keyless signature is met (start-up cost): a
registry without one never loads it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING, Any

from gitdocket.core.log import SigstoreSignature
from gitdocket.core.tree import TreeView
from gitdocket.errors import InputError, TrustError
from gitdocket.lifecycles.policy import Identity, PolicyState, trusted_root_path

if TYPE_CHECKING:
    from sigstore.models import Bundle, TrustedRoot

__all__ = ["CLAIM_OIDS", "KeylessCheck", "KeylessSigner", "keyless_check", "load_root", "verify_bundle"]

CLAIM_OIDS: dict[str, str] = {
    "repository": "1.3.6.1.4.1.57264.1.12",
    "repository_id": "1.3.6.1.4.1.57264.1.15",
    "owner": "1.3.6.1.4.1.57264.1.16",
    "workflow": "1.3.6.1.4.1.57264.1.18",
    "ref": "1.3.6.1.4.1.57264.1.14",
    "trigger": "1.3.6.1.4.1.57264.1.20",
    "runner": "1.3.6.1.4.1.57264.1.11",
}
"""Fulcio's certificate extension for each claim a policy may pin (``lifecycles.policy.CLAIMS``;
``environment`` is Docket's own and has none)."""
ISSUER_OID = "1.3.6.1.4.1.57264.1.8"
ISSUER_V1_OID = "1.3.6.1.4.1.57264.1.1"
IN_TOTO = "application/vnd.in-toto+json"


@cache
def load_root(raw: bytes) -> TrustedRoot:
    """Parse a pinned ``trusted_root.json`` (cached per content: one parse per verification)."""
    from sigstore.errors import Error
    from sigstore.models import TrustedRoot
    from sigstore_models.trustroot.v1 import TrustedRoot as RootMessage

    try:
        # ``TrustedRoot`` reads only files; the bytes come from the snapshot, so parse them with
        # the message model sigstore itself uses (``TrustedRoot.from_file``'s body).
        return TrustedRoot(RootMessage.from_json(raw))
    except (Error, ValueError) as exc:
        raise TrustError(
            f"the pinned trusted root does not parse ({_first_line(exc)})",
            "pin a trusted_root.json again: `gitdocket policy pin-root FILE`",
        ) from exc


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]


def _claim(cert: Any, oid: str) -> str | None:
    """The value of Fulcio extension ``oid`` in ``cert`` (DER UTF8String, or raw for v1)."""
    from cryptography.hazmat import asn1
    from cryptography.x509 import ExtensionNotFound, ObjectIdentifier

    try:
        value = cert.extensions.get_extension_for_oid(ObjectIdentifier(oid)).value.value
    except ExtensionNotFound:
        return None
    if oid == ISSUER_V1_OID:
        return str(value.decode("utf-8", "replace"))
    try:
        return str(asn1.decode_der(str, value))
    except Exception:  # a malformed extension is a differing claim, said in one line  # noqa: BLE001
        return None


def _sans(cert: Any) -> set[str]:
    from cryptography.x509 import ExtensionNotFound, RFC822Name, SubjectAlternativeName, UniformResourceIdentifier

    try:
        ext = cert.extensions.get_extension_for_class(SubjectAlternativeName).value
    except ExtensionNotFound:
        return set()
    return {*ext.get_values_for_type(UniformResourceIdentifier), *ext.get_values_for_type(RFC822Name)}


class _Pins:
    """The identity as a sigstore ``VerificationPolicy``: issuer, certificate identity, then
    every pinned claim, the first that differs named in the error."""

    def __init__(self, identity: Identity) -> None:
        self.identity = identity

    def differs(self, cert: Any) -> str | None:
        issuer = _claim(cert, ISSUER_OID) or _claim(cert, ISSUER_V1_OID)
        if issuer != self.identity.issuer:
            return f"issuer is {issuer!r}, the policy pins {self.identity.issuer!r}"
        if self.identity.subject not in _sans(cert):
            found = ", ".join(sorted(_sans(cert))) or "none"
            return f"identity is {found!r}, the policy pins {self.identity.subject!r}"
        for name, expected in sorted(self.identity.pinned.items()):
            got = _claim(cert, CLAIM_OIDS[name])
            if got != expected:
                return f"{name} is {got!r}, the policy pins {expected!r}"
        return None

    def verify(self, cert: Any) -> None:
        from sigstore.errors import VerificationError

        problem = self.differs(cert)
        if problem is not None:
            raise VerificationError(f"certificate {problem}")


def _parse_bundle(bundle: dict[str, Any]) -> Bundle:
    from sigstore.errors import Error
    from sigstore.models import Bundle

    try:
        return Bundle.from_json(json.dumps(bundle))
    except (Error, ValueError, KeyError, TypeError) as exc:
        raise TrustError(f"the Sigstore bundle does not parse ({_first_line(exc)})") from exc


def _signs(statement: bytes, payload: bytes) -> bool:
    """An in-toto statement (a DSSE bundle) names ``payload`` by its sha256 among its subjects."""
    try:
        subjects = json.loads(statement).get("subject", [])
    except (ValueError, AttributeError):
        return False
    digest = hashlib.sha256(payload).hexdigest()
    return any(isinstance(s, dict) and (s.get("digest") or {}).get("sha256") == digest for s in subjects)


def verify_bundle(bundle: dict[str, Any], payload: bytes, identity: Identity, root: TrustedRoot) -> None:
    """Raise ``TrustError`` unless ``bundle`` signs ``payload`` as ``identity`` under ``root``:
    a message-signature bundle over the payload itself (what ``KeylessSigner`` makes), or a DSSE
    in-toto statement naming the payload's sha256 (GitHub's attestations)."""
    from sigstore.errors import Error
    from sigstore.verify import Verifier

    parsed = _parse_bundle(bundle)
    try:
        verifier = Verifier(trusted_root=root)
        if parsed._inner.dsse_envelope is not None:
            kind, statement = verifier.verify_dsse(parsed, _Pins(identity))
            if kind != IN_TOTO or not _signs(statement, payload):
                raise TrustError("the bundle signs another payload")
        else:
            verifier.verify_artifact(payload, parsed, _Pins(identity))
    except Error as exc:
        raise TrustError(_wording(exc)) from exc


_WORDS = (
    (("digest mismatch", "Signature is invalid", "inconsistent"), "the bundle signs another payload, or was altered"),
    (("not valid at validation time",), "the signing certificate was not valid at the log entry's time"),
    (("candidates exhausted", "signature does not match"), "the signing certificate does not chain to the pinned root"),
    (("invalid log entry", "SET:", "checkpoint"), "the transparency log entry does not verify"),
)
"""sigstore's errors, said in the words of this registry's findings (sigstore's own follows)."""


def _wording(exc: BaseException) -> str:
    text = _first_line(exc)
    for needles, words in _WORDS:
        if any(needle in text for needle in needles):
            return f"{words} ({text})"
    return text


class KeylessCheck:
    """``SigstoreCheck`` over one snapshot: reads each pinned root once."""

    def __init__(self, tree: TreeView) -> None:
        self.tree = tree

    def __call__(self, entry: SigstoreSignature, identity: Identity, payload: bytes, policy: PolicyState) -> None:
        if policy.trusted_root is None:
            raise TrustError(
                f"policy v{policy.version} pins no Sigstore trusted root",
                "pin one: `gitdocket policy pin-root trusted_root.json`",
            )
        path = trusted_root_path(policy.trusted_root)
        raw = self.tree.read(path)
        if raw is None:
            raise TrustError(f"the pinned trusted root {path} is missing", f"restore {path} from git history")
        verify_bundle(entry.bundle, payload, identity, load_root(raw))


def keyless_check(tree: TreeView) -> KeylessCheck:
    return KeylessCheck(tree)


class KeylessSigner:
    """Signs in GitHub Actions as the workflow: the ambient OIDC token (``id-token: write``),
    a Fulcio certificate for it, a Rekor entry. ``principal`` is the policy's name for the
    workflow's identity. ``sign`` returns the bundle (JSON) for a ``SigstoreSignature``."""

    def __init__(self, principal: str, sign: Callable[[bytes], dict[str, Any]] | None = None) -> None:
        self.principal = principal
        self._sign = sign if sign is not None else _ambient_sign

    def sign(self, payload: bytes) -> dict[str, Any]:
        return self._sign(payload)


def _ambient_sign(payload: bytes) -> dict[str, Any]:
    from sigstore.errors import Error
    from sigstore.models import ClientTrustConfig
    from sigstore.oidc import IdentityError, IdentityToken, detect_credential
    from sigstore.sign import SigningContext

    try:
        credential = detect_credential()
        if credential is None:
            raise InputError(
                "no ambient OIDC credential for keyless signing",
                "run in GitHub Actions with `permissions: id-token: write`, or sign with --key",
            )
        context = SigningContext.from_trust_config(ClientTrustConfig.production())
        with context.signer(IdentityToken(credential), cache=True) as signer:
            bundle = signer.sign_artifact(payload)
    except (Error, IdentityError) as exc:
        raise TrustError(f"keyless signing failed: {_first_line(exc)}", "retry the job; Sigstore may be down") from exc
    loaded: dict[str, Any] = json.loads(bundle.to_json())
    return loaded
