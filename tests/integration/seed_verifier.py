"""Seed 002's acceptance rules for an exported release bundle, written down as our own checker.

The rules were read from ``tooling/release_bundle.py`` (``verify_release_bundle``) of the public
gfernandf/agent-skills repository at 80b9ded174bf06aad1389b70748d5f4014e0cc18; this is not its
code, only what it accepts, so a test can hold gitdocket's exports to it:

1. ``bundle_manifest.json`` exists at the bundle root and parses as a JSON object;
2. its ``contract`` is ``release_bundle_v1``;
3. for each section — ``payload.runtime_root`` (default ``payload/runtime``),
   ``payload.registry_root`` (default ``payload/registry``) and ``evidence.root`` (default
   ``evidence``) — the root folder exists, *even when the section lists no file*;
4. every file a section's checksums name exists below that root, and its sha256 (hex) matches;
5. every name in ``evidence.required`` exists below the evidence root;
6. ``bundle_id`` is a non-empty string.

Files the manifest does not name are not looked at (gitdocket's own verifier is stricter: it
refuses them).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

__all__ = ["seed_rejections"]


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _section(root: Path, rel_root: str, checksums: Any, label: str) -> list[str]:
    base = root / rel_root
    if not base.is_dir():
        return [f"Missing {label} root: {rel_root}"]
    problems = []
    for rel, expected in (checksums if isinstance(checksums, dict) else {}).items():
        path = base / rel
        if not path.is_file():
            problems.append(f"Missing {label} file: {rel_root}/{rel}")
        elif _digest(path) != expected:
            problems.append(f"Checksum mismatch for {rel_root}/{rel}")
    return problems


def seed_rejections(root: Path) -> list[str]:
    """Why seed 002's verifier would reject the bundle folder ``root`` (empty: it accepts it)."""
    path = root / "bundle_manifest.json"
    if not path.is_file():
        return ["Missing manifest"]
    manifest = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(manifest, dict):
        return ["Invalid manifest JSON"]
    problems = (
        [] if manifest.get("contract") == "release_bundle_v1" else [f"Unexpected contract: {manifest.get('contract')}"]
    )
    payload = manifest.get("payload") if isinstance(manifest.get("payload"), dict) else {}
    evidence = manifest.get("evidence") if isinstance(manifest.get("evidence"), dict) else {}
    evidence_root = str(evidence.get("root") or "evidence")
    problems += _section(
        root, str(payload.get("runtime_root") or "payload/runtime"), payload.get("runtime_checksums"), "runtime payload"
    )
    problems += _section(
        root,
        str(payload.get("registry_root") or "payload/registry"),
        payload.get("registry_checksums"),
        "registry payload",
    )
    problems += _section(root, evidence_root, evidence.get("checksums"), "evidence")
    required = evidence.get("required") if isinstance(evidence.get("required"), list) else []
    problems += [
        f"Missing required evidence file: {n}" for n in required if not (root / evidence_root / str(n)).exists()
    ]
    if not isinstance(manifest.get("bundle_id"), str) or not manifest["bundle_id"]:
        problems.append("Manifest bundle_id missing or invalid")
    return problems
