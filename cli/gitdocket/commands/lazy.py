"""The top-level command table: each command's name, where its code lives and its one-line help.

``gitdocket status`` should cost what reading the ``current.json`` pointers costs, not the import
of every command's dependencies (jsonschema, ruamel, the bundle and site code). So the group
imports a command's module only when that command runs, and ``gitdocket --help`` lists the
commands from the help kept here, importing none of them. ``tests/cli/test_lazy_commands.py``
checks that this help equals each command's own, and that starting the CLI imports no command.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, MutableMapping
from typing import Any, NamedTuple

import click

from gitdocket.core.collector import lifelong

__all__ = ["COMMANDS", "Entry", "LazyGroup", "load", "resolve"]


class Entry(NamedTuple):
    """Where a command lives (``module:attribute``) and its one-line help, as ``--help`` lists it."""

    target: str
    summary: str


COMMANDS: dict[str, Entry] = {
    "admission": Entry(
        "gitdocket.commands.admission:admission",
        "Check run-admission tokens (what a runtime does before it runs a placement).",
    ),
    "admit-run": Entry(
        "gitdocket.commands.admission:admit_run",
        "Issue a signed run-admission token for PROJECT/NAME (printed, or with --out written to the file and "
        "summed up), only when `run-check` says Active (an entitlement authority of the project signs; nothing "
        "is written to the registry).",
    ),
    "archetype": Entry("gitdocket.commands.archetypes:archetype", "Create, list and show archetypes."),
    "bundle": Entry(
        "gitdocket.commands.bundles:bundle",
        "Build, verify, export and import release bundles (release_bundle_v1).",
    ),
    "config": Entry(
        "gitdocket.commands.config:config",
        "The registry's signed configuration (registry.yaml is its readable face).",
    ),
    "contracts": Entry(
        "gitdocket.commands.contracts:contracts",
        "JSON Schemas (draft 2020-12) of gitdocket's documents: generate, seal, check, validate.",
    ),
    "completion": Entry(
        "gitdocket.commands.completion:completion",
        "Print the shell completion script for SHELL: bash, zsh or fish.",
    ),
    "demo": Entry("gitdocket.commands.demo:demo", "Run the whole flow on a throwaway registry, narrated."),
    "deployments": Entry("gitdocket.commands.reads:deployments", "Read environments the way a runtime does."),
    "diff": Entry(
        "gitdocket.commands.diff:diff",
        "Show what changes in an agent, each change with its risk (agent_diff_v1).",
    ),
    "doctor": Entry(
        "gitdocket.commands.doctor:doctor",
        "List what is out of line in this clone; --fix repairs what needs no new authority.",
    ),
    "entitlement": Entry(
        "gitdocket.commands.entitlements:entitlement",
        "Govern whether a placement may run: request, activate, suspend, resume, close, deny.",
    ),
    "export": Entry(
        "gitdocket.commands.exports:export_command",
        "Write the registry's whole history to FILE as a replayable log (registry_export_v1).",
    ),
    "gate": Entry(
        "gitdocket.commands.gates:gate",
        "Evaluate the release readiness gate (release_readiness_gate_v1).",
    ),
    "history": Entry(
        "gitdocket.commands.reads:history",
        "Every promotion and rollback of an environment, oldest first (up to --at).",
    ),
    "init": Entry(
        "gitdocket.commands.init:init",
        "Create a registry in PATH: the trust policy with you as root, and the skeleton.",
    ),
    "key": Entry("gitdocket.commands.keys:key", "Manage signing keys."),
    "package": Entry("gitdocket.commands.packages:package", "Publish, withdraw, list and show packages."),
    "placement": Entry(
        "gitdocket.commands.placements:placement",
        "Place a published package in a project: request, admit, install, edit, upgrade, remove.",
    ),
    "policy": Entry(
        "gitdocket.commands.policy:policy",
        "Show and change the trust policy (identities, roles, thresholds, expiry, risk rules).",
    ),
    "promote": Entry(
        "gitdocket.commands.environments:promote",
        "Promote BUNDLE (an id, or an exported folder/.tar.gz, imported first) to an environment.",
    ),
    "provenance": Entry(
        "gitdocket.commands.provenance:provenance",
        "The in-toto / SLSA provenance each promotion records (docs/provenance.md).",
    ),
    "release": Entry(
        "gitdocket.commands.releases:release",
        "Freeze and publish ARCHETYPE VERSION in one atomic commit (owners).",
    ),
    "replay": Entry(
        "gitdocket.commands.exports:replay_command",
        "Rebuild the registry an export FILE holds, in a new folder, and prove it.",
    ),
    "rollback": Entry(
        "gitdocket.commands.environments:rollback",
        "Point an environment back at its previous verified release.",
    ),
    "run-check": Entry(
        "gitdocket.commands.entitlements:run_check",
        "May PROJECT/NAME run? Active, or Ineligible with the reason (Expired, Blocked, "
        "NoActiveEntitlement, NotInstalled, Withdrawn).",
    ),
    "site": Entry(
        "gitdocket.commands.site:site",
        "The registry's site: every page generated from a verified commit.",
    ),
    "status": Entry(
        "gitdocket.commands.reads:status",
        "What is deployed where: bundle, since when, by whom, sequence, gate decision (read from the "
        "current.json pointers only; `history --env E` shows the holds).",
    ),
    "tags": Entry(
        "gitdocket.commands.tags:tags",
        "The signed tags of frozen versions and published packages: derived anchors, re-created from the "
        "signed records whenever they are missing.",
    ),
    "trace": Entry(
        "gitdocket.commands.trace:trace_command",
        "Every environment RELEASE (a bundle, or ARCHETYPE@VERSION) reached, and how it left.",
    ),
    "vendor": Entry(
        "gitdocket.commands.vendors:vendor",
        "Install a package from another registry, under this registry's own boundary.",
    ),
    "verify": Entry(
        "gitdocket.commands.verify:verify",
        "Prove every record is a legal, signed transition (snapshot, PR or history mode).",
    ),
    "version": Entry("gitdocket.commands.versions:version", "Draft, freeze, retire and abandon versions."),
}


def resolve(target: str) -> Any:
    """What ``module:attribute`` names, its module imported now (a command's code, or the
    operation a write command runs)."""
    module, _, attribute = target.partition(":")
    return getattr(importlib.import_module(module), attribute)


def load(entry: Entry) -> click.Command:
    """Import the module that holds the command and return it (out of the cyclic collector's
    way, as ``gitdocket.__main__`` imports the CLI: what an import builds lives to the end)."""
    with lifelong():
        command = resolve(entry.target)
    if not isinstance(command, click.Command):
        raise TypeError(f"{entry.target} is not a click command")
    return command


class LazyCommands(MutableMapping[str, click.Command]):
    """A group's commands by name: listing the names imports nothing, reading one imports its
    module (once)."""

    def __init__(self, table: dict[str, Entry]) -> None:
        self.table = table
        self.loaded: dict[str, click.Command] = {}

    def __getitem__(self, name: str) -> click.Command:
        if name not in self.loaded and name in self.table:
            self.loaded[name] = load(self.table[name])
        return self.loaded[name]

    def __setitem__(self, name: str, command: click.Command) -> None:
        self.loaded[name] = command

    def __delitem__(self, name: str) -> None:
        self.table.pop(name, None)
        del self.loaded[name]

    def __contains__(self, name: object) -> bool:
        return name in self.table or name in self.loaded

    def __iter__(self) -> Iterator[str]:
        return iter(sorted({*self.table, *self.loaded}))

    def __len__(self) -> int:
        return len({*self.table, *self.loaded})


class LazyGroup(click.Group):
    """A click group whose commands are imported on first use and listed from ``table``."""

    def __init__(self, *args: Any, table: dict[str, Entry], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.table = table
        self.commands = LazyCommands(dict(table))

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The command list from the table's help: ``--help`` imports no command."""
        names = self.list_commands(ctx)
        if not names:
            return
        limit = formatter.width - 6 - max(len(name) for name in names)
        rows: list[tuple[str, str]] = []
        for name in names:
            # A stand-in command carrying the table's help shortens it exactly as click would.
            command = click.Command(name, help=self.table[name].summary) if name in self.table else self.commands[name]
            rows.append((name, command.get_short_help_str(limit)))
        with formatter.section("Commands"):
            formatter.write_dl(rows)
