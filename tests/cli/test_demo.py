"""``gitdocket demo``: the narrated flow runs the real commands, keeps or removes its folder, and
stops with a clear error when a step fails."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

import gitdocket.demo
from gitdocket.demo import publishing as core
from gitdocket.demo.releases import ROLLBACK_DAY
from tests.support import run_cli

NARRATED = [
    "$ gitdocket key create keys/alice_ed25519 --comment alice",
    "$ gitdocket init acme-registry --name acme-registry --identity alice --key keys/alice_ed25519",
    "$ export GITDOCKET_SIGNING_KEY=keys/alice_ed25519",
    "$ gitdocket archetype new support-triage --from examples/archetypes/support-triage --repo ",
    "$ gitdocket archetype new release-notes --from examples/archetypes/release-notes --repo ",
    "$ gitdocket version freeze support-triage 1.0.0 --repo acme-registry",
    "$ gitdocket package publish support-triage 1.0.0 --repo acme-registry",
    "$ git -C acme-registry commit --quiet -am",
    "$ gitdocket version freeze support-triage 1.1.0 --repo acme-registry",
    "$ gitdocket version retire support-triage 1.2.0 --reason",
    "$ gitdocket version freeze release-notes 0.1.0 --repo acme-registry",
    "$ gitdocket policy risk-rule add new-capabilities --role security",
    "$ gitdocket version freeze support-triage 1.3.0 --repo acme-registry",
    "(RISK_APPROVAL_REQUIRED)",
    "$ gitdocket version freeze support-triage 1.3.0 --key keys/alice_ed25519 --key keys/sam_ed25519",
    "$ gitdocket diff support-triage@1.1.0 support-triage@1.3.0 --repo acme-registry",
    "| **HIGH** | tool_permission_added | web-fetch: net:read |",
    "$ gitdocket version list --repo acme-registry",
    "$ gitdocket verify --repo acme-registry",
    "$ gitdocket verify --repo work/tampered-registry",
    "$ gitdocket site build --out site --repo acme-registry",
]


def _lines_in_order(text: str, expected: list[str]) -> None:
    position = 0
    for fragment in expected:
        found = text.find(fragment, position)
        assert found >= 0, f"{fragment!r} missing (or out of order) in the demo's output:\n{text}"
        position = found + len(fragment)


def test_demo_narrates_the_flow_and_keeps_a_clean_registry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "demo"
    result = run_cli("demo", "--dir", folder)
    assert result.code == 0, result.err + result.out
    # The demo pins its own clock and gives the caller's environment back.
    assert os.environ["GITDOCKET_NOW"] == "2026-01-01T00:00:00Z"
    assert "GITDOCKET_SIGNING_KEY" not in os.environ
    # Its releases move its clock a day at a time: the registry it kept is judged from its last day.
    monkeypatch.setenv("GITDOCKET_NOW", ROLLBACK_DAY)
    _lines_in_order(result.out, NARRATED)
    assert "Retired support-triage 1.2.0" in result.out
    assert "Dry run of 'docket: roll back prod': nothing was written." in result.out
    assert "(RETIREMENT_BLOCKS_FUTURE_PACKAGING)" in result.out  # the refused publish
    assert re.search(r"verify \(snapshot\) at [0-9a-f]{12}: OK", result.out)
    assert 'Good "git" signature for alice' in result.out
    assert re.search(r"Replayed \d+ commits, .* byte for byte,\s+and it verifies", result.out, re.S)
    again = run_cli("export", "--to", tmp_path / "again.jsonl", "--repo", folder / "work" / "sandbox-registry")
    assert again.code == 0, again.err
    assert (tmp_path / "again.jsonl").read_bytes() == (folder / "work" / "registry.export.jsonl").read_bytes()
    # Issue 14: a cross-registry install verified offline in the client, and a run-admission
    # token accepted, then refused after the suspension.
    crossing = result.out.split("# Another organisation, client-co", 1)[1].split("# Release evidence in", 1)[0]
    assert "Installed shop/triage: support-triage 1.0.0" in crossing
    assert re.search(r"verify \(snapshot\) at [0-9a-f]{12}: OK", crossing)
    accepted, refused = crossing.split("$ gitdocket entitlement suspend shop/triage", 1)
    assert "accepted: token" in accepted
    assert "(ADMISSION_REQUIRES_ACTIVE_ENTITLEMENT)" in refused
    assert run_cli("verify", "--repo", folder / "client-registry").code == 0
    tampered = result.out.split("$ gitdocket verify --repo work/tampered-registry", 1)[1]
    frozen = "registry/versions/support-triage/1.0.0/method/instructions.md"
    assert f"SNAPSHOT_MISMATCH {frozen}: frozen file was changed" in tampered
    assert "IMMUTABLE_CHANGED" in tampered
    assert f"The registry is kept in {folder.resolve()}/acme-registry" in result.out
    # The demo ends with the registry's site, built from the verified registry, and says where it is.
    site = folder.resolve() / "site"
    assert result.out.rstrip().endswith(f"Its site is in {site}: open {site / 'index.html'} in a browser.")
    assert 'data-verify="ok"' in (site / "index.html").read_text()
    # The kept registry verifies clean; the tampered copy does not.
    kept = run_cli("verify", "--format", "json", "--repo", folder / "acme-registry")
    assert kept.code == 0 and kept.json()["ok"] is True, kept.out
    assert run_cli("verify", "--repo", folder / "work" / "tampered-registry").code == 1
    versions = run_cli("version", "list", "--format", "json", "--repo", folder / "acme-registry").json()
    phases = {(v["archetype"], v["version"]): v["phase"] for v in versions}
    # Later demo steps (issues 3 and 4) may add versions; these are the core's.
    assert phases[("release-notes", "0.1.0")] == "packaged"
    assert phases[("support-triage", "1.0.0")] == "packaged"
    assert phases[("support-triage", "1.1.0")] == "packaged"
    assert phases[("support-triage", "1.2.0")] == "retired"


def test_demo_without_dir_removes_its_temporary_folder() -> None:
    result = run_cli("demo")
    assert result.code == 0, result.err + result.out
    folder = Path(result.out.splitlines()[0].split(" in ", 1)[1].split(" (", 1)[0])
    assert "removed at the end" in result.out.splitlines()[0]
    assert f"Removed the temporary folder {folder}" in result.out
    assert not folder.exists()


def test_demo_refuses_a_non_empty_dir(tmp_path: Path) -> None:
    (tmp_path / "keep.txt").write_text("mine\n")
    result = run_cli("demo", "--dir", tmp_path)
    assert result.code == 2
    assert f"error: {tmp_path}: not an empty folder" in result.err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["home", "keep.txt"]


def test_a_failing_step_stops_the_demo_with_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(demo: gitdocket.demo.Demo) -> None:
        demo.gitdocket("key", "create", demo.keys / "alice_ed25519", key=None)
        demo.gitdocket("init", demo.registry, "--identity", "alice", "--key", demo.key("alice"), key=None)
        demo.run("version", "freeze", "no-such-archetype", "1.0.0")
        raise AssertionError("the demo went on after a failed step")

    monkeypatch.setattr(core, "run", broken)
    result = run_cli("demo", "--dir", tmp_path / "demo")
    assert result.code == 1
    assert (
        "error: demo stopped: `gitdocket version freeze no-such-archetype 1.0.0 "
        "--repo acme-registry` exited 1, expected 0"
    ) in result.err
    # The failing command's own error is echoed with the rest of its output.
    assert "error: no archetype 'no-such-archetype'" in result.out
    assert "Done." not in result.out


@pytest.mark.parametrize(
    "skip",
    [
        pytest.param(True, id="missing-step-skipped-before-merge"),
        pytest.param(False, id="missing-step-is-an-error-when-strict"),
    ],
)
def test_step_modules_run_in_order(monkeypatch: pytest.MonkeyPatch, skip: bool) -> None:
    monkeypatch.setattr(gitdocket.demo, "STEP_MODULES", ("publishing", "no_such_step"))
    monkeypatch.setattr(gitdocket.demo, "SKIP_MISSING_STEPS", skip)
    if skip:
        assert [m.__name__ for m in gitdocket.demo.step_modules()] == ["gitdocket.demo.publishing"]
    else:
        with pytest.raises(ModuleNotFoundError, match="no_such_step"):
            gitdocket.demo.step_modules()


def test_output_is_aligned_and_trimmed() -> None:
    table = "a\tversion\nsupport-triage\t1.0.0\n"
    assert gitdocket.demo.trim(table) == ["a               version", "support-triage  1.0.0"]
    many = "".join(f"line {i}\n" for i in range(40))
    trimmed = gitdocket.demo.trim(many)
    assert len(trimmed) == gitdocket.demo.MAX_OUTPUT_LINES
    assert trimmed[-1] == f"… ({40 - gitdocket.demo.MAX_OUTPUT_LINES + 1} more lines)"
