"""The installed workflows with a keyless CI identity: deployment-promote signs the promotion as
itself (``GITDOCKET_SIGSTORE: auto`` finds the policy's identity for the running workflow), and
only that signature authorizes it — the SSH key the run also holds signs commits and tags, and
no longer holds the environment's role. Fulcio and Rekor (and GitHub's OIDC token) are the
tests' generated Sigstore (``tests.sigstore_instance``); sigstore-python verifies every bundle
against the root the registry pins, in the workflows' own `gitdocket verify` runs and in a fresh
clone."""

from __future__ import annotations

import json
from pathlib import Path

from tests.harness.github import GitHub
from tests.harness.registry import Person, checked, merged, promote
from tests.sigstore_instance import INSTANCE, SIGNER
from tests.support import ROOT


def _keyless(github: GitHub, person: Person, tmp_path: Path) -> str:
    """alice pins the generated root and makes deployment-promote on main the only promoter to
    dev; the identity's name."""
    root = tmp_path / "trusted_root.json"
    root.write_bytes(INSTANCE.trusted_root())
    workflow = f"{github.repository}/.github/workflows/deployment-promote.yml@refs/heads/{github.default_branch}"
    person.gitdocket("policy", "pin-root", root)
    person.gitdocket("policy", "add-identity", "ci-promote", "--github-workflow", workflow)
    person.gitdocket("policy", "grant", "promoters:dev", "ci-promote")
    person.push(github.default_branch)
    # the stand-in for GitHub's OIDC token, Fulcio and Rekor, importable by the runs' gitdocket
    github.base_env["GITDOCKET_SIGSTORE_SIGNER"] = SIGNER
    github.base_env["PYTHONPATH"] = str(ROOT)
    return "ci-promote"


def test_a_promotion_signed_keylessly_in_deployment_promote(github: GitHub, registry: Person, tmp_path: Path) -> None:
    name = _keyless(github, registry, tmp_path)
    pr = registry.release("support-triage", "1.0.0")
    preview = checked(github, pr)["deployment-preview.yml"]
    merged(github, pr)
    promotion = promote(github, preview, "dev")
    assert github.status_of(promotion.head_sha, "registry-check") == "success"
    checked(github, promotion)
    merged(github, promotion)
    registry.git("fetch", "-q", "origin")
    history = registry.git("show", f"origin/{github.default_branch}:deployments/dev/history.jsonl")
    event = json.loads(history.splitlines()[-1])
    assert event["actor"] == name
    kinds = {(s["principal"], s["kind"]) for s in event["signatures"]}
    assert kinds == {(name, "sigstore"), ("ci", "sshsig")}
    clone = registry.clone.parent / "fresh"
    registry.run("git", "clone", "-q", github.origin, clone)
    done = registry.run("gitdocket", "verify", "--require-tags", "--repo", clone)
    assert done.stdout.rstrip().endswith("OK")
    # The provenance of a keyless promotion is signed by the SSH key that co-signed it.
    bundle = event["data"]["bundle_id"]
    checked_provenance = registry.run("gitdocket", "provenance", "verify", bundle, "--env", "dev", "--repo", clone)
    assert "provenance of" in checked_provenance.stdout


def test_without_a_keyless_identity_the_deploy_key_signs_alone(github: GitHub, registry: Person) -> None:
    """The deploy-key path: the policy lists no identity for the workflow, the SSH key signs the
    promotion (its role: promoters), and the run says so."""
    pr = registry.release("support-triage", "1.0.0")
    preview = checked(github, pr)["deployment-preview.yml"]
    merged(github, pr)
    before = set(github.runs)
    promotion = promote(github, preview, "dev")
    [run_id] = sorted(set(github.runs) - before)
    assert "no keyless identity for https://github.com/" in github.runs[run_id].log()
    registry.git("fetch", "-q", "origin")
    history = registry.git("show", f"{promotion.head_sha}:deployments/dev/history.jsonl")
    event = json.loads(history.splitlines()[-1])
    assert {s["kind"] for s in event["signatures"]} == {"sshsig"}
