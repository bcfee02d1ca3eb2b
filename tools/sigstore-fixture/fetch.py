"""Fetch the real production Sigstore bundle the tests verify offline (`make test` runs this once,
never the tests): the pypi-attestations 0.0.30 sdist (Trail of Bits, Apache-2.0) ships
``test/assets/pypi_attestation_models-0.0.4a2.tar.gz`` and its ``.sigstore`` bundle, signed
keylessly in GitHub Actions in June 2024. Both files are checked against pinned digests and kept
in ``tests/data/sigstore-production/`` (gitignored).

Usage: python tools/sigstore-fixture/fetch.py [PYTHON]  (PYTHON: the interpreter whose pip runs)
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TARGET = ROOT / "tests" / "data" / "sigstore-production"
SDIST = "pypi_attestations-0.0.30.tar.gz"
FILES = {
    "pypi_attestation_models-0.0.4a2.tar.gz": "c9709ce6fd5b67b59b4a28758cf14d3f411803c4b89b6068b1f1a8e4ee94c8ef",
    "pypi_attestation_models-0.0.4a2.tar.gz.sigstore": (
        "faf6ebd0a6573479d34ffd0610eba529b155a1cebf643f50d30308daaa675994"
    ),
}


def _present() -> bool:
    return all(
        (TARGET / name).is_file() and hashlib.sha256((TARGET / name).read_bytes()).hexdigest() == digest
        for name, digest in FILES.items()
    )


def main() -> int:
    if _present():
        return 0
    python = sys.argv[1] if len(sys.argv) > 1 else sys.executable
    with tempfile.TemporaryDirectory() as tmp:
        # --no-binary for this one package only: `:all:` would build its build dependencies too.
        subprocess.run(
            [
                python,
                "-m",
                "pip",
                "download",
                "--quiet",
                "--no-deps",
                "--no-binary",
                "pypi-attestations",
                "pypi-attestations==0.0.30",
                "-d",
                tmp,
            ],
            check=True,
        )
        TARGET.mkdir(parents=True, exist_ok=True)
        with tarfile.open(Path(tmp) / SDIST) as sdist:
            for name, digest in FILES.items():
                member = sdist.extractfile(f"pypi_attestations-0.0.30/test/assets/{name}")
                data = member.read() if member is not None else b""
                if hashlib.sha256(data).hexdigest() != digest:
                    print(f"error: {name} in {SDIST} does not match its pinned digest", file=sys.stderr)
                    return 1
                (TARGET / name).write_bytes(data)
    return 0


if __name__ == "__main__":
    sys.exit(main())
