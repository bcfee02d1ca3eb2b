"""Bundles in a real registry: build from git trees, verify, export, import, and the refusals."""

from __future__ import annotations

import hashlib
import io
import json
import os
import tarfile
from pathlib import Path

import pytest

from tests.integration.releases_support import Release, copy_release, make_template


@pytest.fixture(scope="session")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_template(tmp_path_factory.mktemp("releases"))


@pytest.fixture
def rel(template: Path, tmp_path: Path) -> Release:
    return copy_release(template, tmp_path / "copy")


def test_build_writes_every_manifest_field_and_reuses_trees(rel: Release) -> None:
    out = rel.reg.ok("bundle", "build", "--label", "pr-preview", "--evidence", rel.evidence, "--format", "json").json()
    bid = out["bundle_id"]
    assert bid == f"pr-preview-20260101-000000-{rel.reg.git('rev-parse', 'HEAD~1').strip()[:8]}"
    manifest = json.loads((rel.reg.path / "bundles" / bid / "bundle_manifest.json").read_text())
    assert set(manifest) == {
        "contract",
        "bundle_id",
        "bundle_label",
        "created_at",
        "source",
        "payload",
        "evidence",
        "summary",
    }
    assert manifest["contract"] == "release_bundle_v1"
    assert manifest["source"]["registry_git"] == {
        "commit": rel.reg.git("rev-parse", "HEAD~1").strip(),
        "dirty": False,
    }
    assert sorted(manifest["evidence"]["required"]) == [
        "release_lineage.json",
        "release_lineage_contract_report.json",
        "release_readiness_gate_report.json",
    ]
    method = "payload/registry/support-triage/1.0.0/method"
    assert rel.tree_id(f"bundles/{bid}/{method}") == rel.tree_id("registry/versions/support-triage/1.0.0/method")
    assert (
        manifest["payload"]["registry_checksums"]["support-triage/1.0.0/method/instructions.md"]
        == hashlib.sha256(
            (rel.reg.path / "registry/archetypes/support-triage/method/instructions.md").read_bytes()
        ).hexdigest()
    )
    assert manifest["summary"]["included_files"] == out["included_files"]
    events = [json.loads(line) for line in (rel.reg.path / "bundles" / bid / "history.jsonl").read_text().splitlines()]
    assert [(e["type"], e["actor"]) for e in events] == [("built", "alice")]


def test_verify_ok_json_shape(rel: Release) -> None:
    bid = rel.build(verify=False)
    data = rel.reg.ok("bundle", "verify", bid, "--format", "json").json()
    assert set(data) == {"ok", "bundle_id", "errors", "warnings", "verified_files"}
    assert (data["ok"], data["bundle_id"], data["errors"]) == (True, bid, [])
    assert data["verified_files"] > 10


def tamper_commit(rel: Release, edits: dict[str, bytes | None]) -> None:
    for path, data in edits.items():
        target = rel.reg.path / path
        if data is None:
            target.unlink()
        else:
            target.write_bytes(data)
    rel.reg.git("add", "-A")
    rel.reg.git("-c", "user.name=eve", "-c", "user.email=eve@example.com", "commit", "-qm", "tamper")


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        pytest.param(
            {"evidence/release_lineage.json": b"{}\n"},
            "Checksum mismatch for evidence/release_lineage.json",
            id="changed",
        ),
        pytest.param(
            {"evidence/release_lineage.json": None},
            "Missing evidence file: evidence/release_lineage.json",
            id="missing",
        ),
        pytest.param(
            {"payload/runtime/extra.sh": b"echo hi\n"},
            "Unexpected file: payload/runtime/extra.sh",
            id="extra",
        ),
    ],
)
def test_verify_catches_tampering_in_the_registry(rel: Release, edit: dict[str, bytes | None], expected: str) -> None:
    bid = rel.build()
    (rel.reg.path / "bundles" / bid / "payload" / "runtime").mkdir(exist_ok=True)
    tamper_commit(rel, {f"bundles/{bid}/{p}": d for p, d in edit.items()})
    result = rel.reg.run("bundle", "verify", bid, "--format", "json")
    assert result.code == 1
    assert expected in result.json()["errors"]
    findings = rel.reg.run("verify", "--format", "json").json()["findings"]
    assert any(f["code"] == "BUNDLE_INVALID" and f["message"] == expected for f in findings)
    pr = rel.reg.run("verify", "--base", "HEAD~1", "--format", "json").json()["findings"]
    assert any(f["code"] == "IMMUTABLE_CHANGED" for f in pr)


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        pytest.param(
            lambda b: (b / "evidence/release_lineage.json").write_text("{}"),
            "Checksum mismatch for evidence/release_lineage.json",
            id="changed",
        ),
        pytest.param(
            lambda b: (b / "evidence/release_lineage.json").unlink(),
            "Missing evidence file: evidence/release_lineage.json",
            id="missing",
        ),
        pytest.param(
            lambda b: (b / "payload/extra.bin").write_bytes(b"x"),
            "Unexpected file: payload/extra.bin",
            id="extra",
        ),
    ],
)
def test_verify_catches_tampering_in_an_export(rel: Release, tmp_path: Path, edit: object, expected: str) -> None:
    bid = rel.build()
    rel.reg.ok("bundle", "export", bid, "--to", tmp_path / "out")
    folder = tmp_path / "out" / bid
    assert rel.reg.ok("bundle", "verify", folder, "--format", "json").json()["ok"] is True
    edit(folder)  # type: ignore[operator]
    result = rel.reg.run("bundle", "verify", folder, "--format", "json")
    assert result.code == 1
    assert expected in result.json()["errors"]


@pytest.mark.parametrize(
    ("name", "code"),
    [
        pytest.param("bundle_manifest.json", "BUNDLE_INVALID", id="manifest-deleted"),
        pytest.param("history.jsonl", "CURRENT_MISSING", id="log-deleted"),
    ],
)
def test_docket_verify_catches_a_verified_bundle_losing_a_file(rel: Release, name: str, code: str) -> None:
    bid = rel.build()
    tamper_commit(rel, {f"bundles/{bid}/{name}": None})
    result = rel.reg.run("verify", "--format", "json")
    assert result.code == 1
    assert any(f["code"] == code and bid in f["path"] for f in result.json()["findings"])


def test_build_refuses_secrets_naming_file_and_line(rel: Release) -> None:
    """BUNDLE_HAS_NO_SECRETS: the file and the line are named, nothing is written."""
    (rel.evidence / "notes.txt").write_text("ok\nAWS key AKIAABCDEFGHIJKLMNOP\n")
    before = rel.reg.refs()
    result = rel.reg.run("bundle", "build", "--label", "pr-preview", "--evidence", rel.evidence)
    assert result.code == 1
    assert "secret in bundle: evidence/notes.txt line 2 (AWS access key id)" in result.err
    assert "Traceback" not in result.err
    assert rel.reg.refs() == before


def test_allow_listed_secret_file_is_accepted(rel: Release) -> None:
    (rel.evidence / "fixture.pem").write_text("-----BEGIN PRIVATE KEY-----\n")
    config = rel.reg.path / "registry" / "registry.yaml"
    config.write_text(config.read_text().replace("allow_secrets: []", "allow_secrets: [evidence/fixture.pem]"))
    rel.reg.git("commit", "-qam", "allow a test key")
    rel.reg.ok("config", "apply")
    assert rel.reg.run("bundle", "build", "--label", "pr-preview", "--evidence", rel.evidence).code == 0


def test_build_refuses_missing_required_evidence(rel: Release) -> None:
    """BUNDLE_REQUIRES_EVIDENCE: every file the configuration requires is in the bundle."""
    (rel.evidence / "release_lineage.json").unlink()
    before = rel.reg.refs()
    result = rel.reg.run("bundle", "build", "--label", "pr-preview", "--evidence", rel.evidence)
    assert result.code == 1
    assert "missing required evidence file release_lineage.json" in result.err
    assert rel.reg.refs() == before


def test_build_refuses_a_link_in_a_runtime_include(rel: Release) -> None:
    """BUNDLE_REGULAR_FILES: a symlink committed under an include path never reaches a bundle."""
    rel.add_runtime_script()
    (rel.reg.path / "runtime" / "bin" / "latest").symlink_to("run.sh")
    rel.reg.git("add", "-A")
    rel.reg.git("commit", "-qm", "a link in the runtime")
    before = rel.reg.refs()
    result = rel.reg.run("bundle", "build", "--label", "pr-preview", "--evidence", rel.evidence)
    assert result.code == 1 and "runtime/bin/latest is a link" in result.err, result.err
    assert "BUNDLE_REGULAR_FILES" in result.err
    assert rel.reg.refs() == before


def test_runtime_include_paths_are_placed_as_trees(rel: Release) -> None:
    rel.add_runtime_script()
    bid = rel.build()
    assert rel.tree_id(f"bundles/{bid}/payload/runtime/runtime") == rel.tree_id("runtime")
    manifest = json.loads((rel.reg.path / "bundles" / bid / "bundle_manifest.json").read_text())
    assert list(manifest["payload"]["runtime_checksums"]) == ["runtime/bin/run.sh"]
    assert rel.reg.ok("bundle", "verify", bid, "--format", "json").json()["ok"] is True


def test_package_selection_and_withdrawn_packages(rel: Release) -> None:
    ok = rel.reg.ok(
        "bundle",
        "build",
        "--label",
        "one",
        "--package",
        "support-triage@1.0.0",
        "--evidence",
        rel.evidence,
        "--format",
        "json",
    ).json()
    assert ok["packages"] == ["support-triage@1.0.0"]
    rel.reg.ok("package", "withdraw", "support-triage", "1.0.0", "--reason", "bad")
    refused = rel.reg.run(
        "bundle",
        "build",
        "--label",
        "two",
        "--package",
        "support-triage@1.0.0",
        "--evidence",
        rel.evidence,
    )
    assert refused.code == 1 and "support-triage 1.0.0 is withdrawn" in refused.err
    nothing = rel.reg.run("bundle", "build", "--label", "three", "--evidence", rel.evidence)
    assert nothing.code == 1 and "nothing to bundle" in nothing.err


def test_record_twice_is_refused(rel: Release) -> None:
    bid = rel.build()
    again = rel.reg.run("bundle", "verify", bid, "--record")
    assert again.code == 1 and "already verified" in again.err


def test_export_tarball_is_deterministic_and_imports_elsewhere(rel: Release, tmp_path: Path, template: Path) -> None:
    bid = rel.build()
    first = rel.reg.ok("bundle", "export", bid, "--to", tmp_path / "a.tar.gz", "--format", "json").json()
    second = rel.reg.ok("bundle", "export", bid, "--to", tmp_path / "b.tar.gz", "--format", "json").json()
    assert first["sha256"] == second["sha256"]
    assert (tmp_path / "a.tar.gz").read_bytes() == (tmp_path / "b.tar.gz").read_bytes()
    other = copy_release(template, tmp_path / "other")
    imported = other.reg.ok("bundle", "import", tmp_path / "a.tar.gz", "--format", "json").json()
    assert (imported["bundle_id"], imported["imported"]) == (bid, True)
    assert other.tree_id(f"bundles/{bid}") == rel.tree_id(f"bundles/{bid}")
    again = other.reg.ok("bundle", "import", tmp_path / "a.tar.gz", "--format", "json").json()
    assert again["imported"] is False
    assert other.reg.ok("verify", "--format", "json").json()["ok"] is True


def test_a_foreign_bundle_is_refused(rel: Release, tmp_path: Path) -> None:
    bid = rel.build()
    rel.reg.ok("bundle", "export", bid, "--to", tmp_path / "b.tar.gz")
    base = tmp_path / "foreign"
    base.mkdir()
    from tests.support import Registry, run_cli, write_key

    keys = base / "keys"
    keys.mkdir()
    mallory = write_key(keys, "mallory")
    assert (
        run_cli("init", base / "reg", "--identity", "mallory", "--key", mallory, "--gate-preset", "agent-skills").code
        == 0
    )
    foreign = Registry(base / "reg", keys, mallory, {"mallory": mallory})
    before = foreign.refs()
    result = foreign.run("bundle", "import", tmp_path / "b.tar.gz", key="mallory")
    assert result.code == 1
    assert "bundle does not verify: Builder signature" in result.err
    assert foreign.refs() == before


def _tar(path: Path, members: list[tuple[tarfile.TarInfo, bytes]], truncate: int = 0) -> Path:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for info, data in members:
            tar.addfile(info, io.BytesIO(data) if info.isfile() else None)
    raw = buffer.getvalue()
    path.write_bytes(raw[: len(raw) - truncate] if truncate else raw)
    return path


def _member(name: str, kind: bytes = tarfile.REGTYPE, size: int = 2, link: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, link
    info.size = size if kind == tarfile.REGTYPE else 0
    return info


B = "pr-preview-20260101-000000-00000000"


@pytest.mark.parametrize(
    ("members", "message"),
    [
        pytest.param([(_member("/etc/passwd"), b"xx")], "absolute or escaping path", id="absolute"),
        pytest.param([(_member(f"{B}/../../evil"), b"xx")], "absolute or escaping path", id="dot-dot"),
        pytest.param(
            [(_member(f"{B}/link", tarfile.SYMTYPE, link="/etc/passwd"), b"")],
            "is a link",
            id="symlink",
        ),
        pytest.param(
            [(_member(f"{B}/hard", tarfile.LNKTYPE, link=f"{B}/x"), b"")],
            "is a link",
            id="hardlink",
        ),
        pytest.param([(_member(f"{B}/dev", tarfile.CHRTYPE), b"")], "device or special file", id="device"),
        pytest.param(
            [(_member(f"{B}/a"), b"xx"), (_member(f"{B}/a"), b"yy")],
            "appears twice",
            id="duplicate",
        ),
        pytest.param(
            [(_member(f"{B}/a"), b"xx"), (_member("other/b"), b"yy")],
            "expected one top folder",
            id="two-tops",
        ),
    ],
)
def test_import_rejects_unsafe_archives(
    rel: Release, tmp_path: Path, members: list[tuple[tarfile.TarInfo, bytes]], message: str
) -> None:
    archive = _tar(tmp_path / "evil.tar.gz", members)
    before = rel.reg.refs()
    result = rel.reg.run("bundle", "import", archive)
    assert result.code == 2
    assert message in result.err and "Traceback" not in result.err
    assert rel.reg.refs() == before
    assert not (tmp_path / "etc").exists()


def test_import_rejects_oversized_and_truncated_archives(rel: Release, tmp_path: Path) -> None:
    huge = tarfile.TarInfo(f"{B}/huge.bin")
    huge.size = 5 << 30
    header = huge.tobuf(format=tarfile.PAX_FORMAT)
    import gzip

    (tmp_path / "huge.tar.gz").write_bytes(gzip.compress(header))
    result = rel.reg.run("bundle", "import", tmp_path / "huge.tar.gz")
    assert result.code == 2 and "over the 4 GiB limit" in result.err
    bid = rel.build()
    rel.reg.ok("bundle", "export", bid, "--to", tmp_path / "ok.tar.gz")
    data = (tmp_path / "ok.tar.gz").read_bytes()
    (tmp_path / "cut.tar.gz").write_bytes(data[: len(data) // 2])
    cut = rel.reg.run("bundle", "import", tmp_path / "cut.tar.gz")
    assert cut.code == 2 and "not a readable .tar.gz" in cut.err


def test_verify_names_unknown_bundles(rel: Release) -> None:
    result = rel.reg.run("bundle", "verify", "nope-20260101-000000-00000000")
    assert result.code == 1 and "no bundle 'nope-20260101-000000-00000000'" in result.err


def test_list_shows_phases(rel: Release) -> None:
    built = rel.build(verify=False)
    verified = rel.build(label="candidate")
    rows = {r["bundle_id"]: r["phase"] for r in rel.reg.ok("bundle", "list", "--format", "json").json()}
    assert rows == {built: "built", verified: "verified"}


def test_odd_file_names_are_one_clear_line(rel: Release, tmp_path: Path) -> None:
    odd = os.fsdecode(b"bad-\xff.json")
    (rel.evidence / odd).write_text("{}")
    refused = rel.reg.run("bundle", "build", "--label", "pr-preview", "--evidence", rel.evidence)
    assert refused.code == 2 and "is not plain UTF-8 text" in refused.err
    (rel.evidence / odd).unlink()
    bid = rel.build()
    rel.reg.ok("bundle", "export", bid, "--to", tmp_path / "out")
    (tmp_path / "out" / bid / "evidence" / odd).write_text("{}")
    result = rel.reg.run("bundle", "verify", tmp_path / "out" / bid)
    assert result.code == 2 and "is not plain UTF-8 text" in result.err and "Traceback" not in result.err
