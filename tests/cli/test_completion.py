"""Shell completion: the scripts, and names completed from the registry (archetypes, versions,
bundle ids, environments); a broken registry or none at all offers nothing, never a traceback."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.shell_completion import BashComplete

from gitdocket.commands import cli
from tests.support import ROOT, Registry, run_cli, run_process


def _complete(args: list[str], incomplete: str = "") -> list[str]:
    shell = BashComplete(cli, {}, "gitdocket", "_GITDOCKET_COMPLETE")
    return [item.value for item in shell.get_completions(args, incomplete)]


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_the_script_for_each_shell(shell: str) -> None:
    result = run_cli("completion", shell)
    assert result.code == 0
    assert "_GITDOCKET_COMPLETE" in result.out and f"{shell}_complete" in result.out


def test_an_unknown_shell_is_one_line_and_exit_2() -> None:
    result = run_cli("completion", "tcsh")
    assert result.code == 2
    assert result.err.splitlines()[0].startswith("error: ") and "'tcsh' is not one of" in result.err


@pytest.fixture
def built(registry: Registry, tmp_path: Path) -> Registry:
    registry.add_archetype()
    registry.ok("version", "freeze", "support-triage", "1.0.0")
    registry.ok("package", "publish", "support-triage", "1.0.0")
    registry.ok("version", "freeze", "support-triage", "1.1.0")
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    for name in ("contracts_report.json", "verify_report.json"):
        (evidence / name).write_text("{}\n")
    registry.ok("bundle", "build", "--label", "candidate", "--evidence", evidence)
    return registry


def test_names_come_from_the_registry(built: Registry) -> None:
    repo = ["--repo", str(built.path)]
    assert _complete(["version", "freeze", *repo]) == ["support-triage"]
    assert _complete(["package", "publish", *repo], "sup") == ["support-triage"]
    assert _complete(["package", "publish", *repo, "support-triage"]) == ["1.0.0", "1.1.0"]
    assert _complete(["package", "publish", *repo, "support-triage"], "1.1") == ["1.1.0"]
    [bundle] = _complete(["bundle", "verify", *repo])
    assert bundle.startswith("candidate-")
    assert _complete(["promote", bundle, *repo, "--env"]) == ["dev", "preview", "prod", "staging"]
    assert _complete(["history", *repo, "--env"], "st") == ["staging"]
    assert _complete(["rollback", *repo, "--env", "dev", "--to"]) == [bundle]


def test_the_repository_comes_from_the_environment_too(built: Registry, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITDOCKET_REPO", str(built.path))
    assert _complete(["release"]) == ["support-triage"]


def test_no_registry_or_a_broken_one_offers_nothing(built: Registry, tmp_path: Path) -> None:
    assert _complete(["version", "freeze", "--repo", str(tmp_path / "nowhere")]) == []
    (built.path / "registry" / "config" / "history.jsonl").write_text("{not json\n")
    built.git("commit", "-qam", "break the signed configuration")
    assert _complete(["promote", "x", "--repo", str(built.path), "--env"]) == []
    assert _complete(["history", "--repo", str(built.path), "--rev", "no-such-rev", "--env"]) == []


def test_a_real_shell_request(built: Registry) -> None:
    """What bash's completion function runs: the program with the completion variables set."""
    env = {
        "_GITDOCKET_COMPLETE": "bash_complete",
        "COMP_WORDS": f"gitdocket history --repo {built.path} --env p",
        "COMP_CWORD": "5",
        "HOME": os.environ["HOME"],
        "PYTHONPATH": str(ROOT / "cli"),
    }
    result = run_process(env=env)
    assert result.code == 0, result.err
    assert result.out.split() == ["plain,preview", "plain,prod"]
    assert result.err == ""
