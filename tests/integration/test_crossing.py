"""Cross-registry install (seed 000: crossing requires source-permit and target-admit), with two
real registries: their own repositories, policies and keys."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from gitdocket.core.log import head_digest
from gitdocket.errors import Invariant
from gitdocket.lifecycles.invariants import (
    CROSSING_REQUIRES_PERMIT_AND_ADMIT,
    PAYLOAD_CROSSES_ONLY_BY_TERMS,
)
from gitdocket.lifecycles.policy import VENDOR_ROOT_PINNED
from tests.integration.clients_support import findings, forge
from tests.integration.crossing_support import ADDRESS, ARCHETYPE, VENDOR, Crossing, crossing, installed
from tests.support import EXAMPLES, Registry, repo_state

VENDORED = f"registry/vendors/{VENDOR}"


def commit_all(c: Crossing, message: str) -> None:
    c.client.git("add", "-A")
    c.client.git("commit", "-q", "--no-verify", "-m", message)


def test_a_vendor_package_crosses_with_permit_pin_and_admission(tmp_path: Path) -> None:
    """CROSSING_REQUIRES_PERMIT_AND_ADMIT: the vendor permits the client, the client pins the
    vendor's root, a holder imports, an admin admits, a holder installs; the client's verify
    checks the vendor's signatures offline and passes. The method stays with the vendor."""
    c = crossing(tmp_path)
    installed(c)
    assert findings(c.client) == []
    status = c.client.ok("placement", "show", ADDRESS, "--format", "json").json()
    assert (status["phase"], status["pin"]["vendor"], status["package_phase"]) == ("installed", VENDOR, "published")
    files = sorted(p.relative_to(c.client.path / VENDORED).as_posix() for p in (c.client.path / VENDORED).rglob("*"))
    assert not [f for f in files if "/method" in f]  # the terms keep the method with the vendor
    assert "registry/packages/support-triage/1.0.0/history.jsonl" in files
    vendor_log = (c.vendor.path / "registry/packages/support-triage/1.0.0/history.jsonl").read_bytes()
    assert (c.client.path / VENDORED / "registry/packages/support-triage/1.0.0/history.jsonl").read_bytes() == (
        vendor_log
    )
    assert b"client_permitted" in vendor_log


@pytest.mark.parametrize("how", [pytest.param("unpinned", id="no-pin"), pytest.param("other-root", id="other-root")])
def test_an_import_signed_by_an_unpinned_root_is_refused(tmp_path: Path, how: str) -> None:
    """VENDOR_ROOT_PINNED: the vendor's records verify under no root the client pinned: one line,
    exit 1, nothing written."""
    c = crossing(tmp_path, pin=how != "unpinned")
    if how == "other-root":  # the client pinned someone else's keys under the vendor's name
        other = json.loads(c.client_root.read_text()) | {"registry": VENDOR}
        forged = c.work / "other-root.json"
        forged.write_text(json.dumps(other))
        c.client.ok("vendor", "pin", VENDOR, forged, key="dana")
    folder = c.export()
    before = repo_state(c.client)
    result = c.client.run("vendor", "import", folder, "--vendor", VENDOR, "--project", "shop", key="dana")
    assert result.code == 1, result.err
    assert "does not pin" in result.err
    assert "gitdocket vendor pin" in result.err
    assert VENDOR_ROOT_PINNED.name in result.err
    assert repo_state(c.client) == before


def test_an_import_the_vendor_did_not_permit_is_refused(tmp_path: Path) -> None:
    """CROSSING_REQUIRES_PERMIT_AND_ADMIT: without the vendor's permit for this client the
    import is refused (and a permit for another client does not count)."""
    c = crossing(tmp_path, permit=False)
    other = json.loads(c.client_root.read_text()) | {"registry": "someone-else"}
    (c.work / "someone-else.json").write_text(json.dumps(other))
    c.vendor.ok("vendor", "permit", ARCHETYPE, "1.0.0", c.work / "someone-else.json")
    folder = c.export()
    before = repo_state(c.client)
    result = c.client.run("vendor", "import", folder, "--vendor", VENDOR, "--project", "shop", key="dana")
    assert result.code == 1, result.err
    assert "did not permit" in result.err and CROSSING_REQUIRES_PERMIT_AND_ADMIT.name in result.err
    assert repo_state(c.client) == before


def _edit_vendor_log(c: Crossing) -> None:
    path = c.client.path / VENDORED / "registry/packages/support-triage/1.0.0/history.jsonl"
    path.write_bytes(path.read_bytes().replace(b"Method stays", b"Method flies"))


def _method_dropped_in(c: Crossing) -> None:
    shutil.copytree(
        EXAMPLES / ARCHETYPE / "method", c.client.path / VENDORED / "registry/versions/support-triage/1.0.0/method"
    )


@pytest.mark.parametrize(
    ("tamper", "code", "rule"),
    [
        pytest.param(_edit_vendor_log, "VENDOR_UNTRUSTED", VENDOR_ROOT_PINNED, id="vendor-log-edited"),
        pytest.param(_method_dropped_in, "PAYLOAD_CROSSED", PAYLOAD_CROSSES_ONLY_BY_TERMS, id="method-crossed"),
    ],
)
def test_verify_checks_the_vendor_records_offline(
    tmp_path: Path, tamper: Callable[[Crossing], None], code: str, rule: Invariant
) -> None:
    c = crossing(tmp_path)
    installed(c)
    tamper(c)
    commit_all(c, "by hand")
    found = findings(c.client)
    assert any(f["code"] == code and f["invariant"] == rule.name for f in found), found


def test_verify_checks_vendor_records_that_no_placement_names(tmp_path: Path) -> None:
    """Vendors' records are verified whenever the registry holds them, not only when a placement
    does (``snapshot._when``'s folder): here the import's placement is removed by hand and the
    vendor's log edited; both are named."""
    c = crossing(tmp_path)
    c.imported(c.export())
    shutil.rmtree(c.client.path / "registry" / "placements")
    _edit_vendor_log(c)
    commit_all(c, "by hand")
    codes = {f["code"] for f in findings(c.client)}
    assert "VENDOR_UNTRUSTED" in codes, codes


def test_verify_refuses_a_crossing_the_vendor_did_not_permit(tmp_path: Path) -> None:
    """CROSSING_REQUIRES_PERMIT_AND_ADMIT: the vendor's logs are genuine but hold no permit for
    this client; the import is copied in by hand and the request signed with the holder's real
    key. Verify names the missing permit."""
    c = crossing(tmp_path, permit=False)
    folder = c.export()
    shutil.copytree(folder, c.client.path / VENDORED)
    lines = (folder / "registry/packages/support-triage/1.0.0/history.jsonl").read_bytes().splitlines()
    manifest = json.loads(lines[0])["data"]
    ref = {"seq": len(lines), "head": head_digest(lines[-1]), "phase": "published"}
    data = {k: manifest[k] for k in ("archetype", "version", "content_hash", "method_tree")}
    data |= {"vendor": VENDOR, "package": ref, "expires_at": None}
    forge(c.client, "registry/placements/shop/triage", "install_requested", data, "dana", at="2026-01-01T00:00:00Z")
    found = findings(c.client)
    assert any(f["code"] == "CROSSING_NOT_PERMITTED" for f in found), found


def test_the_method_crosses_only_when_the_terms_permit_it(tmp_path: Path) -> None:
    """PAYLOAD_CROSSES_ONLY_BY_TERMS: terms that say "method may cross" carry the frozen method,
    byte for byte and as the same git tree; verify passes."""
    source = tmp_path / "open-source"
    shutil.copytree(EXAMPLES / ARCHETYPE, source)
    yaml = source / "archetype.yaml"
    yaml.write_text(yaml.read_text().replace("Method stays with the vendor", "The method may cross to clients"))
    c = crossing(tmp_path, source)
    installed(c)
    assert findings(c.client) == []
    method = "registry/versions/support-triage/1.0.0/method"
    tree = subprocess.run(
        ["git", "-C", str(c.client.path), "rev-parse", f"HEAD:{VENDORED}/{method}"], capture_output=True, text=True
    ).stdout.strip()
    frozen = subprocess.run(
        ["git", "-C", str(c.vendor.path), "rev-parse", f"HEAD:{method}"], capture_output=True, text=True
    ).stdout.strip()
    assert tree == frozen and len(tree) == 40


def test_importing_a_folder_that_is_no_export_is_bad_input(registry: Registry, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    before = repo_state(registry)
    result = registry.run("vendor", "import", empty, "--vendor", VENDOR, "--project", "shop")
    assert result.code == 2 and "holds no exported package" in result.err
    assert repo_state(registry) == before


def test_importing_a_path_that_is_no_folder_names_the_export(registry: Registry, tmp_path: Path) -> None:
    before = repo_state(registry)
    result = registry.run("vendor", "import", tmp_path / "missing", "--vendor", VENDOR, "--project", "shop")
    assert result.code == 2 and "not a folder" in result.err, result.err
    assert "hint: pass the folder `gitdocket vendor export` wrote" in result.err, result.err
    assert repo_state(registry) == before
