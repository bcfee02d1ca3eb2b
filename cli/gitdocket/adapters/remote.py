"""The registry's remote, through the real ``git`` (its transports, credentials and hooks):
which remote a branch pushes to, what the remote's branch points at, and one atomic push with
leases that reports each ref.

A push is ``git push --atomic --porcelain --force-with-lease=REF:EXPECTED …``: every ref moves or
none does, and none moves unless the remote still holds what this writer planned on. Deciding what
to push, and what to do when a lease fails, is the caller's (``ops.publish``).
"""

from __future__ import annotations

import shlex
import subprocess
from dataclasses import dataclass
from pathlib import Path

from gitdocket.adapters.store import GitStore
from gitdocket.errors import StateError

__all__ = ["PushRejectedError", "Pushed", "fetch_branch", "push", "remote_name", "remote_of", "remote_tags"]

TIMEOUT = 300


RACED = ("stale info", "fetch first", "non-fast-forward", "failed to lock", "cannot lock ref", "failed to update ref")
"""What git says when another push got there first (a lease that no longer holds, or the ref locked
by a push still landing): a race, not a refusal."""


class PushRejectedError(Exception):
    """Internal: the remote refused the push; ``reasons`` are git's, one per refused ref."""

    def __init__(self, reasons: list[str]) -> None:
        super().__init__("; ".join(reasons))
        self.reasons = reasons

    @property
    def raced(self) -> bool:
        return any(word in reason for reason in self.reasons for word in RACED)


@dataclass(frozen=True)
class Pushed:
    """What one push did: the ``git push`` line (to show and to repeat by hand) and the refs the
    remote took."""

    remote: str
    command: str
    refs: tuple[str, ...]


def _git(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(
            ["git", "-C", str(root), *args], capture_output=True, text=True, check=False, timeout=TIMEOUT
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise StateError(f"git {args[0]} could not run: {exc}", "install git; check the remote is reachable") from exc


def remote_name(store: GitStore, branch: str | None) -> str | None:
    """The remote ``branch`` pushes to (``branch.<name>.remote``), else the only remote, else
    ``origin`` when there is one; None when none of them is (read without running git)."""
    if branch is not None:
        configured = store.git_config(f"branch.{branch}.remote")
        if configured and configured != ".":
            return configured
    names = sorted(name for name in store.repo.remotes.names() if name)
    if len(names) == 1:
        return names[0]
    return "origin" if "origin" in names else None


def remote_of(store: GitStore, branch: str | None) -> str:
    """``remote_name``, or a refusal naming how to give the branch a remote."""
    name = remote_name(store, branch)
    if name is None:
        several = bool(list(store.repo.remotes.names()))
        what = "several remotes and none is the branch's" if several else "no remote to push to"
        raise StateError(
            f"{store.root}: {what}",
            "add one with `git remote add origin URL`, "
            "or set the branch's: `git branch --set-upstream-to REMOTE/BRANCH`",
        )
    return name


def fetch_branch(root: Path, remote: str, branch: str) -> str | None:
    """Fetch ``branch`` from ``remote`` into ``refs/remotes/<remote>/<branch>``; its commit, or None
    when the remote has no such branch yet."""
    listed = _git(root, "ls-remote", "--heads", remote, f"refs/heads/{branch}")
    if listed.returncode != 0:
        raise StateError(f"cannot reach remote {remote!r}: {_last(listed.stderr)}", "check `git remote -v` and access")
    if not listed.stdout.strip():
        return None
    done = _git(root, "fetch", "--quiet", "--no-tags", remote, f"+refs/heads/{branch}:refs/remotes/{remote}/{branch}")
    if done.returncode != 0:
        raise StateError(f"cannot fetch {branch} from {remote!r}: {_last(done.stderr)}", "check `git remote -v`")
    return _git(root, "rev-parse", f"refs/remotes/{remote}/{branch}").stdout.strip()


def remote_tags(root: Path, remote: str) -> dict[str, str]:
    """{tag name: the object its ref holds} on ``remote``."""
    listed = _git(root, "ls-remote", "--tags", "--refs", remote)
    if listed.returncode != 0:
        raise StateError(f"cannot reach remote {remote!r}: {_last(listed.stderr)}", "check `git remote -v` and access")
    rows = (line.split("\t", 1) for line in listed.stdout.splitlines() if "\t" in line)
    return {ref.removeprefix("refs/tags/"): oid for oid, ref in rows}


def push(root: Path, remote: str, refspecs: list[str], leases: dict[str, str | None]) -> Pushed:
    """Push ``refspecs`` atomically; ``leases`` is {remote ref: the commit or tag object it must
    still hold, or None when it must not exist}. Raises ``PushRejectedError`` with git's reasons."""
    args = ["push", "--atomic", "--porcelain"]
    args += [f"--force-with-lease={ref}:{expected or ''}" for ref, expected in sorted(leases.items())]
    args += [remote, *refspecs]
    done = _git(root, *args)
    command = "git " + shlex.join(args).replace(" --porcelain", "")
    rows = [line.split("\t") for line in done.stdout.splitlines() if line.count("\t") >= 2]
    refused = [f"{row[1].split(':')[-1]}: {row[2]}" for row in rows if row[0] == "!"]
    if done.returncode != 0 or refused:
        raise PushRejectedError(refused or [_last(done.stderr) or f"git push exited {done.returncode}"])
    return Pushed(remote, command, tuple(row[1].split(":")[-1] for row in rows if row[0] != "="))


def _last(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else ""
