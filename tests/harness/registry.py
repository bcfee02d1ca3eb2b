"""People and registries of the workflow harness: the Python the runners get, a registry made by
``gitdocket init`` on the simulated GitHub, and a person who clones it, writes with gitdocket,
pushes branches and opens pull requests."""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from gitdocket import __version__
from tests.distribution import build_wheel, make_venv, pip_install
from tests.harness.github import GitHub, PullRequest, Run
from tests.support import ROOT, write_key

EXAMPLES = ROOT / "examples" / "archetypes"


SOURCES = (
    "cli",
    "registry",
    "bundles",
    "deployments",
    "contracts",
    "workflows",
    "examples",
    "pyproject.toml",
    "setup.py",
)
"""What the wheel is built from: its cache key covers every file of these."""


def _source_key() -> str:
    digest = hashlib.sha256()
    for name in SOURCES:
        path = ROOT / name
        files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
        for file in files:
            if "__pycache__" in file.parts or file.suffix == ".pyc" or "_data" in file.parts:
                continue
            digest.update(file.relative_to(ROOT).as_posix().encode() + b"\0" + file.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def harness_python(cache: Path = ROOT / "build" / "harness-python") -> Path:
    """The ``bin/`` of the Python that setup-python's stand-in puts on PATH: a clean venv with
    this checkout's wheel installed (``../wheelhouse`` holds the wheel, for pip's --find-links:
    the workflows' own install step then finds the pinned version already there). Built once per
    state of the sources and shared by test workers and runs (a file lock)."""
    folder = cache / _source_key()
    cache.mkdir(parents=True, exist_ok=True)
    with (cache / ".lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (folder / "ready").exists():
            for stale in cache.iterdir():  # venvs of older sources
                if stale.is_dir():
                    shutil.rmtree(stale, ignore_errors=True)
            wheel = build_wheel(folder / "wheelhouse")
            bin_dir = make_venv(folder / "venv")
            done = pip_install(
                bin_dir, f"gitdocket[site]=={__version__}", "pytest", find_links=wheel.parent, cwd=folder
            )
            assert done.returncode == 0, done.stderr
            (folder / "ready").write_text("")
    return folder / "venv" / "bin"


@dataclass
class Person:
    """Someone with a clone of the registry and a signing key."""

    name: str
    github: GitHub
    clone: Path
    key: Path
    keys: Path

    def env(self) -> dict[str, str]:
        return {
            **self.github.base_env,
            "PATH": os.pathsep.join([str(self.github.python_bin), self.github.base_env["PATH"]]),
            "GITDOCKET_SIGNING_KEY": str(self.key),
            "GIT_AUTHOR_NAME": self.name,
            "GIT_AUTHOR_EMAIL": f"{self.name}@example.com",
        }

    def run(self, *args: str | Path, check: bool = True) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [str(a) for a in args],
            cwd=self.clone,
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        if check and done.returncode != 0:
            raise AssertionError(f"{' '.join(map(str, args))}: exit {done.returncode}\n{done.stdout}{done.stderr}")
        return done

    def gitdocket(self, *args: str | Path, check: bool = True) -> subprocess.CompletedProcess[str]:
        return self.run("gitdocket", *args, check=check)

    def git(self, *args: str | Path) -> str:
        return self.run("git", *args).stdout.strip()

    def branch(self, name: str, start: str | None = None) -> None:
        self.git("fetch", "-q", "origin")
        self.git("switch", "-q", "-c", name, start or f"origin/{self.github.default_branch}")

    def push(self, branch: str | None = None) -> None:
        self.git("push", "-q", "origin", f"HEAD:refs/heads/{branch or self.git('branch', '--show-current')}")

    def pull_request(self, title: str) -> PullRequest:
        branch = self.git("branch", "--show-current")
        self.push(branch)
        return self.github.open_pr(branch, title)

    def release(self, archetype: str, version: str, source: str = "support-triage") -> PullRequest:
        """A release pull request: a new archetype from the examples, frozen and published."""
        self.branch(f"release/{archetype}-{version}")
        self.gitdocket("archetype", "new", archetype, "--from", EXAMPLES / source)
        self.gitdocket("version", "freeze", archetype, version)
        self.gitdocket("package", "publish", archetype, version)
        return self.pull_request(f"Release {archetype} {version}")


def make_registry(github: GitHub, tmp_path: Path) -> Person:
    """``gitdocket init`` by alice (root), the CI identity added with roles builders and
    promoters, pushed to origin as the default branch; the CI key becomes the signing secret."""
    keys = tmp_path / "keys"
    keys.mkdir()
    alice = Person("alice", github, tmp_path / "alice", write_key(keys, "alice"), keys)
    ci_key = write_key(keys, "ci")
    home = Path(github.base_env["HOME"])
    (home / ".gitconfig").write_text("[user]\n\tname = alice\n\temail = alice@example.com\n")
    subprocess.run(
        ["gitdocket", "init", str(alice.clone), "--identity", "alice", "--name", "agents-registry"],
        env=alice.env(),
        cwd=tmp_path,  # outside any checkout: the wheel's own template
        check=True,
        capture_output=True,
    )
    alice.gitdocket("policy", "add-identity", "ci", f"{ci_key}.pub")
    for role in ("builders", "promoters"):
        alice.gitdocket("policy", "grant", role, "ci")
    alice.git("remote", "add", "origin", github.origin)
    alice.git("push", "-q", "origin", f"HEAD:refs/heads/{github.default_branch}")
    alice.git("branch", "-q", f"--set-upstream-to=origin/{github.default_branch}")
    github.secrets["GITDOCKET_SIGNING_KEY"] = ci_key.read_text()
    return alice


def passes(run: Run) -> Run:
    assert run.conclusion == "success", f"{run.workflow} run {run.id} failed:\n{run.log()}"
    return run


def fails(run: Run, step: str) -> str:
    """The output of the step ``run`` failed at (asserted to be ``step``)."""
    failed = run.job.failed_step()
    assert failed is not None, f"{run.workflow} run {run.id} passed:\n{run.job.log()}"
    assert failed.name == step, run.job.log()
    return failed.output


def checked(github: GitHub, pr: PullRequest) -> dict[str, Run]:
    """The pull request's workflows, each asserted to pass."""
    return {name: passes(run) for name, run in github.on_pull_request(pr).items()}


def merged(github: GitHub, pr: PullRequest, mode: str = "merge") -> dict[str, Run]:
    """Merge ``pr``; the push's workflows (tag-sync) must pass."""
    return {name: passes(run) for name, run in github.merge(pr, mode).items()}


def promote(github: GitHub, preview: Run, target: str) -> PullRequest:
    """Dispatch deployment-promote for ``preview``'s bundle; the pull request it opened."""
    before = set(github.prs)
    passes(github.dispatch("deployment-promote.yml", {"source_run_id": str(preview.id), "target_environment": target}))
    (number,) = set(github.prs) - before
    return github.prs[number]


def outline(run: Run) -> str:
    """A run as the Actions UI lists it: workflow, event, conclusion, then each step's outcome
    and time (for the closing note of issue 8)."""
    lines = [f"{run.workflow} #{run.id} ({run.event}): {run.conclusion}, {run.job.seconds:.1f} s"]
    for name, job in run.jobs.items():
        if job.skipped:
            lines.append(f"  job {name}: skipped")
            continue
        lines += [f"  {step.outcome:<8} {step.seconds:5.1f} s  {step.name}" for step in job.steps]
    return "\n".join(lines)
