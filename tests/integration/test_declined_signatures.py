"""A signer that declines — an ssh-agent or a hardware key refusing the commit's or a tag's
signature, or the user pressing Ctrl-C while it waits — writes nothing: every signature of a
write is made before any ref moves. Real processes, signing through a real ``ssh-keygen -Y sign``
behind a wrapper that declines on cue."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from tests.support import Registry, repo_state, run_process

WRAPPER = """#!/bin/sh
# ssh-keygen as ssh-agent would answer: sign with the real key, or decline on cue.
data=$(mktemp)
cat > "$data"
case "$(head -c 7 "$data")" in
  "object ") what=tag ;;
  "tree "*) what=commit ;;
  *) what=event ;;
esac
if [ "$what" = "$DECLINE" ]; then
  rm -f "$data"
  if [ "$HOW" = interrupt ]; then kill -INT "$PPID"; sleep 30; fi
  echo "sign_and_send_pubkey: signing failed for ED25519: agent refused operation" >&2
  exit 255
fi
/usr/bin/ssh-keygen -Y sign -n "$4" -f "$PRIVATE_KEY" -q < "$data"
status=$?
rm -f "$data"
exit $status
"""


@pytest.fixture
def agent_bin(tmp_path: Path) -> Path:
    folder = tmp_path / "bin"
    folder.mkdir()
    wrapper = folder / "ssh-keygen"
    wrapper.write_text(WRAPPER)
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IXUSR)
    return folder


def _run(registry: Registry, agent_bin: Path, decline: str, how: str, *args: str) -> tuple[int, str]:
    env = {
        "PATH": f"{agent_bin}{os.pathsep}{os.environ['PATH']}",
        "PRIVATE_KEY": str(registry.alice),
        "DECLINE": decline,
        "HOW": how,
    }
    pub = registry.alice.with_name(registry.alice.name + ".pub")
    done = run_process(*args, "--repo", registry.path, "--key", pub, env=env)
    return done.code, done.err


@pytest.mark.parametrize(
    ("decline", "how"),
    [
        pytest.param("commit", "refuse", id="agent-refuses-the-commit"),
        pytest.param("tag", "refuse", id="agent-refuses-the-tag"),
        pytest.param("tag", "interrupt", id="ctrl-c-at-the-tag"),
        pytest.param("commit", "interrupt", id="ctrl-c-at-the-commit"),
    ],
)
def test_a_declined_signature_writes_nothing(registry: Registry, agent_bin: Path, decline: str, how: str) -> None:
    registry.add_archetype()
    before = repo_state(registry)
    code, err = _run(registry, agent_bin, decline, how, "version", "freeze", "support-triage", "1.0.0")
    assert code == 1, err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 2, err  # error + hint
    if how == "interrupt":
        assert "interrupted before the write landed: nothing was written" in err
    else:
        assert "ssh-agent did not sign" in err
    assert repo_state(registry) == before
    assert not list((registry.path / ".git" / "objects").glob("docket-incoming-*"))
    # The same command, with a signer that signs, then freezes and tags in one go.
    code, err = _run(registry, agent_bin, "nothing", "refuse", "version", "freeze", "support-triage", "1.0.0")
    assert code == 0, err
    assert "refs/tags/support-triage/v1.0.0" in registry.refs()
    assert registry.ok("verify", "--format", "json").json()["ok"] is True
