"""The validated plan: frozen, typed, all times in integer milliseconds.

Nothing past the loader sees raw YAML; everything downstream reads these objects.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from voiceguide.plans.settings import default
from voiceguide.plans.values import Counting as Counting
from voiceguide.plans.values import Instructions as Instructions
from voiceguide.plans.values import SoundFile
from voiceguide.plans.values import Tip as Tip


class StepKind(StrEnum):
    """What a timed part of a rep is; also its `phase` label in the timeline."""

    HOLD = "hold"
    WORK = "work"
    STEP = "step"  # a named phase of a rep, such as "Inhale"


class GapKind(StrEnum):
    """The pause between two reps: a quiet reset, or a rest that is announced."""

    RESET = "reset"
    REST = "rest"


@dataclass(frozen=True, slots=True, kw_only=True)
class Step:
    """One timed part of a rep."""

    name: str
    """Spoken when the step starts ("Hold", "Go", "Inhale")."""
    kind: StepKind
    duration_ms: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Progression:
    """How one value grows (or shrinks) from week to week: start + step * (week - 1), within a limit."""

    start: int | None
    """Week 1's value; None to start from the exercise's own value."""
    step: int
    limit: int | None
    """The most it grows to (or the least it shrinks to, for a negative step)."""

    def at_week(self, base: int, week: int) -> int:
        value = (base if self.start is None else self.start) + self.step * (week - 1)
        if self.limit is not None:
            value = min(value, self.limit) if self.step >= 0 else max(value, self.limit)
        return value


@dataclass(frozen=True, slots=True, kw_only=True)
class Exercise:
    name: str
    instructions: str | None
    """Read out before the exercise starts."""
    steps: tuple[Step, ...]
    """One rep: a single hold or work interval, or several named phases."""
    reps: int
    gap_ms: int
    """Between two reps of the same set and side."""
    gap_kind: GapKind
    sides: tuple[str, ...]
    """Each side gets the full reps and time ("left foot", "right foot"); empty if not per side."""
    switch_ms: int
    sets: int
    set_rest_ms: int
    lead_in_ms: int
    counting: Counting
    cue: str | None = None
    """A short reminder said instead of the instructions once the exercise is known."""
    countdown: int = default("countdown")
    """How many numbers the final countdown says (3: "three, two, one")."""
    announce_last: bool = default("announce_last")
    """Whether the final rep of a set is announced as the last ("Last rep.") rather than by number."""
    tips: tuple[Tip, ...] = ()
    """Said at their moments of every rep (`once`: of the first rep on each side)."""
    progressions: tuple[tuple[str, Progression], ...] = ()
    """Per field (one of settings.PROGRESSIVE), how it changes over the weeks."""
    circuit: str | None = None
    """The name of the circuit the exercise is part of, if any (see Circuit)."""

    @property
    def rep_ms(self) -> int:
        return sum(step.duration_ms for step in self.steps)

    @property
    def kind(self) -> StepKind:
        return self.steps[0].kind

    def step_counting(self, index: int) -> Counting:
        """How the seconds of the *index*-th step of a rep are counted (`auto` resolved)."""
        start = sum(step.duration_ms for step in self.steps[:index])
        step = self.steps[index]
        tipped = any(start <= tip.at_ms < start + step.duration_ms for tip in self.tips)
        return counting_for(self.counting, step, tips=tipped)


def rep_part(kind: StepKind) -> str:
    """What a tip's `at` counts within, in an exercise timed by *kind*, as messages name it."""
    return {StepKind.HOLD: "the hold", StepKind.WORK: "the work interval"}.get(
        kind, "a rep (its phases one after another)"
    )


AUTO_EVERY_SECOND_UP_TO_MS = 10_000
"""`auto` counts every second in holds and phases up to this long."""


def counting_for(counting: Counting, step: Step, *, tips: bool) -> Counting:
    """*counting*, or for `auto` what a coach does in *step* (one with *tips* to say in it or not).

    A coach counts a short hold aloud, every second: the count paces it, and someone holding for
    five seconds with eyes closed has no other clock; a phase of a breath likewise. Past ten
    seconds a count every second becomes a drone to endure rather than a pace to follow, and work
    at full effort leaves no attention for one (data/tabata.yaml: "a count every second is too busy
    at full effort"): there a coach says how long is left at a few marks and counts down the last
    seconds only. So does a coach who has tips to give in the interval, rather than talk over them
    with numbers."""
    if counting is not Counting.AUTO:
        return counting
    short = step.duration_ms <= AUTO_EVERY_SECOND_UP_TO_MS
    if step.kind is not StepKind.WORK and short and not tips:
        return Counting.EVERY_SECOND
    return Counting.SECONDS_LEFT


@dataclass(frozen=True, slots=True, kw_only=True)
class Circuit:
    """A block of exercises done for several rounds: all of them in order, then all again.

    Its exercises are consecutive in `Plan.exercises` and name it as their `circuit`."""

    name: str
    rounds: int
    round_rest_ms: int
    """Between two rounds, in place of the usual gap between two exercises; 0 for that usual gap."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Plan:
    title: str
    description: str | None
    frequency: str | None
    """How often to do the session ("2 to 3 times a day"); said at the end."""
    equipment: tuple[str, ...]
    safety: str | None
    """Said in the introduction; None for the language's standard advice, "" for none at all."""
    sources: tuple[str, ...]
    notes: str | None
    voice: str | None
    """A voice id, name or language as `voiceguide voices` lists them, or a Piper model's path; None
    for one that speaks the plan's language."""
    engine: str | None = None
    """The speech engine (sound.engines): "espeak", "piper"; None to choose one for the voice and
    language (see sound.speech.choose_speaker)."""
    rate: int
    """Speech rate in words per minute."""
    volume: float = default("volume")
    """Speech volume, from 0.1 to 1 (full)."""
    beep_level_db: float = default("beep_level")
    """Level of the beeps against speech, in dB (RMS against RMS)."""
    instructions: Instructions = default("instructions")  # noqa: RUF009 (a StrEnum is immutable)
    start_sound: SoundFile | None = None
    """Sounded where each hold, work interval or first phase starts; None for the start tone."""
    end_sound: SoundFile | None = None
    """Sounded where one ends (before a reset, rest, switch or set rest, and where an exercise ends
    if there is no transition sound); None for the end tone."""
    transition_sound: SoundFile | None = None
    """Sounded where an exercise ends: before the rest or transition to the next one, and before
    the closing; None for the end sound (or the end tone)."""
    week: int | None = None
    """The week of a progression this session is for; None when not made for a week."""
    rest_between_exercises_ms: int
    exercises: tuple[Exercise, ...]
    circuits: tuple[Circuit, ...] = ()
    transition_ms: int | None = None
    """The whole gap between two exercises, from the end tone to the next start tone, with the next
    exercise announced and counted down inside it; None for a rest, then the announcement (as long
    as it takes) and the exercise's lead-in."""
    source_name: str
    """The file the plan was read from, as the user named it."""
    language: str = default("language")
    """The language the texts are in, and the session is spoken in (a code such as "de")."""
    translations: Mapping[str, Mapping[str, Mapping[str, str]]] = field(default_factory=dict)
    """Other languages' versions of the plan's texts: scope ("" for the plan's own texts and the
    exercise names, else an exercise's name in the plan's language) -> text -> {code: version}."""
