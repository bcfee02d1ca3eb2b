"""Limits on every input, in one place (``docs/limits.md`` is its page): how big, how deep and
how many; the one canonical form of every name gitdocket accepts; and how text a person wrote
is printed.

**Bounds.** Every parser and archive reader takes its numbers from here: a file, a document's
size, nesting depth and value count, a folder's file count and total size, an archive's member
count, each member's size and the total of all members.

**Names.** Archetypes, projects, placements, environments and bundle labels are ``NAME_RE``
(lowercase ASCII, digits, dashes) and never a device name Windows reserves (``con``, ``nul``,
``com1``…). Versions are semver with a lowercase pre-release, so no two differ only in case.
Principals are ``PRINCIPAL_RE`` and unique regardless of case. Files in a method are Unicode,
one canonical form: NFC; no control, format (zero-width, bidi) or separator characters, no space
but the plain one; none of
``<>:"\\|?*``; no component ending in a dot or a space, none a reserved device name, none longer
than 255 bytes; every component in one script (letters of Latin, Greek, Cyrillic… never mixed,
except the combinations Japanese, Chinese and Korean writing use); and no two paths of a folder
equal once case is folded. Whole-script confusables (an all-Cyrillic name that reads as Latin)
need Unicode's confusables table, which gitdocket does not ship: mixed scripts are refused, single
scripts are not compared.

**Printing.** ``printable`` escapes what a terminal would obey instead of show, and what only
looks like something else: controls (but newline and tab), format characters (bidi overrides,
zero-width), separators and spaces but the plain one, lone surrogates and unassigned code points,
as ``\\u202e``. The CLI's output streams pass everything through it, and an error message is one
line whatever it quotes.

Pure: no I/O; ``unicodedata`` is data.
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Iterable

__all__ = [
    "LFS_POINTER",
    "MAX_ARCHIVE_BYTES",
    "MAX_ARCHIVE_MEMBERS",
    "MAX_COMPONENT_BYTES",
    "MAX_DEPTH",
    "MAX_DOCUMENT_BYTES",
    "MAX_DOCUMENT_VALUES",
    "MAX_EVIDENCE_BYTES",
    "MAX_EVIDENCE_FILES",
    "MAX_EVIDENCE_TOTAL",
    "MAX_EXPORT_BLOB_BYTES",
    "MAX_EXPORT_CHUNK_BYTES",
    "MAX_EXPORT_LINE_BYTES",
    "MAX_FILE_BYTES",
    "MAX_FOLDER_BYTES",
    "MAX_FOLDER_FILES",
    "MAX_KEY_BYTES",
    "MAX_LOG_LINE_BYTES",
    "MAX_MEMBER_BYTES",
    "MAX_PATH_BYTES",
    "MAX_YAML_VALUES",
    "RESERVED_NAMES",
    "casefold_collision",
    "is_lfs_pointer",
    "one_line",
    "path_problem",
    "printable",
    "reserved",
    "script_of",
]

MAX_FILE_BYTES = 1024 * 1024
"""One file of an archetype's method."""
MAX_FOLDER_FILES = 2000
"""Files in one archetype folder (``archetype new --from``) or one frozen method."""
MAX_FOLDER_BYTES = 64 * MAX_FILE_BYTES
"""All files of one archetype folder or frozen method together."""
MAX_KEY_BYTES = 64 * 1024
"""A signing or public key file: an OpenSSH ed25519 key is well under 1 KiB."""
MAX_DOCUMENT_BYTES = 64 << 20
"""A YAML or JSON document gitdocket parses (a bundle manifest of 200,000 files fits)."""
MAX_DOCUMENT_VALUES = 1_000_000
"""Values (scalars, lists, mappings) one JSON document may hold once parsed."""
MAX_YAML_VALUES = 100_000
"""Values a YAML document may expand to: aliases can make a small file huge ("billion laughs")."""
MAX_EVIDENCE_BYTES = 64 << 20
"""One evidence file of a bundle."""
MAX_EVIDENCE_FILES = 1000
"""Files in one evidence folder."""
MAX_EVIDENCE_TOTAL = 256 << 20
"""All files of one evidence folder together (they are read into memory)."""
MAX_DEPTH = 64
"""Nesting of lists and mappings in a document, and folders in a path."""
MAX_LOG_LINE_BYTES = 8 << 20
"""One history line (a freeze of 2,000 files is well below)."""
MAX_MEMBER_BYTES = 4 << 30
"""One member of a bundle archive."""
MAX_ARCHIVE_MEMBERS = 200_000
"""Members of a bundle archive."""
MAX_ARCHIVE_BYTES = 16 << 30
"""All members of a bundle archive together: a gzip stream inflating beyond is refused."""
MAX_EXPORT_LINE_BYTES = MAX_DOCUMENT_BYTES
"""One record (line) of a registry export (``registry_export_v1``): a commit's changes and
the events it appended, or one chunk of a blob."""
MAX_EXPORT_CHUNK_BYTES = 1 << 20
"""The bytes of a blob one export record carries (base64 makes a line a third longer); a larger
blob continues in ``blob_part`` records."""
MAX_EXPORT_BLOB_BYTES = MAX_MEMBER_BYTES
"""One blob of a registry export, all its chunks together (it is assembled in memory)."""
MAX_COMPONENT_BYTES = 255
"""One file or folder name (what every common file system allows)."""
MAX_PATH_BYTES = 1024
"""A whole relative path."""

RESERVED_NAMES = frozenset(
    {"con", "prn", "aux", "nul", "conin$", "conout$"}
    | {f"com{i}" for i in "123456789¹²³"}
    | {f"lpt{i}" for i in "123456789¹²³"}
)
"""Device names Windows reserves, with any extension (``con.txt`` too), in any case."""
_FORBIDDEN = frozenset('<>:"\\|?*/')
_ESCAPED_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"})
_KEPT = frozenset("\n\t")
_ALLOWED_MIXES = (
    frozenset({"LATIN", "HAN", "HIRAGANA", "KATAKANA"}),
    frozenset({"LATIN", "HAN", "BOPOMOFO"}),
    frozenset({"LATIN", "HAN", "HANGUL"}),
)
"""Scripts one name may mix (UTS #39, highly restrictive): Japanese, Chinese and Korean."""
LFS_POINTER = b"version https://git-lfs.github.com/spec/v1\n"
"""How a Git LFS pointer file begins: a pointer to content stored elsewhere."""


def reserved(name: str) -> bool:
    """``name`` is a device name Windows reserves (the part before its first dot, any case)."""
    return name.split(".", 1)[0].rstrip(" ").casefold() in RESERVED_NAMES


def script_of(char: str) -> str | None:
    """The script of a letter (``LATIN``, ``CYRILLIC``, ``HAN``…), None for anything else (digits,
    punctuation, marks: common to every script). Read from the character's Unicode name."""
    if not unicodedata.category(char).startswith("L"):
        return None
    name = unicodedata.name(char, "")
    if name.startswith("CJK "):
        return "HAN"
    return name.split(" ", 1)[0] or None


def _mixed(component: str) -> str | None:
    scripts = {s for s in map(script_of, component) if s is not None}
    if len(scripts) <= 1 or any(scripts <= allowed for allowed in _ALLOWED_MIXES):
        return None
    return ", ".join(sorted(scripts))


@functools.lru_cache(maxsize=65536)
def _component_problem(component: str) -> str | None:
    """Why one path component is not a portable name, or None. Cached: a registry repeats the
    same few components (``method``, ``history.jsonl``) in every folder, and verify asks of each
    file."""
    if component in ("", ".", ".."):
        return "an empty, '.' or '..' part"
    if unicodedata.normalize("NFC", component) != component:
        return "not in Unicode normal form C (NFC)"
    odd = next((c for c in component if unicodedata.category(c) in _ESCAPED_CATEGORIES), None)
    if odd is not None:
        return f"the invisible or control character U+{ord(odd):04X}"
    space = next((c for c in component if unicodedata.category(c) == "Zs" and c != " "), None)
    if space is not None:
        return f"the space character U+{ord(space):04X}, which reads as a plain space"
    bad = next((c for c in component if c in _FORBIDDEN), None)
    if bad is not None:
        return f"the character {bad!r}, which Windows does not allow in a name"
    if component[-1] in ". " or component[0] == " ":
        return "a name that begins with a space or ends with a dot or a space"
    if reserved(component):
        return "a device name Windows reserves"
    if len(component.encode("utf-8")) > MAX_COMPONENT_BYTES:
        return f"a name longer than {MAX_COMPONENT_BYTES} bytes"
    mixed = _mixed(component)
    return f"letters of several scripts ({mixed})" if mixed is not None else None


def path_problem(path: str) -> str | None:
    """Why the relative POSIX ``path`` is not a canonical, portable, unambiguous name, or None."""
    if len(path.encode("utf-8", "surrogatepass")) > MAX_PATH_BYTES:
        return f"longer than {MAX_PATH_BYTES} bytes"
    parts = path.split("/")
    if len(parts) > MAX_DEPTH:
        return f"deeper than {MAX_DEPTH} folders"
    for part in parts:
        problem = _component_problem(part)
        if problem is not None:
            return f"{problem} in {part!r}" if len(parts) > 1 else problem
    return None


def casefold_collision(paths: Iterable[str]) -> tuple[str, str] | None:
    """Two of ``paths`` that name the same file on a case-insensitive file system (or whose
    folders do), or None."""
    seen: dict[str, str] = {}
    for path in sorted(paths):
        parts = path.split("/")
        for depth in range(1, len(parts) + 1):
            prefix = "/".join(parts[:depth])
            folded = unicodedata.normalize("NFC", prefix).casefold()
            other = seen.setdefault(folded, prefix)
            if other != prefix:
                return other, prefix
    return None


def is_lfs_pointer(data: bytes) -> bool:
    """``data`` is a Git LFS pointer file: a pointer to content stored elsewhere."""
    return data.startswith(LFS_POINTER)


def printable(text: str) -> str:
    """``text`` with what a terminal would obey instead of show escaped (``\\u202e``), and what
    only looks like something else: every character ``str.isprintable`` calls unprintable
    (controls, format characters, separators and spaces but the plain one, surrogates,
    unassigned code points), except newline and tab."""
    if text.isascii() and text.isprintable():
        return text
    return "".join(c if c in _KEPT or c.isprintable() else _escape(c) for c in text)


_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
"""How ``one_line`` shows the controls a message meets most: as they are written in code."""


def one_line(text: str) -> str:
    """``printable(text)`` with newline, carriage return and tab escaped too: what an ``error:`` or
    ``hint:`` line shows, whatever it quotes (a file may be named by a tab)."""
    if text.isascii() and text.isprintable():
        return text
    return "".join(c if c.isprintable() else _NAMED.get(c) or _escape(c) for c in text)


def _escape(char: str) -> str:
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"
