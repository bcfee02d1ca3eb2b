"""Start-up: the CLI imports a command's code only when that command runs (``commands/lazy.py``).

The imports are checked in a fresh interpreter (this test process has imported everything), by
reading ``sys.modules`` after the command ran."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from gitdocket.commands import cli
from gitdocket.commands.lazy import COMMANDS, load
from gitdocket.lifecycles import LIFECYCLES
from tests.integration.releases_support import Release, copy_release
from tests.support import ROOT, Registry

PROBE = """
import json, sys
from gitdocket.commands import main
code = 0
try:
    main(sys.argv[1:])
except SystemExit as exc:
    code = exc.code
print(json.dumps({"code": code, "modules": sorted(sys.modules)}), file=sys.__stderr__)
"""

COMMAND_MODULES = sorted({entry.target.partition(":")[0] for entry in COMMANDS.values()})
"""Every module that holds a top-level command."""

HEAVY = ("jsonschema", "ruamel", "rich", "sigstore")
"""Dependencies a read of the environments never needs (the configuration it reads is the signed
state, JSON, not registry.yaml)."""


LIFECYCLE_MODULES = {f"gitdocket.lifecycles.{kind}" for kind in LIFECYCLES}
"""The module of each lifecycle: importing one builds its ``Machine`` and its pydantic models."""

WRITE_PATH = {"gitdocket.ops.transaction", "gitdocket.adapters.signing", "gitdocket.adapters.keyless", "cryptography"}
"""What only a write (or a signature check) needs: a transaction, the signers, the crypto."""


def _modules_after(*args: str) -> set[str]:
    """The modules a fresh ``gitdocket ARGS`` has imported when it is done (it must succeed: a
    command that failed early would import less)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT / "cli") + os.pathsep + os.environ.get("PYTHONPATH", "")}
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args], capture_output=True, text=True, env=env, timeout=120, check=False
    )
    last = json.loads(done.stderr.strip().splitlines()[-1])
    assert last["code"] in (0, None), done.stderr
    return set(last["modules"])


def _top(modules: set[str]) -> set[str]:
    return {name.split(".")[0] for name in modules}


@pytest.mark.parametrize("name", sorted(COMMANDS), ids=sorted(COMMANDS))
def test_the_table_help_is_the_command_help(name: str) -> None:
    """``--help`` lists the table's words: they must be the command's own."""
    command = load(COMMANDS[name])
    assert COMMANDS[name].summary == command.get_short_help_str(10_000)
    assert command.name == name


def test_the_table_lists_every_command_once() -> None:
    targets = [entry.target for entry in COMMANDS.values()]
    assert len(targets) == len(set(targets))
    assert list(cli.commands) == sorted(COMMANDS)


def test_help_imports_no_command() -> None:
    loaded = _modules_after("--help")
    assert loaded & set(COMMAND_MODULES) == set()
    assert _top(loaded) & set(HEAVY) == set()


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(("status",), id="status"),
        pytest.param(("history", "--env", "prod"), id="history"),
    ],
)
def test_a_read_imports_only_its_own_command(registry: Registry, args: tuple[str, ...]) -> None:
    loaded = _modules_after(*args, "--repo", str(registry.path))
    assert loaded & set(COMMAND_MODULES) == {"gitdocket.commands.reads"}
    assert _top(loaded) & set(HEAVY) == set()  # no JSON Schema, YAML parser, rich or sigstore


@pytest.fixture(scope="module")
def published(template: Path, tmp_path_factory: pytest.TempPathFactory) -> Registry:
    """A registry with a frozen, published version (read only here)."""
    return copy_release(template, tmp_path_factory.mktemp("published") / "r").reg


@pytest.mark.parametrize(
    ("args", "lifecycles"),
    [
        pytest.param(("status",), set(), id="status-reads-pointers-only"),
        pytest.param(("version", "list"), set(), id="version-list-reads-states-only"),
        pytest.param(("package", "list"), set(), id="package-list-reads-states-only"),
        pytest.param(("history", "--env", "preview"), {"environment"}, id="history-folds-one-environment"),
    ],
)
def test_a_read_builds_only_the_lifecycles_it_reads(
    published: Registry, args: tuple[str, ...], lifecycles: set[str]
) -> None:
    """ADR 0035: ``LIFECYCLES`` builds a lifecycle when a scope of its kind is read, and a read
    imports nothing of the write path. A module imported at the top of a read's code (a state
    type, the transaction) fails this."""
    loaded = _modules_after(*args, "--repo", str(published.path))
    assert "gitdocket.commands" in loaded  # the probe ran the CLI
    assert loaded & LIFECYCLE_MODULES == {f"gitdocket.lifecycles.{k}" for k in lifecycles}
    assert {m for m in loaded if m.split(".")[0] == "cryptography" or m in WRITE_PATH} == set()


@pytest.fixture(scope="module")
def deployed(template: Path, tmp_path_factory: pytest.TempPathFactory) -> Release:
    """A published registry with one bundle promoted to preview (read only here)."""
    release = copy_release(template, tmp_path_factory.mktemp("deployed") / "r")
    assert release.promote(release.build(), "preview").code == 0
    return release


CHAIN_LIFECYCLES = {"policy", "config", "environment", "bundle"}
"""What ``deployments resolve`` replays: the policy, the configuration, the environments and the
bundles of the chain it verifies."""

CLIENT_SIDE = {
    "gitdocket.verify.placements",
    "gitdocket.verify.vendors",
    "gitdocket.core.secrets",
    "gitdocket.verify.archetypes",
    "gitdocket.verify.agents",
    "gitdocket.lifecycles.agent_diff",
}
"""Checks of scopes an environment's chain never holds (placements, entitlements, vendors'
imports, archetypes, versions and packages), the agent diff (a risk rule's, and resolve's policy
has none), and the secret detectors (only writers scan)."""


@pytest.mark.parametrize(
    "where",
    [
        pytest.param((), id="worktree"),
        pytest.param(("--export", "EXPORT"), id="export"),
    ],
)
def test_resolve_builds_only_the_lifecycles_of_the_chain_it_verifies(
    deployed: Release, tmp_path: Path, where: tuple[str, ...]
) -> None:
    """ADR 0035: resolve verifies the environment's chain in full (signatures, replay, bundles)
    and so imports cryptography's Ed25519, but no check of the client side, no lifecycle of a
    scope the chain does not hold, nothing of the write path, and not cryptography's key formats."""
    args = [str(tmp_path / "out") if arg == "EXPORT" else arg for arg in where]
    loaded = _modules_after("deployments", "resolve", "--env", "preview", *args, "--repo", str(deployed.reg.path))
    assert loaded & LIFECYCLE_MODULES == {f"gitdocket.lifecycles.{k}" for k in CHAIN_LIFECYCLES}
    assert "cryptography.hazmat.primitives.asymmetric.ed25519" in loaded  # signatures are checked
    assert "cryptography.hazmat.primitives.serialization" not in loaded
    assert "gitdocket.core.readiness" not in loaded  # the gate's documents: resolve reads none
    assert loaded & (CLIENT_SIDE | WRITE_PATH - {"cryptography", "gitdocket.adapters.keyless"}) == set()
    assert _top(loaded) & {"jsonschema", "rich", "sigstore"} == set()


ENTRY = """
import atexit, gc, json, os, sys
atexit.register(lambda: print(json.dumps({"frozen": gc.get_freeze_count(), "collecting": gc.isenabled(),
    "plugins": os.environ.get("PYDANTIC_DISABLE_PLUGINS")}), file=sys.__stderr__))
sys.argv = ["gitdocket", *sys.argv[1:]]
from gitdocket.__main__ import main
main()
"""


@pytest.mark.parametrize(
    ("preset", "plugins"),
    [
        pytest.param(None, "__all__", id="plugins-off-by-default"),
        pytest.param("", "", id="a-set-variable-is-kept"),
    ],
)
def test_the_entry_point_freezes_what_it_imported(preset: str | None, plugins: str) -> None:
    """ADR 0035: the CLI's imports end up out of the cyclic collector's reach (frozen), the
    collector runs again for the command, and pydantic's plugins are off unless the user set
    ``PYDANTIC_DISABLE_PLUGINS``."""
    env = {**os.environ, "PYTHONPATH": str(ROOT / "cli") + os.pathsep + os.environ.get("PYTHONPATH", "")}
    env.pop("PYDANTIC_DISABLE_PLUGINS", None)
    if preset is not None:
        env["PYDANTIC_DISABLE_PLUGINS"] = preset
    done = subprocess.run(
        [sys.executable, "-c", ENTRY, "--help"], capture_output=True, text=True, env=env, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    last = json.loads(done.stderr.strip().splitlines()[-1])
    assert last["frozen"] > 10_000  # click, pygit2, pydantic and the command table
    assert last["collecting"] is True
    assert last["plugins"] == plugins
