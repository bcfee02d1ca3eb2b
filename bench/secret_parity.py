"""Secret scanning, gitdocket against detect-secrets, over the corpus of
``tests/unit/secret_corpus.py`` (ADR 0016). Not part of the suite: detect-secrets is not a
dependency of gitdocket. Run it in an environment that has both::

    python -m venv /tmp/ds && /tmp/ds/bin/pip install detect-secrets==1.5.0 -e .
    /tmp/ds/bin/python bench/secret_parity.py

It prints, for every positive row, whether each scanner finds it, and for every negative row
whether either flags it (a false positive), then the totals.
"""

from __future__ import annotations

import importlib
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def _modules() -> tuple[Any, Any, Any, Any]:
    """detect-secrets (optional: imported by name), gitdocket's scanner and the corpus."""
    sys.path[:0] = [str(ROOT), str(ROOT / "cli")]
    scan = importlib.import_module("detect_secrets.core.scan")
    settings = importlib.import_module("detect_secrets.settings")
    return (
        scan,
        settings,
        importlib.import_module("gitdocket.core.secrets"),
        importlib.import_module("tests.unit.secret_corpus"),
    )


def _theirs(scan: Any, line: str, folder: Path) -> bool:
    path = folder / "sample.txt"
    path.write_text(line + "\n")
    return any(True for _ in scan.scan_file(str(path)))


def main() -> None:
    scan, settings, ours_module, corpus = _modules()
    find_secrets, POSITIVES, NEGATIVES = ours_module.find_secrets, corpus.POSITIVES, corpus.NEGATIVES  # noqa: N806
    with settings.default_settings(), tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        found = {"gitdocket": 0, "detect-secrets": 0}
        for name, line, _kind in POSITIVES:
            ours, theirs = bool(find_secrets("x", line.encode())), _theirs(scan, line, folder)
            found["gitdocket"] += ours
            found["detect-secrets"] += theirs
            print(
                f"{name:32} gitdocket={'found' if ours else 'MISSED':6} "
                f"detect-secrets={'found' if theirs else 'missed'}"
            )
        flagged = {"gitdocket": 0, "detect-secrets": 0}
        for name, line in NEGATIVES:
            ours, theirs = bool(find_secrets("x", line.encode())), _theirs(scan, line, folder)
            flagged["gitdocket"] += ours
            flagged["detect-secrets"] += theirs
            print(
                f"{name:32} gitdocket={'FLAGGED' if ours else 'clean':7} "
                f"detect-secrets={'flagged' if theirs else 'clean'}"
            )
    for tool in found:
        print(
            f"{tool}: found {found[tool]}/{len(POSITIVES)} secrets, flagged {flagged[tool]}/{len(NEGATIVES)} lookalikes"
        )


if __name__ == "__main__":
    main()
