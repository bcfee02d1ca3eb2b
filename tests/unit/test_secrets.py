"""The secret scanner (issue 9, item 5), pure: every kind of the corpus is found, in files and in
free text, no lookalike is; binary data is scanned by anchors; free-text fields are found by
their marker in any command's data."""

from __future__ import annotations

import os

import pytest

from gitdocket.core.model import ReasonData
from gitdocket.core.secrets import DETECTORS, find_secrets, free_texts, secrets_in_record, text_secrets
from gitdocket.lifecycles import LIFECYCLES
from gitdocket.lifecycles.environment import RolledBackData
from gitdocket.lifecycles.placement_records import EditData
from tests.unit.secret_corpus import NEGATIVES, POSITIVES, made_up

_ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


@pytest.mark.parametrize(("line", "kind"), [pytest.param(line, kind, id=name) for name, line, kind in POSITIVES])
def test_every_kind_is_found_in_a_file_and_in_free_text(line: str, kind: str) -> None:
    hits = find_secrets("evidence/notes.txt", b"first line\n\n" + line.encode() + b"\n")
    assert [(h.line, h.kind) for h in hits][:1] == [(3, kind)]
    assert [h.kind for h in text_secrets("registry/x#reason", line)][:1] == [kind]


@pytest.mark.parametrize("line", [pytest.param(line, id=name) for name, line in NEGATIVES])
def test_lookalikes_are_not_secrets(line: str) -> None:
    assert find_secrets("x", line.encode()) == []
    assert text_secrets("x", line) == []


def test_every_detector_has_a_corpus_row() -> None:
    """No detector is untested: each kind is the answer to at least one positive row."""
    assert {d.kind for d in DETECTORS} <= {kind for _name, _line, kind in POSITIVES}


def test_free_text_judges_unquoted_random_words() -> None:
    key = made_up(_ALNUM + "+/", 48, "free")
    assert [h.kind for h in text_secrets("x", f"rotated, the old key was {key}")] == ["high-entropy string"]
    assert find_secrets("x", f"the old key was {key}".encode()) == []  # in files only quoted strings count


def test_binary_data_is_scanned_by_anchors_only() -> None:
    key = b"ghp_" + made_up(_ALNUM, 36, "bin").encode()
    blob = os.urandom(4096).replace(b"\0", b"\1") + b"\0" + key + b" password=hunter22!"
    kinds = [h.kind for h in find_secrets("payload/runtime/model.bin", blob)]
    assert kinds == ["GitHub token"]  # the keyword rows are for text


def test_one_hit_per_line_the_most_specific() -> None:
    line = "token: ghp_" + made_up(_ALNUM, 36, "one")
    assert [h.kind for h in find_secrets("x", line.encode())] == ["GitHub token"]


def test_free_text_fields_are_found_by_their_marker() -> None:
    data = EditData(config={"tone": "formal", "escalation": ["a", "b"]}, notes="n", context="c")
    assert sorted(free_texts(data)) == [
        ("config", "a"),
        ("config", "b"),
        ("config", "escalation"),
        ("config", "formal"),
        ("config", "tone"),
        ("context", "c"),
        ("notes", "n"),
    ]
    assert list(free_texts(ReasonData(reason="why"))) == [("reason", "why")]


def test_every_reason_and_note_of_every_lifecycle_is_free_text() -> None:
    """Any string field named like text a person writes is marked, in every row's data."""
    human = {"reason", "notes", "context", "terms", "reference", "override", "label"}
    for machine in LIFECYCLES.values():
        for row in machine.transitions:
            for name, field in row.data.model_fields.items():
                if name in human:
                    assert any(repr(m) == "FREE_TEXT" for m in field.metadata), f"{machine.kind}.{row.command}.{name}"


def test_a_record_names_the_field_and_honours_the_allow_list() -> None:
    key = "ghp_" + made_up(_ALNUM, 36, "rec")
    data = RolledBackData(
        target="a-20260101-000000-00000000",
        reason=f"leaked {key}",
        sequence=2,
        previous_bundle_id="b-20260101-000000-00000000",
        rolled_back_at="2026-01-01T00:00:00Z",
        rolled_back_by="alice",
    )
    hits = secrets_in_record("deployments/prod", data, frozenset())
    assert [(h.path, h.kind) for h in hits] == [("deployments/prod#reason", "GitHub token")]
    assert secrets_in_record("deployments/prod", data, frozenset({"deployments/prod#reason"})) == []
