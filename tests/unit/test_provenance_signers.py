"""Who may sign a promotion's provenance envelope: the promoter's SSH key, or, when the promoter
signed keylessly (a CI workflow's Sigstore identity, which has no SSH key), the SSH key of an
approval that co-signed the same event. Nobody else."""

from __future__ import annotations

import pytest

from gitdocket.core import sshsig
from gitdocket.core.canonical import canonical
from gitdocket.lifecycles.policy import PolicyState
from gitdocket.verify.provenance import (
    NAMESPACE,
    PAYLOAD_TYPE,
    Promotion,
    envelope,
    pae,
    provenance_problems,
    statement,
)
from tests.factories import det_key, identity

KEYLESS = {
    "name": "ci",
    "kind": "sigstore",
    "issuer": "https://token.actions.githubusercontent.com",
    "subject": "https://github.com/acme/registry/.github/workflows/deployment-promote.yml@refs/heads/main",
    "claims": {"repository": "acme/registry"},
}
POLICY = PolicyState.model_validate(
    {
        "phase": "active",
        "version": 1,
        "identities": {"alice": identity("alice"), "bob": identity("bob"), "ci": KEYLESS},
        "roles": {"root": {"principals": ["alice"], "threshold": 1}},
    }
)


def _promotion(promoted_by: str, approvals: tuple[str, ...]) -> Promotion:
    return Promotion(
        environment="dev",
        bundle_id="pr-preview-20260101-000000-00000000",
        sequence=1,
        previous_bundle_id=None,
        source_environment="preview",
        gated=True,
        registry_commit="0" * 40,
        manifest_digest="sha256:" + "1" * 64,
        bundle_tree="2" * 40,
        packages=(("support-triage", "1.0.0", "sha256:" + "3" * 64),),
        built_by="alice",
        built_at="2026-01-01T00:00:00Z",
        report_digest=None,
        approvals=approvals,
        promoted_by=promoted_by,
        promoted_at="2026-01-01T00:00:00Z",
        run={},
        gitdocket_version="0.1.0",
    )


def _signed_by(promotion: Promotion, name: str) -> bytes:
    payload = canonical(statement(promotion))
    return envelope(payload, [(name, sshsig.sign(det_key(name), pae(PAYLOAD_TYPE, payload), NAMESPACE))])


@pytest.mark.parametrize(
    ("promoted_by", "approvals", "signer", "accepted"),
    [
        pytest.param("alice", ("alice",), "alice", True, id="ssh-promoter-signs"),
        pytest.param("alice", ("alice", "bob"), "bob", False, id="ssh-promoter-an-approval-is-not-enough"),
        pytest.param("ci", ("alice",), "alice", True, id="keyless-promoter-its-co-signer-signs"),
        pytest.param("ci", ("alice",), "bob", False, id="keyless-promoter-a-stranger-is-refused"),
    ],
)
def test_who_may_sign_the_envelope(promoted_by: str, approvals: tuple[str, ...], signer: str, accepted: bool) -> None:
    promotion = _promotion(promoted_by, approvals)
    problems = provenance_problems(_signed_by(promotion, signer), promotion, POLICY, "p.intoto.json")
    assert (problems == []) is accepted, problems
    if not accepted:
        allowed = approvals if promoted_by == "ci" else (promoted_by,)
        assert problems == [f"not signed by the promoter {' or '.join(allowed)}"]
