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

from gitdocket.adapters.bundle_files import _batch_sha256, _loose_sha256, blob_digests
from gitdocket.adapters.packs import open_packs
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


def _packed_repo(tmp_path: Path, files: dict[str, bytes], *repack: str) -> tuple[pygit2.Repository, dict[str, str]]:
    """A repository whose commit holds ``files``, every object moved into one pack."""
    work = tmp_path / "w"
    repo = pygit2.init_repository(str(work))
    for name, content in files.items():
        (work / name).write_bytes(content)
    index = repo.index
    index.add_all()
    index.write()
    sig = pygit2.Signature("t", "t@example.com")
    repo.create_commit("HEAD", sig, sig, "m", index.write_tree(), [])
    oids = {p: str(repo.revparse_single(f"HEAD:{p}").id) for p in files}
    subprocess.run(["git", "-C", str(work), *(repack or ("gc", "-q", "--prune=now"))], check=True)
    subprocess.run(["git", "-C", str(work), "prune-packed"], check=True)
    assert not any(loose(repo, pygit2.Oid(hex=oid)).exists() for oid in oids.values())
    return pygit2.Repository(str(work)), oids


FILES = {
    "weights.bin": os.urandom(300_000),
    "notes.txt": b"hello gitdocket\n" * 50_000,
    "empty": b"",
    "tiny": os.urandom(10),
}


def test_packed_blobs_are_hashed_from_the_pack_itself(tmp_path: Path) -> None:
    """Stored and compressed pack entries, read from the mapped pack, hash to their content."""
    repo, oids = _packed_repo(tmp_path, FILES)
    with open_packs(Path(repo.path) / "objects") as packs:
        for name, oid in oids.items():
            assert packs.blob_sha256(oid) == hashlib.sha256(FILES[name]).hexdigest(), name
        assert packs.blob_sha256("0" * 40) is None  # not in the pack


def test_deltas_come_from_git_cat_file(tmp_path: Path) -> None:
    """A blob stored as a delta is not read from the pack: git resolves it, the digest is exact."""
    base = b"".join(b"line %d of a long text\n" % i for i in range(20_000))
    files = {"v1.txt": base, "v2.txt": base + b"one more line\n"}
    repo, oids = _packed_repo(tmp_path, files, "repack", "-a", "-d", "-f", "-q", "--window=10")
    with open_packs(Path(repo.path) / "objects") as packs:
        whole = [name for name, oid in oids.items() if packs.blob_sha256(oid) is not None]
    assert len(whole) == 1  # the other one is a delta against it
    expected = {p: hashlib.sha256(c).hexdigest() for p, c in files.items()}
    assert _batch_sha256(repo.path, sorted(oids.values())) == {oids[p]: d for p, d in expected.items()}
    assert blob_digests(GitTree(repo, repo.revparse_single("HEAD").peel(pygit2.Commit)), "", oids) == expected


def test_git_cat_file_skips_what_it_does_not_have(tmp_path: Path) -> None:
    repo, oids = _packed_repo(tmp_path, {"a": b"a\n"})
    missing = "1" * 40
    assert _batch_sha256(repo.path, [missing, oids["a"]]) == {oids["a"]: hashlib.sha256(b"a\n").hexdigest()}


def test_a_changed_byte_in_the_pack_changes_the_digest(tmp_path: Path) -> None:
    """The pack reader hashes what the pack holds: tampered bytes give another sha256 (which the
    bundle's signed manifest then refuses), never the expected one."""
    content = FILES["weights.bin"]
    repo, oids = _packed_repo(tmp_path, {"weights.bin": content})
    (pack,) = (Path(repo.path) / "objects" / "pack").glob("*.pack")
    data = bytearray(pack.read_bytes())
    at = data.find(content[1000:1032])
    assert at > 0  # stored blocks: the content is in the pack as is
    data[at] ^= 0xFF
    pack.chmod(0o644)
    pack.write_bytes(bytes(data))
    with open_packs(Path(repo.path) / "objects") as packs:
        assert packs.blob_sha256(oids["weights.bin"]) != hashlib.sha256(content).hexdigest()
