"""Reading human-edited files safely: YAML through ruamel (round-trip), JSON strictly, and
folders from disk without following symlinks or swallowing huge files.

Every error names the file and says what to fix; nothing here raises a bare parser exception.
"""

from __future__ import annotations

import io
import os
import stat
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from gitdocket.errors import InputError

__all__ = ["MAX_FILE_BYTES", "dump_yaml", "load_yaml", "read_folder"]

MAX_FILE_BYTES = 1024 * 1024
MAX_FOLDER_FILES = 2000
MAX_YAML_VALUES = 100_000
"""Values a YAML document may expand to: aliases can make a small file huge ("billion laughs")."""


def _yaml(typ: str = "rt") -> YAML:
    yaml = YAML(typ=typ)
    yaml.allow_duplicate_keys = False
    return yaml


def load_yaml(data: bytes, where: str) -> Any:
    """Parse YAML (duplicate keys refused) into plain Python data. The safe loader: the result
    is plain data anyway, and it is twice as fast as round-trip (verify reads every document)."""
    try:
        doc = _yaml("safe").load(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise InputError(f"{where}: not UTF-8", "save the file as UTF-8") from exc
    except YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f" line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise InputError(f"{where}:{line}: invalid YAML: {problem}", "fix the YAML syntax") from exc
    except RecursionError as exc:
        raise InputError(f"{where}: YAML nested too deeply", "flatten the document") from exc
    budget = [MAX_YAML_VALUES]
    return _plain(doc, budget, where)


def _plain(value: Any, budget: list[int], where: str) -> Any:
    budget[0] -= 1
    if budget[0] < 0:
        raise InputError(
            f"{where}: expands to more than {MAX_YAML_VALUES} values (aliases?)",
            "write the document out without anchors and aliases",
        )
    if isinstance(value, dict):
        return {str(k): _plain(v, budget, where) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v, budget, where) for v in value]
    return value


def dump_yaml(data: Any) -> bytes:
    out = io.StringIO()
    yaml = _yaml()
    yaml.default_flow_style = False
    yaml.dump(data, out)
    return out.getvalue().encode("utf-8")


def read_folder(root: Path) -> dict[str, bytes]:
    """Every regular file below ``root`` as {posix relative path: bytes}. Refuses symlinks,
    devices, files over ``MAX_FILE_BYTES`` and more than ``MAX_FOLDER_FILES`` files."""
    if root.is_symlink() or not root.is_dir():
        raise InputError(f"{root}: not a folder", "pass the folder that holds the archetype")
    out: dict[str, bytes] = {}
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames.sort()
        for name in [*dirnames, *sorted(filenames)]:
            path = Path(dirpath) / name
            rel = path.relative_to(root).as_posix()
            mode = path.lstat().st_mode
            if stat.S_ISLNK(mode):
                raise InputError(
                    f"{path}: is a symlink", "replace it with a regular file; symlinks could escape the folder"
                )
            if stat.S_ISDIR(mode):
                continue
            if not stat.S_ISREG(mode):
                raise InputError(f"{path}: not a regular file", "remove it")
            if path.stat().st_size > MAX_FILE_BYTES:
                raise InputError(
                    f"{path}: larger than {MAX_FILE_BYTES // 1024} KiB", "keep large assets out of the method folder"
                )
            out[rel] = path.read_bytes()
            if len(out) > MAX_FOLDER_FILES:
                raise InputError(f"{root}: more than {MAX_FOLDER_FILES} files", "trim the folder")
    return out
