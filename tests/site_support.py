"""The registries the site tests build sites of: the demo's own registry (for the browser), and a
fixture registry with every kind of record written through the CLI with deterministic keys and
clock (the same commits, signatures and bundle ids on every run, wherever it is built: the golden
pages and the hostile-text test use it)."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from gitdocket.core import sshsig
from gitdocket.demo import run_demo
from gitdocket.demo.releases import write_evidence
from gitdocket.ops.session import Session
from gitdocket.ops.site import site_input
from gitdocket.site import SiteInput
from tests.support import EXAMPLES, Registry, det_key, isolated, run_cli, write_key

GOLDEN = Path(__file__).resolve().parent / "data" / "golden" / "site"


def build_demo(root: Path) -> Path:
    """Run ``gitdocket demo`` into ``root / "demo"`` (isolated); returns its registry."""
    with pytest.MonkeyPatch.context() as monkeypatch, isolated(root / "home", monkeypatch):
        run_demo(root / "demo", lambda _line: None)
    return root / "demo" / "acme-registry"


def demo_input(registry: Path, evidence: tuple[Path, ...] = ()) -> SiteInput:
    return site_input(Session(registry), evidence)


@dataclass(frozen=True)
class Words:
    """Every free-text field the fixture registry fills in (the hostile test swaps them all)."""

    registry_name: str = "acme-registry"
    title: str = "Support triage"
    description: str = "Reads incoming support tickets and drafts a first reply."
    instructions: str = "Answer in the customer's language."
    tag: str = "support"
    retire_reason: str = "frozen by mistake: same method as 1.1.0"
    withdraw_reason: str = "found a prompt-injection path"
    notes: str = "pinned for the Q1 pilot"
    context: str = "tickets from the EU desk"
    config_value: str = "eu-west"
    terms: str = "pilot terms 2026"
    receipt: str = "INV-2026-001"
    rollback_reason: str = "canary error rate doubled after the switch"


_H = '<script>alert("x")</script><img src=x onerror=alert(1)> [a](javascript:alert(2)) **b** {: onclick=alert(3) } |c|'
HOSTILE_WORDS = Words(
    registry_name=f"acme {_H}",
    title=f"T {_H}",
    description=f"D {_H}\n# not a heading\n<iframe src=https://evil.example></iframe>",
    instructions=f"SECRET-METHOD {_H}",
    tag=f"tag {_H}",
    retire_reason=f"retired {_H}",
    withdraw_reason=f"withdrawn {_H}",
    notes=f"notes {_H}",
    context=f"context {_H}",
    config_value=f"config {_H}",
    terms=f"terms {_H}",
    receipt=f"INV {_H}"[:200],
    rollback_reason=f"rollback {_H}",
)
"""Injection in every field: a script, an event handler, a javascript: link, Markdown emphasis,
an attr_list, table pipes, an iframe and line breaks."""


def _method_source(root: Path, words: Words) -> Path:
    """examples/archetypes/support-triage with the words of ``words`` in its documents."""
    source = root / "src" / "support-triage"
    shutil.copytree(EXAMPLES / "support-triage", source)
    doc = {
        "name": "support-triage",
        "title": words.title,
        "description": words.description,
        "protection": {
            "deployment_mode": "private/federated",
            "read_scope": ["tickets"],
            "crossing_terms": words.terms,
        },
        "tags": [words.tag],
        "editable": ["region"],
    }
    (source / "archetype.yaml").write_text(json.dumps(doc, ensure_ascii=False) + "\n")
    with (source / "method" / "instructions.md").open("a", encoding="utf-8") as handle:
        handle.write(f"\n{words.instructions}\n")
    return source


def _people(reg: Registry) -> None:
    for name in ("bob", "carol"):
        line = sshsig.public_key_line(det_key(name).public_key(), name)
        reg.ok("policy", "add-identity", name, line)
    for role, name in (("holders:acme", "bob"), ("admins:acme", "bob"), ("authorities:acme", "carol")):
        reg.ok("policy", "grant", role, name)


def _clients(reg: Registry, words: Words) -> None:
    reg.ok("placement", "request", "support-triage", "1.1.0", "--project", "acme", "--name", "triage", key="bob")
    reg.ok("placement", "admit", "acme/triage", key="bob")
    reg.ok("placement", "install", "acme/triage", key="bob")
    reg.ok(
        "placement", "edit", "acme/triage", "--notes", words.notes, "--context", words.context,
        "--set", f"region={json.dumps(words.config_value)}", key="bob",
    )  # fmt: skip
    reg.ok("entitlement", "request", "acme/triage", "--terms", words.terms, key="bob")
    reg.ok("entitlement", "receipt", "acme/triage", "--kind", "billing", "--ref", words.receipt, key="bob")
    reg.ok("entitlement", "activate", "acme/triage", "--expires", "2099-01-01T00:00:00Z", key="carol")


def _releases(reg: Registry, root: Path, words: Words) -> None:
    evidence = write_evidence(root / "evidence")
    reports = root / "reports"
    for label in ("pr-preview", "candidate"):
        built = reg.ok("bundle", "build", "--label", label, "--evidence", evidence, "--format", "json").json()
        reg.ok("bundle", "verify", built["bundle_id"], "--record")
        reg.ok("promote", built["bundle_id"], "--to", "prod", "--reports-dir", reports)
    reg.ok("rollback", "--env", "prod", "--reason", words.rollback_reason)


def build_registry(root: Path, words: Words = Words()) -> Path:
    """A registry with every kind of record, written through the CLI with deterministic keys
    and clock (the same commits on every run, wherever ``root`` is): two archetypes and a fork;
    packaged, retired and withdrawn versions; a placement installed and entitled; two verified
    bundles promoted through every environment; prod rolled back with a reason. Runs inside the
    caller's isolated environment (every test has one)."""
    keys = root / "keys"
    keys.mkdir(parents=True)
    alice = write_key(keys, "alice")
    path = root / "registry"
    done = run_cli("init", path, "--name", words.registry_name, "--identity", "alice", "--key", alice)
    assert done.code == 0, done.err
    reg = Registry(path, keys, alice, {"alice": alice})
    reg.ok("archetype", "new", "support-triage", "--from", _method_source(root, words))
    reg.ok("archetype", "new", "release-notes", "--from", EXAMPLES / "release-notes")
    for version in ("1.0.0", "1.1.0"):
        reg.ok("release", "support-triage", version)
    reg.ok("version", "freeze", "support-triage", "1.2.0")
    reg.ok("version", "retire", "support-triage", "1.2.0", "--reason", words.retire_reason)
    reg.ok("release", "release-notes", "0.1.0")
    reg.ok("package", "withdraw", "release-notes", "0.1.0", "--reason", words.withdraw_reason)
    reg.ok("archetype", "fork", "support-triage", "triage-eu", "--from-version", "1.0.0")
    _people(reg)
    _clients(reg, words)
    _releases(reg, root, words)
    return path
