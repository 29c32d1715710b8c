"""Safe YAML reading that remembers where every value came from.

The plan and profile loaders walk PyYAML's node tree (composed with the safe loader) instead of
plain dicts, so that every problem can name its file, line, column and field path. Problems are
collected, not raised one at a time: `validate` shows them all at once.
"""

from __future__ import annotations

import contextlib
import difflib
import math
import os
import unicodedata
from collections.abc import Iterable
from pathlib import Path

import yaml
from yaml.constructor import SafeConstructor

from voiceguide.common.clock import duration, parse_duration_ms
from voiceguide.common.errors import PlanError, path_text

MAX_FILE_BYTES = 1_000_000
# Aliases let a small file expand into a huge tree (the "billion laughs"); no real plan comes close.
MAX_NODES = 50_000
MAX_PATH_CHARACTERS = 4096
"""The longest path a file system takes (PATH_MAX on Linux)."""

_STR = "tag:yaml.org,2002:str"
_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_BOOL = "tag:yaml.org,2002:bool"
_NULL = "tag:yaml.org,2002:null"
_TIMESTAMP = "tag:yaml.org,2002:timestamp"
_PLAIN_TAGS = {
    _STR,
    _INT,
    _FLOAT,
    _BOOL,
    _NULL,
    _TIMESTAMP,
    "tag:yaml.org,2002:map",
    "tag:yaml.org,2002:seq",
}


class Reader:
    """Reads one YAML file and collects the problems found while walking it."""

    def __init__(
        self,
        display_name: str,
        *,
        positions: bool = True,
        subject: str = "the plan",
        folder: Path | None = None,
    ) -> None:
        self.display_name = path_text(display_name)
        self.subject = subject
        self.folder = folder
        """The folder of the file read, where the files it names by a relative path are; None for
        text that is not a file (a --set option): the current directory."""
        self.positions = positions
        """False for text that is not a file (a --set option): problems name it without line:column."""
        self._problems: list[tuple[int, int, str]] = []
        self._nodes_seen = 0
        self._constructor = SafeConstructor()

    @classmethod
    def open(
        cls, path: Path, *, display_name: str | None = None, subject: str = "the plan"
    ) -> tuple[Reader, Field]:
        """Read *path* and return the reader and its root field, or raise PlanError."""
        reader = cls(display_name or os.fsdecode(path), subject=subject, folder=path.parent)
        try:
            with path.open("rb") as file:
                raw = file.read(
                    MAX_FILE_BYTES + 1
                )  # (a device such as /dev/zero has no size to check)
            if len(raw) > MAX_FILE_BYTES:
                raise reader.fatal(
                    f"the file is over {MAX_FILE_BYTES:,} bytes; plans are at most {MAX_FILE_BYTES:,} bytes. "
                    "Check that this is the plan you meant."
                )
        except OSError as error:
            raise reader.fatal(f"cannot read the file: {error.strerror or error}") from None
        return reader, reader.parse(raw)

    def parse(self, raw: bytes) -> Field:
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            line = raw[: error.start].count(b"\n") + 1
            raise self.fatal(
                f"byte {error.start} (line {line}) is not UTF-8 text. Save the file as UTF-8 in your editor."
            ) from None
        if "\x00" in text:
            raise self.fatal("the file contains NUL bytes; it looks binary, not a YAML plan.")
        try:
            node = yaml.compose(text, Loader=yaml.SafeLoader)
        except yaml.MarkedYAMLError as error:
            mark = error.problem_mark or error.context_mark
            where = (
                f"{self.display_name}:{mark.line + 1}:{mark.column + 1}"
                if mark
                else self.display_name
            )
            what = " ".join(p for p in (error.problem, error.context and f"({error.context})") if p)
            raise PlanError([f"{where}: YAML syntax error: {what}"], subject=self.subject) from None
        except yaml.reader.ReaderError as error:
            character = (
                error.character if isinstance(error.character, str) else chr(error.character)
            )
            line = text[: error.position].count("\n") + 1
            column = error.position - (text.rfind("\n", 0, error.position) + 1) + 1
            raise PlanError(
                [
                    f"{self.display_name}:{line}:{column}: the character {character!r} cannot be in YAML; remove it"
                ],
                subject=self.subject,
            ) from None
        except yaml.YAMLError as error:
            raise self.fatal(f"YAML error: {' '.join(str(error).split())}") from None
        except RecursionError:
            raise self.fatal("the YAML is nested too deeply to be a plan.") from None
        except (
            ValueError,
            OverflowError,
        ) as error:  # an escape such as "\U00110000" outside Unicode
            raise self.fatal(
                f"the YAML holds a character that does not exist ({error}); remove it"
            ) from None
        if node is None:
            raise self.fatal("the file is empty; a plan needs at least a title and exercises.")
        return Field(self, node, "")

    def fatal(self, message: str) -> PlanError:
        return PlanError([f"{self.display_name}: {message}"], subject=self.subject)

    @property
    def problems(self) -> list[str]:
        """Every problem found so far, in the order they appear in the file."""
        return [message for _, _, message in sorted(self._problems, key=lambda p: (p[0], p[1]))]

    def add_problem(self, mark: yaml.Mark, message: str) -> None:
        self._problems.append((mark.line, mark.column, message))

    def raise_if_problems(self) -> None:
        if self._problems:
            raise PlanError(self.problems, subject=self.subject)

    def count_node(self) -> bool:
        self._nodes_seen += 1
        return self._nodes_seen <= MAX_NODES

    def construct_scalar(self, node: yaml.ScalarNode) -> object:
        return self._constructor.construct_object(node, deep=True)


class Field:
    """One value in the YAML tree, with its location and its path from the root."""

    def __init__(self, reader: Reader, node: yaml.Node, path: str) -> None:
        self.reader = reader
        self.node = node
        self.path = path

    @property
    def where(self) -> str:
        mark = self.node.start_mark
        if not self.reader.positions:
            return self.reader.display_name
        return f"{self.reader.display_name}:{mark.line + 1}:{mark.column + 1}"

    def problem(self, message: str) -> None:
        label = f"{self.path}: " if self.path else ""
        self.reader.add_problem(self.node.start_mark, f"{self.where}: {label}{message}")

    def expected(self, what: str) -> None:
        self.problem(f"expected {what}, found {self.describe()}")

    def describe(self) -> str:
        node = self.node
        if isinstance(node, yaml.MappingNode):
            return "a mapping (key: value pairs)"
        if isinstance(node, yaml.SequenceNode):
            return "a list"
        if node.tag == _NULL:
            return "nothing (an empty value)"
        text = node.value if len(node.value) <= 40 else node.value[:37] + "..."
        kinds = {_INT: "the number", _FLOAT: "the number", _BOOL: "the yes/no value"}
        return f"{kinds.get(node.tag, 'the text')} {text!r}"

    def _child(self, node: yaml.Node, path: str) -> Field | None:
        if not self.reader.count_node():
            if self.reader._nodes_seen == MAX_NODES + 1:
                self.problem(f"the document expands to more than {MAX_NODES:,} values (aliases?)")
            return None
        return Field(self.reader, node, path)

    def _allowed_tag(self) -> bool:
        """Plain YAML only: an explicit tag such as !!python/object is refused, never constructed."""
        if self.node.tag in _PLAIN_TAGS:
            return True
        self.problem(f"the YAML tag {self.node.tag!r} is not allowed in a plan; remove it")
        return False

    # -- containers ---------------------------------------------------------------------------

    def mapping(
        self, *, required: Iterable[str] = (), optional: Iterable[str] = ()
    ) -> dict[str, Field] | None:
        """The mapping's fields by key; unknown, duplicate and missing keys are problems."""
        if not isinstance(self.node, yaml.MappingNode):
            self.expected("a mapping of fields")
            return None
        if not self._allowed_tag():
            return None
        required = list(required)
        allowed = required + list(optional)
        fields: dict[str, Field] = {}
        for key_node, value_node in self.node.value:
            key_field = Field(self.reader, key_node, self.path)
            if not isinstance(key_node, yaml.ScalarNode):
                key_field.problem("a field name must be plain text")
                continue
            key = str(key_node.value)
            shown = printable(key)
            path = f"{self.path}.{shown}" if self.path else shown
            if key == "<<" and key not in allowed:
                # Merges copy whole mappings, out of reach of the node count that stops alias bombs.
                Field(self.reader, key_node, path).problem(
                    "merge keys (<<) are not supported in a plan; write the fields out"
                )
                continue
            if key not in allowed:
                Field(self.reader, key_node, path).problem(unknown_key_message(key, allowed))
                continue
            if key in fields:
                Field(self.reader, key_node, path).problem(
                    f"the field appears twice (first at line {fields[key].node.start_mark.line + 1}); keep one"
                )
                continue
            child = self._child(value_node, path)
            if child is None:
                return None
            fields[key] = child
        for key in required:
            if key not in fields:
                self.problem(f"missing required field {key!r}")
        return fields

    @property
    def is_mapping(self) -> bool:
        return isinstance(self.node, yaml.MappingNode)

    def mapping_keys(self) -> list[str]:
        """The plain-text keys of a mapping, without validating anything; [] if not a mapping."""
        if not isinstance(self.node, yaml.MappingNode):
            return []
        return [key.value for key, _ in self.node.value if isinstance(key, yaml.ScalarNode)]

    def key_field(self, key: str) -> Field:
        """The key itself as a field (where a key is also a value, as in `- Inhale: 4`)."""
        node = next(
            k for k, _ in self.node.value if isinstance(k, yaml.ScalarNode) and k.value == key
        )
        shown = printable(key)
        return Field(self.reader, node, f"{self.path}.{shown}" if self.path else shown)

    def sequence(self, *, min_items: int = 0) -> list[Field] | None:
        if not isinstance(self.node, yaml.SequenceNode):
            self.expected("a list")
            return None
        if not self._allowed_tag():
            return None
        items = []
        for index, node in enumerate(self.node.value):
            child = self._child(node, f"{self.path}[{index}]")
            if child is None:
                return None
            items.append(child)
        if len(items) < min_items:
            self.problem(f"expected a list of at least {min_items} item(s), found {len(items)}")
            return None
        return items

    # -- scalars ------------------------------------------------------------------------------

    def _scalar(self) -> object:
        if not self._allowed_tag():
            return _SILENT_PROBLEM
        if not isinstance(self.node, yaml.ScalarNode):
            return _NOT_SCALAR
        if self.node.tag == _TIMESTAMP:
            return self.node.value  # a date in a text field is just text
        try:
            return self.reader.construct_scalar(self.node)
        except (
            ValueError,
            KeyError,
            OverflowError,
            yaml.YAMLError,
        ):  # 0x_, a 5000-digit number, !!bool maybe
            self.problem(
                f"the value {printable(str(self.node.value))[:40]!r} cannot be read; write a plain number or text"
            )
            return _SILENT_PROBLEM

    def text(self, *, max_length: int = 2000) -> str | None:
        value = self._scalar()
        if value is _SILENT_PROBLEM:
            return None
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            self.expected("text")
            return None
        raw = " ".join(str(value).split())
        text = speakable(raw)
        if not text:
            self.expected(
                "some text"
                if not raw
                else "words that can be spoken (not only symbols or control characters)"
            )
            return None
        if len(text) > max_length:
            self.problem(
                f"the text is {len(text)} characters long; at most {max_length} are allowed"
            )
            return None
        return text

    def file_path(self) -> Path | None:
        """A file's path as written (every character kept), a relative one taken from the folder of
        the file it is written in (the current directory for a --set option); `~` is the home."""
        value = self._scalar()
        if value is _SILENT_PROBLEM:
            return None
        if not isinstance(value, str) or not value.strip():
            self.expected("the path of a file")
            return None
        if "\x00" in value or len(value) > MAX_PATH_CHARACTERS:
            self.problem(
                "this cannot be the path of a file (too long, or with a NUL character); name the file"
            )
            return None
        path = Path(value).expanduser()
        return (
            path if path.is_absolute() or self.reader.folder is None else self.reader.folder / path
        )

    def text_list(self) -> tuple[str, ...] | None:
        """A list of texts; a single text is taken as a list of one."""
        if isinstance(self.node, yaml.ScalarNode):
            single = self.text()
            return None if single is None else (single,)
        items = self.sequence()
        if items is None:
            return None
        texts = [item.text() for item in items]
        return None if any(t is None for t in texts) else tuple(t for t in texts if t is not None)

    def integer(self, *, minimum: int, maximum: int) -> int | None:
        value = self._scalar()
        if value is _SILENT_PROBLEM:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            self.expected(f"a whole number from {minimum} to {maximum}")
            return None
        if not minimum <= value <= maximum:
            self.problem(f"expected a whole number from {minimum} to {maximum}, found {value}")
            return None
        return value

    def number(self, *, minimum: float, maximum: float) -> float | None:
        value = self._scalar()
        if value is _SILENT_PROBLEM:
            return None
        if (
            isinstance(value, bool)
            or not isinstance(value, (int, float))
            or not math.isfinite(value)
        ):
            self.expected(f"a number from {minimum:g} to {maximum:g}")
            return None
        if not minimum <= value <= maximum:
            self.problem(f"expected a number from {minimum:g} to {maximum:g}, found {value:g}")
            return None
        return float(value)

    def boolean(self) -> bool | None:
        value = self._scalar()
        if value is _SILENT_PROBLEM:
            return None
        if not isinstance(value, bool):
            self.expected("true or false")
            return None
        return value

    def seconds(self, *, minimum_ms: int = 0, maximum_ms: int = 3_600_000) -> int | None:
        """A duration in whole milliseconds: 5, 2.5, "90s", "1m30s", "1:30", "2 min"."""
        value = self._scalar()
        if value is _SILENT_PROBLEM:
            return None
        hint = 'a duration in seconds (like 5, 2.5, "90s", "1m30s" or "1:30")'
        ms: int | None = None
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            with contextlib.suppress(OverflowError):  # (an int too large for a float)
                scaled = float(value) * 1000
                if math.isfinite(scaled):  # (a float so large that its milliseconds are not)
                    ms = round(scaled)
        elif isinstance(value, str):
            ms = parse_duration_ms(value)
        if ms is None:
            self.expected(hint)
            return None
        if not minimum_ms <= ms <= maximum_ms:
            self.problem(
                f"expected a duration from {duration(minimum_ms)} to {duration(maximum_ms)}, found {duration(ms)}"
            )
            return None
        return ms

    def choice(self, options: Iterable[str]) -> str | None:
        options = list(options)
        value = self._scalar()
        if value is _SILENT_PROBLEM:
            return None
        if not isinstance(value, str) or value not in options:
            shown = ", ".join(options)
            found = self.describe()
            suggestion = ""
            if isinstance(value, str):
                close = difflib.get_close_matches(value, options, n=1)
                suggestion = f"; did you mean {close[0]!r}?" if close else ""
            self.problem(f"expected one of: {shown}; found {found}{suggestion}")
            return None
        return value


_NOT_SCALAR = object()
_SILENT_PROBLEM = object()  # already reported (a refused tag): say nothing more about it


_UNSPOKEN = {"Cc", "Co", "Cs", "Cn", "So"}
_INVISIBLE = "Cf"
"""Format characters (soft hyphens, zero-width spaces) join what they sit in: dropped, not spaced."""
"""Control and format characters, private and unassigned code points, and symbols such as emoji:
the speech engine would read emoji out by name ("grinning face") and stumble on the rest."""


def speakable(text: str) -> str:
    """*text* without the characters nobody wants spoken, its white space folded."""
    kept = "".join(
        ""
        if unicodedata.category(c) == _INVISIBLE
        else " "
        if unicodedata.category(c) in _UNSPOKEN
        else c
        for c in unicodedata.normalize("NFC", text)
    )
    return " ".join(kept.split())


def printable(text: str) -> str:
    """*text* with control characters escaped, safe to show on a terminal."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def unknown_key_message(key: str, allowed: list[str]) -> str:
    close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
    hint = f"did you mean {close[0]!r}? " if close else ""
    return f"unknown field {printable(key)!r}; {hint}known fields: {', '.join(sorted(allowed))}"
