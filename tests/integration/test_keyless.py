"""Keyless CI identities end to end, against the Sigstore the tests generate
(``tests.sigstore_instance``): a real registry, the real CLI, sigstore-python's real ``Verifier``
on every signature, the pinned trusted root. Only the OIDC token and the Fulcio and Rekor calls
are stood in for (``GITDOCKET_SIGSTORE_SIGNER``).

The git layer signs with ``gitkey``, an SSH identity that holds no role (ADR 0022): only the
workflow's keyless signature can authorize."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from gitdocket.core.canonical import canonical
from gitdocket.lifecycles.policy import TRUSTED_ROOT_DIR
from tests.sigstore_instance import GITHUB_ISSUER, INSTANCE, SIGNER, workflow_env
from tests.support import EXAMPLES, Registry, repo_state

WORKFLOW = "acme/registry/.github/workflows/deployment-promote.yml"
TRIAGE = EXAMPLES / "support-triage"
SUBJECT = f"https://github.com/{WORKFLOW}@refs/heads/main"


@pytest.fixture
def keyless(registry: Registry, tmp_path: Path) -> Iterator[Registry]:
    """alice pins the generated root, adds ``ci`` (the workflow) and ``gitkey`` (no role), and
    makes ``ci`` an author; the writes after run as the workflow would."""
    root = tmp_path / "trusted_root.json"
    root.write_bytes(INSTANCE.trusted_root())
    registry.ok("policy", "pin-root", root)
    registry.ok("policy", "add-identity", "ci", "--github-workflow", f"{WORKFLOW}@refs/heads/main")
    registry.ok("policy", "add-identity", "gitkey", str(registry.key("gitkey")) + ".pub")
    registry.ok("policy", "grant", "authors", "ci")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("GITDOCKET_SIGSTORE_SIGNER", SIGNER)
        for name, value in workflow_env(WORKFLOW).items():
            patch.setenv(name, value)
        yield registry


def _as_ci(patch: pytest.MonkeyPatch, principal: str = "ci", **claims: str) -> None:
    patch.setenv("GITDOCKET_SIGSTORE", principal)
    for name, value in workflow_env(WORKFLOW, claims).items():
        patch.setenv(name, value)


def _last_event(reg: Registry, scope_path: str) -> dict[str, object]:
    lines = (reg.path / scope_path / "history.jsonl").read_text().splitlines()
    event: dict[str, object] = json.loads(lines[-1])
    return event


def test_a_keyless_signed_event_is_accepted_and_verifies(keyless: Registry, monkeypatch: pytest.MonkeyPatch) -> None:
    base = keyless.git("rev-parse", "HEAD").strip()
    _as_ci(monkeypatch)
    keyless.ok("archetype", "new", "support-triage", "--from", TRIAGE, key="gitkey")
    event = _last_event(keyless, "registry/archetypes/support-triage")
    assert event["actor"] == "ci"
    pr = keyless.run("verify", "--base", base)  # the base policy authorizes the keyless event
    assert pr.code == 0, pr.out + pr.err
    assert keyless.run("verify", "--since", base).code == 0
    kinds = {(s["principal"], s["kind"]) for s in event["signatures"]}  # type: ignore[attr-defined]
    assert kinds == {("ci", "sigstore"), ("gitkey", "sshsig")}
    report = keyless.run("verify", "--format", "json")
    assert report.code == 0, report.out + report.err
    shown = keyless.ok("policy", "show", "--format", "json").json()
    assert shown["identities"]["ci"]["claims"] == {
        "ref": "refs/heads/main",
        "repository": "https://github.com/acme/registry",
        "workflow": SUBJECT,
    }
    assert shown["identities"]["ci"]["issuer"] == GITHUB_ISSUER


def test_without_the_keyless_signature_the_git_layer_key_authorizes_nothing(keyless: Registry) -> None:
    before = repo_state(keyless)
    result = keyless.run("archetype", "new", "support-triage", "--from", TRIAGE, key="gitkey")
    assert result.code == 1
    assert "needs 1 signature(s) by authors" in result.err
    assert repo_state(keyless) == before


@pytest.mark.parametrize(
    ("claims", "named"),
    [
        pytest.param({"repository": "https://github.com/evil/registry"}, "repository", id="wrong-repository"),
        pytest.param(
            {"workflow": "https://github.com/acme/registry/.github/workflows/other.yml@refs/heads/main"},
            "workflow",
            id="wrong-workflow",
        ),
        pytest.param({"ref": "refs/heads/feature"}, "ref", id="wrong-ref"),
        pytest.param({"issuer": "https://accounts.example.com"}, "issuer", id="wrong-issuer"),
        pytest.param(
            {"subject": "https://github.com/acme/registry/.github/workflows/x.yml@refs/heads/main"},
            "identity",
            id="wrong-identity",
        ),
    ],
)
def test_a_certificate_for_another_workflow_is_refused_naming_the_claim(
    keyless: Registry, monkeypatch: pytest.MonkeyPatch, claims: dict[str, str], named: str
) -> None:
    _as_ci(monkeypatch, **claims)
    before = repo_state(keyless)
    result = keyless.run("archetype", "new", "support-triage", "--from", TRIAGE, key="gitkey")
    assert result.code == 1, result.out
    line = result.err.splitlines()[0]
    assert f"signature by ci does not verify: certificate {named} is" in line, result.err
    assert "Traceback" not in result.err
    assert repo_state(keyless) == before


def test_a_threshold_mixes_an_ssh_key_and_a_workflow(keyless: Registry, monkeypatch: pytest.MonkeyPatch) -> None:
    keyless.ok("policy", "threshold", "authors", "2")
    alone = keyless.run("archetype", "new", "support-triage", "--from", TRIAGE)
    assert alone.code == 1
    assert "needs 2 signature(s) by authors, got 1" in alone.err
    _as_ci(monkeypatch)
    keyless.ok("archetype", "new", "support-triage", "--from", TRIAGE)
    event = _last_event(keyless, "registry/archetypes/support-triage")
    assert {s["principal"] for s in event["signatures"]} == {"alice", "ci"}  # type: ignore[attr-defined]
    assert keyless.run("verify").code == 0


def test_an_identity_pinned_to_an_environment_signs_nothing_else(
    keyless: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    keyless.ok(
        "policy",
        "add-identity",
        "ci-prod",
        "--github-workflow",
        f"{WORKFLOW}@refs/heads/main",
        "--environment",
        "prod",
    )
    keyless.ok("policy", "grant", "authors", "ci-prod")
    _as_ci(monkeypatch, "ci-prod")
    result = keyless.run("archetype", "new", "support-triage", "--from", TRIAGE, key="gitkey")
    assert result.code == 1
    assert "ci-prod signs for environment prod only, not archetype support-triage" in result.err


@pytest.mark.parametrize(
    ("args", "words"),
    [
        pytest.param(("--issuer", GITHUB_ISSUER, "--identity", SUBJECT), "pins no certificate claim", id="no-claims"),
        pytest.param(
            ("--issuer", GITHUB_ISSUER, "--identity", SUBJECT, "--environment", "prod"),
            "pins no certificate claim",
            id="only-an-environment",
        ),
        pytest.param(("--github-workflow", "acme/registry@main"), "is not OWNER/REPO/", id="malformed-workflow"),
        pytest.param(
            ("--github-workflow", f"{WORKFLOW}@refs/heads/main", "--claim", "colour=blue"),
            "--claim",
            id="unknown-claim",
        ),
    ],
)
def test_a_keyless_identity_without_pinned_claims_is_refused(
    registry: Registry, args: tuple[str, ...], words: str
) -> None:
    before = repo_state(registry)
    result = registry.run("policy", "add-identity", "ci", *args)
    assert result.code in (1, 2)
    assert words in result.err.splitlines()[0], result.err
    assert "Traceback" not in result.err
    assert repo_state(registry) == before


def test_pin_root_refuses_a_file_that_is_no_trusted_root(registry: Registry, tmp_path: Path) -> None:
    bad = tmp_path / "root.json"
    bad.write_text('{"mediaType": "text/plain"}')
    before = repo_state(registry)
    result = registry.run("policy", "pin-root", bad)
    assert result.code == 2
    assert result.err.startswith(f"error: {bad}: the pinned trusted root does not parse")
    assert repo_state(registry) == before


def _commit_by_hand(reg: Registry, message: str) -> None:
    reg.git("add", "-A")
    reg.git("-c", "commit.gpgsign=false", "commit", "-q", "-m", message)


@pytest.mark.parametrize(
    "edit",
    [
        pytest.param("edit", id="root-edited"),
        pytest.param("add", id="root-added"),
        pytest.param("remove", id="root-removed"),
    ],
)
def test_a_root_file_changed_without_a_policy_event_is_reported(keyless: Registry, edit: str) -> None:
    folder = keyless.path / TRUSTED_ROOT_DIR
    [pinned] = sorted(folder.iterdir())
    if edit == "edit":
        pinned.write_bytes(pinned.read_bytes().replace(b"rekor.docket.test", b"rekor.evil.test"))
    elif edit == "add":
        (folder / ("cd" * 32 + ".json")).write_bytes(pinned.read_bytes())
    else:
        pinned.unlink()
    _commit_by_hand(keyless, "edit the trusted root")
    result = keyless.run("verify", "--format", "json")
    assert result.code == 1
    codes = {(f["code"], f["invariant"]) for f in result.json()["findings"]}
    assert ("TRUSTED_ROOT_UNSIGNED", "TRUSTED_ROOT_PINNED") in codes


def test_rotating_the_root_keeps_old_signatures_valid(
    keyless: Registry, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """An event is judged by the root its policy version pinned: a later root (another
    Sigstore instance altogether) does not orphan it."""
    _as_ci(monkeypatch)
    keyless.ok("archetype", "new", "support-triage", "--from", TRIAGE, key="gitkey")
    monkeypatch.delenv("GITDOCKET_SIGSTORE")
    other = tmp_path / "other_root.json"
    other.write_bytes(type(INSTANCE)(seed="another-sigstore").trusted_root())
    keyless.ok("policy", "pin-root", other)
    assert len(list((keyless.path / TRUSTED_ROOT_DIR).iterdir())) == 2
    assert keyless.run("verify").code == 0


def test_verify_reports_a_bundle_that_does_not_parse_in_one_line(
    keyless: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    _as_ci(monkeypatch)
    keyless.ok("archetype", "new", "support-triage", "--from", TRIAGE, key="gitkey")
    history = keyless.path / "registry/archetypes/support-triage/history.jsonl"
    *earlier, last = history.read_bytes().splitlines()
    event = json.loads(last)
    for entry in event["signatures"]:
        if entry["kind"] == "sigstore":
            entry["bundle"] = {"mediaType": "not a bundle"}
    history.write_bytes(b"\n".join([*earlier, canonical(event)]) + b"\n")
    _commit_by_hand(keyless, "swap the bundle")
    result = keyless.run("verify", "--format", "json")
    assert result.code == 1
    assert "Traceback" not in result.err
    [finding] = [f for f in result.json()["findings"] if f["code"] == "SIGNATURE_INVALID"]
    assert finding["path"] == "registry/archetypes/support-triage/history.jsonl:1"
    assert "signature by ci does not verify: the Sigstore bundle does not parse" in finding["message"]
    assert "\n" not in finding["message"]
