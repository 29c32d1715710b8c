"""Every setting, declared once: its name in YAML, kind and range, default, where it may appear, and
what scales or progresses it.

The plan loader, profiles, `--set`, customization, `preview --explain` and the command line's options
all read this table. A new setting is one row here plus the code that uses its value.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Flag, auto
from typing import Any

from voiceguide.language.catalog import DEFAULT_LANGUAGE
from voiceguide.plans.values import (
    Choice,
    ChoiceOrTexts,
    Count,
    Counting,
    Engine,
    Instructions,
    Integer,
    Kind,
    Language,
    Number,
    Seconds,
    SideChoice,
    Sound,
    Text,
    Texts,
    Tips,
    YesNo,
)


class Scope(Flag):
    """Where a setting may appear."""

    SESSION = auto()
    """Once for the whole session: a plan's or profile's `settings:`, `--set NAME=VALUE`."""
    EVERY_EXERCISE = auto()
    """Once for every exercise, in the same places; in a plan, the exercises' default."""
    EXERCISE = auto()
    """One exercise's own: an exercise of a plan, a profile's `exercises:`, `--set "NAME.FIELD=VALUE"`."""
    CIRCUIT = auto()
    """One circuit's own: a circuit of a plan, a profile's `exercises:` entry named for it,
    `--set "CIRCUIT.FIELD=VALUE"`."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Setting:
    name: str
    """As written in YAML and in `--set`."""
    kind: Kind
    """What the value is, with its range: how it is read, checked and shown."""
    scope: Scope
    default: object = None
    """In the kind's units (durations in ms); None where the lack of a value means something."""
    in_plan: bool = True
    """False for what only a person's profile or `--set` gives (scales, choosing exercises)."""
    attribute: str | None = None
    """The `Plan` or `Exercise` field it becomes, when it is one field under another name."""
    scaled_by: str | None = None
    """The scale setting that multiplies it (hold_scale, work_scale, rest_scale)."""
    progresses: bool = False
    """Whether an exercise's `progression` may grow it from week to week."""
    explained: bool = True
    """Whether `preview` lists its effective value (texts are not listed)."""
    unset: str = "-"
    """How `preview` shows the value None."""
    listed_unset: bool = True
    """Whether `preview` (and the timeline beside a session) lists it without a value: own sounds
    are listed where they are given, so that a session without them is described as before."""

    @property
    def field(self) -> str:
        return self.attribute or self.name


SESSION, EVERY, EXERCISE, CIRCUIT = (
    Scope.SESSION,
    Scope.EVERY_EXERCISE,
    Scope.EXERCISE,
    Scope.CIRCUIT,
)
SLOT = Seconds(0, 600_000)
"""A pause or a lead-in: from nothing to 10 minutes."""
TIMED = Seconds(500, 3_600_000)
"""A hold or a work interval: half a second to an hour."""
SCALE = Number(0.1, 10.0)

# Listed in the order messages list the settings (session, every exercise, then one exercise).
SETTINGS = (
    # A plan gives its language at the top (the language its texts are in), not in `settings:`.
    Setting(name="language", kind=Language(), scope=SESSION, default=DEFAULT_LANGUAGE,
            in_plan=False),
    Setting(name="engine", kind=Choice(Engine), scope=SESSION, unset="(chosen for the voice)"),
    Setting(name="voice", kind=Text(400), scope=SESSION, unset="(one for the language)"),
    Setting(name="rate", kind=Integer(60, 400), scope=SESSION, default=170),
    Setting(name="volume", kind=Number(0.1, 1.0), scope=SESSION, default=1.0),
    Setting(name="beep_level", kind=Number(-30.0, 6.0), scope=SESSION, default=-3.0,
            attribute="beep_level_db"),
    Setting(name="instructions", kind=Choice(Instructions), scope=SESSION,
            default=Instructions.FULL),
    # Audio files sounded instead of the built-in tones, levelled as they are (beep_level).
    Setting(name="start_sound", kind=Sound(), scope=SESSION, listed_unset=False),
    Setting(name="end_sound", kind=Sound(), scope=SESSION, listed_unset=False),
    # Where an exercise ends (before the rest or transition to the next one, and at the end).
    Setting(name="transition_sound", kind=Sound(), scope=SESSION, listed_unset=False),
    Setting(name="rest_between_exercises", kind=SLOT, scope=SESSION, default=15_000,
            attribute="rest_between_exercises_ms", scaled_by="rest_scale"),
    # The whole gap between two exercises as one length: "next up", the announcement and the
    # countdown are placed inside it (instead of a rest, the announcement and a lead-in).
    Setting(name="transition", kind=Seconds(1_000, 600_000), scope=SESSION,
            attribute="transition_ms", scaled_by="rest_scale",
            unset="(not fixed)"),
    # A circuit's own (in a plan's `settings:`, profile or `--set NAME=VALUE`: every circuit's).
    Setting(name="rounds", kind=Count(50), scope=EVERY | CIRCUIT, default=3),
    Setting(name="round_rest", kind=SLOT, scope=EVERY | CIRCUIT, default=60_000,
            attribute="round_rest_ms", scaled_by="rest_scale"),
    Setting(name="counting", kind=Choice(Counting), scope=EVERY | EXERCISE,
            default=Counting.AUTO),
    # How many numbers the final countdown says: at the end of a lead-in, rest, switch or
    # transition, and of an interval counted `last-3` or `seconds-left`.
    Setting(name="countdown", kind=Integer(0, 10), scope=EVERY | EXERCISE, default=3),
    # "Last rep." (or "Last round.") before the final rep of a set, instead of its number.
    Setting(name="announce_last", kind=YesNo(), scope=EVERY | EXERCISE, default=True),
    Setting(name="lead_in", kind=SLOT, scope=EVERY | EXERCISE, default=5_000,
            attribute="lead_in_ms"),
    Setting(name="reset", kind=SLOT, scope=EVERY | EXERCISE, default=3_000,
            scaled_by="rest_scale", progresses=True),
    Setting(name="rest", kind=SLOT, scope=EVERY | EXERCISE, default=10_000,
            scaled_by="rest_scale", progresses=True),
    Setting(name="switch", kind=SLOT, scope=EVERY | EXERCISE, default=5_000,
            attribute="switch_ms"),
    Setting(name="set_rest", kind=SLOT, scope=EVERY | EXERCISE, default=30_000,
            attribute="set_rest_ms", scaled_by="rest_scale", progresses=True),
    Setting(name="hold_scale", kind=SCALE, scope=EVERY, default=1.0, in_plan=False),
    Setting(name="work_scale", kind=SCALE, scope=EVERY, default=1.0, in_plan=False),
    Setting(name="rest_scale", kind=SCALE, scope=EVERY, default=1.0, in_plan=False),
    Setting(name="sides", kind=Choice(SideChoice), scope=EVERY, default=SideChoice.BOTH,
            in_plan=False),
    Setting(name="only", kind=Texts(), scope=EVERY, in_plan=False),
    Setting(name="skip", kind=Texts(), scope=EVERY, in_plan=False),
    Setting(name="reps", kind=Count(500), scope=EXERCISE, default=1, progresses=True),
    Setting(name="sets", kind=Count(50), scope=EXERCISE, default=1, progresses=True),
    Setting(name="hold", kind=TIMED, scope=EXERCISE, scaled_by="hold_scale", progresses=True),
    Setting(name="work", kind=TIMED, scope=EXERCISE, scaled_by="work_scale", progresses=True),
    # In a plan the sides are named (per language); a person may also pick by left and right.
    Setting(name="sides", kind=ChoiceOrTexts(SideChoice), scope=EXERCISE, default=()),
    Setting(name="skip", kind=YesNo(), scope=EXERCISE, default=False, in_plan=False,
            explained=False),
    Setting(name="cue", kind=Text(200, translatable=True), scope=EXERCISE, explained=False),
    Setting(name="instructions", kind=Text(4000, translatable=True), scope=EXERCISE,
            explained=False),
    Setting(name="tips", kind=Tips(), scope=EXERCISE, default=(), explained=False),
)  # fmt: skip

EXERCISE_ORDER = (
    "reps", "sets", "hold", "work", "rest", "reset", "switch", "set_rest", "lead_in", "counting",
    "countdown", "announce_last", "sides", "skip", "cue", "instructions", "tips",
)  # fmt: skip
"""The order messages and the README list an exercise's fields in; a setting not named here comes
after these, in the table's order."""


def _exercise_place(setting: Setting) -> int:
    return (
        EXERCISE_ORDER.index(setting.name)
        if setting.name in EXERCISE_ORDER
        else len(EXERCISE_ORDER)
    )


SESSION_SETTINGS = {s.name: s for s in SETTINGS if s.scope & (SESSION | EVERY)}
"""By name: what a profile's `settings:` and `--set NAME=VALUE` may give."""
EXERCISE_SETTINGS = {
    s.name: s for s in sorted((s for s in SETTINGS if s.scope & EXERCISE), key=_exercise_place)
}
"""By name: what one exercise may be given (in a plan, a profile or `--set "EXERCISE.NAME=..."`)."""
CIRCUIT_SETTINGS = {s.name: s for s in SETTINGS if s.scope & CIRCUIT}
"""By name: what one circuit may be given (its rounds and the rest between them)."""
PLAN_SETTINGS = {name: s for name, s in SESSION_SETTINGS.items() if s.in_plan}
"""What a plan's `settings:` may give."""
PLAN_EXERCISE_SETTINGS = {name: s for name, s in EXERCISE_SETTINGS.items() if s.in_plan}
"""What an exercise of a plan may give (besides its name, phases, progression and notes)."""

SCALES = tuple(s.name for s in SETTINGS if any(other.scaled_by == s.name for other in SETTINGS))
"""The settings that multiply others (hold_scale, work_scale, rest_scale)."""
PROGRESSIVE = tuple(name for name, s in EXERCISE_SETTINGS.items() if s.progresses)
"""What an exercise's `progression` may grow; durations in ms, counts as they are."""


def default(name: str) -> Any:
    """The default of the session or every-exercise setting *name* (Any: each setting's own type)."""
    return SESSION_SETTINGS[name].default
