"""Read a plan file and validate it, once, into a frozen `Plan`.

Every problem names the file, line and column, the field path, what was expected and what was found.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import yaml

from voiceguide.common.clock import duration
from voiceguide.language.catalog import language_code
from voiceguide.plans.plan import Circuit, Exercise, GapKind, Plan, Step, StepKind, rep_part
from voiceguide.plans.progressions import read_progressions
from voiceguide.plans.settings import (
    CIRCUIT_SETTINGS,
    EXERCISE_SETTINGS,
    PLAN_EXERCISE_SETTINGS,
    PLAN_SETTINGS,
    SESSION_SETTINGS,
    Scope,
)
from voiceguide.plans.values import Text, Tip, Tips, tip_past_end
from voiceguide.plans.yamlsource import Field, Reader, printable

PLAN_FIELDS = ["title", "exercises"]
MAX_EXERCISES = 500
"""Far more than a session is made of. Memory does not grow with it (the clips are kept on disk while
the session is mixed: see clipstore.py), but the time a build takes, the disk its clips take and the
room they need in the speech cache do, by each exercise's own phrases: at this many, a build takes
minutes, and the phrases of tiny exercises need more room than the speech cache has (see README.md)."""
PLAN_OPTIONAL = [
    "language",
    "description",
    "frequency",
    "equipment",
    "safety",
    "sources",
    "notes",
    "settings",
]
EXERCISE_FIELDS = ["name"]
EXERCISE_OPTIONAL = [*PLAN_EXERCISE_SETTINGS, "phases", "progression", "notes"]
"""An exercise's settings (see settings.py) and the fields that are not settings."""
TIMED_KEYS = ("hold", "work", "phases")
SPECIAL_EXERCISE_KEYS = ("hold", "work", "rest", "reset", "sides")
"""Read each in its own way below: the timed part of a rep, the pause between reps, the sides."""
PLAN_SESSION_SETTINGS = [s for s in PLAN_SETTINGS.values() if s.scope & Scope.SESSION]
CIRCUIT_FIELDS = ["circuit", "exercises"]
CIRCUIT_OPTIONAL = [*CIRCUIT_SETTINGS, "notes"]


def load_plan(path: Path, *, display_name: str | None = None) -> Plan:
    """Read and validate the plan at *path*; raise PlanError listing every problem."""
    reader, root = Reader.open(path, display_name=display_name)
    return plan_from_yaml(reader, root)


def load_plan_text(text: str, *, display_name: str = "<plan>") -> Plan:
    """Validate a plan given as YAML text (for tests and embedding)."""
    reader = Reader(display_name)
    return plan_from_yaml(reader, reader.parse(text.encode("utf-8")))


def plan_from_yaml(reader: Reader, root: Field) -> Plan:
    fields = root.mapping(required=PLAN_FIELDS, optional=PLAN_OPTIONAL)
    if fields is None:
        reader.raise_if_problems()
        raise AssertionError("unreachable: a failed mapping always records a problem")
    language_setting = SESSION_SETTINGS["language"]
    language = (
        language_setting.kind.read(fields["language"])
        if "language" in fields
        else language_setting.default
    )
    texts = _Texts(language if isinstance(language, str) else str(language_setting.default))
    settings = _settings(fields.get("settings"))
    exercises: list[Exercise] = []
    circuits: list[Circuit] = []
    items = fields["exercises"].sequence(min_items=1) if "exercises" in fields else None
    # Profiles and overrides address exercises and circuits by name, so a name must say which one
    # it is: where each name is first used.
    first_use: dict[str, str] = {}

    def named(name: str, item: Field, place: str) -> None:
        folded = name.casefold()
        if folded in first_use:
            item.problem(
                f"the name {name!r} is already used by {first_use[folded]}; "
                "give each exercise and circuit its own name"
            )
        first_use.setdefault(folded, place)

    for index, item in enumerate(items or []):
        if item.is_mapping and "circuit" in item.mapping_keys():
            read = _circuit(item, settings, texts)
            if read is None:
                continue
            circuit, members = read
            named(circuit.name, item, f"exercises[{index}]")
            circuits.append(circuit)
        else:
            exercise = _exercise(item, settings, texts)
            if exercise is None:
                continue
            members = [(exercise, item)]
        for exercise, member in members:
            named(exercise.name, member, member.path)
            exercises.append(exercise)
    if len(exercises) > MAX_EXERCISES:
        fields["exercises"].problem(
            f"a plan has at most {MAX_EXERCISES} exercises, found {len(exercises)}; split it into several plans"
        )

    texts.scope = ""
    title = texts.text(fields["title"], max_length=200) if "title" in fields else None
    plan_texts = {key: _optional_text(fields, key) for key in ("description", "notes")}
    plan_texts["frequency"] = texts.optional(fields, "frequency")
    # (`safety: false`: no safety sentence at all; without one, the language's standard advice)
    unsafe = "safety" in fields and _is_false(fields["safety"])
    plan_texts["safety"] = "" if unsafe else texts.optional(fields, "safety")
    equipment = texts.text_list(fields["equipment"]) if "equipment" in fields else ()
    sources = fields["sources"].text_list() if "sources" in fields else ()
    reader.raise_if_problems()
    # Every None below stands for a problem, and problems were raised just above.
    assert title is not None and equipment is not None and sources is not None
    return Plan(
        title=title,
        description=plan_texts["description"],
        frequency=plan_texts["frequency"],
        equipment=equipment,
        safety=plan_texts["safety"],
        sources=sources,
        notes=plan_texts["notes"],
        **{setting.field: settings[setting.name] for setting in PLAN_SESSION_SETTINGS},
        exercises=tuple(exercises),
        circuits=tuple(circuits),
        source_name=reader.display_name,
        language=texts.language,
        translations=texts.table,
    )


def _optional_text(fields: dict[str, Field], key: str, max_length: int = 4000) -> str | None:
    return fields[key].text(max_length=max_length) if key in fields else None


LANGUAGE_CODE = re.compile(r"[a-z]{2,3}(-[a-z0-9]{2,8})*", re.IGNORECASE)


class _Texts:
    """Reads the texts that are spoken, each given as plain text in the plan's language or as
    `{en: ..., de: ..., cs: ...}`, and keeps the translations."""

    def __init__(self, language: str) -> None:
        self.language = language
        self.table: dict[str, dict[str, dict[str, str]]] = {}
        """Scope ("" for the plan, else an exercise's name) -> text -> language -> its version there."""
        self.scope = ""
        """Where the texts being read belong: one text may be translated differently in two exercises
        ("left" as a leg in one, a foot in another)."""

    def text(self, field: Field, *, max_length: int = 4000) -> str | None:
        if not field.is_mapping:
            return field.text(max_length=max_length)
        versions = self._versions(
            field, "text, or the text per language (like {en: Hold, de: Halten})"
        )
        if versions is None:
            return None
        texts = {code: version.text(max_length=max_length) for code, version in versions.items()}
        if any(text is None for text in texts.values()):
            return None
        default = texts.pop(self.language)
        assert default is not None
        for code, text in texts.items():
            if text is not None:
                self._record(default, code, text, versions[code])
        return default

    def optional(self, fields: dict[str, Field], key: str) -> str | None:
        return self.text(fields[key]) if key in fields else None

    def text_list(self, field: Field) -> tuple[str, ...] | None:
        """A list of texts (a single text is a list of one); per language either item by item, or as
        a list per language (`{en: [left, right], de: [links, rechts]}`)."""
        if field.is_mapping:
            versions = self._versions(field, "a list")
            if versions is None:
                return None
            lists = {code: version.text_list() for code, version in versions.items()}
            default = lists.pop(self.language)
            if default is None or any(texts is None for texts in lists.values()):
                return None
            for code, texts in lists.items():
                assert texts is not None
                if len(texts) != len(default):
                    versions[code].problem(
                        f"{_items(len(texts))} in {code!r} against {len(default)} in {self.language!r}; "
                        "give each item in every language"
                    )
                    return None
                for text, translated in zip(default, texts, strict=True):
                    self._record(text, code, translated, versions[code])
            return default
        if not isinstance(field.node, yaml.SequenceNode):
            single = field.text()
            return None if single is None else (single,)
        items = field.sequence()
        if items is None:
            return None
        read = [self.text(item) for item in items]
        return None if any(t is None for t in read) else tuple(t for t in read if t is not None)

    def _record(self, text: str, code: str, translated: str, field: Field) -> None:
        versions = self.table.setdefault(self.scope, {}).setdefault(text, {})
        if versions.setdefault(code, translated) != translated:
            where = "in this exercise" if self.scope else "in the plan"
            field.problem(
                f"{text!r} already has another {code!r} version {where} ({versions[code]!r}); "
                f"use different texts in {self.language!r} to tell the two apart"
            )

    def _versions(self, field: Field, expected: str) -> dict[str, Field] | None:
        """The versions of a value by language code, with the plan's language among them."""
        keys = field.mapping_keys()
        if not keys or not all(LANGUAGE_CODE.fullmatch(key) for key in keys):
            field.expected(expected)
            return None
        versions: dict[str, Field] = {}
        for key, version in (field.mapping(optional=keys) or {}).items():
            code = language_code(key)
            if code in versions:
                version.problem(f"a second {code!r} version of the same text; keep one")
                return None
            versions[code] = version
        if self.language not in versions:
            field.problem(
                f"there is no {self.language!r} version, and that is the plan's language (found "
                f"{', '.join(sorted(versions))}); add it, or set the plan's `language:`"
            )
            return None
        return versions


def _settings(settings_field: Field | None) -> dict[str, Any]:
    """The plan's `settings` by name, with the defaults of those it does not give: the session's,
    and those of every exercise (as the exercises' defaults). None where a value was a problem.
    Any: each setting's value has its own type, which its kind has checked."""
    settings = {name: setting.default for name, setting in PLAN_SETTINGS.items()}
    if settings_field is not None:
        fields = settings_field.mapping(optional=PLAN_SETTINGS) or {}
        for key, value_field in fields.items():
            settings[key] = PLAN_SETTINGS[key].kind.read(value_field)
    return settings


def _circuit(
    field: Field, settings: dict[str, Any], texts: _Texts
) -> tuple[Circuit, list[tuple[Exercise, Field]]] | None:
    """A circuit: its name, rounds, rest between rounds, and its exercises (none of them a circuit),
    each with the field it was read from."""
    fields = field.mapping(required=CIRCUIT_FIELDS, optional=CIRCUIT_OPTIONAL)
    if fields is None:
        return None
    texts.scope = ""
    name = texts.text(fields["circuit"], max_length=100) if "circuit" in fields else None
    values: dict[str, Any] = {
        key: setting.kind.read(fields[key]) if key in fields else settings[key]
        for key, setting in CIRCUIT_SETTINGS.items()
    }
    if "notes" in fields:
        fields["notes"].text(max_length=4000)
    members: list[tuple[Exercise, Field]] = []
    items = fields["exercises"].sequence(min_items=1) if "exercises" in fields else None
    for item in items or []:
        if item.is_mapping and "circuit" in item.mapping_keys():
            item.key_field("circuit").problem(
                "a circuit cannot be part of another circuit; list its exercises in this one, "
                "or put the circuits one after the other"
            )
            continue
        exercise = _exercise(item, settings, texts)
        if exercise is not None and name is not None:
            members.append((replace(exercise, circuit=name), item))
    if name is None or items is None or any(value is None for value in values.values()):
        return None  # each None is a problem already reported
    circuit = Circuit(
        name=name,
        **{CIRCUIT_SETTINGS[key].field: value for key, value in values.items()},
    )
    return circuit, members


def _exercise(field: Field, settings: dict[str, Any], texts: _Texts) -> Exercise | None:
    fields = field.mapping(required=EXERCISE_FIELDS, optional=EXERCISE_OPTIONAL)
    if fields is None:
        return None
    texts.scope = ""  # (names are unique in a plan, so their translations are the plan's)
    name = texts.text(fields["name"], max_length=100) if "name" in fields else None
    texts.scope = name or ""
    timed = [key for key in TIMED_KEYS if key in fields]
    steps: tuple[Step, ...] | None = None
    if len(timed) == 1:
        steps = _steps(fields[timed[0]], timed[0], texts)
    elif timed or not any(_close_to_timed_key(key) for key in field.mapping_keys()):
        # (a misspelt 'hold' or 'work' is already reported, with its correction)
        found = " and ".join(repr(k) for k in timed) if timed else "none of them"
        field.problem(
            f"give exactly one of 'hold', 'work' or 'phases' (the timed part of a rep); found {found}"
        )
    timed_key = timed[0] if len(timed) == 1 else None

    if "reset" in fields and "rest" in fields:
        fields["rest"].problem(
            "give either 'reset' (a quiet pause) or 'rest' (an announced rest) between reps, not both"
        )
    gap_key = (
        "rest" if "rest" in fields or (timed_key == "work" and "reset" not in fields) else "reset"
    )
    gap_kind = GapKind(gap_key)
    if gap_key in fields:
        gap_ms = _int_or_none(EXERCISE_SETTINGS[gap_key].kind.read(fields[gap_key]))
    elif timed_key == "phases":
        gap_ms = 0  # phases flow from one rep into the next unless the plan asks for a pause
    else:
        gap_ms = settings[gap_key]

    sides: tuple[str, ...] | None = ()
    if "sides" in fields:
        sides = texts.text_list(fields["sides"])
        if sides is not None and len({side.casefold() for side in sides}) != len(sides):
            fields["sides"].problem("each side must have a different name")

    values: dict[str, Any] = {}
    for key, setting in PLAN_EXERCISE_SETTINGS.items():
        if key in SPECIAL_EXERCISE_KEYS:
            continue
        if key not in fields:
            # (an exercise's default for a setting of every exercise is the plan's `settings:`)
            every = PLAN_SETTINGS.get(key) is setting  # (not the session's `instructions`)
            values[setting.field] = settings[key] if every else setting.default
        elif isinstance(setting.kind, Tips):
            values[setting.field] = _tips(fields[key], setting.kind, texts, steps)
        elif isinstance(setting.kind, Text) and setting.kind.translatable:
            values[setting.field] = texts.text(fields[key], max_length=setting.kind.max_length)
        else:
            values[setting.field] = setting.kind.read(fields[key])
    unread = [
        key
        for key, setting in PLAN_EXERCISE_SETTINGS.items()
        if key not in SPECIAL_EXERCISE_KEYS
        and setting.default is not None
        and values[setting.field] is None
    ]
    progressions = read_progressions(fields["progression"]) if "progression" in fields else ()
    if progressions and timed_key is not None:
        for key, _ in progressions:
            if key in TIMED_KEYS and key != timed_key:
                fields["progression"].problem(
                    f"progression of {key!r}, but this exercise is timed with {timed_key!r}"
                )
    if (
        name is None
        or steps is None
        or gap_ms is None
        or sides is None
        or unread
        or progressions is None
    ):
        return None  # each None is a problem already reported
    return Exercise(
        name=name,
        steps=steps,
        gap_ms=gap_ms,
        gap_kind=gap_kind,
        sides=sides,
        progressions=progressions,
        **values,
    )


def _tips(
    field: Field, kind: Tips, texts: _Texts, steps: tuple[Step, ...] | None
) -> tuple[Tip, ...] | None:
    """The exercise's tips, their texts per language, each said before its rep ends."""

    def said_in_time(tip: Tip) -> str | None:
        if steps is None:
            return None  # (the timed part has its own problem)
        length_ms = sum(step.duration_ms for step in steps)
        wrong = tip_past_end(tip, length_ms, rep_part(steps[0].kind))
        return wrong and f"{wrong}; give it an `at` before {duration(length_ms)}"

    return kind.read(
        field, say=lambda say: texts.text(say, max_length=kind.max_length), check=said_in_time
    )


def _items(count: int) -> str:
    return f"{count} item" if count == 1 else f"{count} items"


def _int_or_none(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _close_to_timed_key(key: str) -> bool:
    known = key in EXERCISE_FIELDS or key in EXERCISE_OPTIONAL
    return not known and bool(difflib.get_close_matches(key, TIMED_KEYS, n=1, cutoff=0.6))


def _steps(field: Field, key: str, texts: _Texts) -> tuple[Step, ...] | None:
    if key != "phases":
        duration = _int_or_none(EXERCISE_SETTINGS[key].kind.read(field))
        if duration is None:
            return None
        kind = StepKind.HOLD if key == "hold" else StepKind.WORK
        return (Step(name="Hold" if key == "hold" else "Go", kind=kind, duration_ms=duration),)
    items = field.sequence(min_items=1)
    if items is None:
        return None
    steps = [_phase(item, texts) for item in items]
    if any(step is None for step in steps):
        return None
    return tuple(step for step in steps if step is not None)


def _phase(field: Field, texts: _Texts) -> Step | None:
    """A phase is `{name: Inhale, seconds: 4}` or, for short, `{Inhale: 4}` (the long form can give
    the name per language)."""
    keys = field.mapping_keys()
    if len(keys) == 1 and keys[0] not in ("name", "seconds"):
        fields = field.mapping(optional=keys)
        if not fields:
            return None
        name = field.key_field(keys[0]).text(max_length=100)
        duration = fields[keys[0]].seconds(minimum_ms=500)
        return (
            None
            if name is None or duration is None
            else Step(name=name, kind=StepKind.STEP, duration_ms=duration)
        )
    if len(keys) > 1 and "name" not in keys and "seconds" not in keys:
        field.problem(
            f"a phase is one name and its seconds, like `- Inhale: 4`, one per list item; found {len(keys)} "
            f"names ({', '.join(printable(key) for key in keys)}): put each on its own line starting with '- '"
        )
        return None
    fields = field.mapping(required=["name", "seconds"])
    if fields is None or len(fields) != 2:
        return None
    name = texts.text(fields["name"], max_length=100)
    duration = fields["seconds"].seconds(minimum_ms=500)
    if name is None or duration is None:
        return None
    return Step(name=name, kind=StepKind.STEP, duration_ms=duration)


DEFAULT_PLAN = "feet-for-back-pain.yaml"


def _is_false(field: Field) -> bool:
    """Whether *field* is a plain `false` (or `no`, `off`), as YAML 1.1 reads them."""
    node = field.node
    return (
        isinstance(node, yaml.ScalarNode)
        and node.style is None
        and node.value.casefold() in {"false", "no", "off"}
    )


def shipped_plan_path(name: str = DEFAULT_PLAN) -> Path:
    """A plan shipped with voiceguide (installed as voiceguide.data, or data/ in a source tree)."""
    try:
        from importlib.resources import files

        candidate = Path(str(files("voiceguide.data").joinpath(name)))
        if candidate.is_file():
            return candidate
    except (ModuleNotFoundError, TypeError):
        pass
    return Path(__file__).resolve().parents[2] / "data" / name
