"""Reading human-edited files safely: YAML through ruamel (round-trip), JSON strictly, and
folders from disk without following symlinks or swallowing huge files.

Every file a command is pointed at (a key, evidence, a report, a document to validate) is read
with ``read_file`` and every file it writes on request (``--output``) with ``write_file``: a
regular file, up to a stated limit. A FIFO would block the command forever, ``/dev/zero`` would be
read until memory runs out, a device or a folder means a mistake: each is one clear line, before
anything is read or written.

Every error names the file and says what to fix; nothing here raises a bare parser exception.
"""

from __future__ import annotations

import contextlib
import io
import os
import stat
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from gitdocket.core.limits import (
    MAX_DEPTH,
    MAX_DOCUMENT_BYTES,
    MAX_FILE_BYTES,
    MAX_FOLDER_BYTES,
    MAX_FOLDER_FILES,
    MAX_KEY_BYTES,
    MAX_YAML_VALUES,
    casefold_collision,
    is_lfs_pointer,
    path_problem,
)
from gitdocket.core.progress import advance
from gitdocket.errors import InputError

if TYPE_CHECKING:
    from ruamel.yaml import YAML

__all__ = [
    "MAX_FILE_BYTES",
    "MAX_KEY_BYTES",
    "dump_yaml",
    "load_yaml",
    "opened",
    "read_file",
    "read_folder",
    "write_file",
    "writing",
]


def _yaml(typ: str = "rt") -> YAML:
    # ruamel is imported when a YAML document is read or written, not with this module: reads
    # of the signed state (`status`, `history`) never parse YAML and start without it.
    from ruamel.yaml import YAML

    yaml = YAML(typ=typ)
    yaml.allow_duplicate_keys = False
    return yaml


def load_yaml(data: bytes, where: str) -> Any:
    """Parse YAML (duplicate keys refused) into plain Python data. The safe loader: the result
    is plain data anyway, and it is twice as fast as round-trip (verify reads every document).
    Bounded (``core.limits``): bytes, nesting depth, and values once aliases are expanded."""
    if len(data) > MAX_DOCUMENT_BYTES:
        raise InputError(f"{where}: larger than {MAX_DOCUMENT_BYTES >> 20} MiB", "keep the document small")
    from ruamel.yaml.error import YAMLError

    try:
        doc = _load_safe(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise InputError(f"{where}: not UTF-8", "save the file as UTF-8") from exc
    except YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f" line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise InputError(f"{where}:{line}: invalid YAML: {problem}", "fix the YAML syntax") from exc
    except RecursionError as exc:
        raise InputError(f"{where}: YAML nested too deeply", "flatten the document") from exc
    budget = [MAX_YAML_VALUES]
    return _plain(doc, budget, where, 0)


_LOADER = threading.local()
"""This thread's safe ``YAML`` loader between two loads: made afresh, it costs a quarter of the
load of a small document (verify reads 1,000 ``archetype.yaml``)."""
LOADER_USES = 1024
"""Loads after which a new loader is made (ruamel notes each document it has read)."""


def _load_safe(text: str) -> Any:
    """``_yaml("safe").load(text)``. A loader is used again only after a load that succeeded:
    one that failed half-way may hold the anchors of the document it gave up on."""
    kept: tuple[YAML, int] | None = getattr(_LOADER, "kept", None)
    _LOADER.kept = None  # taken: a load that raises leaves none behind
    yaml, uses = kept or (_yaml("safe"), 0)
    doc = yaml.load(text)
    if uses + 1 < LOADER_USES:
        _LOADER.kept = (yaml, uses + 1)
    return doc


def _plain(value: Any, budget: list[int], where: str, depth: int) -> Any:
    budget[0] -= 1
    if budget[0] < 0:
        raise InputError(
            f"{where}: expands to more than {MAX_YAML_VALUES} values (aliases?)",
            "write the document out without anchors and aliases",
        )
    if depth > MAX_DEPTH:
        raise InputError(f"{where}: YAML nested more than {MAX_DEPTH} levels deep", "flatten the document")
    if isinstance(value, dict):
        return {str(k): _plain(v, budget, where, depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v, budget, where, depth + 1) for v in value]
    return value


def dump_yaml(data: Any) -> bytes:
    out = io.StringIO()
    yaml = _yaml()
    yaml.default_flow_style = False
    yaml.dump(data, out)
    return out.getvalue().encode("utf-8")


def _regular_file(path: Path, rel: str) -> bytes | None:
    """The bytes of ``path`` (``rel`` below the folder read) when it is an acceptable regular
    file; None for a folder; ``InputError`` for anything else."""
    mode = path.lstat().st_mode
    if stat.S_ISLNK(mode):
        raise InputError(f"{path}: is a symlink", "replace it with a regular file; symlinks could escape the folder")
    if stat.S_ISDIR(mode):
        return None
    if not stat.S_ISREG(mode):
        raise InputError(f"{path}: not a regular file", "remove it")
    if path.stat().st_size > MAX_FILE_BYTES:
        raise InputError(
            f"{path}: larger than {MAX_FILE_BYTES // 1024} KiB", "keep large assets out of the method folder"
        )
    problem = path_problem(rel)
    if problem is not None:
        raise InputError(f"{path}: {problem}", "rename it: every name has one portable form (docs/limits.md)")
    data = path.read_bytes()
    if is_lfs_pointer(data):
        raise InputError(
            f"{path}: a Git LFS pointer, not the file's content", "check the content itself in (`git lfs pull`)"
        )
    return data


def read_folder(root: Path, hint: str = "pass the folder that holds the archetype") -> dict[str, bytes]:
    """Every regular file below ``root`` as {posix relative path: bytes}. Refuses symlinks,
    devices, Git LFS pointer files, a name that is not canonical (``core.limits.path_problem``),
    two names equal once case is folded, files over ``MAX_FILE_BYTES``, more than
    ``MAX_FOLDER_FILES`` files and more than ``MAX_FOLDER_BYTES`` in all. ``hint``: what to pass
    instead of a path that is no folder."""
    if root.is_symlink() or not root.is_dir():
        raise InputError(f"{root}: not a folder", hint)
    out: dict[str, bytes] = {}
    total = 0
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames.sort()
        for name in [*dirnames, *sorted(filenames)]:
            path = Path(dirpath) / name
            rel = path.relative_to(root).as_posix()
            data = _regular_file(path, rel)
            if data is None:
                continue
            out[rel] = data
            total += len(data)
            advance("reading files", len(out), 0)  # how many there are is known only at the end
            if len(out) > MAX_FOLDER_FILES or total > MAX_FOLDER_BYTES:
                raise InputError(
                    f"{root}: more than {MAX_FOLDER_FILES} files or {MAX_FOLDER_BYTES >> 20} MiB", "trim the folder"
                )
    clash = casefold_collision(out)
    if clash is not None:
        raise InputError(f"{root}: {clash[0]} and {clash[1]} differ only in case", "rename one of them")
    return out


def _kind(mode: int) -> str:
    kinds = (
        (stat.S_ISDIR, "a folder"),
        (stat.S_ISFIFO, "a FIFO (named pipe)"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    )
    return next((words for test, words in kinds if test(mode)), "not a regular file")


def _size(limit: int) -> str:
    return f"{limit >> 20} MiB" if limit >= 1 << 20 else f"{limit >> 10} KiB"


@contextlib.contextmanager
def opened(path: Path, hint: str, what: str = "file") -> Iterator[BinaryIO]:
    """``path`` open for reading: a regular file (a symlink to one is followed). Anything else is
    refused before a byte is read; ``what`` names the file in the error (``signing key``)."""
    try:
        mode = path.stat().st_mode
        if not stat.S_ISREG(mode):
            raise InputError(f"{path}: is {_kind(mode)}, not a regular file", hint)
        # Non-blocking, and checked again once open: it may have been swapped for a FIFO since.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as exc:
        raise InputError(f"{path}: cannot read {what} ({exc.strerror})", hint) from exc
    with os.fdopen(fd, "rb") as handle:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise InputError(f"{path}: is {_kind(mode)}, not a regular file", hint)
        yield handle


def read_file(path: Path, limit: int, hint: str, what: str = "file") -> bytes:
    """The bytes of ``path``: a regular file (a symlink to one is followed) of at most ``limit``
    bytes. Anything else is refused before a byte is read; a larger file after ``limit`` + 1.
    ``what`` names the file in the error (``signing key``)."""
    with opened(path, hint, what) as handle:
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise InputError(f"{path}: larger than {_size(limit)}", hint)
    return data


def write_file(path: Path, data: bytes, hint: str) -> None:
    """Write ``data`` to ``path``: a new file, or a regular one it replaces whole (written beside
    it, then renamed over it, so no reader sees half of it). A FIFO (the write would wait for a
    reader forever), a device or a folder is refused before anything is written."""
    with writing(path, hint) as out:
        out.write(data)


@contextlib.contextmanager
def writing(path: Path, hint: str) -> Iterator[BinaryIO]:
    """A file to write ``path``'s new bytes to, as ``write_file`` writes them: beside it, renamed
    over it when the block ends; when the block raises, nothing is left and ``path`` is as it was."""
    target = path.resolve() if path.is_symlink() else path
    try:
        mode = target.stat().st_mode
    except FileNotFoundError:
        mode = None
    except OSError as exc:
        raise InputError(f"{path}: cannot write ({exc.strerror})", hint) from exc
    if mode is not None and not stat.S_ISREG(mode):
        raise InputError(f"{path}: is {_kind(mode)}, not a regular file", hint)
    scratch = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with scratch.open("wb") as out:
            yield out
        scratch.replace(target)
    except OSError as exc:
        raise InputError(f"{path}: cannot write ({exc.strerror})", hint) from exc
    finally:  # gone once renamed; after a failure (or Ctrl-C) no half-written scratch file stays
        with contextlib.suppress(OSError):
            scratch.unlink(missing_ok=True)
