"""The agent-version lifecycle: every transition row, every invariant's teeth, and each rule of
freeze completeness."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from gitdocket.errors import InputError, InvariantError
from gitdocket.lifecycles import machine_for
from gitdocket.lifecycles.version import VersionState
from tests.factories import METHOD, PACKAGE, TREE, TREE2, snapshot, version_at
from tests.unit.lifecycle_checks import assert_refused, row_sources, step

MACHINE = machine_for("version")
OTHER_PACKAGE = "registry/packages/support-triage-eu/1.0.0"

ROWS = [
    pytest.param(
        "init",
        "CreateDraft",
        {"method_tree": TREE},
        "draft",
        lambda s: (s.draft_revision, s.draft_tree, s.snapshot) == (1, TREE, None),
        id="CreateDraft-from-init",
    ),
    pytest.param(
        "draft",
        "ReviseDraft",
        {"method_tree": TREE2},
        "draft",
        lambda s: (s.draft_revision, s.draft_tree) == (2, TREE2),
        id="ReviseDraft-from-draft",
    ),
    pytest.param(
        "draft",
        "FreezeVersion",
        snapshot(),
        "frozen",
        lambda s: s.frozen_revision == s.draft_revision == 1 and s.snapshot.content_hash == snapshot()["content_hash"],
        id="FreezeVersion-from-draft",
    ),
    pytest.param(
        "frozen",
        "RecordPackageReference",
        {"package": PACKAGE.path},
        "packaged",
        lambda s: s.packaged and s.packages == (PACKAGE.path,),
        id="RecordPackageReference-from-frozen",
    ),
    pytest.param(
        "packaged",
        "RecordPackageReference",
        {"package": OTHER_PACKAGE},
        "packaged",
        lambda s: s.packages == (PACKAGE.path, OTHER_PACKAGE),
        id="RecordPackageReference-from-packaged",
    ),
    pytest.param(
        "frozen",
        "RetireVersion",
        {"reason": "use 2.0"},
        "retired",
        lambda s: s.retired_reason == "use 2.0" and not s.packaged,
        id="RetireVersion-from-frozen",
    ),
    pytest.param(
        "packaged",
        "RetireVersion",
        {"reason": "use 2.0"},
        "retired",
        lambda s: s.packaged and s.packages == (PACKAGE.path,) and s.snapshot is not None,
        id="RetireVersion-from-packaged",
    ),
    pytest.param(
        "draft",
        "AbandonDraft",
        {"reason": "wrong idea"},
        "abandoned",
        lambda s: s.snapshot is None,
        id="AbandonDraft-from-draft",
    ),
]


@pytest.mark.parametrize(("start", "command", "data", "target", "check"), ROWS)
def test_transition(
    start: str,
    command: str,
    data: dict[str, Any],
    target: str,
    check: Callable[[VersionState], bool],
) -> None:
    state = step(MACHINE, version_at(start), command, data)
    assert state.phase == target
    assert check(state)


def test_every_row_and_source_has_a_test() -> None:
    covered = {(p.values[1], p.values[0]) for p in ROWS}
    assert covered == row_sources(MACHINE)


# -- teeth ---------------------------------------------------------------------------------------

PACKAGE_REF = ("RecordPackageReference", {"package": PACKAGE.path})
TEETH = [
    *(
        pytest.param(
            start,
            *PACKAGE_REF,
            "PACKAGE_REQUIRES_FROZEN_VERSION",
            id=f"PACKAGE_REQUIRES_FROZEN_VERSION-package-{start}",
        )
        for start in ("init", "draft", "abandoned")
    ),
    *(
        pytest.param(
            start,
            command,
            data,
            "FROZEN_VERSION_IMMUTABLE",
            id=f"FROZEN_VERSION_IMMUTABLE-{command}-{start}",
        )
        for start in ("frozen", "packaged", "retired")
        for command, data in (
            ("ReviseDraft", {"method_tree": TREE2}),
            ("FreezeVersion", snapshot(TREE2)),
        )
    ),
    pytest.param(
        "frozen",
        "AbandonDraft",
        {"reason": "x"},
        "FROZEN_VERSION_IMMUTABLE",
        id="FROZEN_VERSION_IMMUTABLE-abandon-frozen",
    ),
    *(
        pytest.param(
            start,
            *PACKAGE_REF,
            "RETIREMENT_BLOCKS_FUTURE_PACKAGING",
            id=f"RETIREMENT_BLOCKS_FUTURE_PACKAGING-{start}",
        )
        for start in ("retired", "retired-packaged")
    ),
    pytest.param(
        "packaged",
        "AbandonDraft",
        {"reason": "x"},
        "PAST_PACKAGES_PRESERVED",
        id="PAST_PACKAGES_PRESERVED-abandon-packaged",
    ),
    pytest.param(
        "packaged",
        "RecordPackageReference",
        {"package": PACKAGE.path},
        "PACKAGE_REFERENCE_UNIQUE",
        id="PACKAGE_REFERENCE_UNIQUE-same-package-twice",
    ),
    *(
        pytest.param("draft", "FreezeVersion", snapshot(files={**METHOD, name: b"x"}), rule, id=f"{rule}-{why}")
        for name, rule, why in (
            ("skills/\u202eevil.md", "METHOD_NAMES_CANONICAL", "bidi-override"),
            ("skills/CON.md", "METHOD_NAMES_CANONICAL", "reserved-name"),
            ("skills/payp\u0430l.md", "METHOD_NAMES_CANONICAL", "mixed-scripts"),  # a Cyrillic a in Latin
            ("skills/cafe\u0301.md", "METHOD_NAMES_CANONICAL", "not-nfc"),
            ("skills/note.md.", "METHOD_NAMES_CANONICAL", "trailing-dot"),
            ("Skills/classify.md", "METHOD_NAMES_CANONICAL", "case-only-collision"),
        )
    ),
    pytest.param(
        "draft",
        "FreezeVersion",
        snapshot(files={**METHOD, **{f"tools/t{i}.md": b"x" for i in range(2000)}}),
        "FREEZE_PINS_CONTENT",
        id="FREEZE_PINS_CONTENT-too-many-files",
    ),
    *(
        pytest.param(start, command, data, "TRANSITION_NOT_ALLOWED", id=f"not-allowed-{command}-{start}")
        for start, command, data in (
            ("init", "ReviseDraft", {"method_tree": TREE}),
            ("abandoned", "ReviseDraft", {"method_tree": TREE}),
            ("init", "FreezeVersion", snapshot()),
            ("draft", "CreateDraft", {"method_tree": TREE}),
            ("draft", "RetireVersion", {"reason": "x"}),
            ("retired", "RetireVersion", {"reason": "x"}),
            ("abandoned", "AbandonDraft", {"reason": "x"}),
        )
    ),
]


@pytest.mark.parametrize(("start", "command", "data", "invariant"), TEETH)
def test_forbidden_move_is_refused(start: str, command: str, data: dict[str, Any], invariant: str) -> None:
    assert_refused(MACHINE, version_at(start), command, data, invariant)


def test_retirement_preserves_past_packages() -> None:
    """PAST_PACKAGES_PRESERVED: retiring never unsets what was packaged (INV-18)."""
    packaged = version_at("packaged")
    retired = step(MACHINE, packaged, "RetireVersion", {"reason": "use 2.0"})
    assert (retired.packaged, retired.packages, retired.snapshot) == (
        packaged.packaged,
        packaged.packages,
        packaged.snapshot,
    )


def _method(changes: dict[str, bytes | None]) -> dict[str, bytes]:
    files = dict(METHOD)
    for path, data in changes.items():
        if data is None:
            files.pop(path)
        else:
            files[path] = data
    return files


COMPLETENESS = [
    pytest.param(
        snapshot(files=_method({"instructions.md": None})),
        "lacks instructions.md",
        id="missing-instructions",
    ),
    pytest.param(
        snapshot(files=_method({"instructions.md": b""})),
        "instructions.md is empty",
        id="empty-instructions",
    ),
    pytest.param(
        snapshot(files=_method({".agent-config.json": None})),
        "lacks .agent-config.json",
        id="missing-config",
    ),
    pytest.param(snapshot(skills=("summarize",)), "names skill 'summarize'", id="config-names-absent-skill"),
    pytest.param(snapshot(skills=("class",)), "names skill 'class'", id="skill-name-only-a-prefix"),
    pytest.param(snapshot(tools=("web-search",)), "names tool 'web-search'", id="config-names-absent-tool"),
    pytest.param(
        snapshot(files=_method({"skills/classify.md": None})),
        "names skill 'classify'",
        id="skill-file-removed",
    ),
    pytest.param(
        snapshot(hash_override="sha256:" + "0" * 64),
        "content_hash does not match",
        id="bad-content-hash",
    ),
    pytest.param(snapshot(TREE2), "method changed since the draft", id="method-changed-since-draft"),
]


@pytest.mark.parametrize(("snap", "message"), COMPLETENESS)
def test_freeze_requires_complete_snapshot(snap: dict[str, Any], message: str) -> None:
    assert_refused(MACHINE, version_at("draft"), "FreezeVersion", snap, "FREEZE_REQUIRES_COMPLETE_SNAPSHOT")
    with pytest.raises(InvariantError, match=message):
        MACHINE.decide(version_at("draft"), "FreezeVersion", snap)


def test_freeze_accepts_a_skill_folder_and_no_skills() -> None:
    files = {**_method({"skills/classify.md": None}), "skills/classify/SKILL.md": b"steps\n"}
    assert step(MACHINE, version_at("draft"), "FreezeVersion", snapshot(files=files)).phase == "frozen"
    assert step(MACHINE, version_at("draft"), "FreezeVersion", snapshot(skills=(), tools=())).phase == "frozen"


@pytest.mark.parametrize(
    ("data", "field"),
    [
        pytest.param({"method_tree": "xyz"}, "method_tree", id="tree-not-hex"),
        pytest.param({"method_tree": TREE, "extra": 1}, "extra", id="unknown-field"),
        pytest.param({}, "method_tree", id="missing-field"),
    ],
)
def test_malformed_command_data_is_an_input_error(data: dict[str, Any], field: str) -> None:
    with pytest.raises(InputError, match=f"cannot open a draft of version support-triage 1.0.0: {field}"):
        MACHINE.decide(version_at("init"), "CreateDraft", data)


BROKEN_STATES = [
    pytest.param(
        version_at("packaged").model_copy(update={"frozen_revision": 0, "draft_revision": 0}),
        "PACKAGE_REQUIRES_FROZEN_VERSION",
        id="PACKAGE_REQUIRES_FROZEN_VERSION",
    ),
    pytest.param(
        version_at("frozen").model_copy(update={"draft_revision": 2}),
        "FROZEN_VERSION_IMMUTABLE",
        id="FROZEN_VERSION_IMMUTABLE",
    ),
    pytest.param(
        version_at("retired-packaged").model_copy(update={"packages": ()}),
        "PAST_PACKAGES_PRESERVED",
        id="PAST_PACKAGES_PRESERVED",
    ),
    pytest.param(
        version_at("frozen").model_copy(update={"snapshot": None}),
        "FREEZE_REQUIRES_COMPLETE_SNAPSHOT",
        id="FREEZE_REQUIRES_COMPLETE_SNAPSHOT",
    ),
]


@pytest.mark.parametrize(("state", "invariant"), BROKEN_STATES)
def test_invariant_check_flags_a_broken_state(state: VersionState, invariant: str) -> None:
    assert MACHINE.broken_invariants(state) == [invariant]


def test_every_invariant_has_teeth() -> None:
    named = {p.values[-1] for p in TEETH} | {p.values[-1] for p in BROKEN_STATES}
    named.add("FREEZE_REQUIRES_COMPLETE_SNAPSHOT")  # test_freeze_requires_complete_snapshot
    assert {i.name for i in MACHINE.invariants} <= named
