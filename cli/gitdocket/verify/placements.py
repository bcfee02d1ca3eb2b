"""Cross-scope checks of the client side: placements against the packages and versions they
pin, entitlements against their placements, fork pulls against the source's versions, and (PR
mode) that a withdrawal, removal or close erased no history.

Each placement (entitlement) event that relied on another scope recorded what it saw: a
``PackageRef`` (``PlacementRef``) — the other log's seq, the hash of that line and the phase
after it. That record stays as evidence of what the signer saw; the rule checks *current* state
(``REFERENCE_IS_CURRENT``): the line must exist with that hash and phase, and it must have been
the other log's last line when the event was written. A snapshot knows that from time (no later
line of the other log may be older than the event; a withdrawal or removal among them is named
as such); PR and history mode know it from commit order (``references_at_base``: a new event may
not name a line that already had a successor at the base). Replay already proves the order
*within* each log (no install without admission, no upgrade without an admitted replacement);
these checks prove the order *across* logs. Pure, like every check.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from gitdocket.core.log import Event, head_digest
from gitdocket.core.scopes import Scope
from gitdocket.errors import Invariant
from gitdocket.lifecycles import scope
from gitdocket.lifecycles.entitlement import ENTITLEMENT_REQUIRES_INSTALLED_PLACEMENT, HISTORY_PRESERVED_ON_CLOSE
from gitdocket.lifecycles.invariants import (
    HISTORY_PRESERVED_ON_WITHDRAWAL,
    PACKAGE_REQUIRES_FROZEN_VERSION,
    REFERENCE_IS_CURRENT,
    RETIREMENT_BLOCKS_FUTURE_PACKAGING,
    WITHDRAWAL_BLOCKS_FUTURE,
)
from gitdocket.lifecycles.placement import (
    INSTALL_REQUIRES_PUBLISHED_TARGET_ADMISSION,
    PLACEMENT_IS_CONFIG_ONLY,
    PlacementState,
)
from gitdocket.lifecycles.version import FROZEN_VERSION_IMMUTABLE
from gitdocket.verify.context import Context, ScopeRecord
from gitdocket.verify.findings import Finding

__all__ = [
    "entitlement_placements",
    "fork_pulls",
    "history_kept",
    "placement_edits",
    "placement_packages",
    "ref_problems",
    "references_at_base",
]

INV13 = INSTALL_REQUIRES_PUBLISHED_TARGET_ADMISSION
INSTALLED = ENTITLEMENT_REQUIRES_INSTALLED_PLACEMENT
Problem = tuple[str, str, Invariant | None]
"""(finding code, message, the invariant it cites)."""


def ref_problems(other: ScopeRecord[Any], ref: dict[str, Any], event: Event, blocking: str) -> Iterable[Problem]:
    """(code, message, invariant) for a recorded reference into ``other``'s log."""
    seq = ref.get("seq", 0)
    if not 1 <= seq <= len(other.lines) or head_digest(other.lines[seq - 1]) != ref.get("head"):
        yield (
            "REFERENCE_BROKEN",
            f"names line {seq} of {other.scope.history_path}, which does not exist with that hash",
            None,
        )
        return
    if seq <= len(other.states) and other.states[seq - 1].phase != ref.get("phase"):
        yield (
            "REFERENCE_BROKEN",
            f"says {other.scope.label} was {ref.get('phase')} at line "
            f"{seq}; the log says {other.states[seq - 1].phase}",
            None,
        )
    for later in other.events[seq:]:
        if later.at >= event.at:
            continue  # written after the event (or in the same second): not yet there to see
        if later.type == blocking:
            yield (
                "INVARIANT_BROKEN",
                f"{event.type} at {event.at} ignores {blocking} of {other.scope.label} at {later.at}",
                WITHDRAWAL_BLOCKS_FUTURE if blocking == "package_withdrawn" else INSTALLED,
            )
        else:
            yield (
                "REFERENCE_STALE",
                f"{event.type} at {event.at} relies on line {seq} of {other.scope.history_path}, "
                f"but line {later.seq} was already written at {later.at}",
                REFERENCE_IS_CURRENT,
            )
        return


def _pinned(event: Event, after: PlacementState) -> tuple[str, str, str]:
    """(archetype, version, content hash) the event relied on."""
    data = event.data
    pin = after.pin
    assert pin is not None  # every event with a package ref leaves a pin
    if "content_hash" in data:
        return data["archetype"], data["version"], data["content_hash"]
    if "version" in data:  # an upgrade: the new pin is the replacement it relied on
        return pin.archetype, data["version"], pin.content_hash
    return pin.archetype, pin.version, pin.content_hash


def _version_problems(ctx: Context, archetype: str, version: str, content: str) -> Iterable[Problem]:
    pscope = scope("package", archetype, version)
    package = ctx.state(pscope)
    if package is None or package.manifest is None:
        yield ("REFERENCE_BROKEN", f"pins {archetype} {version}, which was never published", INV13)
        return
    if package.manifest.content_hash != content:
        yield (
            "REFERENCE_BROKEN",
            f"pins content {content} but the package says {package.manifest.content_hash}",
            FROZEN_VERSION_IMMUTABLE,
        )
    vrecord = ctx.record(scope("version", archetype, version))
    snapshot = vrecord.state.snapshot if vrecord is not None else None
    if vrecord is None or snapshot is None or snapshot.content_hash != content:
        yield (
            "REFERENCE_BROKEN",
            f"pins {archetype} {version}, whose frozen snapshot does not match",
            PACKAGE_REQUIRES_FROZEN_VERSION,
        )
        return
    types = [e.type for e in vrecord.events]
    referenced = [
        i
        for i, e in enumerate(vrecord.events)
        if e.type == "package_referenced" and e.data.get("package") == pscope.path
    ]
    retired = types.index("version_retired") if "version_retired" in types else len(types)
    if not referenced or referenced[0] > retired:
        yield (
            "INVARIANT_BROKEN",
            f"{archetype} {version} was retired before it was packaged",
            RETIREMENT_BLOCKS_FUTURE_PACKAGING,
        )


def placement_packages(ctx: Context) -> Iterable[Finding]:
    """Every package a placement relied on existed, was published (not withdrawn) at that
    moment, matches the pinned content, and comes from a frozen, then-unretired version."""
    for record in ctx.scopes("placement"):
        for event, after in record.judged:
            ref = event.data.get("package")
            if not isinstance(ref, dict) or (after.pin is not None and after.pin.vendor is not None):
                continue  # a vendor's package: ``vendors.vendor_imports`` checks it in the vendor's logs
            archetype, version, content = _pinned(event, after)
            where = f"{record.scope.history_path}:{event.seq}"
            package = ctx.record(scope("package", archetype, version))
            problems = list(_version_problems(ctx, archetype, version, content))
            if package is not None:
                problems += ref_problems(package, ref, event, "package_withdrawn")
            for code, message, invariant in problems:
                yield Finding(
                    where,
                    code,
                    message,
                    record.scope.label,
                    invariant,
                    "placement events are written by gitdocket; restore the log",
                )


def placement_edits(ctx: Context) -> Iterable[Finding]:
    """Every edit judged its config keys against what the pinned version really declares
    editable: the list the event carries is the one its frozen snapshot records (INV-24)."""
    for record in ctx.scopes("placement"):
        for index, event in enumerate(record.events):
            before = record.states[index - 1] if 0 < index <= len(record.states) else None
            if event.type != "placement_edited" or before is None or before.pin is None:
                continue
            pin = before.pin
            version = ctx.state(scope("version", pin.archetype, pin.version))
            declared = list(version.snapshot.editable) if version is not None and version.snapshot else []
            if list(event.data.get("editable", [])) != declared:
                yield Finding(
                    f"{record.scope.history_path}:{event.seq}",
                    "REFERENCE_BROKEN",
                    f"judged its config against editable keys {event.data.get('editable', [])}, but "
                    f"{pin.archetype} {pin.version} declares {declared}",
                    record.scope.label,
                    PLACEMENT_IS_CONFIG_ONLY,
                    "placement events are written by gitdocket; restore the log",
                )


def entitlement_placements(ctx: Context) -> Iterable[Finding]:
    """An entitlement exists only for a placement that was installed when it was admitted."""
    for record in ctx.scopes("entitlement"):
        placement = ctx.record(scope("placement", *record.scope.keys))
        if placement is None or not placement.events:
            yield Finding(
                record.scope.history_path,
                "REFERENCE_BROKEN",
                f"no placement {'/'.join(record.scope.keys)}",
                record.scope.label,
                INSTALLED,
                "an entitlement belongs to an installed placement",
            )
            continue
        for event, _state in record.judged:
            ref = event.data.get("placement")
            if not isinstance(ref, dict):
                continue
            problems = ref_problems(placement, ref, event, "install_removed")
            for code, message, invariant in problems:
                yield Finding(
                    f"{record.scope.history_path}:{event.seq}",
                    code,
                    message,
                    record.scope.label,
                    invariant or INSTALLED,
                    "entitlement events are written by gitdocket; restore the log",
                )


def fork_pulls(ctx: Context) -> Iterable[Finding]:
    """A fork's recorded source trees are the source versions' frozen snapshots."""
    for record in ctx.scopes("archetype"):
        for event, _state in record.judged:
            data = event.data
            version = data.get("source_version")
            tree = data.get("source_tree", data.get("method_tree"))
            if event.type not in ("forked", "pulled_from_source") or version is None:
                continue
            source = ctx.state(scope("version", data["source"], version))
            if source is None or source.snapshot is None or source.snapshot.method_tree != tree:
                yield Finding(
                    f"{record.scope.history_path}:{event.seq}",
                    "REFERENCE_BROKEN",
                    f"names {data['source']} {version}, whose frozen tree is not {tree}",
                    record.scope.label,
                    FROZEN_VERSION_IMMUTABLE,
                    "restore the log; forks copy frozen versions only",
                )


_REFS = {"placement": ("package", "package"), "entitlement": ("placement", "placement")}
"""Scope kind → (the data key of its references, the kind of scope they name)."""


def _referenced(record: ScopeRecord[Any], index: int) -> Scope[Any] | None:
    """The scope the ``index``-th event of ``record`` names a line of, or None."""
    event = record.events[index]
    key, kind = _REFS.get(record.scope.kind, ("", ""))
    if not isinstance(event.data.get(key), dict):
        return None
    if kind == "placement":
        return scope("placement", *record.scope.keys)
    if index >= len(record.states):
        return None  # the log's own replay failed; its finding says why
    archetype, version, _content = _pinned(event, record.states[index])
    return scope("package", archetype, version)


def references_at_base(base: Context, head: Context) -> Iterable[Finding]:
    """PR and history mode: every new event that names a line of another log names a line that
    was still that log's last at the base (or one added by this change): a line that already
    had a successor before the change is stale, whatever the event's time says."""
    for target, record in sorted(head.records.items()):
        if target.kind not in _REFS:
            continue
        known = base.records.get(target)
        for index in range(len(known.events) if known is not None else 0, len(record.events)):
            other = _referenced(record, index)
            before = base.records.get(other) if other is not None else None
            if other is None or before is None:
                continue
            event = record.events[index]
            seq = event.data[_REFS[target.kind][0]].get("seq", 0)
            if seq >= len(before.events):
                continue
            yield Finding(
                f"{target.history_path}:{event.seq}",
                "REFERENCE_STALE",
                f"relies on line {seq} of {other.history_path}, which already had a successor "
                f"(line {len(before.events)}) before this change",
                target.label,
                REFERENCE_IS_CURRENT,
                "events are written by gitdocket against the other log's current state; restore the log",
            )


_ENDED = {"package": ("withdrawn",), "placement": ("removed",), "entitlement": ("closed", "withdrawn")}
_INVARIANT = {
    "package": HISTORY_PRESERVED_ON_WITHDRAWAL,
    "placement": HISTORY_PRESERVED_ON_WITHDRAWAL,
    "entitlement": HISTORY_PRESERVED_ON_CLOSE,
}


def _ended(ctx: Context, record: ScopeRecord[Any]) -> bool:
    """Withdrawn, removed or closed — or a placement (entitlement) of a withdrawn package."""
    if record.state.phase in _ENDED[record.scope.kind]:
        return True
    if record.scope.kind == "entitlement":
        placement = ctx.records.get(scope("placement", *record.scope.keys))
        return placement is not None and _ended(ctx, placement)
    pin = getattr(record.state, "pin", None)
    package = ctx.state(scope("package", pin.archetype, pin.version)) if pin else None
    return package is not None and package.phase == "withdrawn"


def history_kept(base: Context, head: Context) -> Iterable[Finding]:
    """PR mode: a withdrawn package, a removed placement, a closed entitlement — at the base or
    at the head — keeps its whole log (withdrawal, removal and close are future-only, INV-18)."""
    for target, brecord in sorted(base.records.items()):
        if target.kind not in _ENDED:
            continue
        hrecord = head.records.get(target)
        if not (_ended(base, brecord) or (hrecord is not None and _ended(head, hrecord))):
            continue
        if hrecord is None:
            yield Finding(
                target.path,
                "SCOPE_DELETED",
                f"the {target.kind}'s history was erased",
                target.label,
                _INVARIANT[target.kind],
                "restore the scope from the base",
            )
        elif hrecord.lines[: len(brecord.lines)] != brecord.lines:
            yield Finding(
                target.history_path,
                "HISTORY_REWRITTEN",
                f"the {target.kind}'s history was rewritten",
                target.label,
                _INVARIANT[target.kind],
                "restore the base lines; logs are append-only",
            )
