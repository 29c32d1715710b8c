"""Hypothesis strategies for fuzzing what users feed voiceguide: plan and profile files, --set options
and command-line option values.

Two kinds of input: documents made as data (nested mappings, lists and scalars of every YAML type,
dumped with yaml.safe_dump in several styles), and text made by mutating real files (the shipped
plans and profiles, and a small plan): lines deleted, duplicated, swapped or re-indented,
characters replaced, YAML tokens and nonsense values inserted. Files are produced as bytes, so a
mutation may also break the UTF-8.

VOICEGUIDE_FUZZ_EXAMPLES raises the number of examples (scripts/fuzz sets it): see `examples()`.
"""

from __future__ import annotations

import datetime
import math
import os
import re
from pathlib import Path

import yaml
from hypothesis import strategies as st

DATA = Path(__file__).resolve().parent.parent / "data"
SHIPPED_PLANS = {
    path.name: path.read_text(encoding="utf-8") for path in sorted(DATA.glob("*.yaml"))
}
SHIPPED_PROFILES = {
    path.name: path.read_text(encoding="utf-8")
    for path in sorted((DATA / "profiles").glob("*.yaml"))
}

SMALL_PLAN = """\
# A plan with a bit of everything that still validates in well under a second.
title: Small
settings:
  rate: 180
  counting: none
  announce_last: false      # (the reps by number: "Rep two of two." overruns its reset at a slow rate)
  lead_in: 2
  rest_between_exercises: 3
exercises:
  - name: Squeeze
    cue: Squeeze.
    reps: 2
    hold: 2
    reset: 3
    progression:
      reps: {step: 1, max: 3}
  - name: Breathe
    phases:
      - In: 2
      - Out: 2
  - name: Lift
    work: 2
    sides: [left foot, right foot]
    switch: 3
"""
"""Used where a fuzzed plan is validated through the CLI, which synthesizes its speech."""

SHRINKING_PLAN = """\
title: Shrinking
exercises:
  - name: Toe presses
    reps: 10
    hold: 5
    reset: 3
    progression:
      hold: {step: -1}
      reps: {start: 3, step: -1, min: 1}
  - name: Ankle circles
    work: 10
    sides: [left leg, right leg]
"""
"""A plan whose progression runs out after a few weeks (no 'min' on hold), for --week to push past."""

DEFAULT_PLAN_EXERCISES = ["Toe presses", "Walking on tiptoes", "Ankle circles", "Pulling the feet"]

PLAN_KEYS = [
    "title",
    "exercises",
    "description",
    "frequency",
    "equipment",
    "safety",
    "sources",
    "notes",
    "settings",
]
SETTINGS_KEYS = [
    "voice",
    "rate",
    "volume",
    "beep_level",
    "counting",
    "instructions",
    "lead_in",
    "reset",
    "rest",
]
SETTINGS_KEYS += ["switch", "set_rest", "rest_between_exercises"]
EXERCISE_KEYS = [
    "name",
    "instructions",
    "cue",
    "reps",
    "hold",
    "work",
    "phases",
    "reset",
    "rest",
    "sides",
]
EXERCISE_KEYS += ["switch", "sets", "set_rest", "lead_in", "counting", "progression", "notes"]
PROFILE_SETTINGS = [
    "voice",
    "rate",
    "volume",
    "beep_level",
    "instructions",
    "rest_between_exercises",
    "counting",
]
PROFILE_SETTINGS += [
    "lead_in",
    "reset",
    "rest",
    "switch",
    "set_rest",
    "hold_scale",
    "work_scale",
    "rest_scale",
]
PROFILE_SETTINGS += ["sides", "only", "skip"]
OVERRIDE_KEYS = [
    "reps",
    "sets",
    "hold",
    "work",
    "rest",
    "reset",
    "switch",
    "set_rest",
    "lead_in",
    "counting",
]
OVERRIDE_KEYS += ["sides", "skip", "cue", "instructions", "progression"]
CHOICES = ["every-second", "last-3", "none", "full", "first-week", "brief", "both", "left", "right"]
CHOICES += ["left-first", "right-first"]

NASTY_CHARACTERS = [
    "\x00", "\x07", "\x1b", "\x7f", "\x85", "\u00ad", "\u200b", "\u200d", "\u202e", "\u2028", "\ufeff",
    "\ue000", "\U0001f525", "\U0001f44d\U0001f3fd", "\U0001f468\u200d\U0001f469\u200d\U0001f467", "\t", "\n",
    "\r", "é", "ß", "İ", "\u0301", "日本", "ℌ", ":", "#", "&", "*", "!", "%", "@", "`", "{", "}", "[", "]",
    ",", "-", "?", "|", ">", "'", '"', "\\", "/", "..", " ",
]  # fmt: skip
"""Characters that stress YAML quoting, Unicode handling and speech: controls, format characters,
emoji (with modifiers and joiners), combining marks, YAML indicators."""

TOKENS = [
    ":", ": ", "- ", "-", "&a ", "*a", "&a", "*b", "<<: ", "<<: *a", "<<: 1", "<<: [1]",
    "!!python/object/apply:os.system ['true']", "!!python/name:os.system", "!!python/object/new:dict {}",
    "!!binary aGk=", "!!float abc", "!!int abc", "!!bool maybe", "!!timestamp x", "!!str", "!!map", "!!seq",
    "!custom", "!<tag:yaml.org,2002:str>", "{", "}", "[", "]", "{}", "[]", ",", "? ", "|", ">", "|-", "#", "'",
    '"', "\t", "    ", "---", "...", "%YAML 1.1", "%TAG ! tag:x,2000:", "~", "null", "yes", "no", "on", "off",
    ".nan", ".NaN", ".inf", "-.inf", "0b_", "0x_", "-0b_", "0o7", "0b101", "0x1F", "1_000", "190:20:30",
    "1:30", "1m30s", "90s", "2 min", "-3s", "1e400", "1.5e3", "._", "1" * 5000, "9" * 40, "-1", "0", "0.0",
    "-0", "2.5", "1000000", "2024-13-45", "2024-01-01", "2001-12-14t21:59:43.10-05:00", "\U0001f525",
    "\u202e", "\u200b", "\x07", "\x00", "\ufeff", "a" * 5000, "word " * 900, '"\\U00110000"', '"\\UFFFFFFFF"',
    '"\\uD800"', '"\\x"',

]  # fmt: skip
"""Bits of YAML syntax and values that have broken YAML loaders: tags (the unsafe python/ ones
included), anchors, aliases, merge keys, odd numbers (binary, hexadecimal, sexagesimal, huge,
NaN), bad dates, raw control characters, very long texts."""

INVALID_UTF8 = [
    b"\xff",
    b"\xfe\xff",
    b"\xc3",
    b"\xc3\x28",
    b"\xed\xa0\x80",
    b"\xf4\x90\x80\x80",
    b"\x80",
]


FAST_SHARE = 4
"""`scripts/test --fast` (VOICEGUIDE_TEST_FAST) tries a quarter of the examples: it is the inner
loop, and the whole suite tries them all."""


def examples(default: int, *, per_example_cost: int = 1) -> int:
    """max_examples for a test: *default*, or VOICEGUIDE_FUZZ_EXAMPLES divided by how costly one
    example is (1 for the in-process loaders, about 25 for a CLI run that synthesizes speech), or a
    share of *default* in the inner loop (FAST_SHARE)."""
    wanted = os.environ.get("VOICEGUIDE_FUZZ_EXAMPLES")
    if wanted:
        return max(default, int(wanted) // per_example_cost)
    if os.environ.get("VOICEGUIDE_TEST_FAST"):
        return max(10, default // FAST_SHARE)
    return default


# -- scalars and documents -----------------------------------------------------------------------

texts = st.lists(
    st.one_of(st.characters(codec="utf-8"), st.sampled_from(NASTY_CHARACTERS)), max_size=20
).map("".join)
"""Any text without surrogates (which no file can hold), leaning on the nasty characters."""

duration_like = st.one_of(
    st.integers(-10, 4000),
    st.floats(-10, 4000),
    st.sampled_from(
        [
            "90s",
            "1m30s",
            "1:30",
            "2 min",
            "0:59.5",
            "1:60",
            "-3s",
            "5 s",
            "1e400",
            "3 secs",
            "m",
            "",
        ]
    ),
)

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-1000, 1000),
    st.integers(min_value=-(10**100), max_value=10**100),
    st.floats(allow_nan=True, allow_infinity=True),
    st.dates(),
    st.datetimes(min_value=datetime.datetime(1, 1, 1), max_value=datetime.datetime(9999, 12, 31)),
    texts,
    st.sampled_from(CHOICES),
    duration_like,
)
"""Every kind of YAML scalar safe_dump writes: null, bool, int (huge ones too), float (NaN and
infinities too), date, timestamp, text."""

keys = st.one_of(
    st.sampled_from(
        PLAN_KEYS + EXERCISE_KEYS + SETTINGS_KEYS + PROFILE_SETTINGS + ["seconds", *CHOICES]
    ),
    texts,
    st.integers(-5, 5),
    st.booleans(),
    st.none(),
)

yaml_values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=5) | st.dictionaries(keys, children, max_size=5),
    max_leaves=15,
)
"""Nested mappings and lists of any scalars."""


def _value_for(key: str) -> st.SearchStrategy[object]:
    """A value for *key*: mostly one of the right kind, sometimes anything."""
    plausible: st.SearchStrategy[object]
    if key in ("reps", "sets", "rate"):
        plausible = st.integers(-5, 600)
    elif key in ("volume", "beep_level", "hold_scale", "work_scale", "rest_scale"):
        plausible = (
            st.floats(-40, 12) | st.integers(-40, 12) | st.sampled_from([math.nan, math.inf])
        )
    elif key in ("counting", "instructions", "sides"):
        plausible = st.sampled_from(CHOICES) | st.lists(
            st.sampled_from(["left foot", "right foot", "middle"])
        )
    elif key == "phases":
        plausible = st.lists(
            st.dictionaries(st.sampled_from(["In", "Out", "name", "seconds"]), duration_like)
        )
    elif key == "progression":
        step = st.fixed_dictionaries(
            {"step": duration_like}, optional={"start": duration_like, "max": duration_like}
        )
        plausible = st.dictionaries(
            st.sampled_from(["hold", "work", "reps", "rest", "sets", "name"]), step
        )
    elif key in ("skip", "only"):
        plausible = st.booleans() | st.lists(st.sampled_from([*DEFAULT_PLAN_EXERCISES, "Nope"]))
    elif key in ("name", "title", "cue", "description", "notes", "voice"):
        plausible = texts
    else:
        plausible = duration_like
    return st.one_of(plausible, plausible, yaml_values)


@st.composite
def _mapping_of(
    draw: st.DrawFn, names: list[str], *, required: tuple[str, ...] = ()
) -> dict[object, object]:
    chosen = list(required) + draw(st.lists(st.sampled_from(names), max_size=6, unique=True))
    mapping: dict[object, object] = {key: draw(_value_for(key)) for key in chosen}
    if draw(st.integers(0, 9)) == 0:
        mapping[draw(keys)] = draw(yaml_values)
    return mapping


@st.composite
def plan_documents(draw: st.DrawFn) -> dict[object, object]:
    """A mapping shaped like a plan (title, settings, exercises) whose values may be anything."""
    plan = draw(_mapping_of([k for k in PLAN_KEYS if k != "settings"], required=("title",)))
    if draw(st.booleans()):
        plan["settings"] = draw(_mapping_of(SETTINGS_KEYS))
    plan["exercises"] = draw(st.lists(_mapping_of(EXERCISE_KEYS, required=("name",)), max_size=4))
    return plan


@st.composite
def profile_documents(draw: st.DrawFn) -> dict[object, object]:
    """A mapping shaped like a profile (name, settings, exercises by name) whose values may be
    anything."""
    profile: dict[object, object] = {}
    if draw(st.booleans()):
        profile["name"] = draw(texts)
    if draw(st.booleans()):
        profile["settings"] = draw(_mapping_of(PROFILE_SETTINGS))
    names = st.sampled_from([*DEFAULT_PLAN_EXERCISES, "toe PRESSES", "Nope"]) | texts
    profile["exercises"] = draw(st.dictionaries(names, _mapping_of(OVERRIDE_KEYS), max_size=3))
    return profile


@st.composite
def dumped(draw: st.DrawFn, documents: st.SearchStrategy[object]) -> str:
    """A document as YAML text, in block, flow or mixed style."""
    return yaml.safe_dump(
        draw(documents),
        default_flow_style=draw(st.sampled_from([False, True, None])),
        allow_unicode=draw(st.booleans()),
        sort_keys=False,
        width=draw(st.sampled_from([80, 12, 10_000])),
        explicit_start=draw(st.booleans()),
    )


# -- mutations of text ---------------------------------------------------------------------------

_VALUE = re.compile(r"^(?P<key>\s*(?:- )?[^:#\n]+:)(?P<value>.*)$")


@st.composite
def mutated(draw: st.DrawFn, originals: st.SearchStrategy[str], *, most: int = 4) -> bytes:
    """A text from *originals*, mutated from one to *most* times, as the bytes of a file."""
    lines = draw(originals).splitlines()
    inserted_bytes: list[tuple[int, bytes]] = []
    for _ in range(draw(st.integers(1, most))):
        if not lines:
            lines = [""]
        index = draw(st.integers(0, len(lines) - 1))
        line = lines[index]
        operation = draw(
            st.sampled_from(
                ["delete", "duplicate", "swap", "indent", "dedent", "tab", "replace", "insert", "value", "value",
                 "truncate", "new line", "bytes"]
            )
        )  # fmt: skip
        if operation == "delete":
            del lines[index]
        elif operation == "duplicate":
            lines.insert(index, line)
        elif operation == "swap":
            other = draw(st.integers(0, len(lines) - 1))
            lines[index], lines[other] = lines[other], line
        elif operation == "indent":
            lines[index] = " " * draw(st.integers(1, 6)) + line
        elif operation == "dedent":
            lines[index] = line[draw(st.integers(1, 4)) :]
        elif operation == "tab":
            lines[index] = "\t" + line.lstrip(" ")
        elif operation == "replace" and line:
            at = draw(st.integers(0, len(line) - 1))
            lines[index] = (
                line[:at]
                + draw(st.sampled_from(NASTY_CHARACTERS) | st.characters(codec="utf-8"))
                + line[at + 1 :]
            )
        elif operation == "insert":
            at = draw(st.integers(0, len(line)))
            lines[index] = line[:at] + draw(st.sampled_from(TOKENS)) + line[at:]
        elif operation == "value":
            match = _VALUE.match(line)
            if match:
                lines[index] = f"{match['key']} {draw(_inline_values)}"
        elif operation == "truncate":
            lines = [*lines[:index], line[: draw(st.integers(0, len(line)))]]
        elif operation == "new line":
            lines.insert(index, draw(st.sampled_from(TOKENS) | _inline_values))
        elif operation == "bytes":
            inserted_bytes.append((index, draw(st.sampled_from(INVALID_UTF8))))
    encoded = [line.encode("utf-8") for line in lines]
    for index, raw in inserted_bytes:
        if index < len(encoded):
            encoded[index] = raw + encoded[index]
    return b"\n".join(encoded) + b"\n"


def _inline(value: object) -> str:
    text = yaml.safe_dump(value, default_flow_style=True, width=10_000, allow_unicode=True)
    return text.removesuffix("\n...\n").rstrip("\n").replace("\n", " ")


_inline_values = st.one_of(st.sampled_from(TOKENS), scalars.map(_inline), yaml_values.map(_inline))
"""A value as it would be written after `key: ` on one line: a raw token or a dumped value."""


# -- files, options ------------------------------------------------------------------------------

random_documents = st.one_of(dumped(yaml_values), dumped(plan_documents()))
plan_files = st.one_of(
    random_documents.map(lambda text: text.encode("utf-8")),
    mutated(random_documents),
    mutated(st.sampled_from(list(SHIPPED_PLANS.values()))),
    mutated(st.just(SMALL_PLAN)),
)
"""The bytes of a plan file: a random document, or a mutated random document, shipped plan or small
plan."""

profile_files = st.one_of(
    dumped(profile_documents()).map(lambda text: text.encode("utf-8")),
    mutated(dumped(profile_documents())),
    mutated(st.sampled_from(list(SHIPPED_PROFILES.values()))),
)
"""The bytes of a profile file: a random profile-shaped document, or a mutated one or shipped one."""

cli_text = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=20)
"""Text that can be a command-line argument (any but NUL)."""

_set_paths = st.one_of(
    st.sampled_from(PROFILE_SETTINGS),
    st.sampled_from(PROFILE_SETTINGS).map(lambda key: f"settings.{key}"),
    st.tuples(
        st.sampled_from([*DEFAULT_PLAN_EXERCISES, "toe presses", "Nope", ""]),
        st.sampled_from(OVERRIDE_KEYS),
    ).map(".".join),
    st.sampled_from(OVERRIDE_KEYS),
    cli_text,
)
_set_values = st.one_of(
    st.sampled_from([t for t in TOKENS if "\x00" not in t]),
    scalars.map(_inline).filter(lambda text: "\x00" not in text),
    st.integers(0, 700).map(str),
    cli_text,
)

set_options = st.one_of(
    st.builds(
        lambda path, sign, value: f"{path}{sign}{value}",
        _set_paths,
        st.sampled_from(["=", "=", " = ", ""]),
        _set_values,
    ),
    cli_text,
)
"""`--set` option strings: PATH=VALUE with known and unknown paths, odd values, or no = at all."""


def _integer_option(low: int, high: int) -> st.SearchStrategy[str]:
    return st.one_of(
        st.integers(low, high).map(str), st.integers(-(10**6), 10**6).map(str), cli_text
    )


def _number_option(low: float, high: float) -> st.SearchStrategy[str]:
    special = st.sampled_from(["nan", "inf", "-inf", "1e400", "-0", "", "--1"])
    return st.one_of(st.floats(low, high).map(str), st.floats().map(str), special, cli_text)


voice_values = st.one_of(
    st.sampled_from(
        [
            "gmw/en-us",
            "en-us",
            "English (America)",
            "english (great britain)",
            "en",
            "Englsh",
            "no-such-voice",
        ]
    ),
    cli_text,
)

option_arguments = st.lists(
    st.one_of(
        st.tuples(st.just("--rate"), _integer_option(60, 400)),
        st.tuples(st.just("--week"), _integer_option(1, 520)),
        st.tuples(st.just("--set"), set_options),
        st.tuples(st.just("--voice"), voice_values),
        st.tuples(st.just("--loudness"), _number_option(-36, -10)),
        st.tuples(
            st.just("--format"),
            st.sampled_from(["mp3", "m4a", "ogg", "opus", "wav", "flac", ""]) | cli_text,
        ),
        st.tuples(
            st.just("--profile"),
            st.sampled_from(
                [str(DATA / "profiles" / "older-patient.yaml"), "no-such-profile.yaml"]
            ),
        ),
        st.tuples(st.sampled_from(["--allow-long", "--explain", "--json", "--frobnicate", "-h"])),
    ),
    max_size=4,
).map(lambda pairs: [argument for pair in pairs for argument in pair])
"""Command-line options with values in and out of their ranges (and some options a command lacks)."""
