"""Every invariant is declared once and cited somewhere; nothing cites an undeclared one.

Refusals (``InvariantError``) and findings (``Finding``) take ``Invariant`` objects, so mypy
refuses a bare name; these tests close the rest: every ``Invariant(...)`` in the package is a
module constant named like the rule, listed in its lifecycle's ``invariants`` or in
``invariants.CROSS_SCOPE`` (so ``lifecycles.INVARIANTS`` holds it), no bare string names a rule,
every declared rule is cited by some refusal, check or state predicate, and the docs name no
rule that is not declared."""

from __future__ import annotations

import ast
import importlib
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from gitdocket import errors
from gitdocket.errors import Invariant
from gitdocket.lifecycles import INVARIANTS, LIFECYCLES, declared
from gitdocket.lifecycles.environment import GATE_CHECKS
from gitdocket.lifecycles.invariants import CROSS_SCOPE
from gitdocket.ops.doctor import CODES as DRIFT_CODES
from gitdocket.verify import contracts
from gitdocket.verify.findings import CODES

# These tests check how rules are declared and cited, not that any rule holds: the site's
# guarantees page counts them as evidence for none (tests/conftest.py).
pytestmark = pytest.mark.declarations

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "cli" / "gitdocket"


def _modules() -> Iterator[tuple[str, ast.Module]]:
    for path in sorted(PACKAGE.rglob("*.py")):
        name = ".".join(path.relative_to(ROOT / "cli").with_suffix("").parts)
        yield name.removesuffix(".__init__"), ast.parse(path.read_text(), str(path))


def _is_invariant_call(node: ast.AST) -> bool:
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "Invariant"


def _declarations() -> dict[str, str]:
    """{rule name: module} of every ``NAME = Invariant("NAME", ...)`` at module level."""
    found: dict[str, str] = {}
    for module, tree in _modules():
        for node in tree.body:
            if isinstance(node, ast.Assign) and _is_invariant_call(node.value):
                call = node.value
                assert isinstance(call, ast.Call)
                target = node.targets[0]
                first = call.args[0]
                assert isinstance(target, ast.Name) and isinstance(first, ast.Constant), module
                assert target.id == first.value, f"{module}: {target.id} declares {first.value}"
                assert target.id not in found, f"{target.id} declared in {found[target.id]} and {module}"
                found[target.id] = module
    return found


DECLARED = _declarations()


def _declaration_lists(tree: ast.Module) -> set[int]:
    """ids of the nodes that list rules (``invariants=(...)``, ``CROSS_SCOPE``): not citations."""
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.keyword) and node.arg == "invariants":
            skip.update(id(n) for n in ast.walk(node.value))
        if isinstance(node, ast.AnnAssign | ast.Assign):
            targets = [node.target] if isinstance(node, ast.AnnAssign) else node.targets
            if any(isinstance(t, ast.Name) and t.id == "CROSS_SCOPE" for t in targets) and node.value:
                skip.update(id(n) for n in ast.walk(node.value))
    return skip


def _citations() -> dict[str, int]:
    """How often each declared rule is read by name (``RULE`` or ``module.RULE``) anywhere."""
    counts = dict.fromkeys(DECLARED, 0)
    for _module, tree in _modules():
        skip = _declaration_lists(tree)
        for node in ast.walk(tree):
            if id(node) in skip:
                continue
            name = node.id if isinstance(node, ast.Name) else node.attr if isinstance(node, ast.Attribute) else None
            if name in counts and isinstance(getattr(node, "ctx", None), ast.Load):
                counts[name] += 1
    return counts


def test_every_declaration_is_registered_and_nothing_else_is() -> None:
    assert set(DECLARED) == set(INVARIANTS)
    for name, module in DECLARED.items():
        assert getattr(importlib.import_module(module), name) is INVARIANTS[name]


@pytest.mark.parametrize("kind", LIFECYCLES)
def test_a_lifecycle_lists_the_rules_its_module_declares(kind: str) -> None:
    own = {name for name, module in DECLARED.items() if module == f"gitdocket.lifecycles.{kind}"}
    own |= {name for name, module in DECLARED.items() if module == f"gitdocket.lifecycles.{kind}_records"}
    assert {rule.name for rule in LIFECYCLES[kind].invariants} == own


def test_cross_scope_rules_live_in_one_table() -> None:
    assert {rule.name for rule in CROSS_SCOPE} == {n for n, m in DECLARED.items() if m.endswith(".invariants")}
    assert set(DECLARED.values()) <= {
        "gitdocket.lifecycles.invariants",
        *(f"gitdocket.lifecycles.{k}" for k in LIFECYCLES),
    }


def test_no_invariant_is_built_anywhere_else() -> None:
    """An ``Invariant(...)`` inside a function or an expression would be a rule no table lists."""
    for module, tree in _modules():
        top = {id(node.value) for node in tree.body if isinstance(node, ast.Assign)}
        stray = [node.lineno for node in ast.walk(tree) if _is_invariant_call(node) and id(node) not in top]
        assert stray == [], f"{module}: Invariant(...) at lines {stray}"


def test_no_bare_string_names_a_rule() -> None:
    """Only a declaration spells a rule's name (and ``__all__``, which exports the constant)."""
    for module, tree in _modules():
        allowed = _exports(tree) | {
            id(node.value.args[0])
            for node in tree.body
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call) and _is_invariant_call(node.value)
        }
        bare = [
            node.value
            for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and node.value in INVARIANTS and id(node) not in allowed
        ]
        assert bare == [], f"{module} names rules by string: {bare}"


def _exports(tree: ast.Module) -> set[int]:
    """ids of the string nodes of the module's ``__all__``."""
    found: set[int] = set()
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets):
            found |= {id(e) for e in ast.walk(node.value) if isinstance(e, ast.Constant)}
    return found


def test_every_declared_rule_is_cited() -> None:
    uncited = sorted(name for name, count in _citations().items() if count == 0)
    assert uncited == []


def test_a_rule_declared_twice_fails_at_import() -> None:
    twin = Invariant("BUNDLE_IMMUTABLE", "structural", "the same name, declared again")
    with pytest.raises(ValueError, match="BUNDLE_IMMUTABLE is declared twice"):
        declared({"lifecycles.bundle": LIFECYCLES["bundle"].invariants, "elsewhere": (twin,)})


@pytest.mark.parametrize(
    "rule",
    [pytest.param(rule, id=name) for name, rule in sorted(INVARIANTS.items())],
)
def test_every_rule_has_a_kind_and_words(rule: Invariant) -> None:
    assert rule.kind in ("structural", "policy", "operational")
    assert re.fullmatch(r"[A-Z][A-Z0-9]*(_[A-Z0-9]+)+", rule.name)
    assert len(rule.text) > 20 and not rule.text.endswith(".")


def test_the_docs_name_only_declared_rules() -> None:
    """Every ``UPPER_SNAKE`` name the docs quote is a rule, a finding code, a drift code of
    ``doctor``, an error code of ``--format json``, an environment variable (gitdocket's,
    ``NO_COLOR``, or pip's, git's, GitHub Actions' and pydantic's that the docs tell users to
    set) or a
    constant of the contract catalogue."""
    error_codes = {
        *errors.BOUNDARY_CODES,
        *(cls.code for cls in vars(errors).values() if isinstance(cls, type) and issubclass(cls, errors.DocketError)),
    }
    pages = [*sorted((ROOT / "docs").rglob("*.md")), ROOT / "README.md"]
    unknown = {
        (name, page.name)
        for page in pages
        for name in re.findall(r"`([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)`", page.read_text())
        if name not in INVARIANTS
        and name not in CODES
        and name not in DRIFT_CODES
        and name not in error_codes
        and not name.startswith(("GITDOCKET_", "PIP_", "GIT_", "GITHUB_", "RUNNER_", "NO_COLOR", "PYDANTIC_"))
        and not hasattr(contracts, name)
    }
    assert unknown == set()


def test_the_docs_tables_give_each_rule_its_declared_kind() -> None:
    """Rows of an ``| invariant | kind |`` table in the docs agree with the declarations."""
    rows: list[tuple[str, str, str]] = []
    for page in sorted((ROOT / "docs").rglob("*.md")):
        table = False
        for line in page.read_text().splitlines():
            if line.startswith("| invariant | kind |"):
                table = True
            elif table and line.startswith("|") and not line.startswith("|---"):
                cells = [c.strip() for c in line.strip("|").split("|")]
                rows.extend((name, cells[1], page.name) for name in re.findall(r"`([A-Z_]+)`", cells[0]))
            elif not line.startswith("|"):
                table = False
    assert rows
    assert [(n, k, p) for n, k, p in rows if INVARIANTS[n].kind != k] == []


def test_every_rule_is_named_by_a_test() -> None:
    """The site's guarantees page calls a rule "tested" when a test names it (its id, its
    parameters or its docstring; tests/conftest.py writes the names into the JUnit report): a
    rule no test names would show "untested" on every registry's site."""
    sources = "\n".join(p.read_text() for p in sorted((ROOT / "tests").rglob("test_*.py")))
    named = set(re.findall(r"\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b", sources))
    named |= {rule.name for check, rule in GATE_CHECKS.items() if f'"{check}"' in sources}
    assert sorted(set(INVARIANTS) - named) == []
