"""Bundles on the move: export a bundle to a folder or a deterministic ``.tar.gz`` (the CI
artifact), unpack an archive refusing anything unsafe, stage an imported bundle as git trees, and
``open_bundle`` — the one place a ``BUNDLE`` argument is resolved (registry id, folder or
archive).

The tarball is byte-for-byte deterministic: sorted members, zero times and owners, gzip without a
name or time. Unpacking refuses absolute paths, ``..``, links, devices, duplicates, paths deeper
or longer than a path may be, members over 4 GiB, more members than ``core.limits`` allows and
more bytes in all than it allows (the aggregate, so a stream of small members cannot fill the
disk either), and extracts with exclusive creates into a private temporary folder. An adapter:
filesystem, tar, gzip and pygit2 live here.
"""

from __future__ import annotations

import gzip
import io
import os
import shutil
import tarfile
import tempfile
import zlib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import pygit2

from gitdocket.adapters.bundle_files import READ, BundleSource, from_folder, from_tree
from gitdocket.adapters.store import GitTree
from gitdocket.core.fields import BUNDLE_ID_RE
from gitdocket.core.limits import MAX_ARCHIVE_BYTES, MAX_ARCHIVE_MEMBERS, MAX_DEPTH, MAX_MEMBER_BYTES, MAX_PATH_BYTES
from gitdocket.core.progress import advance, steps
from gitdocket.core.tree import TreeRef, TreeView
from gitdocket.errors import InputError, NotFoundError, StateError
from gitdocket.lifecycles.bundle import MANIFEST, SECTIONS
from gitdocket.verify.bundles import FileKind

__all__ = [
    "MAX_MEMBER_BYTES",
    "export_folder",
    "export_tarball",
    "open_bundle",
    "stage_bundle",
    "unpack_tarball",
]


# -- export --------------------------------------------------------------------------------------


def _regular(source: BundleSource) -> list[tuple[str, FileKind]]:
    items = sorted(source.listing.entries.items())
    bad = [rel for rel, kind in items if kind not in ("file", "exec")]
    if bad:
        raise StateError(f"{source.where}/{bad[0]}: not a regular file", "only verified bundles are exported")
    return items


def export_folder(source: BundleSource, parent: Path) -> Path:
    """Write ``parent/<bundle-id>/`` (atomically: a temporary sibling renamed into place). Every
    section root exists even when it holds no file: seed 002's verifier requires
    ``payload/runtime/``, ``payload/registry/`` and ``evidence/``, and git keeps no empty folder."""
    target = parent / source.bundle_id
    if target.exists():
        raise InputError(f"{target}: already exists", "export into an empty folder; gitdocket never overwrites")
    parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".docket-export-", dir=parent))
    try:
        for root, _label in SECTIONS:
            (staging / root).mkdir(parents=True, exist_ok=True)
        for rel, kind in steps("exporting files", _regular(source)):
            path = staging / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(source.read(rel))
            path.chmod(0o755 if kind == "exec" else 0o644)
        staging.rename(target)
    except BaseException:  # a file that cannot be read, a full disk, Ctrl-C: no half export left
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target


def _section_roots() -> list[str]:
    """``payload``, ``payload/runtime``, ``payload/registry``, ``evidence``: the folders an
    archive lists explicitly, so that an empty section survives unpacking."""
    roots = {p for root, _label in SECTIONS for p in (root, root.rpartition("/")[0]) if p}
    return sorted(roots)


def export_tarball(source: BundleSource, target: Path) -> Path:
    """Write a deterministic ``.tar.gz`` whose single top folder is the bundle id (the section
    roots are listed as folders, so an empty one survives unpacking)."""
    if target.exists():
        raise InputError(f"{target}: already exists", "choose a new file name; gitdocket never overwrites")
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, staging_name = tempfile.mkstemp(prefix=".docket-export-", dir=target.parent)
    staging = Path(staging_name)
    try:
        with (
            os.fdopen(fd, "wb") as raw,
            gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as gz,
            tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as tar,
        ):
            for root in _section_roots():
                folder = tarfile.TarInfo(f"{source.bundle_id}/{root}")
                folder.type, folder.mtime, folder.mode = tarfile.DIRTYPE, 0, 0o755
                folder.uid = folder.gid = 0
                folder.uname = folder.gname = ""
                tar.addfile(folder)
            for rel, kind in steps("exporting files", _regular(source)):
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
            mode = pygit2.enums.FileMode.BLOB_EXECUTABLE if kind == "exec" else pygit2.enums.FileMode.BLOB
            builder.insert(head, repo.create_blob(source.read(prefix + rel)), mode)
    for head, sub in groups.items():
        builder.insert(head, _write_tree(repo, source, f"{prefix}{head}/", sub), pygit2.enums.FileMode.TREE)
    return builder.write()


def stage_bundle(tree: TreeView, source: BundleSource) -> dict[str, bytes | TreeRef]:
    """Writes, relative to the bundle folder, that recreate ``source`` exactly (file modes
    included, so tree ids match the exporter's): folders as trees written straight into the object
    database, top-level files as bytes."""
    entries = _regular(source)
    out: dict[str, bytes | TreeRef] = {rel: source.read(rel) for rel, _ in entries if "/" not in rel}
    folders: dict[str, dict[str, FileKind]] = {}
    for rel, kind in entries:
        head, sep, rest = rel.partition("/")
        if sep:
            folders.setdefault(head, {})[rest] = kind
    for head, files in steps("importing folders", sorted(folders.items())):
        if isinstance(tree, GitTree):
            out[head] = TreeRef(str(_write_tree(tree.repo, source, f"{head}/", files)))
        else:
            out.update({f"{head}/{rel}": source.read(f"{head}/{rel}") for rel in files})
    return out


def _member_path(member: tarfile.TarInfo, archive: Path) -> list[str]:
    name = member.name
    parts = name.split("/")
    if name.startswith("/") or "\\" in name or "\x00" in name or any(p in ("", ".", "..") for p in parts):
        raise InputError(
            f"{archive}: member {name!r} has an absolute or escaping path",
            "bundle archives hold <bundle-id>/… paths only",
        )
    if len(parts) > MAX_DEPTH or len(name.encode("utf-8", "surrogateescape")) > MAX_PATH_BYTES:
        raise InputError(
            f"{archive}: member {name[:80]!r}… is over {MAX_DEPTH} folders deep or {MAX_PATH_BYTES} bytes long",
            "bundle archives hold <bundle-id>/… paths only",
        )
    if not (member.isfile() or member.isdir()):
        what = "link" if member.issym() or member.islnk() else "device or special file"
        raise InputError(f"{archive}: member {name!r} is a {what}", "bundle archives hold regular files only")
    if member.size > MAX_MEMBER_BYTES:
        raise InputError(
            f"{archive}: member {name!r} is {member.size} bytes, over the {MAX_MEMBER_BYTES >> 30} GiB limit",
            "bundle members are at most 4 GiB",
        )
    return parts


def _extract(tar: tarfile.TarFile, member: tarfile.TarInfo, path: Path, archive: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o755 if member.mode & 0o111 else 0o644)
    except FileExistsError as exc:
        raise InputError(f"{archive}: member {member.name!r} appears twice", "rebuild the archive") from exc
    source = tar.extractfile(member)
    if source is None:
        raise InputError(f"{archive}: member {member.name!r} has no data")
    with os.fdopen(fd, "wb") as out, source:
        while chunk := source.read(READ):
            out.write(chunk)


@contextmanager
def unpack_tarball(archive: Path) -> Iterator[Path]:
    """Unpack ``archive`` into a temporary folder and yield the bundle folder inside it."""
    with tempfile.TemporaryDirectory(prefix="docket-import-") as tmp:
        root = Path(tmp)
        tops: set[str] = set()
        total = 0
        try:
            with tarfile.open(archive, "r:gz") as tar:
                for count, member in enumerate(tar, start=1):
                    if count > MAX_ARCHIVE_MEMBERS:
                        raise InputError(f"{archive}: more than {MAX_ARCHIVE_MEMBERS} members", "trim the bundle")
                    parts = _member_path(member, archive)
                    total += member.size
                    if total > MAX_ARCHIVE_BYTES:
                        raise InputError(
                            f"{archive}: its members hold more than {MAX_ARCHIVE_BYTES >> 30} GiB in all",
                            "bundle archives are at most 16 GiB unpacked",
                        )
                    tops.add(parts[0])
                    advance("unpacking files", count, 0)  # a .tar.gz says how many only at its end
                    if member.isfile():
                        _extract(tar, member, root.joinpath(*parts), archive)
                    else:  # a folder: kept even when empty (a section root)
                        root.joinpath(*parts).mkdir(parents=True, exist_ok=True)
        except (tarfile.TarError, EOFError, zlib.error, OSError) as exc:
            raise InputError(
                f"{archive}: not a readable .tar.gz ({exc})",
                "export the bundle again with `gitdocket bundle export`",
            ) from exc
        if len(tops) != 1:
            raise InputError(
                f"{archive}: expected one top folder (the bundle id), found {len(tops)}",
                "export the bundle again with `gitdocket bundle export`",
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
            "list bundles with `gitdocket bundle list`",
        )
