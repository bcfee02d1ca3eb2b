"""Blobs read straight out of git pack files, for hashing a bundle at the speed of sha256.

A clone holds its objects in packs. Reading a gigabyte of blobs through libgit2 costs a lock
per object and a collision-detecting SHA-1 of every byte; the bundle's own signed sha256 of each
file is what proves the content (ADR 0020). So ``bundle verify`` finds each blob in the pack
index (``.idx`` version 2) and hashes its zlib stream from the mapped pack: stored deflate blocks
(what zlib writes for incompressible data, such as model weights) without inflating, compressed
ones inflated as a stream. A blob stored as a delta, or a pack this reader does not know, is
left to the caller (``git cat-file --batch``, then pygit2).

This is an adapter: files, mmap and zlib live here, never in the pure core.
"""

from __future__ import annotations

import hashlib
import mmap
import subprocess
import zlib
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from gitdocket.errors import StateError

__all__ = ["PackReader", "PackWriter", "open_packs", "stored_blocks"]

IDX_MAGIC = b"\xfftOc"
BLOB = 3
CHUNK = 4 << 20


def stored_blocks(view: memoryview, start: int) -> Iterator[memoryview] | None:
    """The blocks of the zlib stream at ``view[start:]`` when every one is *stored*
    (uncompressed); None when the stream is not one (the caller inflates instead)."""
    if len(view) < start + 7:
        return None
    cmf, flg = view[start], view[start + 1]
    if cmf & 0x0F != 8 or flg & 0x20 or (cmf << 8 | flg) % 31:
        return None
    head = view[start + 2 : start + 7]
    if head[0] > 1 or (head[1] | head[2] << 8) ^ (head[3] | head[4] << 8) != 0xFFFF:
        return None  # the first block is compressed
    return _blocks(view, start + 2)


def _blocks(view: memoryview, pos: int) -> Iterator[memoryview]:
    """Stored deflate blocks from ``pos``; a compressed block or a cut stream ends the iteration
    early (the caller's length check then fails)."""
    final = False
    while not final:
        head = view[pos : pos + 5]
        if len(head) < 5 or head[0] > 1 or (head[1] | head[2] << 8) ^ (head[3] | head[4] << 8) != 0xFFFF:
            return
        final, length, pos = head[0] == 1, head[1] | head[2] << 8, pos + 5
        block = view[pos : pos + length]
        if len(block) != length:
            return
        yield block
        pos += length


def _inflated(view: memoryview, start: int) -> Iterator[bytes]:
    """The zlib stream at ``view[start:]`` inflated, a chunk at a time, up to its end."""
    inflater = zlib.decompressobj()
    pos = start
    while not inflater.eof and pos < len(view):
        chunk: bytes | memoryview = view[pos : pos + CHUNK]
        pos += len(chunk)
        while chunk and not inflater.eof:
            data = inflater.decompress(chunk, CHUNK)
            chunk = inflater.unconsumed_tail
            if data:
                yield data


@dataclass(frozen=True)
class _Pack:
    index: memoryview
    data: memoryview

    def offset(self, oid: bytes) -> int | None:
        """Where ``oid`` starts in the pack, found by binary search in the index; None when the
        pack does not hold it."""
        count = int.from_bytes(self.index[8 + 255 * 4 : 8 + 256 * 4], "big")
        low = int.from_bytes(self.index[8 + (oid[0] - 1) * 4 : 8 + oid[0] * 4], "big") if oid[0] else 0
        high = int.from_bytes(self.index[8 + oid[0] * 4 : 12 + oid[0] * 4], "big")
        names = 8 + 256 * 4
        while low < high:
            middle = (low + high) // 2
            found = bytes(self.index[names + middle * 20 : names + middle * 20 + 20])
            if found == oid:
                return self._offset_at(count, middle)
            low, high = (middle + 1, high) if found < oid else (low, middle)
        return None

    def _offset_at(self, count: int, position: int) -> int:
        table = 8 + 256 * 4 + count * 24
        value = int.from_bytes(self.index[table + position * 4 : table + position * 4 + 4], "big")
        if value & 0x80000000:  # a pack over 2 GiB: the offset is in the 8-byte table
            large = table + count * 4 + (value & 0x7FFFFFFF) * 8
            value = int.from_bytes(self.index[large : large + 8], "big")
        return value

    def blob_sha256(self, offset: int) -> str | None:
        """sha256 of the blob stored whole (not as a delta) at ``offset``; None otherwise."""
        byte = self.data[offset]
        kind, size, shift, pos = (byte >> 4) & 7, byte & 0x0F, 4, offset + 1
        while byte & 0x80:
            byte = self.data[pos]
            size, shift, pos = size | (byte & 0x7F) << shift, shift + 7, pos + 1
        if kind != BLOB:
            return None
        digest, seen = hashlib.sha256(), 0
        chunks = stored_blocks(self.data, pos)
        for chunk in chunks if chunks is not None else _inflated(self.data, pos):
            digest.update(chunk)
            seen += len(chunk)
            if seen > size:
                return None
        return digest.hexdigest() if seen == size else None


class PackReader:
    """The version-2 packs of an object database, mapped for the duration of a ``with`` block."""

    def __init__(self, packs: list[_Pack]) -> None:
        self.packs = packs

    def blob_sha256(self, oid: str) -> str | None:
        """sha256 of blob ``oid`` read from a pack; None when no pack holds it whole."""
        if len(oid) != 40:  # a SHA-256 object database: left to git
            return None
        raw = bytes.fromhex(oid)
        for pack in self.packs:
            offset = pack.offset(raw)
            if offset is not None:
                return pack.blob_sha256(offset)
        return None


def _mapped(stack: ExitStack, path: Path) -> memoryview:
    handle = stack.enter_context(path.open("rb"))
    mapped = stack.enter_context(mmap.mmap(handle.fileno(), 0, prot=mmap.PROT_READ))
    view = memoryview(mapped)
    stack.callback(view.release)
    return view


@contextmanager
def open_packs(objects: Path) -> Iterator[PackReader]:
    """Every readable version-2 pack under ``objects/pack`` (mapped, not read: only the blobs
    asked for are paged in); a pack that fails to open or parse is skipped, and its blobs then
    come from git."""
    with ExitStack() as stack:
        packs: list[_Pack] = []
        folder = objects / "pack"
        for index_path in sorted(folder.glob("pack-*.idx")) if folder.is_dir() else []:
            try:
                index = _mapped(stack, index_path)
                if bytes(index[:8]) != IDX_MAGIC + b"\0\0\0\2" or len(index) < 8 + 256 * 4:
                    continue
                packs.append(_Pack(index, _mapped(stack, index_path.with_suffix(".pack"))))
            except (OSError, ValueError):
                continue
        yield PackReader(packs)


KINDS = {"commit": 1, "tree": 2, "blob": 3, "tag": 4}
"""Pack object types (``gitformat-pack``)."""


def _entry_header(kind: int, size: int) -> bytes:
    """A pack entry's header: the type and the size, seven bits a byte after the first four."""
    out = bytearray([(kind << 4) | (size & 0x0F)])
    size >>= 4
    while size:
        out[-1] |= 0x80
        out.append(size & 0x7F)
        size >>= 7
    return bytes(out)


class PackWriter:
    """One new pack that objects are appended to as they come, each stored whole (no deltas),
    readable back by id before the pack is indexed; ``finish`` seals it (the trailing SHA-1)
    and has ``git index-pack`` index it. One file for every object instead of one file per
    object: replaying 100,000 objects as loose files costs a file system call each."""

    def __init__(self, objects: Path) -> None:
        self.folder = objects / "pack"
        self.folder.mkdir(parents=True, exist_ok=True)
        self.path = self.folder / "tmp_replay.pack"
        self._file = self.path.open("w+b")
        self._file.write(b"PACK" + (2).to_bytes(4, "big") + (0).to_bytes(4, "big"))
        self._where: dict[str, tuple[int, int, int]] = {}
        """Object id → (offset of its zlib stream, its size, its type)."""

    def __contains__(self, oid: object) -> bool:
        return oid in self._where

    def write(self, kind: str, oid: str, raw: bytes) -> None:
        """Append the object ``oid`` (the caller computed it from ``raw``) unless it is there."""
        if oid in self._where:
            return
        self._file.seek(0, 2)
        header = _entry_header(KINDS[kind], len(raw))
        start = self._file.tell() + len(header)
        self._file.write(header + zlib.compress(raw, 1))
        self._where[oid] = (start, len(raw), KINDS[kind])

    def read(self, oid: str) -> bytes:
        """The bytes of an object this pack holds (KeyError otherwise)."""
        start, size, _ = self._where[oid]
        self._file.seek(start)
        inflater = zlib.decompressobj()
        out = bytearray()
        while not inflater.eof and (chunk := self._file.read(min(CHUNK, size + 64))):
            out += inflater.decompress(chunk)
        return bytes(out)

    def finish(self) -> Path:
        """Write the object count and the checksum, name the pack by it and index it."""
        self._file.seek(8)
        self._file.write(len(self._where).to_bytes(4, "big"))
        self._file.seek(0)
        digest = hashlib.sha1(usedforsecurity=False)
        while chunk := self._file.read(CHUNK):
            digest.update(chunk)
        self._file.write(digest.digest())
        self._file.close()
        final = self.folder / f"pack-{digest.hexdigest()}.pack"
        self.path.rename(final)
        try:
            subprocess.run(["git", "index-pack", str(final)], check=True, capture_output=True, timeout=3600)
        except (OSError, subprocess.SubprocessError) as exc:  # no git on PATH, a full disk, a kill
            said = exc.stderr if isinstance(exc, subprocess.CalledProcessError) else None
            detail = said.decode(errors="replace").strip() if said else str(exc)
            raise StateError(
                f"git could not index the pack of objects just written ({detail})",
                "install git (gitdocket runs `git index-pack`) and free disk space, then run the command again",
            ) from exc
        return final

    def close(self) -> None:
        if not self._file.closed:
            self._file.close()
