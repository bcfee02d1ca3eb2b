"""The client-side commands as a user meets them: help text on every command and option, bad
input as one line with exit 2 (usage) or 1 (refused), run-check's exit codes in a real
subprocess, and JSON output."""

from __future__ import annotations

import click
import pytest

from gitdocket.commands import cli
from gitdocket.commands.entitlements import entitlement, run_check
from gitdocket.commands.placements import placement
from gitdocket.commands.releases import release
from tests.integration.clients_support import entitled, installed, vendor_and_client
from tests.support import Registry, run_process


def commands() -> list[tuple[str, click.Command]]:
    out: list[tuple[str, click.Command]] = [("run-check", run_check), ("release", release)]
    for group in (placement, entitlement):
        out += [(f"{group.name} {name}", cmd) for name, cmd in group.commands.items()]
    archetype = cli.commands["archetype"]
    assert isinstance(archetype, click.Group)
    out += [(f"archetype {n}", archetype.commands[n]) for n in ("fork", "pull-from-source", "tree")]
    return out


@pytest.mark.parametrize(("name", "command"), commands(), ids=[n for n, _ in commands()])
def test_every_command_and_option_has_help(name: str, command: click.Command) -> None:
    assert command.help and len(command.help.strip()) > 10, name
    for param in command.params:
        if isinstance(param, click.Option):
            assert param.help, f"{name} {param.opts}"
        assert "--repo" in {o for p in command.params for o in getattr(p, "opts", [])}


def test_the_groups_are_registered() -> None:
    assert {"placement", "entitlement", "run-check", "release"} <= set(cli.commands)
    assert set(placement.commands) >= {
        "request",
        "admit",
        "install",
        "edit",
        "status",
        "upgrade",
        "disable",
        "remove",
        "list",
        "show",
        "offer",
    }
    assert set(entitlement.commands) >= {"request", "activate", "suspend", "resume", "close", "deny", "receipt", "show"}


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        pytest.param(("placement", "status", "acme"), 2, "invalid placement address", id="no-slash"),
        pytest.param(("placement", "status", "acme/a/b"), 2, "invalid placement address", id="two-slashes"),
        pytest.param(("placement", "status", "Acme/x"), 2, "invalid project name", id="bad-project"),
        pytest.param(("placement", "status", "acme/../x"), 2, "invalid placement address", id="path-escape"),
        pytest.param(("placement", "status", "acme/nope"), 1, "no placement acme/nope", id="unknown-placement"),
        pytest.param(
            ("placement", "edit", "acme/x", "--set", "novalue"), 2, "is not KEY=VALUE", id="set-without-equals"
        ),
        pytest.param(("placement", "upgrade", "acme/x", "--to", "v2"), 2, "invalid version", id="bad-version"),
        pytest.param(("run-check", "acme/x", "--at", "yesterday"), 2, "not an RFC 3339 time", id="bad-time"),
        pytest.param(("run-check", "acme/x", "--at", "2026-01-01T00:00:00"), 2, "with a zone", id="time-without-zone"),
        pytest.param(
            ("entitlement", "receipt", "acme/x", "--kind", "tip", "--ref", "r"),
            2,
            "Invalid value for '--kind'",
            id="bad-receipt-kind",
        ),
        pytest.param(("entitlement", "show", "acme/x"), 1, "no entitlement for acme/x", id="unknown-entitlement"),
        pytest.param(("archetype", "pull-from-source", "nope"), 1, "no archetype 'nope'", id="pull-unknown"),
    ],
)
def test_bad_input_is_one_line(registry: Registry, args: tuple[str, ...], code: int, message: str) -> None:
    before = registry.refs()
    result = registry.run(*args)
    assert result.code == code, result.err
    assert message in result.err and "Traceback" not in result.err
    assert len([line for line in result.err.splitlines() if line.startswith("error")]) <= 1
    assert registry.refs() == before


def test_run_check_exit_codes_in_a_subprocess(registry: Registry) -> None:
    vendor_and_client(registry)
    installed(registry)
    not_yet = run_process("run-check", "acme/triage", "--repo", registry.path)
    assert not_yet.code == 1
    assert not_yet.out.strip() == (
        "acme/triage: Ineligible (NoActiveEntitlement) — the entitlement is none, not active"
    )
    entitled(registry, "acme/triage", "--expires", "2026-03-01T00:00:00Z")
    ok = run_process("run-check", "acme/triage", "--repo", registry.path, "--format", "json")
    assert ok.code == 0
    assert '"verdict": "Active"' in ok.out and '"at": "2026-01-01T00:00:00Z"' in ok.out
    late = run_process("run-check", "acme/triage", "--repo", registry.path, "--at", "2026-03-01T01:00:00+01:00")
    assert late.code == 1 and "Ineligible (Expired)" in late.out
    missing = run_process("run-check", "acme/nobody", "--repo", registry.path)
    assert missing.code == 1 and "Ineligible (NotInstalled)" in missing.out


def test_placement_views_in_text_and_json(registry: Registry) -> None:
    vendor_and_client(registry)
    installed(registry)
    listed = registry.ok("placement", "list", key=None).out.splitlines()
    assert listed == ["placement\tarchetype\tversion\tphase\tupdate", "acme/triage\tsupport-triage\t1.0.0\tInstalled\t"]
    shown = registry.ok("placement", "show", "acme/triage", "--format", "json", key=None).json()
    assert shown["pin"]["content_hash"].startswith("sha256:")
    assert shown["target_admitted"] is True and shown["superseded"] == []
