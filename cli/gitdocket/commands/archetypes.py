"""Commands of the registry core: init, key, policy, archetype, version, package."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from gitdocket.adapters.signing import create_key
from gitdocket.adapters.store import GitStore
from gitdocket.commands.output import common, emit, format_option, keys_option, repo_option, table
from gitdocket.core.scopes import check_name, check_version, scope
from gitdocket.errors import InputError, NotFoundError
from gitdocket.lifecycles.policy import PolicyState
from gitdocket.ops import archetypes as archetype_ops
from gitdocket.ops import packages as package_ops
from gitdocket.ops import policies as policy_ops
from gitdocket.ops import versions as version_ops
from gitdocket.ops.documents import archetype_doc, read_json
from gitdocket.ops.registry import initialize
from gitdocket.ops.session import Session
from gitdocket.ops.transaction import POLICY, load_log

__all__ = ["archetype", "init", "key", "package", "policy", "version"]


def _session(repo: Path, keys: tuple[str, ...] = ()) -> Session:
    return Session(repo, keys)


def _done(fmt: str, what: str, commit: str, extra: dict[str, Any] | None = None) -> None:
    data = {"ok": True, "commit": commit, **(extra or {})}
    emit(fmt, data, lambda: click.echo(f"{what} (commit {commit[:12]})"))


# -- init and keys -----------------------------------------------------------------------------


@click.command()
@click.argument("path", type=click.Path(file_okay=False, path_type=Path), default=".")
@click.option("--name", help="Registry name (default: the folder's name).")
@click.option(
    "--identity", "principal", required=True, help="Your principal name in the policy, e.g. your e-mail address."
)
@click.option("--bare", is_flag=True, help="Create a bare repository (no worktree).")
@click.option("--branch", default="main", show_default=True, help="Branch gitdocket writes to.")
@keys_option
@format_option
def init(
    path: Path, name: str | None, principal: str, bare: bool, branch: str, keys: tuple[str, ...], fmt: str
) -> None:
    """Create a registry in PATH: the trust policy with you as root, and the skeleton.

    The policy starts with one root key (yours, one --key). For a k-of-n root, add the other
    root holders afterwards: `gitdocket policy add-identity NAME PUBKEY`, `gitdocket policy grant root
    NAME` for each, then `gitdocket policy threshold root K` signed by K root keys (`--key A --key
    B`), since a policy change must satisfy the root threshold before and after it.
    """
    if len(keys) > 1:
        raise InputError(
            "gitdocket init takes one --key: the policy starts with a single root key",
            "init with one key, then add the other root holders with `gitdocket policy "
            "add-identity`, `policy grant root` and `policy threshold root K`",
        )
    path = path.resolve()
    try:
        store = GitStore.open(path, branch)
    except NotFoundError:
        store = GitStore.init(path, bare=bare, branch=branch)
    session = Session(path, keys, branch=branch, _store=store)
    registry_name = name or path.name.removesuffix(".git") or "registry"
    signers = session.signers()
    result, _ = session.write(
        f"docket: init registry {registry_name}",
        lambda tx: initialize(tx, registry_name, principal, signers[0]),
        bootstrap_principal=principal,
    )
    _done(
        fmt,
        f"Initialized registry {registry_name!r} in {path} with root {principal}",
        result.commit,
        {"path": str(path), "name": registry_name},
    )


@click.group()
def key() -> None:
    """Manage signing keys."""


@key.command("create")
@click.argument(
    "path", type=click.Path(dir_okay=False, path_type=Path), default=Path("~/.ssh/docket_ed25519").expanduser()
)
@click.option("--comment", default="gitdocket", show_default=True, help="Comment stored in the .pub file.")
@format_option
def key_create(path: Path, comment: str, fmt: str) -> None:
    """Create a new ed25519 key pair at PATH (private, mode 0600) and PATH.pub."""
    line = create_key(path, comment)
    emit(
        fmt,
        {"ok": True, "private_key": str(path), "public_key": line},
        lambda: click.echo(f"Created {path} and {path}.pub\n{line}"),
    )


# -- policy ------------------------------------------------------------------------------------


@click.group()
def policy() -> None:
    """Show and change the trust policy (identities, roles, thresholds, expiry)."""


def _policy_json(state: PolicyState) -> dict[str, Any]:
    return state.model_dump(mode="json")


@policy.command("show")
@common
def policy_show(repo: Path, fmt: str) -> None:
    """Show the policy's version, expiry, identities and roles."""
    state = load_log(_session(repo).snapshot(), POLICY).state

    def text() -> None:
        click.echo(
            f"policy version {state.version}, " + (f"expires {state.expires}" if state.expires else "never expires")
        )
        table(
            "identities",
            ["name", "kind", "key"],
            [(i.name, i.kind, i.public_key or i.subject) for i in state.identities.values()],
        )
        table(
            "roles",
            ["role", "threshold", "principals"],
            [(r, role.threshold, ", ".join(role.principals)) for r, role in sorted(state.roles.items())],
        )

    emit(fmt, _policy_json(state), text)


@policy.command("add-identity")
@click.argument("name")
@click.argument("public_key", metavar="PUBKEY")
@repo_option
@keys_option
@format_option
def policy_add_identity(name: str, public_key: str, repo: Path, keys: tuple[str, ...], fmt: str) -> None:
    """Add identity NAME with PUBKEY (a .pub file path or an 'ssh-ed25519 AAAA…' line)."""
    if Path(public_key).is_file():
        public_key = Path(public_key).read_text()
    result, _ = _session(repo, keys).write(
        f"docket: policy add identity {name}", lambda tx: policy_ops.add_identity(tx, name, public_key)
    )
    _done(fmt, f"Added identity {name}", result.commit)


@policy.command("grant")
@click.argument("role")
@click.argument("principal")
@click.option("--threshold", type=click.IntRange(min=1), help="Also set the role's threshold.")
@repo_option
@keys_option
@format_option
def policy_grant(role: str, principal: str, threshold: int | None, repo: Path, keys: tuple[str, ...], fmt: str) -> None:
    """Give PRINCIPAL the ROLE (root, authors, builders, promoters[:env], admins:<project>, …)."""
    result, _ = _session(repo, keys).write(
        f"docket: policy grant {role} to {principal}", lambda tx: policy_ops.grant(tx, role, principal, threshold)
    )
    _done(fmt, f"Granted {role} to {principal}", result.commit)


@policy.command("revoke")
@click.argument("role")
@click.argument("principal")
@repo_option
@keys_option
@format_option
def policy_revoke(role: str, principal: str, repo: Path, keys: tuple[str, ...], fmt: str) -> None:
    """Take ROLE from PRINCIPAL."""
    result, _ = _session(repo, keys).write(
        f"docket: policy revoke {role} from {principal}", lambda tx: policy_ops.revoke(tx, role, principal)
    )
    _done(fmt, f"Revoked {role} from {principal}", result.commit)


@policy.command("threshold")
@click.argument("role")
@click.argument("count", type=click.IntRange(min=1))
@repo_option
@keys_option
@format_option
def policy_threshold(role: str, count: int, repo: Path, keys: tuple[str, ...], fmt: str) -> None:
    """Require COUNT signatures for ROLE."""
    result, _ = _session(repo, keys).write(
        f"docket: policy threshold {role}={count}", lambda tx: policy_ops.set_threshold(tx, role, count)
    )
    _done(fmt, f"{role} now needs {count} signature(s)", result.commit)


@policy.command("expires")
@click.argument("when", metavar="TIME")
@repo_option
@keys_option
@format_option
def policy_expires(when: str, repo: Path, keys: tuple[str, ...], fmt: str) -> None:
    """Set the policy's expiry to TIME (RFC 3339, like 2027-01-01T00:00:00Z) or to `never`.

    From its expiry on, the registry refuses every write except this renewal (signed by root);
    `gitdocket verify` reports any other event written at or after it (POLICY_EXPIRED).
    """
    expires = policy_ops.parse_expiry(when)
    label = expires.strftime("%Y-%m-%dT%H:%M:%SZ") if expires else "never"
    result, stamp = _session(repo, keys).write(
        f"docket: policy expires {label}", lambda tx: policy_ops.set_expiry(tx, expires)
    )
    _done(
        fmt, f"The policy expires {stamp}" if stamp else "The policy never expires", result.commit, {"expires": stamp}
    )


@policy.command("allowed-signers")
@repo_option
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write to this file instead of standard output.",
)
def policy_allowed_signers(repo: Path, output: Path | None) -> None:
    """Print git's allowed_signers file for `git verify-commit` / `verify-tag`."""
    text = policy_ops.allowed_signers(load_log(_session(repo).snapshot(), POLICY).state)
    if output:
        output.write_text(text)
    else:
        click.echo(text, nl=False)


# -- archetypes --------------------------------------------------------------------------------


@click.group()
def archetype() -> None:
    """Create, list and show archetypes."""


@archetype.command("new")
@click.argument("name")
@click.option(
    "--from",
    "source",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder with archetype.yaml and method/ (see examples/archetypes/).",
)
@click.option("--owner", "owners", multiple=True, help="Owner principal (repeat); default: you.")
@click.option(
    "--threshold",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Owner signatures needed for owner actions.",
)
@repo_option
@keys_option
@format_option
def archetype_new(
    name: str, source: Path, owners: tuple[str, ...], threshold: int, repo: Path, keys: tuple[str, ...], fmt: str
) -> None:
    """Create archetype NAME from a folder on disk."""
    check_name(name, "archetype name")
    files = archetype_ops.load_source_folder(source, name)
    result, _ = _session(repo, keys).write(
        f"docket: new archetype {name}", lambda tx: archetype_ops.add_archetype(tx, name, files, owners, threshold)
    )
    _done(fmt, f"Created archetype {name}", result.commit, {"archetype": name})


def _archetypes(repo: Path) -> list[dict[str, Any]]:
    tree = _session(repo).snapshot()
    rows = []
    for name in tree.listdir("registry/archetypes"):
        state = load_log(tree, scope("archetype", name)).state
        versions = tree.listdir(f"registry/versions/{name}")
        rows.append(
            {
                "name": name,
                "owners": list(state.owners),
                "versions": versions,
                "forked_from": state.forked_from.model_dump() if state.forked_from else None,
            }
        )
    return rows


@archetype.command("list")
@common
def archetype_list(repo: Path, fmt: str) -> None:
    """List archetypes with their owners and versions."""
    rows = _archetypes(repo)
    emit(
        fmt,
        rows,
        lambda: table(
            "archetypes",
            ["name", "owners", "versions"],
            [(r["name"], ", ".join(r["owners"]), ", ".join(r["versions"])) for r in rows],
        ),
    )


@archetype.command("show")
@click.argument("name")
@common
def archetype_show(name: str, repo: Path, fmt: str) -> None:
    """Show one archetype: description, owners, versions."""
    check_name(name, "archetype name")
    tree = _session(repo).snapshot()
    state = load_log(tree, scope("archetype", name)).state
    if state.phase != "active":
        raise NotFoundError(f"no archetype {name!r}", "list them with `gitdocket archetype list`")
    doc = archetype_doc(tree, name)
    versions = {
        v: load_log(tree, scope("version", name, v)).state.phase for v in tree.listdir(f"registry/versions/{name}")
    }
    data = {
        "name": name,
        "title": doc.title,
        "description": doc.description,
        "owners": list(state.owners),
        "threshold": state.threshold,
        "protection": doc.protection.model_dump(),
        "versions": versions,
        "forked_from": state.forked_from.model_dump() if state.forked_from else None,
    }

    def text() -> None:
        click.echo(f"{name}: {doc.title}")
        if doc.description:
            click.echo(f"  {doc.description.strip()}")
        click.echo(f"  owners: {', '.join(state.owners)} (threshold {state.threshold})")
        click.echo(f"  protection: {doc.protection.deployment_mode}")
        for v, phase in versions.items():
            click.echo(f"  {v}: {phase}")

    emit(fmt, data, text)


# -- versions ----------------------------------------------------------------------------------


@click.group()
def version() -> None:
    """Draft, freeze, retire and abandon versions."""


def _version_write(verb: str, op: Any) -> Any:
    @click.argument("archetype_name", metavar="ARCHETYPE")
    @click.argument("number", metavar="VERSION")
    @repo_option
    @keys_option
    @format_option
    def command(archetype_name: str, number: str, repo: Path, keys: tuple[str, ...], fmt: str, **extra: Any) -> None:
        check_name(archetype_name, "archetype name")
        check_version(number)
        result, _ = _session(repo, keys).write(
            f"docket: {verb} {archetype_name} {number}", lambda tx: op(tx, archetype_name, number, **extra)
        )
        _done(
            fmt,
            f"{verb.capitalize()} {archetype_name} {number}",
            result.commit,
            {"archetype": archetype_name, "version": number, "tags": list(result.tags)},
        )

    return command


_reason = click.option("--reason", required=True, help="Why (recorded in the signed event).")
version.command("draft", help="Open or revise the draft ARCHETYPE VERSION from its committed method/.")(
    _version_write("drafted", lambda tx, a, v: version_ops.draft(tx, a, v))
)
version.command(
    "freeze",
    help="Freeze ARCHETYPE VERSION: snapshot its method, checked for "
    "completeness, signed and tagged <archetype>/v<version>.",
)(_version_write("froze", version_ops.freeze))
version.command("retire", help="Retire ARCHETYPE VERSION: no new packages; existing ones keep working.")(
    _reason(_version_write("retired", version_ops.retire))
)
version.command("abandon", help="Abandon the draft ARCHETYPE VERSION (terminal).")(
    _reason(_version_write("abandoned", version_ops.abandon))
)


@version.command("list")
@click.argument("archetype_name", metavar="[ARCHETYPE]", required=False)
@common
def version_list(archetype_name: str | None, repo: Path, fmt: str) -> None:
    """List versions (of one archetype, or all) with their phase."""
    names = [check_name(archetype_name)] if archetype_name else None
    rows = [
        {
            "archetype": a,
            "version": v,
            "phase": state.phase,
            "content_hash": state.snapshot.content_hash if state.snapshot else None,
        }
        for a, v, state in _versioned(repo, "version", names)
    ]
    emit(
        fmt,
        rows,
        lambda: table(
            "versions",
            ["archetype", "version", "phase", "content"],
            [(r["archetype"], r["version"], r["phase"], r["content_hash"]) for r in rows],
        ),
    )


def _versioned(repo: Path, kind: str, names: list[str] | None) -> list[tuple[str, str, Any]]:
    """(archetype, version, folded state) of every ``kind`` scope (version or package), in
    archetype then semver order."""
    tree = _session(repo).snapshot()
    root = f"registry/{kind}s"
    return [
        (name, number, load_log(tree, scope(kind, name, number)).state)
        for name in (names if names is not None else tree.listdir(root))
        for number in sorted(tree.listdir(f"{root}/{name}"), key=version_ops.semver_key)
    ]


def _show_current(kind: str, archetype_name: str, number: str, repo: Path, fmt: str) -> None:
    target = scope(kind, archetype_name, number)
    data = read_json(_session(repo).snapshot(), target.current_path)
    emit(fmt, data, lambda: click.echo(json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False)))


@version.command("show")
@click.argument("archetype_name", metavar="ARCHETYPE")
@click.argument("number", metavar="VERSION")
@common
def version_show(archetype_name: str, number: str, repo: Path, fmt: str) -> None:
    """Show one version's state and frozen snapshot (current.json)."""
    _show_current("version", archetype_name, number, repo, fmt)


# -- packages ----------------------------------------------------------------------------------


@click.group()
def package() -> None:
    """Publish, withdraw, list and show packages."""


package.command(
    "publish",
    help="Publish frozen ARCHETYPE VERSION as a package (one atomic commit "
    "that also records the reference on the version; tag "
    "packages/<archetype>/v<version>).",
)(_version_write("published", package_ops.publish))
package.command("withdraw", help="Withdraw the package ARCHETYPE VERSION: blocks future installs, keeps history.")(
    _reason(_version_write("withdrew", package_ops.withdraw))
)


@package.command("list")
@common
def package_list(repo: Path, fmt: str) -> None:
    """List packages with their phase."""
    rows = [
        {
            "archetype": a,
            "version": v,
            "phase": state.phase,
            "publisher": state.manifest.publisher if state.manifest else None,
        }
        for a, v, state in _versioned(repo, "package", None)
    ]
    emit(
        fmt,
        rows,
        lambda: table(
            "packages",
            ["archetype", "version", "phase", "publisher"],
            [(r["archetype"], r["version"], r["phase"], r["publisher"]) for r in rows],
        ),
    )


@package.command("show")
@click.argument("archetype_name", metavar="ARCHETYPE")
@click.argument("number", metavar="VERSION")
@common
def package_show(archetype_name: str, number: str, repo: Path, fmt: str) -> None:
    """Show a package manifest (its current.json)."""
    _show_current("package", archetype_name, number, repo, fmt)
