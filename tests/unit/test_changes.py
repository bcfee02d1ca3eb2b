"""``verify.changes``: the tree diff PR and history mode judge (ADR 0034), on ``MemoryTree``s (the
git trees' own walk is held to full verification by ``tests/integration/test_verify_modes.py``)."""

from __future__ import annotations

import pytest

from gitdocket.core.scopes import scope
from gitdocket.core.tree import MemoryTree
from gitdocket.verify.changes import changed_files, diff, focus_of

BASE = {
    "registry/registry.yaml": b"name: r\n",
    "registry/archetypes/a/history.jsonl": b"1\n",
    "registry/archetypes/a/archetype.yaml": b"name: a\n",
    "registry/versions/a/1.0.0/history.jsonl": b"1\n",
    "registry/versions/a/1.0.0/method/x.md": b"x\n",
    "README.md": b"# r\n",
}


@pytest.mark.parametrize(
    ("edit", "paths", "scopes", "other"),
    [
        pytest.param({}, [], set(), [], id="nothing"),
        pytest.param(
            {"registry/versions/a/1.0.0/history.jsonl": b"1\n2\n"},
            ["registry/versions/a/1.0.0/history.jsonl"],
            {scope("version", "a", "1.0.0")},
            [],
            id="log-appended",
        ),
        pytest.param(
            {"registry/versions/a/2.0.0/history.jsonl": b"1\n"},
            ["registry/versions/a/2.0.0/history.jsonl"],
            {scope("version", "a", "2.0.0")},
            [],
            id="scope-added",
        ),
        pytest.param(
            {"registry/versions/a/1.0.0/method/x.md": None},
            ["registry/versions/a/1.0.0/method/x.md"],
            {scope("version", "a", "1.0.0")},
            [],
            id="file-deleted",
        ),
        pytest.param(
            {"registry/registry.yaml": b"name: s\n", "notes/n.md": b"n\n"},
            ["notes/n.md", "registry/registry.yaml"],
            set(),
            ["notes/n.md", "registry/registry.yaml"],
            id="outside-every-scope",
        ),
        pytest.param(
            {"registry/versions/a/NOT A VERSION/history.jsonl": b"1\n"},
            ["registry/versions/a/NOT A VERSION/history.jsonl"],
            set(),
            ["registry/versions/a/NOT A VERSION/history.jsonl"],
            id="illegal-scope-name",
        ),
        pytest.param(
            {"registry/archetypes/a/archetype.yaml": None, "registry/archetypes/a/archetype.yaml/x": b"x\n"},
            ["registry/archetypes/a/archetype.yaml", "registry/archetypes/a/archetype.yaml/x"],
            {scope("archetype", "a")},
            [],
            id="file-becomes-folder",
        ),
    ],
)
def test_diff(edit: dict[str, bytes | None], paths: list[str], scopes: set[object], other: list[str]) -> None:
    after = {**BASE, **{p: d for p, d in edit.items() if d is not None}}
    for path in [p for p, d in edit.items() if d is None]:
        del after[path]
    before_tree, after_tree = MemoryTree(BASE), MemoryTree(after)
    assert sorted(changed_files(before_tree, after_tree)) == paths
    change = diff(before_tree, after_tree)
    assert (change.scopes, sorted(change.other)) == (scopes, other)


VERSION_LOG = "registry/versions/a/1.0.0"


@pytest.mark.parametrize(
    ("edit", "focused"),
    [
        pytest.param({f"{VERSION_LOG}/history.jsonl": b"1\n2\n"}, True, id="appended"),
        pytest.param(
            {f"{VERSION_LOG}/history/000000001.jsonl": b"1\n", f"{VERSION_LOG}/history.jsonl": b"2\n"},
            True,
            id="appended-and-sealed",
        ),
        pytest.param({f"{VERSION_LOG}/history.jsonl": b"2\n"}, False, id="rewritten"),
        pytest.param({f"{VERSION_LOG}/notes.md": b"x\n"}, False, id="other-file-in-the-folder"),
    ],
)
def test_a_seal_keeps_a_change_focused(edit: dict[str, bytes], focused: bool) -> None:
    """A log that grew, sealed or not (ADR 0037), is judged as a change of its scope; a log that
    was rewritten, or another file of a version folder, takes the whole registry."""
    before = MemoryTree(BASE)
    after = MemoryTree({**BASE, **edit})
    found = focus_of(before, after, diff(before, after))
    assert (found is not None and scope("version", "a", "1.0.0") in found) == focused
