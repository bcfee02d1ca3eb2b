"""Dependencies are chosen, not accumulated: every runtime dependency pyproject.toml declares is
imported by the package, and every third-party module the package imports is declared."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "cli" / "gitdocket"


def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _declared() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return {_normalize(re.split(r"[<>=!~\[; ]", spec, maxsplit=1)[0]) for spec in project["dependencies"]}


def _imported_top_levels() -> set[str]:
    found: set[str] = set()
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                found.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.add(node.module.split(".")[0])
    return {name for name in found if name not in sys.stdlib_module_names and name != "gitdocket"}


PART_OF = {"pydantic-core": "pydantic", "sigstore-models": "sigstore"}
"""pydantic_core is pydantic's own engine, released and pinned in lockstep by pydantic itself;
sigstore_models is sigstore's own model of its protobuf messages, pinned by sigstore."""


def _distributions(top_levels: set[str]) -> set[str]:
    mapping = packages_distributions()
    found = {_normalize(dist) for name in top_levels for dist in mapping.get(name, [name])}
    return {PART_OF.get(dist, dist) for dist in found}


def test_every_declared_dependency_is_imported() -> None:
    unused = _declared() - _distributions(_imported_top_levels())
    assert not unused, f"declared in pyproject.toml but imported nowhere in cli/gitdocket: {sorted(unused)}"


def test_every_imported_package_is_declared() -> None:
    undeclared = _distributions(_imported_top_levels()) - _declared()
    assert not undeclared, f"imported by cli/gitdocket but not declared in pyproject.toml: {sorted(undeclared)}"
