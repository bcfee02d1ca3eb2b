"""The registry skeleton ``gitdocket init`` writes, read from this project's own top-level folders
(``registry/``, ``bundles/``, ``deployments/``, ``contracts/``, the registry workflows): one
source of truth for the template, no copies in the package."""

from __future__ import annotations

from pathlib import Path

from gitdocket.errors import StateError

__all__ = ["PROJECT_ROOT", "WORKFLOWS", "template_files"]

PROJECT_ROOT = Path(__file__).resolve().parents[3]
FOLDERS = ("registry", "bundles", "deployments", "contracts")
WORKFLOWS = (
    "registry-check.yml",
    "deployment-preview.yml",
    "deployment-promote.yml",
    "deployment-rollback.yml",
    "docs.yml",
)


def template_files() -> dict[str, bytes]:
    """{repository path: bytes} of the skeleton."""
    if not (PROJECT_ROOT / "registry" / "registry.yaml").is_file():
        raise StateError(
            f"{PROJECT_ROOT}: gitdocket's registry template is missing",
            "install gitdocket from its source checkout (`make demo` does)",
        )
    out: dict[str, bytes] = {}
    for folder in FOLDERS:
        base = PROJECT_ROOT / folder
        for path in sorted(base.rglob("*")):
            if path.is_file() and not path.is_symlink() and "__pycache__" not in path.parts:
                out[path.relative_to(PROJECT_ROOT).as_posix()] = path.read_bytes()
    for name in WORKFLOWS:
        out[f".github/workflows/{name}"] = (PROJECT_ROOT / ".github" / "workflows" / name).read_bytes()
    return out
