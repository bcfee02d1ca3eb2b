"""Random command sequences through the version, package (publish side), archetype and policy
lifecycles (see ``lifecycle_machine`` for what is checked after every step)."""

from __future__ import annotations

from typing import Any

from gitdocket.lifecycles.policy import Role
from tests.factories import (
    ARCHETYPE,
    PACKAGE,
    POLICY,
    TREE,
    TREE2,
    VERSION,
    identity,
    package_manifest,
    snapshot,
)
from tests.property.lifecycle_machine import SETTINGS, Command, LifecycleMachine

TREE3 = "3" * 40
OTHER_PACKAGE = "registry/packages/support-triage-eu/1.0.0"

# -- version -------------------------------------------------------------------------------------

VERSION_POOL: list[Command] = [
    *(("CreateDraft", {"method_tree": t}) for t in (TREE, TREE2)),
    *(("ReviseDraft", {"method_tree": t}) for t in (TREE, TREE2, TREE3)),
    *(("FreezeVersion", snapshot(t)) for t in (TREE, TREE2, TREE3)),
    ("FreezeVersion", snapshot(TREE, skills=("missing",))),
    ("FreezeVersion", snapshot(TREE, hash_override="sha256:" + "0" * 64)),
    ("RecordPackageReference", {"package": PACKAGE.path}),
    ("RecordPackageReference", {"package": OTHER_PACKAGE}),
    ("RetireVersion", {"reason": "use 2.0"}),
    ("AbandonDraft", {"reason": "wrong idea"}),
    ("CreateDraft", {"method_tree": "not-a-tree"}),
    ("RetireVersion", {"reason": ""}),
]


class VersionLifecycle(LifecycleMachine):
    target = VERSION
    pool = VERSION_POOL

    def track(self, before: Any, after: Any, command: str) -> None:
        # PAST_PACKAGES_PRESERVED: package references only ever grow, in order.
        assert after.packages[: len(before.packages)] == before.packages
        assert after.packaged or not before.packaged
        # FROZEN_VERSION_IMMUTABLE: once frozen, the snapshot never changes.
        if before.snapshot is not None:
            assert after.snapshot == before.snapshot
        # RETIREMENT_BLOCKS_FUTURE_PACKAGING: nothing is packaged after retirement.
        assert not (before.phase == "retired" and command == "RecordPackageReference")


# -- package (publish side) ----------------------------------------------------------------------

PACKAGE_POOL: list[Command] = [
    ("PublishPackage", package_manifest()),
    ("PublishPackage", package_manifest(version="2.0.0")),
    ("WithdrawPackage", {"reason": "security issue"}),
    ("WithdrawPackage", {"reason": ""}),
]


class PackageLifecycle(LifecycleMachine):
    target = PACKAGE
    pool = PACKAGE_POOL

    def track(self, before: Any, after: Any, command: str) -> None:
        # WITHDRAWAL_BLOCKS_FUTURE and HISTORY_PRESERVED_ON_WITHDRAWAL.
        assert before.phase != "withdrawn"
        if before.manifest is not None:
            assert after.manifest == before.manifest


# -- archetype -----------------------------------------------------------------------------------

OWNER_SETS: tuple[list[str], ...] = (
    ["alice"],
    ["bob", "alice"],
    ["carol", "carol"],
    [],
    ["Not Valid!"],
)
ARCHETYPE_POOL: list[Command] = [
    *(("CreateArchetype", {"owners": o, "threshold": k}) for o in OWNER_SETS for k in (1, 2)),
    *(("ChangeOwners", {"owners": o, "threshold": k}) for o in OWNER_SETS for k in (1, 2)),
    ("ForkArchetype", {"owners": ["bob"], "source": "release-notes", "source_version": "1.0.0"}),
    ("ForkArchetype", {"owners": ["bob"], "source": "../escape"}),
]


class ArchetypeLifecycle(LifecycleMachine):
    target = ARCHETYPE
    pool = ARCHETYPE_POOL

    def track(self, before: Any, after: Any, command: str) -> None:
        assert after.threshold <= len(after.owners)
        if before.phase == "active":
            assert after.forked_from == before.forked_from


# -- policy --------------------------------------------------------------------------------------

NAMES = ("alice", "bob", "carol", "dave")
ROLES = ("root", "authors", "promoters", "promoters:prod", "admins:acme")
POLICY_OPENING: list[Command] = [
    (
        "InitPolicy",
        {
            "identities": [identity("alice"), identity("bob")],
            "roles": {"root": {"principals": ["alice"], "threshold": 1}},
        },
    ),
    (
        "InitPolicy",
        {
            "identities": [identity(n) for n in NAMES[:3]],
            "roles": {
                "root": {"principals": ["alice", "bob"], "threshold": 2},
                "authors": {"principals": ["carol"], "threshold": 1},
            },
        },
    ),
    ("InitPolicy", {"identities": [identity("alice")], "roles": {}}),
]
POLICY_POOL: list[Command] = [
    *POLICY_OPENING,
    *(("AddIdentity", {"identity": identity(n)}) for n in NAMES),
    ("AddIdentity", {"identity": {**identity("alice"), "name": "alice-again"}}),
    *(("RemoveIdentity", {"name": n}) for n in NAMES),
    *(("GrantRole", {"role": r, "principal": n, "threshold": k}) for r in ROLES for n in NAMES[:3] for k in (None, 2)),
    ("GrantRole", {"role": "owners", "principal": "bob"}),
    *(("RevokeRole", {"role": r, "principal": n}) for r in ROLES for n in NAMES[:3]),
    *(("SetThreshold", {"role": r, "threshold": k}) for r in ("root", "authors") for k in (1, 2, 3)),
    ("SetExpiry", {"expires": "2027-01-01T00:00:00Z"}),
    ("SetExpiry", {"expires": None}),
]


class PolicyLifecycle(LifecycleMachine):
    target = POLICY
    pool = POLICY_POOL
    opening = POLICY_OPENING

    def track(self, before: Any, after: Any, command: str) -> None:
        assert after.version == before.version + 1  # POLICY_VERSION_INCREASES, by exactly one
        assert after.roles.get("root", Role()).principals  # ROOT_NOT_EMPTY
        assert all(p in after.identities for r in after.roles.values() for p in r.principals)


TestVersionLifecycle = VersionLifecycle.TestCase
TestVersionLifecycle.settings = SETTINGS
TestPackageLifecycle = PackageLifecycle.TestCase
TestPackageLifecycle.settings = SETTINGS
TestArchetypeLifecycle = ArchetypeLifecycle.TestCase
TestArchetypeLifecycle.settings = SETTINGS
TestPolicyLifecycle = PolicyLifecycle.TestCase
TestPolicyLifecycle.settings = SETTINGS
