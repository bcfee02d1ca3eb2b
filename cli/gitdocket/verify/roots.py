"""The pinned Sigstore trusted roots (``TRUSTED_ROOT_PINNED``): every file in
``registry/policy/trusted-roots/`` is named by its content's sha256 and pinned by a signed policy
event, and every root a policy version pins is there. A root file edited, added or removed by hand
is reported here: keyless signatures are checked against these files, so an unsigned one would
let anyone choose whom to trust. Pure: reads the snapshot and the policy's versions. Whether a
file is a usable trusted root is the keyless check's question (its failure is the signature's
finding)."""

from __future__ import annotations

from collections.abc import Iterable

from gitdocket.core.canonical import sha256_hex
from gitdocket.lifecycles.policy import TRUSTED_ROOT_DIR, TRUSTED_ROOT_PINNED, trusted_root_path
from gitdocket.verify.context import Context
from gitdocket.verify.findings import Finding

__all__ = ["trusted_roots"]

_HINT = "pin a trusted root only with `gitdocket policy pin-root FILE` (a signed policy event)"


def _finding(path: str, message: str, hint: str = _HINT) -> Finding:
    return Finding(path, "TRUSTED_ROOT_UNSIGNED", message, "policy", TRUSTED_ROOT_PINNED, hint)


def trusted_roots(ctx: Context) -> Iterable[Finding]:
    pinned = {p.trusted_root for p in ctx.policies if p.trusted_root is not None}
    kind = ctx.tree.kind(TRUSTED_ROOT_DIR)
    if kind is not None and kind != "tree":
        yield _finding(TRUSTED_ROOT_DIR, "is not a folder")
        return
    names = ctx.tree.listdir(TRUSTED_ROOT_DIR) if kind == "tree" else []
    for name in names:
        path = f"{TRUSTED_ROOT_DIR}/{name}"
        digest = "sha256:" + name.removesuffix(".json")
        raw = ctx.tree.read(path)
        if digest not in pinned or not name.endswith(".json"):
            yield _finding(path, "no signed policy event pins this trusted root")
        elif raw is None or "sha256:" + sha256_hex(raw) != digest:
            yield _finding(path, "the trusted root was edited after a signed policy event pinned it")
    for digest in sorted(pinned):
        path = trusted_root_path(digest)
        if path.rsplit("/", 1)[-1] not in names:
            yield _finding(path, f"is gone, but the policy pins it ({digest})", f"restore {path} from git history")
