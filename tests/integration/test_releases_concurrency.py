"""Real processes promoting to one environment at once: compare-and-swap and retry mean no event
is lost and no sequence number is used twice. Rounds of four racers started together make the
writes collide (measured: most runs see several compare-and-swap retries); the assertions hold
whether or not a given run collides."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import pygit2

from gitdocket.demo.releases import write_evidence
from tests.support import Registry, Result, run_cli, run_process, write_key


def test_racing_promotions_keep_every_event(tmp_path: Path) -> None:
    keys = tmp_path / "keys"
    keys.mkdir()
    alice = write_key(keys, "alice")
    bare = tmp_path / "registry.git"
    assert (
        run_cli("init", bare, "--bare", "--identity", "alice", "--key", alice, "--gate-preset", "agent-skills").code
        == 0
    )
    reg = Registry(bare, keys, alice, {"alice": alice})
    reg.add_archetype()
    reg.ok("version", "freeze", "support-triage", "1.0.0")
    reg.ok("package", "publish", "support-triage", "1.0.0")
    evidence = write_evidence(tmp_path / "evidence")
    bundles = []
    for n in range(8):
        bid = reg.ok("bundle", "build", "--label", f"b{n}", "--evidence", evidence, "--format", "json").json()
        reg.ok("bundle", "verify", bid["bundle_id"], "--record")
        bundles.append(bid["bundle_id"])
    env = {"GITDOCKET_SIGNING_KEY": str(alice), "GITDOCKET_NOW": os.environ["GITDOCKET_NOW"]}
    results: list[Result] = []

    def promote(bid: str) -> None:
        results.append(run_process("promote", bid, "--env", "dev", "--repo", bare, env=env))

    for start in (0, 4):  # two rounds of four racing processes
        racers = [threading.Thread(target=promote, args=(bid,)) for bid in bundles[start : start + 4]]
        for racer in racers:
            racer.start()
        for racer in racers:
            racer.join()
    assert [r.code for r in results] == [0] * 8, [r.err for r in results if r.code]
    repo = pygit2.Repository(str(bare))
    history = repo.revparse_single("main:deployments/dev/history.jsonl").data.decode()
    events = [json.loads(line) for line in history.splitlines()]
    assert [e["data"]["sequence"] for e in events] == list(range(1, 9))
    assert sorted(e["data"]["bundle_id"] for e in events) == sorted(bundles)
    assert [e["data"]["previous_bundle_id"] for e in events] == [None] + [e["data"]["bundle_id"] for e in events[:-1]]
    assert reg.ok("verify", "--format", "json").json()["ok"] is True
