"""Allow-lists, not block-lists (issue 9, item 5), in a real registry: placement edits accept only
the config keys the pinned version declares editable; the secret scanning that guards bundles
guards every free text gitdocket records and the method files at freeze; exceptions go through
the registry's allow-list. Every refusal is one line, exit 1, and leaves refs, objects and the
worktree as they were."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

import pytest

from tests.integration.clients_support import ARCHETYPE, entitled, findings, forge, installed, vendor_and_client
from tests.support import Registry, Result, assert_error_and_hint, repo_state
from tests.unit.secret_corpus import made_up

ADDRESS = "acme/triage"
_ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
GITHUB = "ghp_" + made_up(_ALNUM, 36, "allow")
JWT = ".".join(
    (
        base64.urlsafe_b64encode(json.dumps({"alg": "HS256", "typ": "JWT"}).encode()).decode().rstrip("="),
        base64.urlsafe_b64encode(json.dumps({"sub": "ops"}).encode()).decode().rstrip("="),
        made_up(_ALNUM, 43, "jwt"),
    )
)


@pytest.fixture
def reg(registry: Registry) -> Registry:
    vendor_and_client(registry)
    installed(registry)
    return registry


def _refused(reg: Registry, args: tuple[str, ...], key: str, *names: str) -> Result:
    before = repo_state(reg)
    result = reg.run(*args, key=key)
    assert_error_and_hint(result, 1, *names)
    assert result.out == ""
    assert repo_state(reg) == before
    return result


# -- placement edits -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("setting", "words"),
    [
        pytest.param("model.name=other-model", "could write the method", id="nested-model-name"),
        pytest.param("tools.extra=exfiltrate", "could write the method", id="nested-tools"),
        pytest.param("skills=[]", "could write the method", id="method-field"),
        pytest.param("priority=high", "is not one support-triage 1.0.0 declares editable", id="undeclared"),
        pytest.param('tone={"model": "x"}', "not an object", id="object-value"),
    ],
)
def test_a_placement_edit_takes_only_declared_keys(reg: Registry, setting: str, words: str) -> None:
    _refused(reg, ("placement", "edit", ADDRESS, "--set", setting), "bob", words, "PLACEMENT_IS_CONFIG_ONLY")


def test_declared_keys_are_accepted_and_recorded_with_the_declaration(reg: Registry) -> None:
    reg.ok("placement", "edit", ADDRESS, "--set", "tone=formal", "--set", 'language=["en", "de"]', key="bob")
    show = reg.ok("placement", "show", ADDRESS, "--format", "json", key=None).json()
    assert show["config"] == {"language": ["en", "de"], "tone": "formal"}
    log = (reg.path / "registry/placements/acme/triage/history.jsonl").read_text().splitlines()
    assert json.loads(log[-1])["data"]["editable"] == ["tone", "language", "max_tickets"]
    assert findings(reg) == []


def test_verify_checks_the_declaration_an_edit_relied_on(reg: Registry) -> None:
    """A holder's hand-written edit claims a wider editable list than the version declares."""
    forge(
        reg,
        "registry/placements/acme/triage",
        "placement_edited",
        {"config": {"priority": "high"}, "editable": ["priority"]},
        "bob",
    )
    found = {(f["code"], f["invariant"]) for f in findings(reg)}
    assert ("REFERENCE_BROKEN", "PLACEMENT_IS_CONFIG_ONLY") in found


def test_an_archetype_cannot_declare_a_method_field_editable(registry: Registry, tmp_path: Any) -> None:
    import shutil

    from tests.support import EXAMPLES

    source = tmp_path / "src" / ARCHETYPE
    shutil.copytree(EXAMPLES / ARCHETYPE, source)
    yaml = source / "archetype.yaml"
    yaml.write_text(yaml.read_text().replace("editable: [tone, language, max_tickets]", "editable: [tone, model]"))
    before = registry.refs()
    result = registry.run("archetype", "new", ARCHETYPE, "--from", source)
    assert result.code == 2 and "editable key 'model' names a field of the method" in result.err
    assert registry.refs() == before


# -- secrets in free text ------------------------------------------------------------------------


def _entitled(reg: Registry) -> None:
    entitled(reg)


FREE_TEXT_CASES = [
    pytest.param(
        None,
        ("placement", "edit", ADDRESS, "--notes", f"deploy key {GITHUB}"),
        "bob",
        "registry/placements/acme/triage#notes",
        id="placement-notes",
    ),
    pytest.param(
        None,
        ("placement", "edit", ADDRESS, "--context", "db at postgres://svc:Sup3r-s3cret@db.internal/app"),
        "bob",
        "#context",
        id="placement-context",
    ),
    pytest.param(
        None,
        ("placement", "edit", ADDRESS, "--set", "tone=password=Hunter22!"),
        "bob",
        "#config",
        id="placement-config-value",
    ),
    pytest.param(
        None,
        ("placement", "disable", ADDRESS, "--reason", f"Authorization: Bearer {JWT}"),
        "bob",
        "#reason",
        id="placement-reason",
    ),
    pytest.param(
        _entitled,
        ("entitlement", "receipt", ADDRESS, "--kind", "billing", "--ref", f"INV-1 paid with {GITHUB}"),
        "carol",
        "registry/entitlements/acme/triage#reference",
        id="receipt-reference",
    ),
    pytest.param(
        _entitled,
        ("entitlement", "suspend", ADDRESS, "--reason", "password: Hunter22!"),
        "carol",
        "#reason",
        id="entitlement-reason",
    ),
    pytest.param(
        None,
        ("package", "withdraw", ARCHETYPE, "1.0.0", "--reason", f"leaked {JWT}"),
        "alice",
        "registry/packages/support-triage/1.0.0#reason",
        id="withdrawal-reason",
    ),
    pytest.param(
        None,
        ("version", "retire", ARCHETYPE, "1.0.0", "--reason", "aws_secret_access_key = " + made_up(_ALNUM, 40, "aws")),
        "alice",
        "registry/versions/support-triage/1.0.0#reason",
        id="retirement-reason",
    ),
]


@pytest.mark.parametrize(("prepare", "args", "key", "where"), FREE_TEXT_CASES)
def test_no_free_text_records_a_secret(
    reg: Registry, prepare: Callable[[Registry], None] | None, args: tuple[str, ...], key: str, where: str
) -> None:
    if prepare is not None:
        prepare(reg)
    result = _refused(reg, args, key, where, "holds a secret", "NO_SECRETS_RECORDED")
    assert "allow-list exactly" in result.err.splitlines()[1]


def test_the_allow_list_lets_one_place_through(reg: Registry) -> None:
    config = reg.path / "registry" / "registry.yaml"
    allowed = "registry/placements/acme/triage#notes"
    config.write_text(config.read_text().replace("allow_secrets: []", f"allow_secrets: ['{allowed}']"))
    reg.git("commit", "-qam", "allow a test token in the notes")
    _refused(reg, ("placement", "edit", ADDRESS, "--notes", f"fixture {GITHUB}"), "bob", "#notes")  # not signed yet
    reg.ok("config", "apply")  # the allow-list is signed configuration (ADR 0013)
    reg.ok("placement", "edit", ADDRESS, "--notes", f"test fixture {GITHUB}", key="bob")
    _refused(reg, ("placement", "edit", ADDRESS, "--context", f"and {GITHUB}"), "bob", "#context")


def test_pr_mode_reports_a_hand_written_secret(reg: Registry) -> None:
    base = reg.git("rev-parse", "HEAD").strip()
    forge(reg, "registry/placements/acme/triage", "install_disabled", {"reason": f"token {GITHUB}"}, "bob")
    pr = findings(reg, "--base", base)
    assert [(f["code"], f["invariant"]) for f in pr if f["code"] == "SECRET_RECORDED"] == [
        ("SECRET_RECORDED", "NO_SECRETS_RECORDED")
    ]


# -- method files at freeze ----------------------------------------------------------------------


def _commit_method_file(reg: Registry, rel: str, text: str) -> None:
    path = reg.path / "registry" / "archetypes" / ARCHETYPE / "method" / rel
    path.write_text(text)
    reg.git("add", "-A")
    reg.git("commit", "-qm", f"edit {rel}")


def test_freeze_refuses_a_method_file_with_a_secret(reg: Registry) -> None:
    _commit_method_file(
        reg, "tools/kb-search.json", '{\n  "endpoint": "https://kb",\n  "api_key": "' + GITHUB + '"\n}\n'
    )
    result = _refused(
        reg,
        ("version", "freeze", ARCHETYPE, "1.1.0"),
        "alice",
        "registry/archetypes/support-triage/method/tools/kb-search.json line 3 (GitHub token)",
        "NO_SECRETS_RECORDED",
    )
    assert "cannot freeze version support-triage 1.1.0" in result.err


def test_freeze_takes_an_allow_listed_method_file(reg: Registry) -> None:
    rel = "registry/archetypes/support-triage/method/tools/fixture.pem"
    _commit_method_file(reg, "tools/fixture.pem", "-----BEGIN PRIVATE KEY-----\nnot a real key\n")
    config = reg.path / "registry" / "registry.yaml"
    config.write_text(config.read_text().replace("allow_secrets: []", f"allow_secrets: [{rel}]"))
    reg.git("commit", "-qam", "allow the test fixture")
    reg.ok("config", "apply")  # the allow-list is signed configuration (ADR 0013)
    reg.ok("version", "freeze", ARCHETYPE, "1.1.0")
