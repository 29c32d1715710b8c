"""A person's adjustments to a plan: a profile file (YAML) and --set options, read into layers.

A layer holds only what it changes, each value with the place it was written, so that the
effective session can say where every value came from. Layers are applied in order: plan, then
profile, then command line; see customize.py.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from voiceguide.common.errors import PlanError
from voiceguide.plans.plan import Progression
from voiceguide.plans.progressions import read_progressions
from voiceguide.plans.settings import CIRCUIT_SETTINGS, EXERCISE_SETTINGS, SCALES, SESSION_SETTINGS
from voiceguide.plans.yamlsource import Field, Reader

PROFILE_SETTINGS = tuple(SESSION_SETTINGS)
"""What a profile's `settings:` and `--set NAME=VALUE` may give (see settings.py)."""
ONE_SETTINGS = {**EXERCISE_SETTINGS, **CIRCUIT_SETTINGS}
"""What one exercise or one circuit may be given; the plan says which a name is (customize.py)."""
EXERCISE_KEYS = (*ONE_SETTINGS, "progression")
"""What a profile may give one exercise (or circuit), and `--set "EXERCISE.NAME=VALUE"` all but a
progression."""
PROFILE_FIELDS = ("name", "language", "notes", "settings", "exercises")


@dataclass(frozen=True, slots=True)
class Located:
    """A value and where it was written ("older.yaml:5:3", "--set 'rate=120'")."""

    value: object
    where: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ExerciseOverrides:
    name: str
    """As written; matched to the plan's exercises without regard to case."""
    where: str
    values: Mapping[str, Located] = field(default_factory=dict)
    progressions: tuple[tuple[str, Progression], ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Layer:
    origin: str
    """What `--explain` names as the source: "profile older.yaml", "--set rate=120"."""
    name: str | None = None
    """The profile's name for the person, if it gives one."""
    settings: Mapping[str, Located] = field(default_factory=dict)
    exercises: tuple[ExerciseOverrides, ...] = ()


def load_profile(path: Path, *, display_name: str | None = None) -> Layer:
    """Read and validate the profile at *path*; raise PlanError listing every problem."""
    reader, root = Reader.open(path, display_name=display_name, subject="the profile")
    fields = root.mapping(optional=PROFILE_FIELDS) or {}
    name = fields["name"].text(max_length=100) if "name" in fields else None
    if "notes" in fields:
        fields["notes"].text(max_length=4000)
    settings = _settings(fields["settings"]) if "settings" in fields else {}
    if "language" in fields:  # (the person's language, at the top like a plan's; or in settings)
        if "language" in settings:
            fields["language"].problem(
                "the language is given twice, here and in settings; keep one"
            )
        settings["language"] = Located(
            SESSION_SETTINGS["language"].kind.read(fields["language"]), fields["language"].where
        )
    exercises: list[ExerciseOverrides] = []
    if "exercises" in fields:
        for key_field, value_field in _named_entries(fields["exercises"]):
            overrides = _exercise_overrides(key_field, value_field)
            if overrides is not None:
                exercises.append(overrides)
    reader.raise_if_problems()
    return Layer(
        origin=f"profile {reader.display_name}",
        name=name,
        settings=settings,
        exercises=tuple(exercises),
    )


def parse_set(option: str) -> Layer:
    """One `--set PATH=VALUE`: a session setting (`rate=120`) or an exercise's (`Toe presses.reps=5`)."""
    display = f"--set {option!r}"
    path, equals, text = option.partition("=")
    path = path.strip()
    if not equals or not path or not text.strip():
        raise PlanError(
            [f'{display}: expected PATH=VALUE, such as rate=120 or "Toe presses.reps=5"']
        )
    reader = Reader(display, positions=False, subject="the --set option")
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except (yaml.YAMLError, RecursionError, ValueError, OverflowError):
        node = None
    if node is None:
        raise PlanError(
            [f"{display}: the value {text!r} is not a valid YAML value"], subject="the --set option"
        )
    origin = f"--set {option}"
    setting = path.removeprefix("settings.")
    if setting in PROFILE_SETTINGS:
        read = _setting(setting, Field(reader, node, setting))
        reader.raise_if_problems()
        return Layer(origin=origin, settings={setting: Located(read, display)})
    exercise, dot, key = path.rpartition(".")
    if dot and key == "progression":
        raise PlanError(
            [f"{display}: a progression is set in a plan or a profile, not with --set"],
            subject="the --set option",
        )
    if not dot and path in EXERCISE_KEYS:
        raise PlanError(
            [
                f'{display}: {path!r} belongs to one exercise: write it as "EXERCISE.{path}=VALUE", '
                f'such as "Toe presses.{path}={text}"'
                + (f" (or {path}_scale for every {path})" if f"{path}_scale" in SCALES else "")
            ],
            subject="the --set option",
        )
    if not dot or key not in EXERCISE_KEYS:
        known = [
            name
            for name in (*PROFILE_SETTINGS, *EXERCISE_KEYS)
            if name not in (key, path, "progression")
        ]
        close = difflib.get_close_matches(key or path, known, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise PlanError(
            [
                f"{display}: {path!r} is neither a setting ({', '.join(PROFILE_SETTINGS)}) nor EXERCISE.FIELD "
                f"with a field of {', '.join(EXERCISE_SETTINGS)}, nor CIRCUIT.FIELD with a field of "
                f"{', '.join(CIRCUIT_SETTINGS)}{hint}"
            ],
            subject="the --set option",
        )
    read = _exercise_value(key, Field(reader, node, path))
    reader.raise_if_problems()
    overrides = ExerciseOverrides(
        name=exercise.strip(), where=display, values={key: Located(read, display)}
    )
    return Layer(origin=origin, exercises=(overrides,))


def _settings(settings_field: Field) -> dict[str, Located]:
    fields = settings_field.mapping(optional=PROFILE_SETTINGS) or {}
    return {key: Located(_setting(key, value), value.where) for key, value in fields.items()}


def _setting(key: str, value: Field) -> object:
    return SESSION_SETTINGS[key].kind.read(value)


def _named_entries(exercises: Field) -> list[tuple[Field, Field]]:
    """`exercises:` in a profile maps exercise names to their overrides."""
    if not isinstance(exercises.node, yaml.MappingNode):
        exercises.expected(
            "a mapping of exercise names to the fields to change, like `Toe presses: {reps: 5}`"
        )
        return []
    fields = exercises.mapping(optional=exercises.mapping_keys()) or {}
    return [(exercises.key_field(key), value) for key, value in fields.items()]


def _exercise_overrides(key_field: Field, value_field: Field) -> ExerciseOverrides | None:
    name = key_field.text(max_length=100)
    fields = value_field.mapping(optional=EXERCISE_KEYS)
    if name is None or fields is None:
        return None
    values = {
        key: Located(_exercise_value(key, value), value.where)
        for key, value in fields.items()
        if key != "progression"
    }
    progressions = read_progressions(fields["progression"]) if "progression" in fields else ()
    return ExerciseOverrides(
        name=name, where=key_field.where, values=values, progressions=progressions or ()
    )


def _exercise_value(key: str, value: Field) -> object:
    return ONE_SETTINGS[key].kind.read(value)
