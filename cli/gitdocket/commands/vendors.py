"""``gitdocket vendor``: install a package from another registry (seed 000: crossing requires
source-permit and target-admit). Vendor side: ``root``, ``permit``, ``export``. Client side:
``root``, ``pin``, ``import``; then ``placement admit`` and ``placement install`` as for any
package."""

from __future__ import annotations

import json
from pathlib import Path

import click

from gitdocket.adapters.files import MAX_KEY_BYTES, read_file, read_folder, write_file
from gitdocket.commands.output import done, emit, reader, write, writer
from gitdocket.commands.placements import expires_option
from gitdocket.core.canonical import canonical
from gitdocket.core.scopes import check_name, check_version
from gitdocket.errors import InputError
from gitdocket.lifecycles.vendors import root_digest
from gitdocket.ops import placements as placement_ops
from gitdocket.ops import vendors as vendor_ops
from gitdocket.ops.session import Session

__all__ = ["vendor"]

_EXPORT_HINT = "pass the folder `gitdocket vendor export` wrote"
_ROOT_HINT = "pass the file `gitdocket vendor root --out FILE` wrote in the other registry"


@click.group()
def vendor() -> None:
    """Install a package from another registry, under this registry's own boundary.

    The vendor's owners permit the package for this registry (`vendor permit`, naming its root
    file) and export it (`vendor export`); this registry's root pins the vendor's root
    (`vendor pin`); a holder imports it (`vendor import`), which requests the install; an admin
    admits it and a holder installs it (`placement admit`, `placement install`). `verify`
    checks the vendor's signatures offline under the pinned root. The method crosses only when
    the package's crossing terms say "method may cross".
    """


@vendor.command("root")
@click.option("--out", type=click.Path(path_type=Path), help="Also write the root to this file.")
@reader
def vendor_root(out: Path | None, repo: Path, rev: str | None, fmt: str) -> None:
    """Print this registry's name and root keys: what another registry pins, or permits by."""
    root = vendor_ops.root_of_registry(Session(repo).snapshot(rev))
    data = root.model_dump(mode="json")
    if out is not None:
        write_file(out, canonical(data) + b"\n", "pass a file path to --out")
    emit(fmt, {**data, "digest": root_digest(root)}, lambda: click.echo(f"{root.registry} {root_digest(root)}"))


def _root_file(path: Path) -> vendor_ops.VendorRoot:
    return vendor_ops.parse_root(read_file(path, MAX_KEY_BYTES, _ROOT_HINT, "root file"), str(path))


@vendor.command("pin")
@click.argument("name")
@click.argument("root_file", metavar="ROOT.json", type=click.Path(path_type=Path))
@writer
def vendor_pin(name: str, root_file: Path, repo: Path, keys: tuple[str, ...], fmt: str) -> None:
    """Trust vendor NAME's records under the root in ROOT.json (root signs; a policy change)."""
    check_name(name, "vendor name")
    root = _root_file(root_file)
    commit, _ = write(repo, keys, f"docket: pin vendor {name}", lambda tx: vendor_ops.pin(tx, name, root))
    done(fmt, f"Pinned vendor {name}: registry {root.registry}, root {root_digest(root)}", commit, {"vendor": name})


@vendor.command("permit")
@click.argument("archetype_name", metavar="ARCHETYPE")
@click.argument("number", metavar="VERSION")
@click.argument("client_file", metavar="CLIENT-ROOT.json", type=click.Path(path_type=Path))
@writer
def vendor_permit(
    archetype_name: str, number: str, client_file: Path, repo: Path, keys: tuple[str, ...], fmt: str
) -> None:
    """Permit the published package ARCHETYPE VERSION to cross into the client registry whose
    root CLIENT-ROOT.json is (the archetype's owners; the source-permit)."""
    check_name(archetype_name, "archetype name")
    check_version(number)
    client = _root_file(client_file)
    commit, digest = write(
        repo,
        keys,
        f"docket: permit {archetype_name} {number} for {client.registry}",
        lambda tx: vendor_ops.permit(tx, archetype_name, number, client),
    )
    done(fmt, f"Permitted {archetype_name} {number} for {client.registry} ({digest})", commit)


@vendor.command("export")
@click.argument("archetype_name", metavar="ARCHETYPE")
@click.argument("number", metavar="VERSION")
@click.option("--out", required=True, type=click.Path(path_type=Path), help="The folder to write (new or empty).")
@reader
def vendor_export(archetype_name: str, number: str, out: Path, repo: Path, rev: str | None, fmt: str) -> None:
    """Write the signed logs a client imports of ARCHETYPE VERSION to --out (and the frozen
    method only when the package's crossing terms permit it)."""
    check_name(archetype_name, "archetype name")
    check_version(number)
    files = vendor_ops.export(Session(repo).snapshot(rev), archetype_name, number)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise click.UsageError(f"--out {out} is not a new or empty folder")
    for rel, data in sorted(files.items()):
        write_file(out / rel, data, "pass a new or empty folder to --out")
    emit(fmt, {"ok": True, "files": sorted(files)}, lambda: click.echo(f"Exported {len(files)} files to {out}"))


@vendor.command("import")
@click.argument("folder", type=click.Path(path_type=Path))
@click.option("--vendor", "vendor_name", required=True, help="The vendor, as this registry pinned it.")
@click.option("--project", required=True, help="The target project.")
@click.option("--name", help="The placement's name in the project (default: the archetype's).")
@expires_option
@writer
def vendor_import(
    folder: Path,
    vendor_name: str,
    project: str,
    name: str | None,
    expires: str,
    repo: Path,
    keys: tuple[str, ...],
    fmt: str,
) -> None:
    """Import FOLDER (`vendor export`'s) from --vendor and request its install in --project
    (holders). Refused unless it verifies under the pinned root and the vendor permitted this
    registry."""
    check_name(vendor_name, "vendor name")
    check_name(project, "project name")
    files = read_folder(folder, _EXPORT_HINT)
    packages = sorted({p.split("/")[2] for p in files if p.startswith("registry/packages/") and p.count("/") >= 3})
    if not packages:
        raise InputError(f"{folder}: holds no exported package", _EXPORT_HINT)
    name = check_name(name or packages[0], "placement name")

    def op(tx: vendor_ops.Transaction) -> vendor_ops.Pin:
        until = placement_ops.request_expiry(expires, tx.at)
        return vendor_ops.import_package(tx, files, vendor_name, project, name, until)

    commit, pin = write(repo, keys, f"docket: import {vendor_name} package into {project}/{name}", op)
    done(
        fmt,
        f"Imported {pin.archetype} {pin.version} from {vendor_name} and requested {project}/{name}; "
        f"an admin of {project} admits it next",
        commit,
        {"address": f"{project}/{name}", "vendor": vendor_name, **json.loads(pin.model_dump_json())},
    )
