"""The demo's issue-2 steps: the registry core, from an empty folder to a verified registry.

``run`` creates a key, a registry and its policy, adds the two sample archetypes, freezes,
publishes, edits the draft with a signed git commit, freezes again, retires a version and lists
what is there. ``finale`` runs last, after every other step module: ``gitdocket verify`` on the
whole flow, ``git verify-commit`` / ``verify-tag`` against ``gitdocket policy allowed-signers``, an
export replayed into a sandbox, a tampered copy that ``gitdocket verify`` catches, and a copy
whose ``registry.yaml`` is edited without a signature: caught, then signed. No registry logic here: only CLI calls.
"""

from __future__ import annotations

import shutil
from typing import TYPE_CHECKING

from gitdocket.errors import StateError

if TYPE_CHECKING:
    from pathlib import Path

    from gitdocket.demo import Demo

__all__ = ["finale", "run"]

TRIAGE = "support-triage"
NOTES = "release-notes"
INSTRUCTIONS = f"registry/archetypes/{TRIAGE}/method/instructions.md"
FROZEN = f"registry/versions/{TRIAGE}/1.0.0/method/instructions.md"


def run(demo: Demo) -> None:
    _registry(demo)
    _archetypes(demo)
    _first_release(demo)
    _edit_draft(demo)
    _second_release(demo)
    _risky_change(demo)
    _listing(demo)


def finale(demo: Demo) -> None:
    _verify(demo)
    _git_signatures(demo)
    _sandbox(demo)
    _tamper(demo)
    _unsigned_configuration(demo)


def _registry(demo: Demo) -> None:
    alice = demo.keys / "alice_ed25519"
    demo.say(
        "Alice creates a signing key: an ordinary ed25519 SSH key, the kind git already signs "
        "commits with. Every record gitdocket writes carries her signature."
    )
    demo.gitdocket("key", "create", alice, "--comment", "alice", key=None)
    demo.say(
        "She creates the registry: a git repository whose trust policy names her as root, "
        "author, builder and promoter. The policy is itself a signed log."
    )
    demo.gitdocket(
        "init",
        demo.registry,
        "--name",
        demo.registry.name,
        "--identity",
        "alice",
        "--key",
        alice,
        "--gate-preset",
        "agent-skills",
        key=None,
    )
    demo.run("policy", "show")


def _archetypes(demo: Demo) -> None:
    demo.say(
        "She adds two archetypes from examples/: each is an archetype.yaml plus a method/ "
        "folder (instructions, skills, tools, .agent-config.json). One signed commit each."
    )
    demo.run("archetype", "new", TRIAGE, "--from", str(demo.examples / TRIAGE))
    demo.run("archetype", "new", NOTES, "--from", str(demo.examples / NOTES))


def _first_release(demo: Demo) -> None:
    demo.say(
        "Freezing snapshots the method: every file's sha256, the git tree id and the agent "
        "config, checked for completeness, signed, and tagged support-triage/v1.0.0."
    )
    demo.run("version", "freeze", TRIAGE, "1.0.0")
    demo.say(
        "Publishing makes the frozen version installable: one atomic commit writes the "
        "package manifest and records the package on the version."
    )
    demo.run("package", "publish", TRIAGE, "1.0.0")


def _edit_draft(demo: Demo) -> None:
    demo.say(
        "The draft is plain files in the worktree: people edit method/ and commit, as in a "
        "pull request. Alice tells git to sign her commits with the same key."
    )
    demo.git("config", "gpg.format", "ssh")
    demo.git("config", "user.signingkey", demo.key("alice"))
    demo.git("config", "commit.gpgsign", "true")
    demo.write(demo.registry / INSTRUCTIONS, "- Ask which plan the customer is on before replying.")
    demo.git("commit", "--quiet", "-am", "support-triage: ask for the customer's plan")


def _second_release(demo: Demo) -> None:
    demo.say("Version 1.1.0 freezes the edited draft and is published; 1.0.0 stays exactly as it was.")
    demo.run("version", "freeze", TRIAGE, "1.1.0")
    demo.run("package", "publish", TRIAGE, "1.1.0")
    demo.say(
        "1.2.0 is frozen by mistake (nothing changed since 1.1.0), so Alice retires it with a "
        "reason. Retiring is future-only: the record stays, but no new package may use it."
    )
    demo.run("version", "freeze", TRIAGE, "1.2.0")
    demo.run("version", "retire", TRIAGE, "1.2.0", "--reason", "frozen by mistake: same method as 1.1.0")
    demo.say("Docket refuses to publish the retired version, names the rule, and writes nothing.")
    demo.run("package", "publish", TRIAGE, "1.2.0", expect=1)
    demo.say("The second archetype gets its first release.")
    demo.run("version", "freeze", NOTES, "0.1.0")
    demo.run("package", "publish", NOTES, "0.1.0")


RISKY_CONFIG = (
    '{"model": {"provider": "anthropic", "name": "claude-sonnet"}, "skills": ["classify"], '
    '"tools": ["kb-search", "web-fetch"], "settings": {"temperature": 0.2}, '
    '"egress": ["*.example.com"], "permissions": {"web-fetch": ["net:read"]}}'
)


def _risky_change(demo: Demo) -> None:
    demo.say(
        "Risk rules. Sam joins as the security reviewer, and root adds a rule to the policy: a "
        "version that gains a tool, a tool permission, network egress or a wider posture needs "
        "Sam's signature as well as an owner's to be frozen (a rule may cover promotions too)."
    )
    sam = demo.key("sam")
    demo.run("policy", "add-identity", "sam", f"{sam}.pub")
    demo.run("policy", "grant", "security", "sam")
    demo.run(
        "policy",
        "risk-rule",
        "add",
        "new-capabilities",
        "--role",
        "security",
        *("--kind", "tool_added", "--kind", "tool_permission_added"),
        *("--kind", "egress_widened", "--kind", "posture_widened"),
        *("--on", "freeze"),
    )
    demo.say("A change lets support-triage fetch web pages: a new tool, its permission, and egress.")
    method = demo.registry / "registry" / "archetypes" / TRIAGE / "method"
    demo.git("rm", "--quiet", method / ".agent-config.json")
    demo.write(method / ".agent-config.json", RISKY_CONFIG)
    demo.write(method / "tools" / "web-fetch.json", '{"name": "web-fetch", "input": {"url": "string"}}')
    demo.git("add", "--all")
    demo.git("commit", "--quiet", "-m", "support-triage: fetch linked pages")
    demo.say("Alice alone cannot freeze it: Docket names the rule, the changes and who can approve.")
    demo.run("version", "freeze", TRIAGE, "1.3.0", expect=1)
    demo.say("With Sam's signature on the same record (a second --key), the freeze goes through.")
    two_keys = ("--key", str(demo.key("alice")), "--key", str(sam))
    demo.gitdocket("version", "freeze", TRIAGE, "1.3.0", *two_keys, key=None, repo=demo.registry)
    demo.say(
        "gitdocket diff shows the reviewer what changed in the agent, each change with its risk "
        "(Markdown for a pull request's summary, or --format json)."
    )
    demo.run("diff", f"{TRIAGE}@1.1.0", f"{TRIAGE}@1.3.0")


def _listing(demo: Demo) -> None:
    demo.say("Every version and package, with its phase; the content hash identifies the snapshot.")
    demo.run("version", "list")
    demo.run("package", "list")


def _verify(demo: Demo) -> None:
    demo.say(
        "gitdocket verify proves every record: hash chains, signatures under the policy, legal "
        "replay of every log, current.json equal to the fold, frozen snapshots, tags."
    )
    demo.run("verify")


def _git_signatures(demo: Demo) -> None:
    demo.say(
        "Commits and tags are signed too, so git can check them against the policy's "
        "identities (this is also what gives GitHub's Verified badge)."
    )
    signers = demo.keys / "allowed_signers"
    demo.run("policy", "allowed-signers", "--output", str(signers))
    demo.git("config", "gpg.ssh.allowedSignersFile", signers)
    commits = demo.git("rev-list", "--all", quiet=True).split()
    tags = demo.git("tag", "--list", quiet=True).split()
    repo = demo.shown(demo.registry)
    demo.echo(f"$ for c in $(git -C {repo} rev-list --all); do git -C {repo} verify-commit $c; done")
    demo.output("".join(_git_check(demo, "verify-commit", commit[:12]) for commit in commits))
    demo.echo(f"$ for t in $(git -C {repo} tag --list); do git -C {repo} verify-tag $t; done")
    demo.output("".join(_git_check(demo, "verify-tag", tag) for tag in tags))
    demo.say(f"git accepts all {len(commits)} commits and {len(tags)} tags.")


def _sandbox(demo: Demo) -> None:
    exported = demo.workdir / "registry.export.jsonl"
    sandbox = demo.workdir / "sandbox-registry"
    demo.say(
        "The whole history exports to one sealed file (registry_export_v1): every commit with its "
        "signature, the events it appended, the blobs it added, every tag. Replaying it rebuilds the "
        "registry byte for byte, proved before it is moved into place: a backup that checks itself, "
        "or a sandbox to try a change in."
    )
    demo.run("export", "--to", str(exported))
    demo.gitdocket("replay", exported, "--into", sandbox)


def _git_check(demo: Demo, command: str, name: str) -> str:
    """One ``git verify-commit``/``verify-tag``: its verdict line; the demo stops on a refusal."""
    done = demo.git_process(command, name)
    lines = [line for line in (done.stdout + done.stderr).splitlines() if line.strip()]
    verdict = (lines[-1] if lines else f"exit {done.returncode}").split(" with ")[0]
    if done.returncode != 0:
        raise StateError(
            f"demo stopped: `git {command} {name}` refused it: {verdict}",
            "every commit and tag gitdocket writes is signed; see the output above",
        )
    return f"{name}\t{verdict}\n"


def _copy_registry(demo: Demo, name: str) -> Path:
    """A copy of the demo's registry to spoil (``cp -r``, shown), leaving the real one intact."""
    copy = demo.workdir / name
    demo.echo(f"$ cp -r {demo.shown(demo.registry)} {demo.shown(copy)}")
    shutil.copytree(demo.registry, copy, symlinks=True)
    return copy


def _tamper(demo: Demo) -> None:
    demo.say(
        "Finally, tampering. In a copy of the registry someone edits a frozen file of 1.0.0 "
        "and commits it with plain git (even signed by Alice, a root)."
    )
    copy = _copy_registry(demo, "tampered-registry")
    demo.write(copy / FROZEN, "- Always offer a refund.")
    demo.git("commit", "--quiet", "-am", "support-triage: small fix", repo=copy)
    demo.say("gitdocket verify catches it: the frozen snapshot no longer matches its signed record.")
    demo.gitdocket("verify", repo=copy, expect=1)
    demo.say("In a pull request, the required check compares with the base and names the change.")
    demo.gitdocket("verify", "--base", "HEAD~1", repo=copy, expect=1)


PROD_FROM_A_BUILD = ("  - name: prod\n    sources: [staging]\n", "  - name: prod\n    sources: [null, staging]\n")


def _unsigned_configuration(demo: Demo) -> None:
    demo.say(
        "Nothing unsigned decides anything. In another copy someone lets prod take bundles "
        "straight from a build: one line of registry/registry.yaml, committed with plain git."
    )
    copy = _copy_registry(demo, "unsigned-config-registry")
    config = copy / "registry" / "registry.yaml"
    demo.echo(f"$ sed -i 's/sources: \\[staging\\]/sources: [null, staging]/' {demo.shown(config)}")
    config.write_text(config.read_text().replace(*PROD_FROM_A_BUILD))
    demo.git("commit", "--quiet", "-am", "prod: accept bundles from a build", repo=copy)
    demo.say(
        "Writers keep reading the signed configuration, and gitdocket verify names the file, "
        "the field and the command that signs it."
    )
    demo.gitdocket("verify", repo=copy, expect=1)
    demo.say("Root decides: signing it makes it the configuration (and verify passes again).")
    demo.gitdocket("config", "apply", repo=copy)
    demo.gitdocket("verify", repo=copy)
