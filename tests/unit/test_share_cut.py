"""Where verify cuts its work between the runner and this process."""

from __future__ import annotations

import pytest

from gitdocket.verify.context import share_cut


@pytest.mark.parametrize(
    ("sizes", "share", "cut"),
    [
        pytest.param([], 0.6, 0, id="nothing"),
        pytest.param([5, 5, 5, 5], 0.5, 2, id="half"),
        pytest.param([1, 1, 8], 0.5, 3, id="a large last item"),
        pytest.param([8, 1, 1], 0.5, 1, id="a large first item"),
        pytest.param([3, 3, 3], 1.0, 3, id="everything"),
        pytest.param([3, 3, 3], 0.0, 0, id="nothing shared"),
    ],
)
def test_share_cut(sizes: list[int], share: float, cut: int) -> None:
    assert share_cut(sizes, share) == cut
