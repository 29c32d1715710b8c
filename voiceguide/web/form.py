"""The profile form, generated from the settings table (plans/settings.py): a field for every
setting a profile can give the session, each circuit and each exercise of the chosen plan, and an
exercise's progression. A setting added to the table appears here without a change to this module.

Each field knows where its value lives in a profile file (its path), how the page shows it (its
widget) and which row of `preview --explain` gives its effective value (its target).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from enum import StrEnum

from voiceguide.language.catalog import catalog_codes
from voiceguide.plans.customize import Customized
from voiceguide.plans.plan import Plan, StepKind
from voiceguide.plans.settings import (
    CIRCUIT_SETTINGS,
    EXERCISE_SETTINGS,
    PROGRESSIVE,
    SESSION_SETTINGS,
    Scope,
    Setting,
)
from voiceguide.plans.values import (
    Choice,
    ChoiceOrTexts,
    Kind,
    Language,
    Seconds,
    Text,
    Texts,
    YesNo,
)

Path = tuple[str, ...]
"""Where a value is in a profile: ("settings", "rate"), ("exercises", NAME, "reps")..."""


class Widget(StrEnum):
    TEXT = "text"
    LONG_TEXT = "textarea"
    CHOICE = "select"
    LIST = "list"
    """Texts, separated by commas in the field; a list in the file."""
    TEXT_OR_LIST = "text-or-list"
    """One word of a choice, or texts separated by commas."""


PROGRESSION_KEYS = ("start", "step", "max", "min")
LONG_TEXT = 1000
"""Texts allowed to be longer than this get a text area."""


@dataclass(frozen=True, slots=True, kw_only=True)
class FormField:
    id: str
    """The form control's name: "settings.rate", "exercise.2.reps", "circuit.0.rounds"."""
    path: Path
    label: str
    widget: Widget
    options: tuple[str, ...] = ()
    """For a choice: the values; for a text: suggestions."""
    hint: str = ""
    plan_value: str = ""
    """The plan's own value, shown beside the field."""
    target: str | None = None
    """The row of the explanation (`preview --explain`) that gives its effective value."""
    textual: bool = False
    """Whether its value is always text: what is typed is written as text, even where YAML would
    read it as something else (a voice named "yes"). Numbers, durations and yes/no are read as
    YAML reads them, so that they mean what they would in a profile written by hand."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Group:
    title: str
    kind: str
    """"person", "session", "circuit" or "exercise"."""
    fields: tuple[FormField, ...]
    progression: tuple[FormField, ...] = ()


def is_textual(kind: Kind) -> bool:
    return isinstance(kind, Text | Texts | ChoiceOrTexts | Choice | Language)


def widget_for(kind: Kind) -> tuple[Widget, tuple[str, ...], str]:
    """How the page asks for a value of *kind*: its widget, its options and a hint."""
    if isinstance(kind, Choice):
        return Widget.CHOICE, tuple(option.value for option in kind.options), ""
    if isinstance(kind, YesNo):
        return Widget.CHOICE, ("true", "false"), ""
    if isinstance(kind, Language):
        return Widget.CHOICE, tuple(catalog_codes()), ""
    if isinstance(kind, ChoiceOrTexts):
        options = tuple(option.value for option in kind.options)
        return Widget.TEXT_OR_LIST, options, f"{', '.join(options)}, or names separated by commas"
    if isinstance(kind, Texts):
        return Widget.LIST, (), "names separated by commas"
    if isinstance(kind, Seconds):
        return Widget.TEXT, (), "seconds: 5, 2.5, 90s, 1:30"
    if isinstance(kind, Text):
        return (Widget.LONG_TEXT if kind.max_length > LONG_TEXT else Widget.TEXT), (), ""
    least, most = getattr(kind, "least", None), getattr(kind, "most", None)
    return Widget.TEXT, (), (f"{least:g} to {most:g}" if least is not None else "")


def _field(
    setting: Setting, *, id: str, path: Path, target: str | None, plan_value: str
) -> FormField:
    widget, options, hint = widget_for(setting.kind)
    return FormField(
        id=id,
        path=path,
        label=setting.name.replace("_", " "),
        widget=widget,
        options=options,
        hint=hint,
        plan_value=plan_value,
        target=target if setting.explained else None,
        textual=is_textual(setting.kind),
    )


def _plan_values(own: Customized) -> dict[str, str]:
    return {row.target: row.value for row in own.explanation}


def groups_for(plan: Plan, own: Customized) -> tuple[Group, ...]:
    """Every field a profile can give for *plan*; *own* is the plan customized by nothing, whose
    explanation gives the plan's own values."""
    values = _plan_values(own)
    names = [exercise.name for exercise in plan.exercises] + [c.name for c in plan.circuits]
    person = Group(
        title="Person",
        kind="person",
        fields=(
            FormField(id="name", path=("name",), label="name", widget=Widget.TEXT,
                      hint="the person's name", textual=True),
            FormField(id="notes", path=("notes",), label="notes", widget=Widget.LONG_TEXT,
                      hint="for you: not spoken", textual=True),
        ),
    )  # fmt: skip
    session_fields = []
    for name, setting in SESSION_SETTINGS.items():
        field = _field(
            setting,
            id=f"settings.{name}",
            path=("settings", name),
            target=name,
            plan_value=values.get(name, ""),
        )
        if name in ("only", "skip"):
            field = _with_options(field, names)
        if not field.plan_value and setting.scope & Scope.EVERY_EXERCISE:
            field = dataclasses.replace(field, plan_value="each exercise's own, below")
        session_fields.append(field)
    groups = [person, Group(title="Session", kind="session", fields=tuple(session_fields))]
    for index, circuit in enumerate(plan.circuits):
        fields = [
            _field(
                setting,
                id=f"circuit.{index}.{key}",
                path=("exercises", circuit.name, key),
                target=f"{circuit.name}.{key}",
                plan_value=values.get(f"{circuit.name}.{key}", ""),
            )
            for key, setting in CIRCUIT_SETTINGS.items()
        ]
        # (skipping a circuit skips its exercises: the one exercise's setting, under its name)
        skip = EXERCISE_SETTINGS["skip"]
        fields.append(
            _field(
                skip,
                id=f"circuit.{index}.skip",
                path=("exercises", circuit.name, "skip"),
                target=None,
                plan_value="false",
            )
        )
        groups.append(Group(title=f"Circuit: {circuit.name}", kind="circuit", fields=tuple(fields)))
    groups += [_exercise_group(plan, index, values) for index in range(len(plan.exercises))]
    return tuple(groups)


def _with_options(field: FormField, options: list[str]) -> FormField:
    return dataclasses.replace(field, options=tuple(options))


def _applies(key: str, kind: StepKind, sides: bool) -> bool:
    """Whether an exercise of this timing and sides can be given *key* (customize refuses a hold
    for an exercise timed by work, and the other way round)."""
    if key in ("hold", "work"):
        return kind.value == key
    if key in ("switch",):
        return sides
    return True


def _exercise_group(plan: Plan, index: int, values: dict[str, str]) -> Group:
    exercise = plan.exercises[index]
    name = exercise.name
    fields = []
    for key, setting in EXERCISE_SETTINGS.items():
        if setting.scope & Scope.CIRCUIT and not setting.scope & Scope.EXERCISE:
            continue
        if not _applies(key, exercise.kind, bool(exercise.sides)):
            continue
        target = f"{name}.{key}"
        plan_value = values.get(target, "")
        if not plan_value and key in ("cue", "instructions"):
            plan_value = getattr(exercise, setting.field) or ""
        if key == "skip":
            plan_value = "false"
        if key == "sides" and not exercise.sides:
            plan_value = "(not done per side)"
        field = _field(setting, id=f"exercise.{index}.{key}", path=("exercises", name, key),
                       target=target, plan_value=plan_value)  # fmt: skip
        if key == "sides" and exercise.sides:
            field = _with_options(field, [*field.options, *exercise.sides])
        fields.append(field)
    progression = []
    for key in PROGRESSIVE:
        if not _applies(key, exercise.kind, bool(exercise.sides)):
            continue
        for part in PROGRESSION_KEYS:
            progression.append(
                FormField(
                    id=f"exercise.{index}.progression.{key}.{part}",
                    path=("exercises", name, "progression", key, part),
                    label=f"{key} {part}",
                    widget=Widget.TEXT,
                    hint=_progression_hint(key, part),
                )
            )
    title = f"{name}" + (f" (circuit {exercise.circuit})" if exercise.circuit else "")
    return Group(title=title, kind="exercise", fields=tuple(fields), progression=tuple(progression))


def _progression_hint(key: str, part: str) -> str:
    counted = key in ("reps", "sets")
    unit = "" if counted else " (seconds)"
    return {
        "start": f"week 1's {key}{unit}",
        "step": f"added each week{unit}",
        "max": f"the most it grows to{unit}",
        "min": f"the least it shrinks to{unit}",
    }[part]


def every_field(groups: tuple[Group, ...]) -> dict[str, FormField]:
    return {field.id: field for group in groups for field in (*group.fields, *group.progression)}
