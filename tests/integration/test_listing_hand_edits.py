"""`version list`, `package list` and `status` read each scope's `current.json` as recorded (ADR 0035): a
hand-edited or missing file is named in one error line with a hint, never a traceback, and the
repository is left as it was."""

from __future__ import annotations

import pytest

from tests.integration.forgery import PACKAGE, VERSION, Forger, published_registry
from tests.support import Registry, repo_state


@pytest.mark.parametrize(
    ("listing", "path", "content", "message"),
    [
        pytest.param(
            "status",
            "deployments/prod/current.json",
            b"[1]\n",
            "deployments/prod/current.json: not a JSON object",
            id="environment-pointer-not-object",
        ),
        pytest.param(
            "version",
            VERSION.current_path,
            b'{"phase": "frozen", "snapshot": "x"}\n',
            f"{VERSION.current_path}: snapshot is not a JSON object",
            id="version-snapshot-not-object",
        ),
        pytest.param(
            "package",
            PACKAGE.current_path,
            b'{"phase": "published", "manifest": [1]}\n',
            f"{PACKAGE.current_path}: manifest is not a JSON object",
            id="package-manifest-not-object",
        ),
        pytest.param(
            "version", VERSION.current_path, None, f"{VERSION.current_path} is missing", id="version-current-missing"
        ),
    ],
)
def test_a_hand_edited_current_json_is_named(
    registry: Registry, listing: str, path: str, content: bytes | None, message: str
) -> None:
    published = published_registry(registry)
    forger = Forger(published)
    if content is None:
        forger.path(path).unlink()
    else:
        forger.write(path, content)
    forger.commit("hand edit")
    before = repo_state(published)
    result = published.run(*((listing,) if listing == "status" else (listing, "list")))
    assert result.code != 0
    assert f"error: {message}\n" in result.err
    assert "hint: restore" in result.err and "Traceback" not in result.err and "internal error" not in result.err
    assert repo_state(published) == before
