"""Imports equal what was verified, file modes included, and a promotion of an exported bundle is
one commit — import and promotion — or nothing at all."""

from __future__ import annotations

import gzip
import io
import tarfile
from pathlib import Path

import pytest

from tests.integration.releases_support import Release, copy_release
from tests.support import repo_state


def _repack(source: Path, target: Path, member: str, mode: int) -> Path:
    """``source`` with one member's mode changed: what an artifact store that keeps or drops
    executable bits on its own does to a bundle."""
    out = io.BytesIO()
    with tarfile.open(source, "r:gz") as old, tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as new:
        found = False
        for info in old:
            data = old.extractfile(info) if info.isfile() else None
            if info.name.split("/", 1)[1] == member:
                info.mode, found = mode, True
            new.addfile(info, data)
        assert found, member
    target.write_bytes(gzip.compress(out.getvalue(), mtime=0))
    return target


@pytest.mark.parametrize(
    ("member", "mode"),
    [
        pytest.param("payload/runtime/runtime/bin/run.sh", 0o644, id="exec-bit-lost"),
        pytest.param("evidence/release_lineage.json", 0o755, id="exec-bit-gained"),
    ],
)
@pytest.mark.parametrize("command", ["import", "promote"])
def test_other_file_modes_are_refused_and_nothing_is_written(
    rel: Release, template: Path, tmp_path: Path, member: str, mode: int, command: str
) -> None:
    rel.add_runtime_script()  # an executable, so a bundle has an exec bit to lose
    bid = rel.build()
    rel.reg.ok("bundle", "export", bid, "--to", tmp_path / "bundle.tar.gz")
    changed = _repack(tmp_path / "bundle.tar.gz", tmp_path / "changed.tar.gz", member, mode)
    target = copy_release(template, tmp_path / "target")
    before = repo_state(target.reg)
    if command == "import":
        result = target.reg.run("bundle", "import", changed)
    else:
        result = target.reg.run("promote", changed, "--env", "preview", "--reports-dir", target.reports)
    assert result.code == 1, result.err
    assert "not the verified file modes" in result.err and "(BUNDLE_IMMUTABLE)" in result.err
    assert repo_state(target.reg) == before
    # The bundle as exported imports, and verifies.
    target.reg.ok("bundle", "import", tmp_path / "bundle.tar.gz")
    assert target.reg.ok("verify", "--format", "json").json()["ok"] is True


def test_a_refused_promotion_of_an_exported_bundle_leaves_no_import(
    rel: Release, template: Path, tmp_path: Path
) -> None:
    unverified = rel.build(verify=False)
    rel.reg.ok("bundle", "export", unverified, "--to", tmp_path / "bundle.tar.gz")
    target = copy_release(template, tmp_path / "target")
    before = repo_state(target.reg)
    result = target.reg.run("promote", tmp_path / "bundle.tar.gz", "--env", "preview", "--reports-dir", target.reports)
    assert result.code == 1 and "not verified" in result.err, result.err
    assert repo_state(target.reg) == before
    assert not (target.reg.path / "bundles" / unverified).exists()


def test_promoting_an_exported_bundle_is_one_commit(rel: Release, template: Path, tmp_path: Path) -> None:
    bid = rel.build()
    rel.reg.ok("bundle", "export", bid, "--to", tmp_path / "bundle.tar.gz")
    target = copy_release(template, tmp_path / "target")
    tip = target.head()
    out = target.reg.ok(
        "promote", tmp_path / "bundle.tar.gz", "--env", "preview", "--gated", "--reports-dir", target.reports
    )
    assert out.code == 0
    assert target.reg.git("rev-parse", "HEAD~1").strip() == tip
    changed = target.reg.git("diff", "--name-only", "HEAD~1", "HEAD").split()
    assert any(p.startswith(f"bundles/{bid}/") for p in changed)
    assert any(p.startswith("deployments/preview/") for p in changed)
    assert target.reg.ok("verify", "--format", "json").json()["ok"] is True
