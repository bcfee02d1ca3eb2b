"""The tag rules that do not need git: which branch's writes create tags, and a missing tag as
drift (a note) unless tags are required."""

from __future__ import annotations

import pytest

from gitdocket.core.documents import RegistryConfig
from gitdocket.verify.findings import Finding
from gitdocket.verify.tags import split_missing


@pytest.mark.parametrize(
    ("default_branch", "branch", "tags"),
    [
        pytest.param("main", "main", True, id="default-branch-tags"),
        pytest.param("main", "release-1.2", False, id="pull-request-branch-does-not"),
        pytest.param("trunk", "main", False, id="a-branch-named-main-is-not-special"),
        pytest.param("trunk", "trunk", True, id="configured-name"),
        pytest.param(None, "anything", True, id="registry-before-default-branch-was-recorded"),
    ],
)
def test_only_writes_to_the_default_branch_create_tags(default_branch: str | None, branch: str, tags: bool) -> None:
    config = RegistryConfig(name="r", default_branch=default_branch)
    assert config.tags_on(branch) is tags


@pytest.mark.parametrize("name", ["-main", ".hidden", "a b", "a:b", "x~1", ""])
def test_default_branch_must_be_a_plain_branch_name(name: str) -> None:
    with pytest.raises(ValueError, match="default_branch"):
        RegistryConfig(name="r", default_branch=name)


def test_missing_tags_are_notes_unless_required() -> None:
    missing = Finding("refs/tags/a/v1.0.0", "TAG_MISSING", "no tag marks this record")
    moved = Finding("refs/tags/a/v0.9.0", "TAG_MISMATCH", "moved")
    assert split_missing([missing, moved], require_tags=False) == ([moved], [missing])
    assert split_missing([missing, moved], require_tags=True) == ([missing, moved], [])
