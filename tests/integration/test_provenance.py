"""Provenance of promoted releases: every promotion writes an in-toto Statement v1 (SLSA
provenance v1) in a DSSE envelope signed by the promoter, with deterministic bytes, and
``gitdocket provenance verify`` checks it offline; a forged or altered one is refused."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from gitdocket.core import sshsig
from gitdocket.verify.provenance import NAMESPACE, PAYLOAD_TYPE, PREDICATE_TYPE, STATEMENT_TYPE, pae
from tests.integration.releases_support import Release, copy_release


def envelope_of(rel: Release, env: str, sequence: int) -> tuple[Path, dict[str, Any], dict[str, Any]]:
    path = rel.reg.path / "deployments" / env / "provenance" / f"{sequence}.intoto.json"
    doc = json.loads(path.read_text())
    return path, doc, json.loads(base64.b64decode(doc["payload"]))


def test_a_promotion_records_signed_provenance(rel: Release) -> None:
    bundle = rel.build()
    base = rel.head()
    assert rel.promote(bundle, "preview").code == 0
    _path, doc, statement = envelope_of(rel, "preview", 1)
    assert doc["payloadType"] == PAYLOAD_TYPE and [s["keyid"] for s in doc["signatures"]] == ["alice"]
    assert statement["_type"] == STATEMENT_TYPE and statement["predicateType"] == PREDICATE_TYPE
    manifest = rel.current("preview")
    definition = statement["predicate"]["buildDefinition"]
    assert definition["externalParameters"]["bundle_id"] == bundle == manifest["bundle_id"]
    assert definition["resolvedDependencies"][0] == {"uri": "git+registry", "digest": {"gitCommit": base}}
    assert definition["resolvedDependencies"][1]["uri"] == "docket:package/support-triage@1.0.0"
    assert definition["internalParameters"]["approvals"] == ["alice"]
    byproducts = statement["predicate"]["runDetails"]["byproducts"]
    assert byproducts[0]["name"] == "gate-report"
    signature = base64.b64decode(doc["signatures"][0]["sig"])
    public = sshsig.parse_public_key((rel.reg.keys / "alice_ed25519.pub").read_text())
    sshsig.verify(signature, pae(PAYLOAD_TYPE, base64.b64decode(doc["payload"])), NAMESPACE, public)
    out = rel.reg.ok("provenance", "verify", bundle, "--env", "preview", "--format", "json").json()
    assert out["ok"] and out["registry_commit"] == base and out["sequence"] == 1
    assert "provenance of" in rel.reg.ok("provenance", "verify", bundle, "--env", "preview").out
    assert rel.reg.ok("verify").out.rstrip().endswith("OK")


def test_the_bytes_are_deterministic(rel: Release, template: Path, tmp_path: Path) -> None:
    other = copy_release(template, tmp_path / "again")
    for release in (rel, other):
        assert release.promote(release.build(), "preview").code == 0
    assert envelope_of(rel, "preview", 1)[0].read_bytes() == envelope_of(other, "preview", 1)[0].read_bytes()


def _forge(rel: Release, change: str) -> None:
    path, doc, statement = envelope_of(rel, "preview", 1)
    if change == "approvals":
        statement["predicate"]["buildDefinition"]["internalParameters"]["approvals"] = ["alice", "mallory"]
        doc["payload"] = base64.b64encode(json.dumps(statement).encode()).decode()
    elif change == "signature":
        doc["signatures"][0]["sig"] = base64.b64encode(b"not a signature").decode()
    else:
        path.unlink()
    if path.parent.exists() and change != "missing":
        path.write_text(json.dumps(doc))
    rel.reg.git("add", "-A")
    rel.reg.git("commit", "-qm", f"forge provenance: {change}")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        pytest.param("approvals", "does not state this promotion", id="altered-statement"),
        pytest.param("signature", "does not verify", id="bad-signature"),
        pytest.param("missing", "is missing", id="missing"),
    ],
)
def test_a_forged_provenance_is_refused(rel: Release, change: str, message: str) -> None:
    bundle = rel.build()
    assert rel.promote(bundle, "preview").code == 0
    _forge(rel, change)
    result = rel.reg.run("provenance", "verify", bundle, "--env", "preview")
    assert result.code == 1 and message in result.err and result.err.startswith("error: provenance of ")


def test_a_bundle_never_promoted_there_is_bad_input(rel: Release) -> None:
    bundle = rel.build()
    result = rel.reg.run("provenance", "verify", bundle, "--env", "prod")
    assert result.code == 1 and "was never promoted to prod" in result.err and "\nhint: " in result.err


def test_a_promotion_in_actions_states_its_run(rel: Release, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "GITHUB_SERVER_URL": "https://github.com",
        "GITHUB_REPOSITORY": "acme/registry",
        "GITHUB_RUN_ID": "42",
        "GITHUB_RUN_ATTEMPT": "2",
        "GITHUB_WORKFLOW_REF": "acme/registry/.github/workflows/deployment-preview.yml@refs/pull/7/merge",
    }.items():
        monkeypatch.setenv(name, value)
    bundle = rel.build()
    assert rel.promote(bundle, "preview").code == 0
    statement = envelope_of(rel, "preview", 1)[2]
    run = "https://github.com/acme/registry/actions/runs/42/attempts/2"
    assert statement["predicate"]["runDetails"]["metadata"]["invocationId"] == run
    assert statement["predicate"]["buildDefinition"]["internalParameters"]["run"]["run_id"] == "42"
    assert rel.reg.ok("provenance", "verify", bundle, "--env", "preview", "--format", "json").json()["ok"]


def test_a_risk_approver_is_an_approval(rel: Release) -> None:
    rel.reg.ok("policy", "add-identity", "aaron", f"{rel.reg.key('aaron')}.pub")
    rel.reg.ok("policy", "grant", "security", "aaron")
    bundle = rel.build()
    keys = ["--key", str(rel.reg.key("alice")), "--key", str(rel.reg.key("aaron"))]
    assert rel.promote(bundle, "preview", *keys).code == 0
    _path, doc, statement = envelope_of(rel, "preview", 1)
    assert statement["predicate"]["buildDefinition"]["internalParameters"]["approvals"] == ["aaron", "alice"]
    assert statement["predicate"]["buildDefinition"]["internalParameters"]["promoted_by"] == "alice"
    assert [s["keyid"] for s in doc["signatures"]] == ["alice"]
    assert rel.reg.ok("provenance", "verify", bundle, "--env", "preview", "--format", "json").json()["ok"]


def test_rev_reads_the_provenance_of_that_commit(rel: Release) -> None:
    bundle = rel.build()
    before = rel.head()
    assert rel.promote(bundle, "preview").code == 0
    after = rel.head()
    assert rel.reg.ok("provenance", "verify", bundle, "--env", "preview", "--rev", after).out
    earlier = rel.reg.run("provenance", "verify", bundle, "--env", "preview", "--rev", before)
    assert earlier.code == 1 and "was never promoted to preview" in earlier.err
