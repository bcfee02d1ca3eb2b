"""The field types that documents, events and states share, each defined once: the regular
expression, the pydantic type that carries it into models (and so into the JSON Schemas of
``contracts/``), and, where a value is more than a string to match, how to read it
(``parse_time``), write it (``format_time``) or order it (``semver_key``).

The pattern strings are part of sealed contracts: changing one changes what validates, which
needs a new contract version. A field type is a bare ``Annotated[str, Field(pattern=...)]``
with no title or description of its own, so a model's schema is the same whether a field says
``Timestamp`` or spells the pattern out.

Pure: no clock. Time arrives as an argument; ``parse_time`` and ``format_time`` only convert
(the clock is read by ``ops.session``).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, tzinfo
from typing import Annotated

from pydantic import Field

__all__ = [
    "BUNDLE_ID_RE",
    "DIGEST_RE",
    "FREE_TEXT",
    "GIT_OID_RE",
    "NAME_RE",
    "PRINCIPAL_RE",
    "SEMVER_RE",
    "SHA256_HEX_RE",
    "TIMESTAMP_RE",
    "BundleId",
    "Digest",
    "FreeText",
    "GitOid",
    "Name",
    "OptionalFreeText",
    "Principal",
    "Semver",
    "Sha256Hex",
    "Timestamp",
    "format_time",
    "parse_time",
    "semver_key",
]

TIMESTAMP_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
DIGEST_RE = re.compile(r"^sha256:[0-9a-f]{64}$")
SHA256_HEX_RE = re.compile(r"^[0-9a-f]{64}$")
GIT_OID_RE = re.compile(r"^[0-9a-f]{40}$")
NAME_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
SEMVER_RE = re.compile(
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?$"
)
PRINCIPAL_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+-]{0,127}$")
BUNDLE_ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}-\d{8}-\d{6}-([0-9a-f]{8}|nogit)$")


class _FreeText:
    """The marker ``FREE_TEXT``: ``Annotated[str, FREE_TEXT]`` is text a person wrote."""

    def __repr__(self) -> str:
        return "FREE_TEXT"


FREE_TEXT = _FreeText()
"""Put in a field's ``Annotated`` metadata: the field is free text, scanned for secrets before
it is recorded (a dict or list field: every string inside it; ``core.secrets.free_texts``).
Here, not in ``core.secrets``, so that a model with free text does not compile the secret
detectors' patterns: only the commands that scan do (ADR 0035)."""

FreeText = Annotated[str, FREE_TEXT]
"""Text a person wrote (a reason, a note, a receipt reference): scanned for secrets before it is
recorded (``core.secrets.secrets_in_record``). The marker changes no JSON Schema."""

OptionalFreeText = Annotated[str | None, FREE_TEXT]
"""``FreeText`` that may be left out."""

Timestamp = Annotated[str, Field(pattern=TIMESTAMP_RE.pattern)]
"""A UTC time to the second, ``2026-01-01T00:00:00Z``: what ``format_time`` writes."""

Digest = Annotated[str, Field(pattern=DIGEST_RE.pattern)]
"""``sha256:`` and 64 lowercase hex digits: a content hash, a manifest digest, a log head."""

Sha256Hex = Annotated[str, Field(pattern=SHA256_HEX_RE.pattern)]
"""A bare SHA-256 in 64 lowercase hex digits: one file's checksum."""

GitOid = Annotated[str, Field(pattern=GIT_OID_RE.pattern)]
"""A git object id in 40 lowercase hex digits: a commit, a tree or a blob."""

Name = Annotated[str, Field(pattern=NAME_RE.pattern)]
"""An archetype, project, placement, environment or bundle label: 1-63 lowercase letters, digits
and dashes, starting with a letter or digit (it names a folder)."""

Semver = Annotated[str, Field(pattern=SEMVER_RE.pattern)]
"""A semantic version without build metadata (``1.2.0``, ``2.0.0-rc.1``); order: ``semver_key``."""

Principal = Annotated[str, Field(pattern=PRINCIPAL_RE.pattern)]
"""Who signs: an identity name of the policy."""

BundleId = Annotated[str, Field(pattern=BUNDLE_ID_RE.pattern)]
"""``<label>-<UTC YYYYmmdd-HHMMSS>-<commit8>`` (seed 002; ``nogit`` when there is no commit)."""


def parse_time(text: str, naive: tzinfo | None = None) -> datetime:
    """An RFC 3339 time (``Z`` or an offset; surrounding blanks ignored) as an aware datetime in
    UTC; ``ValueError`` when it is not one. A time without a zone is refused unless ``naive``
    names the zone to assume (evidence written by other tools, which the gate reads as UTC)."""
    when = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    if when.tzinfo is None:
        if naive is None:
            raise ValueError(f"{text!r} has no time zone")
        when = when.replace(tzinfo=naive)
    return when.astimezone(UTC)


def format_time(when: datetime) -> str:
    """``when`` (an aware datetime) in UTC to the second: a ``Timestamp``."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def semver_key(version: str) -> tuple[int, int, int, int, tuple[tuple[int, int | str], ...]]:
    """Sort key of a ``Semver``: numeric fields as numbers, and a pre-release before its release
    (numeric pre-release identifiers before alphanumeric ones, as semver.org orders them)."""
    core, _, pre = version.partition("-")
    major, minor, patch = (int(x) for x in core.split("."))
    parts = tuple((0, int(p)) if p.isdigit() else (1, p) for p in pre.split(".")) if pre else ()
    return (major, minor, patch, 0 if pre else 1, parts)
