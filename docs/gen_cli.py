"""Generate docs/cli.md from gitdocket's click command tree, so the reference never drifts.

    python docs/gen_cli.py           # rewrite docs/cli.md
    python docs/gen_cli.py --check   # exit 1 if docs/cli.md is out of date (a test does this)

Every command gets its usage (arguments only) and the first sentence of its help text.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT / "cli") not in sys.path:
    sys.path.insert(0, str(ROOT / "cli"))

from gitdocket.commands import cli  # noqa: E402

TARGET = ROOT / "docs" / "cli.md"

HEADER = """# Command reference

<!-- Generated from the click command tree by docs/gen_cli.py: do not edit by hand.
     Regenerate with `make docs` or `python docs/gen_cli.py`; a test checks it is current. -->

Every command has `--help`. Commands that read or write a registry take `--repo PATH` (default:
the repository around the current directory, or `GITDOCKET_REPO`); commands that print data take
`--format json`; commands that write sign with `--key PATH` (default: `GITDOCKET_SIGNING_KEY`, then
git's `user.signingkey`) and publish with `--push`; commands that only read take `--rev COMMIT|TAG`
(default: what is checked out; see [branches, commits and tags](git.md)). Exit codes: 0 done, 1
refused or failed (a one-line `error:` and a `hint:`), 2 bad input or usage.
"""


COMMON = {"repo", "fmt", "keys", "push", "rev", "help"}
"""Options every command shares (described once above), left out of each usage line."""


def _option(param: click.Option, ctx: click.Context) -> str:
    text = max(param.opts, key=len)
    if not param.is_flag:
        choices = isinstance(param.type, click.Choice)
        text += " " + (param.metavar or (param.make_metavar(ctx) if choices else "") or (param.name or "value").upper())
    if param.multiple:
        text += " …"
    return text if param.required else f"[{text}]"


def _usage(command: click.Command, ctx: click.Context) -> str:
    arguments = [p.make_metavar(ctx) for p in command.params if isinstance(p, click.Argument)]
    options = [
        _option(p, ctx) for p in command.params if isinstance(p, click.Option) and p.name not in COMMON and not p.hidden
    ]
    return " ".join([ctx.command_path, *arguments, *options])


def _text(value: str) -> str:
    return value.replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")


def _summary(command: click.Command) -> str:
    return _text(command.get_short_help_str(limit=1000))


def _rows(group: click.Group, ctx: click.Context) -> list[tuple[str, str]]:
    rows = []
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        if command is None or command.hidden:
            continue
        sub = click.Context(command, info_name=name, parent=ctx)
        if isinstance(command, click.Group):
            rows.extend(_rows(command, sub))
        else:
            rows.append((_usage(command, sub), _summary(command)))
    return rows


def _table(rows: list[tuple[str, str]]) -> str:
    lines = ["| command | what it does |", "|---|---|"]
    lines.extend(f"| `{usage}` | {summary} |" for usage, summary in rows)
    return "\n".join(lines) + "\n"


def render() -> str:
    root = click.Context(cli, info_name="gitdocket")
    leaves: list[tuple[str, str]] = []
    groups: list[str] = []
    for name in cli.list_commands(root):
        command = cli.get_command(root, name)
        if command is None or command.hidden:
            continue
        ctx = click.Context(command, info_name=name, parent=root)
        if isinstance(command, click.Group):
            table = _table(_rows(command, ctx))
            groups.append(f"\n## `gitdocket {name}`\n\n{_summary(command)}\n\n{table}")
        else:
            leaves.append((_usage(command, ctx), _summary(command)))
    return HEADER + "\n## Commands\n\n" + _table(leaves) + "".join(groups)


def main(argv: list[str]) -> int:
    text = render()
    if "--check" in argv:
        if not TARGET.is_file() or TARGET.read_text(encoding="utf-8") != text:
            print(f"{TARGET.relative_to(ROOT)} is out of date: run `python docs/gen_cli.py`", file=sys.stderr)
            return 1
        return 0
    TARGET.write_text(text, encoding="utf-8")
    print(f"wrote {TARGET.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
