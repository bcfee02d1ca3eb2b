"""A write reads a scope from its end (ADR 0033): ``current.json`` must stand at the log's last
line, or the write refuses and leaves the repository exactly as it was; a registry whose
environments still hold ``deployment_state_v1`` pointers verifies, and the next write replays
the log and renders ``deployment_state_v2``."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from gitdocket.core import log as core_log
from gitdocket.core.canonical import render
from gitdocket.core.log import head_digest, last_lines, render_current
from gitdocket.core.scopes import scope
from gitdocket.lifecycles.environment import as_v1
from gitdocket.ops import logs
from gitdocket.ops.transaction import load_log
from tests.integration.releases_support import Release
from tests.support import assert_error_and_hint, repo_state

POINTER = "deployments/preview/current.json"


def _commit_file(rel: Release, path: str, data: bytes | None) -> None:
    """Change ``path`` the way a person would (git, not gitdocket), and commit it."""
    file = rel.reg.path / path
    if data is None:
        rel.reg.git("rm", "-q", path)
    else:
        file.write_bytes(data)
        rel.reg.git("add", path)
    rel.reg.git("commit", "-qm", f"hand edit of {path}")


def _edited(change: Callable[[dict[str, Any]], None]) -> Callable[[bytes], bytes]:
    def edit(raw: bytes) -> bytes:
        pointer = json.loads(raw)
        change(pointer)
        return render(pointer)

    return edit


def _log(**fields: Any) -> Callable[[dict[str, Any]], None]:
    return lambda pointer: pointer["log"].update(fields)


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(_edited(_log(seq=1)), id="log-seq-behind"),
        pytest.param(_edited(_log(head="sha256:" + "0" * 64)), id="log-head-elsewhere"),
        pytest.param(_edited(_log(scope="deployments/dev")), id="log-of-another-scope"),
        pytest.param(_edited(lambda p: p.update(sequence="two")), id="not-a-state"),
        pytest.param(_edited(lambda p: p.update(surprise=1)), id="unknown-field"),
        pytest.param(_edited(lambda p: p.update(contract=[])), id="contract-not-a-name"),
        pytest.param(lambda raw: raw.replace(b'{\n  "', b'{ "', 1), id="not-its-rendering"),
        pytest.param(lambda raw: b"", id="empty"),
        pytest.param(lambda raw: None, id="deleted"),
    ],
)
def test_a_pointer_off_the_log_head_refuses_the_write(rel: Release, tamper: Callable[[bytes], bytes | None]) -> None:
    first, second = rel.build(), rel.build(label="candidate")
    assert rel.promote(first, "preview", gated=False).code == 0
    assert rel.promote(second, "preview", gated=False).code == 0
    _commit_file(rel, POINTER, tamper((rel.reg.path / POINTER).read_bytes()))
    before = repo_state(rel.reg)
    result = rel.promote(first, "preview", gated=False)
    assert_error_and_hint(result, 1, POINTER)
    assert "gitdocket verify" in result.err
    assert repo_state(rel.reg) == before


def test_a_log_whose_last_line_is_not_linked_refuses_the_write(rel: Release) -> None:
    first, second = rel.build(), rel.build(label="candidate")
    for bundle in (first, second):
        assert rel.promote(bundle, "preview", gated=False).code == 0
    history = (rel.reg.path / "deployments/preview/history.jsonl").read_bytes()
    lines = history.splitlines(keepends=True)
    _commit_file(rel, "deployments/preview/history.jsonl", lines[0].replace(b"alice", b"alicf", 1) + lines[1])
    before = repo_state(rel.reg)
    result = rel.promote(first, "preview", gated=False)
    assert_error_and_hint(result, 1, "deployments/preview/history.jsonl:2")
    assert "prev does not match" in result.err and "gitdocket verify" in result.err
    assert repo_state(rel.reg) == before


def _as_v1(rel: Release, env: str) -> bytes:
    """``env``'s pointer as gitdocket wrote it before ADR 0033 (``deployment_state_v1``)."""
    from gitdocket.adapters.store import GitStore

    target = scope("environment", env)
    log = load_log(GitStore.open(rel.reg.path).snapshot(), target)
    head = head_digest(last_lines(log.history)[0])
    return render_current(target.path, as_v1(log.state), log.seq, head)


def test_v1_pointers_verify_and_the_next_write_renders_v2(rel: Release) -> None:
    first, second, third = rel.build(), rel.build(label="candidate"), rel.build(label="third")
    for bundle in (first, second):
        assert rel.promote(bundle, "preview", gated=False).code == 0
    _commit_file(rel, POINTER, _as_v1(rel, "preview"))
    assert rel.current("preview")["contract"] == "deployment_state_v1"
    assert len(rel.current("preview")["rollback_stack"]) == 2
    assert rel.reg.ok("verify", "--format", "json").json()["ok"] is True
    assert rel.promote(third, "preview", gated=False).code == 0  # replays the v1 scope's log
    pointer = rel.current("preview")
    assert (pointer["contract"], pointer["sequence"], pointer["holds"]) == ("deployment_state_v2", 3, {})
    assert "releases" not in pointer and "rollback_stack" not in pointer
    rel.reg.ok("rollback", "--env", "preview", "--reason", "regression in third")
    assert rel.current("preview")["bundle_id"] == second
    assert set(rel.current("preview")["holds"]) == {third}
    assert rel.reg.ok("verify", "--format", "json").json()["ok"] is True
    status = {row["environment"]: row for row in rel.reg.ok("status", "--format", "json").json()}
    assert (status["preview"]["bundle_id"], status["preview"]["rollback"]) == (second, True)


def test_a_rollback_walks_the_log_not_the_pointer(rel: Release) -> None:
    """The pointer carries no release list; a rollback (``needs_history``) still lands on the
    previous release still in effect, and ``--to`` reaches any release ever promoted."""
    bundles = [rel.build(label=label) for label in ("one", "two", "three")]
    for bundle in bundles:
        assert rel.promote(bundle, "preview", gated=False).code == 0
    rel.reg.ok("rollback", "--env", "preview", "--reason", "three is broken")
    assert rel.current("preview")["bundle_id"] == bundles[1]
    rel.reg.ok("rollback", "--env", "preview", "--reason", "two is broken too")
    assert rel.current("preview")["bundle_id"] == bundles[0]
    assert rel.promote(bundles[2], "preview", "--override-hold", "fixed", gated=False).code == 0
    rel.reg.ok("rollback", "--env", "preview", "--to", bundles[0], "--reason", "back to one")
    assert rel.reg.ok("verify", "--format", "json").json()["ok"] is True


def test_a_promotion_reads_only_the_end_of_its_log(rel: Release, monkeypatch: pytest.MonkeyPatch) -> None:
    """The write path parses the environment log's last line, never the lines before it: what
    keeps a promotion's cost flat however many promotions came before (ADR 0033)."""
    first, second = rel.build(), rel.build(label="candidate")
    for bundle in (first, second, first):
        assert rel.promote(bundle, "preview", gated=False).code == 0
    parsed: list[str] = []

    def counting(line: bytes, where: str) -> Any:
        if where.startswith("deployments/preview/history.jsonl"):
            parsed.append(where)
        return real(line, where)

    real = core_log.parse_line
    monkeypatch.setattr(core_log, "parse_line", counting)
    monkeypatch.setattr(logs, "parse_line", counting)
    assert rel.promote(second, "preview", gated=False).code == 0
    assert parsed == ["deployments/preview/history.jsonl (last line)"]
