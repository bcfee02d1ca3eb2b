"""Bundles as bytes: where a bundle is read from, and how fast its files are hashed.

- ``from_tree`` / ``from_folder``: a ``BundleSource`` over ``bundles/<id>`` in a registry
  snapshot, or over an exported folder on disk; both give the pure ``bundles.check_bundle`` a
  listing and a parallel sha256 ``Hasher``.
- Hashing is the hot path (``bundle verify`` of a gigabyte). Loose git objects are read straight
  from the object database: objects zlib stored uncompressed (incompressible data) are hashed
  without inflating, others are inflated as a stream; hashlib and zlib release the GIL, so a
  small thread pool uses every core. Packed objects fall back to pygit2.
- ``read_evidence`` reads an evidence folder refusing links, devices and huge files.

Moving bundles (export, import, archives) is ``bundle_archive``. This is an adapter: filesystem,
zlib and pygit2 live here, never in the pure core.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import mmap
import os
import stat
import subprocess
import threading
import zlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, BinaryIO

import pygit2

from gitdocket.adapters.files import read_file
from gitdocket.adapters.packs import open_packs, stored_blocks
from gitdocket.adapters.store import GitTree
from gitdocket.core.limits import (
    MAX_ARCHIVE_BYTES,
    MAX_ARCHIVE_MEMBERS,
    MAX_EVIDENCE_BYTES,
    MAX_EVIDENCE_FILES,
    MAX_EVIDENCE_TOTAL,
)
from gitdocket.core.progress import advance
from gitdocket.core.tree import TreeView
from gitdocket.errors import InputError, StateError
from gitdocket.lifecycles.bundle import MANIFEST
from gitdocket.verify.bundles import BundleListing, FileKind, Hasher, check_copy, listing_from_tree

if TYPE_CHECKING:
    from hashlib import _Hash as Hasher256

__all__ = [
    "MAX_EVIDENCE_BYTES",
    "READ",
    "BundleSource",
    "blob_digests",
    "disk_problems",
    "from_folder",
    "from_tree",
    "read_evidence",
    "walk_folder",
]

CHUNK = 4 << 20
PIPE_BYTES = 1 << 20
"""The pipe from ``git cat-file`` (Linux's default ceiling for an unprivileged process)."""
READ = 1 << 20
WORKERS = max(2, min(4, os.cpu_count() or 1))
MAP_FLAGS = mmap.MAP_SHARED | getattr(mmap, "MAP_POPULATE", 0)
"""Map loose objects pre-faulted where the platform can (Linux): one pass, no page faults."""


@dataclass(frozen=True)
class BundleSource:
    """A bundle to verify or export: its listing, a hasher, and a reader of its files."""

    listing: BundleListing
    hasher: Hasher
    read: Callable[[str], bytes]
    where: str

    @property
    def bundle_id(self) -> str:
        return self.listing.folder_id


def _parallel(paths: Sequence[str], one: Callable[[str], str | None]) -> dict[str, str]:
    if not paths:
        return {}
    results: list[str | None] = []
    with ThreadPoolExecutor(max_workers=min(WORKERS, len(paths))) as pool:
        for done, result in enumerate(pool.map(one, paths), start=1):  # reported here, not in a worker
            results.append(result)
            advance("hashing files", done, len(paths))
    return {p: d for p, d in zip(paths, results, strict=True) if d is not None}


# -- git -----------------------------------------------------------------------------------------


def _blob_header(data: bytes) -> tuple[int, int] | None:
    """(content size, header length) of a loose object's ``blob <size>\\0`` prefix."""
    cut = data.find(b"\0", 0, 64)
    kind, _, number = data[: max(cut, 0)].partition(b" ")
    if cut < 0 or kind != b"blob" or not number.isdigit():
        return None
    return int(number), cut + 1


def _stored_sha256(view: memoryview) -> str | None:
    """sha256 of a loose blob whose zlib stream is made only of *stored* deflate blocks — what
    zlib writes for incompressible data — hashed straight from the file, without inflating.
    None when any block is compressed (the caller inflates instead)."""
    blocks = stored_blocks(view, 0)
    if blocks is None:
        return None
    digest, size, seen = hashlib.sha256(), -1, 0
    for block in blocks:
        if size < 0:
            parsed = _blob_header(bytes(block[:64]))
            if parsed is None:
                return None
            size, block = parsed[0], block[parsed[1] :]
        digest.update(block)
        seen += len(block)
    return digest.hexdigest() if seen == size else None


def _inflated_sha256(handle: BinaryIO) -> str | None:
    """sha256 of a loose blob's content, inflated and hashed as a stream."""
    digest, inflater, header = hashlib.sha256(), zlib.decompressobj(), b""
    size, seen = -1, 0
    while chunk := handle.read(READ):
        while chunk:
            data = inflater.decompress(chunk, CHUNK)
            chunk = inflater.unconsumed_tail
            if size < 0:
                header += data
                parsed = _blob_header(header)
                if parsed is None:
                    if len(header) > 64:
                        return None
                    continue
                size, data = parsed[0], header[parsed[1] :]
            digest.update(data)
            seen += len(data)
    return digest.hexdigest() if seen == size and inflater.eof else None


def _loose_sha256(path: Path) -> str | None:
    """sha256 of the content of the loose blob at ``path``; None when it is not one (packed,
    missing or corrupt: the caller asks pygit2)."""
    try:
        with path.open("rb") as handle:
            with mmap.mmap(handle.fileno(), 0, flags=MAP_FLAGS, prot=mmap.PROT_READ) as mapped:
                view = memoryview(mapped)
                try:
                    found = _stored_sha256(view)
                finally:
                    view.release()
            if found is not None:
                return found
            handle.seek(0)
            return _inflated_sha256(handle)
    except (OSError, ValueError, zlib.error):
        return None


def _skip(stream: IO[bytes], size: int, digest: Hasher256 | None) -> bool:
    """Read ``size`` bytes of ``stream`` (into ``digest`` when given) and the newline after them;
    False when the stream ends first."""
    left = size
    while left:
        chunk = stream.read(min(left, CHUNK))
        if not chunk:
            return False
        if digest is not None:
            digest.update(chunk)
        left -= len(chunk)
    return stream.read(1) == b"\n"


def _batch_sha256(git_dir: str, oids: Sequence[str]) -> dict[str, str]:
    """sha256 of the blobs ``oids``, streamed out of one ``git cat-file --batch`` process.

    Packed objects are what a clone holds. git inflates and resolves deltas in its own process
    (one core) while this thread hashes (hashlib releases the GIL): no libgit2 lock and no
    collision-detecting SHA-1 of every object on the way (ADR 0020: the signed manifest's
    sha256 of each file is what proves the content). A blob git cannot give is left out; the
    caller asks pygit2 for it."""
    if not oids:
        return {}
    try:
        proc = subprocess.Popen(
            ["git", f"--git-dir={git_dir}", "cat-file", "--batch"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
    except OSError:
        return {}
    assert proc.stdin is not None and proc.stdout is not None
    with contextlib.suppress(OSError):  # a bigger pipe: fewer wake-ups per gigabyte (Linux only)
        fcntl.fcntl(proc.stdout.fileno(), getattr(fcntl, "F_SETPIPE_SZ", 1031), PIPE_BYTES)
    feeder = threading.Thread(target=_feed, args=(proc.stdin, oids), daemon=True)
    feeder.start()
    found: dict[str, str] = {}
    try:
        for oid in oids:
            header = proc.stdout.readline().split()
            if len(header) != 3:  # "<oid> missing" (no body), or the stream ended
                if not header:
                    break
                continue
            digest = hashlib.sha256() if header[1] == b"blob" else None
            if not _skip(proc.stdout, int(header[2]), digest):
                break
            if digest is not None and header[0].decode() == oid:
                found[oid] = digest.hexdigest()
    finally:
        proc.stdout.close()
        proc.kill()
        proc.wait()
        feeder.join()
    return found


def _feed(stdin: IO[bytes], oids: Sequence[str]) -> None:
    """Ask ``git cat-file --batch`` for every object (from a thread: the pipes must not block)."""
    try:
        with stdin:
            for oid in oids:
                stdin.write(oid.encode() + b"\n")
    except OSError:  # git exited early: the reader sees the stream end
        pass


class _BlobHasher:
    """sha256 of git blobs by id: loose objects streamed in parallel from their files, packed ones
    from ``git cat-file --batch`` processes (one per worker), pygit2 for anything left."""

    def __init__(self, repo: pygit2.Repository) -> None:
        self.repo = repo
        self.objects = Path(repo.path) / "objects"
        self.lock = threading.Lock()

    def many(self, oids: Sequence[str]) -> dict[str, str]:
        unique = sorted(set(oids))
        loose = _parallel(unique, lambda oid: _loose_sha256(self.objects / oid[:2] / oid[2:]))
        with open_packs(self.objects) as packs:
            loose.update(_parallel([oid for oid in unique if oid not in loose], packs.blob_sha256))
        packed = [oid for oid in unique if oid not in loose]
        shares = [packed[i::WORKERS] for i in range(min(WORKERS, len(packed)))]
        with ThreadPoolExecutor(max_workers=max(1, len(shares))) as pool:
            for part in pool.map(lambda share: _batch_sha256(self.repo.path, share), shares):
                loose.update(part)
        for oid in unique:
            if oid not in loose:
                found = self.one(oid)
                if found is not None:
                    loose[oid] = found
        return loose

    def one(self, oid: str) -> str | None:
        with self.lock:  # libgit2 objects are not shared across threads
            try:
                blob = self.repo[oid]
            except (KeyError, ValueError, pygit2.GitError):
                return None
            data = blob.data if isinstance(blob, pygit2.Blob) else None
        return hashlib.sha256(data).hexdigest() if data is not None else None


def _tree_hasher(tree: TreeView, base: str, oids: Mapping[str, str]) -> Hasher:
    if isinstance(tree, GitTree):
        blobs = _BlobHasher(tree.repo)

        def hash_paths(paths: Sequence[str]) -> dict[str, str]:
            wanted = {p: oids[p] for p in paths if p in oids}
            digests = blobs.many(list(wanted.values()))
            return {p: digests[oid] for p, oid in wanted.items() if oid in digests}

        return hash_paths

    def read_hash(path: str) -> str | None:
        data = tree.read(f"{base}/{path}")
        return hashlib.sha256(data).hexdigest() if data is not None else None

    return lambda paths: _parallel(list(paths), read_hash)


def blob_digests(tree: TreeView, base: str, oids: Mapping[str, str]) -> dict[str, str]:
    """sha256 of every ``base/<path>`` blob in ``oids`` ({path: object id}), hashed in parallel."""
    return dict(_tree_hasher(tree, base, oids)(sorted(oids)))


def from_tree(tree: TreeView, bundle_id: str, base: str = "") -> BundleSource:
    """``bundles/<bundle_id>`` of a registry snapshot (or the copy of it at ``base``: a release)."""
    base = base or f"bundles/{bundle_id}"
    listing, oids = listing_from_tree(tree, bundle_id, base)

    def read(rel: str) -> bytes:
        data = tree.read(f"{base}/{rel}")
        if data is None:
            raise StateError(f"{base}/{rel}: not a file", "run `gitdocket verify`")
        return data

    return BundleSource(listing, _tree_hasher(tree, base, oids), read, base)


# -- folders -------------------------------------------------------------------------------------


def _kind_on_disk(path: Path) -> FileKind:
    mode = path.lstat().st_mode
    if stat.S_ISLNK(mode):
        return "link"
    if stat.S_ISREG(mode):
        return "exec" if mode & 0o111 else "file"
    return "special"


def walk_folder(root: Path) -> Iterator[tuple[str, FileKind]]:
    """(relative path, kind) of everything below ``root``, links not followed; bounded like an
    archive (``core.limits``: entries, and bytes of all regular files together)."""
    count = total = 0
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        here = Path(dirpath)
        for name in sorted(dirnames):
            if (here / name).is_symlink():
                yield (here / name).relative_to(root).as_posix(), "link"
        dirnames[:] = sorted(d for d in dirnames if not (here / d).is_symlink())
        for name in sorted(filenames):
            kind = _kind_on_disk(here / name)
            count += 1
            total += (here / name).lstat().st_size if kind in ("file", "exec") else 0
            if count > MAX_ARCHIVE_MEMBERS or total > MAX_ARCHIVE_BYTES:
                raise InputError(
                    f"{root}: more than {MAX_ARCHIVE_MEMBERS} files or {MAX_ARCHIVE_BYTES >> 30} GiB in all",
                    "a bundle holds at most that much",
                )
            yield (here / name).relative_to(root).as_posix(), kind


def _file_sha256(path: Path) -> str | None:
    digest = hashlib.sha256()
    try:
        with path.open("rb") as handle:
            while chunk := handle.read(CHUNK):
                digest.update(chunk)
    except OSError:
        return None
    return digest.hexdigest()


def _small(path: Path) -> bytes | None:
    """One of a bundle folder's own small files (manifest, log, state); None when it is absent
    or a link (the listing's check reports it)."""
    if path.is_symlink() or not path.exists():
        return None
    return read_file(path, MAX_EVIDENCE_BYTES, "a bundle's manifest and log are regular files")


def from_folder(root: Path) -> BundleSource:
    """An exported bundle folder (its name is the bundle id)."""
    if root.is_symlink() or not root.is_dir():
        raise InputError(f"{root}: not a bundle folder", "pass the folder that holds bundle_manifest.json")
    entries = dict(walk_folder(root))
    odd = next((name for name in entries if not _plain_name(name)), None)
    if odd is not None:
        raise InputError(
            f"{root}: file name {odd!r} is not plain UTF-8 text",
            "a bundle holds plain relative paths only; this folder is not a gitdocket bundle",
        )
    listing = BundleListing(
        root.name,
        entries,
        _small(root / MANIFEST),
        _small(root / "history.jsonl"),
        _small(root / "current.json"),
    )

    def hasher(paths: Sequence[str]) -> dict[str, str]:
        return _parallel(
            list(paths),
            lambda p: _file_sha256(root / p) if entries.get(p) in ("file", "exec") else None,
        )

    return BundleSource(listing, hasher, lambda rel: (root / rel).read_bytes(), str(root))


def _plain_name(rel: str) -> bool:
    try:
        rel.encode("utf-8")  # undecodable bytes in a name arrive as surrogates and fail here
    except UnicodeEncodeError:
        return False
    return rel.isprintable() and "\\" not in rel


def read_evidence(folder: Path) -> dict[str, bytes]:
    """Every regular file below ``folder`` as {posix path: bytes}; links, devices, huge files and
    huge folders are refused with the file named."""
    if folder.is_symlink() or not folder.is_dir():
        raise InputError(f"{folder}: not a folder", "pass --evidence DIR with the release evidence files")
    out: dict[str, bytes] = {}
    for rel, kind in walk_folder(folder):
        path = folder / rel
        if kind not in ("file", "exec"):
            raise InputError(f"{path}: is a {kind}", "evidence holds regular files only")
        if not _plain_name(rel):
            raise InputError(f"{path!r}: file name is not plain UTF-8 text", "rename the evidence file")
        if path.stat().st_size > MAX_EVIDENCE_BYTES:
            raise InputError(f"{path}: larger than {MAX_EVIDENCE_BYTES >> 20} MiB", "keep evidence small")
        out[rel] = path.read_bytes()
        if len(out) > MAX_EVIDENCE_FILES or sum(map(len, out.values())) > MAX_EVIDENCE_TOTAL:
            raise InputError(
                f"{folder}: more than {MAX_EVIDENCE_FILES} files or {MAX_EVIDENCE_TOTAL >> 20} MiB",
                "trim the evidence folder",
            )
    return out


def disk_problems(tree: TreeView, bundle_id: str, folder: Path, base: str = "") -> list[str]:
    """How the files at ``folder`` — what a runtime would read — differ from the signed bundle
    ``bundle_id`` (at ``base`` of ``tree``: ``bundles/<id>`` or a promoted release): changed,
    missing and extra files, the manifest and the log byte for byte. Empty when they match."""
    if folder.is_symlink() or not folder.is_dir():
        return [f"Missing folder: {folder}"]
    try:
        copy = from_folder(folder)
    except InputError as exc:
        return [exc.message]
    return check_copy(copy.listing, copy.hasher, from_tree(tree, bundle_id, base).listing)
