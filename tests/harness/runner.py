"""Runs one job of an installed workflow the way a GitHub runner does, on this machine.

Every ``run:`` step runs for real, in order, with ``bash --noprofile --norc -eo pipefail`` in the
job's workspace, and the environment a runner gives it: ``GITHUB_ENV``, ``GITHUB_OUTPUT``,
``GITHUB_STEP_SUMMARY`` and ``GITHUB_PATH`` (a fresh file per step, read back after it),
``GITHUB_EVENT_PATH`` (the event's payload), ``GITHUB_SHA``/``GITHUB_REF``, ``RUNNER_TEMP``,
``CI=true``; ``${{ }}`` expressions are evaluated (``tests.harness.expressions``), ``if:`` is
honoured, and a failing step skips the rest unless they ask for ``always()``.

Stand-ins only for ``uses:`` actions, each doing what the action does to the workspace:
``actions/checkout`` fetches every branch and tag of the bare origin and checks out what the
real action checks out (a pull request's merge commit or ``with.ref``, detached; a branch for
push and dispatch events); ``actions/setup-python`` puts the harness's Python (a clean venv
with the gitdocket wheel installed) first on PATH; ``actions/upload-artifact`` and
``download-artifact`` copy to and from a folder per run. ``gh`` is ``tests.harness.gh``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.harness.expressions import condition, hash_files, substitute


@dataclass
class Step:
    name: str
    outcome: str
    """``success``, ``failure``, ``failure (continued)`` (``continue-on-error``) or ``skipped``."""
    output: str = ""
    seconds: float = 0.0


@dataclass
class Job:
    """What one job run left behind: its steps, the summary, the workspace, its outputs."""

    run_id: int
    workflow: str
    steps: list[Step] = field(default_factory=list)
    summary: str = ""
    workspace: Path | None = None
    seconds: float = 0.0
    skipped: bool = False
    outputs: dict[str, str] = field(default_factory=dict)

    @property
    def conclusion(self) -> str:
        return "failure" if any(s.outcome == "failure" for s in self.steps) else "success"

    @property
    def result(self) -> str:
        """``needs.<job>.result``: success, failure or skipped."""
        return "skipped" if self.skipped else self.conclusion

    def failed_step(self) -> Step | None:
        return next((s for s in self.steps if s.outcome == "failure"), None)

    def log(self) -> str:
        return "\n".join(f"[{s.outcome}] {s.name}\n{s.output}" for s in self.steps)


@dataclass
class Context:
    """Everything a run of one workflow sees."""

    run_id: int
    workflow: str
    event_name: str
    event: dict[str, Any]
    sha: str
    ref: str
    inputs: Mapping[str, Any]
    secrets: Mapping[str, str]
    repository: str
    origin: Path
    root: Path
    python_bin: Path
    gh_bin: Path
    artifacts: Path
    base_env: Mapping[str, str]
    variables: Mapping[str, str] = field(default_factory=dict)
    """The repository's configuration variables (``vars``)."""
    token: str = "ghs_workflow_token"


def _read_env_file(path: Path) -> dict[str, str]:
    """``KEY=value`` and ``KEY<<DELIM`` … ``DELIM`` lines, as GitHub reads GITHUB_ENV/OUTPUT."""
    out: dict[str, str] = {}
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    i = 0
    while i < len(lines):
        line = lines[i]
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            key, delim = line.split("<<", 1)
            end = lines.index(delim, i + 1)
            out[key] = "\n".join(lines[i + 1 : end])
            i = end + 1
            continue
        if "=" in line:
            key, value = line.split("=", 1)
            out[key] = value
        i += 1
    return out


class JobRunner:
    def __init__(self, ctx: Context, job_id: str, job: dict[str, Any], needs: Mapping[str, Job] | None = None) -> None:
        self.ctx = ctx
        self.job_id = job_id
        self.job = job
        self.needs = dict(needs or {})
        # every job gets a fresh runner: its own workspace, temp and home
        base = ctx.root / "runs" / str(ctx.run_id) / job_id
        self.workspace = base / "workspace"
        self.temp = base / "temp"
        self.home = base / "home"
        for folder in (self.workspace, self.temp, self.home):
            folder.mkdir(parents=True, exist_ok=True)
        self.event_path = base / "event.json"
        self.event_path.write_text(json.dumps(ctx.event, indent=2), encoding="utf-8")
        (self.home / ".gitconfig").write_text("[user]\n\tname = github-actions\n\temail = actions@example.com\n")
        self.env: dict[str, str] = {}
        self.path: list[str] = [str(ctx.gh_bin)]
        self.outputs: dict[str, dict[str, str]] = {}
        self.outcomes: dict[str, str] = {}
        self.status = "success"
        self.result = Job(ctx.run_id, ctx.workflow, workspace=self.workspace)

    # -- expressions -------------------------------------------------------------------------

    def contexts(self) -> dict[str, Any]:
        ctx = self.ctx
        return {
            "github": {
                "event": ctx.event,
                "event_name": ctx.event_name,
                "sha": ctx.sha,
                "ref": ctx.ref,
                "ref_name": ctx.ref.rsplit("/", 1)[-1] if ctx.ref.startswith("refs/heads/") else ctx.ref,
                "head_ref": ((ctx.event.get("pull_request") or {}).get("head") or {}).get("ref", ""),
                "repository": ctx.repository,
                "run_id": str(ctx.run_id),
                "token": ctx.token,
                "server_url": "https://github.com",
                "workspace": str(self.workspace),
            },
            "inputs": dict(ctx.inputs),
            "vars": dict(ctx.variables),
            "secrets": {"GITHUB_TOKEN": ctx.token, **ctx.secrets},
            "env": {**self.job_env(), **self.env},
            "runner": {"temp": str(self.temp), "os": "Linux"},
            "steps": {
                k: {"outputs": self.outputs.get(k, {}), "outcome": v, "conclusion": v} for k, v in self.outcomes.items()
            },
            "needs": {k: {"result": v.result, "outputs": v.outputs} for k, v in self.needs.items()},
        }

    def functions(self) -> dict[str, Callable[..., Any]]:
        return {
            "always": lambda: True,
            "success": lambda: self.status == "success",
            "failure": lambda: self.status == "failure",
            "cancelled": lambda: False,
            "hashFiles": hash_files(self.workspace),
            "startsWith": lambda text, prefix: str(text or "").lower().startswith(str(prefix or "").lower()),
        }

    def sub(self, value: Any) -> str:
        return substitute(str(value), self.contexts(), self.functions())

    def job_env(self) -> dict[str, str]:
        raw = self.job.get("env") or {}
        return {k: substitute(str(v), {**self.contexts_without_env()}, self.functions()) for k, v in raw.items()}

    def contexts_without_env(self) -> dict[str, Any]:
        saved = self.job.get("env")
        self.job["env"] = {}
        try:
            contexts = self.contexts()
        finally:
            self.job["env"] = saved
        return contexts

    # -- the job -----------------------------------------------------------------------------

    def job_functions(self) -> dict[str, Callable[..., Any]]:
        """At the job level, success() means every job it needs succeeded."""
        return {
            **self.functions(),
            "success": lambda: all(j.result == "success" for j in self.needs.values()),
            "failure": lambda: any(j.result == "failure" for j in self.needs.values()),
        }

    def run(self) -> Job:
        start = time.perf_counter()
        if not condition(self.job.get("if"), self.contexts(), self.job_functions()):
            self.result.skipped = True
            return self.result
        for index, step in enumerate(self.job["steps"]):
            name = step.get("name") or step.get("uses") or step.get("run", "").splitlines()[0]
            if not condition(step.get("if"), self.contexts(), self.functions()):
                self.result.steps.append(Step(name, "skipped"))
                if "id" in step:
                    self.outcomes[step["id"]] = "skipped"
                continue
            began = time.perf_counter()
            ok, output = self.uses(step) if "uses" in step else self.shell(step, index)
            continued = not ok and step.get("continue-on-error") is True
            outcome = "success" if ok else "failure (continued)" if continued else "failure"
            self.result.steps.append(Step(name, outcome, output, time.perf_counter() - began))
            if "id" in step:
                self.outcomes[step["id"]] = "success" if ok else "failure"
            if not ok and not continued:
                self.status = "failure"
        self.result.outputs = {k: self.sub(v) for k, v in (self.job.get("outputs") or {}).items()}
        self.result.seconds = time.perf_counter() - start
        return self.result

    def step_env(self, step: Mapping[str, Any], files: Mapping[str, Path]) -> dict[str, str]:
        ctx = self.ctx
        env = {
            **ctx.base_env,
            "HOME": str(self.home),
            "PATH": os.pathsep.join([*self.path, "/usr/local/bin", "/usr/bin", "/bin"]),
            "CI": "true",
            "GITHUB_ACTIONS": "true",
            "GITHUB_WORKSPACE": str(self.workspace),
            "GITHUB_EVENT_NAME": ctx.event_name,
            "GITHUB_EVENT_PATH": str(self.event_path),
            "GITHUB_SHA": ctx.sha,
            "GITHUB_REF": ctx.ref,
            "GITHUB_REF_NAME": self.contexts()["github"]["ref_name"],
            "GITHUB_HEAD_REF": self.contexts()["github"]["head_ref"],
            "GITHUB_REPOSITORY": ctx.repository,
            "GITHUB_WORKFLOW_REF": f"{ctx.repository}/.github/workflows/{ctx.workflow}@{ctx.ref}",
            "GITHUB_RUN_ID": str(ctx.run_id),
            "GITHUB_SERVER_URL": "https://github.com",
            "GITHUB_JOB": self.job_id,
            "RUNNER_TEMP": str(self.temp),
            "RUNNER_OS": "Linux",
            "GIT_CONFIG_GLOBAL": str(self.home / ".gitconfig"),
            "GIT_CONFIG_NOSYSTEM": "1",
            **{name: str(path) for name, path in files.items()},
        }
        env.update(self.job_env())
        env.update(self.env)
        env.update({k: self.sub(v) for k, v in (step.get("env") or {}).items()})
        return env

    def shell(self, step: Mapping[str, Any], index: int) -> tuple[bool, str]:
        files = {
            name: self.temp / f"_{name.lower()}_{index}" for name in ("GITHUB_ENV", "GITHUB_OUTPUT", "GITHUB_PATH")
        }
        files["GITHUB_STEP_SUMMARY"] = self.temp / f"_summary_{index}"
        for path in files.values():
            path.write_text("")
        script = self.temp / f"_step_{index}.sh"
        script.write_text(self.sub(step["run"]), encoding="utf-8")
        env = self.step_env(step, files)
        cwd = self.workspace / step["working-directory"] if "working-directory" in step else self.workspace
        done = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        self.env.update(_read_env_file(files["GITHUB_ENV"]))
        if "id" in step:
            self.outputs[step["id"]] = _read_env_file(files["GITHUB_OUTPUT"])
        self.path[:0] = [p for p in files["GITHUB_PATH"].read_text().splitlines() if p][::-1]
        self.result.summary += files["GITHUB_STEP_SUMMARY"].read_text(encoding="utf-8")
        return done.returncode == 0, done.stdout + done.stderr

    # -- the actions' stand-ins --------------------------------------------------------------

    def uses(self, step: Mapping[str, Any]) -> tuple[bool, str]:
        action = step["uses"].split("@", 1)[0]
        given = {k: self.sub(v) for k, v in (step.get("with") or {}).items()}
        handlers: dict[str, Callable[[dict[str, str]], tuple[bool, str]]] = {
            "actions/checkout": self.checkout,
            "actions/setup-python": self.setup_python,
            "actions/upload-artifact": self.upload,
            "actions/download-artifact": self.download,
            "actions/upload-pages-artifact": lambda g: self.upload(
                {"name": "github-pages", "path": g.get("path", "_site")}
            ),
            "actions/deploy-pages": self.deploy_pages,
        }
        if action not in handlers:
            return False, f"the harness has no stand-in for {action}"
        ok, output = handlers[action](given)
        if ok and action == "actions/deploy-pages" and "id" in step:
            self.outputs[step["id"]] = {"page_url": f"https://{self.ctx.repository.split('/')[0]}.github.io/"}
        return ok, output

    def git(self, *args: str) -> subprocess.CompletedProcess[str]:
        env = {
            **self.ctx.base_env,
            "HOME": str(self.home),
            "GIT_CONFIG_GLOBAL": str(self.home / ".gitconfig"),
            "GIT_CONFIG_NOSYSTEM": "1",
        }
        return subprocess.run(["git", *args], cwd=self.workspace, env=env, capture_output=True, text=True, check=False)

    def checkout(self, given: dict[str, str]) -> tuple[bool, str]:
        ctx = self.ctx
        steps = [
            ("init", "-q", "-b", "_checkout"),
            ("remote", "add", "origin", str(ctx.origin)),
            ("fetch", "-q", "--prune", "origin", "+refs/heads/*:refs/remotes/origin/*", "+refs/tags/*:refs/tags/*"),
        ]
        ref = given.get("ref", "")
        number = (ctx.event.get("pull_request") or {}).get("number")
        if not ref and ctx.event_name == "pull_request":
            steps.append(("fetch", "-q", "origin", f"+refs/pull/{number}/merge:refs/remotes/pull/{number}/merge"))
            steps.append(("checkout", "-q", "--detach", f"refs/remotes/pull/{number}/merge"))
        elif len(ref) == 40 and all(c in "0123456789abcdef" for c in ref):
            if number is not None:
                steps.append(("fetch", "-q", "origin", f"+refs/pull/{number}/head:refs/remotes/pull/{number}/head"))
            steps.append(("checkout", "-q", "--detach", ref))
        else:
            branch = ref.removeprefix("refs/heads/") or ctx.ref.removeprefix("refs/heads/")
            steps.append(("checkout", "-q", "-B", branch, f"refs/remotes/origin/{branch}"))
        steps.append(("branch", "-q", "-D", "_checkout"))
        log = []
        for args in steps:
            done = self.git(*args)
            log.append(f"git {' '.join(args)}\n{done.stdout}{done.stderr}")
            if done.returncode != 0 and args[0] != "branch":
                return False, "\n".join(log)
        return True, "\n".join(log)

    def setup_python(self, given: dict[str, str]) -> tuple[bool, str]:
        self.path.insert(0, str(self.ctx.python_bin))
        return True, f"python {given.get('python-version')} -> {self.ctx.python_bin}"

    def upload(self, given: dict[str, str]) -> tuple[bool, str]:
        target = self.ctx.artifacts / str(self.ctx.run_id) / given["name"]
        paths = [self.workspace / p.strip() for p in given["path"].splitlines() if p.strip()]
        existing = [p for p in paths if p.exists()]
        if not existing:
            return False, f"No files were found with the provided path: {given['path']}. No artifacts will be uploaded."
        root = existing[0] if len(existing) == 1 and existing[0].is_dir() else Path(os.path.commonpath(existing))
        if root in existing and root.is_file():
            root = root.parent
        for path in existing:
            dest = target / path.relative_to(root) if path != root else target
            if path.is_dir():
                shutil.copytree(path, dest, dirs_exist_ok=True)
            else:
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, dest)
        return True, f"uploaded {given['name']}"

    def download(self, given: dict[str, str]) -> tuple[bool, str]:
        run_id = given.get("run-id") or str(self.ctx.run_id)
        source = self.ctx.artifacts / run_id / given["name"]
        if not source.is_dir():
            return False, f"Error: Unable to download artifact(s): Artifact not found for name: {given['name']}"
        dest = self.workspace / given.get("path", ".")
        shutil.copytree(source, dest, dirs_exist_ok=True)
        return True, f"downloaded {given['name']} of run {run_id} to {dest}"

    def deploy_pages(self, given: dict[str, str]) -> tuple[bool, str]:
        """GitHub Pages takes the run's ``github-pages`` artifact (its ``index.html`` must exist)."""
        site = self.ctx.artifacts / str(self.ctx.run_id) / "github-pages"
        if not (site / "index.html").is_file():
            return False, "Error: No uploaded artifact was found! (github-pages)"
        return True, f"deployed {site}"
