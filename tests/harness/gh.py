"""The stand-in for GitHub's ``gh`` CLI in the workflow harness: a program the harness puts on
PATH as ``gh``. It records every call (JSON lines in ``$GH_FAKE_LOG``) and answers from the
simulated repository's state (``$GH_FAKE_STATE``, written by ``tests.harness.github``) with the
shapes GitHub's REST API returns.

Handled: ``gh api repos/O/R/actions/runs/ID`` (the workflow-run object, or 404),
``gh api repos/O/R/statuses/SHA -f state=… -f context=…`` (a commit status) and ``gh pr create``
(needs the current branch pushed to origin; refused with GitHub's message when Actions may not
open pull requests and the token is the workflow's own).
"""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any


def _record(call: dict[str, Any]) -> None:
    with Path(os.environ["GH_FAKE_LOG"]).open("a", encoding="utf-8") as log:
        log.write(json.dumps(call, sort_keys=True) + "\n")


def _fields(args: list[str]) -> dict[str, str]:
    out = {}
    for flag, value in itertools.pairwise(args):
        if flag in ("-f", "-F", "--field", "--raw-field"):
            key, _, val = value.partition("=")
            out[key] = val
    return out


def _option(args: list[str], name: str) -> str | None:
    return args[args.index(name) + 1] if name in args and args.index(name) + 1 < len(args) else None


def api(args: list[str], state: dict[str, Any]) -> int:
    path = args[0].lstrip("/")
    parts = path.split("/")
    repo = state["repository"]
    if parts[:3] != ["repos", *repo.split("/")][:3] or f"{parts[1]}/{parts[2]}" != repo:
        print(f"gh: Not Found (HTTP 404) {path}", file=sys.stderr)
        return 1
    if parts[3:5] == ["actions", "runs"] and len(parts) == 6:
        run = state["runs"].get(parts[5])
        if run is None:
            print("gh: Not Found (HTTP 404)", file=sys.stderr)
            return 1
        print(json.dumps(run, indent=2))
        return 0
    if parts[3] == "statuses" and len(parts) == 5:
        status = {"sha": parts[4], **_fields(args[1:])}
        _record({"call": "status", **status})
        print(json.dumps({"id": 1, "state": status.get("state"), "context": status.get("context")}))
        return 0
    print(f"gh: the harness does not answer {path}", file=sys.stderr)
    return 1


def pr_create(args: list[str], state: dict[str, Any]) -> int:
    token = os.environ.get("GH_TOKEN", "")
    if token == state["workflow_token"] and not state["actions_may_open_prs"]:
        print(
            "pull request create failed: GraphQL: GitHub Actions is not permitted to create or approve "
            "pull requests (createPullRequest)",
            file=sys.stderr,
        )
        return 1
    head = subprocess.run(
        ["git", "branch", "--show-current"], capture_output=True, text=True, check=True
    ).stdout.strip()
    remote = subprocess.run(["git", "ls-remote", "origin", f"refs/heads/{head}"], capture_output=True, text=True)
    if not head or not remote.stdout.strip():
        print(
            f"aborted: you must first push the current branch to a remote, or use the --head flag ({head})",
            file=sys.stderr,
        )
        return 1
    _record(
        {
            "call": "pr create",
            "head": head,
            "base": _option(args, "--base"),
            "title": _option(args, "--title"),
            "body": _option(args, "--body"),
            "token": "workflow" if token == state["workflow_token"] else "pr-token",
        }
    )
    print(f"https://github.com/{state['repository']}/pull/new")
    return 0


def main(argv: list[str]) -> int:
    state = json.loads(Path(os.environ["GH_FAKE_STATE"]).read_text(encoding="utf-8"))
    _record({"call": "gh", "argv": argv})
    if not os.environ.get("GH_TOKEN"):
        print(
            "gh: To use GitHub CLI in a GitHub Actions workflow, set the GH_TOKEN environment variable.",
            file=sys.stderr,
        )
        return 4
    if argv[:1] == ["api"] and len(argv) > 1:
        return api(argv[1:], state)
    if argv[:2] == ["pr", "create"]:
        return pr_create(argv[2:], state)
    print(f"gh: the harness does not know `gh {' '.join(argv)}`", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
