"""Demo step for issue 14: a cross-registry install and a run-admission token.

A second organisation, client-co, runs its own registry with its own policy and keys (dana is its
root). acme's owner permits a published package for client-co (source-permit), client-co's root
pins acme's root, dana imports and requests the install, admits it (target-admit) and installs it;
client-co's `verify` checks acme's signatures offline. Then dana, client-co's entitlement
authority, issues a run-admission token; a runtime accepts it, and refuses it once the
entitlement is suspended.
"""

from __future__ import annotations

from gitdocket.core.fields import semver_key
from gitdocket.demo import Demo
from gitdocket.lifecycles import scope
from gitdocket.ops.session import Session
from gitdocket.ops.transaction import load_log

__all__ = ["run"]

ARCHETYPE = "support-triage"
ADDRESS = "shop/triage"


def _published(demo: Demo) -> str:
    """The oldest published (not withdrawn) version of the archetype in acme's registry."""
    tree = Session(demo.registry).snapshot()
    versions = sorted(tree.listdir(f"registry/packages/{ARCHETYPE}"), key=semver_key)
    for version in versions:
        if load_log(tree, scope("package", ARCHETYPE, version)).state.phase == "published":
            return version
    demo.run("release", ARCHETYPE, "9.0.0")
    return "9.0.0"


def run(demo: Demo) -> None:
    version = _published(demo)
    client = demo.root / "client-registry"
    vendor_root, client_root = demo.workdir / "acme-root.json", demo.workdir / "client-root.json"
    exported = demo.workdir / f"{ARCHETYPE}-{version}"
    demo.say(
        "Another organisation, client-co, runs its own registry: its own repository, policy and keys "
        "(dana is its root). Crossing needs source-permit and target-admit."
    )
    demo.gitdocket("init", client, "--name", "client-co", "--identity", "dana", key="dana")
    for role in ("holders:shop", "admins:shop", "authorities:shop"):
        demo.gitdocket("policy", "grant", role, "dana", key="dana", repo=client)
    demo.gitdocket("vendor", "root", "--out", client_root, key=None, repo=client)
    demo.say(f"acme's owner permits {ARCHETYPE} {version} for client-co (named by its root) and exports it.")
    demo.run("vendor", "permit", ARCHETYPE, version, str(client_root))
    demo.run("vendor", "root", "--out", str(vendor_root))
    demo.run("vendor", "export", ARCHETYPE, version, "--out", str(exported))
    demo.say("client-co's root pins acme's root; dana imports, admits and installs. The method stays with acme.")
    demo.gitdocket("vendor", "pin", "acme", vendor_root, key="dana", repo=client)
    demo.gitdocket(
        "vendor",
        "import",
        exported,
        "--vendor",
        "acme",
        "--project",
        "shop",
        "--name",
        "triage",
        key="dana",
        repo=client,
    )
    demo.gitdocket("placement", "admit", ADDRESS, key="dana", repo=client)
    demo.gitdocket("placement", "install", ADDRESS, key="dana", repo=client)
    demo.say("client-co's verify checks acme's signatures offline, under the pinned root.")
    demo.gitdocket("verify", key=None, repo=client)
    demo.say(
        "A runtime gets a signed, expiring run-admission token, issued only while run-check says Active; "
        "it is refused once the entitlement is suspended."
    )
    demo.gitdocket("entitlement", "request", ADDRESS, key="dana", repo=client)
    demo.gitdocket("entitlement", "activate", ADDRESS, key="dana", repo=client)
    token = demo.workdir / "token.txt"
    demo.gitdocket(
        "admit-run", ADDRESS, "--audience", "runtime-eu", "--ttl", "10m", "--out", token, key="dana", repo=client
    )
    verify = ("admission", "verify", f"@{token}", "--audience", "runtime-eu", "--at", "2026-01-01T00:05:00Z")
    demo.gitdocket(*verify, key=None, repo=client)
    demo.gitdocket("entitlement", "suspend", ADDRESS, "--reason", "invoice overdue", key="dana", repo=client)
    demo.gitdocket(*verify, key=None, expect=1, repo=client)
