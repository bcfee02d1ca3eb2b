"""An export carries a grown ``history.jsonl`` as the lines it gained (``appended``); replay
makes the blob again from them (``appended_blob``). The two must be each other's inverse, or a
replay refuses a genuine export (its blob would not get the id the export names)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from gitdocket.core.exports import Append, appended, appended_blob, git_oid

# Lines as a log holds them: UTF-8 text without a newline (a JSON line never has one).
LINE = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\n\r"), max_size=20)
LINES = st.lists(LINE, max_size=5)


@given(before=LINES, added=LINES.filter(bool))
def test_appended_events_make_the_new_blob_again(before: list[str], added: list[str]) -> None:
    old = "".join(line + "\n" for line in before).encode("utf-8")
    new = old + "".join(line + "\n" for line in added).encode("utf-8")
    events = appended(old, new)
    assert events == added
    change = Append(path="registry/x/history.jsonl", mode="100644", oid=git_oid("blob", new), events=events)
    assert appended_blob(old, change) == new


def test_no_blob_from_a_missing_log_or_one_cut_mid_line() -> None:
    change = Append(path="registry/x/history.jsonl", mode="100644", oid="0" * 40, events=["{}"])
    assert appended_blob(None, change) is None
    assert appended_blob(b'{"cut": tr', change) is None
    assert appended_blob(b"", change) == b"{}\n"
