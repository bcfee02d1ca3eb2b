"""Keyless signing costs nothing to a registry that does not use it: the sigstore library is
imported only when a keyless signature is met (start-up cost, ADR 0022)."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.support import ROOT, Registry

PROBE = """
import sys
from gitdocket.commands import main
try:
    main(sys.argv[1:])
except SystemExit as exc:
    assert exc.code in (0, None), exc.code
loaded = sorted(m for m in sys.modules if m == "sigstore" or m.startswith(("sigstore.", "sigstore_")))
assert not loaded, loaded
"""


def _probe(*args: str, key: str = "") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "cli"), "GITDOCKET_SIGNING_KEY": key}
    return subprocess.run([sys.executable, "-c", PROBE, *args], env=env, capture_output=True, text=True, check=False)


def test_verify_and_writes_without_keyless_signatures_never_import_sigstore(registry: Registry) -> None:
    for args in (("verify", "--repo", str(registry.path)), ("status", "--repo", str(registry.path)), ("--help",)):
        done = _probe(*args)
        assert done.returncode == 0, done.stderr
    bob = str(registry.key("bob")) + ".pub"
    write = _probe("policy", "add-identity", "bob", bob, "--repo", str(registry.path), key=str(registry.key("alice")))
    assert write.returncode == 0, write.stderr
