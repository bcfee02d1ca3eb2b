"""``gitdocket verify``: questions return findings, never exceptions.

- ``snapshot`` (default): every log parses, chains, is signed and authorized, replays legally
  through ``decide``; every ``current.json`` equals the fold byte for byte; every kind's own
  checks (``CHECKS``) and cross-scope references hold.
- ``pr`` (``--base``): snapshot on head, plus append-only logs, no deleted scopes, no changed
  immutable files, new events authorized under the base policy. The base is taken as verified
  and only what the change touched is judged (``changes``, ADR 0034).
- ``history`` (``--since``): ``pr`` for each first-parent step.

Add a check by listing a function ``(Context) -> Iterable[Finding]`` in ``snapshot.CHECKS`` (or
``(base, head) -> Iterable[Finding]`` in ``pr.PR_CHECKS``); checks only read the context, and
importing a module registers nothing. Pure: the repository is
seen through ``TreeView`` and ``RefView``, YAML documents are read by the parser the caller passes
(``parse_yaml``: the CLI passes ``adapters.files.load_yaml``), and a ``Runner`` (default: in this
process; the CLI passes ``forking.forked``) computes the independent parts, such as signature
checks, wherever it likes: the findings are the same.

The names below are imported on first use (PEP 562), not with the package: a read that needs
one check (``deployments resolve`` asks ``verify.deployments``) does not build every lifecycle
the snapshot's checks need (ADR 0035).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gitdocket.verify.context import Context, RefView
    from gitdocket.verify.findings import Finding
    from gitdocket.verify.snapshot import CHECKS, verify_context
    from gitdocket.verify.stream import verify_snapshot

__all__ = ["CHECKS", "Context", "Finding", "RefView", "verify_context", "verify_snapshot"]


def __getattr__(name: str) -> object:
    if name in ("Context", "RefView"):
        from gitdocket.verify import context

        return getattr(context, name)
    if name == "Finding":
        from gitdocket.verify.findings import Finding

        return Finding
    if name in ("CHECKS", "verify_context"):
        from gitdocket.verify import snapshot

        return getattr(snapshot, name)
    if name == "verify_snapshot":
        from gitdocket.verify.stream import verify_snapshot

        return verify_snapshot
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
