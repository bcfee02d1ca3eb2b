"""The wheel is self-contained (ADR 0009): it carries the registry template, the contracts, the
registry workflows and the examples, byte for byte as they are in this checkout, and a
non-editable install in a clean virtual environment, run from a folder outside any checkout,
creates a registry, freezes a version, verifies it and runs the demo."""

from __future__ import annotations

import json
import os
import subprocess
import zipfile
from pathlib import Path

import pytest

from gitdocket import __version__
from gitdocket.adapters.templates import TEMPLATE
from gitdocket.ops.registry import INSTALL_COMMAND, PIN_PATH
from tests.distribution import ROOT, build_wheel, clean_env, make_venv, pip_install
from tests.support import Registry, write_key

pytestmark = pytest.mark.slow

DATA = "gitdocket/_data/"


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_wheel(tmp_path_factory.mktemp("wheelhouse"))


def _checkout_files(folders: set[str]) -> dict[str, bytes]:
    return {
        path.relative_to(ROOT).as_posix(): path.read_bytes()
        for folder in folders
        for path in sorted((ROOT / folder).rglob("*"))
        if path.is_file() and "__pycache__" not in path.parts
    }


def test_wheel_carries_the_checkouts_copy(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        shipped = {
            name.removeprefix(DATA): archive.read(name)
            for name in archive.namelist()
            if name.startswith(DATA) and not name.endswith("/")
        }
    build = json.loads(shipped.pop("build.json"))
    folders = {name.split("/", 1)[0] for name in shipped}
    assert folders == {*TEMPLATE, "examples"}
    assert shipped == _checkout_files(folders), "the wheel's copy differs from the checkout"
    head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, text=True, check=True)
    assert build == {"commit": head.stdout.strip()}


def _gitdocket(bin_dir: Path, *args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(bin_dir / "gitdocket"), *map(str, args)],
        cwd=cwd,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def test_installed_wheel_inits_freezes_verifies_and_runs_the_demo(wheel: Path, tmp_path: Path) -> None:
    bin_dir = make_venv(tmp_path / "venv")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    installed = pip_install(bin_dir, f"gitdocket=={__version__}", find_links=wheel.parent, cwd=elsewhere)
    assert installed.returncode == 0, installed.stderr
    where = subprocess.run(
        [str(bin_dir / "python"), "-c", "from gitdocket.adapters import templates; print(templates.PROJECT_ROOT)"],
        cwd=elsewhere,
        env=clean_env(),
        capture_output=True,
        text=True,
        check=True,
    )
    shipped = Path(where.stdout.strip())
    assert shipped.is_relative_to(tmp_path / "venv"), "the installed gitdocket must not read this checkout"

    version = _gitdocket(bin_dir, "--version", cwd=elsewhere)
    assert version.stdout.startswith(f"gitdocket, version {__version__} (commit ")

    key = write_key(tmp_path, "alice")
    signed = ("--repo", "reg", "--key", key)
    example = shipped / "examples" / "archetypes" / "support-triage"
    for args in (
        ("init", "reg", "--identity", "alice", "--key", key),
        ("archetype", "new", "support-triage", "--from", example, *signed),
        ("version", "freeze", "support-triage", "1.0.0", *signed),
        ("verify", "--repo", "reg"),
    ):
        done = _gitdocket(bin_dir, *args, cwd=elsewhere)
        assert done.returncode == 0, f"gitdocket {' '.join(map(str, args))}: {done.stderr}{done.stdout}"
    assert (elsewhere / "reg" / ".github" / "workflows" / "registry-check.yml").is_file()

    demo = _gitdocket(bin_dir, "demo", cwd=elsewhere)
    assert demo.returncode == 0, demo.stderr + demo.stdout[-2000:]
    assert "Done." in demo.stdout


def test_the_registry_pin_installs_exactly_that_gitdocket(wheel: Path, registry: Registry, tmp_path: Path) -> None:
    """What a registry's workflow runs, in a clean venv; the wheelhouse stands in for the index.
    A pin naming a version the index does not have installs nothing."""
    pin = registry.path / PIN_PATH
    assert pin.read_text().splitlines()[-1] == f"gitdocket=={__version__}"
    bin_dir = make_venv(tmp_path / "ci-venv")
    env_path = f"{bin_dir}{os.pathsep}{os.environ['PATH']}"
    done = subprocess.run(
        INSTALL_COMMAND.split(),  # `pip` from the fresh venv, first on PATH: what the workflow runs
        cwd=registry.path,
        env=clean_env(PATH=env_path, PIP_FIND_LINKS=str(wheel.parent)),
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    version = _gitdocket(bin_dir, "--version", cwd=registry.path)
    assert version.stdout.startswith(f"gitdocket, version {__version__} ")

    pin.write_text("gitdocket==999.0.0\n")
    again = pip_install(bin_dir, "-r", str(pin), find_links=wheel.parent, cwd=registry.path)
    assert again.returncode != 0 and "999.0.0" in again.stderr
