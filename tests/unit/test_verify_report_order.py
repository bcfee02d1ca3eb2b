"""verify's report order: stable, unique, and line numbers in numeric order."""

from gitdocket.verify.findings import Finding, report_order


def test_lines_sort_numerically_and_duplicates_collapse() -> None:
    log = "registry/versions/a/1.0.0/history.jsonl"
    found = [
        Finding(f"{log}:10", "CHAIN_BROKEN", "x"),
        Finding(f"{log}:2", "SIGNATURE_INVALID", "y"),
        Finding("refs/tags/a/v1.0.0", "TAG_MISSING", "z"),
        Finding(f"{log}:2", "SIGNATURE_INVALID", "y"),
        Finding(log, "HISTORY_REWRITTEN", "w"),
    ]
    assert [f.path for f in report_order(found)] == [
        "refs/tags/a/v1.0.0",
        log,
        f"{log}:2",
        f"{log}:10",
    ]


def test_a_check_that_meets_an_unreadable_value_keeps_its_findings_and_says_so() -> None:
    from collections.abc import Iterator

    from gitdocket.core.scopes import scope
    from gitdocket.verify.findings import collect

    def fork_sources() -> Iterator[Finding]:
        yield Finding("registry/archetypes/a/history.jsonl:1", "REFERENCE_BROKEN", "first")
        scope("archetype", "Not A Name")  # raises InputError: what a malformed log value does
        yield Finding("registry/archetypes/b/history.jsonl:1", "REFERENCE_BROKEN", "never reached")

    found = collect(fork_sources, "fork_sources")
    assert [f.code for f in found] == ["REFERENCE_BROKEN", "VALUE_UNREADABLE"]
    assert found[1].message.startswith("the fork sources check stopped at a value it cannot read: invalid")
