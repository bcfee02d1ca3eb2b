"""Transaction.apply over an in-memory tree: what it stages is exactly what a reader (and
``gitdocket verify``) recomputes from the log."""

from __future__ import annotations

import pytest

from gitdocket.core.log import head_digest, iter_lines, render_current
from gitdocket.core.tree import MemoryTree
from gitdocket.lifecycles import machine_for
from gitdocket.ops.transaction import load_log
from tests.factories import TREE, VERSION, committed, registry_tree, snapshot, transaction


def _frozen_with_settings(settings: dict[str, object]) -> MemoryTree:
    tree = registry_tree()
    tx = transaction(tree, "alice")
    tx.apply(VERSION, "CreateDraft", {"method_tree": TREE})
    snap = snapshot()
    snap["agent_config"]["settings"] = settings
    tx.apply(VERSION, "FreezeVersion", snap)
    return committed(tree, tx)


@pytest.mark.parametrize(
    "settings",
    [
        pytest.param({"temperature": 1.0}, id="integral-float"),
        pytest.param({"offset": -0.0}, id="negative-zero"),
        pytest.param({"big": 1e21, "small": 1e-7, "t": 0.2}, id="exponent-forms"),
    ],
)
def test_current_json_equals_the_fold_of_the_log_as_read_back(settings: dict[str, object]) -> None:
    tree = _frozen_with_settings(settings)
    log = load_log(tree, VERSION)
    state = machine_for("version").replay(VERSION, ((e.type, e.data) for e in log.events))
    last = [line for _, line in iter_lines(log.history)][-1]
    expected = render_current(VERSION.path, state.model_dump(mode="json"), 2, head_digest(last))
    assert tree.read(VERSION.current_path) == expected
