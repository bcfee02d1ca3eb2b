"""`gitdocket release`: freeze and publish in one atomic commit; `--auto-upgrade` moves only the
placements whose holders opted in, and leaves every other placement exactly as it was."""

from __future__ import annotations

import pytest

from tests.integration.clients_support import (
    ARCHETYPE,
    findings,
    installed,
    log_lines,
    vendor_and_client,
)
from tests.support import Registry


@pytest.fixture
def reg(registry: Registry) -> Registry:
    return vendor_and_client(registry)


def pinned(reg: Registry, address: str) -> str:
    view = reg.ok("placement", "show", address, "--format", "json", key=None).json()
    return str(view["pin"]["version"])


def test_release_is_one_commit_with_both_tags(reg: Registry) -> None:
    head = reg.git("rev-parse", "HEAD").strip()
    result = reg.ok("release", ARCHETYPE, "1.1.0", "--format", "json").json()
    assert reg.git("rev-list", "--count", f"{head}..HEAD").strip() == "1"
    refs = reg.refs()
    assert f"refs/tags/{ARCHETYPE}/v1.1.0" in refs
    assert f"refs/tags/packages/{ARCHETYPE}/v1.1.0" in refs
    assert result["content_hash"].startswith("sha256:") and result["upgraded"] == []
    packages = reg.ok("package", "list", "--format", "json").json()
    assert {(p["version"], p["phase"]) for p in packages} == {("1.0.0", "published"), ("1.1.0", "published")}


def test_release_refuses_and_writes_nothing(reg: Registry) -> None:
    before = reg.refs()
    for args, code, message in [
        (("release", ARCHETYPE, "1.0.0"), 1, "FROZEN_VERSION_IMMUTABLE"),
        (("release", ARCHETYPE, "0.9.0"), 1, "VERSIONS_MONOTONIC"),
        (("release", ARCHETYPE, "1.x"), 2, "invalid version"),
        (("release", "Bad_Name", "1.0.0"), 2, "invalid archetype name"),
    ]:
        result = reg.run(*args)
        assert (result.code, message in result.err) == (code, True), result.err
    assert "owners:support-triage" in reg.run("release", ARCHETYPE, "2.0.0", key="bob").err
    assert reg.refs() == before


def test_auto_upgrade_moves_only_opted_in_placements(reg: Registry) -> None:
    installed(reg, "acme/eager")
    installed(reg, "acme/careful")
    reg.ok("placement", "request", ARCHETYPE, "1.0.0", "--project", "acme", "--name", "pending", key="bob")
    reg.ok("placement", "edit", "acme/eager", "--auto-upgrade", "on", key="bob")
    careful = log_lines(reg, "registry/placements/acme/careful")
    pending = log_lines(reg, "registry/placements/acme/pending")

    done = reg.ok("release", ARCHETYPE, "1.1.0", "--auto-upgrade", "--format", "json").json()
    assert done["upgraded"] == ["acme/eager"]
    assert pinned(reg, "acme/eager") == "1.1.0"
    assert pinned(reg, "acme/careful") == "1.0.0"
    assert log_lines(reg, "registry/placements/acme/careful") == careful  # untouched
    assert log_lines(reg, "registry/placements/acme/pending") == pending
    status = reg.ok("placement", "status", "acme/careful", "--format", "json", key=None).json()
    assert status["update_available"] == "1.1.0"
    types = [e["type"] for e in log_lines(reg, "registry/placements/acme/eager")][-2:]
    assert types == ["replacement_published", "package_auto_upgraded"]

    reg.ok("placement", "edit", "acme/eager", "--auto-upgrade", "off", key="bob")
    assert reg.ok("release", ARCHETYPE, "1.2.0", "--auto-upgrade", "--format", "json").json()["upgraded"] == []
    assert pinned(reg, "acme/eager") == "1.1.0"
    rows = reg.ok("placement", "list", "--format", "json", key=None).json()
    assert {r["address"]: r["update_available"] for r in rows} == {
        "acme/careful": "1.2.0",
        "acme/eager": "1.2.0",
        "acme/pending": "1.2.0",
    }
    assert findings(reg) == []
