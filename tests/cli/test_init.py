"""`gitdocket init` is all or nothing: when it fails, a folder it created is gone again, a folder
that existed holds exactly what it held, and an existing repository keeps its refs."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from gitdocket.adapters import templates
from tests.support import Registry, run_cli, write_key


def _listing(path: Path) -> list[str]:
    return sorted(p.relative_to(path).as_posix() for p in path.rglob("*")) if path.exists() else []


def _no_key(_tmp: Path) -> list[str]:
    return []


def _empty_key(tmp: Path) -> list[str]:
    (tmp / "empty_key").write_text("")
    return ["--key", str(tmp / "empty_key")]


def _bad_key(tmp: Path) -> list[str]:
    (tmp / "bad_key").write_text("not a key\n")
    return ["--key", str(tmp / "bad_key")]


FAILURES = [
    pytest.param(_no_key, 1, "no signing key", id="no-key"),
    pytest.param(_empty_key, 2, "the signing key file is empty", id="empty-key-file"),
    pytest.param(_bad_key, 2, "not a usable OpenSSH private key", id="not-a-key"),
]


@pytest.mark.parametrize(("keys", "code", "says"), FAILURES)
@pytest.mark.parametrize("bare", [pytest.param(False, id="worktree"), pytest.param(True, id="bare")])
def test_failed_init_removes_the_folder_it_made(
    tmp_path: Path, keys: Callable[[Path], list[str]], code: int, says: str, bare: bool
) -> None:
    target = tmp_path / "new" / "reg"
    result = run_cli("init", target, "--identity", "alice", *keys(tmp_path), *(["--bare"] if bare else []))
    assert result.code == code and says in result.err, result.err
    assert not (tmp_path / "new").exists(), "the folders init made must be removed again"


@pytest.mark.parametrize(("keys", "code", "says"), FAILURES)
def test_failed_init_restores_an_existing_folder(
    tmp_path: Path, keys: Callable[[Path], list[str]], code: int, says: str
) -> None:
    target = tmp_path / "reg"
    (target / "notes").mkdir(parents=True)
    (target / "notes" / "todo.md").write_text("keep me\n")
    before = _listing(target)
    result = run_cli("init", target, "--identity", "alice", *keys(tmp_path))
    assert result.code == code and says in result.err, result.err
    assert _listing(target) == before
    assert (target / "notes" / "todo.md").read_text() == "keep me\n"


def test_missing_template_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(templates, "PROJECT_ROOT", tmp_path / "no-template")
    key = write_key(tmp_path, "alice")
    result = run_cli("init", tmp_path / "reg", "--identity", "alice", "--key", key)
    assert result.code == 1 and "registry template is missing" in result.err, result.err
    assert not (tmp_path / "reg").exists()


def test_what_site_build_writes_by_default_is_ignored(registry: Registry) -> None:
    """`gitdocket site build` from the registry's root writes site/: not a change to commit."""
    (registry.path / "site").mkdir()
    (registry.path / "site" / "index.html").write_text("<html></html>\n")
    assert registry.git("status", "--porcelain", "--untracked-files=all") == ""
    assert registry.git("ls-files", ".gitignore").strip() == ".gitignore"


def test_init_again_refuses_and_keeps_the_registry(registry: Registry) -> None:
    before = registry.refs()
    result = run_cli("init", registry.path, "--identity", "alice", "--key", registry.alice)
    assert result.code == 1, result.err
    assert registry.refs() == before
    assert (registry.path / ".git").is_dir()


def test_init_inside_another_repository_makes_its_own(registry: Registry) -> None:
    """A folder inside some repository's worktree gets a repository of its own, rooted there."""
    inner = registry.path / "nested"
    result = run_cli("init", inner, "--identity", "alice", "--key", registry.alice)
    assert result.code == 0, result.err
    assert (inner / ".git").is_dir() and (inner / "registry" / "registry.yaml").is_file()
