"""Shared setup for the client-side integration and CLI tests: a registry where alice owns
support-triage (1.0.0 released), bob holds and admins project acme, carol is acme's entitlement
authority, and mallory is a known identity with no role."""

from __future__ import annotations

from tests.support import Registry

ARCHETYPE = "support-triage"


def add_people(registry: Registry) -> None:
    for name in ("bob", "carol", "mallory"):
        registry.ok("policy", "add-identity", name, f"{registry.key(name)}.pub")
    registry.ok("policy", "grant", "holders:acme", "bob")
    registry.ok("policy", "grant", "admins:acme", "bob")
    registry.ok("policy", "grant", "authorities:acme", "carol")


def vendor_and_client(registry: Registry) -> Registry:
    add_people(registry)
    registry.add_archetype(ARCHETYPE)
    registry.ok("release", ARCHETYPE, "1.0.0")
    return registry


def installed(registry: Registry, address: str = "acme/triage", version: str = "1.0.0") -> None:
    project, name = address.split("/")
    registry.ok("placement", "request", ARCHETYPE, version, "--project", project, "--name", name,
                key="bob")
    registry.ok("placement", "admit", address, key="bob")
    registry.ok("placement", "install", address, key="bob")


def entitled(registry: Registry, address: str = "acme/triage", *extra: str) -> None:
    registry.ok("entitlement", "request", address, key="bob")
    registry.ok("entitlement", "activate", address, *extra, key="carol")
