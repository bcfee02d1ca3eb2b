"""``gitdocket demo``: the whole flow on a throwaway registry, narrated for a newcomer.

This module owns the runner: the demo folder (``--dir PATH`` or a temporary one, removed at the
end), the pinned clock, the ``Demo`` object handed to every step, and the order of the steps.
Each step module (``core`` for issue 2, ``clients`` for issue 3, ``releases`` for issue 4) exposes
``run(demo) -> None``; ``publishing.finale`` (verify, ``git verify-commit``, tamper and catch) proves
``gitdocket verify`` on the whole flow, and ``site`` (the registry's site, built from the verified
registry) closes the demo.

What it does not do: any registry logic. Every step runs the real CLI in-process through
``gitdocket.commands.main`` (``--repo`` appended), echoes it as ``$ gitdocket …`` with its output, and
stops the demo with a clear error when the exit code is not the one expected.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import os
import shutil
import subprocess
import tempfile
import textwrap
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

from gitdocket.adapters.signing import create_key
from gitdocket.adapters.templates import PROJECT_ROOT
from gitdocket.errors import InputError, StateError

__all__ = ["DEMO_NOW", "STEP_MODULES", "Demo", "run_demo", "step_modules", "trim"]

STEP_MODULES = ("publishing", "clients", "crossing", "releases")
"""Step modules of ``gitdocket.demo``, run in this order."""

SKIP_MISSING_STEPS = False
"""While issue 3 and 4 land on other branches a missing step module is skipped; set to False at
merge so that a missing module is an error."""

DEMO_NOW = "2026-01-01T00:00:00Z"
"""The demo's pinned clock (``GITDOCKET_NOW`` and git's dates): the same output on every run."""

MAX_OUTPUT_LINES = 14
MAX_LINE = 110

Echo = Callable[[str], None]


def _run_in_process(args: list[str]) -> tuple[int, str, str]:
    """``gitdocket ARGS`` through the real entry point; (exit code, stdout, stderr)."""
    from gitdocket.commands import main

    out, err = io.StringIO(), io.StringIO()
    code = 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main(args)
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    return code, out.getvalue(), err.getvalue()


def _align(lines: list[str]) -> list[str]:
    """Tab-separated tables (gitdocket's output when not on a terminal) as aligned columns: each run
    of consecutive lines with the same number of tabs is one table."""
    out: list[str] = []
    start = 0
    while start < len(lines):
        tabs = lines[start].count("\t")
        end = start + 1
        while end < len(lines) and lines[end].count("\t") == tabs:
            end += 1
        rows = [line.split("\t") for line in lines[start:end]]
        if tabs:
            widths = [max(len(row[i]) for row in rows) for i in range(tabs + 1)]
            out.extend("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in rows)
        else:
            out.extend(lines[start:end])
        start = end
    return out


def trim(text: str) -> list[str]:
    """At most ``MAX_OUTPUT_LINES`` lines, each wrapped at ``MAX_LINE`` characters."""
    lines: list[str] = []
    for line in _align(text.rstrip("\n").splitlines()) if text.strip() else []:
        if len(line) <= MAX_LINE:
            lines.append(line)
            continue
        indent = " " * (len(line) - len(line.lstrip()) + 4)
        lines.extend(
            textwrap.wrap(line, MAX_LINE, subsequent_indent=indent, break_on_hyphens=False, break_long_words=False)
            or [""]
        )
    if len(lines) > MAX_OUTPUT_LINES:
        hidden = len(lines) - (MAX_OUTPUT_LINES - 1)
        lines = [*lines[: MAX_OUTPUT_LINES - 1], f"… ({hidden} more lines)"]
    return lines


def _quote(arg: str) -> str:
    safe = arg and not arg.startswith("~") and all(c.isalnum() or c in "@%+=:,./_-$~" for c in arg)
    return arg if safe else "'" + arg.replace("'", "'\\''") + "'"


@dataclass
class Demo:
    """What a step sees: narrate (``say``), run gitdocket (``run``) or git (``git``), get keys."""

    root: Path
    echo: Echo
    registry: Path = field(init=False)
    workdir: Path = field(init=False)
    site: Path = field(init=False)
    keys: Path = field(init=False)
    examples: Path = PROJECT_ROOT / "examples" / "archetypes"
    _signing: str | None = None

    def __post_init__(self) -> None:
        self.registry = self.root / "acme-registry"
        self.workdir = self.root / "work"
        self.site = self.root / "site"
        self.keys = self.root / "keys"
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.keys.mkdir(parents=True, exist_ok=True)

    # -- the interface every step module uses --------------------------------------------------

    def say(self, text: str) -> None:
        """One or two plain sentences of narration, as shell comments."""
        self.echo("")
        self.echo(textwrap.fill(" ".join(text.split()), width=96, initial_indent="# ", subsequent_indent="# "))

    def run(self, *args: str, key: str = "alice", expect: int = 0) -> str:
        """``gitdocket ARGS --repo <registry>`` signed by ``key``; stdout. Stops the demo when the
        exit code is not ``expect``."""
        return self.gitdocket(*args, key=key, expect=expect, repo=self.registry)

    def key(self, name: str) -> Path:
        """The private key file of principal ``name``, created on first use."""
        path = self.keys / f"{name}_ed25519"
        if not path.exists():
            create_key(path, name)
        return path

    def advance(self, when: str) -> None:
        """Move the demo's pinned clock forward to ``when`` (RFC 3339): what the writes after it
        record, so that ``--at`` and ``trace`` have a timeline to show."""
        self.echo(f"$ export GITDOCKET_NOW={when}")
        os.environ["GITDOCKET_NOW"] = when

    # -- more tools for steps ------------------------------------------------------------------

    def gitdocket(self, *args: str | Path, key: str | None = "alice", expect: int = 0, repo: Path | None = None) -> str:
        """``gitdocket ARGS`` (with ``--repo REPO`` when given), signed by ``key`` (None: no key)."""
        self._use_key(key)
        argv = [str(a) for a in args] + (["--repo", str(repo)] if repo is not None else [])
        shown = self._command("gitdocket", argv)
        code, out, err = _run_in_process(argv)
        return self._check(shown, code, expect, out, err)

    def git(self, *args: str | Path, repo: Path | None = None, expect: int = 0, quiet: bool = False) -> str:
        """``git -C REPO ARGS`` (default: the registry), isolated config, pinned clock; stdout.
        ``quiet`` shows nothing unless the exit code is not ``expect``."""
        shown = self._line(
            "git", ["-C", self.shown(repo or self.registry), *(self.shown(a, absolute=True) for a in args)]
        )
        if not quiet:
            self.echo(shown)
        done = self.git_process(*args, repo=repo)
        if quiet and done.returncode == expect:
            return done.stdout
        return self._check(shown, done.returncode, expect, done.stdout, done.stderr)

    def git_process(self, *args: str | Path, repo: Path | None = None) -> subprocess.CompletedProcess[str]:
        """``git -C REPO ARGS`` as a finished process, shown nowhere and never checked."""
        argv = ["git", "-C", str(repo or self.registry), *map(str, args)]
        return subprocess.run(argv, capture_output=True, text=True, check=False, env=git_environment(), timeout=120)

    def write(self, path: Path, text: str) -> None:
        """Append ``text`` to ``path`` (shown as the equivalent shell command)."""
        self.echo(f"$ echo {_quote(text.rstrip())} >> {self.shown(path)}")
        with path.open("a", encoding="utf-8") as handle:
            handle.write(text if text.endswith("\n") else text + "\n")

    def shown(self, value: str | Path, absolute: bool = False) -> str:
        """``value`` with the demo folder left out (or spelled ``$PWD`` where git needs it)."""
        text = str(value)
        base = str(self.root)
        if absolute:
            return text.replace(base, "$PWD")
        text = text.replace(base + os.sep, "").replace(base, ".")
        return text.replace(str(PROJECT_ROOT) + os.sep, "")

    def output(self, text: str) -> None:
        for line in trim(text):
            self.echo(f"  {line}" if line else "")

    # -- internals -----------------------------------------------------------------------------

    def _use_key(self, key: str | None) -> None:
        wanted = str(self.key(key)) if key is not None else None
        if wanted == self._signing:
            return
        if wanted is None:
            self.echo("$ unset GITDOCKET_SIGNING_KEY")
            os.environ.pop("GITDOCKET_SIGNING_KEY", None)
        else:
            self.echo(f"$ export GITDOCKET_SIGNING_KEY={self.shown(wanted)}")
            os.environ["GITDOCKET_SIGNING_KEY"] = wanted
        self._signing = wanted

    def _line(self, program: str, argv: list[str]) -> str:
        return f"$ {program} " + " ".join(_quote(self.shown(a)) for a in argv)

    def _command(self, program: str, argv: list[str]) -> str:
        line = self._line(program, argv)
        self.echo(line)
        return line

    def _check(self, command: str, code: int, expect: int, out: str, err: str) -> str:
        self.output(self.shown(out + err))
        if code != expect:
            shown = command.removeprefix("$ ")
            raise StateError(
                f"demo stopped: `{shown}` exited {code}, expected {expect}",
                "the command and its output are shown above; rerun with --dir PATH "
                "to keep the registry for a closer look",
            )
        return out


def git_environment() -> dict[str, str]:
    """git's environment for the demo: no user or system config, alice's identity, pinned dates."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "SSH_AUTH_SOCK"))}
    env.update(
        {
            "GIT_CONFIG_GLOBAL": os.devnull,
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_AUTHOR_NAME": "alice",
            "GIT_AUTHOR_EMAIL": "alice@gitdocket.invalid",
            "GIT_COMMITTER_NAME": "alice",
            "GIT_COMMITTER_EMAIL": "alice@gitdocket.invalid",
            "GIT_AUTHOR_DATE": DEMO_NOW,
            "GIT_COMMITTER_DATE": DEMO_NOW,
            "LC_ALL": "C",
        }
    )
    return env


def step_modules() -> list[ModuleType]:
    """The step modules in ``STEP_MODULES`` order (see ``SKIP_MISSING_STEPS``)."""
    found = []
    for name in STEP_MODULES:
        qualified = f"{__name__}.{name}"
        try:
            found.append(importlib.import_module(qualified))
        except ModuleNotFoundError as exc:
            if not (SKIP_MISSING_STEPS and exc.name == qualified):
                raise
    return found


@contextlib.contextmanager
def _pinned_environment() -> Iterator[None]:
    """Pin the clock and drop the caller's gitdocket settings for the demo; restore them after."""
    names = ("GITDOCKET_NOW", "GITDOCKET_SIGNING_KEY", "GITDOCKET_REPO")
    saved = {name: os.environ.get(name) for name in names}
    os.environ["GITDOCKET_NOW"] = DEMO_NOW
    os.environ.pop("GITDOCKET_SIGNING_KEY", None)
    os.environ.pop("GITDOCKET_REPO", None)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _prepare(directory: Path | None) -> tuple[Path, bool]:
    """(demo folder, whether to remove it at the end)."""
    if directory is None:
        return Path(tempfile.mkdtemp(prefix="docket-demo-")).resolve(), True
    directory = directory.expanduser().resolve()
    if directory.exists() and (not directory.is_dir() or any(directory.iterdir())):
        raise InputError(
            f"{directory}: not an empty folder",
            "pass --dir with a new or empty folder; the demo never writes over files",
        )
    directory.mkdir(parents=True, exist_ok=True)
    return directory, False


def _preflight() -> None:
    if shutil.which("git") is None or shutil.which("ssh-keygen") is None:
        raise StateError(
            "the demo needs git and ssh-keygen on PATH (git signs with ssh-keygen)",
            "install git and openssh-client (`make system-deps` does)",
        )
    if not (PROJECT_ROOT / "examples" / "archetypes").is_dir():
        raise StateError(
            f"{PROJECT_ROOT}/examples/archetypes is missing (gitdocket is installed without its data)",
            "reinstall gitdocket (`pip install --force-reinstall gitdocket`), or from a source checkout `make demo`",
        )


def run_demo(directory: Path | None, echo: Echo) -> Path:
    """Run every step on a fresh registry; returns the demo folder (already removed unless kept)."""
    _preflight()
    root, temporary = _prepare(directory)
    modules = step_modules()
    kept = " (a temporary folder, removed at the end; --dir PATH keeps it)" if temporary else ""
    echo(f"Docket demo in {root}{kept}")
    echo(f"Commands run from that folder; the clock is pinned to {DEMO_NOW}.")
    demo = Demo(root, echo)
    try:
        with _pinned_environment():
            for module in modules:
                module.run(demo)
            from gitdocket.demo import publishing, site

            publishing.finale(demo)
            site.run(demo)
    finally:
        if temporary:
            shutil.rmtree(root, ignore_errors=True)
    echo("")
    if temporary:
        echo(f"Done. Removed the temporary folder {root}; run `gitdocket demo --dir PATH` to keep it.")
    else:
        echo(f"Done. The registry is kept in {demo.registry}: try `gitdocket verify --repo {demo.registry}`.")
        if (demo.site / "index.html").is_file():
            echo(f"Its site is in {demo.site}: open {demo.site / 'index.html'} in a browser.")
    return root
