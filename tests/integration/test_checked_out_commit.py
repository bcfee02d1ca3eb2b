"""Every read works on what is checked out — a detached HEAD without a local default branch (a
pull request's checkout in CI), a worktree at an old commit, another branch — and `--rev` reads
any commit. Writes go to the current branch; on a detached HEAD they are refused."""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import click
import pytest

from gitdocket.commands import cli
from tests.integration.clients_support import add_people, entitled, installed
from tests.integration.releases_support import ENV, copy_release, make_template
from tests.support import Registry, Result, assert_error_and_hint, git, repo_state, run_cli

READS = [
    pytest.param(("status",), id="status"),
    pytest.param(("history", "--env", "preview"), id="history"),
    pytest.param(("deployments", "resolve", "--env", "preview"), id="deployments-resolve"),
    pytest.param(("version", "list"), id="version-list"),
    pytest.param(("version", "show", "support-triage", "1.1.0"), id="version-show"),
    pytest.param(("archetype", "list"), id="archetype-list"),
    pytest.param(("archetype", "show", "support-triage"), id="archetype-show"),
    pytest.param(("archetype", "tree"), id="archetype-tree"),
    pytest.param(("package", "list"), id="package-list"),
    pytest.param(("package", "show", "support-triage", "1.1.0"), id="package-show"),
    pytest.param(("placement", "status", "acme/triage"), id="placement-status"),
    pytest.param(("placement", "show", "acme/triage"), id="placement-show"),
    pytest.param(("placement", "list"), id="placement-list"),
    pytest.param(("entitlement", "show", "acme/triage"), id="entitlement-show"),
    pytest.param(("run-check", "acme/triage"), id="run-check"),
    pytest.param(("policy", "show"), id="policy-show"),
    pytest.param(("policy", "allowed-signers"), id="policy-allowed-signers"),
    pytest.param(("config", "show"), id="config-show"),
    pytest.param(("bundle", "list"), id="bundle-list"),
    pytest.param(("admission", "signers", "acme"), id="admission-signers"),
    pytest.param(("diff", "support-triage@1.0.0", "support-triage@1.1.0"), id="diff"),
    pytest.param(("verify",), id="verify"),
]
IDENTITY = {
    "GIT_AUTHOR_NAME": "test",
    "GIT_AUTHOR_EMAIL": "test@example.com",
    "GIT_COMMITTER_NAME": "test",
    "GIT_COMMITTER_EMAIL": "test@example.com",
}
NOT_READING_THE_REGISTRY = {
    ("contracts", "check"): "works on gitdocket's own checkout (--root), not a registry",
    ("contracts", "generate"): "ditto",
    ("contracts", "validate"): "validates files named on the command line",
    ("export",): "writes a branch's whole history and every tag, not one commit's state (--branch)",
}


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, str]:
    """A registry whose early commit A holds one published package and whose later commit B
    (main's tip) has people, a placement with an entitlement, a verified bundle promoted to
    preview, a second release, a fork and a signed change of registry.yaml: every read answers
    differently at A and at B."""
    base = make_template(tmp_path_factory.mktemp("checked-out"))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HOME", str(base))
        for name, value in {**ENV, **IDENTITY}.items():
            patch.setenv(name, value)
        rel = copy_release(base, base / "grown")
        reg = rel.reg
        early = git(reg.path, "rev-parse", "HEAD")
        add_people(reg)
        installed(reg)
        entitled(reg)
        rel.promote(rel.build(), "preview", gated=False)
        method = reg.path / "registry" / "archetypes" / "support-triage" / "method" / "instructions.md"
        method.write_text(method.read_text() + "\nEscalate billing questions.\n")
        git(reg.path, "commit", "-qam", "sharper instructions")
        reg.ok("release", "support-triage", "1.1.0")
        reg.ok("archetype", "fork", "support-triage", "triage-eu")
        config = reg.path / "registry" / "registry.yaml"
        config.write_text(config.read_text().replace("include: []", "include: [docs]"))
        git(reg.path, "commit", "-qam", "bundles include docs/")
        reg.ok("config", "apply")
        late = git(reg.path, "rev-parse", "HEAD")
    return base / "grown", early, late


@pytest.fixture(scope="module")
def old_worktree(history: tuple[Path, str, str]) -> Path:
    root, early, _ = history
    worktree = root / "old"
    git(root / "reg", "worktree", "add", "--detach", str(worktree), early)
    return worktree


def _comparable(result: Result) -> tuple[int, Any, str]:
    """The result without where it ran: JSON without the worktree ``path`` resolve prints."""
    out: Any = result.out
    if result.code == 0 and result.out.lstrip().startswith(("{", "[")):
        out = json.loads(result.out)
        if isinstance(out, dict):
            out.pop("path", None)
    return result.code, out, result.err


def _read(args: tuple[str, ...], repo: Path, *extra: str) -> tuple[int, Any, str]:
    fmt = () if args[0] in ("verify",) or args[:2] == ("policy", "allowed-signers") else ("--format", "json")
    if args[:2] == ("deployments", "resolve"):  # a worktree holds only its own commit's release files
        extra = (*extra, "--export", tempfile.mkdtemp(prefix="release-"))
    return _comparable(run_cli(*args, *fmt, "--repo", repo, *extra))


@pytest.mark.parametrize("args", READS)
def test_rev_reads_what_a_checkout_of_that_commit_reads(
    history: tuple[Path, str, str], old_worktree: Path, args: tuple[str, ...]
) -> None:
    root, early, late = history
    main = root / "reg"
    at_early = _read(args, main, "--rev", early)
    assert at_early == _read(args, old_worktree), "--rev A must read what a worktree at A reads"
    assert _read(args, old_worktree, "--rev", late) == _read(args, main), "and --rev B what main reads"
    assert at_early != _read(args, main), "the commits differ, so must the answers"


def _leaves(group: click.Group, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], click.Command]]:
    found: list[tuple[tuple[str, ...], click.Command]] = []
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            found += _leaves(command, (*path, name))
        else:
            found.append(((*path, name), command))
    return found


def _path(args: tuple[str, ...]) -> tuple[str, ...]:
    """The command path at the start of ``args`` (the rest are its arguments)."""
    command: click.Command = cli
    path: list[str] = []
    for word in args:
        if not isinstance(command, click.Group) or word not in command.commands:
            break
        command = command.commands[word]
        path.append(word)
    return tuple(path)


def _options(command: click.Command) -> set[str]:
    return {option for param in command.params for option in getattr(param, "opts", [])}


def test_every_read_command_takes_rev() -> None:
    """Each command that reads a registry without writing (no --key) has --rev, and the table
    above covers every one of them (bundle export is tested on its own below, site build by the
    site's tests)."""
    leaves = _leaves(cli)
    readers = {path for path, command in leaves if "--repo" in _options(command) and "--key" not in _options(command)}
    # admit-run reads at --rev and signs (not a write): test_admission.py tests its --rev
    signing = {path for path, command in leaves if "--key" in _options(command)}
    with_rev = {path for path, command in leaves if "--rev" in _options(command)} - signing
    assert readers - set(NOT_READING_THE_REGISTRY) == with_rev
    also = {("bundle", "export"), ("bundle", "provenance"), ("gate", "evaluate"), ("site", "build"), ("trace",)}
    # the root and the export of a package read the same at both commits; admission verify at
    # --rev is tested in test_admission.py, provenance verify at --rev in test_provenance.py
    also |= {("vendor", "root"), ("vendor", "export"), ("admission", "verify"), ("provenance", "verify")}
    assert with_rev == {_path(param.values[0]) for param in READS} | also


def test_a_detached_checkout_without_a_local_default_branch_reads_and_verifies(
    history: tuple[Path, str, str], tmp_path: Path
) -> None:
    """What actions/checkout gives a pull_request run: a detached HEAD, no local main."""
    root, _, late = history
    ci = tmp_path / "ci"
    subprocess.run(["git", "clone", "-q", "--no-checkout", str(root / "reg"), str(ci)], check=True)
    git(ci, "checkout", "-q", "--detach", late)
    git(ci, "branch", "-D", "main")
    assert "refs/heads/main" not in git(ci, "for-each-ref", "refs/heads")
    assert run_cli("verify", "--repo", ci).out.endswith(f"verify (snapshot) at {late[:12]}: OK\n")
    pr = run_cli("verify", "--base", "HEAD~2", "--repo", ci)
    assert pr.code == 0, pr.out + pr.err
    status = run_cli("status", "--format", "json", "--repo", ci).json()
    assert [row["environment"] for row in status if row["bundle_id"]] == ["preview"]
    bundles = run_cli("bundle", "list", "--format", "json", "--repo", ci).json()
    assert len(bundles) == 1


def test_resolve_at_another_commit_reads_the_release_from_git(
    history: tuple[Path, str, str], old_worktree: Path
) -> None:
    """The files of a worktree at A are not B's release: resolving B there needs --export."""
    _, _, late = history
    result = run_cli("deployments", "resolve", "--env", "preview", "--rev", late, "--repo", old_worktree)
    assert result.code == 1 and result.out == ""
    lines = result.err.splitlines()
    assert lines[0].startswith(f"error: {old_worktree} holds commit ") and "(--rev)" in lines[0]
    assert lines[1] == "hint: read the release of that commit from git objects: add --export DIR"


def test_bundle_export_reads_another_commit(history: tuple[Path, str, str], old_worktree: Path, tmp_path: Path) -> None:
    _, _, late = history
    missing = run_cli("bundle", "list", "--format", "json", "--repo", old_worktree).json()
    assert missing == []
    (bundle,) = run_cli("bundle", "list", "--format", "json", "--rev", late, "--repo", old_worktree).json()
    out = tmp_path / "bundle.tar.gz"
    result = run_cli("bundle", "export", bundle["bundle_id"], "--to", out, "--rev", late, "--repo", old_worktree)
    assert result.code == 0, result.err
    assert out.is_file()


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(("status", "--rev", "no-such-tag"), id="status"),
        pytest.param(("version", "list", "--rev", "0" * 40), id="version-list-unknown-commit"),
        pytest.param(("verify", "--rev", "v9.9.9"), id="verify"),
        pytest.param(("policy", "allowed-signers", "--rev", "HEAD~999"), id="allowed-signers"),
    ],
)
def test_rev_naming_nothing_is_one_line_exit_2(history: tuple[Path, str, str], args: tuple[str, ...]) -> None:
    root, _, _ = history
    result = run_cli(*args, "--repo", root / "reg")
    assert_error_and_hint(result, 2, "names no commit")
    assert result.out == ""


@pytest.fixture
def registry_copy(history: tuple[Path, str, str], tmp_path: Path) -> Registry:
    root, _, _ = history
    target = tmp_path / "copy"
    shutil.copytree(root, target, symlinks=True, ignore=shutil.ignore_patterns("old"))
    keys = target / "keys"
    git(target / "reg", "worktree", "prune")
    return Registry(target / "reg", keys, keys / "alice_ed25519", {"alice": keys / "alice_ed25519"})


def test_a_write_on_a_detached_head_is_refused(registry_copy: Registry) -> None:
    reg = registry_copy
    reg.git("switch", "-q", "--detach", "HEAD~1")
    before = repo_state(reg)
    result = reg.run("version", "freeze", "support-triage", "2.0.0")
    assert_error_and_hint(result, 1, "HEAD is detached at ", "a write needs a branch")
    assert result.out == "" and "`git switch -c NAME`" in result.err.splitlines()[1]
    assert repo_state(reg) == before


def test_a_write_goes_to_the_current_branch_without_tags(registry_copy: Registry) -> None:
    """A release on a pull request's branch lands there, creates no tag, and says when it will."""
    reg = registry_copy
    main_before = reg.refs()["refs/heads/main"]
    reg.git("switch", "-q", "-c", "release-1.2")
    method = reg.path / "registry" / "archetypes" / "support-triage" / "method" / "instructions.md"
    method.write_text(method.read_text() + "\nAnswer in the customer's language.\n")
    reg.git("commit", "-qam", "languages")
    result = reg.ok("version", "freeze", "support-triage", "1.2.0", "--format", "json")
    assert result.json()["tags"] == []
    assert "support-triage/v1.2.0" in result.err and "`gitdocket tags sync`" in result.err
    refs = reg.refs()
    assert refs["refs/heads/main"] == main_before
    assert refs["refs/heads/release-1.2"] == result.json()["commit"]
    assert "refs/tags/support-triage/v1.2.0" not in refs
    on_main = reg.ok("version", "list", "--rev", "main", "--format", "json").json()
    assert "1.2.0" not in [row["version"] for row in on_main]
    here = reg.ok("version", "list", "--format", "json").json()
    assert "1.2.0" in [row["version"] for row in here]
