"""The shared field types: one pattern each, the time reader and writer, the semver order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from pydantic import TypeAdapter, ValidationError

from gitdocket.core.fields import (
    BundleId,
    Digest,
    GitOid,
    Name,
    Principal,
    Semver,
    Sha256Hex,
    Timestamp,
    format_time,
    parse_time,
    semver_key,
)


@pytest.mark.parametrize(
    ("field", "good", "bad"),
    [
        pytest.param(Timestamp, "2026-01-01T00:00:00Z", "2026-01-01T00:00:00+00:00", id="timestamp-utc-z-only"),
        pytest.param(Digest, "sha256:" + "ab" * 32, "ab" * 32, id="digest-needs-prefix"),
        pytest.param(Sha256Hex, "ab" * 32, "AB" * 32, id="sha256-lowercase"),
        pytest.param(GitOid, "a" * 40, "a" * 39, id="git-oid-40"),
        pytest.param(Name, "triage-2", "-triage", id="name-no-leading-dash"),
        pytest.param(Semver, "2.0.0-rc.1", "01.0.0", id="semver-no-leading-zero"),
        pytest.param(Principal, "alice@example.org", "@alice", id="principal"),
        pytest.param(BundleId, "web-20260101-000000-0123abcd", "web-20260101-0123abcd", id="bundle-id"),
    ],
)
def test_field_type_accepts_and_refuses(field: object, good: str, bad: str) -> None:
    adapter: TypeAdapter[str] = TypeAdapter(field)
    assert adapter.validate_python(good) == good
    with pytest.raises(ValidationError):
        adapter.validate_python(bad)


def test_field_type_schema_is_the_bare_pattern() -> None:
    """What a sealed contract holds: no title or description of the type's own."""
    assert TypeAdapter(Timestamp).json_schema() == {
        "pattern": r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$",
        "type": "string",
    }


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("2026-01-01T00:00:00Z", datetime(2026, 1, 1, tzinfo=UTC), id="zulu"),
        pytest.param(" 2026-01-01T02:00:00+02:00 ", datetime(2026, 1, 1, tzinfo=UTC), id="offset-and-blanks"),
    ],
)
def test_parse_time_gives_utc(text: str, expected: datetime) -> None:
    parsed = parse_time(text)
    assert parsed == expected
    assert parsed.tzinfo is UTC


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("2026-01-01T00:00:00", id="no-zone"),
        pytest.param("yesterday at noon", id="not-a-time"),
        pytest.param("", id="empty"),
    ],
)
def test_parse_time_refuses(text: str) -> None:
    with pytest.raises(ValueError):
        parse_time(text)


def test_parse_time_assumes_a_zone_only_when_told() -> None:
    assert parse_time("2026-01-01T00:00:00", naive=UTC) == datetime(2026, 1, 1, tzinfo=UTC)


def test_format_time_writes_a_timestamp_in_utc() -> None:
    when = datetime(2026, 1, 1, 2, 0, 0, 999, tzinfo=timezone(timedelta(hours=2)))
    text = format_time(when)
    assert text == "2026-01-01T00:00:00Z"
    assert TypeAdapter(Timestamp).validate_python(text) == text
    assert parse_time(text) == when.replace(microsecond=0)


@pytest.mark.parametrize(
    ("low", "high"),
    [
        pytest.param("1.0.0", "1.0.1", id="patch"),
        pytest.param("1.9.0", "1.10.0", id="numeric-not-lexical"),
        pytest.param("2.0.0-rc.1", "2.0.0", id="prerelease-first"),
        pytest.param("2.0.0-alpha", "2.0.0-beta", id="prerelease-order"),
        pytest.param("2.0.0-rc.2", "2.0.0-rc.10", id="prerelease-numeric"),
        pytest.param("2.0.0-1", "2.0.0-alpha", id="numeric-before-alphanumeric"),
        pytest.param("2.0.0-alpha", "2.0.0-alpha.1", id="more-identifiers-later"),
    ],
)
def test_semver_key_orders_semver(low: str, high: str) -> None:
    assert semver_key(low) < semver_key(high)
