"""Signed run-admission tokens: issued only when run-check says Active, checked offline against
the registry (signature by an authority, audience, placement, expiry, the entitlement still
Active), and the documented runtime snippet run as written."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from gitdocket.adapters.signing import KeySigner
from gitdocket.core.canonical import canonical
from gitdocket.lifecycles.admission import NAMESPACE, PREFIX
from gitdocket.lifecycles.invariants import ADMISSION_REQUIRES_ACTIVE_ENTITLEMENT, ADMISSION_TOKEN_BOUND
from tests.integration.clients_support import entitled, installed, vendor_and_client
from tests.support import ROOT, Registry, repo_state

ADDRESS = "acme/triage"


@pytest.fixture
def active(registry: Registry) -> Registry:
    vendor_and_client(registry)
    installed(registry)
    entitled(registry)
    return registry


def issue(reg: Registry, *extra: str, key: str = "carol") -> str:
    result = reg.ok("admit-run", ADDRESS, "--audience", "runtime-eu", *extra, key=key)
    token = result.out.strip()
    assert token.startswith(PREFIX)
    return token


def verify(reg: Registry, token: str, *extra: str) -> Any:
    return reg.run("admission", "verify", token, *extra, key=None)


def _doc(token: str) -> dict[str, Any]:
    body = token.removeprefix(PREFIX)
    loaded: dict[str, Any] = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    return loaded


def _token(doc: dict[str, Any]) -> str:
    return PREFIX + base64.urlsafe_b64encode(canonical(doc)).decode().rstrip("=")


def test_a_token_is_accepted_then_refused_after_suspension(active: Registry) -> None:
    """ADMISSION_REQUIRES_ACTIVE_ENTITLEMENT: the token carries what run-check judged; a verifier
    with the registry refuses it once the entitlement is suspended (a replay)."""
    token = issue(active, "--ttl", "10m")
    claims = _doc(token)["claims"]
    assert claims["placement"] == ADDRESS and claims["audience"] == "runtime-eu"
    assert (claims["archetype"], claims["version"]) == ("support-triage", "1.0.0")
    assert claims["content_hash"].startswith("sha256:") and claims["entitlement"]["verdict"] == "Active"
    assert (claims["issued_at"], claims["expires_at"]) == ("2026-01-01T00:00:00Z", "2026-01-01T00:10:00Z")
    assert re.fullmatch(r"[0-9a-f]{32}", claims["id"]) and claims["issuer"] == "carol"
    accepted = verify(active, token, "--audience", "runtime-eu", "--placement", ADDRESS, "--format", "json")
    assert accepted.code == 0, accepted.err
    assert accepted.json()["id"] == claims["id"]
    active.ok("entitlement", "suspend", ADDRESS, "--reason", "invoice overdue", key="carol")
    replayed = verify(active, token, "--audience", "runtime-eu")
    assert replayed.code == 1
    assert "suspended" in replayed.err and ADMISSION_REQUIRES_ACTIVE_ENTITLEMENT.name in replayed.err


def test_the_same_inputs_give_the_same_token(active: Registry) -> None:
    assert issue(active) == issue(active)


@pytest.mark.parametrize(
    ("prepare", "key", "needle"),
    [
        pytest.param(lambda reg: None, "bob", "not an entitlement authority", id="not-an-authority"),
        pytest.param(
            lambda reg: reg.ok("entitlement", "suspend", ADDRESS, "--reason", "x", key="carol"),
            "carol",
            "Blocked",
            id="suspended",
        ),
    ],
)
def test_no_token_unless_active_and_signed_by_an_authority(
    active: Registry, prepare: Callable[[Registry], object], key: str, needle: str
) -> None:
    """ADMISSION_REQUIRES_ACTIVE_ENTITLEMENT: nothing is issued (and nothing written) otherwise."""
    prepare(active)
    before = repo_state(active)
    result = active.run("admit-run", ADDRESS, "--audience", "runtime-eu", key=key)
    assert result.code == 1 and needle in result.err, result.err
    assert result.out == "" and repo_state(active) == before


def _resigned_by(reg: Registry, name: str) -> Callable[[str], str]:
    """The claims signed by ``name``'s real key (still claiming carol as issuer)."""

    def forge(token: str) -> str:
        doc = _doc(token)
        sig = KeySigner.from_file(reg.key(name)).sign(canonical(doc["claims"]), NAMESPACE).decode()
        doc["signature"]["sig"] = sig
        return _token(doc)

    return forge


def _edited(field: str, value: Any) -> Callable[[str], str]:
    def edit(token: str) -> str:
        doc = _doc(token)
        doc["claims"][field] = value
        return _token(doc)

    return edit


BAD = [
    pytest.param(_edited("audience", "runtime-us"), (), 1, "signature", id="claims-edited-after-signing"),
    pytest.param("mallory", (), 1, "signature does not verify", id="wrong-signature"),
    pytest.param(lambda t: t[:-40], (), 2, "malformed run-admission token", id="truncated"),
    pytest.param(lambda t: "eyJ" + t, (), 2, "not a run-admission token", id="not-a-token"),
    pytest.param(lambda t: t, ("--at", "2026-01-01T00:10:00Z"), 1, "expired at", id="expired"),
    pytest.param(lambda t: t, ("--at", "2025-12-31T23:59:59Z"), 1, "not valid before", id="not-yet-valid"),
    pytest.param(lambda t: t, ("--audience", "runtime-us"), 1, "not runtime-us", id="wrong-audience"),
    pytest.param(lambda t: t, ("--placement", "acme/other"), 1, "not acme/other", id="another-placement"),
]


@pytest.mark.parametrize(("change", "extra", "code", "needle"), BAD)
def test_a_bad_token_is_refused(
    active: Registry, change: Callable[[str], str] | str, extra: tuple[str, ...], code: int, needle: str
) -> None:
    """ADMISSION_TOKEN_BOUND: one line, exit 1 refused or 2 malformed, nothing written."""
    token = issue(active)
    bad = _resigned_by(active, change)(token) if isinstance(change, str) else change(token)
    args = ("--audience", "runtime-eu", *extra) if "--audience" not in extra else extra
    before = repo_state(active)
    result = verify(active, bad, *args)
    assert result.code == code, result.err
    assert needle in result.err and result.err.count("error:") == 1
    if code == 1:
        assert ADMISSION_TOKEN_BOUND.name in result.err
    assert repo_state(active) == before


def _snippet() -> str:
    text = (ROOT / "docs" / "admission.md").read_text(encoding="utf-8")
    found = re.findall(r"^```python\n(.*?)^```", text, re.M | re.S)
    assert len(found) == 1
    return str(found[0])


def test_the_documented_runtime_snippet_checks_a_token(active: Registry, tmp_path: Path) -> None:
    """ADMISSION_TOKEN_BOUND: the docs page's few lines (stdlib and ssh-keygen) accept a real
    token for its audience, and refuse a forged signature, another audience and an expired one."""
    signers = tmp_path / "allowed_signers"
    active.ok("admission", "signers", "acme", "--out", signers, key=None)
    assert signers.read_text().startswith('carol namespaces="gitdocket-run-admission" ssh-ed25519 ')
    scope: dict[str, Any] = {}
    exec(compile(_snippet(), "docs/admission.md", "exec"), scope)
    admit = scope["admit"]
    token = issue(active)
    now = datetime(2026, 1, 1, 0, 5, tzinfo=UTC)
    assert admit(token, "runtime-eu", ADDRESS, str(signers), now)["issuer"] == "carol"
    for bad, audience, when in [
        (_resigned_by(active, "mallory")(token), "runtime-eu", now),
        (token, "runtime-us", now),
        (token, "runtime-eu", datetime(2026, 1, 1, 0, 10, tzinfo=UTC)),
    ]:
        with pytest.raises(ValueError):
            admit(bad, audience, ADDRESS, str(signers), when)


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(("--audience", "Runtime EU"), id="bad-audience"),
        pytest.param(("--audience", "runtime-eu", "--ttl", "48h"), id="ttl-too-long"),
        pytest.param(("--audience", "runtime-eu", "--ttl", "soon"), id="ttl-not-a-duration"),
    ],
)
def test_admit_run_bad_input_is_exit_2(registry: Registry, args: tuple[str, ...]) -> None:
    before = repo_state(registry)
    result = registry.run("admit-run", ADDRESS, *args)
    assert result.code == 2 and result.err.startswith("error: ") and "internal error" not in result.err
    assert repo_state(registry) == before


def test_rev_judges_the_token_at_that_commit(active: Registry) -> None:
    """ADMISSION_REQUIRES_ACTIVE_ENTITLEMENT: --rev reads the registry as of a commit: before the
    suspension the token is accepted, at the tip it is refused; admit-run --rev issues from there."""
    before = active.git("rev-parse", "HEAD").strip()
    token = issue(active)
    active.ok("entitlement", "suspend", ADDRESS, "--reason", "invoice overdue", key="carol")
    assert verify(active, token, "--audience", "runtime-eu", "--rev", before).code == 0
    assert verify(active, token, "--audience", "runtime-eu").code == 1
    assert active.run("admit-run", ADDRESS, "--audience", "runtime-eu", key="carol").code == 1
    assert issue(active, "--rev", before).startswith(PREFIX)


def test_signers_of_a_project_without_authorities_says_so(active: Registry) -> None:
    """No authority with an SSH key: nothing to trust, and a note naming the grant that fixes it."""
    result = active.ok("admission", "signers", "globex", key=None)
    assert result.out == ""
    assert "note: project globex has no entitlement authority with an SSH key" in result.err
    assert "`gitdocket policy grant authorities:globex NAME`" in result.err
    assert active.ok("admission", "signers", "acme", key=None).err == ""
