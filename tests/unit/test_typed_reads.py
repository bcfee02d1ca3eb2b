"""Reads are typed by the lifecycle: ``tx.state(scope("version", a, v))`` is a ``VersionState``,
so mypy checks ``.snapshot`` (and catches ``.snapshott``) where it used to see ``Any``.

mypy --strict runs on a few lines that use the real package (installed in the venv)."""

from __future__ import annotations

import re

import pytest
from mypy import api

PROGRAM = """
from gitdocket.core.tree import TreeView
from gitdocket.lifecycles import machine_of, scope
from gitdocket.ops.transaction import Transaction, load_log
from gitdocket.verify.context import Context

def reads(tx: Transaction, ctx: Context, tree: TreeView) -> None:
    reveal_type(tx.state(scope("policy")))
    reveal_type(tx.state(scope("archetype", "a")))
    reveal_type(tx.state(scope("version", "a", "1.0.0")))
    reveal_type(tx.state(scope("package", "a", "1.0.0")))
    reveal_type(tx.state(scope("placement", "p", "n")))
    reveal_type(tx.state(scope("entitlement", "p", "n")))
    reveal_type(tx.state(scope("bundle", "b")))
    reveal_type(tx.state(scope("environment", "prod")))
    reveal_type(tx.log(scope("version", "a", "1.0.0")).state)
    reveal_type(load_log(tree, scope("package", "a", "1.0.0")).state)
    reveal_type(ctx.state(scope("environment", "prod")))
    reveal_type(ctx.scopes("version")[0].state)
    reveal_type(machine_of(scope("bundle", "b")).initial(scope("bundle", "b")))
    tx.state(scope("version", "a", "1.0.0")).snapshott
"""

EXPECTED = [
    "PolicyState",
    "ArchetypeState",
    "VersionState",
    "PackageState",
    "PlacementState",
    "EntitlementState",
    "BundleState",
    "DeploymentState",
    "VersionState",
    "PackageState",
    "DeploymentState | None",
    "VersionState",
    "BundleState",
]


@pytest.fixture(scope="module")
def report() -> str:
    out, err, _status = api.run(["--strict", "--config-file", "", "--cache-dir", "/dev/null", "-c", PROGRAM])
    assert err == "", err
    return out


def test_state_reads_have_the_lifecycle_state_type(report: str) -> None:
    revealed = re.findall(r'Revealed type is "([^"]+)"', report)
    shown = [re.sub(r"gitdocket\.lifecycles\.[a-z_]+\.", "", t) for t in revealed]
    assert shown == EXPECTED


def test_a_misspelt_field_is_a_type_error(report: str) -> None:
    assert '"VersionState" has no attribute "snapshott"' in report
