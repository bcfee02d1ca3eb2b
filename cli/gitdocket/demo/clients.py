"""Demo step for issue 3, the client side of a package: a vendor releases, a client project
requests, admits and installs, run-check follows the entitlement, an update appears and is taken,
a withdrawal blocks new installs while history stays, and a fork pulls from its source.

It uses only the step interface (``say``, ``run``, ``key``, ``registry``) and creates what it
needs — the client's identities and roles, fresh versions numbered after whatever exists — so it
does not depend on the exact state earlier steps left.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

from gitdocket.adapters.signing import KeySigner
from gitdocket.core import sshsig
from gitdocket.core.fields import semver_key
from gitdocket.core.tree import TreeView
from gitdocket.lifecycles import scope
from gitdocket.lifecycles.policy import POLICY_SCOPE
from gitdocket.ops.logs import load_log
from gitdocket.ops.session import Session

__all__ = ["ARCHETYPE", "PROJECT", "run"]

ARCHETYPE = "support-triage"
PROJECT = "acme"
FAR_FUTURE = "2099-01-01T00:00:00Z"


class Demo(Protocol):
    registry: Path

    def say(self, text: str) -> None: ...

    def run(self, *args: str, key: str = "alice", expect: int = 0) -> str: ...

    def key(self, name: str) -> Any: ...

    def write(self, path: Path, text: str) -> None: ...

    def git(self, *args: str | Path) -> str: ...


def _snapshot(demo: Demo) -> TreeView:
    """The registry as it stands (read quietly: the narration shows only what matters)."""
    return Session(Path(demo.registry)).snapshot()


def _people(demo: Demo) -> None:
    """bob holds and admins project acme; carol is acme's entitlement authority."""
    policy = load_log(_snapshot(demo), POLICY_SCOPE).state
    if "bob" not in policy.identities or "carol" not in policy.identities:
        demo.say(
            "Two more people join: bob holds and administers the client project acme; carol "
            "is acme's entitlement authority. Each change is a signed policy event by root."
        )
    for name in ("bob", "carol"):
        if name not in policy.identities:
            line = sshsig.public_key_line(KeySigner.from_file(demo.key(name)).public_key)
            demo.run("policy", "add-identity", name, line)
    for role, name in (
        (f"holders:{PROJECT}", "bob"),
        (f"admins:{PROJECT}", "bob"),
        (f"authorities:{PROJECT}", "carol"),
    ):
        held = policy.roles.get(role)
        if held is None or name not in held.principals:
            demo.run("policy", "grant", role, name)


def _next_versions(demo: Demo) -> tuple[str, str]:
    """Two new minor versions after every version the archetype already has."""
    versions = _snapshot(demo).listdir(f"registry/versions/{ARCHETYPE}") or ["0.0.0"]
    major, minor, _ = max(versions, key=semver_key).partition("-")[0].split(".")
    return f"{major}.{int(minor) + 1}.0", f"{major}.{int(minor) + 2}.0"


def _free_name(taken: set[str], wanted: str) -> str:
    name, n = wanted, 1
    while name in taken:
        n += 1
        name = f"{wanted}-{n}"
    return name


def _install(demo: Demo, address: str, first: str) -> None:
    demo.say(f"The vendor releases {ARCHETYPE} {first}: freeze and publish in one signed commit.")
    demo.run("release", ARCHETYPE, first)
    demo.say(
        "A client project, acme, places it. bob (a holder of acme) requests it; as acme's "
        "admin he admits the exact content; then installs it. Deployment is target "
        "admission, never a push."
    )
    demo.run("placement", "request", ARCHETYPE, first, "--project", PROJECT, "--name", address.split("/")[1], key="bob")
    demo.run("placement", "admit", address, key="bob")
    demo.run("placement", "install", address, key="bob")
    demo.say("Installing grants no run authority: run-check says why it may not run (exit 1).")
    demo.run("run-check", address, expect=1)


def _entitle(demo: Demo, address: str) -> None:
    demo.say(
        "bob asks for a deployment entitlement; a billing receipt is recorded as evidence "
        "only. carol, acme's entitlement authority, activates it."
    )
    demo.run("entitlement", "request", address, key="bob")
    demo.run("entitlement", "receipt", address, "--kind", "billing", "--ref", "INV-2026-001", key="bob")
    demo.run("entitlement", "activate", address, "--expires", FAR_FUTURE, key="carol")
    demo.run("run-check", address)
    demo.say(
        "The verdict is a pure function of recorded state and a time: after the expiry it "
        "is Expired; while suspended it is Blocked."
    )
    demo.run("run-check", address, "--at", "2100-01-01T00:00:00Z", expect=1)
    demo.run("entitlement", "suspend", address, "--reason", "invoice overdue", key="carol")
    demo.run("run-check", address, expect=1)
    demo.run("entitlement", "resume", address, key="carol")


def _upgrade(demo: Demo, address: str, second: str) -> None:
    demo.say("The vendor improves the method with an ordinary commit to the draft.")
    method = Path(demo.registry) / "registry" / "archetypes" / ARCHETYPE / "method" / "instructions.md"
    demo.write(method, "- Reply in the customer's language.")
    demo.git("commit", "--quiet", "-am", f"{ARCHETYPE}: reply in the customer's language")
    demo.say(f"The vendor releases {second}. The placement stays pinned; status shows the update.")
    demo.run("release", ARCHETYPE, second)
    demo.run("placement", "status", address)
    demo.say(
        "Upgrading is explicit: the owner offers the replacement, acme's admin admits it, "
        "the holder upgrades. Running the upgrade again changes nothing."
    )
    demo.run("placement", "offer", address, "--to", second)
    demo.run("placement", "admit", address, "--to", second, key="bob")
    demo.run("placement", "upgrade", address, "--to", second, key="bob")
    demo.run("placement", "upgrade", address, "--to", second, key="bob")
    demo.run("run-check", address)


def _withdraw(demo: Demo, address: str, second: str) -> None:
    demo.say(
        f"The vendor withdraws {second}. Future-only: new installs are refused and the "
        "placement may no longer run, but every record stays."
    )
    demo.run("package", "withdraw", ARCHETYPE, second, "--reason", "found a prompt-injection path")
    demo.run("run-check", address, expect=1)
    demo.run(
        "placement",
        "request",
        ARCHETYPE,
        second,
        "--project",
        PROJECT,
        "--name",
        address.split("/")[1] + "-2",
        key="bob",
        expect=1,
    )
    demo.run("placement", "list")


def _reject(demo: Demo, first: str) -> None:
    placed = {n for n in _snapshot(demo).listdir(f"registry/placements/{PROJECT}")}
    name = _free_name(placed, "trial")
    demo.say(
        f"A request can also end without an install: bob asks for {PROJECT}/{name}, which expires "
        "in 14 days unless admitted; as admin he rejects it. The log keeps the request."
    )
    args = ("--project", PROJECT, "--name", name, "--expires", "14d")
    demo.run("placement", "request", ARCHETYPE, first, *args, key="bob")
    demo.run("placement", "reject", f"{PROJECT}/{name}", "--reason", "not this quarter", key="bob")
    demo.run("placement", "status", f"{PROJECT}/{name}")


def _owners(demo: Demo) -> None:
    if "bob" in load_log(_snapshot(demo), scope("archetype", "release-notes")).state.owners:
        return
    demo.say(
        "Owners change under their own threshold (one signature here): alice makes bob a co-owner of release-notes."
    )
    demo.run("archetype", "owners", "release-notes", "--add", "bob")


def _fork(demo: Demo, first: str) -> None:
    fork = _free_name(set(_snapshot(demo).listdir("registry/archetypes")), "triage-eu")
    demo.say(
        f"Only an owner may fork. alice forks {ARCHETYPE} {first} into {fork}, an "
        "independent archetype that records where it came from."
    )
    demo.run("archetype", "fork", ARCHETYPE, fork, "--from-version", first)
    demo.say(
        "pull-from-source three-way-merges the source's newest frozen version into the "
        "fork's draft — cleanly, or it refuses with the conflicting paths and writes nothing."
    )
    demo.run("archetype", "pull-from-source", fork)
    demo.run("archetype", "tree")


def run(demo: Demo) -> None:
    """The client side of a package, start to finish."""
    _people(demo)
    first, second = _next_versions(demo)
    placed = {f"{PROJECT}/{n}" for n in _snapshot(demo).listdir(f"registry/placements/{PROJECT}")}
    address = _free_name(placed, f"{PROJECT}/triage")
    _install(demo, address, first)
    _entitle(demo, address)
    _upgrade(demo, address, second)
    _withdraw(demo, address, second)
    _reject(demo, first)
    _owners(demo)
    _fork(demo, first)
