"""The git store against real repositories: compare-and-swap with re-planning, concurrent
processes, dirty worktrees, the worktree and index kept in step, bare registries, and atomic
multi-scope commits."""

from __future__ import annotations

import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pygit2
import pytest

from gitdocket.adapters import store as git_store
from gitdocket.adapters.signing import KeySigner
from gitdocket.adapters.store import GitStore, GitTree
from gitdocket.core.scopes import scope
from gitdocket.core.tree import Plan, TreeRef
from gitdocket.errors import ConflictError, InvariantError
from gitdocket.lifecycles.policy import POLICY_SCOPE as POLICY
from gitdocket.lifecycles.policy import PolicyState
from gitdocket.ops import policies as policy_ops
from gitdocket.ops import versions as version_ops
from gitdocket.ops.transaction import Transaction, load_log
from tests.factories import AT
from tests.support import EXAMPLES, Registry, Result, det_key, object_ids, run_cli, run_process, write_key

ALICE = KeySigner(det_key("alice"), "alice")


def _policy(registry: Registry) -> PolicyState:
    state: PolicyState = load_log(GitStore.open(registry.path).snapshot(), POLICY).state
    return state


def _add_identity_plan(name: str, registry: Registry) -> Plan:
    """What `gitdocket policy add-identity NAME` plans, on the current tip."""
    store = GitStore.open(registry.path)
    tx = Transaction(store.snapshot(), [ALICE], AT)
    policy_ops.add_identity(tx, name, registry.key(name).with_name(f"{name}_ed25519.pub").read_text())
    return tx.plan(f"add {name}")


def _verify_ok(registry: Registry) -> None:
    assert registry.ok("verify", "--format", "json").json()["ok"] is True


def _status(registry: Registry) -> str:
    return registry.git("status", "--porcelain", "--untracked-files=all")


# -- compare-and-swap ----------------------------------------------------------------------------


def test_stale_tip_is_replanned_and_keeps_both_writers_events(registry: Registry) -> None:
    store = GitStore.open(registry.path)
    seen: list[str | None] = []

    def plan(tree: GitTree) -> Plan:
        seen.append(tree.commit)
        if len(seen) == 1:  # another writer lands between our read and our compare-and-swap
            registry.ok("policy", "add-identity", "bob", registry.key("bob").with_name("bob_ed25519.pub"))
        tx = Transaction(tree, [ALICE], AT)
        policy_ops.add_identity(tx, "carol", registry.key("carol").with_name("carol_ed25519.pub").read_text())
        return tx.plan("add carol")

    result = store.write(plan, ALICE, AT)
    assert result.attempts == 2
    assert seen[0] != seen[1] and seen[1] is not None
    head = store.repo[result.commit].peel(pygit2.Commit)
    assert str(head.parents[0].id) == seen[1]
    events = load_log(store.snapshot(), POLICY).events
    assert [e.type for e in events] == ["policy_initialized", "identity_added", "identity_added"]
    assert [e.data["identity"]["name"] for e in events[1:]] == ["bob", "carol"]
    assert _status(registry) == ""
    _verify_ok(registry)


def test_cas_gives_up_after_bounded_retries(registry: Registry) -> None:
    store = GitStore.open(registry.path)
    attempts: list[int] = []

    def plan(tree: GitTree) -> Plan:
        attempts.append(1)
        registry.ok("policy", "expires", f"2027-01-{len(attempts):02d}T00:00:00Z")
        tx = Transaction(tree, [ALICE], AT)
        policy_ops.add_identity(tx, "carol", registry.key("carol").with_name("carol_ed25519.pub").read_text())
        return tx.plan("add carol")

    before = _policy(registry).version
    with pytest.raises(ConflictError, match="gave up after 8 attempts"):
        store.write(plan, ALICE, AT)
    assert len(attempts) == 8
    state = _policy(registry)
    assert "carol" not in state.identities and state.version == before + 8
    assert _status(registry) == ""


def _run_all(*commands: tuple[str | Path, ...]) -> list[Result]:
    with ThreadPoolExecutor(max_workers=len(commands)) as pool:
        return list(pool.map(lambda args: run_process(*args), commands))


def test_concurrent_processes_lose_no_event(registry: Registry) -> None:
    registry.add_archetype("support-triage")
    registry.add_archetype("release-notes")
    names = ("bob", "carol", "dave")
    common = ("--repo", registry.path, "--key", registry.alice)
    results = _run_all(
        ("version", "freeze", "support-triage", "1.0.0", *common),
        ("version", "freeze", "release-notes", "1.0.0", *common),
        *(("policy", "add-identity", n, registry.key(n).with_name(f"{n}_ed25519.pub"), *common) for n in names),
    )
    assert [r.code for r in results] == [0] * 5, [r.err for r in results]
    state = _policy(registry)
    assert set(names) <= set(state.identities)
    assert state.version == 1 + len(names)
    refs = registry.refs()
    assert {"refs/tags/support-triage/v1.0.0", "refs/tags/release-notes/v1.0.0"} <= set(refs)
    log = registry.git("log", "--format=%s", "main")
    assert log.count("docket: froze") == 2 and log.count("policy add identity") == 3
    subprocess.run(["git", "-C", str(registry.path), "fsck", "--strict"], check=True, capture_output=True)
    assert _status(registry) == ""
    _verify_ok(registry)


def test_concurrent_freezes_of_one_version_exactly_one_wins(registry: Registry) -> None:
    registry.add_archetype()
    args = (
        "version",
        "freeze",
        "support-triage",
        "1.0.0",
        "--repo",
        registry.path,
        "--key",
        registry.alice,
    )
    results = _run_all(args, args)
    assert sorted(r.code for r in results) == [0, 1], [r.err for r in results]
    loser = next(r for r in results if r.code)
    assert "(FROZEN_VERSION_IMMUTABLE)" in loser.err
    assert registry.git("tag", "--list").split() == ["support-triage/v1.0.0"]
    assert registry.git("log", "--format=%s", "main").count("docket: froze") == 1
    _verify_ok(registry)


def test_existing_tag_refuses_before_anything_is_written(registry: Registry) -> None:
    registry.add_archetype()
    registry.git("tag", "support-triage/v1.0.0")
    refs, objects = registry.refs(), object_ids(registry.path)
    result = registry.run("version", "freeze", "support-triage", "1.0.0")
    assert result.code == 1 and "tag support-triage/v1.0.0 already exists" in result.err
    assert registry.refs() == refs and object_ids(registry.path) == objects


def test_tag_taken_by_a_concurrent_writer_is_replanned(registry: Registry) -> None:
    """Another writer freezes the same version between our read and our write: its tag exists
    and the branch moved, so we re-plan on the new tip, where the lifecycle refuses (instead of
    a bare "tag already exists")."""
    registry.add_archetype()
    store = GitStore.open(registry.path)
    seen: list[str | None] = []

    def plan(tree: GitTree) -> Plan:
        seen.append(tree.commit)
        tx = Transaction(tree, [ALICE], AT)
        version_ops.freeze(tx, "support-triage", "1.0.0")
        if len(seen) == 1:
            registry.ok("version", "freeze", "support-triage", "1.0.0")
        return tx.plan("freeze 1.0.0")

    with pytest.raises(InvariantError) as refused:
        store.write(plan, ALICE, AT)
    assert len(seen) == 2 and seen[0] != seen[1]
    assert refused.value.invariant in ("FROZEN_VERSION_IMMUTABLE", "TRANSITION_NOT_ALLOWED")
    _verify_ok(registry)


# -- the worktree --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("edit", "path"),
    [
        pytest.param("modify", "registry/policy/current.json", id="modified-file"),
        pytest.param("stage", "registry/policy/history.jsonl", id="staged-change"),
        pytest.param("delete", "registry/policy/current.json", id="deleted-file"),
    ],
)
def test_dirty_path_is_refused_and_nothing_is_written(registry: Registry, edit: str, path: str) -> None:
    target = registry.path / path
    if edit == "delete":
        target.unlink()
    else:
        target.write_text("local edit\n") if edit != "modify" else target.write_bytes(target.read_bytes() + b" ")
    if edit == "stage":
        registry.git("add", path)
    refs, objects = registry.refs(), object_ids(registry.path)
    result = registry.run("policy", "add-identity", "bob", registry.key("bob").with_name("bob_ed25519.pub"))
    assert result.code == 1
    assert f"error: uncommitted changes in paths gitdocket would write: {path}" in result.err
    # A hint that is safe to follow: keep (commit) or discard (restore from HEAD); never stash,
    # which would bring the old content back over a signed event later.
    assert f"`git restore --source=HEAD --staged --worktree -- {path}`" in result.err
    assert "stash" not in result.err
    assert registry.refs() == refs
    assert object_ids(registry.path) == objects


@pytest.mark.parametrize(
    "path",
    [
        pytest.param("registry/versions/support-triage/1.0.0/history.jsonl", id="untracked-log"),
        pytest.param("registry/versions/support-triage/1.0.0/method/notes.md", id="untracked-in-tree-ref"),
    ],
)
def test_untracked_file_where_docket_writes_is_refused(registry: Registry, path: str) -> None:
    registry.add_archetype()
    (registry.path / path).parent.mkdir(parents=True)
    (registry.path / path).write_text("mine\n")
    refs, objects = registry.refs(), object_ids(registry.path)
    result = registry.run("version", "freeze", "support-triage", "1.0.0")
    assert result.code == 1 and f"would write: {path}" in result.err
    assert registry.refs() == refs and object_ids(registry.path) == objects
    assert (registry.path / path).read_text() == "mine\n"


def test_dirty_path_elsewhere_does_not_block(registry: Registry) -> None:
    (registry.path / "registry" / "README.md").write_text("my notes\n")
    (registry.path / "bundles" / "README.md").write_text("staged notes\n")
    registry.git("add", "bundles/README.md")
    registry.ok("policy", "add-identity", "bob", registry.key("bob").with_name("bob_ed25519.pub"))
    assert _status(registry) == "M  bundles/README.md\n M registry/README.md\n"
    assert (registry.path / "registry" / "README.md").read_text() == "my notes\n"


def test_worktree_and_index_match_head_after_every_write(registry: Registry) -> None:
    assert _status(registry) == ""
    registry.add_archetype()
    assert _status(registry) == ""
    registry.ok("version", "freeze", "support-triage", "1.0.0")
    assert _status(registry) == ""
    registry.ok("package", "publish", "support-triage", "1.0.0")
    assert _status(registry) == ""
    assert registry.git("diff", "--cached", "--name-only", "HEAD") == ""
    frozen = registry.path / "registry/versions/support-triage/1.0.0/method"
    source = EXAMPLES / "support-triage" / "method"
    assert sorted(p.relative_to(frozen).as_posix() for p in frozen.rglob("*") if p.is_file()) == sorted(
        p.relative_to(source).as_posix() for p in source.rglob("*") if p.is_file()
    )
    assert (frozen / "instructions.md").read_bytes() == (source / "instructions.md").read_bytes()
    tracked = registry.git("ls-files", "registry/versions/support-triage/1.0.0/method").split()
    assert "registry/versions/support-triage/1.0.0/method/skills/classify.md" in tracked


def _tree(repo: pygit2.Repository, files: dict[str, bytes]) -> str:
    builder = repo.TreeBuilder()
    for name, data in sorted(files.items()):
        builder.insert(name, repo.create_blob(data), pygit2.enums.FileMode.BLOB)
    return str(builder.write())


def test_tree_ref_replacing_a_folder_updates_worktree_and_index(registry: Registry) -> None:
    store = GitStore.open(registry.path)
    first = _tree(store.repo, {"a.txt": b"a\n", "b.txt": b"b\n"})
    second = _tree(store.repo, {"a.txt": b"a2\n", "c.txt": b"c\n"})
    place = "deployments/dev/releases/x"
    store.write(lambda _t: Plan("place first", "alice", {place: TreeRef(first)}), ALICE, AT)
    assert sorted(p.name for p in (registry.path / place).iterdir()) == ["a.txt", "b.txt"]
    store.write(lambda _t: Plan("place second", "alice", {place: TreeRef(second)}), ALICE, AT)
    assert sorted(p.name for p in (registry.path / place).iterdir()) == ["a.txt", "c.txt"]
    assert (registry.path / place / "a.txt").read_text() == "a2\n"
    assert registry.git("ls-files", place).split() == [f"{place}/a.txt", f"{place}/c.txt"]
    assert _status(registry) == ""


def test_unchanged_plan_writes_no_commit(registry: Registry) -> None:
    store = GitStore.open(registry.path)
    tip = str(store.tip().id)  # type: ignore[union-attr]
    readme = store.snapshot().read("registry/README.md")
    assert readme is not None
    result = store.write(lambda _t: Plan("noop", "alice", {"registry/README.md": readme}), ALICE, AT)
    assert result.commit == tip and result.tags == ()


# -- shapes of registries and commits ------------------------------------------------------------


def test_bare_registry_end_to_end(tmp_path: Path) -> None:
    key = write_key(tmp_path, "alice")
    bare = tmp_path / "registry.git"
    assert run_cli("init", bare, "--bare", "--identity", "alice", "--key", key).code == 0
    registry = Registry(bare, tmp_path, key, {"alice": key})
    registry.add_archetype()
    registry.ok("version", "freeze", "support-triage", "1.0.0")
    registry.ok("package", "publish", "support-triage", "1.0.0")
    _verify_ok(registry)
    repo = pygit2.Repository(str(bare))
    assert repo.is_bare and not (bare / "registry").exists()
    assert {"refs/tags/support-triage/v1.0.0", "refs/tags/packages/support-triage/v1.0.0"} <= set(registry.refs())
    shown = registry.ok("package", "show", "support-triage", "1.0.0", "--format", "json").json()
    assert shown["phase"] == "published"


def test_publish_is_one_commit_touching_version_and_package(registry: Registry) -> None:
    registry.add_archetype()
    registry.ok("version", "freeze", "support-triage", "1.0.0")
    frozen_at = registry.git("rev-parse", "HEAD").strip()
    registry.ok("package", "publish", "support-triage", "1.0.0")
    assert registry.git("rev-parse", "HEAD~1").strip() == frozen_at
    changed = registry.git("diff", "--name-only", "HEAD~1", "HEAD").split()
    version, package = (
        scope("version", "support-triage", "1.0.0"),
        scope("package", "support-triage", "1.0.0"),
    )
    assert sorted(changed) == sorted(
        [version.history_path, version.current_path, package.history_path, package.current_path]
    )
    tag = registry.git("rev-parse", "packages/support-triage/v1.0.0^{commit}").strip()
    assert tag == registry.git("rev-parse", "HEAD").strip()


def test_freeze_of_a_config_with_integral_floats_verifies(registry: Registry, tmp_path: Path) -> None:
    source = tmp_path / "src"
    shutil.copytree(EXAMPLES / "support-triage", source)
    config = source / "method" / ".agent-config.json"
    config.write_text(config.read_text().replace('"temperature": 0.2', '"temperature": 1.0'))
    registry.add_archetype("support-triage", source)
    registry.ok("version", "freeze", "support-triage", "1.0.0")
    _verify_ok(registry)


def test_refused_command_writes_nothing(registry: Registry) -> None:
    registry.add_archetype()
    refs, objects = registry.refs(), object_ids(registry.path)
    result = registry.run("package", "publish", "support-triage", "1.0.0")
    assert result.code == 1 and "freeze it first" in result.err
    registry.ok("version", "draft", "support-triage", "1.0.0")
    refs, objects = registry.refs(), object_ids(registry.path)
    result = registry.run("package", "publish", "support-triage", "1.0.0")
    assert result.code == 1 and "(PACKAGE_REQUIRES_FROZEN_VERSION)" in result.err
    assert registry.refs() == refs and object_ids(registry.path) == objects
    assert _status(registry) == ""


def test_worktree_on_another_branch_is_left_alone(registry: Registry) -> None:
    registry.git("switch", "-q", "-c", "notes")
    (registry.path / "registry/policy/current.json").write_text("on my branch\n")
    store = GitStore.open(registry.path, "main")
    store.write(lambda tree: _add_identity_plan("bob", registry), ALICE, AT)
    assert (registry.path / "registry/policy/current.json").read_text() == "on my branch\n"
    assert "bob" in load_log(store.snapshot(), POLICY).state.identities


def test_bound_git_memory_caps_what_libgit2_keeps() -> None:
    """What `gitdocket verify` asks of libgit2 before reading every log (ADR 0036)."""
    settings = pygit2.settings
    before = (settings.mwindow_size, settings.mwindow_mapped_limit, settings.cached_memory[1])
    try:
        git_store.bound_git_memory()  # (an in-process `verify` in this worker may have already)
        assert settings.mwindow_size == git_store.GIT_WINDOW < 1 << 30  # libgit2's 64-bit defaults
        assert settings.mwindow_mapped_limit == git_store.GIT_MAPPED < 8 << 30
        assert settings.cached_memory[1] == git_store.GIT_CACHE < 256 << 20
    finally:
        settings.mwindow_size, settings.mwindow_mapped_limit = before[:2]
        settings.cache_max_size(before[2])


def test_a_tree_that_forgets_its_folders_reads_the_same(registry: Registry, monkeypatch: pytest.MonkeyPatch) -> None:
    """``FOLDERS_KEPT``: past it a ``GitTree`` forgets every folder it looked up, and reads them
    again: the same bytes, kinds and folder ids (ADR 0036)."""
    registry.add_archetype()
    registry.ok("version", "freeze", "support-triage", "1.0.0")
    store = GitStore.open(registry.path)
    paths = [
        "registry/policy/history.jsonl",
        "registry/versions/support-triage/1.0.0/method",
        "registry/versions/support-triage/1.0.0/current.json",
        "registry/archetypes/support-triage/archetype.yaml",
        "registry/versions/support-triage/1.0.0/history.jsonl",
        "registry/nothing/here",
    ]

    def seen(tree: GitTree) -> list[object]:
        return [(tree.read(p), tree.kind(p), tree.tree_id(p)) for p in paths * 2]

    whole = seen(store.snapshot())
    monkeypatch.setattr(git_store, "FOLDERS_KEPT", 2)
    forgetful = store.snapshot()
    assert seen(forgetful) == whole
    assert len(forgetful._trees) <= 2


def _commit_files(repo: pygit2.Repository, files: dict[str, bytes], parents: list[pygit2.Oid]) -> pygit2.Commit:
    builder = repo.TreeBuilder()
    for name, data in files.items():
        builder.insert(name, repo.create_blob(data), pygit2.enums.FileMode.BLOB)
    who = pygit2.Signature("t", "t@example.com", 0, 0)
    oid = repo.create_commit(None, who, who, "m", builder.write(), parents)
    commit = repo[oid]
    assert isinstance(commit, pygit2.Commit)
    return commit


@pytest.mark.parametrize("kept", [pytest.param(git_store.SHARED_BLOBS, id="default"), pytest.param(1, id="one")])
def test_trees_share_blobs_by_object_id(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kept: int) -> None:
    """``SHARED_BLOBS``: trees of different commits share the small blobs they read by object id
    (a verify reads a log at the head, then at its tag's commit): a path whose bytes changed
    reads its own bytes, the same bytes under another path or commit are read once (ADR 0038)."""
    monkeypatch.setattr(git_store, "SHARED_BLOBS", kept)
    monkeypatch.setattr(git_store, "_SHARED", git_store._Blobs())
    repo = pygit2.init_repository(str(tmp_path / "r.git"), bare=True)
    first = _commit_files(repo, {"a.txt": b"one\n", "b.txt": b"same\n"}, [])
    second = _commit_files(repo, {"a.txt": b"two\n", "c.txt": b"same\n"}, [first.id])
    old, new = GitTree(repo, first), GitTree(repo, second)
    for _ in range(2):
        assert [old.read("a.txt"), old.read("b.txt"), old.read("c.txt")] == [b"one\n", b"same\n", None]
        assert [new.read("a.txt"), new.read("c.txt"), new.read("b.txt")] == [b"two\n", b"same\n", None]
    assert len(git_store._SHARED.kept) == min(kept, 3)  # one, two, same: by content, not by path


def test_holds_is_reading_and_comparing(tmp_path: Path) -> None:
    """``GitTree.holds`` (ADR 0038) answers what ``read(path) == data`` does, from object ids
    when they are equal: for the very bytes, other bytes, a prefix, a folder and a missing path."""
    repo = pygit2.init_repository(str(tmp_path / "r.git"), bare=True)
    inner = repo.TreeBuilder()
    inner.insert("f", repo.create_blob(b"x"), pygit2.enums.FileMode.BLOB)
    outer = repo.TreeBuilder()
    outer.insert("a.json", repo.create_blob(b'{"a": 1}\n'), pygit2.enums.FileMode.BLOB)
    outer.insert("dir", inner.write(), pygit2.enums.FileMode.TREE)
    who = pygit2.Signature("t", "t@example.com", 0, 0)
    commit = repo[repo.create_commit(None, who, who, "m", outer.write(), [])]
    assert isinstance(commit, pygit2.Commit)
    tree = GitTree(repo, commit)
    for path in ["a.json", "dir", "dir/f", "nothing", ""]:
        for data in [b'{"a": 1}\n', b'{"a": 2}\n', b'{"a": 1}', b"x", b""]:
            assert tree.holds(path, data) == (tree.read(path) == data), (path, data)
