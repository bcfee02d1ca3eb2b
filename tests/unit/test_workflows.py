"""The workflow files `gitdocket init` installs (kept in the template folder `workflows/`, never in
this project's own `.github/workflows/`): well-formed YAML, thin (every real step is a gitdocket
command), and naming only gitdocket commands and options that exist."""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest

from gitdocket.adapters.files import load_yaml
from gitdocket.adapters.templates import workflow_files
from gitdocket.commands import cli
from gitdocket.ops.registry import INSTALL_COMMAND

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = sorted(workflow_files())


def _command(words: list[str]) -> click.Command | None:
    command: click.Command = cli
    for word in words:
        if not isinstance(command, click.Group) or word not in command.commands:
            break
        command = command.commands[word]
    return None if command is cli else command


@pytest.mark.parametrize("name", WORKFLOWS)
def test_workflow_is_well_formed(name: str) -> None:
    path = ROOT / "workflows" / name
    assert path.is_file(), f"{path} is installed by gitdocket init but missing"
    doc = load_yaml(path.read_bytes(), str(path))
    assert doc["jobs"], "a workflow needs at least one job"
    assert doc.get("permissions"), "workflows declare their token permissions"
    for job in doc["jobs"].values():
        assert job.get("timeout-minutes"), "every job has a timeout"


@pytest.mark.parametrize("name", WORKFLOWS)
def test_workflow_names_real_docket_commands(name: str) -> None:
    text = (ROOT / "workflows" / name).read_text()
    calls = re.findall(r"\bgitdocket ((?:[a-z-]+ ?)+)", text)
    assert calls
    for call in calls:
        words = call.split()
        command = _command(words)
        assert command is not None, f"{name}: `gitdocket {call}` is not a command"
        known = {opt for p in command.params for opt in getattr(p, "opts", [])}
        for line in text.splitlines():
            if f"gitdocket {call}" in line:
                for option in re.findall(r"(--[a-z-]+)", line.split(f"gitdocket {call}", 1)[1]):
                    assert option in known, f"{name}: `gitdocket {call.strip()}` has no {option}"


def test_project_ci_is_the_only_workflow_of_this_project() -> None:
    """Registry workflows live in the template; `.github/workflows/` is this project's own CI."""
    assert WORKFLOWS, "the template ships the registry workflows"
    assert sorted(p.name for p in (ROOT / ".github" / "workflows").iterdir()) == ["ci.yml"]


@pytest.mark.parametrize("name", WORKFLOWS)
def test_workflow_installs_exactly_the_pinned_gitdocket(name: str) -> None:
    """Every step that installs gitdocket runs the one documented command (the registry's pin;
    extras such as `"gitdocket[site]"` may follow it), before any step that runs gitdocket."""
    doc = load_yaml((ROOT / "workflows" / name).read_bytes(), name)
    for job in doc["jobs"].values():
        runs = [str(step.get("run", "")) for step in job.get("steps", [])]
        installs = [i for i, run in enumerate(runs) if "pip install" in run]
        assert all(runs[i].strip().startswith(INSTALL_COMMAND) for i in installs), runs
        assert not any("pip install ." in run for run in runs), "a registry has no pyproject.toml to install"
        first_use = next((i for i, run in enumerate(runs) if "gitdocket " in run), None)
        if first_use is not None:
            assert installs and installs[0] < first_use, f"{name}: gitdocket runs before it is installed"
