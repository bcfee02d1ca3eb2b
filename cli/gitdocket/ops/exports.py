"""``gitdocket export`` and ``gitdocket replay``: a registry's whole history as one replayable file
(``registry_export_v1``, ``core.exports``), and a registry rebuilt from it (ADR 0032).

Export writes every commit of the branch (and of its tags), parents first, with the blobs and the
appended events it brings and the commit object whole (its SSH signature covers those bytes), then
the tags, then a trailer that seals the file. The same registry always exports to the same bytes.

Replay reads the file once, in order, into a new repository in a staging folder next to the
target: every object is written byte for byte and must get the id the export names (a blob, the
tree a commit's changes make, the commit, the tag), every SSH commit signature must be a policy
key's, and the rebuilt registry must pass ``gitdocket verify``; only then is the staging folder
renamed to the target. Any failure removes it: nothing half-built is left, and the target is
untouched.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import pygit2

from gitdocket.adapters.exports import ExportSource, Rebuild, SourceTag, valid_ref
from gitdocket.adapters.files import load_yaml, opened, writing
from gitdocket.adapters.forking import forked
from gitdocket.adapters.keyless import keyless_check
from gitdocket.adapters.store import GitRefs, GitStore, GitTree
from gitdocket.core.exports import (
    BLOB_MODES,
    Append,
    Blob,
    BlobPart,
    Commit,
    Delete,
    End,
    Header,
    Put,
    Tag,
    appended_blob,
    commit_head,
    decode_data,
    encode_data,
    git_oid,
    line_of,
    parse_record,
    path_problem,
    signed_parts,
)
from gitdocket.core.limits import MAX_EXPORT_CHUNK_BYTES, MAX_EXPORT_LINE_BYTES
from gitdocket.core.progress import advance, steps
from gitdocket.errors import InputError, StateError
from gitdocket.verify import Context, Finding, verify_context
from gitdocket.verify.tags import genuine, policy_keys, split_missing

__all__ = ["Exported", "Replayed", "Summary", "export_registry", "replay"]

OBJECTS = "commits and blobs"
"""What the progress of an export and a replay counts."""
EXPORT_HINT = "export the registry again (`gitdocket export --to FILE`) and replay that file"


@dataclass(frozen=True)
class Summary:
    """A registry as an export holds it: its branch and head, and how many of each object."""

    path: Path
    branch: str
    head: str
    commits: int
    blobs: int
    tags: int

    def counts(self) -> dict[str, Any]:
        return {"ok": True, **{k: getattr(self, k) for k in ("branch", "head", "commits", "blobs", "tags")}}


@dataclass(frozen=True)
class Exported(Summary):
    """What an export wrote."""

    size: int = 0
    skipped: tuple[str, ...] = ()
    """Tags left out: they name no commit."""

    def as_dict(self) -> dict[str, Any]:
        return {**self.counts(), "file": str(self.path), "bytes": self.size, "skipped_tags": list(self.skipped)}


@dataclass(frozen=True)
class Replayed(Summary):
    """What a replay rebuilt and proved."""

    unsigned: int = 0
    """Commits without an SSH signature (a merge GitHub signed with OpenPGP, or none): kept as
    they are; authorization never rests on commit signatures (ADR 0002)."""
    notes: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {**self.counts(), "into": str(self.path), "commits_without_ssh_signature": self.unsigned}


# -- export ------------------------------------------------------------------------------------


class _Sink:
    """The export file as it is written: each line counted and hashed for the trailer."""

    def __init__(self, out: BinaryIO) -> None:
        self.out = out
        self.digest = hashlib.sha256()
        self.lines = 0
        self.size = 0

    def put(self, record: Header | Blob | BlobPart | Commit | Tag | End) -> None:
        line = line_of(record)
        self.out.write(line)
        self.digest.update(line)
        self.lines += 1
        self.size += len(line)


def export_registry(store: GitStore, to: Path, branch: str | None) -> Exported:
    """Write ``branch`` (default: the one checked out) of ``store``'s repository, with its tags,
    to ``to`` (replaced whole, only once complete)."""
    name = branch or store.branch
    if name is None:
        raise StateError("HEAD is detached: no branch to export", "name the branch with --branch (e.g. main)")
    source = ExportSource(store.repo)
    head = source.tip(name)
    tags, skipped = source.tags()
    commits = source.commits([head, *(t.target for t in tags)])
    planned = _plan(source, commits)
    blobs = sum(len(new) for _, _, new in planned)
    with writing(to, "--to names a regular file (or a new one) in a folder you can write") as out:
        sink = _Sink(out)
        sink.put(
            Header(
                record="header",
                contract="registry_export_v1",
                branch=name,
                head=head,
                commits=len(commits),
                blobs=blobs,
                tags=len(tags),
            )
        )
        done, total = 0, len(commits) + blobs
        for commit, changes, new in planned:
            for oid in new:
                _put_blob(sink, oid, source.raw(oid))
            done += len(new) + 1
            advance(OBJECTS, done, total)
            sink.put(
                Commit(record="commit", oid=str(commit.id), object=_text(source.raw(str(commit.id))), changes=changes)
            )
        for tag in tags:
            sink.put(_tag_record(tag))
        sink.put(End(record="end", lines=sink.lines, sha256=sink.digest.hexdigest()))
    return Exported(to, name, head, len(commits), blobs, len(tags), sink.size, tuple(skipped))


def _plan(
    source: ExportSource, commits: list[pygit2.Commit]
) -> list[tuple[pygit2.Commit, list[Put | Append | Delete], list[str]]]:
    """Each commit, its changes, and the blobs it is the first to need (each once, in order)."""
    known: set[str] = set()
    planned: list[tuple[pygit2.Commit, list[Put | Append | Delete], list[str]]] = []
    for commit in steps("reading commits", commits):
        changes = source.changes(commit)
        new: list[str] = []
        for change in changes:
            if isinstance(change, Put) and change.mode in BLOB_MODES and change.oid not in known:
                new.append(change.oid)
            if not isinstance(change, Delete):
                known.add(change.oid)  # an appended log's blob is made by replay
        planned.append((commit, changes, new))
    return planned


def _put_blob(sink: _Sink, oid: str, data: bytes) -> None:
    first = data[:MAX_EXPORT_CHUNK_BYTES]
    sink.put(Blob(record="blob", oid=oid, size=len(data), data=encode_data(first)))
    for offset in range(MAX_EXPORT_CHUNK_BYTES, len(data), MAX_EXPORT_CHUNK_BYTES):
        chunk = data[offset : offset + MAX_EXPORT_CHUNK_BYTES]
        sink.put(BlobPart(record="blob_part", oid=oid, offset=offset, data=encode_data(chunk)))


def _text(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise StateError(
            f"an object of the registry is not UTF-8 text ({exc.reason}): gitdocket exports only UTF-8 "
            "commits and tags",
            "re-encode the commit (`git commit --amend` with i18n.commitEncoding unset) before exporting",
        ) from exc


def _tag_record(tag: SourceTag) -> Tag:
    text = _text(tag.raw) if tag.raw is not None else None
    return Tag(record="tag", name=tag.name, target=tag.target, oid=tag.oid, object=text)


# -- replay ------------------------------------------------------------------------------------


@dataclass
class _State:
    """What replay has read so far."""

    header: Header | None = None
    blob: tuple[str, int, bytearray] | None = None
    """The blob being assembled from its chunks: (oid, size, bytes so far)."""
    blobs: int = 0
    commits: dict[str, int] = field(default_factory=dict)
    """Every commit written, with the line of its record."""
    tags: list[tuple[str, str, str | None]] = field(default_factory=list)
    """(name, object, the commit an annotated tag names) of every tag."""
    signed: list[tuple[int, tuple[bytes, bytes]]] = field(default_factory=list)
    """(line, (signature, signed bytes)) of every SSH-signed commit."""
    unsigned: int = 0
    end: End | None = None


def replay(source: Path, into: Path, clock: str) -> Replayed:
    """Rebuild the registry ``source`` holds in the new folder ``into`` and prove it (module
    docstring); ``clock`` is the verifier's (``verify --at``)."""
    _refuse_target(into)
    with _staging(into) as staging:
        state, rebuild = _rebuild(source, staging)
        try:
            notes = _prove(source, state, rebuild, clock)
        finally:
            rebuild.close()
        header = state.header
        assert header is not None  # _rebuild read it first
        _move(staging, into)
    return Replayed(
        into, header.branch, header.head, len(state.commits), state.blobs, len(state.tags), state.unsigned, notes
    )


def _refuse_target(into: Path) -> None:
    if into.is_symlink() or (into.exists() and not into.is_dir()):
        raise InputError(f"{into}: exists and is not a folder", "--into names a new folder (or an empty one)")
    if into.is_dir() and any(into.iterdir()):
        raise InputError(f"{into}: is not empty", "--into names a new folder (or an empty one): replay never merges")


def _move(staging: Path, into: Path) -> None:
    """Rename ``staging`` to ``into``: a rename replaces an empty folder in one step (POSIX), so
    there is no moment without ``into``; one filled since it was checked is refused as it is."""
    try:
        staging.rename(into)
    except OSError as exc:
        raise InputError(
            f"{into}: cannot become the replayed registry ({exc.strerror})",
            "--into names a new folder (or an empty one) that nothing else writes to meanwhile",
        ) from exc


@contextlib.contextmanager
def _staging(into: Path) -> Iterator[Path]:
    """A new folder next to ``into`` (same file system: the last step is a rename), removed with
    every parent folder it had to create unless the block renamed it."""
    parent = into.absolute().parent
    made = next((p for p in reversed((parent, *parent.parents)) if not p.exists()), None)
    parent.mkdir(parents=True, exist_ok=True)
    staging = parent / f".{into.name}.replay-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    try:
        yield staging
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        if made is not None:
            shutil.rmtree(made, ignore_errors=True)
        raise


def _rebuild(source: Path, staging: Path) -> tuple[_State, Rebuild]:
    """Read ``source`` line by line and write each object into a repository at ``staging``."""
    state = _State()
    digest = hashlib.sha256()
    rebuild: Rebuild | None = None
    number = 0
    try:
        with opened(source, "name the file `gitdocket export --to FILE` wrote", "the export") as handle:
            while line := handle.readline(MAX_EXPORT_LINE_BYTES + 1):
                number += 1
                where = f"{source}:{number}"
                if state.end is not None:
                    raise InputError(f"{where}: a line after the end record", EXPORT_HINT)
                record = parse_record(line, where)
                if isinstance(record, End):
                    _check_end(record, state, digest.hexdigest(), number, where)
                    state.end = record
                    continue
                digest.update(line)
                if isinstance(record, Header):
                    rebuild = _start(record, state, staging, where, number)
                    continue
                if rebuild is None:
                    raise InputError(f"{where}: the file does not begin with a header record", EXPORT_HINT)
                _apply(record, state, rebuild, where, number)
        if state.end is None:
            raise InputError(
                f"{source}:{number}: the file ends before its end record (truncated)",
                EXPORT_HINT,
            )
        assert rebuild is not None and state.header is not None
        rebuild.finish(state.header.head, state.tags)
        return state, rebuild
    except BaseException:
        if rebuild is not None:
            rebuild.close()
        raise


def _start(header: Header, state: _State, staging: Path, where: str, number: int) -> Rebuild:
    if number != 1:
        raise InputError(f"{where}: a second header record", EXPORT_HINT)
    state.header = header
    if not valid_ref(f"refs/heads/{header.branch}"):
        raise InputError(f"{where}: branch {header.branch!r} is not a name git takes", EXPORT_HINT)
    return Rebuild(staging, header.branch)


def _apply(
    record: Blob | BlobPart | Commit | Tag | Header, state: _State, rebuild: Rebuild, where: str, number: int
) -> None:
    if isinstance(record, Header):
        raise InputError(f"{where}: a second header record", EXPORT_HINT)
    if state.blob is not None and not isinstance(record, BlobPart):
        raise InputError(f"{where}: blob {state.blob[0][:12]} ends before its last part", EXPORT_HINT)
    if isinstance(record, Blob | BlobPart):
        _blob(record, state, rebuild, where)
    elif isinstance(record, Commit):
        _commit(record, state, rebuild, where, number)
    else:
        _tag(record, state, rebuild, where)


def _blob(record: Blob | BlobPart, state: _State, rebuild: Rebuild, where: str) -> None:
    data = decode_data(record.data, where)
    if isinstance(record, Blob):
        state.blob = (record.oid, record.size, bytearray(data))
    elif state.blob is None or state.blob[0] != record.oid or len(state.blob[2]) != record.offset:
        raise InputError(f"{where}: a part of blob {record.oid[:12]} out of place", EXPORT_HINT)
    else:
        state.blob[2].extend(data)
    oid, size, got = state.blob
    if len(got) > size:
        raise InputError(f"{where}: blob {oid[:12]} is longer than its size {size}", EXPORT_HINT)
    if len(got) < size:
        return
    state.blob = None
    if git_oid("blob", bytes(got)) != oid:
        raise InputError(f"{where}: blob {oid[:12]}'s bytes do not hash to its id (altered)", EXPORT_HINT)
    rebuild.store("blob", oid, bytes(got))
    state.blobs += 1
    _progress(state)


def _progress(state: _State) -> None:
    header = state.header
    assert header is not None
    advance(OBJECTS, len(state.commits) + state.blobs, header.commits + header.blobs)


def _commit(record: Commit, state: _State, rebuild: Rebuild, where: str, number: int) -> None:
    raw = record.object.encode("utf-8")
    if git_oid("commit", raw) != record.oid:
        raise InputError(f"{where}: commit {record.oid[:12]}'s object does not hash to its id (altered)", EXPORT_HINT)
    head = commit_head(raw, where)
    missing = next((p for p in head.parents if p not in state.commits), None)
    if missing is not None:
        raise InputError(f"{where}: commit {record.oid[:12]} comes before its parent {missing[:12]}", EXPORT_HINT)
    base = rebuild.tree_of(head.parents[0]) if head.parents else None
    for change in record.changes:
        _check_change(change, base, rebuild, where)
    tree = rebuild.tree(base, list(record.changes))
    if tree != head.tree:
        raise InputError(
            f"{where}: commit {record.oid[:12]}'s changes make tree {tree[:12]}, not the {head.tree[:12]} it names",
            EXPORT_HINT,
        )
    rebuild.commit(record.oid, tree, raw)
    state.commits[record.oid] = number
    _progress(state)
    signed = signed_parts(raw)
    if signed is None:
        state.unsigned += 1
    else:
        state.signed.append((number, signed))


def _check_change(change: Put | Append | Delete, base: str | None, rebuild: Rebuild, where: str) -> None:
    problem = path_problem(change.path)
    if problem is not None:
        raise InputError(f"{where}: path {change.path!r} has {problem}, which no registry file has", EXPORT_HINT)
    if isinstance(change, Delete):
        return
    if isinstance(change, Append):
        made = appended_blob(rebuild.read(base, change.path), change)
        if made is None:
            raise InputError(f"{where}: {change.path} gets events but its parent has no log there", EXPORT_HINT)
        if git_oid("blob", made) != change.oid:
            raise InputError(
                f"{where}: the events appended to {change.path} do not make blob {change.oid[:12]} (altered)",
                EXPORT_HINT,
            )
        rebuild.store("blob", change.oid, made)
    elif change.mode in BLOB_MODES and not rebuild.has(change.oid):
        raise InputError(f"{where}: {change.path} names blob {change.oid[:12]}, which no record gave", EXPORT_HINT)


def _tag(record: Tag, state: _State, rebuild: Rebuild, where: str) -> None:
    if not valid_ref(f"refs/tags/{record.name}"):
        raise InputError(f"{where}: tag {record.name!r} is not a name git takes", EXPORT_HINT)
    if record.target not in state.commits:
        raise InputError(
            f"{where}: tag {record.name} names commit {record.target[:12]}, which no record gave", EXPORT_HINT
        )
    if (record.object is None) != (record.oid is None):
        raise InputError(
            f"{where}: tag {record.name} has an id without an object, or an object without an id", EXPORT_HINT
        )
    if record.object is None or record.oid is None:
        state.tags.append((record.name, record.target, None))
        return
    raw = record.object.encode("utf-8")
    if git_oid("tag", raw) != record.oid:
        raise InputError(f"{where}: tag {record.name}'s object does not hash to its id (altered)", EXPORT_HINT)
    if not raw.startswith(f"object {record.target}\ntype commit\ntag {record.name}\n".encode()):
        raise InputError(f"{where}: tag {record.name}'s object names another commit or name", EXPORT_HINT)
    rebuild.store("tag", record.oid, raw)
    state.tags.append((record.name, record.oid, record.target))


def _check_end(record: End, state: _State, digest: str, number: int, where: str) -> None:
    header = state.header
    if header is None:
        raise InputError(f"{where}: the file does not begin with a header record", EXPORT_HINT)
    if state.blob is not None:
        raise InputError(f"{where}: blob {state.blob[0][:12]} ends before its last part", EXPORT_HINT)
    if record.lines != number - 1 or record.sha256 != digest:
        raise InputError(f"{where}: the end record does not seal the lines before it (altered)", EXPORT_HINT)
    counts = (len(state.commits), state.blobs, len(state.tags))
    if counts != (header.commits, header.blobs, header.tags) or header.head not in state.commits:
        raise InputError(
            f"{where}: the file holds {counts[0]} commits, {counts[1]} blobs and {counts[2]} tags, not what its "
            f"header says ({header.commits}, {header.blobs}, {header.tags}, head {header.head[:12]})",
            EXPORT_HINT,
        )


def _prove(source: Path, state: _State, rebuild: Rebuild, clock: str) -> tuple[str, ...]:
    """The rebuilt registry verifies, and every SSH commit signature is a policy key's."""
    header = state.header
    assert header is not None
    repo = rebuild.repo
    advance("verifying the replayed registry", 0, 1)
    tree = GitTree(repo, repo[header.head].peel(pygit2.Commit))
    ctx = Context(tree, GitRefs(repo), forked, parse_yaml=load_yaml, clock=clock, keyless=keyless_check)
    findings, notes = split_missing(verify_context(ctx), require_tags=False)
    advance("verifying the replayed registry", 1, 1)
    if findings:
        raise InputError(
            f"{source}: the registry it holds does not verify ({len(findings)} finding(s)), first {_line(findings[0])}",
            "run `gitdocket verify` on the registry that was exported; replay only rebuilds one that verifies "
            "(--at judges time as of an earlier moment)",
        )
    keys = list(policy_keys(ctx).values())
    for number, signed in steps("checking commit signatures", state.signed):
        if not genuine(keys, signed):
            raise InputError(
                f"{source}:{number}: the commit's SSH signature is not a policy key's (forged or altered)",
                EXPORT_HINT,
            )
    return tuple(n.message for n in notes)


def _line(finding: Finding) -> str:
    return f"{finding.code} {finding.path}: {finding.message}"
