"""What gitdocket ships besides its code: the registry skeleton ``gitdocket init`` writes, the
contracts, the registry workflows and the examples the demo uses (ADR 0009).

This project's top-level folders (``registry/``, ``bundles/``, ``deployments/``, ``contracts/``,
``workflows/``, ``examples/``) are the one source of truth. A wheel carries a copy of them in
``gitdocket/_data/`` (made by the build hook in ``setup.py``, with ``build.json`` naming the commit
it was built from); an editable install reads them from the checkout itself. Nothing here decides
what goes into a registry beyond the files: ``ops.registry`` does.
"""

from __future__ import annotations

import json
from pathlib import Path

import pygit2
from pygit2.enums import RepositoryOpenFlag

from gitdocket.errors import StateError

__all__ = ["PROJECT_ROOT", "TEMPLATE", "build_commit", "template_files", "workflow_files"]

_PACKAGE = Path(__file__).resolve().parents[1]
_SHIPPED = _PACKAGE / "_data"
_CHECKOUT = _PACKAGE.parents[1]

PROJECT_ROOT = _SHIPPED if (_SHIPPED / "registry").is_dir() else _CHECKOUT
"""Where the shipped folders are: the wheel's copy, else the source checkout (editable install)."""

TEMPLATE: dict[str, str] = {
    "registry": "registry",
    "bundles": "bundles",
    "deployments": "deployments",
    "contracts": "contracts",
    "workflows": ".github/workflows",
}
"""Folder of the project → where it lands in a registry repository."""


def _files(folder: Path) -> dict[str, bytes]:
    """{path relative to ``folder``: bytes} of every regular file below it, sorted."""
    return {
        path.relative_to(folder).as_posix(): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file() and not path.is_symlink() and "__pycache__" not in path.parts
    }


def _missing() -> StateError:
    return StateError(
        f"{PROJECT_ROOT}: gitdocket's registry template is missing",
        "reinstall gitdocket (`pip install --force-reinstall gitdocket`), or from a source checkout `make venv`",
    )


def template_files() -> dict[str, bytes]:
    """{repository path: bytes} of the skeleton."""
    if not (PROJECT_ROOT / "registry" / "registry.yaml").is_file():
        raise _missing()
    out: dict[str, bytes] = {}
    for folder, target in TEMPLATE.items():
        for path, data in _files(PROJECT_ROOT / folder).items():
            out[f"{target}/{path}"] = data
    return out


def workflow_files() -> dict[str, bytes]:
    """{file name: bytes} of the workflows ``gitdocket init`` installs in ``.github/workflows/``."""
    return _files(PROJECT_ROOT / "workflows")


def build_commit() -> str | None:
    """The git commit this gitdocket was built from: recorded in the wheel by the build hook, or
    the checkout's ``HEAD`` for an editable install; None when neither says."""
    if PROJECT_ROOT == _SHIPPED:
        try:
            recorded = json.loads((_SHIPPED / "build.json").read_text()).get("commit")
        except (OSError, ValueError, AttributeError):
            return None
        return recorded if isinstance(recorded, str) else None
    try:  # NO_SEARCH: a site-packages inside some other repository is not gitdocket's checkout
        repo = pygit2.Repository(str(_CHECKOUT), RepositoryOpenFlag.NO_SEARCH)
        return str(repo.head.target) if not repo.head_is_unborn else None
    except (pygit2.GitError, KeyError):
        return None
