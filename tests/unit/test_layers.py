"""The layers of ``docs/architecture.md``, enforced on the source (no import is executed):

- a module imports no higher layer: errors < core < lifecycles < verify < site < adapters < ops <
  commands < demo (``errors`` and the root package are importable by all); the one exception is a
  rule of the architecture, not a leak: ``commands/demo.py`` imports ``gitdocket.demo`` lazily,
  inside the command, because the demo runs the CLI through ``gitdocket.commands``;
- the pure layers (``core``, ``lifecycles``, ``verify``, ``site``) import no I/O library and never read the
  clock, in any import form (``import a.b``, ``from a import b``, inside a function);
- nothing outside ``commands/`` prints.

There is no list of known exceptions: a crossing is fixed where it is, or the architecture changes.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "cli" / "gitdocket"

LAYERS = ("core", "lifecycles", "verify", "site", "adapters", "ops", "commands", "demo")
"""Lowest first: a module may import its own layer and every layer before it."""
RANK = {"errors": 0, "gitdocket": 0, **{layer: rank for rank, layer in enumerate(LAYERS, start=1)}, "__main__": 99}
"""``errors`` and the root package (``__version__``) are below every layer; the entry point above."""
PURE = ("core", "lifecycles", "verify", "site")

IO_MODULES = frozenset(
    {
        # docs/architecture.md names these: git, the CLI, YAML files, the terminal, signing
        # services, processes, the environment and filesystem, file locks.
        "pygit2",
        "click",
        "ruamel",
        "rich",
        "sigstore",
        "subprocess",
        "os",
        "pathlib",
        "fcntl",
        # the clock (time.time, time.monotonic, time.perf_counter, sleep: nothing pure needs it)
        "time",
        # other ways to reach the outside world or to import something unseen
        "sys",
        "shutil",
        "tempfile",
        "glob",
        "socket",
        "select",
        "signal",
        "mmap",
        "threading",
        "multiprocessing",
        "concurrent",
        "asyncio",
        "urllib",
        "http",
        "logging",
        "importlib",
    }
)
"""Modules the pure layers never import. ``gc`` is allowed: pausing the collector (verify's
``gc_paused``) changes neither what is read nor what is computed."""

CLOCK_ATTRIBUTES = frozenset({"now", "utcnow", "today"})
"""``datetime.now``, ``datetime.utcnow``, ``datetime.today``, ``date.today``, under any alias.
``datetime`` itself is allowed: times arrive as arguments and are parsed and compared."""

IO_BUILTINS = frozenset({"open", "input", "__import__"})
PRINT_CALLS = frozenset({"print", "pprint.pprint", "click.echo", "click.secho", "sys.stdout.write", "sys.stderr.write"})
STANDARD_STREAMS = frozenset({"sys.stdout", "sys.stderr", "sys.__stdout__", "sys.__stderr__"})
CONSOLE_MODULES = frozenset({"click", "rich"})
"""The terminal libraries: only ``commands/`` talks to the terminal."""


@dataclass(frozen=True)
class Source:
    """One module of the package: its dotted name, layer and syntax tree."""

    rel: str
    name: str
    layer: str
    tree: ast.Module


def _layer(rel: Path) -> str:
    if len(rel.parts) > 1:
        return rel.parts[0]
    stem = rel.stem
    return "gitdocket" if stem == "__init__" else stem


def _name(rel: Path) -> str:
    parts = ["gitdocket", *rel.with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def source(rel: str, text: str) -> Source:
    path = Path(rel)
    return Source(rel, _name(path), _layer(path), ast.parse(text, rel))


@cache
def package_sources() -> tuple[Source, ...]:
    return tuple(
        source(path.relative_to(PACKAGE).as_posix(), path.read_text()) for path in sorted(PACKAGE.rglob("*.py"))
    )


def _ids() -> list[str]:
    return [s.rel for s in package_sources()]


# -- reading the syntax tree -----------------------------------------------------------------------


def _parents(tree: ast.Module) -> dict[ast.AST, ast.AST]:
    return {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}


def _in_function(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> bool:
    while node in parents:
        node = parents[node]
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            return True
    return False


def _package_of(src: Source) -> str:
    return src.name if src.rel.endswith("__init__.py") else src.name.rpartition(".")[0]


def _is_module(dotted: str) -> bool:
    rel = Path(*dotted.split(".")[1:])
    return (PACKAGE / rel).is_dir() or (PACKAGE / rel.with_suffix(".py")).is_file()


def imports(src: Source) -> Iterator[tuple[ast.stmt, str]]:
    """(statement, absolute module name) for every import, wherever it stands. ``from p import n``
    names module ``p.n`` when that is one of gitdocket's modules (``from gitdocket import demo``)."""
    for node in ast.walk(src.tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                package = _package_of(src).split(".")
                base = ".".join([*package[: len(package) - node.level + 1], *([base] if base else [])])
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                yield node, candidate if candidate.startswith("gitdocket.") and _is_module(candidate) else base


def _dotted(node: ast.expr) -> str:
    """``a.b.c`` for a name or attribute chain, ``""`` for anything else."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value)
        return f"{base}.{node.attr}" if base else ""
    return ""


def _layer_of(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in RANK else "gitdocket"


# -- the rules ---------------------------------------------------------------------------------------


def upward_imports(src: Source) -> list[str]:
    parents = _parents(src.tree)
    found = []
    for node, module in imports(src):
        if module != "gitdocket" and not module.startswith("gitdocket."):
            continue
        target = _layer_of(module)
        if RANK[target] <= RANK[src.layer]:
            continue
        if src.name == "gitdocket.commands.demo" and target == "demo" and _in_function(node, parents):
            continue  # the demo runs the CLI: the command imports it when it runs, never at import
        found.append(f"{src.rel}:{node.lineno}: {src.layer} imports {module} ({target}), a higher layer")
    return found


def impurities(src: Source) -> list[str]:
    if src.layer not in PURE:
        return []
    found = [
        f"{src.rel}:{node.lineno}: imports {module} (I/O)"
        for node, module in imports(src)
        if module.split(".")[0] in IO_MODULES
    ]
    for node in ast.walk(src.tree):
        if isinstance(node, ast.Attribute) and node.attr in CLOCK_ATTRIBUTES:
            found.append(f"{src.rel}:{node.lineno}: reads the clock ({ast.unparse(node)})")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in IO_BUILTINS:
            found.append(f"{src.rel}:{node.lineno}: calls {node.func.id}() (I/O)")
    return found


def printing(src: Source) -> list[str]:
    if src.layer == "commands":
        return []
    found = [
        f"{src.rel}:{node.lineno}: imports {module} (the terminal is commands/' job)"
        for node, module in imports(src)
        if module.split(".")[0] in CONSOLE_MODULES
    ]
    for node in ast.walk(src.tree):
        if isinstance(node, ast.Call) and _dotted(node.func) in PRINT_CALLS:
            found.append(f"{src.rel}:{node.lineno}: prints ({_dotted(node.func)})")
        elif isinstance(node, ast.Attribute) and _dotted(node) in STANDARD_STREAMS:
            found.append(f"{src.rel}:{node.lineno}: uses {_dotted(node)}")
        elif isinstance(node, ast.Call) and _dotted(node.func) == "os.write" and _writes_to_terminal(node):
            found.append(f"{src.rel}:{node.lineno}: prints (os.write to a standard stream)")
    return found


def _writes_to_terminal(call: ast.Call) -> bool:
    return bool(call.args) and isinstance(call.args[0], ast.Constant) and call.args[0].value in (1, 2)


# -- the package ---------------------------------------------------------------------------------------


def test_every_module_has_a_layer() -> None:
    """A new top-level package would otherwise escape every rule below."""
    unknown = [s.rel for s in package_sources() if s.layer not in RANK]
    assert unknown == []
    assert {s.layer for s in package_sources()} >= set(LAYERS)


def _none(found: list[str]) -> None:
    if found:
        pytest.fail("\n".join([*found, "see docs/architecture.md"]), pytrace=False)


@pytest.mark.parametrize("src", package_sources(), ids=_ids())
def test_no_module_imports_a_higher_layer(src: Source) -> None:
    _none(upward_imports(src))


@pytest.mark.parametrize("src", package_sources(), ids=_ids())
def test_pure_layers_do_no_io_and_read_no_clock(src: Source) -> None:
    _none(impurities(src))


@pytest.mark.parametrize("src", package_sources(), ids=_ids())
def test_only_commands_print(src: Source) -> None:
    _none(printing(src))


# -- the rules have teeth --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rel", "text"),
    [
        pytest.param("core/x.py", "import pygit2", id="import"),
        pytest.param("core/x.py", "import os.path", id="import-dotted"),
        pytest.param("lifecycles/x.py", "from ruamel.yaml import YAML", id="from-import"),
        pytest.param("verify/x.py", "def f():\n    import subprocess", id="inside-a-function"),
        pytest.param("verify/x.py", "try:\n    import fcntl\nexcept ImportError:\n    pass", id="inside-try"),
        pytest.param("core/x.py", "from time import monotonic", id="time-module"),
        pytest.param("core/x.py", "from datetime import datetime\nnow = datetime.now()", id="datetime-now"),
        pytest.param("core/x.py", "import datetime\nclock = datetime.datetime.utcnow", id="utcnow-uncalled"),
        pytest.param("lifecycles/x.py", "from datetime import date as d\nd.today()", id="date-today-alias"),
        pytest.param("verify/x.py", "data = open('f').read()", id="open"),
        pytest.param("verify/x.py", "mod = __import__('os')", id="dunder-import"),
    ],
)
def test_impurity_is_caught(rel: str, text: str) -> None:
    assert impurities(source(rel, text)) != []


@pytest.mark.parametrize(
    ("rel", "text"),
    [
        pytest.param("verify/x.py", "import gc\ngc.disable()", id="gc"),
        pytest.param(
            "core/x.py", "from datetime import UTC, datetime\nwhen = datetime(2026, 1, 1, tzinfo=UTC)", id="dt"
        ),
        pytest.param("adapters/x.py", "import os, subprocess", id="adapters-may"),
    ],
)
def test_purity_allows(rel: str, text: str) -> None:
    assert impurities(source(rel, text)) == []


@pytest.mark.parametrize(
    ("rel", "text", "allowed"),
    [
        pytest.param("core/x.py", "from gitdocket.lifecycles import machine_for", False, id="core-lifecycles"),
        pytest.param("verify/x.py", "from gitdocket.adapters.files import load_yaml", False, id="verify-adapters"),
        pytest.param("adapters/x.py", "import gitdocket.commands.output", False, id="adapters-commands"),
        pytest.param("ops/x.py", "from gitdocket import demo", False, id="from-root-import-layer"),
        pytest.param("ops/x.py", "def f():\n    from gitdocket.commands import main", False, id="lazy-elsewhere"),
        pytest.param("core/x.py", "from ..ops import session", False, id="relative"),
        pytest.param("commands/demo.py", "from gitdocket.demo import run_demo", False, id="demo-at-import"),
        pytest.param("commands/demo.py", "def f():\n    from gitdocket.demo import run_demo", True, id="demo-lazy"),
        pytest.param("commands/x.py", "def f():\n    from gitdocket.demo import run_demo", False, id="demo-lazy-other"),
        pytest.param("core/x.py", "from gitdocket.errors import InputError", True, id="errors"),
        pytest.param("core/x.py", "from gitdocket import __version__", True, id="root-package"),
        pytest.param("demo/x.py", "from gitdocket.commands import main", True, id="downward"),
        pytest.param("verify/x.py", "from . import context", True, id="relative-same-layer"),
    ],
)
def test_layer_rule(rel: str, text: str, allowed: bool) -> None:
    assert (upward_imports(source(rel, text)) == []) is allowed


@pytest.mark.parametrize(
    ("rel", "text"),
    [
        pytest.param("ops/x.py", "print('hi')", id="print"),
        pytest.param("adapters/x.py", "import click\nclick.echo('hi')", id="click-echo"),
        pytest.param("demo/x.py", "import sys\nsys.stdout.write('hi')", id="stdout-write"),
        pytest.param("ops/x.py", "import sys\nprint('hi', file=sys.stderr)", id="stderr-file"),
        pytest.param("adapters/x.py", "from rich.console import Console", id="rich"),
        pytest.param("core/x.py", "import os\nos.write(2, b'hi')", id="os-write-stderr"),
    ],
)
def test_printing_is_caught(rel: str, text: str) -> None:
    assert printing(source(rel, text)) != []


def test_commands_print_and_pipes_are_not_the_terminal() -> None:
    assert printing(source("commands/x.py", "import click\nclick.echo('hi')")) == []
    assert printing(source("adapters/x.py", "import os\nos.write(fd, b'x')")) == []
