"""The form's values checked by the same code as the command line's: the profile as it would be
written is read by `load_profile` and applied by `customize`, and each problem they report is put
beside the field whose line it names. The timed script is then laid out by `preview`, which
measures speech without rendering audio.
"""

from __future__ import annotations

import re
import tempfile
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap

from voiceguide.build.session import Preview, RenderSettings, preview
from voiceguide.common.clock import clock, length
from voiceguide.common.errors import PlanError, VoiceguideError
from voiceguide.plans.customize import Customized, customize
from voiceguide.plans.loader import load_plan
from voiceguide.plans.plan import Plan
from voiceguide.plans.profile import Layer, load_profile
from voiceguide.script import report
from voiceguide.web.document import Document
from voiceguide.web.form import FormField

_LOCATED = re.compile(r"^(?P<file>.+?):(?P<line>\d+):(?P<column>\d+): (?P<rest>.*)$", re.DOTALL)
_ROOTS = ("settings", "exercises", "name", "notes", "language", "progression")


@dataclass
class Checked:
    """The form's values as the command line would take them."""

    customized: Customized | None
    errors: dict[str, list[str]] = field(default_factory=dict)
    """Messages by the id of the field they concern."""
    general: list[str] = field(default_factory=list)
    """Messages that concern no one field."""

    @property
    def ok(self) -> bool:
        return self.customized is not None and not self.errors and not self.general


def read_plan(path: Path) -> Plan:
    """The plan at *path*, named by its file name in messages; PlanError as the command line's."""
    return load_plan(path, display_name=path.name)


def check(
    *,
    plan: Plan,
    document: Document,
    fields: dict[str, FormField],
    file_name: str,
    week: int | None,
) -> Checked:
    """Read the profile *document* would write (as *file_name*) and apply it to *plan*."""
    text = document.text()
    lines = _field_lines(text, fields)
    layers: list[Layer] = []
    with tempfile.TemporaryDirectory(prefix="voiceguide-serve-") as folder:
        path = Path(folder) / "profile.yaml"
        path.write_text(text or "{}\n", encoding="utf-8")
        try:
            layers.append(load_profile(path, display_name=file_name))
        except PlanError as error:
            return _placed(error.problems, lines, file_name)
    try:
        customized = customize(plan=plan, layers=layers, week=week)
    except PlanError as error:
        return _placed(error.problems, lines, file_name)
    return Checked(customized=customized)


def _placed(problems: list[str], lines: dict[int, str], file_name: str) -> Checked:
    checked = Checked(customized=None)
    for problem in problems:
        found = _LOCATED.match(problem)
        field_id = lines.get(int(found["line"])) if found and found["file"] == file_name else None
        if found is None or field_id is None:
            checked.general.append(problem)
            continue
        checked.errors.setdefault(field_id, []).append(_without_path(found["rest"]))
    return checked


def _without_path(message: str) -> str:
    """ "settings.rate: expected ..." as "expected ..." (the field is beside it)."""
    head, separator, tail = message.partition(": ")
    if separator and head.split(".")[0] in _ROOTS:
        return tail
    return message


def _field_lines(text: str, fields: dict[str, FormField]) -> dict[int, str]:
    """The 1-based lines of *text* (a profile) that each field's key and value are on."""
    try:
        root = YAML(typ="rt").load(text) if text else None
    except Exception:  # (text this module wrote itself; the profile reader says what is wrong)
        return {}
    lines: dict[int, str] = {}
    if not isinstance(root, CommentedMap):
        return lines
    for field_id, form_field in fields.items():
        node: Any = root
        path = form_field.path
        if path == ("settings", "language") and "language" in root:
            path = ("language",)
        for key in path[:-1]:
            match = _key(node, key)
            node = node[match] if match is not None else None
        last = _key(node, path[-1])
        if last is None:
            continue
        for line, _ in (node.lc.key(last), node.lc.value(last)):
            lines[line + 1] = field_id
    return lines


def _key(node: Any, key: str) -> str | None:
    if not isinstance(node, CommentedMap):
        return None
    if key in node:
        return key
    return next((k for k in node if isinstance(k, str) and k.casefold() == key.casefold()), None)


@dataclass(frozen=True, slots=True, kw_only=True)
class Previewed:
    """What the page shows of a customized plan: the timed script and its length, measured."""

    table: str
    effective: str
    total_ms: int
    total: str
    overruns: tuple[str, ...]
    speaker: str


class Previewer:
    """Previews one at a time (the speech engine lives in this process), the last few kept; and
    the voices installed, which the engines are asked for once."""

    KEPT = 32

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._kept: OrderedDict[tuple[Any, ...], Previewed] = OrderedDict()
        self._voices: tuple[str, ...] | None = None

    def voices(self) -> tuple[str, ...]:
        """The ids of the voices installed, for the voice field's suggestions."""
        with self._lock:
            if self._voices is None:
                from voiceguide.sound.speech import every_voice

                try:
                    found, _ = every_voice()
                except VoiceguideError:
                    found = []
                self._voices = tuple(sorted({voice.id for _, voice in found}))
            return self._voices

    def __call__(self, customized: Customized, *, key: tuple[Any, ...]) -> Previewed:
        """Raise VoiceguideError where the session cannot be made (too long, an unknown voice)."""
        with self._lock:
            if key in self._kept:
                self._kept.move_to_end(key)
                return self._kept[key]
            found: Preview = preview(plan=customized.plan, settings=RenderSettings())
            timeline = found.timeline
            shown = Previewed(
                table=report.table(timeline),
                effective=report.effective_values(customized.explanation, explain=True),
                total_ms=timeline.total_ms,
                total=f"{clock(timeline.total_ms)} ({length(timeline.total_ms)})",
                overruns=tuple(
                    report.overrun_message(overrun, customized.plan.source_name)
                    for overrun in timeline.overruns
                ),
                speaker=f"{found.engine}" + (f", voice {found.voice}" if found.voice else ""),
            )
            self._kept[key] = shown
            while len(self._kept) > self.KEPT:
                self._kept.popitem(last=False)
            return shown


__all__ = ["Checked", "Previewed", "Previewer", "VoiceguideError", "check", "read_plan"]
