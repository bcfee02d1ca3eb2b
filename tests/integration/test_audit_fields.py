"""Audit fields come from signatures: every "who" gitdocket records (``promoted_by``,
``rolled_back_by``, ``built_by``, ``verified_by``, ``provenance.frozen_by``, ``publisher``) is the
identity that signed the event. A key holder who signs an event naming someone else is caught by
``verify`` (``AUDIT_MISMATCH``, citing ``AUDIT_NAMES_SIGNER``), the writers refuse to make one,
and ``history`` shows who signed."""

from __future__ import annotations

from typing import Any

import pytest

from gitdocket.adapters.signing import KeySigner
from gitdocket.adapters.store import GitStore
from gitdocket.core.scopes import Scope, scope
from gitdocket.errors import TrustError
from gitdocket.ops import versions as version_ops
from gitdocket.ops.transaction import Transaction
from tests.factories import AT
from tests.integration.forgery import Forger, ssh_signature
from tests.integration.releases_support import Release
from tests.support import det_key


def _bundle(rel: Release, verify: bool) -> Scope[Any]:
    return scope("bundle", rel.build(verify=verify))


def _frozen(rel: Release) -> Scope[Any]:
    rel.reg.ok("version", "freeze", "support-triage", "1.1.0")
    rel.reg.git("tag", "-d", "support-triage/v1.1.0")  # its record is forged below: a moved tag is another finding
    return scope("version", "support-triage", "1.1.0")


def _published(rel: Release) -> Scope[Any]:
    rel.reg.ok("version", "freeze", "support-triage", "1.1.0")
    rel.reg.ok("package", "publish", "support-triage", "1.1.0")
    rel.reg.git("tag", "-d", "packages/support-triage/v1.1.0")
    return scope("package", "support-triage", "1.1.0")


def _promoted(rel: Release) -> Scope[Any]:
    assert rel.promote(rel.build(), "preview").code == 0
    return scope("environment", "preview")


def _rolled_back(rel: Release) -> Scope[Any]:
    assert rel.promote(rel.build(), "preview").code == 0
    assert rel.promote(rel.build(label="candidate"), "preview").code == 0
    rel.reg.ok("rollback", "--env", "preview", "--reason", "smoke test failed")
    return scope("environment", "preview")


CASES = [
    pytest.param(_frozen, ("provenance", "frozen_by"), id="frozen_by"),
    pytest.param(_published, ("publisher",), id="publisher"),
    pytest.param(lambda rel: _bundle(rel, verify=False), ("built_by",), id="built_by"),
    pytest.param(lambda rel: _bundle(rel, verify=True), ("verified_by",), id="verified_by"),
    pytest.param(_promoted, ("promoted_by",), id="promoted_by"),
    pytest.param(_rolled_back, ("rolled_back_by",), id="rolled_back_by"),
]


def _forge(rel: Release, target: Scope[Any], field: tuple[str, ...]) -> str:
    """alice, who holds the role, re-signs the scope's last event with ``field`` naming mallory."""
    forger = Forger(rel.reg)
    events = forger.events(target)
    last = events[-1]
    data = last.model_dump(mode="json")["data"]
    holder = data
    for part in field[:-1]:
        holder = holder[part]
    assert holder[field[-1]] == "alice"
    holder[field[-1]] = "mallory"
    forged = last.model_copy(update={"data": data, "signatures": ()})
    forged = forged.model_copy(update={"signatures": (ssh_signature("alice", "alice", target.path, forged),)})
    forger.write_log(target, [*events[:-1], forged])
    return forger.commit("a promoter's own signature on someone else's name")


@pytest.mark.parametrize(("make", "field"), CASES)
def test_a_who_field_naming_another_than_the_signer_is_a_finding(
    rel: Release, make: Any, field: tuple[str, ...]
) -> None:
    target = make(rel)
    assert rel.reg.ok("verify", "--format", "json").json()["ok"] is True
    _forge(rel, target, field)
    findings = rel.reg.run("verify", "--format", "json").json()["findings"]
    assert [(f["code"], f["invariant"]) for f in findings] == [("AUDIT_MISMATCH", "AUDIT_NAMES_SIGNER")], findings
    assert findings[0]["path"].startswith(target.history_path + ":")
    assert f"{'.'.join(field)} names 'mallory', but 'alice' signed it" in findings[0]["message"]


def test_history_shows_who_signed(rel: Release) -> None:
    target = _promoted(rel)
    _forge(rel, target, ("promoted_by",))
    rows = rel.reg.ok("history", "--env", "preview", "--format", "json").json()
    assert [row["signed_by"] for row in rows] == [["alice"]]
    table = rel.reg.ok("history", "--env", "preview").out.splitlines()
    assert table[0].split("\t")[4] == "by" and table[1].split("\t")[4] == "alice"


def test_the_writer_refuses_a_who_field_naming_another(rel: Release) -> None:
    store = GitStore.open(rel.reg.path)
    tx = Transaction(store.snapshot(), [KeySigner(det_key("alice"), "alice")], AT)
    target = scope("version", "support-triage", "1.1.0")
    version_ops.draft(tx, "support-triage", "1.1.0")
    snap = version_ops.snapshot_of(tx, target, tx.tree.tree_id("registry/archetypes/support-triage/method") or "")
    forged = snap.model_copy(update={"provenance": snap.provenance.model_copy(update={"frozen_by": "mallory"})})
    with pytest.raises(TrustError, match=r"provenance\.frozen_by names 'mallory', but 'alice' signed it"):
        tx.apply(target, "FreezeVersion", forged)
