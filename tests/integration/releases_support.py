"""Shared set-up for the release tests: a registry with one published package and evidence,
built once per session and copied per test (a git repository is relocatable)."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pygit2
import pytest

from gitdocket.demo.releases import write_evidence
from tests.support import Registry, Result, run_cli, write_key

ENV = {
    "GIT_CONFIG_GLOBAL": "/dev/null",
    "GIT_CONFIG_NOSYSTEM": "1",
    "GITDOCKET_NOW": "2026-01-01T00:00:00Z",
}


@dataclass
class Release:
    """A published registry plus ready and not-ready evidence folders."""

    reg: Registry
    evidence: Path
    blocked: Path
    reports: Path

    def build(self, label: str = "pr-preview", verify: bool = True, *extra: str) -> str:
        out = self.reg.ok(
            "bundle",
            "build",
            "--label",
            label,
            "--evidence",
            self.evidence,
            *extra,
            "--format",
            "json",
        ).json()
        if verify:
            self.reg.ok("bundle", "verify", out["bundle_id"], "--record")
        return str(out["bundle_id"])

    def promote(self, bundle: str, env: str, *extra: str, source: str | None = None, gated: bool = True) -> Result:
        args = ["promote", bundle, "--env", env, "--reports-dir", str(self.reports), *extra]
        if gated:
            args.append("--gated")
        if source:
            args += ["--source-env", source]
        return self.reg.run(*args)

    def chain(self, bundle: str, upto: str = "prod") -> None:
        source = None
        for env in ("preview", "dev", "staging", "prod"):
            result = self.promote(bundle, env, source=source)
            assert result.code == 0, result.err
            if env == upto:
                return
            source = env

    def add_runtime_script(self) -> None:
        """Commit ``runtime/bin/run.sh`` (executable) and include ``runtime`` in every bundle."""
        tools = self.reg.path / "runtime" / "bin"
        tools.mkdir(parents=True)
        (tools / "run.sh").write_text("#!/bin/sh\necho run\n")
        (tools / "run.sh").chmod(0o755)
        config = self.reg.path / "registry" / "registry.yaml"
        config.write_text(config.read_text().replace("include: []", "include: [runtime]"))
        self.reg.git("add", "-A")
        self.reg.git("commit", "-qm", "runtime")
        self.reg.ok("config", "apply")

    def current(self, env: str) -> dict[str, Any]:
        return json.loads((self.reg.path / "deployments" / env / "current.json").read_text())

    def history(self, env: str) -> list[dict[str, Any]]:
        text = (self.reg.path / "deployments" / env / "history.jsonl").read_text()
        return [json.loads(line) for line in text.splitlines()]

    def tree_id(self, path: str) -> str:
        repo = pygit2.Repository(str(self.reg.path))
        return str(repo.revparse_single(f"HEAD:{path}").id)

    def head(self) -> str:
        return self.reg.refs()["refs/heads/main"]


def make_template(base: Path) -> Path:
    """Create the template registry under ``base`` (keys, reg, evidence folders)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HOME", str(base))
        for name, value in ENV.items():
            patch.setenv(name, value)
        patch.delenv("GITDOCKET_SIGNING_KEY", raising=False)
        keys = base / "keys"
        keys.mkdir()
        alice = write_key(keys, "alice")
        assert (
            run_cli("init", base / "reg", "--identity", "alice", "--key", alice, "--gate-preset", "agent-skills").code
            == 0
        )
        reg = Registry(base / "reg", keys, alice, {"alice": alice})
        reg.add_archetype()
        reg.ok("version", "freeze", "support-triage", "1.0.0")
        reg.ok("package", "publish", "support-triage", "1.0.0")
        evidence = write_evidence(base / "evidence")
        reg.ok(
            "gate",
            "evaluate",
            "--evidence",
            evidence,
            "--profile",
            "transitional",
            "--output",
            evidence / "release_readiness_gate_report.json",
        )
        write_evidence(base / "blocked", ready=False)
    return base


def copy_release(template: Path, target: Path) -> Release:
    shutil.copytree(template, target, symlinks=True)
    keys = target / "keys"
    reg = Registry(target / "reg", keys, keys / "alice_ed25519", {"alice": keys / "alice_ed25519"})
    (target / "reports").mkdir()
    return Release(reg, target / "evidence", target / "blocked", target / "reports")
