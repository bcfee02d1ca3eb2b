"""``files.write_file``, what every ``--output`` goes through: the file is replaced whole or not
at all, and a write cut short leaves no scratch file beside it."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitdocket.adapters.files import write_file
from gitdocket.errors import InputError


def test_a_file_is_replaced_whole(tmp_path: Path) -> None:
    target = tmp_path / "out" / "report.json"
    target.parent.mkdir()
    target.write_bytes(b"old\n")
    write_file(target, b"new\n", "pass another --output")
    assert target.read_bytes() == b"new\n"
    assert sorted(p.name for p in target.parent.iterdir()) == ["report.json"]


@pytest.mark.parametrize(
    ("failure", "raised"),
    [
        pytest.param(OSError(28, "No space left on device"), InputError, id="disk-full"),
        pytest.param(KeyboardInterrupt(), KeyboardInterrupt, id="ctrl-c"),
    ],
)
def test_a_write_cut_short_keeps_the_old_file_and_leaves_no_scratch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failure: BaseException, raised: type[BaseException]
) -> None:
    target = tmp_path / "out" / "report.json"
    target.parent.mkdir()
    target.write_bytes(b"old\n")

    def cut_short(self: Path, _to: Path) -> Path:
        raise failure

    monkeypatch.setattr(Path, "replace", cut_short)
    with pytest.raises(raised):
        write_file(target, b"new\n", "pass another --output")
    monkeypatch.undo()
    assert target.read_bytes() == b"old\n"
    assert sorted(p.name for p in target.parent.iterdir()) == ["report.json"]
