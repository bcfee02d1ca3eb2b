"""The seal of published contracts: ``contracts/contracts.seal.json`` records the digest of each
published schema's *normative* form (annotations dropped, ``$ref``s inlined), so a change that
alters what validates is caught while a reworded description is not; a breaking change needs a
new contract version. Pure."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gitdocket.core.canonical import canonical, loads_strict, render, sha256_hex
from gitdocket.core.fields import DIGEST_RE
from gitdocket.errors import StateError
from gitdocket.verify.contracts import ANNOTATIONS, CONTRACT_ID_RE, SEAL_PATH, Problem, path_contract, schema_path

__all__ = [
    "SEAL_ALGORITHM",
    "normative",
    "parse_seal",
    "render_seal",
    "seal_digest",
    "seal_problems",
    "sealed_with",
]


SEAL_ALGORITHM = "sha256-rfc8785-normative"


_DEFS = "#/$defs/"


_NAME_MAPS = frozenset({"properties", "patternProperties", "definitions", "dependentSchemas"})


_SCHEMA_LISTS = frozenset({"allOf", "anyOf", "oneOf", "prefixItems"})


_SUBSCHEMAS = frozenset(
    {
        "items",
        "additionalProperties",
        "not",
        "if",
        "then",
        "else",
        "contains",
        "propertyNames",
        "unevaluatedItems",
        "unevaluatedProperties",
    }
)


def normative(schema: Any) -> Any:
    """What ``schema`` validates, independent of wording and of model class names: annotation
    keywords removed and every local ``$ref`` to ``$defs`` inlined (``$defs`` dropped), so that
    renaming a nested model or rewording a docstring keeps the seal. Schema-aware: a *property*
    named ``title`` or ``description`` is kept. A recursive reference stays a ``$ref``."""
    defs = schema.get("$defs", {}) if isinstance(schema, dict) else {}
    return _normative(schema, defs, ())


def _normative(node: Any, defs: Mapping[str, Any], stack: tuple[str, ...]) -> Any:
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref")
    name = ref.removeprefix(_DEFS) if isinstance(ref, str) and ref.startswith(_DEFS) else None
    if name is not None and name in defs and name not in stack:
        inlined = _normative(defs[name], defs, (*stack, name))
        rest = _normative({k: v for k, v in node.items() if k != "$ref"}, defs, stack)
        return {**rest, "allOf": [inlined, *rest.get("allOf", [])]} if rest else inlined
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in ANNOTATIONS or key == "$defs":
            continue
        if key in _NAME_MAPS and isinstance(value, dict):
            out[key] = {prop: _normative(sub, defs, stack) for prop, sub in value.items()}
        elif key in _SCHEMA_LISTS and isinstance(value, list):
            out[key] = [_normative(sub, defs, stack) for sub in value]
        elif key in _SUBSCHEMAS:
            out[key] = _normative(value, defs, stack)
        else:
            out[key] = value
    return out


def seal_digest(data: bytes, where: str) -> str:
    """``sha256:`` of the normative schema in ``data`` (what the seal pins)."""
    return "sha256:" + sha256_hex(canonical(normative(loads_strict(data, where))))


def parse_seal(data: bytes | None) -> dict[str, str]:
    """{contract id: digest} from the seal file's bytes (None: no seal yet)."""
    if data is None:
        return {}
    doc = loads_strict(data, SEAL_PATH)
    entries = doc.get("contracts") if isinstance(doc, dict) else None
    valid = (
        isinstance(doc, dict)
        and doc.get("algorithm") == SEAL_ALGORITHM
        and isinstance(entries, dict)
        and all(
            CONTRACT_ID_RE.fullmatch(k) and isinstance(v, str) and DIGEST_RE.fullmatch(v) for k, v in entries.items()
        )
    )
    if not valid:
        raise StateError(
            f"{SEAL_PATH}: not a seal file ({{algorithm: {SEAL_ALGORITHM}, contracts: {{id: sha256:…}}}}}})",
            "restore it from git history",
        )
    return dict(entries)  # type: ignore[arg-type]  # checked above


def render_seal(entries: Mapping[str, str]) -> bytes:
    return render({"algorithm": SEAL_ALGORITHM, "contracts": dict(sorted(entries.items()))})


def _digests(committed: Mapping[str, bytes]) -> dict[str, str]:
    return {c: seal_digest(data, path) for path, data in committed.items() if (c := path_contract(path)) is not None}


def seal_problems(seal: Mapping[str, str], committed: Mapping[str, bytes]) -> list[Problem]:
    """Every sealed contract whose committed schema changed or vanished, and every committed
    schema not sealed yet."""
    digests = _digests(committed)
    problems: list[Problem] = []
    for contract, digest in sorted(seal.items()):
        path = schema_path(contract)
        if contract not in digests:
            problems.append(
                Problem(
                    path,
                    f"sealed contract {contract} is missing",
                    "published contracts are never removed: restore the file from git",
                )
            )
        elif digests[contract] != digest:
            problems.append(
                Problem(path, f"sealed contract {contract} changed what it validates", _breaking_hint(contract))
            )
    problems += [
        Problem(
            schema_path(c),
            f"contract {c} is not sealed",
            "run `gitdocket contracts seal` to publish it, and commit the seal",
        )
        for c in sorted(set(digests) - set(seal))
    ]
    return sorted(problems)


def _breaking_hint(contract: str) -> str:
    match = CONTRACT_ID_RE.fullmatch(contract)
    assert match is not None
    successor = f"{match[1]}_v{int(match[2]) + 1}"
    return (
        f"a sealed contract never changes: revert the model change, or publish it as "
        f"{successor} (see docs/contracts.md 'Adding a new version'); wording-only changes "
        "(title, description) need just `gitdocket contracts generate`"
    )


def sealed_with(seal: Mapping[str, str], committed: Mapping[str, bytes]) -> tuple[dict[str, str], list[str]]:
    """The seal plus every unsealed committed contract, and the ids added. Never rewrites an
    entry: a changed sealed contract is refused."""
    changed = [p for p in seal_problems(seal, committed) if "not sealed" not in p.message]
    if changed:
        raise StateError(f"{changed[0].line()} ({len(changed)} sealed contract(s) changed or missing)", changed[0].hint)
    digests = _digests(committed)
    added = sorted(set(digests) - set(seal))
    return {**seal, **{c: digests[c] for c in added}}, added
