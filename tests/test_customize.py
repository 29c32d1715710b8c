"""The customization layer on its own: profiles and --set options read into layers, applied to a plan.

Pure: no speech and no audio. A small plan of five exercises (a hold, a work interval in sets, two
per-side exercises with left and right, and phases with sides that are neither) is customized, and
the effective plan, its explanation rows and its error messages are checked exactly. Where an
override shows only in what is said, the timeline is laid out with a fake speech measure.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from voiceguide.common.errors import PlanError
from voiceguide.plans.customize import Customized, Origin, customize
from voiceguide.plans.loader import load_plan_text
from voiceguide.plans.plan import Counting, Exercise, GapKind, Instructions, Plan
from voiceguide.plans.profile import Layer, load_profile, parse_set
from voiceguide.script.timeline import EventKind, Phase, Timeline, build_timeline

PLAN_TEXT = """\
title: Test plan
settings:
  rate: 150
  lead_in: 4
  rest_between_exercises: 10
  counting: every-second
exercises:
  - name: Toe presses
    instructions: Grip the floor with your toes.
    cue: Grip and hold.
    reps: 4
    hold: 3
    reset: 2
  - name: Walking on tiptoes
    instructions: Walk on your tiptoes.
    reps: 3
    sets: 2
    set_rest: 30
    work: 20
    rest: 15
    counting: last-3
  - name: Pulling the feet
    instructions: Pull the band toward you.
    reps: 2
    hold: 5
    reset: 3
    sides: [left foot, right foot]
    switch: 5
    progression:
      hold: {step: 1, max: 7}
  - name: Ankle circles
    instructions: Rotate the ankle.
    work: 10
    sides: [right leg, left leg]
    switch: 5
  - name: Breathing
    phases:
      - Inhale: 4
      - Exhale: 6
    sides: [upper chest, lower belly]
"""
NAMES = ("Toe presses", "Walking on tiptoes", "Pulling the feet", "Ankle circles", "Breathing")
EXERCISE_LIST = "Its exercises are: " + ", ".join(NAMES)


@pytest.fixture(scope="module")
def plan() -> Plan:
    return load_plan_text(PLAN_TEXT, display_name="plan.yaml")


def write_profile(folder: Path, text: str, name: str = "ann.yaml") -> Layer:
    """The profile *text* (dedented) read from a file, named *name* in messages."""
    path = folder / name
    path.write_text(textwrap.dedent(text))
    return load_profile(path, display_name=name)


def with_sets(
    plan: Plan, *options: str, before: tuple[Layer, ...] = (), week: int | None = None
) -> Customized:
    return customize(
        plan=plan, layers=[*before, *(parse_set(option) for option in options)], week=week
    )


def exercise(customized: Customized, name: str) -> Exercise:
    found = [e for e in customized.plan.exercises if e.name == name]
    assert len(found) == 1, (
        f"{name!r} is not (once) in {[e.name for e in customized.plan.exercises]}"
    )
    return found[0]


def row(customized: Customized, target: str) -> Origin:
    rows = [r for r in customized.explanation if r.target == target]
    assert len(rows) == 1, f"{len(rows)} explanation rows for {target!r}: {customized.explanation}"
    return rows[0]


def problems(call: Callable[[], object]) -> list[str]:
    """The problems of the PlanError *call* raises."""
    with pytest.raises(PlanError) as caught:
        call()
    return caught.value.problems


def hold_ms(customized: Customized, name: str) -> int:
    return exercise(customized, name).steps[0].duration_ms


def words(text: str) -> int:
    """The fake speech measure: 100 ms per word."""
    return 100 * len(text.split())


def lay_out(customized: Customized) -> Timeline:
    return build_timeline(plan=customized.plan, speech_ms=words)


def announced(timeline: Timeline, name: str) -> list[str]:
    """What announces exercise *name*: in the rest before it (which names it) and in its
    announcement."""
    before = (Phase.REST, Phase.ANNOUNCE)
    return [
        e.text
        for e in timeline.events
        if e.kind is EventKind.SPEECH
        and e.phase in before
        and e.where.exercise == name
        and e.where.set is None
        and e.text
    ]


# -- precedence: plan < profile < command line ----------------------------------------------------


PRECEDENCE_PROFILE = """\
    name: Ann
    settings:
      rate: 120
    exercises:
      Toe presses:
        reps: 6
    """


@pytest.mark.parametrize(
    ("option", "read", "plan_value", "profile_value", "cli_value"),
    [
        ("rate=130", lambda c: c.plan.rate, 150, 120, 130),
        ("Toe presses.reps=8", lambda c: exercise(c, "Toe presses").reps, 4, 6, 8),
    ],
    ids=["session setting", "exercise field"],
)
def test_command_line_beats_profile_beats_plan(
    plan: Plan,
    tmp_path: Path,
    option: str,
    read: Callable[[Customized], Any],
    plan_value: object,
    profile_value: object,
    cli_value: object,
) -> None:
    """The same field set in plan, profile and --set: the plan alone, the profile over it, --set over
    both."""
    profile = write_profile(tmp_path, PRECEDENCE_PROFILE)
    assert read(customize(plan=plan)) == plan_value
    assert read(customize(plan=plan, layers=[profile])) == profile_value
    assert read(with_sets(plan, option, before=(profile,))) == cli_value
    assert read(with_sets(plan, option)) == cli_value


def test_profile_exercise_setting_beats_its_global_setting(plan: Plan, tmp_path: Path) -> None:
    """Within a profile, a setting for one exercise beats the same setting for every exercise."""
    profile = write_profile(
        tmp_path,
        """\
        settings:
          lead_in: 7
        exercises:
          Toe presses:
            lead_in: 9
        """,
    )
    customized = customize(plan=plan, layers=[profile])
    assert {e.name: e.lead_in_ms for e in customized.plan.exercises} == {
        "Toe presses": 9000,
        "Walking on tiptoes": 7000,
        "Pulling the feet": 7000,
        "Ankle circles": 7000,
        "Breathing": 7000,
    }
    # A later layer's setting for every exercise beats an earlier layer's setting for one.
    overridden = with_sets(plan, "lead_in=6", before=(profile,))
    assert {e.lead_in_ms for e in overridden.plan.exercises} == {6000}


def test_later_set_beats_earlier_set(plan: Plan) -> None:
    """Of two --set options for the same field, the later one wins (exercise names in any case)."""
    assert with_sets(plan, "rate=130", "rate=140").plan.rate == 140
    assert with_sets(plan, "rate=140", "rate=130").plan.rate == 130
    customized = with_sets(plan, "Toe presses.reps=5", "toe PRESSES.reps=7")
    assert exercise(customized, "Toe presses").reps == 7
    assert row(customized, "Toe presses.reps").source == "--set 'toe PRESSES.reps=7'"
    unskipped = with_sets(plan, "skip=[Ankle circles]", "Ankle circles.skip=false")
    assert [e.name for e in unskipped.plan.exercises] == list(NAMES)


def test_later_only_list_replaces_an_earlier_one(plan: Plan, tmp_path: Path) -> None:
    """A profile's `only` list is replaced by a later `--set only=...`, not combined with it."""
    profile = write_profile(tmp_path, "settings:\n  only: [Toe presses, Walking on tiptoes]\n")
    assert [e.name for e in customize(plan=plan, layers=[profile]).plan.exercises] == [
        "Toe presses",
        "Walking on tiptoes",
    ]
    customized = with_sets(plan, "only=[Breathing]", before=(profile,))
    assert [e.name for e in customized.plan.exercises] == ["Breathing"]


# -- every setting has its effect ----------------------------------------------------------------


def _all(attribute: str) -> Callable[[Customized], dict[str, object]]:
    return lambda c: {e.name: getattr(e, attribute) for e in c.plan.exercises}


def _of(name: str, attribute: str) -> Callable[[Customized], object]:
    return lambda c: getattr(exercise(c, name), attribute)


def _gaps(c: Customized) -> dict[str, tuple[int, GapKind]]:
    return {e.name: (e.gap_ms, e.gap_kind) for e in c.plan.exercises if e.reps > 1}


EVERY_LEAD_IN = dict.fromkeys(NAMES, 8000)
EFFECTS: list[tuple[str, Callable[[Customized], object], object]] = [
    ("voice=gmw/en-us", lambda c: c.plan.voice, "gmw/en-us"),
    ("rate=120", lambda c: c.plan.rate, 120),
    ("volume=0.5", lambda c: c.plan.volume, 0.5),
    ("beep_level=-20", lambda c: c.plan.beep_level_db, -20.0),
    ("rest_between_exercises=20", lambda c: c.plan.rest_between_exercises_ms, 20_000),
    ("instructions=brief", lambda c: c.plan.instructions, Instructions.BRIEF),
    ("lead_in=8", _all("lead_in_ms"), EVERY_LEAD_IN),
    ("counting=none", lambda c: set(_all("counting")(c).values()), {Counting.NONE}),
    ("switch=8", lambda c: {e.switch_ms for e in c.plan.exercises}, {8000}),
    ("set_rest=40", lambda c: {e.set_rest_ms for e in c.plan.exercises}, {40_000}),
    (
        "rest=20",
        _gaps,
        {
            "Toe presses": (2000, GapKind.RESET),
            "Walking on tiptoes": (20_000, GapKind.REST),
            "Pulling the feet": (3000, GapKind.RESET),
        },
    ),
    (
        "reset=4",
        _gaps,
        {
            "Toe presses": (4000, GapKind.RESET),
            "Walking on tiptoes": (15_000, GapKind.REST),
            "Pulling the feet": (4000, GapKind.RESET),
        },
    ),
    ("Toe presses.reps=6", _of("Toe presses", "reps"), 6),
    ("Walking on tiptoes.sets=3", _of("Walking on tiptoes", "sets"), 3),
    ("Toe presses.hold=4.5", lambda c: hold_ms(c, "Toe presses"), 4500),
    ("Walking on tiptoes.work=25", lambda c: hold_ms(c, "Walking on tiptoes"), 25_000),
    ("Walking on tiptoes.rest=12", _of("Walking on tiptoes", "gap_ms"), 12_000),
    ("Toe presses.reset=5", _of("Toe presses", "gap_ms"), 5000),
    ("Toe presses.rest=6", lambda c: _gaps(c)["Toe presses"], (6000, GapKind.REST)),
    ("Walking on tiptoes.set_rest=45", _of("Walking on tiptoes", "set_rest_ms"), 45_000),
    ("Pulling the feet.switch=9", _of("Pulling the feet", "switch_ms"), 9000),
    ("Toe presses.lead_in=8", _of("Toe presses", "lead_in_ms"), 8000),
    ("Toe presses.counting=last-3", _of("Toe presses", "counting"), Counting.LAST_THREE),
    (
        "Toe presses.instructions=Press down gently.",
        _of("Toe presses", "instructions"),
        "Press down gently.",
    ),
    ("Toe presses.cue=Press.", _of("Toe presses", "cue"), "Press."),
    (
        "skip=[Walking on tiptoes, Breathing]",
        lambda c: [e.name for e in c.plan.exercises],
        ["Toe presses", "Pulling the feet", "Ankle circles"],
    ),
    (
        "only=[Breathing, Toe presses]",
        lambda c: [e.name for e in c.plan.exercises],
        ["Toe presses", "Breathing"],
    ),
    (
        "Ankle circles.skip=true",
        lambda c: [e.name for e in c.plan.exercises],
        [n for n in NAMES if n != "Ankle circles"],
    ),
]


@pytest.mark.parametrize(
    ("option", "read", "expected"), EFFECTS, ids=[option for option, _, _ in EFFECTS]
)
def test_every_setting_has_its_effect(
    plan: Plan, option: str, read: Callable[[Customized], object], expected: object
) -> None:
    """Each settable value, given with --set, changes the effective plan to exactly that value."""
    assert read(customize(plan=plan)) != expected, (
        "the plan already has this value: the case tests nothing"
    )
    assert read(with_sets(plan, option)) == expected


def test_scales_multiply_holds_work_and_rests_and_nothing_else(plan: Plan) -> None:
    """hold_scale scales holds and phases, work_scale work, rest_scale rests, resets, set rests and the
    rests between exercises; lead-ins and switches stay as they are."""
    base = customize(plan=plan)
    held = with_sets(plan, "hold_scale=1.5")
    assert [hold_ms(held, n) for n in NAMES] == [4500, 20_000, 7500, 10_000, 6000]
    assert [s.duration_ms for s in exercise(held, "Breathing").steps] == [6000, 9000]
    worked = with_sets(plan, "work_scale=0.75")
    assert [hold_ms(worked, n) for n in NAMES] == [3000, 15_000, 5000, 7500, 4000]
    rested = with_sets(plan, "rest_scale=1.5")
    assert [(e.gap_ms, e.set_rest_ms) for e in rested.plan.exercises] == [
        (e.gap_ms * 3 // 2, e.set_rest_ms * 3 // 2) for e in base.plan.exercises
    ]
    assert exercise(rested, "Walking on tiptoes").gap_ms == 22_500
    assert exercise(rested, "Walking on tiptoes").set_rest_ms == 45_000
    assert rested.plan.rest_between_exercises_ms == 15_000
    for scaled in (held, worked, rested):
        assert [(e.lead_in_ms, e.switch_ms) for e in scaled.plan.exercises] == [
            (e.lead_in_ms, e.switch_ms) for e in base.plan.exercises
        ]
    assert [hold_ms(rested, n) for n in NAMES] == [hold_ms(base, n) for n in NAMES]


@pytest.mark.parametrize(
    ("hold", "scale", "expected_ms"),
    [("3.001", "1.3", 3901), ("2.003", "0.7", 1402), ("0.501", "3.3", 1653)],
)
def test_scaled_durations_are_rounded_to_whole_milliseconds(
    plan: Plan, hold: str, scale: str, expected_ms: int
) -> None:
    """A scaled duration is the nearest whole millisecond, and the explanation shows the same value."""
    customized = with_sets(plan, f"Toe presses.hold={hold}", f"hold_scale={scale}")
    got = hold_ms(customized, "Toe presses")
    assert isinstance(got, int) and got == expected_ms
    assert row(customized, "Toe presses.hold").value == f"{expected_ms / 1000:g} s"


@pytest.mark.parametrize(
    ("choice", "pulling", "ankle"),
    [
        ("left", ("left foot",), ("left leg",)),
        ("right", ("right foot",), ("right leg",)),
        ("both", ("left foot", "right foot"), ("right leg", "left leg")),
        ("left-first", ("left foot", "right foot"), ("left leg", "right leg")),
        ("right-first", ("right foot", "left foot"), ("right leg", "left leg")),
    ],
)
def test_sides_setting_picks_and_orders_left_and_right(
    plan: Plan, choice: str, pulling: tuple[str, ...], ankle: tuple[str, ...]
) -> None:
    """`sides` for every exercise keeps or orders the sides named left and right; other sides stay as
    they are."""
    customized = with_sets(plan, f"sides={choice}")
    assert exercise(customized, "Pulling the feet").sides == pulling
    assert exercise(customized, "Ankle circles").sides == ankle
    assert exercise(customized, "Breathing").sides == ("upper chest", "lower belly")
    assert exercise(customized, "Toe presses").sides == ()


@pytest.mark.parametrize(
    ("option", "expected"),
    [
        ("Pulling the feet.sides=right", ("right foot",)),
        ("Pulling the feet.sides=right-first", ("right foot", "left foot")),
        ("Pulling the feet.sides=[right foot]", ("right foot",)),
        ("Pulling the feet.sides=[RIGHT FOOT, Left Foot]", ("right foot", "left foot")),
        ("Pulling the feet.sides=left foot", ("left foot",)),
        ("Breathing.sides=[lower belly]", ("lower belly",)),
    ],
)
def test_sides_of_one_exercise(plan: Plan, option: str, expected: tuple[str, ...]) -> None:
    """An exercise's sides by choice or as an explicit list of its own sides, in the order given."""
    customized = with_sets(plan, option)
    name = option.split(".")[0]
    assert exercise(customized, name).sides == expected
    assert row(customized, f"{name}.sides").source == f"--set {option!r}"


def test_both_sides_of_an_exercise_whose_sides_are_not_left_and_right(plan: Plan) -> None:
    """`sides: both` for one exercise keeps all its sides, whatever they are called."""
    customized = with_sets(plan, "Breathing.sides=both")
    assert exercise(customized, "Breathing").sides == ("upper chest", "lower belly")


def test_one_side_has_no_switch(plan: Plan) -> None:
    """With one side left, the explanation lists no switch and the timeline has no switch slot."""
    customized = with_sets(plan, "sides=left")
    targets = {r.target for r in customized.explanation}
    assert "Pulling the feet.switch" not in targets and "Ankle circles.switch" not in targets
    assert "Pulling the feet.switch" in {r.target for r in customize(plan=plan).explanation}
    switches = [e for e in lay_out(customized).events if e.phase is Phase.SWITCH]
    assert {e.where.exercise for e in switches} == {"Breathing"}


# -- instructions and counting, as said -----------------------------------------------------------


@pytest.mark.parametrize(
    ("option", "week", "says_instructions"),
    [
        ("instructions=full", None, True),
        ("instructions=full", 3, True),
        ("instructions=brief", None, False),
        ("instructions=first-week", None, True),
        ("instructions=first-week", 1, True),
        ("instructions=first-week", 2, False),
    ],
)
def test_instructions_setting_chooses_what_announcements_say(
    plan: Plan, option: str, week: int | None, says_instructions: bool
) -> None:
    """full says the instructions always, brief the cue, first-week the instructions only in week 1."""
    timeline = lay_out(with_sets(plan, option, week=week))
    toe = announced(timeline, "Toe presses")
    walking = announced(timeline, "Walking on tiptoes")
    if says_instructions:
        assert "Grip the floor with your toes." in toe and "Grip and hold." not in toe
        assert "Walk on your tiptoes." in walking
    else:
        assert "Grip and hold." in toe and "Grip the floor with your toes." not in toe
        # An exercise without a cue says neither.
        assert "Walk on your tiptoes." not in walking
        assert walking[:2] == ["Rest.", "Exercise two of five: Walking on tiptoes."]


def test_exercise_instructions_and_cue_are_what_is_said(plan: Plan) -> None:
    """An exercise's instructions and cue set with --set are the words of its announcement."""
    timeline = lay_out(with_sets(plan, "Toe presses.instructions=Press down gently."))
    assert "Press down gently." in announced(timeline, "Toe presses")
    assert "Grip the floor with your toes." not in {e.text for e in timeline.events}
    brief = lay_out(
        with_sets(plan, "instructions=brief", "Walking on tiptoes.cue=Up on your toes.")
    )
    assert "Up on your toes." in announced(brief, "Walking on tiptoes")


def test_counting_none_silences_the_counts(plan: Plan) -> None:
    """counting=none leaves no spoken number in any hold; the plan's counting says them."""
    numbers = {"one", "two", "three", "four"}

    def counts(customized: Customized) -> int:
        timeline = lay_out(customized)
        return sum(
            e.text in numbers
            for e in timeline.events
            if e.phase in (Phase.HOLD, Phase.WORK, Phase.STEP)
        )

    assert counts(customize(plan=plan)) > 10
    assert counts(with_sets(plan, "counting=none")) == 0


# -- progression ---------------------------------------------------------------------------------

PROGRESSION_PROFILE = """\
    name: Bo
    exercises:
      Toe presses:
        progression:
          hold: {start: 2, step: 1.5, max: 6}
          reps: {step: -1, min: 2}
    """


@pytest.mark.parametrize(
    ("week", "hold", "reps"),
    [(None, 2000, 4), (1, 2000, 4), (2, 3500, 3), (3, 5000, 2), (4, 6000, 2), (52, 6000, 2)],
)
def test_progression_by_week(
    plan: Plan, tmp_path: Path, week: int | None, hold: int, reps: int
) -> None:
    """Week 1 is the start, each week adds the step up to max (or down to min); without a week,
    week 1, saying where the progression that made it so is."""
    profile = write_profile(tmp_path, PROGRESSION_PROFILE)
    customized = customize(plan=plan, layers=[profile], week=week)
    assert (hold_ms(customized, "Toe presses"), exercise(customized, "Toe presses").reps) == (
        hold,
        reps,
    )
    assert customized.plan.week == (week or 1)
    assert customized.week_one_for == (None if week else "ann.yaml:3:3"), customized.week_one_for


def test_plan_progression_then_scale(plan: Plan) -> None:
    """The plan's own progression gives the week's value, and hold_scale multiplies it after."""
    assert hold_ms(customize(plan=plan, week=3), "Pulling the feet") == 7000
    assert hold_ms(customize(plan=plan, week=9), "Pulling the feet") == 7000
    assert hold_ms(with_sets(plan, "hold_scale=1.5", week=2), "Pulling the feet") == 9000
    customized = customize(plan=plan, week=2)
    assert row(customized, "Pulling the feet.hold") == Origin(
        "Pulling the feet.hold", "6 s", "plan, week 2 by the progression in plan"
    )


@pytest.mark.parametrize(
    ("field", "last_good_week", "shown"),
    [
        ("rest: {step: -5}", 4, "-5 s"),
        ("reps: {step: -1}", 3, "0"),
        ("work: {step: -6}", 4, "-4 s"),
    ],
)
def test_progression_below_its_least_without_min_is_an_error_naming_the_week(
    plan: Plan, tmp_path: Path, field: str, last_good_week: int, shown: str
) -> None:
    """A step down that would pass the least value (0 s, 1 rep, 0.5 s of work) names the week it
    happens."""
    profile = write_profile(
        tmp_path,
        f"exercises:\n  Walking on tiptoes:\n    progression:\n      {field}\n",
        name="down.yaml",
    )
    customize(plan=plan, layers=[profile], week=last_good_week)
    week = last_good_week + 1
    key = field.split(":")[0]
    assert problems(lambda: customize(plan=plan, layers=[profile], week=week)) == [
        f"down.yaml:2:3: in week {week}, Walking on tiptoes.{key} would be {shown}; "
        "give the progression a 'min' it cannot go below"
    ]


def test_progression_of_a_field_the_exercise_does_not_have_is_an_error(
    plan: Plan, tmp_path: Path
) -> None:
    """A profile's progression of `hold` for an exercise timed with `work` is refused, as it is in a
    plan."""
    profile = write_profile(
        tmp_path,
        "exercises:\n  Walking on tiptoes:\n    progression:\n      hold: {step: 1}\n",
        name="p.yaml",
    )
    found = problems(lambda: customize(plan=plan, layers=[profile], week=3))
    assert len(found) == 1 and found[0].startswith("p.yaml:") and "'work'" in found[0], found


# -- where each value comes from -----------------------------------------------------------------

EXPLAINED_PROFILE = """\
    name: Ann
    settings:
      rate: 120
      rest_scale: 1.5
    exercises:
      Walking on tiptoes:
        rest: 20
      Ankle circles:
        skip: true
    """


def test_explanation_names_plan_profile_position_and_set_option(plan: Plan, tmp_path: Path) -> None:
    """Each row names its source: the plan, the profile's file:line:col, or the --set option, with the
    scale."""
    profile = write_profile(tmp_path, EXPLAINED_PROFILE)
    customized = with_sets(plan, "Toe presses.reps=6", "hold_scale=1.5", before=(profile,))
    assert customized.person == "Ann"
    expected = [
        Origin("rate", "120", "ann.yaml:3:9"),
        Origin("volume", "1", "plan"),
        Origin("rest_between_exercises", "15 s", "plan x 1.5 (rest_scale, ann.yaml:4:15)"),
        Origin("hold_scale", "1.5", "--set 'hold_scale=1.5'"),
        Origin("rest_scale", "1.5", "ann.yaml:4:15"),
        Origin("Toe presses.reps", "6", "--set 'Toe presses.reps=6'"),
        Origin("Toe presses.hold", "4.5 s", "plan x 1.5 (hold_scale, --set 'hold_scale=1.5')"),
        Origin("Toe presses.reset", "3 s", "plan x 1.5 (rest_scale, ann.yaml:4:15)"),
        Origin("Toe presses.lead_in", "4 s", "plan"),
        Origin("Walking on tiptoes.work", "20 s", "plan"),
        Origin(
            "Walking on tiptoes.rest", "30 s", "ann.yaml:7:11 x 1.5 (rest_scale, ann.yaml:4:15)"
        ),
        Origin("Walking on tiptoes.set_rest", "45 s", "plan x 1.5 (rest_scale, ann.yaml:4:15)"),
        Origin("Walking on tiptoes.counting", "last-3", "plan"),
        Origin("Ankle circles", "skipped", "ann.yaml:9:11"),
        Origin(
            "Breathing.phases",
            "Inhale 6 s, Exhale 9 s",
            "plan x 1.5 (hold_scale, --set 'hold_scale=1.5')",
        ),
        Origin("Breathing.sides", "upper chest, lower belly", "plan"),
    ]
    for origin in expected:
        assert row(customized, origin.target) == origin
    assert not [r for r in customized.explanation if r.target.startswith("Ankle circles.")]


def test_explanation_without_layers_says_plan_everywhere(plan: Plan) -> None:
    """With no profile and no options, every value comes from the plan and no one is named."""
    customized = customize(plan=plan)
    assert customized.person is None
    # (The plan's own progression makes this week 1: its values say so, and come from the plan too.)
    assert {r.source for r in customized.explanation} == {
        "plan",
        "plan, week 1 by the progression in plan",
    }
    assert row(customized, "Walking on tiptoes.rest").value == "15 s"
    assert row(customized, "Pulling the feet.reset").value == "3 s"


# -- mistakes and their messages ------------------------------------------------------------------


def test_unknown_exercise_in_profile_lists_the_plan_and_suggests(
    plan: Plan, tmp_path: Path
) -> None:
    """A profile naming an exercise the plan lacks is refused at its line, with the close name and the
    list."""
    profile = write_profile(tmp_path, "name: Ann\nexercises:\n  Toe pressed:\n    reps: 3\n")
    assert problems(lambda: customize(plan=plan, layers=[profile])) == [
        f"ann.yaml:3:3: there is no exercise 'Toe pressed' in the plan. Did you mean 'Toe presses'? {EXERCISE_LIST}"
    ]


def test_unknown_exercise_in_set_lists_the_plan_and_suggests(plan: Plan) -> None:
    """A --set naming an exercise the plan lacks names the option, the close name and the plan's
    exercises."""
    assert problems(lambda: with_sets(plan, "Pulling the foot.reps=3")) == [
        "--set 'Pulling the foot.reps=3': there is no exercise 'Pulling the foot' in the plan. "
        f"Did you mean 'Pulling the feet'? {EXERCISE_LIST}"
    ]


def test_unknown_exercise_without_a_close_name_reads_as_sentences(plan: Plan) -> None:
    """With nothing close to suggest, the message still ends one sentence before listing the exercises."""
    [message] = problems(lambda: with_sets(plan, "Zumba.reps=3"))
    assert message.startswith("--set 'Zumba.reps=3': there is no exercise 'Zumba' in the plan")
    assert message.endswith(EXERCISE_LIST)
    assert re.search(r"in the plan[.;:] Its exercises are", message), message


def test_every_problem_of_a_profile_is_listed(plan: Plan, tmp_path: Path) -> None:
    """Several overrides that do not fit the plan are all reported at once, each at its place."""
    profile = write_profile(
        tmp_path,
        """\
        exercises:
          Walking on tiptoes:
            hold: 3
          Toe presses:
            sides: left
          Nothing like it: {reps: 2}
        """,
    )
    found = problems(lambda: customize(plan=plan, layers=[profile]))
    assert (
        found[0]
        == "ann.yaml:3:11: 'Walking on tiptoes' is timed with 'work', so it has no 'hold' to set"
    )
    assert (
        found[1]
        == "ann.yaml:5:12: 'Toe presses' has no left side; its sides are: none (it is not done per side)"
    )
    assert found[2].startswith("ann.yaml:6:3: there is no exercise 'Nothing like it' in the plan")
    assert len(found) == 3


@pytest.mark.parametrize(
    ("option", "message"),
    [
        (
            "Walking on tiptoes.hold=3",
            "'Walking on tiptoes' is timed with 'work', so it has no 'hold' to set",
        ),
        ("Toe presses.work=3", "'Toe presses' is timed with 'hold', so it has no 'work' to set"),
        ("Breathing.hold=3", "'Breathing' is timed with 'phases', so it has no 'hold' to set"),
        (
            "Pulling the feet.sides=[middle foot]",
            "'Pulling the feet' has no side 'middle foot'; its sides are: ",
        ),
        (
            "Toe presses.sides=right",
            "'Toe presses' has no right side; its sides are: none (it is not done per side)",
        ),
        (
            "Breathing.sides=left",
            "'Breathing' has no left side; its sides are: upper chest, lower belly",
        ),
        (
            "only=[Toe pressed]",
            "there is no exercise 'Toe pressed' in the plan. Did you mean 'Toe presses'?",
        ),
    ],
)
def test_overrides_that_do_not_fit_the_plan(plan: Plan, option: str, message: str) -> None:
    """A value for a field or side the exercise does not have is refused, naming the --set and what it
    has."""
    [found] = problems(lambda: with_sets(plan, option))
    assert found.startswith(f"--set {option!r}: {message}"), found


def test_unknown_setting_in_profile_names_position_and_suggests(tmp_path: Path) -> None:
    """A misspelt setting in a profile is refused at file:line:col, with the setting it is close to."""
    with pytest.raises(PlanError) as caught:
        write_profile(tmp_path, "name: Ann\nsettings:\n  rate: 120\n  hodl_scale: 2\n")
    assert caught.value.subject == "the profile"
    [message] = caught.value.problems
    assert message.startswith(
        "ann.yaml:4:3: settings.hodl_scale: unknown field 'hodl_scale'; did you mean 'hold_scale'?"
    )


def test_unknown_exercise_field_in_profile_names_position_and_suggests(tmp_path: Path) -> None:
    """A misspelt field of an exercise in a profile is refused at file:line:col, with the field it is
    close to."""
    with pytest.raises(PlanError) as caught:
        write_profile(tmp_path, "exercises:\n  Toe presses:\n    hodl: 3\n")
    [message] = caught.value.problems
    assert message.startswith(
        "ann.yaml:3:5: exercises.Toe presses.hodl: unknown field 'hodl'; did you mean 'hold'?"
    )


def test_bad_value_in_profile_names_position(tmp_path: Path) -> None:
    """A value out of range in a profile is refused at its own line and column."""
    with pytest.raises(PlanError) as caught:
        write_profile(tmp_path, "settings:\n  hold_scale: 20\n  sides: leftish\n")
    hold_scale, sides = caught.value.problems
    assert (
        hold_scale
        == "ann.yaml:2:15: settings.hold_scale: expected a number from 0.1 to 10, found 20"
    )
    assert sides.startswith(
        "ann.yaml:3:10: settings.sides: expected one of: both, left, right, left-first, right-first; "
        "found the text 'leftish'"
    )


@pytest.mark.parametrize("option", ["rate120", "=120", "rate=", "rate=  "])
def test_set_without_path_and_value(option: str) -> None:
    """A --set that is not PATH=VALUE is refused with an example of the form."""
    assert problems(lambda: parse_set(option)) == [
        f'--set {option!r}: expected PATH=VALUE, such as rate=120 or "Toe presses.reps=5"'
    ]


@pytest.mark.parametrize(
    ("option", "message"),
    [
        ("rate=fast", "rate: expected a whole number from 60 to 400, found the text 'fast'"),
        ("rate=1000", "rate: expected a whole number from 60 to 400, found 1000"),
        ("hold_scale=0", "hold_scale: expected a number from 0.1 to 10, found 0"),
        (
            "Toe presses.hold=soon",
            'Toe presses.hold: expected a duration in seconds (like 5, 2.5, "90s",',
        ),
        ("Toe presses.reps=0", "Toe presses.reps: expected a whole number from 1 to 500, found 0"),
        (
            "counting=sometimes",
            "counting: expected one of: auto, every-second, seconds-left, last-3, none; found the text 'sometimes'",
        ),
        (
            "Toe presses.skip=maybe",
            "Toe presses.skip: expected true or false, found the text 'maybe'",
        ),
        ("rate=[120", "the value '[120' is not a valid YAML value"),
    ],
)
def test_set_with_a_bad_value_names_the_option(option: str, message: str) -> None:
    """A --set whose value is wrong is refused with a message that starts with the option as given."""
    with pytest.raises(PlanError) as caught:
        parse_set(option)
    [found] = caught.value.problems
    assert found.startswith(f"--set {option!r}: {message}"), found
    assert caught.value.subject == "the --set option"


def test_set_of_an_unknown_setting_suggests_the_close_one() -> None:
    """A --set of a path that is neither a setting nor EXERCISE.FIELD suggests the name it is close to."""
    [found] = problems(lambda: parse_set("hold_scael=2"))
    assert found.startswith("--set 'hold_scael=2': 'hold_scael' is neither a setting (")
    assert found.endswith("did you mean 'hold_scale'?")


@pytest.mark.parametrize("option", ["hold=3", "Toe presses.progression={step: 1}"])
def test_set_refused_does_not_suggest_the_name_it_refuses(option: str) -> None:
    """A --set of an exercise field without its exercise (or of a progression) says what to write
    instead."""
    [found] = problems(lambda: parse_set(option))
    name = option.split("=")[0].rpartition(".")[2]
    assert found.startswith(f"--set {option!r}: ")
    assert f"did you mean {name!r}?" not in found, found
    assert "EXERCISE.hold=VALUE" in found or "in a plan or a profile, not with --set" in found, (
        found
    )


def test_skipping_everything_is_an_error(plan: Plan, tmp_path: Path) -> None:
    """A profile that skips every exercise of the plan is refused: a session needs one."""
    profile = write_profile(tmp_path, f"settings:\n  skip: [{', '.join(NAMES)}]\n")
    message = f"{plan.source_name}: every exercise of the plan is skipped (by `only` or `skip`); keep at least one"
    assert problems(lambda: customize(plan=plan, layers=[profile])) == [message]
    assert problems(lambda: with_sets(plan, "only=[Toe presses]", "Toe presses.skip=true")) == [
        message
    ]


def test_a_value_set_after_a_progression_wins_over_it(plan: Plan, tmp_path: Path) -> None:
    """A --set of a field that a profile's progression grows gives that value in every week."""
    profile = tmp_path / "grow.yaml"
    profile.write_text(
        "exercises:\n  Toe presses:\n    progression:\n      hold: {start: 3, step: 1}\n"
    )
    layers = [load_profile(profile), parse_set("Toe presses.hold=8")]
    for week in (1, 4):
        effective = customize(plan=plan, layers=layers, week=week).plan
        toe_presses = next(e for e in effective.exercises if e.name == "Toe presses")
        assert toe_presses.steps[0].duration_ms == 8000
    without_set = customize(plan=plan, layers=layers[:1], week=4).plan
    assert (
        next(e for e in without_set.exercises if e.name == "Toe presses").steps[0].duration_ms
        == 6000
    )
