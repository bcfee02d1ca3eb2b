"""Scenarios that must fail, each with one clear line and nothing written: a malicious pull
request (a hand-edited current.json, a forged event, a forged event payload), a promotion
dispatched with a run that is not a successful preview run, an artifact that is not a bundle, a
bundle whose commit does not match the run, and a repository where Actions may not open pull
requests."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest

from tests.harness.github import GitHub, Run
from tests.harness.registry import EXAMPLES, Person, checked, fails, merged


def _hand_edit(person: Person) -> None:
    path = person.clone / "registry" / "packages" / "support-triage" / "1.0.0" / "current.json"
    state = json.loads(path.read_text())
    state["phase"] = "Withdrawn"
    path.write_text(json.dumps(state, indent=2, sort_keys=True) + "\n")
    person.git("commit", "-q", "-am", "Withdraw by hand")


def _forged_event(person: Person) -> None:
    """A new line on the version's log, chained correctly, claiming alice, with signatures copied
    from the line before (no key of the policy signed it)."""
    log = person.clone / "registry" / "versions" / "support-triage" / "1.0.0" / "history.jsonl"
    lines = log.read_bytes().splitlines()
    event = json.loads(lines[-1])
    event.update(seq=event["seq"] + 1, prev="sha256:" + hashlib.sha256(lines[-1]).hexdigest(), actor="alice")
    event["data"] = {**event["data"], "forged": True}
    log.write_bytes(b"\n".join([*lines, json.dumps(event, sort_keys=True, separators=(",", ":")).encode()]) + b"\n")
    person.git("commit", "-q", "-am", "Fix the version log")


@pytest.mark.parametrize(
    ("tamper", "code"),
    [
        pytest.param(_hand_edit, "CURRENT_MISMATCH", id="hand-edited-current-json"),
        pytest.param(_forged_event, "SIGNATURE_INVALID", id="forged-event"),
    ],
)
def test_a_malicious_pr_fails_registry_check(github: GitHub, registry: Person, tamper: object, code: str) -> None:
    pr = registry.release("support-triage", "1.0.0")
    checked(github, pr)
    merged(github, pr)
    registry.branch("innocent-looking")
    tamper(registry)  # type: ignore[operator]
    bad = registry.pull_request("Small fix")
    run = github.on_pull_request(bad)["registry-check.yml"]
    output = fails(run, "Verify the pull request")
    assert code in output
    assert "## gitdocket verify:" in run.job.summary and f"| {code} |" in run.job.summary


def test_a_forged_event_payload_does_not_hide_a_change(github: GitHub, registry: Person) -> None:
    """The payload claims the base is the PR's own head (nothing new to judge); snapshot checks
    still judge everything the head holds."""
    pr = registry.release("support-triage", "1.0.0")
    checked(github, pr)
    merged(github, pr)
    registry.branch("sneaky")
    _hand_edit(registry)
    bad = registry.pull_request("Sneaky")
    forged = github.pr_event(bad)
    forged["pull_request"]["base"]["sha"] = bad.merge_sha
    run = github.on_pull_request(bad, event=forged)["registry-check.yml"]
    assert "CURRENT_MISMATCH" in fails(run, "Verify the pull request")


def _preview(github: GitHub, registry: Person, merge: bool = True) -> tuple[Run, Run]:
    """A release PR's passing runs; merged when the promotion must get past the provenance checks
    (the refusals below stop before anything is imported, so they skip the merge's runs)."""
    pr = registry.release("support-triage", "1.0.0")
    runs = checked(github, pr)
    if merge:
        merged(github, pr)
    return runs["deployment-preview.yml"], runs["registry-check.yml"]


def _nothing_pushed(github: GitHub, before: set[str]) -> None:
    assert set(github.git("for-each-ref", "--format=%(refname)", "refs/heads").splitlines()) == before
    assert not [c for c in github.gh_calls if c["call"] == "pr create"]


def _branches(github: GitHub) -> set[str]:
    return set(github.git("for-each-ref", "--format=%(refname)", "refs/heads").splitlines())


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        pytest.param("registry-check", "not of .github/workflows/deployment-preview.yml", id="not-a-preview-run"),
        pytest.param("missing", "HTTP 404", id="no-such-run"),
    ],
)
def test_promote_refuses_a_run_that_is_not_a_successful_preview(
    github: GitHub, registry: Person, source: str, expected: str
) -> None:
    _, check = _preview(github, registry, merge=False)
    before = _branches(github)
    run_id = str(check.id) if source == "registry-check" else "999999"
    run = github.dispatch("deployment-promote.yml", {"source_run_id": run_id, "target_environment": "dev"})
    output = fails(run, "The source run is a successful deployment-preview run")
    assert expected in output
    if source == "registry-check":
        (line,) = [x for x in output.splitlines() if x.startswith("error:")]
        assert line.startswith("error: provenance check failed: run ")
    _nothing_pushed(github, before)


def test_promote_refuses_a_failed_preview_run(github: GitHub, registry: Person) -> None:
    preview, _ = _preview(github, registry, merge=False)
    preview.job.steps[-2].outcome = "failure"  # the run failed after uploading its artifact
    before = _branches(github)
    run = github.dispatch("deployment-promote.yml", {"source_run_id": str(preview.id), "target_environment": "dev"})
    assert "conclusion=failure" in fails(run, "The source run is a successful deployment-preview run")
    _nothing_pushed(github, before)


def test_promote_refuses_an_artifact_that_is_not_a_bundle(github: GitHub, registry: Person) -> None:
    preview, _ = _preview(github, registry, merge=False)
    archive = github.artifacts / str(preview.id) / "release-preview-bundle" / "bundle.tar.gz"
    archive.write_bytes(b"this is not a tarball")
    before = _branches(github)
    run = github.dispatch("deployment-promote.yml", {"source_run_id": str(preview.id), "target_environment": "dev"})
    output = fails(run, "The bundle was built from that run's head commit")
    assert "not a readable .tar.gz" in output and output.count("error:") == 1
    _nothing_pushed(github, before)


def test_promote_refuses_a_bundle_whose_commit_does_not_match_the_run(github: GitHub, registry: Person) -> None:
    preview, _ = _preview(github, registry, merge=False)
    registry.git("switch", "-q", github.default_branch)
    second = registry.release("release-notes", "1.0.0", source="release-notes")
    other = checked(github, second)["deployment-preview.yml"]
    ours = github.artifacts / str(preview.id) / "release-preview-bundle"
    shutil.rmtree(ours)
    shutil.copytree(github.artifacts / str(other.id) / "release-preview-bundle", ours)
    before = _branches(github)
    run = github.dispatch("deployment-promote.yml", {"source_run_id": str(preview.id), "target_environment": "dev"})
    output = fails(run, "The bundle was built from that run's head commit")
    assert "not from the run's head" in output
    _nothing_pushed(github, before)


def test_when_actions_may_not_open_prs_the_message_names_the_setting(github: GitHub, registry: Person) -> None:
    preview, _ = _preview(github, registry)
    github.actions_may_open_prs = False
    run = github.dispatch("deployment-promote.yml", {"source_run_id": str(preview.id), "target_environment": "dev"})
    output = fails(run, "Open the pull request")
    assert 'Settings → Actions → General → "Allow GitHub Actions to create and approve pull requests"' in output


def test_an_empty_signing_secret_is_one_clear_line(github: GitHub, registry: Person) -> None:
    pr = registry.release("support-triage", "1.0.0")
    github.secrets["GITDOCKET_SIGNING_KEY"] = ""
    run = github.on_pull_request(pr)["deployment-preview.yml"]
    failed = run.job.failed_step()
    assert failed is not None
    # The step runs a command with --format json, so its error is one JSON object (error, hint, code).
    errors = [x for x in failed.output.splitlines() if x.startswith(("error:", '{"code"'))]
    assert len(errors) == 1 and "the signing key file is empty" in errors[0], failed.output
    assert "the repository secret GITDOCKET_SIGNING_KEY is empty or missing" in failed.output
    assert "Traceback" not in failed.output


def test_a_pr_opened_with_the_pr_token_triggers_registry_check(github: GitHub, registry: Person) -> None:
    """With GITDOCKET_PR_TOKEN set, the run reports no status itself: the PR's own workflows run."""
    github.secrets["GITDOCKET_PR_TOKEN"] = "github_pat_fake"
    preview, _ = _preview(github, registry)
    run = github.dispatch("deployment-promote.yml", {"source_run_id": str(preview.id), "target_environment": "dev"})
    assert run.conclusion == "success", run.job.log()
    (pr,) = [p for p in github.prs.values() if p.head.startswith("promote/")]
    assert github.status_of(pr.head_sha, "registry-check") is None
    assert pr.opened_by.endswith("(pr-token)")
    checked(github, pr)


def test_the_harness_forbids_unknown_actions(tmp_path: Path) -> None:
    from tests.harness.runner import Context, JobRunner

    ctx = Context(
        1,
        "x.yml",
        "push",
        {},
        "0" * 40,
        "refs/heads/main",
        {},
        {},
        "a/b",
        tmp_path,
        tmp_path,
        tmp_path,
        tmp_path,
        tmp_path,
        {},
    )
    job = JobRunner(ctx, "j", {"steps": [{"uses": "someone/deploy@v1"}]}).run()
    assert job.conclusion == "failure" and "no stand-in" in job.steps[0].output


def test_failing_tests_make_the_gate_say_no_go(github: GitHub, registry: Person) -> None:
    """A registry with tests: the preview runs them (JUnit) and the gate refuses on a failure."""
    registry.branch("release-with-tests")
    (registry.clone / "tests").mkdir()
    (registry.clone / "tests" / "test_method.py").write_text(
        "def test_tone_is_formal():\n    assert 'casual' == 'formal'\n"
    )
    registry.git("add", "tests")
    registry.git("commit", "-q", "-m", "A test of the method")
    registry.gitdocket("archetype", "new", "support-triage", "--from", EXAMPLES / "support-triage")
    registry.gitdocket("release", "support-triage", "1.0.0")
    pr = registry.pull_request("Release with tests")
    run = github.on_pull_request(pr)["deployment-preview.yml"]
    tests = next(s for s in run.job.steps if s.name.startswith("Tests (JUnit)"))
    assert tests.outcome == "failure (continued)"
    output = fails(run, "Readiness gate")
    assert "release gate decision is no-go: junit_no_failures failed (failures=1; errors=0)" in output
