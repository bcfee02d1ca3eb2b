"""Another registry's records inside this one: a vendor's logs, checked offline under the root
this registry's policy pins for it, and the crossings that rely on them.

A client keeps what it imported of a vendor under ``registry/vendors/<vendor>/``, at the paths
the files have in the vendor's registry: the policy, configuration, archetype, version and
package logs, and the frozen method only where the package's crossing terms permit it. Those
logs are read with the same ``Context`` and checked with the same chain, replay and signature
rules as this registry's own (``check_logs``, passed in by ``snapshot``), under the vendor's own
policy, whose root must be the pinned one (``VENDOR_ROOT_PINNED``). A placement pinning a vendor
package relies on the vendor's permit for this registry (``CROSSING_REQUIRES_PERMIT_AND_ADMIT``);
the admission and the install are the placement track's. The writers (``ops.vendors``) ask the
same functions before they write. Pure.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from gitdocket.core.documents import Parser
from gitdocket.core.log import SEGMENT_NAME_RE
from gitdocket.core.scopes import HISTORY, SEGMENTS, parse_scope_path
from gitdocket.core.tree import Prefixed, TreeView
from gitdocket.errors import Invariant
from gitdocket.lifecycles import scope
from gitdocket.lifecycles.invariants import (
    CROSSING_REQUIRES_PERMIT_AND_ADMIT,
    PAYLOAD_CROSSES_ONLY_BY_TERMS,
)
from gitdocket.lifecycles.placement import INSTALL_REQUIRES_PUBLISHED_TARGET_ADMISSION
from gitdocket.lifecycles.policy import VENDOR_ROOT_PINNED, PolicyState
from gitdocket.lifecycles.vendors import (
    VENDORS,
    Permit,
    VendorKey,
    VendorRoot,
    payload_may_cross,
    root_digest,
    vendor_folder,
)
from gitdocket.verify.context import Context
from gitdocket.verify.findings import Finding
from gitdocket.verify.placements import ref_problems

__all__ = [
    "IMPORTED_KINDS",
    "LogCheck",
    "Problem",
    "client_permit",
    "crossing_problems",
    "registry_name",
    "root_of",
    "vendor_context",
    "vendor_imports",
    "vendor_problems",
]

LogCheck = Callable[[Context], list[Finding]]
"""Chain, replay and signatures of every log of a context (``snapshot.verify_logs``)."""
Problem = tuple[str, str, str, Invariant | None]
"""(path, finding code, message, invariant)."""
IMPORTED_KINDS = ("policy", "config", "archetype", "version", "package")
"""The scopes of a vendor whose logs a client imports: what it takes to check a package offline."""
_HINT = "import it again from the vendor (`gitdocket vendor import`); the vendor's files are never edited"


def registry_name(ctx: Context) -> str | None:
    """The registry's name as its signed configuration says."""
    state = ctx.state(scope("config"))
    return state.registry.name if state is not None and state.registry is not None else None


def root_of(policy: PolicyState, registry: str) -> VendorRoot | None:
    """``policy``'s root as another registry pins it (None without an SSH root)."""
    role = policy.roles.get("root")
    if role is None:
        return None
    keys = []
    for name in role.principals:
        identity = policy.identities.get(name)
        if identity is None or identity.public_key is None:
            return None
        keys.append(VendorKey(name=name, public_key=" ".join(identity.public_key.split()[:2])))
    return VendorRoot(registry=registry, keys=tuple(keys), threshold=role.threshold)


def client_permit(policy: PolicyState, registry: str) -> Permit | None:
    """The permit a vendor must have signed for this registry under ``policy`` (its root)."""
    root = root_of(policy, registry)
    return Permit(client=registry, client_root=root_digest(root)) if root is not None else None


def vendor_context(tree: TreeView, vendor: str, parse_yaml: Parser) -> Context:
    return Context(Prefixed(tree, vendor_folder(vendor)), parse_yaml=parse_yaml)


def _files(vctx: Context, folder: str) -> Iterable[Problem]:
    """Only the imported logs (with their sealed segments), and methods under versions (judged by
    ``_payload``)."""
    for rel, _kind, _oid in vctx.tree.walk(""):
        parts = rel.split("/")
        segment = len(parts) > 2 and parts[-2] == SEGMENTS and SEGMENT_NAME_RE.fullmatch(parts[-1]) is not None
        folder = "/".join(parts[:-2] if segment else parts[:-1])
        found = parse_scope_path(folder) if segment or parts[-1] == HISTORY else None
        if found is not None and found.kind in IMPORTED_KINDS:
            continue
        if len(parts) > 5 and parts[:2] == ["registry", "versions"] and parts[4] == "method":
            continue
        yield (f"{folder}/{rel}", "UNEXPECTED_FILE", "is not a log a client imports", None)


def _payload(vctx: Context, folder: str) -> Iterable[Problem]:
    """A method crossed only where the package's terms permit it, and exactly as frozen."""
    for archetype in vctx.tree.listdir("registry/versions"):
        for version in vctx.tree.listdir(f"registry/versions/{archetype}"):
            method = f"registry/versions/{archetype}/{version}/method"
            if vctx.tree.kind(method) is None:
                continue
            package = vctx.state(scope("package", archetype, version))
            manifest = package.manifest if package is not None else None
            where = f"{folder}/{method}"
            if manifest is None or not payload_may_cross(manifest.protection_posture):
                yield (
                    where,
                    "PAYLOAD_CROSSED",
                    "the package's crossing terms keep the method with the vendor",
                    PAYLOAD_CROSSES_ONLY_BY_TERMS,
                )
            elif vctx.tree.tree_id(method) != manifest.method_tree:
                yield (
                    where,
                    "PAYLOAD_CROSSED",
                    f"is not the frozen tree {manifest.method_tree}",
                    PAYLOAD_CROSSES_ONLY_BY_TERMS,
                )


def vendor_problems(
    tree: TreeView, vendor: str, pin: VendorRoot | None, check_logs: LogCheck, parse_yaml: Parser
) -> tuple[Context, list[Problem]]:
    """The vendor's imported logs under ``tree``'s ``registry/vendors/<vendor>``, checked
    offline under ``pin``: every log chains, replays and is signed under the vendor's policy,
    and that policy's root is the pinned one. Returns the vendor's context and what is wrong."""
    folder = vendor_folder(vendor)
    vctx = vendor_context(tree, vendor, parse_yaml)
    if pin is None:
        why = f"vendor {vendor} is not pinned: this registry's policy names no root for it"
        return vctx, [(folder, "VENDOR_UNTRUSTED", why, VENDOR_ROOT_PINNED)]
    problems: list[Problem] = [
        (f"{folder}/{f.path}", "VENDOR_UNTRUSTED", f"{f.code}: {f.message}", VENDOR_ROOT_PINNED)
        for f in [*vctx.findings, *check_logs(vctx)]
    ]
    name = registry_name(vctx)
    if name != pin.registry:
        problems.append(
            (folder, "VENDOR_UNTRUSTED", f"is registry {name!r}, not the pinned {pin.registry!r}", VENDOR_ROOT_PINNED)
        )
    elif root_of(vctx.policies[-1], name) != pin:
        problems.append(
            (
                folder,
                "VENDOR_UNTRUSTED",
                f"is signed by a root this registry does not pin for {vendor}",
                VENDOR_ROOT_PINNED,
            )
        )
    problems += [*_files(vctx, folder), *_payload(vctx, folder)]
    return vctx, problems


def crossing_problems(
    vctx: Context, archetype: str, version: str, content: str, permit: Permit | None
) -> list[Problem]:
    """May the vendor's ``archetype`` ``version`` with ``content`` cross into the registry that
    ``permit`` names? Published, frozen with that content, and permitted for that client."""
    path = f"registry/packages/{archetype}/{version}"
    package = vctx.state(scope("package", archetype, version))
    manifest = package.manifest if package is not None else None
    if package is None or manifest is None:
        why = f"the vendor never published {archetype} {version}"
        return [(path, "REFERENCE_BROKEN", why, INSTALL_REQUIRES_PUBLISHED_TARGET_ADMISSION)]
    snapshot = vctx.state(scope("version", archetype, version))
    problems: list[Problem] = []
    if (
        manifest.content_hash != content
        or snapshot is None
        or snapshot.snapshot is None
        or (snapshot.snapshot.content_hash != content)
    ):
        why = f"pins content {content}, which is not the vendor's frozen, published {archetype} {version}"
        problems.append((path, "REFERENCE_BROKEN", why, CROSSING_REQUIRES_PERMIT_AND_ADMIT))
    if permit is None or permit not in package.permits:
        client = permit.client if permit is not None else "this registry"
        why = f"the vendor did not permit {archetype} {version} for {client} under its current root"
        problems.append((path, "CROSSING_NOT_PERMITTED", why, CROSSING_REQUIRES_PERMIT_AND_ADMIT))
    return problems


def _crossings(ctx: Context, contexts: dict[str, Context]) -> Iterable[Finding]:
    """Every placement event relying on a vendor package: the vendor permitted it for this
    registry (under the root in force when the event was written), it is the frozen, published
    content, and the line it names exists (``ref_problems``, as for local packages)."""
    name = registry_name(ctx) or ""
    for record in ctx.scopes("placement"):
        for event, after in record.judged:
            ref = event.data.get("package")
            pin = after.pin
            if not isinstance(ref, dict) or pin is None or pin.vendor is None:
                continue
            where = f"{record.scope.history_path}:{event.seq}"
            vctx = contexts.get(pin.vendor)
            if vctx is None:
                yield Finding(
                    where,
                    "VENDOR_UNTRUSTED",
                    f"pins vendor {pin.vendor}, whose records are not here",
                    record.scope.label,
                    VENDOR_ROOT_PINNED,
                    _HINT,
                )
                continue
            policy = ctx.policy_at(event.policy_version) or PolicyState()
            problems = crossing_problems(
                vctx, pin.archetype, pin.version, pin.content_hash, client_permit(policy, name)
            )
            for _path, code, message, rule in problems:
                yield Finding(where, code, message, record.scope.label, rule, _HINT)
            package = vctx.record(scope("package", pin.archetype, pin.version))
            if package is not None:
                for code, message, rule in ref_problems(package, ref, event, "package_withdrawn"):
                    yield Finding(where, code, message, record.scope.label, rule, _HINT)


def vendor_imports(ctx: Context, check_logs: LogCheck) -> Iterable[Finding]:
    """Every vendor's imported records verify under its pinned root, and every crossing that
    relies on them was permitted."""
    policy = ctx.policies[-1]
    contexts: dict[str, Context] = {}
    for vendor in ctx.tree.listdir(VENDORS):
        vctx, problems = vendor_problems(ctx.tree, vendor, policy.vendors.get(vendor), check_logs, ctx.parse_yaml)
        contexts[vendor] = vctx
        for path, code, message, rule in problems:
            yield Finding(path, code, message, f"vendor {vendor}", rule, _HINT)
    yield from _crossings(ctx, contexts)
