"""The kinds of value a setting takes: how each is read from YAML, checked, and shown.

A kind reads a `Field` into its typed value (durations in integer ms), or records a problem on the
field and returns None; `shown` is the value as `preview` prints it. The settings table
(settings.py) gives each setting one of these, with its range.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import yaml

from voiceguide.common.clock import duration
from voiceguide.common.errors import path_text
from voiceguide.plans.yamlsource import Field


class Counting(StrEnum):
    """How the seconds of a hold, work interval or phase are spoken."""

    AUTO = "auto"
    """Chosen by the interval, as a coach would (plans.plan.counting_for says how)."""
    EVERY_SECOND = "every-second"
    """Every second mark, counting down what is left (the last thirty seconds of longer intervals)."""
    SECONDS_LEFT = "seconds-left"
    """The time left at a few marks ("Ten seconds left."), then the final countdown."""
    LAST_THREE = "last-3"
    """Only the final countdown (the last three seconds, or the `countdown` setting's), with a
    "halfway" call in long intervals."""
    NONE = "none"
    """No numbers; the start and end cues only."""


class Instructions(StrEnum):
    """How much an announcement says."""

    FULL = "full"
    """Always the full instructions."""
    FIRST_WEEK = "first-week"
    """Full instructions in week 1 (or a session without weeks), the short cue in later weeks."""
    BRIEF = "brief"
    """The short cue only, for people who know the exercises."""


class Engine(StrEnum):
    """The speech engines a plan can name (sound.engines has each: a test keeps the two the same)."""

    ESPEAK = "espeak"
    """espeak-ng through pyttsx3: small, every language, a formant voice."""
    PIPER = "piper"
    """Piper's neural voices (the `piper` extra and a voice model)."""


class SideChoice(StrEnum):
    """Which sides of a per-side exercise to do, matched by the words "left" and "right"."""

    BOTH = "both"
    LEFT = "left"
    RIGHT = "right"
    LEFT_FIRST = "left-first"
    RIGHT_FIRST = "right-first"


class Kind:
    """A kind of value; `translatable` kinds are given per language in a plan (see loader.py)."""

    translatable = False

    def read(self, field: Field) -> object:
        raise NotImplementedError

    def shown(self, value: object) -> str:
        if isinstance(value, tuple):
            return ", ".join(str(v) for v in value) or "-"
        if isinstance(value, float):
            return f"{value:g}"
        return str(value)


@dataclass(frozen=True)
class Seconds(Kind):
    """A duration, written in seconds ("90s", "1:30" and "2 min" too), kept in integer ms."""

    least_ms: int
    most_ms: int

    @property
    def least(self) -> int:
        return self.least_ms

    def read(self, field: Field) -> int | None:
        return field.seconds(minimum_ms=self.least_ms, maximum_ms=self.most_ms)

    def shown(self, value: object) -> str:
        return duration(int(value))  # type: ignore[call-overload]


@dataclass(frozen=True)
class Count(Kind):
    """How many times (reps, sets): a whole number from 1."""

    most: int
    least: int = 1

    def read(self, field: Field) -> int | None:
        return field.integer(minimum=self.least, maximum=self.most)


@dataclass(frozen=True)
class Integer(Kind):
    least: int
    most: int

    def read(self, field: Field) -> int | None:
        return field.integer(minimum=self.least, maximum=self.most)


@dataclass(frozen=True)
class Number(Kind):
    least: float
    most: float

    def read(self, field: Field) -> float | None:
        return field.number(minimum=self.least, maximum=self.most)


@dataclass(frozen=True)
class Choice(Kind):
    options: type[StrEnum]

    def read(self, field: Field) -> StrEnum | None:
        choice = field.choice(option.value for option in self.options)
        return None if choice is None else self.options(choice)


@dataclass(frozen=True)
class Text(Kind):
    max_length: int
    translatable: bool = False

    def read(self, field: Field) -> str | None:
        return field.text(max_length=self.max_length)


@dataclass(frozen=True)
class Texts(Kind):
    """A list of texts; a single text is a list of one."""

    translatable: bool = False

    def read(self, field: Field) -> tuple[str, ...] | None:
        return field.text_list()


@dataclass(frozen=True)
class ChoiceOrTexts(Kind):
    """One of *options*, or a list of texts (an exercise's sides: `left`, or `[left foot]`)."""

    options: type[StrEnum]

    def read(self, field: Field) -> object:
        if isinstance(field.node, yaml.ScalarNode) and field.node.value in {
            option.value for option in self.options
        }:
            return Choice(self.options).read(field)
        return field.text_list()


TIP_FROM_MS = 1_000
"""The earliest a tip may be said: the start tone and the start word come first (as for counts)."""
MAX_TIPS = 20


@dataclass(frozen=True, slots=True, kw_only=True)
class Tip:
    """A cue said at a fixed moment of every rep of an exercise: "Keep your back straight." at 10 s."""

    at_ms: int
    """From the start of the rep (the hold, the work interval, or the first of its phases)."""
    say: str
    once: bool = False
    """Said in the first rep only (on each side): a reminder that is not repeated rep after rep."""
    where: str = dataclasses.field(default="", compare=False)
    """Where its `at` is written ("plan.yaml:12:11: exercises[0].tips[1].at"), for messages."""


@dataclass(frozen=True)
class Tips(Kind):
    """An exercise's tips: a list of `{at: SECONDS, say: TEXT}`, each optionally `once: true`."""

    max_length: int = 200
    translatable = True

    def read(
        self,
        field: Field,
        say: Callable[[Field], str | None] | None = None,
        check: Callable[[Tip], str | None] | None = None,
    ) -> tuple[Tip, ...] | None:
        """The tips, their texts read by *say* (a plan's reader takes them per language), each
        checked by *check* (what is wrong with it, if anything: a problem at its `at`)."""
        items = field.sequence()
        if items is None:
            return None
        if len(items) > MAX_TIPS:
            field.problem(f"at most {MAX_TIPS} tips, found {len(items)}; keep the ones that matter")
            return None
        tips: list[Tip] = []
        first_at: dict[int, Field] = {}
        for item in items:
            if _comma_in_flow_text(item):
                return None
            fields = item.mapping(required=TIP_FIELDS[:2], optional=TIP_FIELDS[2:])
            if fields is None or "at" not in fields or "say" not in fields:
                return None
            at_ms = fields["at"].seconds(minimum_ms=TIP_FROM_MS)
            text = (say or (lambda f: f.text(max_length=self.max_length)))(fields["say"])
            once = fields["once"].boolean() if "once" in fields else False
            if at_ms is None or text is None or once is None:
                return None
            if at_ms in first_at:
                line = first_at[at_ms].node.start_mark.line + 1
                fields["at"].problem(
                    f"another tip is said at {duration(at_ms)} (line {line}); give each tip its own moment"
                )
                return None
            first_at[at_ms] = fields["at"]
            where = f"{fields['at'].where}: {fields['at'].path}"
            tip = Tip(at_ms=at_ms, say=text, once=once, where=where)
            wrong = check(tip) if check else None
            if wrong:
                fields["at"].problem(wrong)
                return None
            tips.append(tip)
        return tuple(tips)

    def shown(self, value: object) -> str:
        tips = value if isinstance(value, tuple) else ()
        return "; ".join(f"{duration(tip.at_ms)}: {tip.say}" for tip in tips) or "-"


TIP_FIELDS = ("at", "say", "once")


def _comma_in_flow_text(item: Field) -> bool:
    """Whether *item*, written `{at: 4, say: Chest up, knees out.}`, lost the end of its text to a
    comma (which ends a value inside braces): reported as that, not as an unknown field."""
    node = item.node
    if not (isinstance(node, yaml.MappingNode) and node.flow_style):
        return False
    for key, value in node.value:
        stray = isinstance(key, yaml.ScalarNode) and key.value not in TIP_FIELDS
        if stray and isinstance(value, yaml.ScalarNode) and value.value == "":
            item.key_field(key.value).problem(
                f"{key.value!r} reads as a field of its own: inside {{...}} a comma ends the text; "
                f'put the text in quotes, like say: "Chest up, knees out."'
            )
            return True
    return False


def tip_past_end(tip: Tip, length_ms: int, what: str) -> str | None:
    """What is wrong with *tip* in a rep of *length_ms* (its *what*: "the hold", "a rep"), if
    anything, in the words a message starts with."""
    if tip.at_ms < length_ms:
        return None
    return (
        f"the tip at {duration(tip.at_ms)} is at or past the end of {what}, which lasts "
        f"{duration(length_ms)}"
    )


@dataclass(frozen=True)
class YesNo(Kind):
    def read(self, field: Field) -> bool | None:
        return field.boolean()

    def shown(self, value: object) -> str:
        return "true" if value else "false"  # (as YAML writes it)


@dataclass(frozen=True)
class Language(Kind):
    """A language voiceguide has phrases for, as its code ("de"); a region ("de-AT") is dropped."""

    def read(self, field: Field) -> str | None:
        from voiceguide.language.catalog import available_languages, catalog_codes, language_code

        text = field.text(max_length=40)
        if text is None:
            return None
        code = language_code(text)
        if code not in catalog_codes():
            field.problem(
                f"voiceguide has no phrases in the language {text!r}; it speaks {available_languages()}"
            )
            return None
        return code


@dataclass(frozen=True, slots=True)
class SoundFile:
    """An audio file a setting names (a cue's own sound), and where it was named."""

    path: Path
    """As it is opened: a relative path as written, taken from the folder of the file naming it."""
    where: str = dataclasses.field(compare=False)
    """Where it was named, for messages: "plan.yaml:9:16: settings.start_sound"."""

    def __str__(self) -> str:
        return path_text(self.path)


@dataclass(frozen=True)
class Sound(Kind):
    """An audio file, any format ffmpeg reads. Only its path is checked here: the file is read when
    the session is laid out (sound/ownsounds.py), where it is in effect."""

    def read(self, field: Field) -> SoundFile | None:
        path = field.file_path()
        return None if path is None else SoundFile(path, f"{field.where}: {field.path}")

    def shown(self, value: object) -> str:
        return str(value)
