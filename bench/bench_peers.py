"""gitdocket side by side with GTO (iterative/gto, PyPI ``gto``) on the same shapes, in the same run.

Shapes (versions in artifacts): 2,000 in 1, and 2,000 in 20 (100 each); ``quick``: 200 in 1 and
200 in 4. GTO's repository is generated here with ``git fast-import``: one commit and one annotated
``agentK@vX.Y.Z`` tag per version, and a stage assignment ``agentK#stage#N`` (dev, staging, prod in
turn) every tenth version, as GTO writes them. gitdocket's is the bench fixture of that size
(``fixtures.fixture``: archetypes ``agent-NNNNN``, frozen versions, one package each).

Rows, each the CPU time of a whole process (best of three for gitdocket, one run for GTO, which
takes seconds to minutes), with GTO's cost over gitdocket's:

- ``gitdocket status`` vs ``gto show`` (the whole registry);
- ``gitdocket version list NAME`` vs ``gto show NAME`` (one archetype's versions);
- ``gitdocket history --env preview`` vs ``gto history NAME``;
- one write, ``gitdocket version freeze`` on a copy of the fixture vs ``gto register --bump-patch``
  and ``gto assign --stage prod``;
- floors: ``git for-each-ref`` over GTO's tags (what any tag-based registry must read) and
  ``python -c pass``.

GTO is installed with pip into its own virtual environment under ``bench/out/gto-venv`` (never
into gitdocket's); when that fails the rows are skipped with the reason printed. ``--quick`` (what
the test suite runs) uses a GTO already installed there and installs nothing.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

from fixtures import OUT, FixtureInfo, fixture
from processes import RunFailedError, best_cpu, child_env, gitdocket_argv

Row = tuple[str, str, str, str]
FULL_SHAPES = ((1, 2000), (20, 2000))
QUICK_SHAPES = ((1, 200), (4, 200))
EVERY = 10
STAGES = ("dev", "staging", "prod")
START = 1_700_000_000
GIT_ENV = {"GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_NOSYSTEM": "1"}
FOR_EACH_REF = "%(refname:strip=2) %(creatordate:unix) %(*objectname) %(objectname)"


def install_gto(out: Path, install: bool) -> Path | str:
    """The ``gto`` command of a private virtual environment, installed on first use when
    ``install``; or why there is none."""
    venv = out / "gto-venv"
    command = venv / "bin" / "gto"
    if command.exists():
        return command
    if not install:
        return f"--quick installs nothing: GTO is not in {venv} (a full `make bench` installs it there)"
    try:
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True, timeout=300)
        subprocess.run(
            [str(venv / "bin" / "pip"), "install", "--quiet", "gto"], check=True, capture_output=True, timeout=900
        )
    except (OSError, subprocess.SubprocessError) as exc:
        shutil.rmtree(venv, ignore_errors=True)
        detail = getattr(exc, "stderr", b"") or b""
        return f"gto could not be installed ({type(exc).__name__}: {detail.decode(errors='replace')[-200:].strip()})"
    return command


def _data(text: bytes) -> bytes:
    return b"data %d\n%s\n" % (len(text), text)


def _stream(artifacts: int, versions: int) -> Iterator[bytes]:
    """A ``git fast-import`` stream: GTO's registry of ``versions`` versions in ``artifacts``."""
    person = b"bench <bench@example.com>"
    yield b"commit refs/heads/main\nmark :1\ncommitter %s %d +0000\n" % (person, START)
    yield _data(b"gto registry") + b"M 100644 inline .gto\n" + _data(b"stages: [dev, staging, prod]")
    assignments: dict[int, int] = {}
    for number in range(1, versions + 1):
        artifact, at = (number - 1) % artifacts, START + number * 60
        version = (number - 1) // artifacts + 1
        tag = b"agent%d@v0.%d.%d" % (artifact, version // 1000, version % 1000)
        yield b"commit refs/heads/main\nmark :%d\ncommitter %s %d +0000\n" % (number + 1, person, at)
        yield _data(b"version %d of agent%d" % (number, artifact))
        yield b"M 100644 inline agent%d/VERSION\n" % artifact + _data(b"%d" % number)
        yield b"tag %s\nfrom :%d\ntagger %s %d +0000\n" % (tag, number + 1, person, at)
        yield _data(b"Registering artifact agent%d version %s" % (artifact, tag.split(b"@")[1]))
        if number % EVERY == 0:
            stage = STAGES[(number // EVERY) % len(STAGES)].encode()
            assignments[artifact] = assignments.get(artifact, 0) + 1
            name = b"agent%d#%s#%d" % (artifact, stage, assignments[artifact])
            yield b"tag %s\nfrom :%d\ntagger %s %d +0000\n" % (name, number + 1, person, at + 30)
            yield _data(b"Assigning stage %s to artifact agent%d" % (stage, artifact))


def gto_repo(path: Path, artifacts: int, versions: int) -> Path:
    """A git repository in GTO's format (generated in seconds by ``git fast-import``)."""
    subprocess.run(["git", "init", "-q", "-b", "main", str(path)], check=True, env=child_env(GIT_ENV))
    for key, value in (("user.name", "bench"), ("user.email", "bench@example.com")):
        subprocess.run(["git", "-C", str(path), "config", key, value], check=True)
    subprocess.run(
        ["git", "-C", str(path), "fast-import", "--quiet"],
        input=b"".join(_stream(artifacts, versions)),
        check=True,
        env=child_env(GIT_ENV),
    )
    subprocess.run(["git", "-C", str(path), "checkout", "-q", "-f", "main"], check=True)
    return path


def _ratio(label: str, ours: float, theirs: float | str, runs: str) -> Row:
    if isinstance(theirs, str):
        return (label, f"gitdocket {ours:.2f} s; GTO {theirs}", "gitdocket faster", "info")
    return (
        label,
        f"gitdocket {ours:.2f} s, GTO {theirs:.2f} s cpu ({runs}): GTO / gitdocket = {theirs / ours:.1f}×",
        "gitdocket faster",
        "ok" if ours < theirs else "OVER",
    )


def _gto_cpu(gto: Path, repo: Path, *args: str) -> float | str:
    try:
        return best_cpu([str(gto), *args], 1, child_env(GIT_ENV), cwd=repo)
    except RunFailedError as exc:
        return f"failed: {str(exc)[-150:]}"


def shape_rows(info: FixtureInfo, gto: Path, scratch: Path, runs: int) -> list[Row]:
    """The rows of one shape: gitdocket on ``info``, GTO on a repository of the same shape."""
    shape = f"{info.versions:,} versions in {info.archetypes}"
    repo = gto_repo(scratch / "gto", info.archetypes, info.versions)
    env = child_env({**GIT_ENV, "GITDOCKET_SIGNING_KEY": info.key})
    where = ("--repo", info.path)

    def ours(*args: str) -> float:
        return best_cpu(gitdocket_argv(*args), runs, env)

    rows = [
        _ratio(f"[{shape}] status vs gto show", ours("status", *where), _gto_cpu(gto, repo, "show"), "1 run"),
        _ratio(
            f"[{shape}] version list agent-00000 vs gto show agent0",
            ours("version", "list", "agent-00000", *where),
            _gto_cpu(gto, repo, "show", "agent0"),
            "1 run",
        ),
        _ratio(
            f"[{shape}] history --env preview vs gto history agent0",
            ours("history", "--env", "preview", *where),
            _gto_cpu(gto, repo, "history", "agent0"),
            "1 run",
        ),
    ]
    copy = scratch / "docket.git"
    subprocess.run(["git", "clone", "-q", "--mirror", "--local", info.path, str(copy)], check=True)
    write = best_cpu(gitdocket_argv("version", "freeze", "agent-00000", "9.0.0", "--repo", copy), 1, env)
    subprocess.run(["git", "-C", str(repo), "commit", "-q", "--allow-empty", "-m", "bench"], check=True)
    register = _gto_cpu(gto, repo, "register", "agent0", "--bump-patch")
    assign = _gto_cpu(gto, repo, "assign", "agent0", "HEAD", "--stage", "prod")
    rows.append(_ratio(f"[{shape}] one write: version freeze vs gto register", write, register, "1 run"))
    rows.append(_ratio(f"[{shape}] one write: version freeze vs gto assign", write, assign, "1 run"))
    refs = best_cpu(["git", "-C", str(repo), "for-each-ref", f"--format={FOR_EACH_REF}", "refs/tags"], runs)
    rows.append((f"[{shape}] floor: git for-each-ref over GTO's tags", f"{refs:.3f} s cpu", "—", "info"))
    return rows


def run(quick: bool, out: Path = OUT) -> list[Row]:
    gto = install_gto(out, install=not quick)
    floor = best_cpu([sys.executable, "-c", "pass"], 3)
    rows: list[Row] = [("floor: python -c pass", f"{floor:.3f} s cpu", "—", "info")]
    if isinstance(gto, str):
        print(f"skipping the GTO rows: {gto}", file=sys.stderr)
        return [*rows, ("gitdocket vs GTO", f"skipped: {gto}", "—", "info")]
    for archetypes, versions in QUICK_SHAPES if quick else FULL_SHAPES:
        info = fixture(archetypes, versions, out, lambda text: print(text, file=sys.stderr))
        scratch = Path(tempfile.mkdtemp(prefix="docket-bench-peers-"))
        try:
            rows.extend(shape_rows(info, gto, scratch, 3))
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
    return rows


if __name__ == "__main__":
    for row in run(quick="--quick" in sys.argv[1:]):
        print(" | ".join(row))
