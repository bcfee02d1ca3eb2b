"""Authorization: k-of-n thresholds over distinct principals, who counts, role templates
(``owners:{0}``, ``promoters:{0}`` with fallback), and policy changes that need both the old and
the new root threshold — directly and through ``Transaction``."""

from __future__ import annotations

import string
from typing import Any

import pytest

from gitdocket.core.log import Event, SigstoreSignature
from gitdocket.core.model import Record
from gitdocket.core.scopes import Scope, scope
from gitdocket.errors import TrustError
from gitdocket.lifecycles import machine_for
from gitdocket.lifecycles.authz import authorize, policy_resolver, required_role
from gitdocket.lifecycles.machine import Machine, Transition
from gitdocket.lifecycles.policy import Identity, PolicyState, Role
from tests.factories import (
    ARCHETYPE,
    POLICY,
    TREE,
    VERSION,
    committed,
    event,
    policy_at,
    registry_tree,
    sign,
    transaction,
)

POLICY_MACHINE = machine_for("policy")
GRANT = ("role_granted", {"role": "builders", "principal": "bob", "threshold": None})


def _no_owners(_name: str) -> Role | None:
    return None


def _verdict(
    policy: PolicyState,
    signed: Event,
    target: Scope = POLICY,
    machine: Machine[Any] = POLICY_MACHINE,
    owners: Any = _no_owners,
) -> Any:
    return authorize(machine, target, signed, policy, policy_resolver(policy, owners))


ROOT_2_OF_3 = policy_at(("alice", "bob", "carol"), 2)


@pytest.mark.parametrize(
    ("signers", "ok"),
    [
        pytest.param(("alice",), False, id="1-of-2-needed"),
        pytest.param(("alice", "alice"), False, id="same-principal-twice-counts-once"),
        pytest.param(("alice", "bob"), True, id="2-of-3"),
        pytest.param(("carol", "alice", "bob"), True, id="3-of-3"),
    ],
)
def test_threshold_k_of_n(signers: tuple[str, ...], ok: bool) -> None:
    verdict = _verdict(ROOT_2_OF_3, sign(POLICY, event(*GRANT, actor=signers[0]), *signers))
    assert verdict.ok is ok
    assert verdict.signers == frozenset(signers)
    if not ok:
        assert verdict.problems == (
            f"needs 2 signature(s) by root, got {len(set(signers))} (valid signers: {', '.join(sorted(set(signers)))})",
        )


def test_signer_outside_the_role_does_not_count() -> None:
    policy = policy_at(("alice", "carol"), 2)
    verdict = _verdict(policy, sign(POLICY, event(*GRANT), "alice", "bob"))
    assert not verdict.ok
    assert verdict.signers == frozenset({"alice"})
    assert "needs 2 signature(s) by root, got 1 (valid signers: alice, bob)" in verdict.problems


def test_unknown_principal_is_a_problem_even_when_the_threshold_is_met() -> None:
    verdict = _verdict(policy_at(), sign(POLICY, event(*GRANT), "alice", "mallory"))
    assert verdict.problems == ("signature by 'mallory', who is not in policy v1",)


def test_signature_under_another_principals_name_does_not_verify() -> None:
    forged = sign(POLICY, event(*GRANT), "alice")
    entry = forged.signatures[0].model_copy(update={"principal": "bob"})
    verdict = _verdict(policy_at(("alice", "bob"), 1), forged.model_copy(update={"signatures": (entry,)}))
    assert not verdict.ok
    assert verdict.problems[0].startswith("signature by bob does not verify: signature was made by a different key")


def test_actor_who_did_not_sign_is_refused() -> None:
    verdict = _verdict(policy_at(), sign(POLICY, event(*GRANT, actor="bob"), "alice"))
    assert verdict.problems == ("actor 'bob' did not sign the event",)


def test_actor_outside_the_role_is_refused_even_when_holders_signed() -> None:
    verdict = _verdict(policy_at(), sign(POLICY, event(*GRANT, actor="bob"), "bob", "alice"))
    assert verdict.signers == frozenset({"alice"})
    assert verdict.problems == ("actor 'bob' does not hold root",)


def test_unsigned_event_is_refused() -> None:
    verdict = _verdict(policy_at(), event(*GRANT))
    assert "event is not signed" in verdict.problems and not verdict.ok


def test_signature_made_for_another_scope_is_refused() -> None:
    """``signing_payload`` binds the scope path: an event copied into another scope fails."""
    archetype = machine_for("archetype")
    copied = sign(
        scope("archetype", "release-notes"),
        event("owners_changed", {"owners": ["alice"], "threshold": 1}),
        "alice",
    )
    owners = {"support-triage": Role(principals=("alice",))}
    verdict = _verdict(policy_at(), copied, ARCHETYPE, archetype, owners.get)
    assert any("does not match the signed bytes" in p for p in verdict.problems)


def _with_sigstore_identity() -> PolicyState:
    ci = Identity(
        name="ci",
        kind="sigstore",
        issuer="https://token.actions.githubusercontent.com",
        subject="https://github.com/o/r/.github/workflows/promote.yml@refs/heads/main",
    )
    base: PolicyState = policy_at()
    roles = {**base.roles, "builders": Role(principals=("ci",))}
    return base.model_copy(update={"identities": {**base.identities, "ci": ci}, "roles": roles})


def test_sigstore_entry_needs_a_checker() -> None:
    policy = _with_sigstore_identity()
    signed = event(*GRANT, actor="ci").model_copy(
        update={"signatures": (SigstoreSignature(kind="sigstore", principal="ci", bundle={}),)}
    )
    verdict = authorize(machine_for("policy"), POLICY, signed, policy, policy_resolver(policy, _no_owners))
    assert any("cannot check the Sigstore signature of ci" in p for p in verdict.problems)
    seen: list[bytes] = []
    ok = authorize(
        _env_machine("builders"),
        scope("environment", "prod"),
        signed,
        policy,
        policy_resolver(policy, _no_owners),
        lambda _e, _i, payload, _p: seen.append(payload),
    )
    assert ok.ok and len(seen) == 1


class _Promotion(Record):
    bundle: str


def _env_machine(role: str) -> Machine[Any]:
    class EnvState(Record):
        phase: str = "none"

    return Machine(
        kind="environment",
        state=EnvState,
        initial=lambda _s: EnvState(),
        subject=lambda _s: "environment prod",
        phases={"none": "it is empty"},
        transitions=(
            Transition("Promote", "role_granted", ("none",), "none", _Promotion, does="promote", hint="-", role=role),
        ),
    )


@pytest.mark.parametrize(
    ("roles", "signer", "ok"),
    [
        pytest.param({"promoters": ("bob",)}, "bob", True, id="falls-back-to-promoters"),
        pytest.param(
            {"promoters": ("bob",), "promoters:prod": ("carol",)},
            "bob",
            False,
            id="promoters-prod-defined-bare-promoter-refused",
        ),
        pytest.param(
            {"promoters": ("bob",), "promoters:prod": ("carol",)},
            "carol",
            True,
            id="promoters-prod-member",
        ),
        pytest.param({"promoters:dev": ("bob",)}, "bob", False, id="other-environment-role-refused"),
    ],
)
def test_promoters_env_falls_back_to_promoters(roles: dict[str, tuple[str, ...]], signer: str, ok: bool) -> None:
    base = policy_at()
    policy = base.model_copy(update={"roles": {**base.roles, **{r: Role(principals=p) for r, p in roles.items()}}})
    prod = scope("environment", "prod")
    signed = sign(prod, event(*GRANT, actor=signer), signer)
    verdict = _verdict(policy, signed, prod, _env_machine("promoters:{0}"))
    assert verdict.role == "promoters:prod"
    assert verdict.ok is ok


def test_owners_template_resolves_the_scope_key() -> None:
    asked: list[str] = []

    def owners(name: str) -> Role | None:
        asked.append(name)
        return Role(principals=("bob",))

    signed = sign(VERSION, event("draft_created", {"method_tree": TREE}, actor="bob"), "bob")
    verdict = _verdict(policy_at(), signed, VERSION, machine_for("version"), owners)
    assert verdict.ok and verdict.role == "owners:support-triage" and asked == ["support-triage"]


def test_no_holder_of_the_role_refuses() -> None:
    signed = sign(VERSION, event("draft_created", {"method_tree": TREE}), "alice")
    verdict = _verdict(policy_at(), signed, VERSION, machine_for("version"))
    assert "no one holds role owners:support-triage in policy v1" in verdict.problems


def test_required_role_of_an_unknown_event_is_root() -> None:
    assert required_role(machine_for("version"), VERSION, "made_up", {}) == "root"


# -- policy changes: old and new root thresholds -------------------------------------------------


def _rotation(old: PolicyState, command: str, data: dict[str, Any], *signers: str) -> tuple[bool, bool]:
    decision = POLICY_MACHINE.decide(old, command, data)
    new = POLICY_MACHINE.evolve(old, decision.type, decision.data)
    signed = sign(POLICY, event(decision.type, decision.data, actor=signers[0]), *signers)
    return _verdict(old, signed).ok, _verdict(new, signed).ok


@pytest.mark.parametrize(
    ("old_root", "threshold", "command", "data", "signers", "expected"),
    [
        pytest.param(
            ("alice",),
            1,
            "GrantRole",
            {"role": "root", "principal": "bob", "threshold": 2},
            ("alice",),
            (True, False),
            id="raise-threshold-needs-new-root",
        ),
        pytest.param(
            ("alice", "bob"),
            2,
            "SetThreshold",
            {"role": "root", "threshold": 1},
            ("alice",),
            (False, True),
            id="lower-threshold-needs-old-root",
        ),
        pytest.param(
            ("alice", "bob"),
            2,
            "SetThreshold",
            {"role": "root", "threshold": 1},
            ("alice", "bob"),
            (True, True),
            id="both-thresholds-met",
        ),
        pytest.param(
            ("alice", "bob"),
            1,
            "RevokeRole",
            {"role": "root", "principal": "alice"},
            ("alice",),
            (True, False),
            id="revoking-a-root-needs-the-remaining-root",
        ),
    ],
)
def test_policy_change_is_judged_by_old_and_new_root(
    old_root: tuple[str, ...],
    threshold: int,
    command: str,
    data: dict[str, Any],
    signers: tuple[str, ...],
    expected: tuple[bool, bool],
) -> None:
    assert _rotation(policy_at(old_root, threshold), command, data, *signers) == expected


def _two_roots() -> Any:
    tree = registry_tree()
    tx = transaction(tree, "alice", "bob")
    tx.apply(POLICY, "GrantRole", {"role": "root", "principal": "bob", "threshold": 2})
    return committed(tree, tx)


def test_transaction_refuses_a_policy_change_the_new_root_did_not_sign() -> None:
    tx = transaction(registry_tree(), "alice")
    with pytest.raises(
        TrustError, match=r"cannot grant a role in the trust policy: needs 2 signature\(s\) by root, got 1"
    ):
        tx.apply(POLICY, "GrantRole", {"role": "root", "principal": "bob", "threshold": 2})
    assert tx.writes == {}


def test_transaction_refuses_a_policy_change_the_old_root_did_not_sign() -> None:
    tx = transaction(_two_roots(), "alice")
    with pytest.raises(TrustError, match=r"needs 2 signature\(s\) by root, got 1"):
        tx.apply(POLICY, "SetThreshold", {"role": "root", "threshold": 1})
    assert tx.writes == {}
    both = transaction(_two_roots(), "alice", "bob")
    assert both.apply(POLICY, "SetThreshold", {"role": "root", "threshold": 1}).version == 3


def test_transaction_owner_threshold() -> None:
    tree = registry_tree()
    tx = transaction(tree, "alice")
    tx.apply(ARCHETYPE, "ChangeOwners", {"owners": ["alice", "bob"], "threshold": 2})
    tree = committed(tree, tx)
    alone = transaction(tree, "alice")
    with pytest.raises(TrustError, match=r"cannot open a draft of version support-triage 1.0.0: needs 2"):
        alone.apply(VERSION, "CreateDraft", {"method_tree": TREE})
    assert alone.writes == {}
    together = transaction(tree, "bob", "alice")
    together.apply(VERSION, "CreateDraft", {"method_tree": TREE})
    assert together.log(VERSION).events[0].actor == "alice"  # by principal name, not by key order
    assert [s.principal for s in together.log(VERSION).events[0].signatures] == ["alice", "bob"]
    other_order = transaction(tree, "alice", "bob")
    other_order.apply(VERSION, "CreateDraft", {"method_tree": TREE})
    assert other_order.writes == together.writes


def test_transaction_refuses_a_key_outside_the_policy() -> None:
    tx = transaction(registry_tree(), "mallory")
    with pytest.raises(TrustError, match="is not in the policy"):
        tx.apply(VERSION, "CreateDraft", {"method_tree": TREE})
    assert tx.writes == {}


class _Fields(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


@pytest.mark.parametrize(
    ("template", "data"),
    [
        pytest.param("promoters:{0}", {}, id="scope-key"),
        pytest.param("owners:{archetype}", {"archetype": "agent-a"}, id="data-field"),
        pytest.param("owners:{archetype}", {}, id="data-field-missing"),
        pytest.param("owners:{archetype}", {"archetype": 7}, id="data-field-not-a-string"),
        pytest.param("{role}", {"role": "owners:{0}"}, id="field-value-is-not-formatted-again"),
        pytest.param("a{{b}}:{0}-{0}", {}, id="escaped-braces-and-repeats"),
        pytest.param("promoters:{0!r}", {}, id="conversion"),
        pytest.param("promoters:{0:>8}", {}, id="format-spec"),
        pytest.param("builders", {}, id="no-fields"),
    ],
)
def test_required_role_formats_the_template_as_str_format_does(template: str, data: dict[str, Any]) -> None:
    """The template is parsed once and formatted per event (the verify of every event asks):
    the same string ``str.format`` makes, for every template a row may hold."""
    prod = scope("environment", "prod")
    fields = _Fields({k: v for k, v in data.items() if isinstance(v, str)})
    expected = string.Formatter().vformat(template, prod.keys, fields)
    assert required_role(_env_machine(template), prod, "role_granted", data) == expected


def test_signatures_by_two_keys_are_each_judged_by_their_own_key() -> None:
    """Parsed keys are cached per public key line: checking alice's signature first must not
    make bob's key accept it, nor the other way round."""
    policy = policy_at(("alice", "bob"), 1)
    by_alice = sign(POLICY, event(*GRANT), "alice")
    by_bob = sign(POLICY, event(*GRANT, actor="bob"), "bob")
    assert _verdict(policy, by_alice).ok and _verdict(policy, by_bob).ok
    swapped = by_alice.model_copy(
        update={"signatures": (by_alice.signatures[0].model_copy(update={"principal": "bob"}),), "actor": "bob"}
    )
    different = "signature by bob does not verify: signature was made by a different key"
    assert different in _verdict(policy, swapped).problems
    alice_signs_bobs = by_bob.model_copy(update={"signatures": (by_alice.signatures[0],)})
    assert "signature by alice does not verify: signature does not match the signed bytes" in (
        _verdict(policy, alice_signs_bobs).problems
    )
