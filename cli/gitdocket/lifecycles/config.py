"""The registry's configuration as a lifecycle of its own (ADR 0013).

``registry/registry.yaml`` decides the environments and their order, the sources each accepts, its
gate, the bundle include paths and required evidence, retention, the secret allow-list and the
protected paths; whatever the document grows is covered too, since the state holds the whole
``RegistryConfig``. The file is only the readable face: this scope (``registry/config``) is the
configuration. Writers read it from here, never from the file, and ``verify`` reports every
difference between the two (``verify.config``).

Two commands. ``ApplyConfig`` signs a document: role ``config``, which is root unless the policy
grants ``config`` to someone. ``ApprovePaths`` binds the content of protected files (a
cryptographic CODEOWNERS): every file under a protected path must hash to what an approval
signed by that path's role recorded. ``contracts/`` is always protected (role ``config``), so the
contracts a registry was written against are pinned by the same signed state. Pure.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Literal

from pydantic import Field

from gitdocket.core.documents import ProtectedPath, RegistryConfig
from gitdocket.core.fields import Sha256Hex
from gitdocket.core.model import Record
from gitdocket.core.scopes import Scope, scope
from gitdocket.errors import Invariant, InvariantError
from gitdocket.lifecycles.machine import Machine, Refusal, Transition
from gitdocket.lifecycles.policy import ROLE_NAME_VALID, ROLE_NAMES, ROLE_RE

__all__ = [
    "APPROVAL_ROLE_MATCHES",
    "CONFIG_CHANGES",
    "CONFIG_ROLE",
    "CONFIG_SCOPE",
    "CONFIG_SIGNED",
    "LIFECYCLE",
    "PINNED",
    "PROTECTED_PATHS_APPROVED",
    "ApplyData",
    "ApproveData",
    "ConfigState",
    "allow_hint",
    "guard_of",
    "protected_paths",
    "unapproved",
]

CONFIG_SCOPE: Scope[ConfigState] = scope("config")
CONFIG_ROLE = "config"
"""The role that signs configuration changes; the policy falls back to root when nobody holds it."""

PINNED: tuple[ProtectedPath, ...] = (ProtectedPath(path="contracts/", role=CONFIG_ROLE),)
"""Protected in every registry, whatever ``registry.yaml`` says: the pinned contracts."""


class ConfigState(Record):
    phase: Literal["none", "active"] = "none"
    version: int = 0
    """How many times a document was signed."""
    registry: RegistryConfig | None = None
    """What ``registry/registry.yaml`` must say."""
    approved: dict[str, Sha256Hex] = Field(default_factory=dict)
    """Every protected file's approved content: path → sha256 of its bytes."""


class ApplyData(Record):
    registry: RegistryConfig


class ApproveData(Record):
    role: str = Field(min_length=1)
    """The role that signs: the role of the protected path of every file listed."""
    files: dict[str, Sha256Hex | None] = Field(min_length=1)
    """path → sha256 of the approved bytes, or None: the file's deletion is approved."""


CONFIG_SIGNED = Invariant(
    "CONFIG_SIGNED",
    "policy",
    "the registry's configuration is signed state: registry.yaml says exactly what the last signed "
    "change says, and only a change signed by the config role (root by default) moves it",
)
PROTECTED_PATHS_APPROVED = Invariant(
    "PROTECTED_PATHS_APPROVED",
    "policy",
    "every file under a protected path (contracts/ always) has the content an approval signed by "
    "that path's role binds; an unapproved edit, addition or deletion is caught",
)
CONFIG_CHANGES = Invariant("CONFIG_CHANGES", "operational", "a configuration change or an approval changes something")
APPROVAL_ROLE_MATCHES = Invariant(
    "APPROVAL_ROLE_MATCHES",
    "structural",
    "an approval lists only files of protected paths, and is signed by the role that protects each",
)


def allow_hint(path: str) -> str:
    """What to do about a secret found at ``path``: the allow-list is signed configuration."""
    return (
        f"remove it, or allow-list exactly {path!r} in registry.yaml bundle.allow_secrets "
        "and sign that: `gitdocket config apply`"
    )


def protected_paths(registry: RegistryConfig | None) -> tuple[ProtectedPath, ...]:
    """The pinned paths, then the ones ``registry`` protects."""
    return PINNED + (registry.protected if registry is not None else ())


def _covers(guard: ProtectedPath, path: str) -> bool:
    return path.startswith(guard.path) if guard.path.endswith("/") else path == guard.path


def guard_of(guards: Iterable[ProtectedPath], path: str) -> ProtectedPath | None:
    """The protected path that decides who approves ``path``: the most specific one covering it."""
    covering = [g for g in guards if _covers(g, path)]
    return max(covering, key=lambda g: len(g.path), default=None)


def unapproved(state: ConfigState, files: Mapping[str, str]) -> dict[str, str | None]:
    """What an approval would have to bind for ``files`` (every file under a protected path, path
    → sha256) to match ``state``: changed or new files with their digest, deleted ones with None.
    Empty when everything is approved. The writers and ``verify`` both ask this."""
    guards = protected_paths(state.registry)
    out: dict[str, str | None] = {p: d for p, d in files.items() if state.approved.get(p) != d}
    out.update({p: None for p in state.approved if p not in files and guard_of(guards, p) is not None})
    return dict(sorted(out.items()))


def _check_roles(_state: ConfigState, data: ApplyData) -> None:
    for guard in data.registry.protected:
        if not ROLE_RE.fullmatch(guard.role):
            raise InvariantError(
                f"protected path {guard.path} names unknown role {guard.role!r}",
                ROLE_NAME_VALID,
                f"use one of {ROLE_NAMES}",
            )


def _check_apply(state: ConfigState, data: ApplyData) -> None:
    if state.registry == data.registry:
        raise InvariantError(
            "registry.yaml says what is signed already",
            CONFIG_CHANGES,
            "nothing to sign; edit registry/registry.yaml, commit it, then `gitdocket config apply`",
        )
    _check_roles(state, data)


def _check_approval(state: ConfigState, data: ApproveData) -> None:
    guards = protected_paths(state.registry)
    for path, digest in sorted(data.files.items()):
        guard = guard_of(guards, path)
        if guard is None:
            raise InvariantError(
                f"{path} is not under a protected path",
                APPROVAL_ROLE_MATCHES,
                "only protected paths (contracts/ and registry.yaml `protected`) are approved",
            )
        if guard.role != data.role:
            raise InvariantError(
                f"{path} is protected by {guard.role}, not {data.role}",
                APPROVAL_ROLE_MATCHES,
                f"approve it separately, signed by {guard.role}",
            )
        if state.approved.get(path) == digest:
            what = "deletion" if digest is None else "content"
            raise InvariantError(
                f"the {what} of {path} is approved already",
                CONFIG_CHANGES,
                "nothing to approve; see `gitdocket config show`",
            )


def _applied(state: ConfigState, data: ApplyData) -> ConfigState:
    return state.model_copy(update={"registry": data.registry, "version": state.version + 1})


def _approved(state: ConfigState, data: ApproveData) -> ConfigState:
    approved = {p: d for p, d in state.approved.items() if p not in data.files}
    approved.update({p: d for p, d in data.files.items() if d is not None})
    return state.model_copy(update={"approved": dict(sorted(approved.items()))})


TRANSITIONS: tuple[Transition[ConfigState, Any], ...] = (
    Transition(
        "ApplyConfig",
        "config_applied",
        ("none", "active"),
        "active",
        ApplyData,
        does="sign",
        hint="edit registry/registry.yaml, commit it, then `gitdocket config apply`",
        role=CONFIG_ROLE,
        guard=_check_apply,
        apply=_applied,
        doc="sign what registry.yaml says: the configuration writers read and verify compares",
    ),
    Transition(
        "ApprovePaths",
        "paths_approved",
        ("active",),
        None,
        ApproveData,
        does="approve protected files of",
        hint="sign the configuration first: `gitdocket config apply`",
        role="{role}",
        refusals=(Refusal(("none",), CONFIG_SIGNED),),
        guard=_check_approval,
        apply=_approved,
        doc="bind the content of protected files, signed by the role that protects them",
    ),
)


def _initial(_scope: Scope[Any]) -> ConfigState:
    return ConfigState()


LIFECYCLE: Machine[ConfigState] = Machine(
    kind="config",
    state=ConfigState,
    initial=_initial,
    subject=lambda _s: "the registry configuration",
    phases={"none": "no configuration is signed yet", "active": "it is signed"},
    transitions=TRANSITIONS,
    invariants=(CONFIG_SIGNED, PROTECTED_PATHS_APPROVED, CONFIG_CHANGES, APPROVAL_ROLE_MATCHES),
    holds=((CONFIG_SIGNED, lambda s: (s.phase == "active") == (s.registry is not None)),),
)
