"""Cross-registry operations (seed 000: crossing requires source-permit and target-admit).

The vendor side: ``root_of_registry`` (what another registry pins, or permits by), ``permit``
(the owners' source-permit for one client) and ``export`` (the signed logs a client needs, and
the method only when the crossing terms permit it). The client side: ``pin`` (root signs the
vendor's root into the policy) and ``import_package`` (one commit: the vendor's files under
``registry/vendors/<vendor>`` and the holder's install request pinning the vendor's package).
The target's admins then admit it and its holders install it with the placement commands.
Every check is ``verify.vendors``'s, asked on what the commit would hold. No printing.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from gitdocket.adapters.files import load_yaml
from gitdocket.core.canonical import loads_strict
from gitdocket.core.log import head_digest, segments
from gitdocket.core.model import first_error
from gitdocket.core.tree import Prefixed, TreeView
from gitdocket.errors import DocketError, InputError, InvariantError, NotFoundError, StateError
from gitdocket.lifecycles import scope
from gitdocket.lifecycles.invariants import CROSSING_REQUIRES_PERMIT_AND_ADMIT
from gitdocket.lifecycles.package import PackageState
from gitdocket.lifecycles.placement import Pin
from gitdocket.lifecycles.policy import POLICY_SCOPE, VENDOR_ROOT_PINNED
from gitdocket.lifecycles.vendors import VendorRoot, payload_may_cross, root_digest, vendor_folder
from gitdocket.ops.documents import registry_config
from gitdocket.ops.logs import load_log
from gitdocket.ops.transaction import Transaction
from gitdocket.verify.context import Context
from gitdocket.verify.snapshot import verify_logs
from gitdocket.verify.vendors import IMPORTED_KINDS, client_permit, crossing_problems, root_of, vendor_problems

__all__ = [
    "Pin",
    "Transaction",
    "VendorRoot",
    "export",
    "import_package",
    "parse_root",
    "permit",
    "pin",
    "pinned_package",
    "root_of_registry",
    "vendor_package",
]


def root_of_registry(tree: TreeView) -> VendorRoot:
    """This registry's root as another registry pins it (``gitdocket vendor root``)."""
    root = root_of(load_log(tree, POLICY_SCOPE).state, registry_config(tree).name)
    if root is None:
        raise StateError("the root role has no SSH key to pin", "a registry crosses by its root's SSH keys")
    return root


def parse_root(raw: bytes, path: str) -> VendorRoot:
    """A root file (``gitdocket vendor root --out FILE``), validated."""
    try:
        return VendorRoot.model_validate(loads_strict(raw, path))
    except ValidationError as exc:
        raise InputError(f"{path}: {first_error(exc, 'root')}", "pass the file `gitdocket vendor root` wrote") from exc
    except DocketError as exc:
        raise InputError(exc.message, "pass the file `gitdocket vendor root` wrote") from exc


def pin(tx: Transaction, vendor: str, root: VendorRoot) -> None:
    """Root pins (or re-pins) ``vendor``'s root in this registry's policy."""
    tx.apply(POLICY_SCOPE, "PinVendor", {"vendor": vendor, "root": root})


def permit(tx: Transaction, archetype: str, version: str, client: VendorRoot) -> str:
    """The owners permit the package to cross into ``client`` (source-permit); its root digest."""
    digest = root_digest(client)
    tx.apply(scope("package", archetype, version), "PermitClient", {"client": client.registry, "client_root": digest})
    return digest


def export(tree: TreeView, archetype: str, version: str) -> dict[str, bytes]:
    """What a client imports of ``archetype`` ``version``: the signed logs (path → bytes, at
    their paths in this registry), and the frozen method only when the terms let it cross."""
    package = load_log(tree, scope("package", archetype, version)).state
    if package.manifest is None:
        raise NotFoundError(
            f"no published package {archetype} {version}", f"publish it: `gitdocket release {archetype} {version}`"
        )
    keys = {"policy": (), "config": (), "archetype": (archetype,), "version": (archetype, version)}
    targets = [scope(kind, *keys.get(kind, (archetype, version))) for kind in IMPORTED_KINDS]
    files = {path: data for t in targets for path, data in segments(tree, t)}
    files.update({t.history_path: tree.read(t.history_path) or b"" for t in targets})
    if payload_may_cross(package.manifest.protection_posture):
        method = f"{scope('version', archetype, version).path}/method"
        for rel, _kind, _oid in tree.walk(method):
            files[f"{method}/{rel}"] = tree.read(f"{method}/{rel}") or b""
    return files


def _refuse(doing: str, problems: list[tuple[str, str, str, Any]], hint: str) -> None:
    if problems:
        path, _code, message, rule = problems[0]
        where = f" ({path})" if path.startswith("registry/vendors/") and "/registry/" in path else ""
        raise InvariantError(f"cannot {doing}: {message}{where}", rule or CROSSING_REQUIRES_PERMIT_AND_ADMIT, hint)


def vendor_package(tree: TreeView, pinned: Pin, vendor: str, verb: str) -> tuple[Context, dict[str, Any]]:
    """The vendor's records in ``tree``, checked under the pinned root and the vendor's permit
    for this registry (fail-closed), and a reference to the pinned package log's last line.
    A refusal says ``cannot <verb> <archetype> <version> from <vendor>``."""
    doing = f"{verb} {pinned.archetype} {pinned.version} from {vendor}"
    policy = load_log(tree, POLICY_SCOPE).state
    root = policy.vendors.get(vendor)
    vctx, problems = vendor_problems(tree, vendor, root, verify_logs, load_yaml)
    _refuse(doing, problems, f"root pins the vendor's root: `gitdocket vendor pin {vendor} ROOT.json`")
    permitted = client_permit(policy, registry_config(tree).name)
    found = crossing_problems(vctx, pinned.archetype, pinned.version, pinned.content_hash, permitted)
    hint = (
        "the vendor's owners permit this registry (`gitdocket vendor permit A V CLIENT-ROOT.json`, "
        "with the file `gitdocket vendor root` writes here) and export again"
    )
    _refuse(doing, found, hint)
    record = vctx.record(scope("package", pinned.archetype, pinned.version))
    assert record is not None  # crossing_problems found it published
    ref = {"seq": len(record.events), "head": head_digest(record.lines[-1]), "phase": record.state.phase}
    return vctx, ref


def _only_package(files: dict[str, bytes]) -> tuple[str, str]:
    found = sorted({tuple(p.split("/")[2:4]) for p in files if p.startswith("registry/packages/")})
    if len(found) != 1 or len(found[0]) != 2:
        raise InputError(
            f"the import holds {len(found)} packages, not one", "export one package: `gitdocket vendor export A V`"
        )
    return found[0][0], found[0][1]


def import_package(
    tx: Transaction, files: dict[str, bytes], vendor: str, project: str, name: str, until: str | None
) -> Pin:
    """One commit: ``files`` (``export``'s) under ``registry/vendors/<vendor>``, and the
    holder's request to place the vendor's package as ``project/name``, lapsing at ``until``
    (``placements.request_expiry``) unless the target admits it."""
    target = scope("placement", project, name)
    tx.check(target, "RequestInstall")  # PLACEMENT_UNIQUE, before anything is read
    if vendor not in tx.policy.vendors:
        raise InvariantError(
            f"cannot import from vendor {vendor}: its records are signed by a root this registry does not pin",
            VENDOR_ROOT_PINNED,
            f"root pins it first: `gitdocket vendor pin {vendor} ROOT.json` (the vendor prints it with "
            "`gitdocket vendor root`)",
        )
    archetype, version = _only_package(files)
    for path, data in sorted(files.items()):
        tx.put(f"{vendor_folder(vendor)}/{path}", data)
    staged = tx.staged()
    package = load_log(Prefixed(staged, vendor_folder(vendor)), scope("package", archetype, version)).state
    if package.manifest is None:
        raise InvariantError(
            f"the vendor never published {archetype} {version}", CROSSING_REQUIRES_PERMIT_AND_ADMIT, "ask the vendor"
        )
    m = package.manifest
    pinned = Pin(archetype=archetype, version=version, content_hash=m.content_hash, method_tree=m.method_tree)
    _vctx, ref = vendor_package(staged, pinned, vendor, "import")
    request = {**pinned.model_dump(), "vendor": vendor, "package": ref, "expires_at": until}
    tx.apply(target, "RequestInstall", request)
    return pinned.model_copy(update={"vendor": vendor})


def pinned_package(tree: TreeView, pinned: Pin) -> PackageState:
    """The package log's fold of a pin: this registry's, or the vendor's it came from."""
    where = Prefixed(tree, vendor_folder(pinned.vendor)) if pinned.vendor is not None else tree
    return load_log(where, scope("package", pinned.archetype, pinned.version)).state
