"""GitHub Actions expressions (``${{ … }}``), as much of them as the installed workflows use:
contexts and property access (``github.event.pull_request.base.sha``, ``inputs.x``,
``secrets.X``, ``runner.temp``), string, number and boolean literals, ``==``, ``!=``, ``&&``,
``||``, ``!``, parentheses, and the functions ``always()``, ``success()``, ``failure()``,
``cancelled()`` and ``hashFiles(...)``. Semantics follow GitHub's: ``||`` and ``&&`` return an
operand, a missing property is null, comparison of strings ignores case, null renders as ''.
"""

from __future__ import annotations

import fnmatch
import hashlib
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

TOKEN = re.compile(
    r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<num>-?\d+(?:\.\d+)?)|(?P<op>==|!=|&&|\|\||!|\(|\)|,|\.|\[|\])"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_-]*))"
)
TEMPLATE = re.compile(r"\$\{\{(.*?)\}\}", re.S)


class ExpressionError(Exception):
    """An expression the harness cannot evaluate (a workflow bug or a missing feature)."""


def _tokens(text: str) -> list[tuple[str, str]]:
    out, pos = [], 0
    while pos < len(text.rstrip()):
        match = TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            raise ExpressionError(f"cannot read {text[pos:]!r} in {text!r}")
        kind = match.lastgroup or ""
        out.append((kind, match.group(kind)))
        pos = match.end()
    return out


class _Parser:
    def __init__(self, text: str, contexts: Mapping[str, Any], functions: Mapping[str, Callable[..., Any]]) -> None:
        self.tokens = _tokens(text)
        self.pos = 0
        self.contexts = contexts
        self.functions = functions
        self.text = text

    def peek(self) -> str | None:
        return self.tokens[self.pos][1] if self.pos < len(self.tokens) else None

    def take(self, expected: str | None = None) -> tuple[str, str]:
        if self.pos >= len(self.tokens):
            raise ExpressionError(f"unexpected end of {self.text!r}")
        token = self.tokens[self.pos]
        if expected is not None and token[1] != expected:
            raise ExpressionError(f"expected {expected!r}, found {token[1]!r} in {self.text!r}")
        self.pos += 1
        return token

    def parse(self) -> Any:
        value = self.either()
        if self.pos != len(self.tokens):
            raise ExpressionError(f"trailing {self.tokens[self.pos][1]!r} in {self.text!r}")
        return value

    def either(self) -> Any:
        value = self.both()
        while self.peek() == "||":
            self.take()
            right = self.both()
            value = value if truthy(value) else right
        return value

    def both(self) -> Any:
        value = self.compare()
        while self.peek() == "&&":
            self.take()
            right = self.compare()
            value = right if truthy(value) else value
        return value

    def compare(self) -> Any:
        value = self.unary()
        while self.peek() in ("==", "!="):
            op = self.take()[1]
            right = self.unary()
            same = equal(value, right)
            value = same if op == "==" else not same
        return value

    def unary(self) -> Any:
        if self.peek() == "!":
            self.take()
            return not truthy(self.unary())
        return self.access()

    def access(self) -> Any:
        value = self.atom()
        while self.peek() in (".", "["):
            if self.take()[1] == ".":
                value = _get(value, self.take()[1])
            else:
                key = self.either()
                self.take("]")
                value = _get(value, str(key))
        return value

    def atom(self) -> Any:
        kind, text = self.take()
        if kind == "str":
            return text[1:-1].replace("''", "'")
        if kind == "num":
            return float(text) if "." in text else int(text)
        if text == "(":
            value = self.either()
            self.take(")")
            return value
        if kind != "name":
            raise ExpressionError(f"unexpected {text!r} in {self.text!r}")
        if text in ("true", "false", "null"):
            return {"true": True, "false": False, "null": None}[text]
        if self.peek() == "(":
            return self.call(text)
        if text not in self.contexts:
            raise ExpressionError(f"unknown context {text!r} in {self.text!r}")
        return self.contexts[text]

    def call(self, name: str) -> Any:
        self.take("(")
        args = []
        while self.peek() != ")":
            args.append(self.either())
            if self.peek() == ",":
                self.take()
        self.take(")")
        if name not in self.functions:
            raise ExpressionError(f"the harness has no function {name}()")
        return self.functions[name](*args)


def _get(value: Any, key: str) -> Any:
    if isinstance(value, Mapping):
        return value.get(key, value.get(key.lower()))
    return None


def truthy(value: Any) -> bool:
    return value not in (None, False, 0, "", 0.0)


def equal(left: Any, right: Any) -> bool:
    if isinstance(left, str) and isinstance(right, str):
        return left.lower() == right.lower()
    return bool(left == right)


def render(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def evaluate(text: str, contexts: Mapping[str, Any], functions: Mapping[str, Callable[..., Any]]) -> Any:
    """The value of the expression ``text`` (without ``${{ }}``)."""
    return _Parser(text, contexts, functions).parse()


def substitute(text: str, contexts: Mapping[str, Any], functions: Mapping[str, Callable[..., Any]]) -> str:
    """``text`` with every ``${{ … }}`` replaced by its rendered value."""
    return TEMPLATE.sub(lambda m: render(evaluate(m.group(1), contexts, functions)), text)


def condition(
    text: str | bool | None, contexts: Mapping[str, Any], functions: Mapping[str, Callable[..., Any]]
) -> bool:
    """A step's or job's ``if:`` (bare or wrapped in ``${{ }}``); absent means ``success()``."""
    if text is None:
        text = "success()"
    if isinstance(text, bool):
        return text
    inner = TEMPLATE.fullmatch(text.strip())
    expression = inner.group(1) if inner else text
    if not re.search(r"\b(always|success|failure|cancelled)\(", expression):
        expression = f"success() && ({expression})"
    return truthy(evaluate(expression, contexts, functions))


def hash_files(workspace: Path) -> Callable[..., str]:
    """``hashFiles(pattern, …)``: the sha256 of the matching files' hashes, '' when none match."""

    def run(*given: str) -> str:
        # `**/` matches zero or more folders, as in GitHub's globs
        patterns = [*given, *(p.replace("**/", "") for p in given)]
        found = sorted(
            p
            for p in workspace.rglob("*")
            if p.is_file()
            and ".git" not in p.relative_to(workspace).parts
            and any(fnmatch.fnmatch(p.relative_to(workspace).as_posix(), pat) for pat in patterns)
        )
        if not found:
            return ""
        outer = hashlib.sha256()
        for path in found:
            outer.update(hashlib.sha256(path.read_bytes()).digest())
        return outer.hexdigest()

    return run
