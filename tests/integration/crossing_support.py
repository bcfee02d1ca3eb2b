"""Two real registries for the cross-registry tests: a vendor (``vendor-co``, alice is root and
owns support-triage 1.0.0) and a client (``client-co``, dana is root, holder and admin of
project shop). Two repositories, two policies, two sets of keys."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tests.support import EXAMPLES, Registry, run_cli, write_key

ARCHETYPE = "support-triage"
VENDOR = "vendor-co"
ADDRESS = "shop/triage"


@dataclass
class Crossing:
    vendor: Registry
    client: Registry
    work: Path

    @property
    def vendor_root(self) -> Path:
        return self.work / "vendor-root.json"

    @property
    def client_root(self) -> Path:
        return self.work / "client-root.json"

    def export(self, folder: str = "export", version: str = "1.0.0") -> Path:
        out = self.work / folder
        self.vendor.ok("vendor", "export", ARCHETYPE, version, "--out", out)
        return out

    def imported(self, folder: Path, name: str = "triage") -> None:
        self.client.ok("vendor", "import", folder, "--vendor", VENDOR, "--project", "shop", "--name", name, key="dana")


def new_registry(tmp_path: Path, folder: str, name: str, root: str) -> Registry:
    keys = tmp_path / f"{folder}-keys"
    keys.mkdir()
    key = write_key(keys, root)
    path = tmp_path / folder
    result = run_cli("init", path, "--name", name, "--identity", root, "--key", key)
    assert result.code == 0, result.err
    reg = Registry(path, keys, key)
    reg.principals[root] = key
    return reg


def crossing(tmp_path: Path, terms: Path | None = None, *, permit: bool = True, pin: bool = True) -> Crossing:
    """Both registries, the vendor's package released (from ``terms``' archetype folder when
    given), the client's root permitted by the vendor and the vendor's root pinned by the
    client (unless told otherwise)."""
    vendor = new_registry(tmp_path, "vendor", VENDOR, "alice")
    client = new_registry(tmp_path, "client", "client-co", "dana")
    work = tmp_path / "work"
    work.mkdir()
    vendor.ok("archetype", "new", ARCHETYPE, "--from", terms or EXAMPLES / ARCHETYPE)
    vendor.ok("release", ARCHETYPE, "1.0.0")
    client.ok("policy", "grant", "holders:shop", "dana", key="dana")
    client.ok("policy", "grant", "admins:shop", "dana", key="dana")
    found = Crossing(vendor, client, work)
    vendor.ok("vendor", "root", "--out", found.vendor_root)
    client.ok("vendor", "root", "--out", found.client_root, key="dana")
    if permit:
        vendor.ok("vendor", "permit", ARCHETYPE, "1.0.0", found.client_root)
    if pin:
        client.ok("vendor", "pin", VENDOR, found.vendor_root, key="dana")
    return found


def installed(c: Crossing) -> None:
    """The vendor's package imported, admitted and installed in the client."""
    c.imported(c.export())
    c.client.ok("placement", "admit", ADDRESS, key="dana")
    c.client.ok("placement", "install", ADDRESS, key="dana")
