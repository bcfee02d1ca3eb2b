"""VERSIONS_MONOTONIC: a new version must be newer, by the semver order, than every version the
archetype has; ``blocking_version`` names the newest one that is not older."""

from __future__ import annotations

import pytest

from gitdocket.lifecycles.version import blocking_version


@pytest.mark.parametrize(
    ("version", "existing", "blocker"),
    [
        pytest.param("1.0.0", [], None, id="first"),
        pytest.param("1.0.0", ["1.0.0"], None, id="itself"),
        pytest.param("1.1.0", ["1.0.0", "0.9.0"], None, id="newer"),
        pytest.param("1.0.0", ["1.0.0", "1.2.0", "1.10.0"], "1.10.0", id="numbers-not-text"),
        pytest.param("1.0.0-rc.1", ["1.0.0"], "1.0.0", id="pre-release-below-release"),
        pytest.param("1.0.0", ["1.0.0-rc.2", "1.0.0-rc.10"], None, id="release-above-pre-releases"),
        pytest.param("1.0.0-rc.3", ["1.0.0-rc.10", "1.0.0-rc.2"], "1.0.0-rc.10", id="pre-release-numbers"),
        pytest.param("2.0.0", ["2.0.0-beta", "2.0.0-alpha"], None, id="release-after-its-pre-releases"),
    ],
)
def test_blocking_version(version: str, existing: list[str], blocker: str | None) -> None:
    assert blocking_version(version, existing) == blocker
