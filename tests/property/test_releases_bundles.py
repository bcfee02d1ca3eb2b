"""Hypothesis: for any bundle content, verification passes untouched and catches every single
change, removal or addition of a file."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence

from hypothesis import given, settings
from hypothesis import strategies as st

from gitdocket.lifecycles.bundle import manifest_bytes, manifest_for
from gitdocket.verify.bundles import BundleListing, FileKind, check_content

BID = "pr-preview-20260101-000000-1a2b3c4d"
SECTIONS = ("payload/runtime", "payload/registry", "evidence")
names = st.text(alphabet="abcxyz-_.", min_size=1, max_size=6).filter(lambda n: n not in (".", ".."))
paths = st.lists(names, min_size=1, max_size=3).map("/".join)
contents = st.dictionaries(st.tuples(st.sampled_from(SECTIONS), paths), st.binary(max_size=64), min_size=1, max_size=8)


def build(files: dict[tuple[str, str], bytes]) -> tuple[BundleListing, dict[str, bytes]]:
    flat: dict[str, bytes] = {}
    sums: tuple[dict[str, str], dict[str, str], dict[str, str]] = ({}, {}, {})
    for (section, rel), data in files.items():
        if any(p.startswith(f"{section}/{rel}/") or f"{section}/{rel}".startswith(p + "/") for p in flat):
            continue  # a path cannot be both a file and a folder
        flat[f"{section}/{rel}"] = data
        sums[SECTIONS.index(section)][rel] = hashlib.sha256(data).hexdigest()
    manifest = manifest_bytes(manifest_for(BID, "pr-preview", "2026-01-01T00:00:00Z", None, sums, (), ()))
    return listing(flat, manifest), flat


def listing(flat: dict[str, bytes], manifest: bytes) -> BundleListing:
    entries: dict[str, FileKind] = {p: "file" for p in flat}
    return BundleListing(BID, entries, manifest, None, None)


def hasher(flat: dict[str, bytes]) -> Callable[[Sequence[str]], dict[str, str]]:
    def run(paths: Sequence[str]) -> dict[str, str]:
        return {p: hashlib.sha256(flat[p]).hexdigest() for p in paths if p in flat}

    return run


@settings(max_examples=200, deadline=None)
@given(contents, st.data())
def test_every_single_mutation_is_caught(files: dict[tuple[str, str], bytes], data: st.DataObject) -> None:
    view, flat = build(files)
    assert check_content(view, hasher(flat)).ok
    victim = data.draw(st.sampled_from(sorted(flat)))
    kind = data.draw(st.sampled_from(["change", "remove", "add"]))
    mutated = dict(flat)
    if kind == "change":
        mutated[victim] = flat[victim] + b"!"
    elif kind == "remove":
        del mutated[victim]
    else:
        mutated[f"{victim.rsplit('/', 1)[0]}/zz-extra"] = b"extra"
        if victim.count("/") == 0 or f"{victim.rsplit('/', 1)[0]}/zz-extra" in flat:
            return
    assert view.manifest is not None
    result = check_content(listing(mutated, view.manifest), hasher(mutated))
    assert not result.ok
    assert result.verified_files < len(flat) or kind == "add"
