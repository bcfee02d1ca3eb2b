"""Scenario: a release pull request passes registry-check and deployment-preview, is merged (by
merge commit, squash and rebase), after which the default branch verifies and its tags are
synced."""

from __future__ import annotations

import pytest

from tests.harness.github import GitHub
from tests.harness.registry import Person


def test_a_release_pr_passes(github: GitHub, registry: Person) -> None:
    pr = registry.release("support-triage", "1.0.0")
    runs = github.on_pull_request(pr)
    preview = runs["deployment-preview.yml"]
    assert preview.conclusion == "success", preview.job.log()
    check = runs["registry-check.yml"]
    assert check.conclusion == "success", check.job.log()
