"""Bundles as bytes: where a bundle is read from and how it travels.

- ``from_tree`` / ``from_folder``: a ``BundleSource`` over ``bundles/<id>`` in a registry
  snapshot, or over an exported folder on disk; both give the pure ``bundles.check_bundle`` a
  listing and a parallel sha256 ``Hasher``.
- Hashing is the hot path (``bundle verify`` of a gigabyte). Loose git objects are inflated and
  hashed by streaming (zlib and hashlib release the GIL, so a small thread pool uses every core);
  packed objects fall back to pygit2.
- ``export_folder`` / ``export_tarball`` write a bundle out (the tarball is byte-for-byte
  deterministic: sorted members, zero times and owners, gzip without a name or time);
  ``unpack_tarball`` reads one back refusing absolute paths, ``..``, links, devices, duplicates and
  oversized members; ``read_evidence`` reads an evidence folder the same careful way.

This is an adapter: filesystem, zlib and pygit2 live here, never in the pure core.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import mmap
import os
import stat
import tarfile
import tempfile
import threading
import zlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import pygit2

from docket.bundles import MANIFEST, BundleListing, FileKind, Hasher, listing_from_tree
from docket.errors import InputError, NotFoundError, StateError
from docket.lifecycles.bundle import BUNDLE_ID_RE
from docket.store import GitTree, TreeRef
from docket.tree import TreeView

__all__ = [
    "MAX_EVIDENCE_BYTES",
    "MAX_MEMBER_BYTES",
    "BundleSource",
    "blob_digests",
    "export_folder",
    "export_tarball",
    "from_folder",
    "from_tree",
    "open_bundle",
    "read_evidence",
    "stage_bundle",
    "unpack_tarball",
]

CHUNK = 4 << 20
READ = 1 << 20
WORKERS = max(2, min(4, os.cpu_count() or 1))
MAX_MEMBER_BYTES = 4 << 30
MAX_MEMBERS = 200_000
MAX_EVIDENCE_BYTES = 64 << 20
MAX_EVIDENCE_FILES = 1000


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
    with ThreadPoolExecutor(max_workers=min(WORKERS, len(paths))) as pool:
        results = list(pool.map(one, paths))
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
    if len(view) < 7 or view[0] & 0x0F != 8 or view[1] & 0x20 or (view[0] << 8 | view[1]) % 31:
        return None
    digest, pos, size, seen, final = hashlib.sha256(), 2, -1, 0, False
    while not final:
        head = view[pos : pos + 5]
        if (
            len(head) < 5
            or head[0] > 1
            or (head[1] | head[2] << 8) ^ (head[3] | head[4] << 8) != 0xFFFF
        ):
            return None  # a compressed block, or not a deflate stream we can read this way
        final, length, pos = head[0] == 1, head[1] | head[2] << 8, pos + 5
        block = view[pos : pos + length]
        if len(block) != length:
            return None
        if size < 0:
            parsed = _blob_header(bytes(block[:64]))
            if parsed is None:
                return None
            size, block = parsed[0], block[parsed[1] :]
        digest.update(block)
        seen, pos = seen + len(block), pos + length
    return digest.hexdigest() if seen == size and pos + 4 == len(view) else None


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
            with mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
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


class _BlobHasher:
    """sha256 of git blobs by id: loose objects streamed in parallel, packed ones via pygit2."""

    def __init__(self, repo: pygit2.Repository) -> None:
        self.repo = repo
        self.objects = Path(repo.path) / "objects"
        self.lock = threading.Lock()

    def __call__(self, oid: str) -> str | None:
        found = _loose_sha256(self.objects / oid[:2] / oid[2:])
        if found is not None:
            return found
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
        return lambda paths: _parallel(list(paths), lambda p: blobs(oids[p]) if p in oids else None)

    def read_hash(path: str) -> str | None:
        data = tree.read(f"{base}/{path}")
        return hashlib.sha256(data).hexdigest() if data is not None else None

    return lambda paths: _parallel(list(paths), read_hash)


def blob_digests(tree: TreeView, base: str, oids: Mapping[str, str]) -> dict[str, str]:
    """sha256 of every ``base/<path>`` blob in ``oids`` ({path: object id}), hashed in parallel."""
    return dict(_tree_hasher(tree, base, oids)(sorted(oids)))


def from_tree(tree: TreeView, bundle_id: str) -> BundleSource:
    """``bundles/<bundle_id>`` of a registry snapshot."""
    base = f"bundles/{bundle_id}"
    listing, oids = listing_from_tree(tree, bundle_id)

    def read(rel: str) -> bytes:
        data = tree.read(f"{base}/{rel}")
        if data is None:
            raise StateError(f"{base}/{rel}: not a file", "run `docket verify`")
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


def _walk(root: Path) -> Iterator[tuple[str, FileKind]]:
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        here = Path(dirpath)
        for name in sorted(dirnames):
            if (here / name).is_symlink():
                yield (here / name).relative_to(root).as_posix(), "link"
        dirnames[:] = sorted(d for d in dirnames if not (here / d).is_symlink())
        for name in sorted(filenames):
            yield (here / name).relative_to(root).as_posix(), _kind_on_disk(here / name)


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
    if not path.is_file() or path.is_symlink():
        return None
    return path.read_bytes()


def from_folder(root: Path) -> BundleSource:
    """An exported bundle folder (its name is the bundle id)."""
    if root.is_symlink() or not root.is_dir():
        raise InputError(
            f"{root}: not a bundle folder", "pass the folder that holds bundle_manifest.json"
        )
    entries = dict(_walk(root))
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


# -- export --------------------------------------------------------------------------------------


def _regular(source: BundleSource) -> list[tuple[str, FileKind]]:
    items = sorted(source.listing.entries.items())
    bad = [rel for rel, kind in items if kind not in ("file", "exec")]
    if bad:
        raise StateError(
            f"{source.where}/{bad[0]}: not a regular file", "only verified bundles are exported"
        )
    return items


def export_folder(source: BundleSource, parent: Path) -> Path:
    """Write ``parent/<bundle-id>/`` (atomically: a temporary sibling renamed into place)."""
    target = parent / source.bundle_id
    if target.exists():
        raise InputError(
            f"{target}: already exists", "export into an empty folder; docket never overwrites"
        )
    parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".docket-export-", dir=parent))
    for rel, kind in _regular(source):
        path = staging / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(source.read(rel))
        path.chmod(0o755 if kind == "exec" else 0o644)
    staging.rename(target)
    return target


def export_tarball(source: BundleSource, target: Path) -> Path:
    """Write a deterministic ``.tar.gz`` whose single top folder is the bundle id."""
    if target.exists():
        raise InputError(
            f"{target}: already exists", "choose a new file name; docket never overwrites"
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, staging_name = tempfile.mkstemp(prefix=".docket-export-", dir=target.parent)
    staging = Path(staging_name)
    try:
        with (
            os.fdopen(fd, "wb") as raw,
            gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as gz,
            tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as tar,
        ):
            for rel, kind in _regular(source):
                data = source.read(rel)
                info = tarfile.TarInfo(f"{source.bundle_id}/{rel}")
                info.size, info.mtime, info.mode = len(data), 0, 0o755 if kind == "exec" else 0o644
                info.uid = info.gid = 0
                info.uname = info.gname = ""
                tar.addfile(info, io.BytesIO(data))
        staging.rename(target)
    finally:
        staging.unlink(missing_ok=True)
    return target


# -- import --------------------------------------------------------------------------------------


def _write_tree(
    repo: pygit2.Repository, source: BundleSource, prefix: str, files: Mapping[str, FileKind]
) -> pygit2.Oid:
    builder = repo.TreeBuilder()
    groups: dict[str, dict[str, FileKind]] = {}
    for rel, kind in sorted(files.items()):
        head, sep, rest = rel.partition("/")
        if sep:
            groups.setdefault(head, {})[rest] = kind
        else:
            mode = (
                pygit2.enums.FileMode.BLOB_EXECUTABLE
                if kind == "exec"
                else pygit2.enums.FileMode.BLOB
            )
            builder.insert(head, repo.create_blob(source.read(prefix + rel)), mode)
    for head, sub in groups.items():
        builder.insert(
            head, _write_tree(repo, source, f"{prefix}{head}/", sub), pygit2.enums.FileMode.TREE
        )
    return builder.write()


def stage_bundle(tree: TreeView, source: BundleSource) -> dict[str, bytes | TreeRef]:
    """Writes, relative to the bundle folder, that recreate ``source`` exactly (file modes
    included, so tree ids match the exporter's): folders as trees written straight into the object
    database, top-level files as bytes."""
    entries = _regular(source)
    out: dict[str, bytes | TreeRef] = {
        rel: source.read(rel) for rel, _ in entries if "/" not in rel
    }
    folders: dict[str, dict[str, FileKind]] = {}
    for rel, kind in entries:
        head, sep, rest = rel.partition("/")
        if sep:
            folders.setdefault(head, {})[rest] = kind
    for head, files in sorted(folders.items()):
        if isinstance(tree, GitTree):
            out[head] = TreeRef(str(_write_tree(tree.repo, source, f"{head}/", files)))
        else:
            out.update({f"{head}/{rel}": source.read(f"{head}/{rel}") for rel in files})
    return out


def _member_path(member: tarfile.TarInfo, archive: Path) -> list[str]:
    name = member.name
    parts = name.split("/")
    if (
        name.startswith("/")
        or "\\" in name
        or "\x00" in name
        or any(p in ("", ".", "..") for p in parts)
    ):
        raise InputError(
            f"{archive}: member {name!r} has an absolute or escaping path",
            "bundle archives hold <bundle-id>/… paths only",
        )
    if not (member.isfile() or member.isdir()):
        what = "link" if member.issym() or member.islnk() else "device or special file"
        raise InputError(
            f"{archive}: member {name!r} is a {what}", "bundle archives hold regular files only"
        )
    if member.size > MAX_MEMBER_BYTES:
        raise InputError(
            f"{archive}: member {name!r} is {member.size} bytes, over the "
            f"{MAX_MEMBER_BYTES >> 30} GiB limit",
            "bundle members are at most 4 GiB",
        )
    return parts


def _extract(tar: tarfile.TarFile, member: tarfile.TarInfo, path: Path, archive: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(
            path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o755 if member.mode & 0o111 else 0o644
        )
    except FileExistsError as exc:
        raise InputError(
            f"{archive}: member {member.name!r} appears twice", "rebuild the archive"
        ) from exc
    source = tar.extractfile(member)
    if source is None:
        raise InputError(f"{archive}: member {member.name!r} has no data")
    with os.fdopen(fd, "wb") as out, source:
        while chunk := source.read(CHUNK):
            out.write(chunk)


@contextmanager
def unpack_tarball(archive: Path) -> Iterator[Path]:
    """Unpack ``archive`` into a temporary folder and yield the bundle folder inside it."""
    with tempfile.TemporaryDirectory(prefix="docket-import-") as tmp:
        root = Path(tmp)
        tops: set[str] = set()
        try:
            with tarfile.open(archive, "r:gz") as tar:
                for count, member in enumerate(tar, start=1):
                    if count > MAX_MEMBERS:
                        raise InputError(
                            f"{archive}: more than {MAX_MEMBERS} members", "trim the bundle"
                        )
                    parts = _member_path(member, archive)
                    tops.add(parts[0])
                    if member.isfile():
                        _extract(tar, member, root.joinpath(*parts), archive)
        except (tarfile.TarError, EOFError, zlib.error, OSError) as exc:
            raise InputError(
                f"{archive}: not a readable .tar.gz ({exc})",
                "export the bundle again with `docket bundle export`",
            ) from exc
        if len(tops) != 1:
            raise InputError(
                f"{archive}: expected one top folder (the bundle id), found {len(tops)}",
                "export the bundle again with `docket bundle export`",
            )
        yield root / tops.pop()


def _bundle_folder(path: Path) -> Path:
    if (path / MANIFEST).exists():
        return path
    inner = [p for p in sorted(path.iterdir()) if p.is_dir() and (p / MANIFEST).exists()]
    if len(inner) != 1:
        raise InputError(
            f"{path}: no bundle_manifest.json here or in exactly one subfolder",
            "pass the exported bundle folder (named after the bundle id) or its .tar.gz",
        )
    return inner[0]


@contextmanager
def open_bundle(spec: str, tree: TreeView) -> Iterator[BundleSource]:
    """The bundle ``spec`` names: an exported folder or ``.tar.gz`` on disk, else a bundle id
    in the registry snapshot ``tree``."""
    path = Path(spec)
    if path.is_symlink():
        raise InputError(f"{path}: is a symlink", "pass the bundle folder or archive itself")
    if path.is_file():
        with unpack_tarball(path) as folder:
            yield from_folder(folder)
    elif path.is_dir():
        yield from_folder(_bundle_folder(path))
    elif BUNDLE_ID_RE.fullmatch(spec) and tree.kind(f"bundles/{spec}/history.jsonl") is not None:
        yield from_tree(tree, spec)
    else:
        raise NotFoundError(
            f"no bundle {spec!r}: not a bundle id in the registry, nor a folder or .tar.gz",
            "list bundles with `docket bundle list`",
        )


def read_evidence(folder: Path) -> dict[str, bytes]:
    """Every regular file below ``folder`` as {posix path: bytes}; links, devices, huge files and
    huge folders are refused with the file named."""
    if folder.is_symlink() or not folder.is_dir():
        raise InputError(
            f"{folder}: not a folder", "pass --evidence DIR with the release evidence files"
        )
    out: dict[str, bytes] = {}
    for rel, kind in _walk(folder):
        path = folder / rel
        if kind not in ("file", "exec"):
            raise InputError(f"{path}: is a {kind}", "evidence holds regular files only")
        if path.stat().st_size > MAX_EVIDENCE_BYTES:
            raise InputError(
                f"{path}: larger than {MAX_EVIDENCE_BYTES >> 20} MiB", "keep evidence small"
            )
        out[rel] = path.read_bytes()
        if len(out) > MAX_EVIDENCE_FILES:
            raise InputError(
                f"{folder}: more than {MAX_EVIDENCE_FILES} files", "trim the evidence folder"
            )
    return out
