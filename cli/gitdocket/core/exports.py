"""A registry export (contract ``registry_export_v1``): the registry's history as JSON Lines that
``gitdocket replay`` rebuilds byte for byte (ADR 0032, docs/operations.md).

One record per line, each one canonical JSON object whose ``record`` says what it is:

- ``header`` (first): the contract, the branch, its head, and how many commits, blobs and tags
  follow;
- ``blob``: a file's bytes (base64), written once, before the first commit that needs them; a blob
  larger than ``MAX_EXPORT_CHUNK_BYTES`` continues in ``blob_part`` records;
- ``commit``: the commit object exactly as git stores it (its tree, parents, author, committer,
  SSH signature and message: the signature covers those bytes, so they are kept whole), and the
  changes from its first parent's tree: a file put (mode and blob id), a file deleted, or the
  events appended to a ``history.jsonl`` (each signed line, as text);
- ``tag``: a tag's name, the commit it names and, for an annotated tag, its object (with its
  signature);
- ``end`` (last): the number of lines before it and the sha256 of their bytes, so a truncated or
  altered file is refused.

Commits come parents first (every parent before its children, merges included), so one pass
rebuilds them. What this module owns is pure: the record models, one line's parse, git's object
ids, a commit's header and signature, what a log appended. Reading and writing git is
``adapters.exports``; the operation is ``ops.exports``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from typing import Annotated, Literal

from pydantic import Field, RootModel, ValidationError

from gitdocket.core.canonical import canonical, loads_strict
from gitdocket.core.fields import GitOid, Sha256Hex
from gitdocket.core.limits import MAX_EXPORT_BLOB_BYTES, MAX_EXPORT_CHUNK_BYTES, MAX_EXPORT_LINE_BYTES
from gitdocket.core.model import Record, first_error
from gitdocket.errors import InputError

__all__ = [
    "BLOB_MODES",
    "CONTRACT",
    "MODES",
    "Append",
    "Blob",
    "BlobPart",
    "Change",
    "Commit",
    "CommitHead",
    "Delete",
    "End",
    "ExportRecord",
    "Header",
    "Mode",
    "Put",
    "Tag",
    "appended",
    "appended_blob",
    "commit_head",
    "decode_data",
    "encode_data",
    "git_oid",
    "is_history",
    "line_of",
    "parse_record",
    "path_problem",
    "signed_parts",
]

CONTRACT = "registry_export_v1"
MODES = ("100644", "100755", "120000", "160000")
"""The modes of a file in a git tree: a file, an executable, a symlink, a submodule's commit."""
BLOB_MODES = MODES[:3]
"""The modes whose entry is a blob the export carries (a submodule's commit is not one)."""
HISTORY = "history.jsonl"
"""The file whose appended lines a commit record carries as ``events`` instead of a blob."""

Mode = Literal["100644", "100755", "120000", "160000"]
Count = Annotated[int, Field(ge=0)]
TreePath = Annotated[str, Field(min_length=1, max_length=4096)]


class Header(Record):
    """The first line: what the file is and how much follows."""

    record: Literal["header"]
    contract: Literal["registry_export_v1"]
    branch: Annotated[str, Field(min_length=1, max_length=255)]
    head: GitOid
    commits: Count
    blobs: Count
    tags: Count


class Blob(Record):
    """A file's bytes (or their first ``MAX_EXPORT_CHUNK_BYTES``), base64, before any commit
    that uses them."""

    record: Literal["blob"]
    oid: GitOid
    size: Annotated[int, Field(ge=0, le=MAX_EXPORT_BLOB_BYTES)]
    data: str


class BlobPart(Record):
    """The next chunk of a blob whose ``blob`` record did not hold all its bytes."""

    record: Literal["blob_part"]
    oid: GitOid
    offset: Annotated[int, Field(gt=0)]
    data: str


class Put(Record):
    """A file (or a submodule's commit) at ``path`` is now the blob ``oid`` with ``mode``."""

    path: TreePath
    mode: Mode
    oid: GitOid


class Append(Record):
    """The ``history.jsonl`` at ``path`` grew by ``events`` (its new lines, without their
    newlines): the new blob is the old one plus each line and a newline, and must be ``oid``."""

    path: TreePath
    mode: Mode
    oid: GitOid
    events: Annotated[list[str], Field(min_length=1)]


class Delete(Record):
    """The file at ``path`` is gone."""

    path: TreePath
    delete: Literal[True]


Change = Append | Put | Delete


class Commit(Record):
    """One commit: its object as git stores it (UTF-8 text) and its tree's changes from its first
    parent's (from nothing for a root commit)."""

    record: Literal["commit"]
    oid: GitOid
    object: str
    changes: list[Change]


class Tag(Record):
    """A tag: lightweight (``object`` null) or annotated (its object, with its signature)."""

    record: Literal["tag"]
    name: Annotated[str, Field(min_length=1, max_length=255)]
    target: GitOid
    oid: GitOid | None
    object: str | None


class End(Record):
    """The last line: how many lines came before it and the sha256 of their bytes."""

    record: Literal["end"]
    lines: Count
    sha256: Sha256Hex


class ExportRecord(RootModel[Annotated[Header | Blob | BlobPart | Commit | Tag | End, Field(discriminator="record")]]):
    """``registry_export_v1``: one line of a registry export."""


def line_of(record: Header | Blob | BlobPart | Commit | Tag | End) -> bytes:
    """The record's line: canonical JSON and a newline (an export is deterministic)."""
    return canonical(record.model_dump(mode="json")) + b"\n"


def parse_record(line: bytes, where: str) -> Header | Blob | BlobPart | Commit | Tag | End:
    """One line's record; ``InputError`` naming ``where`` (``FILE:LINE``) when it is none."""
    hint = "the file is not a registry export gitdocket wrote, or it was altered: export the registry again"
    if len(line) > MAX_EXPORT_LINE_BYTES:
        raise InputError(f"{where}: a line longer than {MAX_EXPORT_LINE_BYTES >> 20} MiB", hint)
    if not line.endswith(b"\n"):
        raise InputError(f"{where}: the file ends in the middle of a line (truncated)", hint)
    data = loads_strict(line, where)
    if isinstance(data, dict) and data.get("record") == "header" and data.get("contract") != CONTRACT:
        raise InputError(
            f"{where}: contract {str(data.get('contract'))[:64]!r} is not {CONTRACT}, the one this gitdocket replays",
            "replay it with the gitdocket version that exported it",
        )
    try:
        return ExportRecord.model_validate(data).root
    except ValidationError as exc:
        raise InputError(f"{where}: {first_error(exc, 'record')}", hint) from exc


def encode_data(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def decode_data(text: str, where: str) -> bytes:
    """The bytes of a record's ``data``; ``InputError`` when it is not base64 or too long."""
    if len(text) > (MAX_EXPORT_CHUNK_BYTES * 4) // 3 + 4:
        raise InputError(
            f"{where}: a blob chunk larger than {MAX_EXPORT_CHUNK_BYTES >> 20} MiB", "export the registry again"
        )
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InputError(f"{where}: data is not base64", "export the registry again") from exc


def git_oid(kind: str, raw: bytes) -> str:
    """The id git gives an object of ``kind`` (``blob``, ``commit``, ``tag``) with these bytes."""
    return hashlib.sha1(f"{kind} {len(raw)}\0".encode() + raw, usedforsecurity=False).hexdigest()


class CommitHead(Record):
    """What replay needs of a commit's header: its tree and its parents, in order."""

    tree: GitOid
    parents: list[GitOid]


def commit_head(raw: bytes, where: str) -> CommitHead:
    """The tree and parents a commit object names (its first header lines)."""
    tree: str | None = None
    parents: list[str] = []
    for line in raw.split(b"\n"):
        if not line:
            break
        key, _, value = line.partition(b" ")
        if key == b"tree" and tree is None and not parents:
            tree = value.decode("ascii", "replace")
        elif key == b"parent" and tree is not None:
            parents.append(value.decode("ascii", "replace"))
        elif tree is not None:
            break
    if tree is None:
        raise InputError(f"{where}: the commit object names no tree", "export the registry again")
    try:
        return CommitHead(tree=tree, parents=parents)
    except ValidationError as exc:
        raise InputError(f"{where}: the commit object's {first_error(exc)}", "export the registry again") from exc


def signed_parts(raw: bytes) -> tuple[bytes, bytes] | None:
    """An SSH-signed commit's (signature, signed bytes), as ``git verify-commit`` checks them: the
    ``gpgsig`` header's value, and the object without that header. None when the commit carries
    no SSH signature (unsigned, or signed with OpenPGP as GitHub signs its merges)."""
    head, sep, message = raw.partition(b"\n\n")
    lines = head.split(b"\n")
    kept: list[bytes] = []
    signature: list[bytes] = []
    inside = False
    for line in lines:
        if line.startswith(b"gpgsig "):
            inside = True
            signature.append(line[len(b"gpgsig ") :])
        elif inside and line.startswith(b" "):
            signature.append(line[1:])
        else:
            inside = False
            kept.append(line)
    armored = b"\n".join(signature) + b"\n"
    if not signature or not armored.startswith(b"-----BEGIN SSH SIGNATURE-----"):
        return None
    return armored, b"\n".join(kept) + sep + message


def appended(old: bytes, new: bytes) -> list[str] | None:
    """The lines ``new`` adds to ``old`` when it only appends whole UTF-8 lines, else None."""
    if len(new) <= len(old) or not new.startswith(old) or (old and not old.endswith(b"\n")):
        return None
    added = new[len(old) :]
    if not added.endswith(b"\n"):
        return None
    try:
        text = added.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return text[:-1].split("\n")


def appended_blob(old: bytes | None, change: Append) -> bytes | None:
    """The blob an ``Append`` makes of the old one (what ``appended`` read off it, undone), None
    when there is no old one or it does not end a line."""
    if old is None or (old and not old.endswith(b"\n")):
        return None
    return old + "".join(line + "\n" for line in change.events).encode("utf-8")


def path_problem(path: str) -> str | None:
    """Why a change's ``path`` cannot be a file of a tree gitdocket checks out, or None: an
    empty, ``.`` or ``..`` part, a ``.git`` folder (any case), a NUL or a backslash."""
    if "\0" in path or "\\" in path:
        return "a NUL or a backslash"
    for part in path.split("/"):
        if part in ("", ".", "..") or part.casefold() == ".git":
            return f"the part {part!r}"
    return None


def is_history(path: str) -> bool:
    """``path`` is a scope's log, whose appended lines an export carries as events."""
    return path == HISTORY or path.endswith("/" + HISTORY)
