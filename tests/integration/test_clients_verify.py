"""`gitdocket verify` catches what the client-side lifecycles forbid, even when the bad line is
signed with the real key of someone who holds the role (so only the lifecycle rule, or the
cross-scope rule, can catch it)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.integration.clients_support import (
    ARCHETYPE,
    entitled,
    findings,
    forge,
    installed,
    package_ref,
    vendor_and_client,
)
from tests.support import Registry

PLACEMENT = "registry/placements/acme/triage"
ENTITLEMENT = "registry/entitlements/acme/triage"


@pytest.fixture
def reg(registry: Registry) -> Registry:
    return vendor_and_client(registry)


def manifest(reg: Registry, version: str = "1.0.0") -> dict[str, Any]:
    current = reg.path / f"registry/packages/{ARCHETYPE}/{version}/current.json"
    data: dict[str, Any] = json.loads(current.read_text())["manifest"]
    return data


def request_data(reg: Registry, version: str = "1.0.0", **ref: Any) -> dict[str, Any]:
    pkg = manifest(reg, version)
    return {
        "archetype": ARCHETYPE,
        "version": version,
        "content_hash": pkg["content_hash"],
        "method_tree": pkg["method_tree"],
        "package": {**package_ref(reg, ARCHETYPE, version, 1), **ref},
        "expires_at": None,
    }


def only(found: list[dict[str, Any]]) -> tuple[str, str]:
    assert len(found) == 1, found
    return found[0]["code"], found[0]["invariant"]


def test_a_hand_written_install_that_skipped_admission_is_caught(reg: Registry) -> None:
    reg.ok("placement", "request", ARCHETYPE, "1.0.0", "--project", "acme", "--name", "triage", key="bob")
    assert findings(reg) == []
    forge(reg, PLACEMENT, "package_installed", {"package": package_ref(reg, ARCHETYPE, "1.0.0")}, "bob")
    assert only(findings(reg)) == ("REPLAY_ILLEGAL", "INSTALL_REQUIRES_PUBLISHED_TARGET_ADMISSION")


def test_an_upgrade_to_an_unadmitted_replacement_is_caught(reg: Registry) -> None:
    installed(reg)
    reg.ok("release", ARCHETYPE, "1.1.0")
    reg.ok("placement", "offer", "acme/triage", "--to", "1.1.0")
    forge(
        reg,
        PLACEMENT,
        "package_superseded",
        {"version": "1.1.0", "package": package_ref(reg, ARCHETYPE, "1.1.0")},
        "bob",
    )
    assert only(findings(reg)) == ("REPLAY_ILLEGAL", "UPGRADE_REQUIRES_REPLACEMENT_ADMISSION")


def test_an_install_after_the_withdrawal_is_caught(reg: Registry, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITDOCKET_NOW", "2026-02-01T00:00:00Z")
    reg.ok("package", "withdraw", ARCHETYPE, "1.0.0", "--reason", "recalled")
    # A writer pretends not to have seen the withdrawal: its events cite line 1 (published).
    data = request_data(reg)
    later = "2026-03-01T00:00:00Z"
    forge(reg, PLACEMENT, "install_requested", data, "bob", at=later)
    forge(reg, PLACEMENT, "install_target_admitted", {"content_hash": data["content_hash"]}, "bob", at=later)
    forge(reg, PLACEMENT, "package_installed", {"package": data["package"]}, "bob", at=later)
    monkeypatch.setenv("GITDOCKET_NOW", later)  # the verifier's clock has reached the forged events
    found = findings(reg)
    assert {(f["code"], f["invariant"]) for f in found} == {("INVARIANT_BROKEN", "WITHDRAWAL_BLOCKS_FUTURE")}
    assert len(found) == 2  # the request and the install


@pytest.mark.parametrize(
    ("ref", "message"),
    [
        pytest.param({"head": "sha256:" + "0" * 64}, "does not exist with that hash", id="wrong-head"),
        pytest.param({"seq": 7}, "does not exist with that hash", id="line-beyond-the-log"),
    ],
)
def test_a_package_reference_that_does_not_match_the_log_is_caught(
    reg: Registry, ref: dict[str, Any], message: str
) -> None:
    forge(reg, PLACEMENT, "install_requested", request_data(reg, **ref), "bob")
    found = findings(reg)
    where = f"{PLACEMENT}/history.jsonl:1"
    assert [(f["code"], f["path"]) for f in found] == [("REFERENCE_BROKEN", where)]
    assert message in found[0]["message"]


def test_a_pin_of_other_content_is_caught(reg: Registry) -> None:
    data = request_data(reg)
    data["content_hash"] = "sha256:" + "5" * 64
    forge(reg, PLACEMENT, "install_requested", data, "bob")
    found = findings(reg)
    assert {f["invariant"] for f in found} == {"FROZEN_VERSION_IMMUTABLE", "PACKAGE_REQUIRES_FROZEN_VERSION"}
    assert {f["code"] for f in found} == {"REFERENCE_BROKEN"}


def test_an_entitlement_without_a_placement_is_caught(reg: Registry) -> None:
    ref = {"seq": 3, "head": "sha256:" + "1" * 64, "phase": "installed"}
    forge(reg, ENTITLEMENT, "package_install_admitted", {"placement": ref}, "bob")
    assert only(findings(reg)) == ("REFERENCE_BROKEN", "ENTITLEMENT_REQUIRES_INSTALLED_PLACEMENT")


def test_an_entitlement_admitted_after_the_removal_is_caught(reg: Registry, monkeypatch: pytest.MonkeyPatch) -> None:
    installed(reg)
    lines = (reg.path / PLACEMENT / "history.jsonl").read_bytes().splitlines()
    from gitdocket.core.log import head_digest

    seen = {"seq": 3, "head": head_digest(lines[2]), "phase": "installed"}
    monkeypatch.setenv("GITDOCKET_NOW", "2026-02-01T00:00:00Z")
    reg.ok("placement", "remove", "acme/triage", key="bob")
    forge(reg, ENTITLEMENT, "package_install_admitted", {"placement": seen}, "bob", at="2026-03-01T00:00:00Z")
    monkeypatch.setenv("GITDOCKET_NOW", "2026-03-01T00:00:00Z")  # the verifier's clock has reached it
    assert only(findings(reg)) == ("INVARIANT_BROKEN", "ENTITLEMENT_REQUIRES_INSTALLED_PLACEMENT")


def base_and_erase(reg: Registry, path: str, rewrite: bool) -> list[dict[str, Any]]:
    base = reg.git("rev-parse", "HEAD").strip()
    history = reg.path / path / "history.jsonl"
    if rewrite:
        history.write_text("".join(history.read_text().splitlines(keepends=True)[:-1]))
    else:
        reg.git("rm", "-rq", path)
    reg.git("commit", "-qam", "erase history")
    return findings(reg, "--base", base)


@pytest.mark.parametrize(
    ("setup", "path", "rewrite", "code", "invariant"),
    [
        pytest.param(
            "removed",
            PLACEMENT,
            False,
            "SCOPE_DELETED",
            "HISTORY_PRESERVED_ON_WITHDRAWAL",
            id="delete-a-removed-placement",
        ),
        pytest.param(
            "withdrawn",
            PLACEMENT,
            False,
            "SCOPE_DELETED",
            "HISTORY_PRESERVED_ON_WITHDRAWAL",
            id="delete-a-placement-of-a-withdrawn-package",
        ),
        pytest.param(
            "withdrawn",
            f"registry/packages/{ARCHETYPE}/1.0.0",
            True,
            "HISTORY_REWRITTEN",
            "HISTORY_PRESERVED_ON_WITHDRAWAL",
            id="rewrite-a-withdrawn-package",
        ),
        pytest.param(
            "closed",
            ENTITLEMENT,
            True,
            "HISTORY_REWRITTEN",
            "HISTORY_PRESERVED_ON_CLOSE",
            id="rewrite-a-closed-entitlement",
        ),
    ],
)
def test_pr_mode_catches_history_erased(
    reg: Registry, setup: str, path: str, rewrite: bool, code: str, invariant: str
) -> None:
    installed(reg)
    entitled(reg)
    if setup == "removed":
        reg.ok("placement", "remove", "acme/triage", key="bob")
    elif setup == "withdrawn":
        reg.ok("package", "withdraw", ARCHETYPE, "1.0.0", "--reason", "recalled")
    else:
        reg.ok("entitlement", "close", "acme/triage", "--reason", "ended", key="carol")
    assert findings(reg) == []
    found = base_and_erase(reg, path, rewrite)
    assert (code, invariant) in {(f["code"], f["invariant"]) for f in found}


def test_pr_mode_passes_on_the_normal_flow(reg: Registry) -> None:
    base = reg.git("rev-parse", "HEAD").strip()
    installed(reg)
    entitled(reg)
    reg.ok("entitlement", "close", "acme/triage", "--reason", "ended", key="carol")
    reg.ok("placement", "remove", "acme/triage", key="bob")
    assert findings(reg, "--base", base) == []
