"""The progress API (``core.progress``): what work reports, and that nobody listens by default."""

from __future__ import annotations

from gitdocket.core.progress import advance, reporting, steps


def test_steps_report_each_item_and_the_end() -> None:
    seen: list[tuple[str, int, int]] = []
    with reporting(lambda label, done, total: seen.append((label, done, total))):
        assert list(steps("hashing", ["a", "b", "c"])) == ["a", "b", "c"]
        advance("reading", 7, 0)
    assert seen == [("hashing", 0, 3), ("hashing", 1, 3), ("hashing", 2, 3), ("hashing", 3, 3), ("reading", 7, 0)]


def test_without_a_reporter_nothing_listens() -> None:
    assert list(steps("hashing", [1, 2])) == [1, 2]
    advance("reading", 1, 1)  # no reporter: a no-op, nothing printed
