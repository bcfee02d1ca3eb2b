"""Scenarios of the installed workflows, run by the harness on a registry `gitdocket init` made:
release pull requests merged every way, the promotion chain, a rollback, concurrent pull
requests. Each prints its wall time (the closing note of issue 8 quotes them)."""

from __future__ import annotations

import json

import pytest

from tests.harness.github import GitHub
from tests.harness.registry import Person, checked, merged, outline, passes, promote


def environments(github: GitHub, person: Person) -> dict[str, str | None]:
    """What the default branch of origin deploys where."""
    person.git("fetch", "-q", "origin")
    person.git("switch", "-q", "--detach", f"origin/{github.default_branch}")
    rows = json.loads(person.gitdocket("status", "--format", "json").stdout)
    return {row["environment"]: row["bundle_id"] for row in rows}


def fresh_clone_verifies(github: GitHub, person: Person) -> str:
    """`verify --require-tags` in a fresh clone of origin (tags fetched), as a new user does."""
    clone = person.clone.parent / "fresh"
    person.run("git", "clone", "-q", github.origin, clone)
    done = person.run("gitdocket", "verify", "--require-tags", "--repo", clone)
    return done.stdout


@pytest.mark.parametrize("mode", [pytest.param(m, id=m) for m in ("merge", "squash", "rebase")])
def test_a_release_pr_passes_and_lands(github: GitHub, registry: Person, mode: str) -> None:
    pr = registry.release("support-triage", "1.0.0")
    runs = checked(github, pr)
    assert set(runs) == {"registry-check.yml", "deployment-preview.yml"}
    assert "## gitdocket verify: OK" in runs["registry-check.yml"].job.summary
    # The reviewer sees what the release changes in the agent (docs/diff.md).
    assert "## gitdocket diff: support-triage (first version) → support-triage@1.0.0 (risk: **HIGH**)" in (
        runs["registry-check.yml"].job.summary
    )
    pushed = merged(github, pr, mode)
    assert set(pushed) == {"tag-sync.yml", "docs.yml"}
    assert (github.artifacts / str(pushed["docs.yml"].id) / "github-pages" / "index.html").is_file()
    tags = github.git("for-each-ref", "--format=%(refname:short) %(*objectname)", "refs/tags").splitlines()
    main = set(github.git("rev-list", github.default_branch).splitlines())
    assert {t.split()[0] for t in tags} == {"support-triage/v1.0.0", "packages/support-triage/v1.0.0"}
    assert all(t.split()[1] in main for t in tags), "tags point at the default branch's commits"
    assert fresh_clone_verifies(github, registry).rstrip().endswith("OK")


def test_the_promotion_chain_preview_dev_staging_prod(github: GitHub, registry: Person) -> None:
    pr = registry.release("support-triage", "1.0.0")
    runs = checked(github, pr)
    preview = runs["deployment-preview.yml"]
    report = [outline(run) for run in runs.values()]
    report += [outline(run) for run in merged(github, pr).values()]
    for target in ("dev", "staging", "prod"):
        before = set(github.runs)
        promotion = promote(github, preview, target)
        assert github.status_of(promotion.head_sha, "registry-check") == "success"
        report += [outline(github.runs[r]) for r in sorted(set(github.runs) - before)]
        report.append(f"PR #{promotion.number} {promotion.title!r} opened by {promotion.opened_by}")
        on_promotion = checked(github, promotion)
        assert on_promotion["deployment-preview.yml"].job.skipped, "a promotion PR builds no new bundle"
        report += [outline(run) for run in on_promotion.values()]
        report += [outline(run) for run in merged(github, promotion).values()]
    bundle = json.loads((preview.job.workspace / "artifacts" / "build.json").read_text())["bundle_id"]
    assert environments(github, registry) == {"preview": bundle, "dev": bundle, "staging": bundle, "prod": bundle}
    assert fresh_clone_verifies(github, registry).rstrip().endswith("OK")
    print("\n".join(report))


def test_a_rollback_pr_carries_its_reason(github: GitHub, registry: Person) -> None:
    first = registry.release("support-triage", "1.0.0")
    preview_one = checked(github, first)["deployment-preview.yml"]
    merged(github, first)
    merged(github, promote(github, preview_one, "dev"))
    registry.git("switch", "-q", github.default_branch)
    registry.git("pull", "-q", "--ff-only")
    second = registry.release("release-notes", "1.0.0", source="release-notes")
    preview_two = checked(github, second)["deployment-preview.yml"]
    merged(github, second)
    merged(github, promote(github, preview_two, "dev"))
    reason = "canary error rate doubled after the switch"
    before = set(github.prs)
    passes(github.dispatch("deployment-rollback.yml", {"environment": "dev", "reason": reason}))
    (number,) = set(github.prs) - before
    rollback = github.prs[number]
    assert reason in (rollback.body or "")
    checked(github, rollback)
    merged(github, rollback)
    bundle_one = json.loads((preview_one.job.workspace / "artifacts" / "build.json").read_text())["bundle_id"]
    assert environments(github, registry)["dev"] == bundle_one
    history = json.loads(registry.gitdocket("history", "--env", "dev", "--format", "json").stdout)
    assert history[-1]["reason"] == reason


def test_concurrent_release_prs(github: GitHub, registry: Person) -> None:
    one = registry.release("support-triage", "1.0.0")
    registry.git("switch", "-q", github.default_branch)
    two = registry.release("release-notes", "1.0.0", source="release-notes")
    checked(github, one)
    checked(github, two)
    merged(github, one)
    # the other is brought up to date with the default branch (GitHub's "Update branch")
    registry.git("switch", "-q", two.head)
    registry.git("fetch", "-q", "origin")
    registry.git("merge", "-q", "--no-edit", f"origin/{github.default_branch}")
    registry.push()
    github.refresh(two)
    runs = github.on_pull_request(two, "synchronize")
    for run in runs.values():
        passes(run)
    merged(github, two, "squash")
    assert fresh_clone_verifies(github, registry).rstrip().endswith("OK")
