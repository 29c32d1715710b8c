"""The folders the page works in, and the names a person types: a plan, a profile, a session file.

A name is a file name in its folder and nothing else: no separators, no leading dot, no `..`, only
ordinary characters, and what it resolves to is checked to be inside the folder (a link pointing
out of it is refused too).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from voiceguide.common.errors import InputError

YAML_SUFFIXES = (".yaml", ".yml")
NAME_MAX = 80
"""Characters in a profile's or plan's name: a file name, not a sentence."""
_NAME = re.compile(r"[^\W_][\w .()+-]*", re.UNICODE)
"""Letters, digits, spaces and a few signs; starting with a letter or digit (never a dot)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Folders:
    plans: tuple[Path, ...]
    """Where plans are listed from, in order (the first that has a name wins)."""
    uploads: Path | None
    """Where an uploaded plan is saved; None when the page only reads the shipped plans."""
    profiles: Path
    output: Path
    """Where sessions are written."""


def checked_name(name: object, *, what: str) -> str:
    """*name* (without its .yaml) as the name of a file in a folder, or InputError saying why not."""
    if not isinstance(name, str) or not name.strip():
        raise InputError(f"give the {what} a name")
    name = name.strip()
    for suffix in YAML_SUFFIXES:
        name = name.removesuffix(suffix)
    if len(name) > NAME_MAX:
        raise InputError(f"the {what}'s name is {len(name)} characters long; at most {NAME_MAX}")
    if not _NAME.fullmatch(name) or ".." in name:
        raise InputError(
            f"the {what}'s name {name[:NAME_MAX]!r} is not a plain file name: use letters, digits, "
            "spaces and - _ . ( ) +, starting with a letter or digit (no / or \\)"
        )
    return name


def inside(folder: Path, name: str, suffix: str = ".yaml") -> Path:
    """The file *name* + *suffix* in *folder*, refused (InputError) if it would resolve outside it."""
    path = folder / f"{name}{suffix}"
    root = folder.resolve()
    if path.resolve().parent != root:
        raise InputError(f"{name!r} is not a file in {folder}")
    return path


def yaml_files(folder: Path) -> dict[str, Path]:
    """The .yaml files of *folder* by name (without suffix), those with plain names only."""
    if not folder.is_dir():
        return {}
    found: dict[str, Path] = {}
    for path in sorted(folder.iterdir()):
        if path.suffix in YAML_SUFFIXES and path.is_file() and _NAME.fullmatch(path.stem):
            found.setdefault(path.stem, path)
    return found


def plan_files(folders: Folders) -> dict[str, Path]:
    found: dict[str, Path] = {}
    for folder in folders.plans:
        for name, path in yaml_files(folder).items():
            found.setdefault(name, path)
    return found


def plan_path(folders: Folders, name: object) -> Path:
    checked = checked_name(name, what="plan")
    found = plan_files(folders).get(checked)
    if found is None:
        raise InputError(f"there is no plan {checked!r}; choose one of the list")
    return found


def profile_path(folders: Folders, name: object) -> Path:
    """The profile file *name* in the profiles folder (an existing .yml keeps its suffix); one that
    is a link to a file elsewhere is refused, as it would be read and written through."""
    checked = checked_name(name, what="profile")
    existing = yaml_files(folders.profiles).get(checked)
    return inside(folders.profiles, checked, existing.suffix if existing else ".yaml")
