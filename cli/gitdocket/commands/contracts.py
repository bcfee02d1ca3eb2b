"""``gitdocket contracts``: generate the JSON Schemas from the models, compare them with the
committed ones, seal published contract versions, and validate documents by kind.

These commands work on a checkout — the folder that holds ``contracts/`` (``--root``, default:
the current directory): this project, or a registry worktree with its pinned copy. They never
touch a registry's git history. The pure work is in ``gitdocket.verify.contracts``; this module is the thin
adapter that reads and writes the files and prints.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

import click

from gitdocket.adapters.bundle_files import MAX_EVIDENCE_BYTES
from gitdocket.adapters.files import load_yaml, read_file, write_file
from gitdocket.commands.output import emit, format_option
from gitdocket.core.canonical import loads_strict
from gitdocket.core.log import iter_lines
from gitdocket.errors import DocketError, InputError, StateError
from gitdocket.verify import contracts as core
from gitdocket.verify import seal as sealing

__all__ = ["contracts"]


def root_option(func: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--root",
        type=click.Path(file_okay=False, path_type=Path),
        default=".",
        show_default="the current directory",
        help="The checkout that holds contracts/ (gitdocket's source, or a registry worktree).",
    )(func)


# -- the adapter: files in, files out -------------------------------------------------------------


def _contracts_dir(root: Path) -> Path:
    folder = root / "contracts"
    if not folder.is_dir():
        raise InputError(
            f"{root}: no contracts/ folder here",
            "run in gitdocket's checkout or a registry worktree, or pass --root DIR",
        )
    return folder


def read_committed(root: Path) -> dict[str, bytes]:
    """{``contracts/<folder>/schema.json``: bytes} of every committed schema under ``root``."""
    out: dict[str, bytes] = {}
    for entry in sorted(_contracts_dir(root).iterdir()):
        schema = entry / "schema.json"
        if entry.is_dir() and schema.is_file():
            out[f"contracts/{entry.name}/schema.json"] = schema.read_bytes()
    return out


def read_seal(root: Path) -> dict[str, str]:
    path = root / core.SEAL_PATH
    return sealing.parse_seal(path.read_bytes() if path.is_file() else None)


def read_documents(path: Path) -> Iterator[tuple[str, Any]]:
    """(label, document) for a JSON or YAML file, or for each line of a ``.jsonl`` file."""
    data = read_file(path, MAX_EVIDENCE_BYTES, "pass the JSON, YAML or JSONL file to validate")
    if path.suffix in (".yaml", ".yml"):
        yield str(path), load_yaml(data, str(path))
    elif path.suffix == ".jsonl":
        for number, line in iter_lines(data):
            yield f"{path}:{number}", loads_strict(line, f"{path}:{number}")
    else:
        yield str(path), loads_strict(data, str(path))


# -- printing -------------------------------------------------------------------------------------


def _report(problems: list[core.Problem], fmt: str, ok_text: str, extra: dict[str, Any]) -> None:
    def text() -> None:
        for problem in problems:
            click.echo(problem.line())
        if not problems:
            click.echo(ok_text)

    emit(fmt, {"ok": not problems, "problems": [asdict(p) for p in problems], **extra}, text)
    if problems:
        hints = list(dict.fromkeys(p.hint for p in problems if p.hint))
        raise StateError(f"contracts: {len(problems)} problem(s), first: {problems[0].line()}", "; ".join(hints))


# -- commands -------------------------------------------------------------------------------------


@click.group()
def contracts() -> None:
    """JSON Schemas (draft 2020-12) of gitdocket's documents: generate, seal, check, validate.

    The pydantic models are the source of truth; contracts/<name>.v<N>/schema.json are generated
    from them and sealed in contracts/contracts.seal.json. See docs/contracts.md.
    """


@contracts.command("generate")
@click.option(
    "--check",
    "check_only",
    is_flag=True,
    help="Write nothing: fail when the committed schemas differ from what the models generate.",
)
@root_option
@format_option
def generate(check_only: bool, root: Path, fmt: str) -> None:
    """Write contracts/<name>.v<N>/schema.json for every contract from its model."""
    committed = read_committed(root)
    generated = core.generate()
    problems = core.drift(generated, committed, read_seal(root))
    if check_only:
        _report(problems, fmt, f"{len(generated)} contract schema(s) match their models", {"contracts": len(generated)})
        return
    written = sorted(p for p in generated if committed.get(p) != generated[p])
    for path in written:
        write_file(root / path, generated[path], "contracts/ must be a folder of regular files")
    left = [p for p in problems if p.path not in generated]
    _report(
        left,
        fmt,
        f"wrote {len(written)} of {len(generated)} contract schema(s)" + "".join(f"\n  {p}" for p in written),
        {"written": written},
    )


@contracts.command("check")
@root_option
@format_option
def check(root: Path, fmt: str) -> None:
    """Fail when a sealed contract's schema changed, vanished, or a schema is not sealed.

    A sealed contract version never changes what it validates: a change needs a new version
    (<name>_v2). Titles and descriptions are not sealed, so wording fixes need only `generate`.
    """
    seal = read_seal(root)
    problems = sealing.seal_problems(seal, read_committed(root))
    _report(problems, fmt, f"{len(seal)} sealed contract(s) unchanged", {"sealed": sorted(seal)})


@contracts.command("seal")
@root_option
@format_option
def seal(root: Path, fmt: str) -> None:
    """Seal every committed contract that is not sealed yet; never rewrites an existing entry.

    Refuses while the committed schemas differ from the models (run `generate` first) or while a
    sealed contract changed.
    """
    committed = read_committed(root)
    current = read_seal(root)
    stale = core.drift(core.generate(), committed, current)
    if stale:
        raise StateError(f"{stale[0].line()} — seal only what the models generate", stale[0].hint)
    entries, added = sealing.sealed_with(current, committed)
    if added:
        write_file(root / core.SEAL_PATH, sealing.render_seal(entries), "the seal must be a regular file")
    emit(
        fmt,
        {"added": added, "sealed": sorted(entries)},
        lambda: click.echo(
            "\n".join(f"sealed {c}" for c in added)
            if added
            else f"nothing to seal: {len(entries)} contract(s) already sealed"
        ),
    )


@contracts.command("validate")
@click.argument(
    "files", nargs=-1, required=True, metavar="FILE...", type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option(
    "--kind",
    metavar="NAME",
    help="Contract to validate against, e.g. release_bundle_v1. Default: the folder "
    "examples/<name>.v<N>/ holding the file, its place in a registry, or its "
    "`contract` field.",
)
@root_option
@format_option
def validate(files: tuple[Path, ...], kind: str | None, root: Path, fmt: str) -> None:
    """Validate JSON, YAML or JSON Lines documents against their contract's committed schema.

    Prints one line per failure: the file, the JSON path, and what is wrong.
    """
    schemas = {
        core.contract_of_folder(p.split("/")[1]): loads_strict(data, p) for p, data in read_committed(root).items()
    }
    known = {c for c in schemas if c is not None}
    results = []
    for path in files:
        for label, document in read_documents(path):
            contract = core.resolve_kind(kind, path.absolute().parts, document, known)
            found = core.violations(schemas[contract], document)
            problems = [{"path": where, "message": message} for where, message in found]
            results.append({"file": label, "kind": contract, "problems": problems})
    _print_validation(results, fmt)


def _print_validation(results: list[dict[str, Any]], fmt: str) -> None:
    def text() -> None:
        for result in results:
            for problem in result["problems"]:
                click.echo(f"{result['file']}: {problem['path']}: {problem['message']}")
            if not result["problems"]:
                click.echo(f"{result['file']}: ok ({result['kind']})")

    bad = [r for r in results if r["problems"]]
    emit(fmt, {"ok": not bad, "documents": [{**r, "ok": not r["problems"]} for r in results]}, text)
    if bad:
        raise DocketError(
            f"{len(bad)} of {len(results)} document(s) do not match their contract",
            "fix the fields named above; docs/contracts.md describes every contract",
        )
