"""Malformed and hostile input through the real CLI: one `error:` line naming the file or scope
(plus at most one `hint:` line), exit 2 for bad input and 1 for refusals, no traceback — and the
repository exactly as it was: same refs, same objects in .git/objects, same worktree.

Concurrent writers are covered by the store's own tests.
"""

from __future__ import annotations

import importlib
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from gitdocket.core.limits import MAX_FILE_BYTES
from tests.support import EXAMPLES, Registry, Result, pin_system_clock, repo_state, run_cli

SOURCE = EXAMPLES / "support-triage"
NOW = "2026-01-01T00:00:00Z"


@dataclass(frozen=True)
class Case:
    """``prepare`` returns the CLI arguments (``--repo`` is appended) after arranging the input;
    ``clock`` pins the system clock apart from ``GITDOCKET_NOW``."""

    prepare: Callable[[Registry, Path], list[str]]
    code: int
    names: str
    key: str | None = "alice"
    clock: str | None = None


def _folder(tmp: Path, name: str = "support-triage") -> Path:
    """A copy of the example archetype to spoil."""
    target = tmp / "src" / name
    shutil.copytree(SOURCE, target)
    return target


def _new_from(edit: Callable[[Path], None], name: str = "support-triage") -> Callable[[Registry, Path], list[str]]:
    def prepare(_reg: Registry, tmp: Path) -> list[str]:
        folder = _folder(tmp)
        if name == "other":
            yaml = folder / "archetype.yaml"
            yaml.write_text(yaml.read_text().replace("name: support-triage", "name: other"))
        edit(folder)
        return ["archetype", "new", name, "--from", str(folder)]

    return prepare


def _append_yaml(text: str) -> Callable[[Path], None]:
    def edit(folder: Path) -> None:
        path = folder / "archetype.yaml"
        path.write_text(path.read_text() + text)

    return edit


def _wrong_type(folder: Path) -> None:
    path = folder / "archetype.yaml"
    path.write_text(path.read_text().replace("tags: [support, triage]", "tags: 5"))


def _broken_yaml(folder: Path) -> None:
    (folder / "archetype.yaml").write_text("name: support-triage\ntitle: [unclosed\n")


def _alias_bomb(folder: Path) -> None:
    """Nine aliases per level, seven levels: a few hundred bytes that expand to millions."""
    lines = ["name: support-triage", "a0: &a0 [x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 8)]
    (folder / "archetype.yaml").write_text("\n".join(lines) + "\n")


def _deep_yaml(folder: Path) -> None:
    (folder / "archetype.yaml").write_text("name: " + "[" * 300 + "]" * 300 + "\n")


def _symlink(folder: Path) -> None:
    (folder / "method" / "skills" / "passwd.md").symlink_to("/etc/passwd")


def _huge(folder: Path) -> None:
    (folder / "method" / "tools" / "weights.bin").write_bytes(b"\0" * (MAX_FILE_BYTES + 1))


def _duplicate_keys(folder: Path) -> None:
    (folder / "method" / ".agent-config.json").write_text(
        '{"model": {"provider": "a", "name": "b"}, "model": {"provider": "c", "name": "d"}}\n'
    )


def _freeze(number: str = "1.0.0") -> Callable[[Registry, Path], list[str]]:
    return lambda _reg, _tmp: ["version", "freeze", "support-triage", number]


def _committed(edit: Callable[[Path], None]) -> Callable[[Registry, Path], list[str]]:
    """Someone commits a bad file with plain git; gitdocket then reads it."""

    def prepare(reg: Registry, _tmp: Path) -> list[str]:
        edit(reg.path / "registry" / "archetypes" / "support-triage")
        reg.git("add", "-A")
        reg.git("commit", "-q", "-m", "edit by hand")
        return _freeze()(reg, _tmp)

    return prepare


def _hand_edited_log(folder: Path) -> None:
    log = folder / "history.jsonl"
    log.write_text(log.read_text().replace('{"actor"', '{ "actor"', 1))


def _edited_log_line(reg: Registry, _tmp: Path) -> list[str]:
    """Canonical JSON still, but line 1 is not the line that line 2 chained onto."""
    reg.ok("version", "freeze", "support-triage", "1.0.0")
    log = reg.path / "registry" / "versions" / "support-triage" / "1.0.0" / "history.jsonl"
    log.write_text(log.read_text().replace('"method_tree":"', '"method_tree":"0', 1))
    reg.git("commit", "-q", "-am", "edit by hand")
    return ["version", "retire", "support-triage", "1.0.0", "--reason", "x"]


def _with_bob(reg: Registry, _tmp: Path) -> list[str]:
    reg.ok("policy", "add-identity", "bob", f"{reg.key('bob')}.pub")
    return _freeze()(reg, _tmp)


def _stranger(reg: Registry, _tmp: Path) -> list[str]:
    reg.key("mallory")
    return _freeze()(reg, _tmp)


def _bad_clock(_reg: Registry, _tmp: Path) -> list[str]:
    os.environ["GITDOCKET_NOW"] = "yesterday at noon"
    return _freeze()(_reg, _tmp)


def _no_folder(_reg: Registry, tmp: Path) -> list[str]:
    return ["archetype", "new", "other", "--from", str(tmp / "no-such-folder")]


def _missing_key_file(_reg: Registry, tmp: Path) -> list[str]:
    return [*_freeze()(_reg, tmp), "--key", str(tmp / "no-such-key")]


def _method_file(name: str, data: bytes = b"a skill\n") -> Callable[[Path], None]:
    def edit(folder: Path) -> None:
        (folder / "method" / "skills" / name).write_bytes(data)

    return edit


def _file_case(name: str, names: str, data: bytes = b"a skill\n") -> Case:
    """``archetype new`` from a folder whose method holds a file called ``name``."""
    return Case(_new_from(_method_file(name, data), "other"), 2, names)


LFS = b"version https://git-lfs.github.com/spec/v1\noid sha256:" + b"0" * 64 + b"\nsize 9000\n"


def _case_twins(folder: Path) -> None:
    (folder / "method" / "skills" / "Classify.md").write_text("the same name to Windows and macOS\n")


def _huge_yaml(folder: Path) -> None:
    (folder / "archetype.yaml").write_bytes(b"name: other\n" + b"#" * MAX_FILE_BYTES)


def _deep_config(folder: Path) -> None:
    (folder / "method" / ".agent-config.json").write_text(
        '{"model": {"provider": "a", "name": "b"}, "settings": ' + "[" * 80 + "]" * 80 + "}\n"
    )


def _committed_link(folder: Path) -> None:
    (folder / "method" / "skills" / "shared.md").symlink_to("classify.md")


def _gitlink(reg: Registry, _tmp: Path) -> list[str]:
    head = reg.git("rev-parse", "HEAD").strip()
    path = "registry/archetypes/support-triage/method/vendor"
    reg.git("update-index", "--add", "--cacheinfo", f"160000,{head},{path}")
    reg.git("commit", "-q", "-m", "a submodule in the method")
    return _freeze()(reg, _tmp)


def _env(name: str, value: str, then: Callable[[Registry, Path], list[str]]) -> Callable[[Registry, Path], list[str]]:
    def prepare(reg: Registry, tmp: Path) -> list[str]:
        os.environ[name] = value
        return then(reg, tmp)

    return prepare


def _expired(reg: Registry, tmp: Path) -> list[str]:
    reg.ok("policy", "expires", "2026-06-01T00:00:00Z")
    os.environ["GITDOCKET_NOW"] = "2026-05-31T23:00:00Z"  # just before; the system clock is later
    return _freeze()(reg, tmp)


def _unsigned_config(reg: Registry, _tmp: Path) -> list[str]:
    reg.git("rm", "-rq", "registry/config")
    reg.git("commit", "-qm", "drop the signed configuration")
    return ["bundle", "build", "--label", "pr-preview"]


def _protect_the_policy(reg: Registry, _tmp: Path) -> list[str]:
    yaml = reg.path / "registry" / "registry.yaml"
    yaml.write_text(yaml.read_text().replace("protected:\n", "protected:\n  - path: registry/policy/\n"))
    reg.git("commit", "-qam", "protect the policy")
    return ["config", "apply"]


def _identity_in_other_case(reg: Registry, _tmp: Path) -> list[str]:
    return ["policy", "add-identity", "ALICE", f"{reg.key('bob')}.pub"]


def _empty_key_file(_reg: Registry, tmp: Path) -> list[str]:
    """What a workflow writes when the CI secret is not set: `printf '%s\\n' "$KEY" > key`."""
    (tmp / "ci_key").write_text("\n")
    return [*_freeze()(_reg, tmp), "--key", str(tmp / "ci_key")]


def _summary_nowhere(_reg: Registry, tmp: Path) -> list[str]:
    return ["verify", "--summary", str(tmp / "no-such-folder" / "summary.md")]


CASES = [
    pytest.param(Case(_new_from(lambda f: None, "con"), 2, "'con'"), id="archetype-name-reserved-device"),
    pytest.param(Case(_freeze("1.0.0-RC1"), 2, "'1.0.0-RC1'"), id="version-prerelease-in-capitals"),
    pytest.param(Case(_identity_in_other_case, 1, "ALICE and alice differ only in case"), id="principal-case-twin"),
    pytest.param(_file_case("\u202eevil.md", "U+202E"), id="method-name-bidi"),
    pytest.param(_file_case("zero\u200bwidth.md", "U+200B"), id="method-name-zero-width"),
    pytest.param(_file_case("cafe\u0301.md", "NFC"), id="method-name-not-nfc"),
    pytest.param(_file_case("payp\u0430l.md", "several scripts"), id="method-name-mixed"),
    pytest.param(_file_case("aux.md", "device name"), id="method-name-reserved"),
    pytest.param(_file_case("note.", "ends with a dot"), id="method-name-trailing-dot"),
    pytest.param(_file_case("a\nb.md", "U+000A"), id="method-name-newline"),
    pytest.param(Case(_new_from(_case_twins, "other"), 2, "differ only in case"), id="method-names-case-twins"),
    pytest.param(_file_case("model.bin", "Git LFS pointer", LFS), id="method-lfs-pointer"),
    pytest.param(Case(_new_from(_huge_yaml, "other"), 2, "larger than 1024 KiB"), id="archetype-yaml-too-large"),
    pytest.param(Case(_new_from(_deep_config, "other"), 2, "nested"), id="agent-config-too-deep"),
    pytest.param(
        Case(_committed(_method_file("model.bin", LFS)), 1, "Git LFS pointer"), id="committed-lfs-pointer-at-freeze"
    ),
    pytest.param(Case(_committed(_committed_link), 1, "is a symlink"), id="committed-symlink-at-freeze"),
    pytest.param(Case(_gitlink, 1, "is a submodule"), id="committed-submodule-at-freeze"),
    pytest.param(Case(_env("GITDOCKET_NOW", "2020-01-01T00:00:00Z", _freeze()), 1, "2020"), id="clock-backdated"),
    pytest.param(
        Case(_env("GITDOCKET_NOW", "2027-01-01T00:00:00Z", _freeze()), 1, "after the verifier's clock", clock=NOW),
        id="clock-in-the-future",
    ),
    pytest.param(
        Case(_expired, 1, "expired at 2026-06-01", clock="2026-07-01T00:00:00Z"), id="policy-expired-by-clock"
    ),
    pytest.param(Case(_unsigned_config, 1, "is not signed"), id="configuration-unsigned"),
    pytest.param(Case(_protect_the_policy, 2, "registry/registry.yaml: protected.0.path"), id="protected-record-path"),
    pytest.param(
        Case(lambda _r, _t: ["placement", "reject", "acme/none", "--reason", "x"], 1, "no placement acme/none"),
        id="reject-what-was-never-requested",
    ),
    pytest.param(
        Case(lambda _r, _t: ["archetype", "owners", "support-triage", "--add", "nobody"], 2, "nobody"),
        id="owner-not-an-identity",
    ),
    pytest.param(Case(_new_from(_broken_yaml), 2, "archetype.yaml"), id="archetype-yaml-broken"),
    pytest.param(
        Case(_new_from(_append_yaml("owner: mallory\n")), 2, "archetype.yaml"),
        id="archetype-yaml-unknown-field",
    ),
    pytest.param(Case(_new_from(_wrong_type), 2, "archetype.yaml: tags"), id="archetype-yaml-wrong-type"),
    pytest.param(Case(_new_from(_alias_bomb), 2, "archetype.yaml"), id="archetype-yaml-alias-bomb"),
    pytest.param(Case(_new_from(_deep_yaml), 2, "archetype.yaml"), id="archetype-yaml-nested-too-deep"),
    pytest.param(Case(_new_from(lambda f: None, ".."), 2, "'..'"), id="archetype-name-dotdot"),
    pytest.param(
        Case(_new_from(lambda f: None, "../policy"), 2, "'../policy'"),
        id="archetype-name-traversal",
    ),
    pytest.param(
        Case(_new_from(lambda f: None, "support/triage"), 2, "'support/triage'"),
        id="archetype-name-slash",
    ),
    pytest.param(
        Case(_new_from(lambda f: None, "Support-Triage"), 2, "'Support-Triage'"),
        id="archetype-name-uppercase",
    ),
    pytest.param(Case(_freeze("../../policy"), 2, "'../../policy'"), id="version-traversal"),
    pytest.param(Case(_freeze("1.0.0/.."), 2, "'1.0.0/..'"), id="version-slash"),
    pytest.param(Case(_freeze("V1.0.0"), 2, "'V1.0.0'"), id="version-uppercase"),
    pytest.param(Case(_new_from(_symlink, "other"), 2, "passwd.md"), id="method-symlink"),
    pytest.param(Case(_new_from(_huge, "other"), 2, "weights.bin"), id="method-file-too-large"),
    pytest.param(
        Case(_new_from(_duplicate_keys, "other"), 2, ".agent-config.json"),
        id="agent-config-duplicate-keys",
    ),
    pytest.param(
        Case(_committed(lambda f: _duplicate_keys(f)), 2, ".agent-config.json"),
        id="committed-agent-config-duplicate-keys",
    ),
    pytest.param(
        Case(_committed(_hand_edited_log), 1, "registry/archetypes/support-triage/history.jsonl"),
        id="hand-edited-log",
    ),
    pytest.param(
        Case(_edited_log_line, 1, "registry/versions/support-triage/1.0.0/history.jsonl:2"),
        id="log-line-edited-canonically",
    ),
    pytest.param(Case(_no_folder, 2, "no-such-folder"), id="source-folder-missing"),
    pytest.param(Case(_stranger, 1, "not in the policy", key="mallory"), id="key-not-in-policy"),
    pytest.param(
        Case(_with_bob, 1, "cannot open a draft of version support-triage 1.0.0", key="bob"), id="signer-without-role"
    ),
    pytest.param(Case(_freeze(), 1, "signing key", key=None), id="no-key-at-all"),
    pytest.param(Case(_missing_key_file, 2, "no-such-key", key=None), id="key-file-missing"),
    pytest.param(Case(_empty_key_file, 2, "ci_key: the signing key file is empty", key=None), id="key-file-empty"),
    pytest.param(Case(_bad_clock, 2, "GITDOCKET_NOW"), id="docket-now-malformed"),
    pytest.param(Case(_summary_nowhere, 2, "no-such-folder"), id="verify-summary-folder-missing"),
]


def assert_one_error(result: Result, code: int, names: str) -> None:
    assert result.code == code, result.err
    assert "Traceback" not in result.out + result.err
    lines = result.err.splitlines()
    assert lines[0].startswith("error: ") and names in lines[0], result.err
    assert len(lines) == 1 or (len(lines) == 2 and lines[1].startswith("hint: ")), result.err


@pytest.fixture
def drafted(registry: Registry) -> Registry:
    registry.add_archetype()
    return registry


@pytest.mark.parametrize("case", CASES)
def test_bad_input_is_one_line_and_writes_nothing(
    drafted: Registry, tmp_path: Path, case: Case, monkeypatch: pytest.MonkeyPatch
) -> None:
    args = case.prepare(drafted, tmp_path)
    if case.clock is not None:
        pin_system_clock(monkeypatch, case.clock)
    before = repo_state(drafted)
    result = drafted.run(*args, key=case.key)
    assert_one_error(result, case.code, case.names)
    assert result.out == ""
    assert repo_state(drafted) == before


def test_empty_signing_key_variable(drafted: Registry, monkeypatch: pytest.MonkeyPatch) -> None:
    """An unset CI secret reaches gitdocket as GITDOCKET_SIGNING_KEY="": said as such, nothing written."""
    before = repo_state(drafted)
    monkeypatch.setenv("GITDOCKET_SIGNING_KEY", "")
    result = run_cli("version", "freeze", "support-triage", "1.0.0", "--repo", drafted.path)
    assert_one_error(result, 2, "GITDOCKET_SIGNING_KEY is set but empty")
    assert "secret" in result.err.splitlines()[1]
    assert repo_state(drafted) == before


def test_unknown_repository_path(tmp_path: Path) -> None:
    result = run_cli("verify", "--repo", tmp_path / "nowhere")
    assert_one_error(result, 1, str(tmp_path / "nowhere"))


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(["verify", "--format", "yaml"], id="bad-choice"),
        pytest.param(["version", "freeze", "support-triage"], id="missing-argument"),
        pytest.param(["archetype", "new", "x", "--from"], id="option-without-value"),
        pytest.param(["verify", "--no-such-option"], id="unknown-option"),
        pytest.param(["no-such-command"], id="unknown-command"),
    ],
)
def test_usage_errors_exit_2(drafted: Registry, args: list[str]) -> None:
    before = repo_state(drafted)
    result = drafted.run(*args)
    assert_one_error(result, 2, "")
    assert result.err.splitlines()[1].startswith("hint: see `gitdocket")
    assert repo_state(drafted) == before


def test_a_bug_is_still_one_line(drafted: Registry, monkeypatch: pytest.MonkeyPatch) -> None:
    """Even an unexpected exception leaves the boundary as one error line (exit 1); --debug
    shows the traceback."""

    def broken(*_args: object, **_kwargs: object) -> list[object]:
        raise RuntimeError("boom\nsecond line")

    monkeypatch.setattr(importlib.import_module("gitdocket.commands.verify"), "verify_snapshot", broken)
    result = drafted.run("verify")
    assert_one_error(result, 1, "internal error: RuntimeError: boom")
    debug = drafted.run("--debug", "verify")
    assert debug.code == 1 and "Traceback" in debug.err
    assert debug.err.splitlines()[-2] == "error: internal error: RuntimeError: boom"


def _archive(path: Path, members: dict[str, bytes]) -> Path:
    import io
    import tarfile

    with tarfile.open(path, "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


@pytest.mark.parametrize(
    ("members", "names"),
    [
        pytest.param(
            {f"b-20260101-000000-nogit/f{i}": b"x" * 1024 for i in range(3)},
            "its members hold more than",
            id="aggregate-size",
        ),
        pytest.param({"b-20260101-000000-nogit/" + "d/" * 70 + "f": b"x"}, "folders deep", id="path-too-deep"),
        pytest.param(
            {f"b-20260101-000000-nogit/e{i}": b"" for i in range(40)}, "more than 32 members", id="member-count"
        ),
    ],
)
def test_an_archive_beyond_its_bounds_is_refused(
    drafted: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, members: dict[str, bytes], names: str
) -> None:
    """Every member within its own limit, the archive beyond its aggregate (here 2 KiB or 32
    members, so the test stays small; the real bounds are in ``core.limits``)."""
    monkeypatch.setattr(importlib.import_module("gitdocket.adapters.archives"), "MAX_ARCHIVE_BYTES", 2048)
    monkeypatch.setattr(importlib.import_module("gitdocket.adapters.archives"), "MAX_ARCHIVE_MEMBERS", 32)
    archive = _archive(tmp_path / "bundle.tar.gz", members)
    before = repo_state(drafted)
    result = drafted.run("bundle", "import", archive)
    assert_one_error(result, 2, names)
    assert repo_state(drafted) == before


@pytest.mark.parametrize(
    ("limit", "bound", "command", "names"),
    [
        pytest.param("MAX_EVIDENCE_TOTAL", 10, "build", "MiB", id="evidence-total"),
        pytest.param("MAX_EVIDENCE_FILES", 2, "build", "more than 2 files", id="evidence-files"),
        pytest.param("MAX_ARCHIVE_BYTES", 10, "verify", "GiB in all", id="bundle-folder-total"),
        pytest.param("MAX_ARCHIVE_MEMBERS", 2, "verify", "more than 2 files", id="bundle-folder-files"),
    ],
)
def test_a_folder_beyond_its_aggregate_bound_is_refused(
    drafted: Registry,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    limit: str,
    bound: int,
    command: str,
    names: str,
) -> None:
    """Each file small, the folder beyond its total bytes or files (here 10 bytes or 2 files; the
    real bounds are in ``core.limits``)."""
    monkeypatch.setattr(importlib.import_module("gitdocket.adapters.bundle_files"), limit, bound)
    folder = tmp_path / "b-20260101-000000-nogit"
    folder.mkdir()
    for name in ("a.json", "b.json", "bundle_manifest.json"):
        (folder / name).write_text('{"x": 1}\n')
    args = (
        ["bundle", "build", "--label", "pr-preview", "--evidence", folder]
        if command == "build"
        else ["bundle", "verify", folder]
    )
    before = repo_state(drafted)
    result = drafted.run(*args)
    assert_one_error(result, 2, names)
    assert repo_state(drafted) == before
