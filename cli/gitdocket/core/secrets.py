"""Secret scanning: what must never enter a registry's permanent, signed records — bundle payload
and evidence, the method files a freeze pins, and every free text an event carries (reasons,
notes, context, receipt references, labels, placement config values).

One table of detectors (``DETECTORS``), each a row: the kind it reports, the pattern, the literal
*anchors* it starts at (found with ``bytes.find``, so a gigabyte of payload scans in seconds; an
anchor may be searched case-insensitively), and an optional check of the matched value
(placeholders are not secrets; a JWT's header must decode to JSON; a high-entropy string must
be random enough). The kinds cover those of detect-secrets' plugins (ADR 0016): private keys;
AWS, Azure, Google, GitHub, GitLab, Slack, Stripe, Twilio, SendGrid, Mailchimp, npm, PyPI,
Square, Artifactory, Discord, Telegram, Vault, Grafana, Aiven, OpenAI and Anthropic tokens;
passwords and secrets assigned to a keyword (``password=…``, ``api_key: …``); credentials in URLs;
``Authorization`` headers and bearer tokens; JWTs; and high-entropy strings.

Rows without an anchor and the entropy rows run on text only: bytes with a NUL in their first
8,000 (git's test for binary) get the anchored rows. Free text (``text_secrets``) also judges
unquoted words by entropy, since prose has no quoting convention. Hex strings are never judged
by entropy alone: digests and git ids are hex, everywhere in a registry; a hex secret is found
when a keyword names it.

``secrets_in_record`` walks a command's data for the fields its model marks ``FreeText``.
Pure: a function of bytes, strings and paths; no I/O.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any

from pydantic import BaseModel

from gitdocket.core.fields import FREE_TEXT

__all__ = [
    "DETECTORS",
    "Detector",
    "SecretHit",
    "find_secrets",
    "free_texts",
    "secrets_in_record",
    "text_secrets",
]


@dataclass(frozen=True)
class SecretHit:
    path: str
    line: int
    kind: str

    def describe(self) -> str:
        return f"{self.path} line {self.line} ({self.kind})"


@dataclass(frozen=True)
class Detector:
    """One row: ``pattern`` is matched at every occurrence of an anchor (``anchors``; searched in
    the lowercased bytes when ``fold``) or, without anchors, searched over text. ``bounded``: the
    match must not follow a word character. ``value``: the capture group ``check`` judges."""

    kind: str
    pattern: re.Pattern[bytes]
    anchors: tuple[bytes, ...] = ()
    fold: bool = False
    bounded: bool = True
    check: Callable[[bytes], bool] | None = None
    value: int = 0


_WORD = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_")
_B64 = rb"[A-Za-z0-9+/=_-]"
_PLACEHOLDERS = frozenset(
    b"none null nil true false undefined redacted example placeholder changeme dummy test secret "
    b"password passwd token value string xxxx".split()
)


_FAKE = (b"fake", b"example", b"dummy", b"placeholder", b"changeme", b"redacted", b"your_", b"your-")


def _entropy(value: bytes) -> float:
    """Shannon entropy in bits per character."""
    counts = Counter(value)
    return -sum(c / len(value) * math.log2(c / len(value)) for c in counts.values())


def _random(value: bytes) -> bool:
    """A base64-like string random enough to be a key (detect-secrets' limit, 4.5 bits), that is
    not only hex (digests and git ids are hex) and not a path or a word."""
    hexlike = all(c in b"0123456789abcdefABCDEF" for c in value)
    return not hexlike and value.count(b"/") < 3 and _entropy(value) > 4.5


def _real_value(value: bytes) -> bool:
    """An assigned value that is a secret, not a placeholder, a reference or a template. Quoted,
    any such value is (as detect-secrets judges code); bare, as prose allows (``password: reset
    by support``), only one that does not read as a word: a digit or a symbol in it."""
    quoted = value[:1] in (b'"', b"'")
    stripped = value.strip(b"\"'`")
    lowered = stripped.lower()
    if len(stripped) < 4 or lowered in _PLACEHOLDERS or stripped[:1] in b"$%{<([*@&#":
        return False
    if len(set(lowered)) <= 2 or not any(c in _WORD for c in stripped) or any(w in lowered for w in _FAKE):
        return False  # "xxxx", "****", "...."; "fake-key", "example-token"
    if re.fullmatch(rb"[A-Za-z_][\w]*(?:[.\[(].*)", stripped):
        return False  # a reference or a call: this.api_key, env["TOKEN"], get_password()
    return quoted or (len(stripped) >= 6 and not stripped.isalpha())


def _jwt(value: bytes) -> bool:
    """A JWT: its header is base64url JSON (an object with ``alg`` or ``typ``)."""
    head = value.split(b".", 1)[0]
    try:
        decoded = json.loads(base64.urlsafe_b64decode(head + b"=" * (-len(head) % 4)))
    except (binascii.Error, ValueError):
        return False
    return isinstance(decoded, dict) and bool({"alg", "typ"} & set(decoded))


def _token(kind: str, pattern: bytes, *anchors: bytes, bounded: bool = True) -> Detector:
    return Detector(kind, re.compile(pattern), anchors or (pattern[:4],), bounded=bounded)


_KEYWORDS = (
    b"password",
    b"passwd",
    b"pwd",
    b"secret",
    b"token",
    b"api_key",
    b"apikey",
    b"api-key",
    b"access_key",
    b"private_key",
    b"credential",
)
_ASSIGNED = (
    rb"(?i:password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|credentials?)"
    rb"[A-Za-z0-9_-]*(?:[\"']\]?|\[\])?"  # "password": …, dict["secret"] = …, apikey[] = …
    rb"(?:\s*(?:=|:=|=>|:)\s*@?|\s*(?=[\"']))"  # = := => : (and Objective-C's @"…"), or a bare quote
    rb"(\"[^\"\r\n]{4,}\"|'[^'\r\n]{4,}'|[^\s\"',;)\]]{4,})"
)


DETECTORS: tuple[Detector, ...] = (
    Detector(
        "private key",
        re.compile(rb"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----|PuTTY-User-Key-File-\d"),
        (b"-----BEGIN ", b"PuTTY-User-Key-File-"),
        bounded=False,
    ),
    _token(
        "AWS access key id",
        rb"(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}(?![0-9A-Za-z])",
        b"AKIA",
        b"ASIA",
        b"A3T",
        b"ABIA",
        b"ACCA",
    ),
    Detector(
        "AWS secret access key",
        re.compile(rb"(?i:aws_?secret_?access_?key)[\"']?\s*[=:]\s*[\"']?[A-Za-z0-9/+=]{40}(?![A-Za-z0-9/+=])"),
        (b"aws_secret_access_key", b"awssecretaccesskey"),
        fold=True,
        bounded=False,
    ),
    _token("Azure storage key", rb"AccountKey=[A-Za-z0-9+/=]{86,88}", b"AccountKey=", bounded=False),
    _token("GitHub token", rb"gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{60,}", b"gh", b"github_pat_"),
    _token(
        "GitLab token",
        rb"(?:glpat|gldt|glrt|glptt|glcbt|glimt|glft|glsoat|gloas|glagent)-[A-Za-z0-9_-]{20,}|GR1348941[A-Za-z0-9_-]{20}",
        b"gl",
        b"GR1348941",
    ),
    _token("Slack token", rb"xox[abposr]-[A-Za-z0-9-]{10,}", b"xox"),
    _token(
        "Slack webhook",
        rb"hooks\.slack\.com/services/T[A-Za-z0-9_]+/B[A-Za-z0-9_]+/[A-Za-z0-9_]+",
        b"hooks.slack.com",
        bounded=False,
    ),
    _token("Google API key", rb"AIza[A-Za-z0-9_-]{35}", b"AIza"),
    _token("Anthropic API key", rb"sk-ant-[A-Za-z0-9_-]{32,}", b"sk-ant-"),
    _token(
        "OpenAI API key",
        rb"sk-(?:proj-|svcacct-)?[A-Za-z0-9]{20}T3BlbkFJ[A-Za-z0-9]{20}|sk-(?:proj|svcacct)-[A-Za-z0-9_-]{40,}",
        b"sk-",
    ),
    _token("Stripe secret key", rb"[rs]k_live_[A-Za-z0-9]{20,}", b"sk_live_", b"rk_live_"),
    _token("Twilio key", rb"(?:AC|SK)[a-f0-9]{32}(?![A-Za-z0-9])", b"AC", b"SK"),
    _token("SendGrid key", rb"SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}", b"SG."),
    _token("npm token", rb"npm_[A-Za-z0-9]{36}", b"npm_"),
    _token("npm token", rb"_authToken=\s*[^\s\"']{20,}", b"_authToken=", bounded=False),
    _token("PyPI token", rb"pypi-AgE(?:IcHlwaS5vcmc|NdGVzdC5weXBpLm9yZw)[A-Za-z0-9_-]{50,}", b"pypi-AgE"),
    _token("Square token", rb"sq0(?:csp-[A-Za-z0-9_-]{43}|atp-[A-Za-z0-9_-]{22})", b"sq0"),
    _token("Artifactory token", rb"(?:AKC[A-Za-z0-9]{10,}|AP[0-9A-F][A-Za-z0-9]{8,})(?![A-Za-z0-9])", b"AKC", b"AP"),
    _token("Vault token", rb"hv[sb]\.[A-Za-z0-9_-]{24,}", b"hvs.", b"hvb."),
    _token("Grafana token", rb"(?:glc_|glsa_)[A-Za-z0-9_=+/-]{32,}", b"glc_", b"glsa_"),
    _token("Aiven token", rb"AVNS_[A-Za-z0-9_-]{24}", b"AVNS_"),
    Detector(
        "JSON Web Token",
        re.compile(rb"eyJ[A-Za-z0-9_-]{6,}={0,2}\.[A-Za-z0-9_-]{6,}={0,2}\.?[A-Za-z0-9_.+/=-]*"),
        (b"eyJ",),
        check=_jwt,
    ),
    Detector(
        "authorization header",
        re.compile(
            rb"(?i:authorization)[\"']?\s*[:=]\s*[\"']?(?i:bearer|basic|token|digest)?\s*([A-Za-z0-9._~+/=-]{16,})"
        ),
        (b"authorization",),
        fold=True,
        bounded=False,
        check=_real_value,
        value=1,
    ),
    Detector(
        "bearer token",
        re.compile(rb"(?i:bearer)\s+([A-Za-z0-9._~+/=-]{16,})"),
        (b"bearer",),
        fold=True,
        check=_real_value,
        value=1,
    ),
    Detector(
        "credentials in a URL",
        re.compile(rb"://[^\s:/@\"'<>]{1,100}:([^\s/@\"'<>]{3,100})@[A-Za-z0-9.-]+"),
        (b"://",),
        bounded=False,
        check=_real_value,
        value=1,
    ),
    Detector(
        "password or secret", re.compile(_ASSIGNED), _KEYWORDS, fold=True, bounded=False, check=_real_value, value=1
    ),
    Detector(
        "Discord bot token",
        re.compile(rb"[MNO][A-Za-z0-9_-]{23,25}\.[A-Za-z0-9_-]{6}\.[A-Za-z0-9_-]{27}(?![A-Za-z0-9_-])"),
    ),
    Detector("Telegram bot token", re.compile(rb"(?<![0-9])[0-9]{8,10}:[A-Za-z0-9_-]{35}(?![A-Za-z0-9_-])")),
    Detector("Mailchimp key", re.compile(rb"(?<![A-Za-z0-9])[0-9a-f]{32}-us[0-9]{1,2}(?![0-9])")),
    Detector("high-entropy string", re.compile(rb"[\"'](" + _B64 + rb"{20,})[\"']"), check=_random, value=1),
)
"""The detectors, most specific first: a line reports the first kind that matches on it."""

_FREE_WORDS = Detector(
    "high-entropy string", re.compile(rb"(?<![A-Za-z0-9+/=_-])(" + _B64 + rb"{20,})"), check=_random, value=1
)
"""Free text only: an unquoted word random enough to be a key."""
_BINARY = frozenset(
    {"private key", "AWS access key id", "GitHub token", "GitLab token", "Slack token", "Google API key"}
    | {"Anthropic API key", "OpenAI API key", "Stripe secret key", "JSON Web Token"}
)
_ANCHORED = tuple(replace(d, anchors=d.anchors[:2]) for d in DETECTORS if d.kind in _BINARY)
"""What binary data is scanned with: the keys and tokens that survive being embedded in bytes
(one pass per anchor, so a gigabyte of payload still scans in seconds)."""


def _matches(detector: Detector, data: bytes, folded: bytes) -> Iterator[int]:
    """Start offsets of ``detector``'s matches in ``data``."""
    if not detector.anchors:
        for found in detector.pattern.finditer(data):
            if detector.check is None or detector.check(found.group(detector.value)):
                yield found.start()
        return
    haystack = folded if detector.fold else data
    for anchor in detector.anchors:
        start = haystack.find(anchor)
        while start >= 0:
            bounded = not detector.bounded or start == 0 or data[start - 1] not in _WORD
            match = detector.pattern.match(data, start) if bounded else None
            if match is not None and (detector.check is None or detector.check(match.group(detector.value))):
                yield start
            start = haystack.find(anchor, start + 1)


def _scan(path: str, data: bytes, detectors: tuple[Detector, ...]) -> list[SecretHit]:
    # ASCII-only lowering: every offset stays where it was (only made when a row needs it)
    folded = data.lower() if any(d.fold for d in detectors) else data
    lines: dict[int, tuple[int, str]] = {}
    for rank, detector in enumerate(detectors):
        for start in _matches(detector, data, folded):
            line = data.count(b"\n", 0, start) + 1
            if line not in lines or lines[line][0] > rank:
                lines[line] = (rank, detector.kind)
    return [SecretHit(path, line, kind) for line, (_rank, kind) in sorted(lines.items())]


def find_secrets(path: str, data: bytes) -> list[SecretHit]:
    """Every secret in the file ``data`` (one per line: the most specific kind), with its 1-based
    line number. Binary data gets the anchored detectors only."""
    text = b"\0" not in data[:8000]
    return _scan(path, data, DETECTORS if text else _ANCHORED)


def text_secrets(where: str, text: str) -> list[SecretHit]:
    """Every secret in a free text a person wrote (a reason, a note, a receipt reference):
    what ``find_secrets`` finds, and unquoted words random enough to be keys."""
    return _scan(where, text.encode("utf-8", "surrogateescape"), (*DETECTORS, _FREE_WORDS))


# -- free text in records ------------------------------------------------------------------------


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(key)
            yield from _strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item)


def free_texts(record: BaseModel, prefix: str = "") -> Iterator[tuple[str, str]]:
    """(field path, text) of every free-text field of ``record``, nested models included."""
    for name, field in type(record).model_fields.items():
        value = getattr(record, name)
        if FREE_TEXT in field.metadata:
            for text in _strings(value):
                yield f"{prefix}{name}", text
        elif isinstance(value, BaseModel):
            yield from free_texts(value, f"{prefix}{name}.")
        elif isinstance(value, list | tuple):
            for index, item in enumerate(value):
                if isinstance(item, BaseModel):
                    yield from free_texts(item, f"{prefix}{name}.{index}.")


def secrets_in_record(where: str, record: BaseModel, allowed: frozenset[str]) -> list[SecretHit]:
    """The secrets in ``record``'s free text, named ``<where>#<field>`` (what the allow-list
    names to let one through)."""
    hits: list[SecretHit] = []
    for field, text in free_texts(record):
        place = f"{where}#{field}"
        if place not in allowed:
            hits.extend(text_secrets(place, text))
    return hits
