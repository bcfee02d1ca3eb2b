"""The release commands as a user meets them: help everywhere, usage errors, one-line failures,
the readiness gate from the command line, and the demo step run against a fake demo."""

from __future__ import annotations

import json
import os
from pathlib import Path

import click
import pytest

from gitdocket.commands import cli
from gitdocket.demo.releases import run as demo_step
from tests.support import Registry, run_cli, run_process, write_key

COMMANDS = ("bundle", "gate", "promote", "rollback", "status", "history", "deployments")


def _walk(command: click.Command, path: str) -> list[tuple[str, click.Command]]:
    found = [(path, command)]
    if isinstance(command, click.Group):
        for name, sub in command.commands.items():
            found.extend(_walk(sub, f"{path} {name}"))
    return found


@pytest.mark.parametrize("name", COMMANDS)
def test_every_release_command_and_option_has_help(name: str) -> None:
    for path, command in _walk(cli.commands[name], name):
        assert command.help, f"gitdocket {path} has no help"
        for param in command.params:
            if isinstance(param, click.Option):
                assert param.help, f"gitdocket {path} {param.opts[0]} has no help"
        if not isinstance(command, click.Group):
            assert "--repo" in {o for p in command.params for o in getattr(p, "opts", [])}, path
            assert run_cli(*path.split(), "--help").code == 0


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(("promote", "x-20260101-000000-nogit"), id="promote-without-target"),
        pytest.param(
            ("promote", "x-20260101-000000-nogit", "--env", "dev", "--to", "prod"),
            id="promote-two-targets",
        ),
        pytest.param(("rollback", "--env", "prod"), id="rollback-without-reason"),
        pytest.param(("gate", "evaluate"), id="gate-without-evidence"),
    ],
)
def test_usage_errors_exit_2(registry: Registry, args: tuple[str, ...]) -> None:
    result = registry.run(*args)
    assert result.code == 2
    assert "Traceback" not in result.err


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(("bundle", "verify", "../../etc"), id="verify-a-non-bundle-folder"),
        pytest.param(("bundle", "verify", "Not A Bundle"), id="verify-garbage-name"),
        pytest.param(("history", "--env", "BAD NAME"), id="bad-environment-name"),
        pytest.param(("deployments", "resolve", "--env", "qa"), id="resolve-unknown-environment"),
        pytest.param(("rollback", "--env", "prod", "--reason", "x"), id="rollback-empty-environment"),
        pytest.param(
            ("bundle", "build", "--label", "x", "--evidence", "/nonexistent"),
            id="build-missing-evidence-dir",
        ),
        pytest.param(("bundle", "build", "--label", "Bad Label"), id="build-bad-label"),
    ],
)
def test_bad_input_is_one_clear_line(registry: Registry, args: tuple[str, ...]) -> None:
    before = registry.refs()
    result = registry.run(*args)
    assert result.code in (1, 2)
    lines = result.err.splitlines()
    assert lines and lines[0].startswith(("error: ", "Usage:", "Error:")), result.err
    assert "Traceback" not in result.err
    assert registry.refs() == before


def test_gate_evaluate_writes_its_report_and_fails_on_no_go(registry: Registry, tmp_path: Path) -> None:
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    for name in ("verify_report.json", "contracts_report.json", "bundle_verify.json"):
        (evidence / name).write_text('{"ok": true}')
    out = tmp_path / "gate.json"
    data = registry.ok(
        "gate",
        "evaluate",
        "--evidence",
        evidence,
        "--profile",
        "strict",
        "--output",
        out,
        "--format",
        "json",
    ).json()
    assert (data["decision"], data["contract"]) == ("go", "release_readiness_gate_v1")
    assert data["inputs"]["gate_preset"] == "default"
    assert json.loads(out.read_text()) == data
    (evidence / "contracts_report.json").write_text('{"ok": false}')
    result = registry.run("gate", "evaluate", "--evidence", evidence, "--fail-on-no-go")
    assert result.code == 1
    assert result.err.splitlines()[0] == "error: release gate decision is no-go: contracts_check_ok failed (ok=False)"
    assert "- decision: no-go" in result.out
    assert registry.run("gate", "evaluate", "--evidence", evidence).code == 0


def test_gate_evaluate_uses_the_environments_profile(registry: Registry, tmp_path: Path) -> None:
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    data = registry.ok("gate", "evaluate", "--evidence", evidence, "--env", "staging", "--format", "json").json()
    assert (data["inputs"]["policy_profile"], data["decision"]) == ("promotion", "no-go")
    unknown = registry.run("gate", "evaluate", "--evidence", evidence, "--profile", "fast")
    assert unknown.code == 1
    assert unknown.err.splitlines()[0] == "error: unknown gate profile 'fast'"


def test_status_as_a_real_process(registry: Registry) -> None:
    done = run_process("status", "--format", "json", "--repo", registry.path)
    assert done.code == 0, done.err
    assert [r["environment"] for r in json.loads(done.out)] == ["preview", "dev", "staging", "prod"]
    assert all(r["bundle_id"] is None for r in json.loads(done.out))


class FakeDemo:
    """The demo runner's interface, backed by the test CLI runner."""

    def __init__(self, registry: Registry, workdir: Path) -> None:
        self.reg = registry
        self.registry = registry.path
        self.workdir = workdir
        self.said: list[str] = []
        self.ran: list[tuple[str, ...]] = []

    def say(self, text: str) -> None:
        self.said.append(text)

    def run(self, *args: str, key: str = "alice", expect: int = 0) -> str:
        result = self.reg.run(*args, key=key)
        assert result.code == expect, f"gitdocket {' '.join(args)}: {result.code}\n{result.err}"
        self.ran.append(args)
        return result.out

    def key(self, name: str) -> Path:
        return write_key(self.reg.keys, name)

    def advance(self, when: str) -> None:
        os.environ["GITDOCKET_NOW"] = when  # the registry fixture's monkeypatch puts it back


def prod_bundle(registry: Registry) -> str:
    return str(json.loads((registry.path / "deployments" / "prod" / "current.json").read_text())["bundle_id"])


def test_the_demo_step_runs_end_to_end(seed_registry: Registry, tmp_path: Path) -> None:
    registry = seed_registry
    registry.add_archetype()
    registry.ok("version", "freeze", "support-triage", "1.0.0")
    registry.ok("package", "publish", "support-triage", "1.0.0")
    (tmp_path / "work").mkdir()
    demo = FakeDemo(registry, tmp_path / "work")
    demo_step(demo)
    ends = [("history", "--env", "prod"), ("status",), ("deployments", "resolve", "--env", "prod")]
    assert demo.ran[demo.ran.index(ends[0]) :][:3] == ends
    assert demo.ran[-3][:1] == ("trace",) and demo.ran[-2][:2] == ("promote", "--batch")
    staging = json.loads((registry.path / "deployments" / "staging" / "current.json").read_text())
    assert staging["bundle_id"] == prod_bundle(registry)  # the batch brought staging in line with prod
    refused = [a for a in demo.ran if a[0] == "promote" and "--override-hold" not in a][-1]
    assert refused[1] != prod_bundle(registry)  # the held release, refused after the rollback
    assert any(a[0] == "rollback" for a in demo.ran)
    prod = json.loads((registry.path / "deployments" / "prod" / "current.json").read_text())
    assert prod["rollback"] is True and prod["reason"] == "canary error rate doubled after the switch"
    assert prod["bundle_id"].startswith("pr-preview-")
    assert os.path.exists(tmp_path / "work" / "reports" / "release_bundle_promotion_staging.json")
