"""A profile file as the form changes it: read and written with ruamel.yaml's round trip, so that
a profile edited by hand keeps its comments, key order and layout where the form leaves it alone,
and each value the form changes is written as YAML that the command line reads back the same.

Only what the form changed is touched: a field whose text is what the file already says is left
exactly as written.
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError as RuamelError
from ruamel.yaml.scalarstring import DoubleQuotedScalarString, LiteralScalarString

from voiceguide.common.errors import InputError
from voiceguide.plans.yamlsource import MAX_FILE_BYTES
from voiceguide.web.form import FormField, Widget

MAX_FIELD_CHARS = 4000
"""What one field may hold (the longest text a setting takes)."""


def _yaml() -> YAML:
    handler = YAML(typ="rt")
    handler.preserve_quotes = True
    handler.width = 100
    handler.indent(mapping=2, sequence=4, offset=2)
    return handler


@dataclass
class Document:
    """A profile file's content, changed in memory until saved."""

    root: CommentedMap

    @classmethod
    def read(cls, path: Path) -> Document:
        """The profile at *path*, or a new empty one where there is none; InputError where the file
        is no profile the form can change (the command line says what is wrong with it)."""
        if not path.exists():
            return cls(CommentedMap())
        try:
            raw = path.read_bytes()[: MAX_FILE_BYTES + 1]
        except OSError as error:
            raise InputError(f"cannot read {path.name}: {error.strerror or error}") from None
        return cls.parse(raw, name=path.name)

    @classmethod
    def parse(cls, raw: bytes, *, name: str) -> Document:
        if len(raw) > MAX_FILE_BYTES:
            raise InputError(f"{name} is over {MAX_FILE_BYTES:,} bytes: it is not a profile")
        try:
            root = _yaml().load(raw.decode("utf-8-sig"))
        except (RuamelError, UnicodeDecodeError, ValueError, RecursionError) as error:
            raise InputError(
                f"{name} cannot be read as YAML ({' '.join(str(error).split())[:300]}); "
                "correct it in a text editor, or choose another profile"
            ) from None
        if root is None:
            root = CommentedMap()
        if not isinstance(root, CommentedMap):
            raise InputError(
                f"{name} is not a profile (a mapping of name, settings, exercises); "
                "correct it in a text editor, or choose another profile"
            )
        return cls(root)

    def text(self) -> str:
        out = io.StringIO()
        _yaml().dump(self.root, out)
        text = out.getvalue()
        return "" if text.strip() == "{}" else text

    # -- reading the form's fields out of the file ---------------------------------------------

    def _container(self, path: tuple[str, ...], *, create: bool) -> tuple[Any, str] | None:
        """The mapping that holds *path*'s last key (made where *create*), and that key as the
        file spells it (an exercise named in another case is the same exercise)."""
        node: Any = self.root
        if path == ("settings", "language") and "language" in self.root:
            return self.root, "language"  # (a profile may give the language at its top)
        for key in path[:-1]:
            if not isinstance(node, CommentedMap):
                return None
            found = _key_in(node, key)
            if found is None:
                if not create:
                    return None
                node[key] = CommentedMap()
                found = key
            elif not isinstance(node[found], CommentedMap):
                if not create or node[found] is not None:
                    return None
                node[found] = CommentedMap()
            node = node[found]
        if not isinstance(node, CommentedMap):
            return None
        last = path[-1]
        return node, _key_in(node, last) or last

    def shown(self, field: FormField) -> str:
        """The field's value as the form shows it: the text in the file ("" where there is none)."""
        found = self._container(field.path, create=False)
        if found is None or found[1] not in found[0]:
            return ""
        return shown(found[0][found[1]])

    def values(self, fields: Mapping[str, FormField]) -> dict[str, str]:
        return {field_id: self.shown(field) for field_id, field in fields.items()}

    # -- changing them ---------------------------------------------------------------------------

    def change(self, field: FormField, text: str) -> None:
        """The field's value as typed, where it differs from what the file says; an empty one
        removes it (and the mappings it leaves empty)."""
        text = text.replace("\r\n", "\n")
        if len(text) > MAX_FIELD_CHARS:
            raise InputError(f"{field.label}: at most {MAX_FIELD_CHARS} characters")
        if text.strip() == self.shown(field).strip():
            return
        if not text.strip():
            self._remove(field.path)
            return
        found = self._container(field.path, create=True)
        if found is None:
            raise InputError(
                f"{field.label}: the profile holds something else where this value goes "
                f"({'.'.join(field.path[:-1])}); correct it in a text editor"
            )
        container, key = found
        container[key] = typed(text, field.widget, textual=field.textual)

    def _remove(self, path: tuple[str, ...]) -> None:
        """*path*'s key removed, and each mapping above it that this leaves empty."""
        if path == ("settings", "language") and "language" in self.root:
            path = ("language",)
        chain: list[tuple[CommentedMap, str]] = []
        node: Any = self.root
        for key in path:
            found = _key_in(node, key) if isinstance(node, CommentedMap) else None
            if found is None:
                return
            chain.append((node, found))
            node = node[found]
        container, key = chain.pop()
        del container[key]
        for container, key in reversed(chain):
            if container[key]:
                break
            del container[key]


def _key_in(mapping: CommentedMap, key: str) -> str | None:
    """*key* as *mapping* has it: the same, or (for an exercise's name) in another case."""
    if key in mapping:
        return key
    folded = key.casefold()
    return next((k for k in mapping if isinstance(k, str) and k.casefold() == folded), None)


def shown(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, CommentedSeq | list):
        return ", ".join(shown(item) for item in value)
    if isinstance(value, CommentedMap | dict):
        return ""  # (a mapping where a value goes: the check of the file says what is wrong)
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


_PLAIN = re.compile(r"[^\n]*")


def typed(text: str, widget: Widget, *, textual: bool) -> object:
    """What the form's *text* is written as: lists as lists; a text as text, quoted where YAML
    would read it as something else ("yes", "Wave: now"); a number, duration or yes/no as the
    command line's YAML reads the same text typed into a profile (5 a number, true a yes/no), and
    1:30 as the duration it is."""
    if widget is Widget.LIST or (widget is Widget.TEXT_OR_LIST and "," in text):
        items = [item.strip() for item in text.split(",") if item.strip()]
        sequence = CommentedSeq(_text(item) for item in items)
        sequence.fa.set_flow_style()
        return sequence
    text = text.strip() if widget is not Widget.LONG_TEXT else text.strip("\n")
    if "\n" in text:
        return LiteralScalarString(text + "\n")
    return _text(text) if textual else _scalar(text)


def _text(text: str) -> object:
    """*text* as text: plain where YAML reads it back as this text, else quoted."""
    try:
        value = yaml.safe_load(text)
    except (yaml.YAMLError, ValueError, OverflowError, RecursionError):
        value = None
    return text if value == text and isinstance(value, str) else DoubleQuotedScalarString(text)


def _scalar(text: str) -> object:
    try:
        value = yaml.safe_load(text)
    except (yaml.YAMLError, ValueError, OverflowError, RecursionError):
        value = text
    if isinstance(value, bool | int | float) and _PLAIN.fullmatch(text):
        if isinstance(value, int) and not isinstance(value, bool) and str(value) != text:
            return DoubleQuotedScalarString(text)  # (1:30, 0x1f: kept as typed, read as text)
        return value
    if isinstance(value, str) and value == text:
        return text
    return DoubleQuotedScalarString(text)
