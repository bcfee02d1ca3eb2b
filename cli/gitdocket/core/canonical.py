"""Canonical bytes for signing and hashing, and strict JSON parsing.

``canonical`` is RFC 8785 (JCS) through the ``rfc8785`` package, with a fast path through the
standard library's C encoder for the values where both give the same bytes (``_plain``: no
floats, integers within ±2^53-1, ASCII keys; verify canonicalizes every event it parses, to check
its line, so the rfc8785 path alone was a third of its time). ``render`` is the human-facing
deterministic form of state files: sorted keys, two-space indent, trailing newline.
``loads_strict`` refuses duplicate keys, non-finite numbers (also ``1e400``, which overflows to
infinity), integers outside I-JSON's exact range and lone surrogates, which the standard library
silently accepts: whatever it returns can be canonicalized. It is bounded too (``core.limits``):
the document's bytes, its nesting depth and its number of values.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from json.encoder import encode_basestring as _quote  # what json.dumps(ensure_ascii=False) uses
from typing import Any

import rfc8785

from gitdocket.core.limits import MAX_DEPTH, MAX_DOCUMENT_BYTES, MAX_DOCUMENT_VALUES
from gitdocket.errors import InputError

__all__ = ["canonical", "loads_strict", "plain_canonical", "render", "sha256_hex"]

SAFE_INT = 2**53 - 1
"""RFC 8785 (I-JSON) represents integers exactly only up to this magnitude."""


_COMPACT = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
_C_ENCODER: Any = getattr(json.encoder, "c_make_encoder", None)  # None without the _json C module
_ENCODE = None if _C_ENCODER is None else _C_ENCODER(None, None, _quote, None, ":", ",", True, False, False)
"""``_COMPACT``'s C encoder, made once instead of per call and without its cycle check (a value
``_plain`` accepts holds no cycle: it gives up on one): a seventh less per event parsed."""


_PLAIN_NODES = 1_000_000
"""Values ``_plain`` looks at before it gives up (a cyclic value would never end)."""


def _plain(obj: Any) -> bool:
    """True when the standard library's compact, key-sorted JSON of ``obj`` (non-ASCII kept) is
    its RFC 8785 form byte for byte. That holds for exactly these types, not subclasses (which
    may sort or print differently):

    - ``dict`` whose keys are ASCII ``str``: JCS sorts keys by UTF-16 code units, Python by code
      points, the same order for ASCII;
    - ``list`` and ``tuple``; ``bool`` and ``None``;
    - ``int`` within ±(2^53-1): both print the decimal digits;
    - ``str``: both escape the quote, the backslash and the controls b, f, n, r, t in their short
      form, every other control as a lower-case ``u00xx`` escape, and nothing else.

    Floats (ECMAScript number formatting), bigger integers and anything else take the
    ``rfc8785`` path, which also raises for what has no canonical form. Iterative, and bounded by
    ``_PLAIN_NODES``, so hostile nesting or a cycle only sends the value down that path."""
    stack = [obj]
    pop, push = stack.pop, stack.extend
    budget = _PLAIN_NODES
    while stack:
        budget -= 1
        if budget < 0:
            return False
        value = pop()
        kind = type(value)
        if kind is str or kind is bool or value is None:
            continue
        if kind is int:
            if -SAFE_INT <= value <= SAFE_INT:
                continue
            return False
        if kind is dict:
            for key in value:
                if type(key) is not str or not key.isascii():
                    return False
            push(value.values())
        elif kind is list or kind is tuple:
            push(value)
        else:
            return False
    return True


def plain_canonical(obj: Any) -> bytes | None:
    """``canonical(obj)`` when ``obj`` is plain JSON data (``_plain``) that the standard
    library's encoder writes; None for anything else (floats, big integers, other types, a lone
    surrogate), which only ``canonical`` judges."""
    if type(obj) is str:
        # A string alone (a payload's scope path, a signature's principal and armor: three per
        # event verified) is its quoted form, as the encoder below writes it (see ``_plain``).
        try:
            return _quote(obj).encode("utf-8")
        except UnicodeEncodeError:
            return None
    if _plain(obj):
        try:
            text = _COMPACT.encode(obj) if _ENCODE is None else "".join(_ENCODE(obj, 0))
            return text.encode("utf-8")
        except (UnicodeEncodeError, RecursionError):
            return None  # a lone surrogate, or nesting too deep: rfc8785 says what is wrong
    return None


def canonical(obj: Any) -> bytes:
    """RFC 8785 canonical JSON bytes of ``obj``; ``InputError`` when ``obj`` has none."""
    fast = plain_canonical(obj)
    if fast is not None:
        return fast
    try:
        return bytes(rfc8785.dumps(obj))
    except rfc8785.CanonicalizationError as exc:
        raise InputError(
            f"value has no canonical JSON form: {exc}", "use finite numbers, integers within ±2^53-1 and valid Unicode"
        ) from exc


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def render(obj: Any) -> bytes:
    """Deterministic pretty JSON: sorted keys, fixed separators, UTF-8, trailing newline."""
    out: list[str] = []
    try:
        _pretty(obj, "\n", out)
    except (_UnusualValueError, RecursionError):
        text = json.dumps(obj, sort_keys=True, indent=2, separators=(",", ": "), ensure_ascii=False)
        return (text + "\n").encode("utf-8")
    out.append("\n")
    return "".join(out).encode("utf-8")


class _UnusualValueError(Exception):
    """A value ``_pretty`` leaves to ``json.dumps``."""


def _pretty(value: Any, indent: str, out: list[str]) -> None:
    """Append what ``json.dumps(value, sort_keys=True, indent=2, separators=(",", ": "),
    ensure_ascii=False)`` writes, for exactly ``dict`` with ``str`` keys, ``list``, ``tuple``,
    ``str``, ``int``, ``bool`` and ``None``; raise ``_UnusualValueError`` on anything else (floats,
    subclasses, other keys), which ``render`` leaves to ``json.dumps`` itself. Indented output
    makes ``json`` use its pure-Python generator encoder; this is the same walk without the
    generators, 2.5 times faster (verify renders every ``current.json``)."""
    kind = type(value)
    if kind is str:
        out.append(_quote(value))
    elif value is None:
        out.append("null")
    elif kind is bool:
        out.append("true" if value else "false")
    elif kind is int:
        out.append(int.__repr__(value))
    elif kind is dict:
        _pretty_items(value, indent, out)
    elif kind is list or kind is tuple:
        if not value:
            out.append("[]")
            return
        inner = indent + "  "
        lead = "[" + inner
        for item in value:
            out.append(lead)
            _pretty(item, inner, out)
            lead = "," + inner
        out.append(indent + "]")
    else:
        raise _UnusualValueError


def _pretty_items(value: dict[Any, Any], indent: str, out: list[str]) -> None:
    if not value:
        out.append("{}")
        return
    inner = indent + "  "
    lead = "{" + inner
    try:
        keys = sorted(value)
    except TypeError as exc:  # keys of mixed types: json.dumps refuses them its own way
        raise _UnusualValueError from exc
    for key in keys:
        if type(key) is not str:
            raise _UnusualValueError
        out.append(lead)
        out.append(_quote(key))
        out.append(": ")
        _pretty(value[key], inner, out)
        lead = "," + inner
    out.append(indent + "}")


_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
"""A ``\\uD800``..``\\uDFFF`` escape (or text that merely looks like one: then the full check runs)."""


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"duplicate key {key!r}")
        out[key] = value
    return out


def _no_constant(name: str) -> Any:
    raise ValueError(f"non-finite number {name} is not JSON")


def _finite_float(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise ValueError(f"number {text} is too large (not finite)")
    return value


def _safe_int(text: str) -> int:
    value = int(text)
    if abs(value) > SAFE_INT:
        raise ValueError(f"integer {text} is outside ±2^53-1 (RFC 8785)")
    return value


def _bounded(value: Any, where: str) -> None:
    """Refuse a parsed document nested deeper than ``MAX_DEPTH`` or holding more than
    ``MAX_DOCUMENT_VALUES`` values (iterative: the walk itself never recurses)."""
    stack = [(value, 0)]
    count = 0
    while stack:
        item, depth = stack.pop()
        count += 1
        if depth > MAX_DEPTH or count > MAX_DOCUMENT_VALUES:
            what = f"nested more than {MAX_DEPTH} levels" if depth > MAX_DEPTH else f"over {MAX_DOCUMENT_VALUES} values"
            raise InputError(f"{where}: JSON {what}", "flatten the document")
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)


def loads_strict(data: bytes | str, where: str) -> Any:
    """Parse JSON, refusing duplicate keys, NaN/Infinity and invalid UTF-8, and anything beyond
    the bounds of ``core.limits``. ``where`` names the file in the error."""
    if len(data) > MAX_DOCUMENT_BYTES:
        raise InputError(f"{where}: larger than {MAX_DOCUMENT_BYTES >> 20} MiB", "keep the document small")
    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
        value = json.loads(
            text,
            object_pairs_hook=_no_duplicates,
            parse_constant=_no_constant,
            parse_float=_finite_float,
            parse_int=_safe_int,
        )
        if isinstance(data, str) or _SURROGATE_ESCAPE.search(text):
            # A \ud800 escape decodes to a lone surrogate, which has no UTF-8 form. Decoded UTF-8
            # holds no surrogate, so only such an escape can bring one in.
            json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"{where}: not UTF-8 ({exc.reason})", "save the file as UTF-8") from exc
    except UnicodeEncodeError as exc:
        code = ord(exc.object[exc.start])
        raise InputError(
            f"{where}: invalid JSON: lone surrogate \\u{code:04x}",
            "escape characters outside the BMP as surrogate pairs",
        ) from exc
    except ValueError as exc:
        raise InputError(f"{where}: invalid JSON: {exc}", "fix the JSON syntax") from exc
    except RecursionError as exc:  # hostile nesting: the stdlib parser recurses per level
        raise InputError(f"{where}: JSON nested too deeply", "flatten the document") from exc
    _bounded(value, where)
    return value
