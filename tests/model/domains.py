"""Representative data for the exhaustive check: a small finite domain per command of every
lifecycle, the depth that takes every row at least twice, and the edge rules (over one step)
that a single state cannot express. Data that depends on the state (an environment's next
sequence, a placement's package reference) is derived from it, the way the writers derive it."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from gitdocket.core.scopes import scope
from gitdocket.lifecycles import LIFECYCLES
from gitdocket.lifecycles.invariants import WITHDRAWAL_BLOCKS_FUTURE
from gitdocket.lifecycles.policy import POLICY_VERSION_INCREASES
from gitdocket.lifecycles.version import FROZEN_VERSION_IMMUTABLE, PAST_PACKAGES_PRESERVED
from tests.factories import TREE, TREE2, identity, package_manifest, snapshot
from tests.model.explore import Action, Model
from tests.unit.test_bundle_lifecycle import built, verified
from tests.unit.test_environment_lifecycle import promoted, rolled

T0, T1, T2 = "2026-01-01T00:00:00Z", "2026-02-01T00:00:00Z", "2026-03-01T00:00:00Z"
H1, H2 = "sha256:" + "1" * 64, "sha256:" + "2" * 64
REF = {"seq": 1, "head": "sha256:" + "f" * 64}


def fixed(actions: list[Action]) -> Any:
    return lambda _state: actions


# -- policy ----------------------------------------------------------------------------------------

_ROOT = {"registry": "vendor-co", "keys": [{"name": "val", "public_key": identity("val")["public_key"]}]}
POLICY = fixed(
    [
        (
            "InitPolicy",
            {"identities": [identity("alice"), identity("bob")], "roles": {"root": {"principals": ["alice"]}}},
            None,
        ),
        ("InitPolicy", {"identities": [identity("alice")], "roles": {"root": {"principals": ["alice"]}}}, None),
        ("AddIdentity", {"identity": identity("carol")}, None),
        ("RemoveIdentity", {"name": "bob"}, None),
        ("GrantRole", {"role": "root", "principal": "bob", "threshold": 2}, None),
        ("RevokeRole", {"role": "root", "principal": "bob"}, None),
        ("RevokeRole", {"role": "root", "principal": "alice"}, None),
        ("GrantRole", {"role": "authors", "principal": "alice"}, None),
        ("SetThreshold", {"role": "root", "threshold": 1}, None),
        ("SetThreshold", {"role": "root", "threshold": 3}, None),
        ("AddIdentity", {"identity": {**identity("alice"), "name": "alice2"}}, None),
        ("SetExpiry", {"expires": "2027-01-01T00:00:00Z"}, None),
        ("PinVendor", {"vendor": "vendor-co", "root": _ROOT}, None),
        ("PinTrustedRoot", {"digest": H1}, None),
        ("PinTrustedRoot", {"digest": H2}, None),
        ("SetRiskRules", {"rules": [{"name": "new-tools", "kinds": ["tool_added"], "role": "root"}]}, None),
        ("SetRiskRules", {"rules": []}, None),
    ]
)

# -- config ----------------------------------------------------------------------------------------

_DOC = {"name": "reg", "protected": [{"path": ".github/workflows/", "role": "root"}]}
CONFIG = fixed(
    [
        ("ApplyConfig", {"registry": _DOC}, None),
        ("ApplyConfig", {"registry": {**_DOC, "retention": 5}}, None),
        ("ApprovePaths", {"role": "root", "files": {".github/workflows/a.yml": "1" * 64}}, None),
        ("ApprovePaths", {"role": "root", "files": {".github/workflows/a.yml": None}}, None),
    ]
)

# -- archetype -------------------------------------------------------------------------------------

ARCHETYPE = fixed(
    [
        ("CreateArchetype", {"owners": ["alice"], "threshold": 1}, None),
        ("CreateArchetype", {"owners": ["alice", "bob"], "threshold": 2}, None),
        (
            "ForkArchetype",
            {"owners": ["bob"], "source": "release-notes", "source_version": "1.0.0", "method_tree": TREE},
            None,
        ),
        (
            "ForkArchetype",
            {"owners": ["carol"], "source": "release-notes", "source_version": "1.0.0", "method_tree": TREE2},
            None,
        ),
        ("ChangeOwners", {"owners": ["alice", "bob"], "threshold": 2}, None),
        ("ChangeOwners", {"owners": ["bob"], "threshold": 1}, None),
        ("ChangeOwners", {"owners": [], "threshold": 1}, None),
        (
            "PullFromSource",
            {"source": "release-notes", "source_version": "1.1.0", "source_tree": TREE2, "merged_tree": TREE},
            None,
        ),
    ]
)

# -- version ---------------------------------------------------------------------------------------

VERSION = fixed(
    [
        ("CreateDraft", {"method_tree": TREE}, None),
        ("CreateDraft", {"method_tree": TREE2}, None),
        ("ReviseDraft", {"method_tree": TREE2}, None),
        ("ReviseDraft", {"method_tree": TREE}, None),
        ("FreezeVersion", snapshot(TREE), None),
        ("FreezeVersion", snapshot(TREE2), None),
        ("RecordPackageReference", {"package": "registry/packages/support-triage/1.0.0"}, None),
        ("RetireVersion", {"reason": "use 2.0"}, None),
        ("AbandonDraft", {"reason": "wrong idea"}, None),
    ]
)


def _snapshot_kept(before: Any, _command: str, after: Any) -> bool:
    return before.snapshot is None or after.snapshot == before.snapshot


def _packages_kept(before: Any, _command: str, after: Any) -> bool:
    return after.packages[: len(before.packages)] == before.packages


# -- package ---------------------------------------------------------------------------------------

PACKAGE = fixed(
    [
        ("PublishPackage", package_manifest(), None),
        ("PublishPackage", {**package_manifest(), "content_hash": H2}, None),
        ("WithdrawPackage", {"reason": "security issue"}, None),
        ("PermitClient", {"client": "client-co", "client_root": H1}, None),
        ("PermitClient", {"client": "other-co", "client_root": H2}, None),
    ]
)


def _nothing_after_withdrawal(before: Any, _command: str, _after: Any) -> bool:
    return before.phase != "withdrawn"


# -- placement -------------------------------------------------------------------------------------


def _pin(version: str, content: str, tree: str) -> dict[str, Any]:
    return {"archetype": "support-triage", "version": version, "content_hash": content, "method_tree": tree}


def placement(state: Any) -> Iterable[Action]:
    published = {**REF, "phase": "published"}
    return [
        ("RequestInstall", {**_pin("1.0.0", H1, TREE), "package": published, "expires_at": T1}, T0),
        ("RequestInstall", {**_pin("1.0.0", H1, TREE), "package": published, "expires_at": None}, T0),
        ("TargetAdmitInstall", {"content_hash": H1}, T0),
        ("TargetAdmitInstall", {"content_hash": H1}, T2),
        ("InstallPackage", {"package": published}, None),
        ("InstallPackage", {"package": {**REF, "phase": "withdrawn"}}, None),
        ("NoteRunEligible", {"package": published}, None),
        ("DisableInstall", {"reason": ""}, None),
        ("RemoveInstall", {"reason": "done"}, None),
        ("PublishReplacement", {**_pin("1.1.0", H2, TREE2), "package": published}, None),
        ("TargetAdmitReplacement", {"version": "1.1.0", "content_hash": H2}, None),
        ("AdmitUpgrade", {"version": "1.1.0", "package": published}, None),
        ("AutoUpgrade", {"version": "1.1.0", "archetype": "support-triage", "package": published}, None),
        ("RejectOrExpire", {"reason": "", "expired": True}, T2),
        ("RejectOrExpire", {"reason": "not now", "expired": False}, T0),
        ("EditPlacement", {"auto_upgrade": not state.auto_upgrade}, None),
        ("EditPlacement", {"config": {"tone": "warm"}, "editable": ["tone"]}, None),
        ("EditPlacement", {"config": {"instructions": "x"}, "editable": ["instructions"]}, None),
    ]


# -- entitlement -----------------------------------------------------------------------------------

ENTITLEMENT = fixed(
    [
        ("AdmitPackageInstall", {"placement": {**REF, "phase": "installed"}}, None),
        ("AdmitPackageInstall", {"placement": {**REF, "seq": 3, "phase": "installed"}}, None),
        ("AdmitPackageInstall", {"placement": {**REF, "phase": "removed"}}, None),
        ("RequestEntitlement", {"terms": "per seat"}, None),
        ("RequestEntitlement", {"terms": ""}, None),
        ("ActivateEntitlement", {"expires_at": "2027-01-01T00:00:00Z"}, None),
        ("RecordBillingReceipt", {"reference": "inv-1"}, None),
        ("RecordSupportReceipt", {"reference": "tkt-1"}, None),
        ("MarkRunEligible", {}, None),
        ("StartGovernedRun", {}, None),
        ("SuspendEntitlement", {"reason": "invoice overdue"}, None),
        ("ResumeEntitlement", {}, None),
        ("CloseEntitlement", {"reason": "ended"}, None),
        ("DenyOrExpire", {"reason": "no"}, None),
        ("WithdrawPackageInstall", {"reason": "removed"}, None),
    ]
)

# -- bundle ----------------------------------------------------------------------------------------

BUNDLE = fixed(
    [
        ("BuildBundle", built(), None),
        ("BuildBundle", built(label="candidate"), None),
        ("BuildBundle", built(included_files=4), None),
        ("VerifyBundle", verified(), None),
        ("VerifyBundle", verified(verified_files=7), None),
        ("VerifyBundle", verified(manifest_digest="sha256:" + "cd" * 32), None),
    ]
)

# -- environment -----------------------------------------------------------------------------------

BUNDLES = ("build-20260101-000001-00000001", "build-20260101-000002-00000002", "build-20260101-000003-00000003")


def environment(state: Any) -> Iterable[Action]:
    out: list[Action] = []
    for bundle in BUNDLES:
        out.append(("Promote", promoted(state, bundle), None))
        out.append(("Rollback", rolled(state, bundle), None))
    return out


MODELS: dict[str, Model] = {
    "policy": Model(
        LIFECYCLES["policy"],
        scope("policy"),
        POLICY,
        depth=6,
        edges=((POLICY_VERSION_INCREASES, lambda b, _c, a: a.version == b.version + 1),),
    ),
    "config": Model(LIFECYCLES["config"], scope("config"), CONFIG, depth=8),
    "archetype": Model(LIFECYCLES["archetype"], scope("archetype", "support-triage"), ARCHETYPE, depth=5),
    "version": Model(
        LIFECYCLES["version"],
        scope("version", "support-triage", "1.0.0"),
        VERSION,
        depth=10,
        edges=((FROZEN_VERSION_IMMUTABLE, _snapshot_kept), (PAST_PACKAGES_PRESERVED, _packages_kept)),
    ),
    "package": Model(
        LIFECYCLES["package"],
        scope("package", "support-triage", "1.0.0"),
        PACKAGE,
        depth=6,
        edges=((WITHDRAWAL_BLOCKS_FUTURE, _nothing_after_withdrawal),),
    ),
    "placement": Model(LIFECYCLES["placement"], scope("placement", "acme", "triage"), placement, depth=12),
    "entitlement": Model(LIFECYCLES["entitlement"], scope("entitlement", "acme", "triage"), ENTITLEMENT, depth=10),
    "bundle": Model(LIFECYCLES["bundle"], scope("bundle", "pr-preview-20260101-000000-1a2b3c4d"), BUNDLE, depth=4),
    "environment": Model(LIFECYCLES["environment"], scope("environment", "dev"), environment, depth=8),
}
"""Every lifecycle's model; a lifecycle added to ``LIFECYCLES`` without one fails the check."""
