"""A simulated GitHub repository for the workflow harness: a bare ``origin``, pull requests with
their ``refs/pull/N/head`` and ``refs/pull/N/merge`` (GitHub's test merge commit, made with ``git
merge-tree``), merges by merge commit, squash and rebase, workflow runs with their artifacts,
commit statuses, and the events that trigger the installed workflows.

What it answers through ``gh`` (``tests.harness.gh``) is written to a state file before each run:
the runs as the REST API's workflow-run objects, and whether Actions may open pull requests.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gitdocket.adapters.files import load_yaml
from tests.harness.runner import Context, Job, JobRunner

HERE = Path(__file__).resolve().parent


@dataclass
class PullRequest:
    number: int
    head: str
    base: str
    title: str
    head_sha: str = ""
    base_sha: str = ""
    merge_sha: str | None = None
    state: str = "open"
    body: str | None = None
    opened_by: str = "a person"


@dataclass
class Run:
    id: int
    workflow: str
    event: str
    head_sha: str
    head_branch: str | None
    job: Job
    """The first job (the only one, but for ``docs.yml``)."""
    inputs: dict[str, Any] = field(default_factory=dict)
    jobs: dict[str, Job] = field(default_factory=dict)

    @property
    def conclusion(self) -> str:
        return "failure" if any(j.result == "failure" for j in self.jobs.values()) else "success"

    def log(self) -> str:
        return "\n".join(f"== job {name} ({job.result})\n{job.log()}" for name, job in self.jobs.items())

    def api(self, repository: str) -> dict[str, Any]:
        """The REST API's workflow-run object (the fields ``gh api`` callers read)."""
        return {
            "id": self.id,
            "name": self.workflow.removesuffix(".yml"),
            "path": f".github/workflows/{self.workflow}",
            "event": self.event,
            "status": "completed",
            "conclusion": self.conclusion,
            "head_sha": self.head_sha,
            "head_branch": self.head_branch,
            "repository": {"full_name": repository},
        }


class GitHub:
    """One repository on the simulated GitHub."""

    def __init__(self, root: Path, python_bin: Path, secrets: dict[str, str], base_env: dict[str, str]) -> None:
        self.root = root
        self.origin = root / "origin.git"
        self.repository = "acme/agents-registry"
        self.default_branch = "main"
        self.python_bin = python_bin
        self.secrets = secrets
        self.variables: dict[str, str] = {}
        self.base_env = base_env
        self.artifacts = root / "artifacts"
        self.runs: dict[int, Run] = {}
        self.prs: dict[int, PullRequest] = {}
        self.statuses: list[dict[str, Any]] = []
        self.gh_calls: list[dict[str, Any]] = []
        self.actions_may_open_prs = True
        self._next_run = 7001
        self.gh_bin = root / "gh-bin"
        self.gh_bin.mkdir(parents=True)
        gh = self.gh_bin / "gh"
        launcher = f"#!{sys.executable}\nimport runpy, sys\nsys.argv[0] = 'gh'\n"
        gh.write_text(launcher + f"runpy.run_path({str(HERE / 'gh.py')!r}, run_name='__main__')\n")
        gh.chmod(0o755)
        self.git("init", "-q", "--bare", "-b", self.default_branch, str(self.origin), cwd=root)

    # -- git -----------------------------------------------------------------------------------

    def git(self, *args: str, cwd: Path | None = None, check: bool = True) -> str:
        done = subprocess.run(
            ["git", *args],
            cwd=cwd or self.origin,
            env=self.base_env,
            capture_output=True,
            text=True,
            check=False,
        )
        if check and done.returncode != 0:
            raise AssertionError(f"git {' '.join(args)}: {done.stderr}{done.stdout}")
        return done.stdout.strip()

    def sha(self, ref: str) -> str:
        return self.git("rev-parse", ref)

    def workflows(self, ref: str) -> dict[str, dict[str, Any]]:
        """The workflow files at ``ref`` in origin, parsed."""
        names = self.git("ls-tree", "--name-only", f"{ref}:.github/workflows").splitlines()
        return {n: load_yaml(self.git("show", f"{ref}:.github/workflows/{n}").encode(), n) for n in names}

    # -- pull requests ---------------------------------------------------------------------------

    def open_pr(
        self, head: str, title: str, base: str | None = None, body: str | None = None, by: str = "a person"
    ) -> PullRequest:
        pr = PullRequest(len(self.prs) + 1, head, base or self.default_branch, title, body=body, opened_by=by)
        self.prs[pr.number] = pr
        self.refresh(pr)
        return pr

    def refresh(self, pr: PullRequest) -> None:
        """Recompute the PR's head, base and test merge commit (GitHub does it on every push)."""
        pr.head_sha = self.sha(f"refs/heads/{pr.head}")
        pr.base_sha = self.sha(f"refs/heads/{pr.base}")
        self.git("update-ref", f"refs/pull/{pr.number}/head", pr.head_sha)
        merged = subprocess.run(
            ["git", "merge-tree", "--write-tree", pr.base_sha, pr.head_sha],
            cwd=self.origin,
            env=self.base_env,
            capture_output=True,
            text=True,
            check=False,
        )
        if merged.returncode != 0:
            pr.merge_sha = None
            self.git("update-ref", "-d", f"refs/pull/{pr.number}/merge", check=False)
            return
        tree = merged.stdout.split()[0]
        message = f"Merge {pr.head_sha} into {pr.base_sha}"
        pr.merge_sha = self.git("commit-tree", tree, "-p", pr.base_sha, "-p", pr.head_sha, "-m", message)
        self.git("update-ref", f"refs/pull/{pr.number}/merge", pr.merge_sha)

    def pr_event(self, pr: PullRequest, action: str = "opened") -> dict[str, Any]:
        return {
            "action": action,
            "number": pr.number,
            "pull_request": {
                "number": pr.number,
                "title": pr.title,
                "head": {"ref": pr.head, "sha": pr.head_sha},
                "base": {"ref": pr.base, "sha": pr.base_sha},
                "merge_commit_sha": pr.merge_sha,
            },
            "repository": {"full_name": self.repository, "default_branch": self.default_branch},
        }

    def on_pull_request(
        self, pr: PullRequest, action: str = "opened", event: dict[str, Any] | None = None
    ) -> dict[str, Run]:
        """Every workflow the pull_request event triggers (those of the merge commit, as GitHub
        takes them), by file name."""
        assert pr.merge_sha is not None, f"PR #{pr.number} has conflicts: update its branch first"
        payload = event or self.pr_event(pr, action)
        runs = {}
        for name, doc in self.workflows(pr.merge_sha).items():
            if "pull_request" in _events(doc):
                runs[name] = self.run(
                    name,
                    doc,
                    "pull_request",
                    payload,
                    pr.merge_sha,
                    f"refs/pull/{pr.number}/merge",
                    head_sha=pr.head_sha,
                    head_branch=pr.head,
                )
        return runs

    def merge(self, pr: PullRequest, mode: str) -> dict[str, Run]:
        """Merge ``pr`` the way GitHub's button does (``merge``, ``squash`` or ``rebase``), then
        run what the push to the base triggers."""
        self.refresh(pr)
        assert pr.merge_sha is not None, f"PR #{pr.number} has conflicts"
        base = pr.base_sha
        if mode == "merge":
            tip = self.git(
                "commit-tree",
                f"{pr.merge_sha}^{{tree}}",
                "-p",
                base,
                "-p",
                pr.head_sha,
                "-m",
                f"Merge pull request #{pr.number} from {pr.head}",
            )
        elif mode == "squash":
            tip = self.git("commit-tree", f"{pr.merge_sha}^{{tree}}", "-p", base, "-m", f"{pr.title} (#{pr.number})")
        else:
            tip = self._rebase(pr)
        self.git("update-ref", f"refs/heads/{pr.base}", tip, base)
        pr.state = "merged"
        return self.on_push(pr.base, base, tip)

    def _rebase(self, pr: PullRequest) -> str:
        """GitHub's rebase merge: each commit of the PR replayed on the base, new commits."""
        work = self.root / f"rebase-{pr.number}"
        self.git("clone", "-q", str(self.origin), str(work), cwd=self.root)
        self.git("checkout", "-q", "-B", "_rebase", f"origin/{pr.head}", cwd=work)
        self.git("rebase", "-q", "--force-rebase", f"origin/{pr.base}", cwd=work)
        tip = self.git("rev-parse", "HEAD", cwd=work)
        self.git("push", "-q", str(self.origin), f"{tip}:refs/rebase-tmp/{pr.number}", cwd=work)
        shutil.rmtree(work)
        self.git("update-ref", "-d", f"refs/rebase-tmp/{pr.number}")
        return tip

    def on_push(self, branch: str, before: str, after: str) -> dict[str, Run]:
        payload = {
            "ref": f"refs/heads/{branch}",
            "before": before,
            "after": after,
            "repository": {"full_name": self.repository, "default_branch": self.default_branch},
        }
        runs = {}
        for name, doc in self.workflows(after).items():
            if "push" in _events(doc):
                runs[name] = self.run(
                    name, doc, "push", payload, after, f"refs/heads/{branch}", head_sha=after, head_branch=branch
                )
        return runs

    def dispatch(self, workflow: str, inputs: dict[str, Any]) -> Run:
        """A workflow_dispatch on the default branch; pull requests the run opened are opened."""
        ref = f"refs/heads/{self.default_branch}"
        doc = self.workflows(ref)[workflow]
        declared = _events(doc)["workflow_dispatch"]["inputs"]
        values = {k: inputs.get(k, spec.get("default", "")) for k, spec in declared.items()}
        payload = {
            "inputs": values,
            "ref": ref,
            "repository": {"full_name": self.repository, "default_branch": self.default_branch},
        }
        tip = self.sha(ref)
        return self.run(
            workflow,
            doc,
            "workflow_dispatch",
            payload,
            tip,
            ref,
            head_sha=tip,
            head_branch=self.default_branch,
            inputs=values,
        )

    # -- runs ----------------------------------------------------------------------------------

    def run(
        self,
        name: str,
        doc: dict[str, Any],
        event_name: str,
        payload: dict[str, Any],
        sha: str,
        ref: str,
        *,
        head_sha: str,
        head_branch: str | None,
        inputs: dict[str, Any] | None = None,
    ) -> Run:
        run_id = self._next_run
        self._next_run += 1
        state = self.root / "gh-state.json"
        log = self.root / f"gh-log-{run_id}.jsonl"
        state.write_text(
            json.dumps(
                {
                    "repository": self.repository,
                    "runs": {str(r.id): r.api(self.repository) for r in self.runs.values()},
                    "actions_may_open_prs": self.actions_may_open_prs,
                    "workflow_token": "ghs_workflow_token",
                }
            )
        )
        ctx = Context(
            run_id=run_id,
            workflow=name,
            event_name=event_name,
            event=payload,
            sha=sha,
            ref=ref,
            inputs=inputs or {},
            secrets=self.secrets,
            repository=self.repository,
            origin=self.origin,
            root=self.root,
            python_bin=self.python_bin,
            gh_bin=self.gh_bin,
            artifacts=self.artifacts,
            base_env={**self.base_env, "GH_FAKE_STATE": str(state), "GH_FAKE_LOG": str(log)},
            variables=self.variables,
        )
        began = time.perf_counter()
        jobs: dict[str, Job] = {}
        for job_id in _in_order(doc["jobs"]):
            job = doc["jobs"][job_id]
            needs = {n: jobs[n] for n in _needs(job)}
            jobs[job_id] = JobRunner(ctx, job_id, job, needs).run()
        first = next(iter(jobs.values()))
        first.seconds = time.perf_counter() - began
        run = Run(run_id, name, event_name, head_sha, head_branch, first, inputs or {}, jobs)
        self.runs[run_id] = run
        self._after(run, log)
        return run

    def _after(self, run: Run, log: Path) -> None:
        calls = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
        self.gh_calls += calls
        for call in calls:
            if call["call"] == "status":
                self.statuses.append(call)
            elif call["call"] == "pr create":
                pr = self.open_pr(call["head"], call["title"], call["base"], call["body"], by=call["token"])
                pr.opened_by = f"run {run.id} ({call['token']})"

    def status_of(self, sha: str, context: str) -> str | None:
        found = [s["state"] for s in self.statuses if s["sha"] == sha and s["context"] == context]
        return found[-1] if found else None


def _events(doc: dict[str, Any]) -> dict[str, Any]:
    """The ``on:`` of a workflow (YAML 1.1 readers may turn ``on`` into ``True``)."""
    on = doc.get("on", doc.get(True))
    if isinstance(on, str):
        return {on: {}}
    if isinstance(on, list):
        return {key: {} for key in on}
    return {k: v or {} for k, v in on.items()}


def _needs(job: dict[str, Any]) -> list[str]:
    needs = job.get("needs") or []
    return [needs] if isinstance(needs, str) else list(needs)


def _in_order(jobs: dict[str, Any]) -> list[str]:
    """Job ids with every job after the jobs it needs."""
    done: list[str] = []
    while len(done) < len(jobs):
        ready = [j for j in jobs if j not in done and all(n in done for n in _needs(jobs[j]))]
        assert ready, "a cycle in the jobs' needs"
        done += ready
    return done
