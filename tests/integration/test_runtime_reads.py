"""What a runtime reads is what was signed (issue 9, item 4): `bundle verify` and `deployments
resolve` check the bytes on disk against the signed manifest (changed, missing and extra files),
`deployments resolve --export DIR` materializes a verified release from git objects (the bare
registry), and every bundle gitdocket exports is accepted by seed 002's own verifier rules."""

from __future__ import annotations

import json
import shutil
import subprocess
import tarfile
from collections.abc import Callable
from pathlib import Path

import pytest

from gitdocket.adapters.archives import export_folder
from gitdocket.adapters.bundle_files import from_folder
from gitdocket.errors import DocketError
from tests.integration.releases_support import Release
from tests.integration.seed_verifier import seed_rejections
from tests.support import repo_state, run_cli

METHOD = "payload/registry/support-triage/1.0.0/method"


def _in_prod(rel: Release) -> str:
    bundle = rel.build()
    rel.chain(bundle)
    return bundle


# -- seed 002's verifier -------------------------------------------------------------------------


def test_the_seed_rules_have_teeth(rel: Release, tmp_path: Path) -> None:
    """The checker refuses what seed 002 refuses: a missing empty section root, a changed file."""
    bundle = rel.build()
    out = Path(rel.reg.ok("bundle", "export", bundle, "--to", tmp_path / "out", "--format", "json").json()["path"])
    assert seed_rejections(out) == []
    (out / "payload" / "runtime").rmdir()
    assert seed_rejections(out) == ["Missing runtime payload root: payload/runtime"]
    (out / "payload" / "runtime").mkdir()
    (out / METHOD / "instructions.md").write_text("edited\n")
    assert seed_rejections(out) == [
        "Checksum mismatch for payload/registry/support-triage/1.0.0/method/instructions.md"
    ]


def test_an_exported_folder_keeps_its_empty_runtime_root(rel: Release, tmp_path: Path) -> None:
    bundle = rel.build()
    manifest = json.loads((rel.reg.path / "bundles" / bundle / "bundle_manifest.json").read_text())
    assert manifest["payload"]["runtime_checksums"] == {}  # registry.yaml includes nothing
    out = Path(rel.reg.ok("bundle", "export", bundle, "--to", tmp_path / "out", "--format", "json").json()["path"])
    assert (out / "payload" / "runtime").is_dir() and not any((out / "payload" / "runtime").iterdir())
    assert seed_rejections(out) == []
    assert rel.reg.ok("bundle", "verify", out).out.splitlines()[-1] == "Validation: OK"


def test_an_exported_tarball_unpacks_to_what_the_seed_accepts(rel: Release, tmp_path: Path) -> None:
    bundle = rel.build()
    archive = tmp_path / "bundle.tar.gz"
    rel.reg.ok("bundle", "export", bundle, "--to", archive)
    with tarfile.open(archive, "r:gz") as tar:
        tar.extractall(tmp_path / "unpacked", filter="data")
    assert seed_rejections(tmp_path / "unpacked" / bundle) == []
    # and gitdocket's own import of the same archive still round-trips
    assert rel.reg.ok("bundle", "verify", archive).out.splitlines()[-1] == "Validation: OK"


def test_every_section_root_is_exported_even_when_empty(tmp_path: Path) -> None:
    """A bundle with no runtime payload and no evidence still exports all three roots."""
    source_dir = tmp_path / "src" / "bare-20260101-000000-nogit"
    (source_dir / "payload" / "registry").mkdir(parents=True)
    (source_dir / "payload" / "registry" / "a.txt").write_text("a\n")
    (source_dir / "bundle_manifest.json").write_text("{}\n")
    out = export_folder(from_folder(source_dir), tmp_path / "out")
    assert all((out / root).is_dir() for root in ("payload/runtime", "payload/registry", "evidence"))


# -- bundle verify reads the disk ------------------------------------------------------------------


def _edit(path: str) -> Callable[[Path], None]:
    return lambda root: (root / path).write_text("changed on disk\n")


def _add(path: str) -> Callable[[Path], None]:
    return lambda root: (root / path).write_text("an extra file\n")


def _remove(path: str) -> Callable[[Path], None]:
    return lambda root: (root / path).unlink()


DISK_CASES = [
    pytest.param(_edit(f"{METHOD}/instructions.md"), f"Checksum mismatch for {METHOD}/instructions.md", id="changed"),
    pytest.param(
        _remove(f"{METHOD}/instructions.md"), f"Missing registry payload file: {METHOD}/instructions.md", id="missing"
    ),
    pytest.param(_add("payload/registry/extra.sh"), "Unexpected file: payload/registry/extra.sh", id="extra"),
    pytest.param(_add("payload/runtime/run.py"), "Unexpected file: payload/runtime/run.py", id="extra-in-empty-root"),
    pytest.param(_edit("bundle_manifest.json"), "bundle_manifest.json is not the signed manifest", id="manifest"),
    pytest.param(_edit("history.jsonl"), "history.jsonl differs from the signed bundle's", id="log"),
]


@pytest.mark.parametrize(("spoil", "named"), DISK_CASES)
def test_bundle_verify_reads_the_files_on_disk(rel: Release, spoil: Callable[[Path], None], named: str) -> None:
    bundle = rel.build()
    (rel.reg.path / "bundles" / bundle / "payload" / "runtime").mkdir(parents=True, exist_ok=True)
    spoil(rel.reg.path / "bundles" / bundle)
    before = repo_state(rel.reg)
    result = rel.reg.run("bundle", "verify", bundle)
    assert result.code == 1, result.out
    assert f"error: On disk (bundles/{bundle}): {named}" in result.out
    assert result.out.splitlines()[-1].startswith("Validation: FAILED")
    assert repo_state(rel.reg) == before


def test_bundle_verify_record_refuses_a_changed_disk_copy_and_records_nothing(rel: Release) -> None:
    bundle = rel.build(verify=False)
    _edit(f"{METHOD}/instructions.md")(rel.reg.path / "bundles" / bundle)
    before = repo_state(rel.reg)
    result = rel.reg.run("bundle", "verify", bundle, "--record")
    assert result.code == 1 and "Checksum mismatch" in result.out
    assert repo_state(rel.reg) == before


# -- deployments resolve reads the disk ------------------------------------------------------------


@pytest.mark.parametrize(("spoil", "named"), DISK_CASES)
def test_resolve_refuses_a_release_changed_on_disk(rel: Release, spoil: Callable[[Path], None], named: str) -> None:
    bundle = _in_prod(rel)
    release = rel.reg.path / "deployments" / "prod" / "releases" / bundle
    release.joinpath("payload", "runtime").mkdir(parents=True, exist_ok=True)
    spoil(release)
    before = repo_state(rel.reg)
    result = rel.reg.run("deployments", "resolve", "--env", "prod")
    assert result.code == 1 and result.out == ""
    lines = result.err.splitlines()
    assert lines[0].startswith(f"error: {release}: the release on disk is not the signed bundle {bundle}: {named}")
    assert lines[1].startswith("hint: restore it with `git checkout -- deployments/prod/releases/")
    assert len(lines) == 2
    assert repo_state(rel.reg) == before


def test_resolve_prints_a_path_that_holds_exactly_the_signed_files(rel: Release) -> None:
    bundle = _in_prod(rel)
    out = rel.reg.ok("deployments", "resolve", "--env", "prod", "--format", "json").json()
    assert out["path"] == str(rel.reg.path / "deployments" / "prod" / "releases" / bundle)


def _bare(rel: Release, tmp_path: Path) -> Path:
    bare = tmp_path / "bare.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(rel.reg.path), str(bare)], check=True)
    return bare


def test_resolve_in_a_bare_registry_needs_export(rel: Release, tmp_path: Path) -> None:
    _in_prod(rel)
    bare = _bare(rel, tmp_path)
    result = run_cli("deployments", "resolve", "--env", "prod", "--repo", bare)
    assert result.code == 1
    assert "a bare registry has no files on disk" in result.err
    assert "--export DIR" in result.err.splitlines()[1]


def test_resolve_export_materializes_a_verified_release_from_git_objects(rel: Release, tmp_path: Path) -> None:
    bundle = _in_prod(rel)
    bare = _bare(rel, tmp_path)
    result = run_cli(
        "deployments", "resolve", "--env", "prod", "--repo", bare, "--export", tmp_path / "run", "--format", "json"
    )
    assert result.code == 0, result.err
    path = Path(result.json()["path"])
    assert path == tmp_path / "run" / bundle and path.is_dir()
    assert seed_rejections(path) == []
    assert run_cli("bundle", "verify", path, "--repo", bare).code == 0
    # a second export into the same folder never overwrites what a runtime may be reading
    again = run_cli("deployments", "resolve", "--env", "prod", "--repo", bare, "--export", tmp_path / "run")
    assert again.code == 2 and "already exists" in again.err


def test_resolve_export_works_from_a_worktree_too(rel: Release, tmp_path: Path) -> None:
    bundle = _in_prod(rel)
    shutil.rmtree(rel.reg.path / "deployments" / "prod" / "releases" / bundle)  # the worktree copy is gone
    out = rel.reg.ok("deployments", "resolve", "--env", "prod", "--export", tmp_path / "run").out.strip()
    assert out == str(tmp_path / "run" / bundle)
    assert seed_rejections(Path(out)) == []


def test_a_failed_folder_export_leaves_nothing_behind(tmp_path: Path) -> None:
    """A file that goes away between listing and copying fails the export, and the folder it
    was writing into holds nothing: no bundle folder, no ``.docket-export-*`` staging folder."""
    source_dir = tmp_path / "src" / "bare-20260101-000000-nogit"
    (source_dir / "payload" / "registry").mkdir(parents=True)
    (source_dir / "payload" / "registry" / "a.txt").write_text("a\n")
    (source_dir / "bundle_manifest.json").write_text("{}\n")
    source = from_folder(source_dir)
    (source_dir / "payload" / "registry" / "a.txt").unlink()
    (tmp_path / "out").mkdir()
    with pytest.raises((DocketError, OSError)):
        export_folder(source, tmp_path / "out")
    assert list((tmp_path / "out").iterdir()) == []


def test_status_lists_a_deployment_whatever_the_configuration_state_says(rel: Release) -> None:
    """ADR 0035: ``status`` takes the environments' order from the signed configuration's
    ``current.json`` without replaying its log, so a hand-edited file is shown as recorded, but it
    cannot hide a deployment (every environment folder is listed); ``verify`` reports the edit."""
    bid = rel.build()
    rel.reg.ok("promote", bid, "--env", "preview", "--reports-dir", rel.reports)
    path = rel.reg.path / "registry" / "config" / "current.json"
    state = json.loads(path.read_text())
    state["registry"]["environments"] = [e for e in state["registry"]["environments"] if e["name"] != "preview"]
    path.write_text(json.dumps(state, indent=2, sort_keys=True) + "\n")
    rel.reg.git("add", "-A")
    rel.reg.git("-c", "user.name=eve", "-c", "user.email=eve@example.com", "commit", "-qm", "hide preview")
    rows = rel.reg.ok("status", "--format", "json").json()
    assert [r["bundle_id"] for r in rows if r["environment"] == "preview"] == [bid]
    found = rel.reg.run("verify", "--format", "json").json()["findings"]
    assert ("registry/config/current.json", "CURRENT_MISMATCH") in {(f["path"], f["code"]) for f in found}
