"""The issue-3 demo step, driven by a tiny stand-in for the demo runner over a registry in the
state the runner promises (alice; support-triage 1.0.0 and 1.1.0 published, 1.2.0 retired;
release-notes). The step must run end to end — twice — and leave a registry that verifies."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest

from gitdocket.demo import clients as step
from tests.support import Registry


@dataclass
class FakeDemo:
    reg: Registry
    lines: list[str] = field(default_factory=list)

    @property
    def registry(self) -> Path:
        return self.reg.path

    def say(self, text: str) -> None:
        self.lines.append(f"# {text}")

    def run(self, *args: str, key: str = "alice", expect: int = 0) -> str:
        result = self.reg.run(*args, key=key)
        assert result.code == expect, f"gitdocket {' '.join(args)}: {result.code}\n{result.err}"
        self.lines.append("$ gitdocket " + " ".join(args))
        self.lines.extend(result.out.splitlines() + result.err.splitlines())
        return result.out

    def key(self, name: str) -> Path:
        return self.reg.key(name)

    def write(self, path: Path, text: str) -> None:
        with path.open("a", encoding="utf-8") as handle:
            handle.write(text + "\n")
        self.lines.append(f"$ echo {text!r} >> {path}")

    def git(self, *args: str | Path) -> str:
        self.lines.append("$ git " + " ".join(map(str, args)))
        return self.reg.git(*map(str, args))


@pytest.fixture
def demo(registry: Registry) -> FakeDemo:
    registry.add_archetype("support-triage")
    registry.add_archetype("release-notes")
    for version in ("1.0.0", "1.1.0"):
        registry.ok("version", "freeze", "support-triage", version)
        registry.ok("package", "publish", "support-triage", version)
    registry.ok("version", "freeze", "support-triage", "1.2.0")
    registry.ok("version", "retire", "support-triage", "1.2.0", "--reason", "superseded")
    return FakeDemo(registry)


def test_the_step_tells_the_whole_story(demo: FakeDemo) -> None:
    step.run(demo)
    text = "\n".join(demo.lines)
    for expected in (
        "acme/triage: Ineligible (NoActiveEntitlement)",
        "acme/triage: Active",
        "acme/triage: Ineligible (Expired)",
        "acme/triage: Ineligible (Blocked)",
        "update available: 1.4.0",
        "already on 1.4.0",
        "acme/triage: Ineligible (Withdrawn)",
        "WITHDRAWAL_BLOCKS_FUTURE",
        "└── triage-eu (fork of support-triage 1.3.0)",
        "Merged support-triage 1.4.0 into triage-eu's draft",
    ):
        assert expected in text, expected
    assert demo.reg.ok("verify", "--format", "json").json()["ok"] is True


def test_the_step_is_defensive_about_earlier_state(demo: FakeDemo) -> None:
    step.run(demo)
    step.run(demo)  # identities, roles, versions, names: all taken by the first run
    text = "\n".join(demo.lines)
    assert "acme/triage-2: Active" in text and "triage-eu-2" in text
    assert demo.reg.ok("verify", "--format", "json").json()["ok"] is True
