"""Hypothesis over the package-distribution lifecycle as gitdocket splits it: the package scope
(publish, withdraw) and the placement scope (the install track), joined the way the operations
join them — every placement command carries what the package log says at that moment.

After every step: the machine's own invariants hold, ``replay(history) == current``, and the
seed's invariants hold over the *pair* of scopes. A mutant without guards must be caught by the
same checks (the property test has teeth)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from hypothesis import HealthCheck, find, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from gitdocket.core.scopes import scope
from gitdocket.errors import InvariantError
from gitdocket.lifecycles.eligibility import verdict
from gitdocket.lifecycles.entitlement import LIFECYCLE as ENTITLEMENT
from gitdocket.lifecycles.machine import Machine
from gitdocket.lifecycles.package import LIFECYCLE as PACKAGE
from gitdocket.lifecycles.package import PackageState
from gitdocket.lifecycles.placement import LIFECYCLE as PLACEMENT
from gitdocket.lifecycles.placement import PlacementState, method_surface_key

VERSIONS = ("1.0.0", "1.1.0", "1.2.0")
HASHES = {v: "sha256:" + str(i + 1) * 64 for i, v in enumerate(VERSIONS)}
TREES = {v: "abc"[i] * 40 for i, v in enumerate(VERSIONS)}
SCOPE = scope("placement", "acme", "triage")
PACKAGE_REFS = {
    "RequestInstall",
    "InstallPackage",
    "NoteRunEligible",
    "PublishReplacement",
    "AdmitUpgrade",
    "AutoUpgrade",
}

WEIGHTS = {
    "publish": 8,
    "RequestInstall": 4,
    "TargetAdmitInstall": 6,
    "InstallPackage": 8,
    "PublishReplacement": 10,
    "TargetAdmitReplacement": 8,
    "AdmitUpgrade": 8,
    "AutoUpgrade": 4,
    "EditPlacement": 4,
    "NoteRunEligible": 2,
    "DisableInstall": 1,
    "RemoveInstall": 1,
    "RejectOrExpire": 1,
    "withdraw": 2,
}
"""Progress is likelier than ending the track, so long sequences reach upgrades."""
COMMANDS = st.tuples(
    st.sampled_from([name for name, weight in WEIGHTS.items() for _ in range(weight)]),
    st.sampled_from(VERSIONS),
    st.sampled_from(["tone", "skills", "model", "notes-only", "opt-in", "opt-out"]),
)


def manifest(version: str) -> dict[str, Any]:
    return {
        "archetype": "support-triage",
        "version": version,
        "content_hash": HASHES[version],
        "method_tree": TREES[version],
        "publisher": "alice",
        "protection_posture": {"deployment_mode": "private/federated"},
    }


@dataclass
class World:
    """One archetype's packages and one placement, driven like the ops layer drives them."""

    machine: Machine[PlacementState] = PLACEMENT
    packages: dict[str, PackageState] = field(
        default_factory=lambda: {v: PACKAGE.initial(scope("package", "support-triage", v)) for v in VERSIONS}
    )
    seqs: dict[str, int] = field(default_factory=lambda: dict.fromkeys(VERSIONS, 0))
    placement: PlacementState = field(default_factory=lambda: PLACEMENT.initial(SCOPE))
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    accepted: list[tuple[str, dict[str, Any], dict[str, str]]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def ref(self, version: str) -> dict[str, Any]:
        return {"seq": max(1, self.seqs[version]), "head": "sha256:" + "0" * 64, "phase": self.packages[version].phase}

    def package(self, command: str, version: str) -> None:
        data = manifest(version) if command == "PublishPackage" else {"reason": "r"}
        try:
            decision = PACKAGE.decide(self.packages[version], command, data)
        except InvariantError:
            return
        before = self.placement
        self.packages[version] = PACKAGE.evolve(self.packages[version], decision.type, decision.data)
        self.seqs[version] += 1
        if self.placement != before:
            self.problems.append("HISTORY_PRESERVED_ON_WITHDRAWAL: a package event changed a placement")

    def data(self, command: str, version: str, key: str) -> dict[str, Any]:
        pinned = self.placement.pin.version if self.placement.pin else version
        offered = self.placement.replacement
        # mostly upgrade to what was offered; sometimes to an arbitrary version (must be refused)
        target = offered.version if offered and key != "tone" else version
        published = [v for v in VERSIONS if self.packages[v].phase == "published"]
        if key != "tone" and published:  # mostly a published version; sometimes any version
            version = published[0] if command == "RequestInstall" else published[-1]
        request = {
            "archetype": "support-triage",
            "version": version,
            "content_hash": HASHES[version],
            "method_tree": TREES[version],
            "package": self.ref(version),
        }
        edits = {
            "tone": {"config": {"tone": "formal"}},
            "skills": {"config": {"skills": []}},
            "model": {"config": {"model": "x"}},
            "notes-only": {"notes": "n"},
            "opt-in": {"auto_upgrade": True},
            "opt-out": {"auto_upgrade": False},
        }
        return {
            "RequestInstall": request,
            "PublishReplacement": request,
            "TargetAdmitInstall": {"content_hash": HASHES[pinned]},
            "InstallPackage": {"package": self.ref(pinned)},
            "NoteRunEligible": {"package": self.ref(pinned)},
            "TargetAdmitReplacement": {"version": target, "content_hash": HASHES[target]},
            "AdmitUpgrade": {"version": target, "package": self.ref(target)},
            "AutoUpgrade": {"archetype": "support-triage", "version": target, "package": self.ref(target)},
            "EditPlacement": edits[key],
        }.get(command, {"reason": "r"})

    def step(self, command: str, version: str, key: str) -> None:
        if command in ("publish", "withdraw"):
            self.package("PublishPackage" if command == "publish" else "WithdrawPackage", version)
            return
        data = self.data(command, version, key)
        try:
            decision = self.machine.decide(self.placement, command, data)
        except InvariantError:
            return
        truth = {v: p.phase for v, p in self.packages.items()}
        self.accepted.append((command, decision.data, truth))
        self.events.append((decision.type, decision.data))
        self.placement = self.machine.evolve(self.placement, decision.type, decision.data)
        self.problems.extend(self.seed_invariants())

    def seed_invariants(self) -> list[str]:
        found: list[str] = []
        state = self.placement
        command, data, truth = self.accepted[-1]
        if command in PACKAGE_REFS:
            version = data.get("version") or (state.pin.version if state.pin else "")
            if truth.get(version) != "published":
                found.append(f"WITHDRAWAL_BLOCKS_FUTURE: {command} on a {truth.get(version)} package")
        if state.installed and not state.target_admitted:
            found.append("INSTALL_REQUIRES_PUBLISHED_TARGET_ADMISSION")
        admissions = [c for c, _, _ in self.accepted if c == "TargetAdmitInstall"]
        if command == "InstallPackage" and not admissions:
            found.append("INSTALL_REQUIRES_PUBLISHED_TARGET_ADMISSION: installed without admission")
        if command in ("AdmitUpgrade", "AutoUpgrade"):
            admitted = any(
                c == "TargetAdmitReplacement" and d["version"] == data["version"] for c, d, _ in self.accepted[:-1]
            )
            opted = any(c == "EditPlacement" and d.get("auto_upgrade") for c, d, _ in self.accepted)
            if not (admitted or (command == "AutoUpgrade" and opted)):
                found.append("UPGRADE_REQUIRES_REPLACEMENT_ADMISSION")
        if state.ever_installed and not (state.installed or state.phase == "removed"):
            found.append("HISTORY_PRESERVED_ON_WITHDRAWAL")
        if any(method_surface_key(k) for k in state.config):
            found.append("PLACEMENT_IS_CONFIG_ONLY")
        return found

    def check(self) -> list[str]:
        problems = list(self.problems)
        problems += self.machine.broken_invariants(self.placement)
        if PLACEMENT.replay(SCOPE, self.events) != self.placement:
            problems.append("replay(history) != current")
        pin = self.placement.pin
        package = self.packages[pin.version if pin else VERSIONS[0]]
        no_entitlement = ENTITLEMENT.initial(scope("entitlement", "acme", "triage"))
        at = datetime(2026, 1, 1, tzinfo=UTC)
        if verdict(self.placement, no_entitlement, package, at).eligible:
            problems.append("INSTALL_DOES_NOT_GRANT_PAYLOAD_OR_RUN: install alone made it eligible")
        return problems


class PlacementMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.world = World()

    @rule(command=COMMANDS)
    def act(self, command: tuple[str, str, str]) -> None:
        self.world.step(*command)

    @invariant()
    def seed_invariants_hold(self) -> None:
        assert self.world.check() == []


PlacementMachine.TestCase.settings = settings(max_examples=200, stateful_step_count=50, deadline=None)
TestPlacementStateful = PlacementMachine.TestCase


def run_world(machine: Machine[PlacementState], commands: list[tuple[str, str, str]]) -> list[str]:
    world = World(machine=machine)
    for command in commands:
        world.step(*command)
    return world.check()


def test_a_mutant_without_guards_is_caught() -> None:
    """Teeth of the property test: drop the guards and the checks find a violation."""
    mutant = Machine(
        kind="placement",
        state=PlacementState,
        initial=PLACEMENT.initial,
        subject=PLACEMENT.subject,
        phases=PLACEMENT.phases,
        transitions=tuple(replace(row, guard=None) for row in PLACEMENT.transitions),
        invariants=PLACEMENT.invariants,
        holds=PLACEMENT.holds,
    )
    bad = find(
        st.lists(COMMANDS, max_size=12),
        lambda cmds: bool(run_world(mutant, cmds)),
        settings=settings(max_examples=2000, deadline=None, database=None, suppress_health_check=list(HealthCheck)),
    )
    assert run_world(mutant, bad)
    assert run_world(PLACEMENT, bad) == []
