"""Hashing git blobs fast must still be exact: stored-block objects are read without inflating,
compressed ones are inflated, packed or broken ones fall back, and every path agrees with
hashlib over the content."""

from __future__ import annotations

import hashlib
import os
import subprocess
import zlib
from pathlib import Path

import pygit2
import pytest

from gitdocket.adapters.bundle_files import _loose_sha256, blob_digests
from gitdocket.adapters.store import GitTree


def loose(repo: pygit2.Repository, oid: pygit2.Oid) -> Path:
    text = str(oid)
    return Path(repo.path) / "objects" / text[:2] / text[2:]


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(os.urandom(300_000), id="incompressible-stored-blocks"),
        pytest.param(b"hello gitdocket\n" * 50_000, id="compressible-inflated"),
        pytest.param(b"", id="empty"),
        pytest.param(os.urandom(10), id="tiny"),
    ],
)
def test_loose_objects_hash_to_their_content(tmp_path: Path, content: bytes) -> None:
    repo = pygit2.init_repository(str(tmp_path / "r"), bare=True)
    oid = repo.create_blob(content)
    assert _loose_sha256(loose(repo, oid)) == hashlib.sha256(content).hexdigest()


def test_hand_written_stored_stream_is_read_without_inflating(tmp_path: Path) -> None:
    content = os.urandom(200_000)
    raw = b"blob %d\0" % len(content) + content
    packed = zlib.compress(raw, 0)  # level 0: stored blocks only
    path = tmp_path / "object"
    path.write_bytes(packed)
    assert _loose_sha256(path) == hashlib.sha256(content).hexdigest()
    path.write_bytes(packed[:-1000])
    assert _loose_sha256(path) is None  # truncated: the caller falls back to pygit2
    path.write_bytes(zlib.compress(b"tree 5\0abcde", 0))
    assert _loose_sha256(path) is None  # not a blob


def test_packed_objects_fall_back_to_pygit2(tmp_path: Path) -> None:
    work = tmp_path / "w"
    repo = pygit2.init_repository(str(work))
    (work / "a.bin").write_bytes(os.urandom(50_000))
    (work / "b.txt").write_bytes(b"text\n" * 1000)
    index = repo.index
    index.add_all()
    index.write()
    sig = pygit2.Signature("t", "t@example.com")
    commit = repo.create_commit("HEAD", sig, sig, "m", index.write_tree(), [])
    expected = {p: hashlib.sha256((work / p).read_bytes()).hexdigest() for p in ("a.bin", "b.txt")}
    oids = {p: str(repo.revparse_single(f"HEAD:{p}").id) for p in expected}
    tree = GitTree(repo, repo[commit].peel(pygit2.Commit))
    assert blob_digests(tree, "", oids) == expected
    subprocess.run(["git", "-C", str(work), "gc", "-q", "--prune=now"], check=True)
    assert not loose(repo, pygit2.Oid(hex=oids["a.bin"])).exists()
    repacked = pygit2.Repository(str(work))
    assert blob_digests(GitTree(repacked, repacked[commit].peel(pygit2.Commit)), "", oids) == expected
