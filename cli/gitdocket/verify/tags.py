"""Docket's tags as anchors of its logs: ``<archetype>/v<version>`` marks the commit that froze a
version, ``packages/<archetype>/v<version>`` the commit that published a package.

A tag in those namespaces is genuine when it is signed (SSHSIG, namespace ``git``) by a key some
policy version listed, and points at exactly the commit that recorded it: there the scope's log
ends with the recording event, and at the commit's first parent it does not yet hold it. A moved
tag (even re-signed by a legitimate key) or a forged one fails that. A genuine tag then proves the
record existed: the scope must still exist (else ``SCOPE_DELETED``) and its log must extend the
tagged one (else ``HISTORY_REWRITTEN``) — snapshot mode catches rewritten history without a base.
When the policy itself is gone, signatures are not judged (its ``SCOPE_DELETED`` is the finding).

Tags are derived anchors, never authoritative: the signed events in the tree are the truth. So
only tags that the verified head reaches are judged: a tag on another branch, on an unmerged or
closed pull request, or on a squash-merged pull request's original commit is ignored, and a pull
request never breaks another branch's verify. A record without its tag is ``TAG_MISSING``, which
the CLI shows as a note unless ``--require-tags`` (``split_missing``); ``gitdocket tags sync``
creates the tags (``recording_commits`` says where each belongs, ``tag_message`` what it says).

Does not judge tags outside gitdocket's namespaces, nor the events themselves (``snapshot`` does).
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from gitdocket.core import sshsig
from gitdocket.core.fields import SEMVER_RE
from gitdocket.core.log import Event, iter_lines, parse_line, read_log
from gitdocket.core.scopes import Scope, scope
from gitdocket.errors import DocketError, TrustError
from gitdocket.lifecycles.invariants import HISTORY_PRESERVED
from gitdocket.verify.context import Context, Pending, RefView, ScopeRecord
from gitdocket.verify.findings import Finding

__all__ = [
    "RECORDING_EVENT",
    "SYNC_HINT",
    "TagChecks",
    "check_batch_tags",
    "check_tags",
    "forged_tags",
    "genuine",
    "in_namespace",
    "policy_keys",
    "read_tags",
    "recorded_at",
    "recording_commits",
    "split_missing",
    "start_tag_checks",
    "tag_message",
    "tag_name",
    "tag_scope",
]

RECORDING_EVENT: dict[str, str] = {"version": "version_frozen", "package": "package_published"}
"""The event whose commit a scope's tag marks."""

_RESTORE = "restore the tag from a trusted clone (`git fetch --tags --force`), or delete it"

SYNC_HINT = (
    "create and sign the missing tags on the registry's default branch with `gitdocket tags sync`, "
    "then push them: `git push origin --tags` (or `gitdocket tags sync --push`)"
)


def tag_name(target: Scope[Any]) -> str:
    archetype, version = target.keys
    return f"{archetype}/v{version}" if target.kind == "version" else f"packages/{archetype}/v{version}"


def tag_message(target: Scope[Any], content_hash: str) -> str:
    """The message of a scope's tag: what was recorded, and the snapshot's content hash."""
    archetype, version = target.keys
    verb = "froze" if target.kind == "version" else "published"
    return f"docket: {verb} {archetype} {version}\n\ncontent {content_hash}"


def in_namespace(name: str) -> list[str] | None:
    """[kind, archetype, version] of a tag name in gitdocket's namespaces; None for any other."""
    parts = name.split("/")
    kind = "version"
    if len(parts) == 3 and parts[0] == "packages":
        parts, kind = parts[1:], "package"
    if len(parts) == 2 and parts[1].startswith("v") and SEMVER_RE.fullmatch(parts[1][1:]):
        return [kind, parts[0], parts[1][1:]]
    return None


def tag_scope(name: str) -> Scope[Any] | None:
    """The scope a tag in gitdocket's namespaces marks; None for any other tag."""
    found = in_namespace(name)
    if found is None:
        return None
    try:
        return scope(*found)
    except DocketError:
        return None


def policy_keys(ctx: Context) -> dict[str, Ed25519PublicKey]:
    """Every SSH key any policy version listed, by its ``type base64`` text."""
    keys: dict[str, Ed25519PublicKey] = {}
    for policy in ctx.policies:
        for identity in policy.identities.values():
            if identity.kind == "ssh" and identity.public_key:
                with contextlib.suppress(TrustError, ValueError):
                    key = sshsig.parse_public_key(identity.public_key)
                    keys[_key_id(key)] = key
    return keys


def _key_id(key: Ed25519PublicKey) -> str:
    return " ".join(sshsig.public_key_line(key).split()[:2])


def genuine(keys: list[Ed25519PublicKey], signed: tuple[bytes, bytes] | None) -> bool:
    """The tag's (signature, signed bytes) were signed by one of ``keys``. ``sshsig.verify``
    refuses a signature made by any key but the one it is given before doing any cryptography,
    so trying each key is the same question as looking the embedded key up, without parsing the
    signature twice; the key that signed last is tried first (``keys`` is reordered), so a
    registry signed by one key pays one parse and one check per tag."""
    if signed is None:
        return False
    signature, payload = signed
    for index, key in enumerate(keys):
        try:
            sshsig.verify(signature, payload, "git", key)
        except (TrustError, ValueError):
            continue
        keys.insert(0, keys.pop(index))
        return True
    return False


def _signed(keys: list[Ed25519PublicKey], refs: RefView, name: str) -> bool:
    """The tag ``name`` is signed by one of ``keys``."""
    return genuine(keys, refs.tag_signature(name))


@dataclass
class TagChecks:
    """Docket's tags and, being computed through ``ctx.runner``, whether each is signed by a key
    of some policy version: started (``start_tag_checks``) as soon as the context knows its
    policies, so that a second process checks the signatures while this one replays the logs."""

    tags: list[tuple[str, str]]
    """(name, commit) of every tag the verified head reaches."""
    targets: dict[str, Scope[Any] | None]
    judged: list[str]
    pending: Pending[bool] | None
    unreached: dict[str, str]
    """{name: commit} of the tags in gitdocket's namespaces that the head does not reach."""

    def signed(self) -> dict[str, bool]:
        if self.pending is None:
            return {}
        return dict(zip(self.judged, self.pending.result(), strict=True))

    def cancel(self) -> None:
        if self.pending is not None:
            self.pending.cancel()


def read_tags(ctx: Context, refs: RefView) -> tuple[list[tuple[str, str]], dict[str, str]]:
    """(name, commit) of every tag the verified head reaches that ``ctx`` judges, sorted by name,
    and {name: commit} of the tags in gitdocket's namespaces it does not reach."""
    head = ctx.tree.commit
    tags: list[tuple[str, str]] = []
    unreached: dict[str, str] = {}
    for name, commit in sorted(refs.tags().items()):
        if head is not None and refs.reaches(head, commit):
            tags.append((name, commit))
        elif in_namespace(name) is not None:
            unreached[name] = commit
    if ctx.focus is not None and ctx.since is not None:
        # A focused context (PR mode, ADR 0034) judges the tags of the change: those of the
        # records in focus, and any tag on a commit the base does not reach. The others are
        # refs no commit of the change moved; snapshot mode (the full audit) judges them all.
        names = {tag_name(s) for s in ctx.focus if s.kind in RECORDING_EVENT}
        since = ctx.since
        tags = [(n, c) for n, c in tags if n in names or not refs.reaches(since, c)]
    return tags, unreached


def start_tag_checks(ctx: Context) -> TagChecks | None:
    """Read the tags and start checking their signatures (None without refs). Signatures are
    only judged against a policy: without one, its ``SCOPE_DELETED`` says why."""
    refs = ctx.refs
    if refs is None:
        return None
    tags, unreached = read_tags(ctx, refs)
    targets = {name: tag_scope(name) for name, _ in tags}
    judged = [name for name, target in targets.items() if target is not None]
    pending = None
    if scope("policy") in ctx.records:
        keys = list(policy_keys(ctx).values())
        signed = [refs.tag_signature(name) for name in judged]
        pending = ctx.runner(functools.partial(genuine, keys), signed)
    return TagChecks(tags, targets, judged, pending, unreached)


def _lines(data: bytes | None) -> list[bytes]:
    return [line for _, line in iter_lines(data or b"")]


def _count(data: bytes | None) -> int:
    """How many lines ``_lines(data)`` has, without splitting."""
    if not data:
        return 0
    return data.count(b"\n") + (0 if data.endswith(b"\n") else 1)


def _known(record: ScopeRecord[Any] | None, data: bytes) -> tuple[list[bytes], list[Event]] | None:
    """The lines and parsed events of the tagged log ``data`` when it is a whole-line prefix of
    the log verified at the head (the usual case): those bytes were split and parsed there
    already, and doing it again would give the same lines and events. None when it is not (a
    rewritten log, a truncated line): then the lines are split and parsed here."""
    if record is None or (data and not data.endswith(b"\n")):
        return None
    count = data.count(b"\n")
    if count > len(record.lines):
        return None
    lines = record.lines[:count]
    if data and b"\n".join(lines) + b"\n" != data:
        return None
    return lines, record.events[:count]


def recorded_at(
    refs: RefView, commit: str, target: Scope[Any], record: ScopeRecord[Any] | None = None
) -> list[bytes] | None:
    """The scope's log up to the tagged event, when ``commit`` is the one that appended it (one
    commit may append more after it, e.g. ``gitdocket release`` freezes and packages at once).

    The scope's folder is compared first, by tree id, at ``commit`` and at its first parent: the
    log lies in that folder (``history.jsonl`` and its sealed segments), so a folder absent from
    ``commit`` holds no log, one the commit left as it was holds no appended line, and one absent
    from the parent held no line before: ``read_log`` of each would say the same, at the cost of
    reading it (a verify asks for every tag, ADR 0038)."""
    at = refs.tree_at(commit)
    folder = at.tree_id(target.path)
    parent = refs.parent(commit)
    earlier = refs.tree_at(parent) if parent is not None else None
    was = earlier.tree_id(target.path) if earlier is not None else None
    if folder is None or folder == was:
        return None
    data = read_log(at, target)
    known = _known(record, data)
    lines = known[0] if known is not None else _lines(data)
    before = _count(read_log(earlier, target)) if earlier is not None and was is not None else 0
    for index in range(before, len(lines)):
        if known is not None:
            event = known[1][index]
        else:
            try:
                event = parse_line(lines[index], target.history_path)
            except DocketError:
                return None
        if event.type == RECORDING_EVENT[target.kind]:
            return lines[: index + 1]
    return None


class _Later:
    """``_where_recorded``'s mark for a tag whose record ``_check_tag`` looks up itself."""


_LATER = _Later()
Recorded = dict[str, list[bytes] | _Later | None]


def _where_recorded(ctx: Context, refs: RefView, started: TagChecks) -> Recorded:
    """``recorded_at`` of every tag that names a scope, while the runner checks signatures:
    it only reads commits and the parsed logs, which nothing changes meanwhile. A tag whose
    commit cannot be read is left to ``_check_tag`` (which then fails where it always did)."""
    found: Recorded = {}
    for name, commit in started.tags:
        target = started.targets[name]
        if target is not None:
            try:
                found[name] = recorded_at(refs, commit, target, ctx.records.get(target))
            except Exception:  # noqa: BLE001 - re-raised by _check_tag, in order
                found[name] = _LATER
    return found


def _check_tag(
    ctx: Context,
    refs: RefView,
    verdicts: tuple[dict[str, bool], Recorded],
    tag: tuple[str, str],
    target: Scope[Any],
) -> Iterable[Finding]:
    name, commit = tag
    signed, recorded = verdicts
    where = f"refs/tags/{name}"
    if scope("policy") in ctx.records and not signed[name]:
        yield Finding(
            where,
            "TAG_MISMATCH",
            "not signed by a key of the trust policy (forged?)",
            target.label,
            hint=_RESTORE,
        )
        return
    record = ctx.records.get(target)
    known = recorded.get(name, _LATER)
    tagged = recorded_at(refs, commit, target, record) if isinstance(known, _Later) else known
    if tagged is None:
        yield Finding(
            where,
            "TAG_MISMATCH",
            f"points at {commit[:12]}, which is not the commit that recorded {target.label} (moved or forged)",
            target.label,
            hint=_RESTORE,
        )
        return
    if record is None:
        yield ctx.deleted(target, f"its signed tag {name} proves it existed")
    elif not record.broken and record.lines[: len(tagged)] != tagged:
        record.broken = True
        yield Finding(
            target.history_path,
            "HISTORY_REWRITTEN",
            f"does not extend the log its signed tag {name} recorded",
            target.label,
            HISTORY_PRESERVED,
            f"logs are append-only; restore the lines from {commit[:12]}",
        )


def check_tags(ctx: Context, started: TagChecks | None = None) -> Iterable[Finding]:
    """Every tag in gitdocket's namespaces is genuine and still matches; every frozen version and
    published package has its tag. ``started`` is ``start_tag_checks(ctx)`` when the caller
    started it early."""
    refs = ctx.refs
    started = started if started is not None else start_tag_checks(ctx)
    if refs is None or started is None:
        return
    seen: set[Scope[Any]] = set()
    recorded = _where_recorded(ctx, refs, started)
    signed = started.signed()
    for name, commit in started.tags:
        target = started.targets[name]
        if target is None:
            yield from forged_tags([(name, commit)])
            continue
        seen.add(target)
        yield from _check_tag(ctx, refs, (signed, recorded), (name, commit), target)
    yield from _untagged([record for _, record in ctx.ordered()], seen, started.unreached)


def forged_tags(tags: list[tuple[str, str]]) -> Iterable[Finding]:
    """``TAG_MISMATCH`` for each tag in gitdocket's namespaces that names no legal scope."""
    for name, _commit in tags:
        if tag_scope(name) is None and in_namespace(name) is not None:
            yield Finding(
                f"refs/tags/{name}",
                "TAG_MISMATCH",
                "tag in gitdocket's namespace names no legal scope",
                hint="delete the forged tag",
            )


def check_batch_tags(
    ctx: Context,
    keys: list[Ed25519PublicKey],
    tags: list[tuple[str, str]],
    unreached: dict[str, str],
    records: list[ScopeRecord[Any]],
) -> Iterable[Finding]:
    """``check_tags`` of one batch of a streamed verify (ADR 0036): ``tags`` are the reached tags
    naming a scope of the batch (``tag_scope`` is not None), ``records`` the batch's records,
    ``keys`` the policies' keys (``policy_keys``). Signatures are checked here, in whichever
    process judges the batch."""
    refs = ctx.refs
    if refs is None:
        return
    judged = scope("policy") in ctx.records
    signed = {name: genuine(keys, refs.tag_signature(name)) for name, _ in tags} if judged else {}
    seen: set[Scope[Any]] = set()
    for name, commit in tags:
        target = tag_scope(name)
        if target is not None:
            seen.add(target)
            yield from _check_tag(ctx, refs, (signed, {}), (name, commit), target)
    yield from _untagged(records, seen, unreached)


def _untagged(records: list[ScopeRecord[Any]], seen: set[Scope[Any]], unreached: dict[str, str]) -> Iterable[Finding]:
    """``TAG_MISSING`` for every record that holds its recording event but no tag marks."""
    for record in records:
        target = record.scope
        if target.kind not in RECORDING_EVENT or target in seen or record.broken:
            continue
        if any(e.type == RECORDING_EVENT[target.kind] for e in record.events):
            yield _missing(target, unreached.get(tag_name(target)))


def _missing(target: Scope[Any], unreached: str | None) -> Finding:
    name = tag_name(target)
    if unreached is None:
        return Finding(f"refs/tags/{name}", "TAG_MISSING", "no tag marks this record", target.label, hint=SYNC_HINT)
    return Finding(
        f"refs/tags/{name}",
        "TAG_MISSING",
        f"its tag points at {unreached[:12]}, which this head does not reach (a squash or rebase merge "
        "leaves the pull request's commit behind)",
        target.label,
        hint=f"re-create it on this branch's commit with `gitdocket tags sync --replace-orphans --push` "
        f"(or without --push, then `git push --force origin refs/tags/{name}`)",
    )


def split_missing(findings: list[Finding], require_tags: bool) -> tuple[list[Finding], list[Finding]]:
    """(findings, notes): a missing tag is drift, not a failure — a note, unless ``require_tags``
    (after a tag sync, the default branch's CI asks for them all)."""
    if require_tags:
        return findings, []
    return [f for f in findings if f.code != "TAG_MISSING"], [f for f in findings if f.code == "TAG_MISSING"]


def recording_commits(refs: RefView, head: str, wanted: dict[Scope[Any], int]) -> dict[Scope[Any], str]:
    """Where each scope's tag belongs on ``head``'s first-parent history: the commit where its log
    first holds ``wanted[scope]`` lines (the recording event's), i.e. the last first-parent
    ancestor whose own first parent holds fewer. On a default branch that is the writer's commit,
    or the merge, squash or rebased commit that brought the event in. One walk for all scopes."""
    found: dict[Scope[Any], str] = {}
    pending = dict(wanted)
    commit = head
    while pending:
        parent = refs.parent(commit)
        before = refs.tree_at(parent) if parent is not None else None
        for target, lines in list(pending.items()):
            if before is None or _count(read_log(before, target)) < lines:
                found[target] = commit
                del pending[target]
        if parent is None:
            break
        commit = parent
    return found
