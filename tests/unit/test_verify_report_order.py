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
