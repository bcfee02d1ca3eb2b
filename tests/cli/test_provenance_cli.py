"""`gitdocket bundle provenance` on its own (the deployment-promote workflow's first check, run
by hand): a successful preview run passes and its source file is written; any other run is
refused in one line; an --output it cannot write is bad input, in one line."""

from __future__ import annotations

import json
from pathlib import Path

from gitdocket.lifecycles.promotion import PREVIEW_WORKFLOW
from tests.support import Registry

RUN = {
    "id": 4242,
    "status": "completed",
    "conclusion": "success",
    "path": f"{PREVIEW_WORKFLOW}@refs/pull/7/merge",
    "head_sha": "a" * 40,
    "head_branch": "release-1.0",
}


def _run_file(tmp_path: Path, **changes: object) -> Path:
    path = tmp_path / "run.json"
    path.write_text(json.dumps({**RUN, **changes}))
    return path


def test_a_successful_preview_run_passes_and_its_source_file_is_written(registry: Registry, tmp_path: Path) -> None:
    out = tmp_path / "sources" / "release_bundle_promotion_source.json"
    registry.ok("bundle", "provenance", "--run", _run_file(tmp_path), "--target", "dev", "--output", out)
    source = json.loads(out.read_text())
    assert (source["source_run_id"], source["source_head_sha"], source["target_environment"]) == (4242, "a" * 40, "dev")
    assert source["source_artifact_name"] == "release-preview-bundle"


def test_a_failed_run_is_refused_in_one_line(registry: Registry, tmp_path: Path) -> None:
    result = registry.run("bundle", "provenance", "--run", _run_file(tmp_path, conclusion="failure"))
    assert result.code == 1 and "Traceback" not in result.err
    assert result.err.splitlines()[0] == (
        "error: provenance check failed: run 4242 is not a successful run (status=completed, conclusion=failure)"
    )


def test_an_output_it_cannot_write_is_one_line_of_bad_input(registry: Registry, tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    result = registry.run("bundle", "provenance", "--run", _run_file(tmp_path), "--output", blocker / "source.json")
    assert result.code == 2 and "Traceback" not in result.err
    error, hint = result.err.splitlines()
    assert error.startswith(f"error: {blocker / 'source.json'}: cannot write") and hint.startswith("hint: --output")
