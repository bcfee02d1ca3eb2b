from __future__ import annotations

from tests.harness.github import GitHub
from tests.harness.registry import Person


def test_promote(github: GitHub, registry: Person) -> None:
    pr = registry.release("support-triage", "1.0.0")
    runs = github.on_pull_request(pr)
    preview = runs["deployment-preview.yml"]
    assert preview.conclusion == "success", preview.job.log()
    github.merge(pr, "merge")
    run = github.dispatch("deployment-promote.yml", {"source_run_id": str(preview.id), "target_environment": "dev"})
    assert run.conclusion == "success", run.job.log()
    print(run.job.summary)
    print(github.prs, github.statuses)
