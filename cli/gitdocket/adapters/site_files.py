"""The site's I/O: test evidence read from disk, the assets the site ships, and ``mkdocs build``.

``build`` writes the renderer's files into a private folder next to ``--out``, runs ``mkdocs
build --strict`` there as a child process (``SOURCE_DATE_EPOCH`` set to the registry commit's
time, so mkdocs' own dated files — the sitemap and its gzip header — are the same on every run),
and only then replaces ``--out``. It never deletes a folder it did not make: ``--out`` must be
new, empty, or a site gitdocket built before (it carries ``MARKER``). A failed build leaves
``--out`` as it was.
"""

from __future__ import annotations

import importlib.resources
import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from gitdocket.adapters.files import MAX_FILE_BYTES
from gitdocket.errors import InputError, StateError

__all__ = ["ASSETS", "MARKER", "MAX_EVIDENCE_BYTES", "build", "read_evidence", "require_mkdocs", "site_assets"]

MARKER = ".gitdocket-site"
"""A file every built site carries: ``--out`` holding it may be replaced by a new build."""
ASSETS = {"javascripts/iframe-worker-shim.js": "iframe-worker-shim.js"}
"""Site path → file in ``gitdocket/site/assets`` (iframe-worker 1.0.4, MIT, by Martin Donath)."""
MAX_EVIDENCE_BYTES = 64 * MAX_FILE_BYTES
INSTALL_HINT = "install the site tools: pip install 'gitdocket[site]'"


def require_mkdocs() -> None:
    """Refuse early, in one line, when mkdocs or mkdocs-material is missing."""
    missing = [name for name in ("mkdocs", "material") if importlib.util.find_spec(name) is None]
    if missing:
        names = " and ".join("mkdocs-material" if m == "material" else m for m in missing)
        raise StateError(f"gitdocket site build needs {names}, which is not installed", INSTALL_HINT)


def site_assets() -> dict[str, bytes]:
    folder = importlib.resources.files("gitdocket.site") / "assets"
    return {target: (folder / name).read_bytes() for target, name in ASSETS.items()}


def read_evidence(path: Path) -> bytes:
    """The bytes of a JUnit report, or an ``InputError`` naming the file."""
    hint = "pass the JUnit XML report a test run wrote (e.g. `pytest --junitxml report.xml`)"
    try:
        size = path.stat().st_size
        if not path.is_file():
            raise InputError(f"{path}: not a file", hint)
        if size > MAX_EVIDENCE_BYTES:
            raise InputError(f"{path}: {size} bytes is larger than {MAX_EVIDENCE_BYTES} for a JUnit report", hint)
        return path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{path}: no such file", hint) from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read it ({exc.strerror})", hint) from None


def _check_out(out: Path) -> None:
    if out.is_symlink() or (out.exists() and not out.is_dir()):
        raise InputError(f"{out}: exists and is not a folder", "pass --out with a new folder")
    if out.is_dir() and any(out.iterdir()) and not (out / MARKER).is_file():
        raise InputError(
            f"{out}: a folder that holds something other than a gitdocket site",
            "pass --out with a new or empty folder (gitdocket replaces only a site it built)",
        )


def _write(root: Path, files: dict[str, bytes]) -> None:
    for name, data in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def _mkdocs(project: Path, site: Path, epoch: int | None) -> None:
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    if epoch is not None:
        env["SOURCE_DATE_EPOCH"] = str(epoch)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "mkdocs",
            "build",
            "--strict",
            "--quiet",
            "-f",
            str(project / "mkdocs.yml"),
            "-d",
            str(site),
        ],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=3600,
    )
    if done.returncode != 0:
        lines = [line.strip() for line in (done.stderr + done.stdout).splitlines() if line.strip()]
        problem = next((line for line in lines if line.startswith(("ERROR", "WARNING"))), lines[-1] if lines else "")
        raise StateError(
            f"mkdocs build --strict failed: {problem}",
            "this is a bug in gitdocket's site; rerun with --debug and report it",
        )


def build(files: dict[str, bytes], out: Path, epoch: int | None) -> int:
    """Build the site of ``files`` into ``out``; returns the number of HTML pages."""
    require_mkdocs()
    out = out.absolute()
    _check_out(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        _write(work / "project", files)
        _mkdocs(work / "project", work / "site", epoch)
        (work / "site" / MARKER).write_text("built by gitdocket site build; replaced by the next build\n")
        _check_out(out)  # again: nothing may have appeared meanwhile
        if out.exists():
            shutil.rmtree(out)
        (work / "site").rename(out)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return sum(1 for _ in out.rglob("*.html"))
