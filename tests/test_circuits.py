"""Circuits: a block of exercises done for several rounds. Read from a plan, changed by a profile or
--set, laid out round after round (with a fake speech measure), shown in preview and chapters, and
built for real and decoded."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import audio_measure as am
import pytest
from click.testing import CliRunner
from test_loader import problems_of
from test_timeline import words
from test_transitions import gaps, tones

from voiceguide.build.session import RenderSettings, build_session, preview
from voiceguide.cli.commands import main
from voiceguide.common.errors import PlanError
from voiceguide.output.chapters import chapters_of
from voiceguide.plans.customize import customize
from voiceguide.plans.loader import load_plan, load_plan_text, shipped_plan_path
from voiceguide.plans.plan import Circuit, Plan
from voiceguide.plans.profile import parse_set
from voiceguide.script.report import table
from voiceguide.script.timeline import (
    EventKind,
    Phase,
    Timeline,
    Tone,
    build_timeline,
    running_order,
    shortest_length_ms,
)

PLAN = """\
title: Circuit test
settings:
  rest_between_exercises: 10
  lead_in: 5
  counting: last-3
exercises:
  - name: Warm-up march
    work: 20
  - circuit: Strength
    rounds: 3
    round_rest: 30
    exercises:
      - name: Squats
        instructions: Feet apart, sit back and stand up.
        cue: Sit back.
        work: 20
      - name: Push-ups
        instructions: Hands under your shoulders, lower your chest.
        work: 20
  - name: Stretch
    hold: 20
"""


def plan(text: str = PLAN) -> Plan:
    return load_plan_text(text, display_name="circuit.yaml")


def lay_out(plan: Plan) -> Timeline:
    return build_timeline(plan=plan, speech_ms=words)


def said(timeline: Timeline) -> list[str]:
    return [e.text for e in timeline.events if e.kind is EventKind.SPEECH and e.text]


def with_sets(*options: str, text: str = PLAN) -> Plan:
    return customize(plan=plan(text), layers=[parse_set(option) for option in options]).plan


# -- reading -------------------------------------------------------------------------------------


def test_a_circuit_is_read_with_its_rounds_rest_and_exercises() -> None:
    read = plan()
    assert read.circuits == (Circuit(name="Strength", rounds=3, round_rest_ms=30_000),)
    assert [(e.name, e.circuit) for e in read.exercises] == [
        ("Warm-up march", None),
        ("Squats", "Strength"),
        ("Push-ups", "Strength"),
        ("Stretch", None),
    ]


def test_a_circuits_rounds_and_rest_default_to_the_plans_settings() -> None:
    text = PLAN.replace("    rounds: 3\n    round_rest: 30\n", "").replace(
        "  counting: last-3\n", "  counting: last-3\n  rounds: 2\n"
    )
    assert plan(text).circuits == (Circuit(name="Strength", rounds=2, round_rest_ms=60_000),)


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (
            ("      - name: Push-ups\n", "      - circuit: Inner\n        exercises: []\n"),
            "circuit.yaml:17:9: exercises[1].exercises[1].circuit: a circuit cannot be part of "
            "another circuit; list its exercises in this one, or put the circuits one after the other",
        ),
        (
            ("  - name: Stretch\n", "  - name: strength\n"),
            "circuit.yaml:20:5: exercises[2]: the name 'strength' is already used by exercises[1]; "
            "give each exercise and circuit its own name",
        ),
        (
            ("    rounds: 3\n", "    rounds: 0\n"),
            "circuit.yaml:10:13: exercises[1].rounds: expected a whole number from 1 to 50, found 0",
        ),
        (
            ("    rounds: 3\n", "    rouds: 3\n"),
            "circuit.yaml:10:5: exercises[1].rouds: unknown field 'rouds'; did you mean 'rounds'? "
            "known fields: circuit, exercises, notes, round_rest, rounds",
        ),
    ],
)
def test_a_wrong_circuit_is_reported_where_it_is(change: tuple[str, str], problem: str) -> None:
    assert problems_of(PLAN.replace(*change).replace("plan.yaml", "circuit.yaml")) == [
        problem.replace("circuit.yaml", "plan.yaml")
    ]


def test_a_circuit_needs_exercises() -> None:
    text = "title: x\nexercises:\n  - circuit: Empty\n    exercises: []\n"
    [problem] = problems_of(text)
    assert problem.startswith("plan.yaml:4:16: exercises[0].exercises: ")
    assert "at least 1" in problem


# -- the order and the layout ---------------------------------------------------------------------


def test_the_running_order_does_the_block_once_a_round() -> None:
    turns = [(t.exercise.name, t.round, t.number) for t in running_order(plan())]
    assert turns == [
        ("Warm-up march", None, 1),
        ("Squats", 1, 2),
        ("Push-ups", 1, 3),
        ("Squats", 2, 2),
        ("Push-ups", 2, 3),
        ("Squats", 3, 2),
        ("Push-ups", 3, 3),
        ("Stretch", None, 4),
    ]


def test_rounds_are_announced_and_explained_in_full_only_in_the_first() -> None:
    """The circuit and its rounds before its first exercise; each later round by its number, the
    last as "Last round." (by its first exercise's announce_last); the instructions in round 1, the
    cue after (and neither for an exercise without a cue)."""
    spoken = said(lay_out(plan()))
    assert spoken.count("Strength: three rounds.") == 1
    assert spoken.index("Strength: three rounds.") < spoken.index("Exercise two of four: Squats.")
    rounds = [t for t in spoken if t.startswith(("Round ", "Last round"))]
    assert rounds == ["Round two of three.", "Last round."]
    numbered = said(lay_out(with_sets("Squats.announce_last=false")))
    assert [t for t in numbered if t.startswith(("Round ", "Last round"))] == [
        "Round two of three.",
        "Round three of three.",
    ]
    assert spoken.count("Feet apart, sit back and stand up.") == 1
    assert spoken.count("Sit back.") == 2
    assert spoken.count("Hands under your shoulders, lower your chest.") == 1
    assert spoken.count("Exercise three of four: Push-ups.") == 3


def test_the_rest_between_rounds_is_the_circuits_and_the_others_the_plans() -> None:
    """From an exercise's end tone to the next announcement: 30 s between rounds, the plan's 10 s
    between the other exercises; each rest says 'Rest.', the round, and the next exercise's heading."""
    timeline = lay_out(plan())
    rests = [e for e in timeline.events if e.phase is Phase.REST]
    starts = sorted({e.start_ms for e in rests if e.tone is Tone.END})
    lengths = []
    for start in starts:
        announce = next(
            e for e in timeline.events if e.start_ms >= start and e.phase is Phase.ANNOUNCE
        )
        lengths.append(announce.start_ms - start)
    assert lengths == [10_000, 10_000, 30_000, 10_000, 30_000, 10_000, 10_000]
    round_two = next(e for e in rests if e.text == "Round two of three.")
    in_that_rest = [e.text for e in rests if e.where == round_two.where and e.text]
    assert in_that_rest == ["Rest.", "Round two of three.", "Exercise two of four: Squats."]


def test_events_say_their_round_and_chapters_are_one_a_round() -> None:
    timeline = lay_out(plan())
    rounds = {(i.where.exercise, i.where.round, i.where.rounds) for i in timeline.intervals}
    assert ("Squats", 2, 3) in rounds and ("Warm-up march", None, None) in rounds
    titles = [chapter.title for chapter in chapters_of(timeline)]
    assert titles == [
        "Introduction",
        "Warm-up march",
        "Squats (1/3)",
        "Push-ups (1/3)",
        "Squats (2/3)",
        "Push-ups (2/3)",
        "Squats (3/3)",
        "Push-ups (3/3)",
        "Stretch",
        "Closing",
    ]
    assert "  work      round 2/3, rep 1" in table(timeline)


def test_a_circuit_of_one_round_is_its_exercises_once() -> None:
    """Nothing is said of a circuit done once, so a plan can hold one for `--set rounds=3`."""
    once = lay_out(with_sets("Strength.rounds=1"))
    plain = dataclasses.replace(plan(), circuits=())
    assert said(once) == said(lay_out(plain))
    assert once.total_ms == lay_out(plain).total_ms


def test_transitions_between_rounds_are_the_round_rest() -> None:
    """With fixed transitions: 10 s between exercises, the circuit's 30 s between rounds, with
    'Rest.' and the round before the next exercise's announcement."""
    timeline = lay_out(with_sets("transition=10"))
    assert gaps(timeline) == [10_000, 10_000, 30_000, 10_000, 30_000, 10_000, 10_000]
    end = tones(timeline, Tone.END)[2]
    inside = [
        e.text
        for e in timeline.events
        if end <= e.start_ms < end + 30_000 and e.kind is EventKind.SPEECH
    ]
    assert inside[:3] == ["Rest.", "Round two of three.", "Exercise two of four: Squats."]


def test_the_shortest_length_counts_every_round() -> None:
    read = plan()
    work, hold = 20_000, 20_000
    # lead-ins: one per turn (8); rests: 5 between exercises, 2 between rounds
    expected = 8 * 5_000 + 7 * work + hold + 5 * 10_000 + 2 * 30_000
    assert shortest_length_ms(read) == expected
    assert lay_out(read).total_ms > expected


# -- changing the rounds ---------------------------------------------------------------------------


def test_set_and_profiles_change_one_circuit_or_every_circuit() -> None:
    assert with_sets("Strength.rounds=5").circuits[0].rounds == 5
    assert with_sets("rounds=2").circuits[0].rounds == 2
    assert with_sets("strength.round_rest=45").circuits[0].round_rest_ms == 45_000
    # (rest_scale lengthens the rest between rounds as it does every rest)
    assert with_sets("rest_scale=2").circuits[0].round_rest_ms == 60_000


def test_preview_explains_each_circuits_values() -> None:
    layers = [parse_set("Strength.rounds=4")]
    explanation = customize(plan=plan(), layers=layers).explanation
    rows = {row.target: (row.value, row.source) for row in explanation}
    assert rows["Strength.rounds"] == ("4", "--set 'Strength.rounds=4'")
    assert rows["Strength.round_rest"] == ("30 s", "plan")


def test_skipping_a_circuit_skips_its_exercises() -> None:
    skipped = with_sets("skip=[Strength]")
    assert [e.name for e in skipped.exercises] == ["Warm-up march", "Stretch"]
    assert skipped.circuits == ()
    assert with_sets("Strength.skip=true").circuits == ()


@pytest.mark.parametrize(
    ("option", "problem"),
    [
        (
            "Squats.rounds=2",
            "--set 'Squats.rounds=2': 'Squats' is an exercise, and 'rounds' belongs to a circuit; "
            "the plan's circuits are: Strength",
        ),
        (
            "Strength.reps=2",
            "--set 'Strength.reps=2': 'Strength' is a circuit: it takes rounds, round_rest and "
            "skip; give 'reps' to its exercises (Squats, Push-ups)",
        ),
        (
            "Strenght.rounds=2",
            "--set 'Strenght.rounds=2': there is no exercise or circuit 'Strenght' in the plan. "
            "Did you mean 'Strength'? Its exercises are: Warm-up march, Squats, Push-ups, "
            "Stretch; its circuits are: Strength",
        ),
    ],
)
def test_a_value_for_the_wrong_kind_of_thing_says_what_to_do(option: str, problem: str) -> None:
    with pytest.raises(PlanError) as raised:
        with_sets(option)
    assert raised.value.problems == [problem]


@pytest.mark.speech  # (preview speaks every phrase to measure it)
@pytest.mark.runs_ffmpeg
def test_the_command_line_previews_rounds_and_refuses_misplaced_ones(tmp_path: Path) -> None:
    path = tmp_path / "circuit.yaml"
    path.write_text(PLAN)
    runner = CliRunner()
    shown = runner.invoke(
        main, ["preview", str(path), "--set", "Strength.rounds=2", "--engine", "espeak"]
    )
    assert shown.exit_code == 0, shown.output
    assert "round 2/2, rep 1" in shown.output and "round 3/" not in shown.output
    refused = runner.invoke(main, ["preview", str(path), "--set", "Squats.rounds=2"])
    assert refused.exit_code == 2
    assert "'Squats' is an exercise, and 'rounds' belongs to a circuit" in refused.output
    assert "Traceback" not in refused.output


# -- real speech, real audio ------------------------------------------------------------------------


@pytest.mark.speech
@pytest.mark.runs_ffmpeg  # (pydub's AudioSegment is set up with the ffmpeg voiceguide finds)
def test_the_seven_minute_workout_in_two_rounds_keeps_every_gap() -> None:
    """`--set rounds=2` on the shipped plan: 24 exercises, 10 s transitions within each round and
    the minute's rest between the rounds, every announcement fitting."""
    base = load_plan(shipped_plan_path("seven-minute-workout.yaml"))
    twice = customize(plan=base, layers=[parse_set("rounds=2")]).plan
    timeline = preview(plan=twice, settings=RenderSettings()).timeline
    assert len(tones(timeline, Tone.START)) == 24
    assert gaps(timeline) == [10_000] * 11 + [60_000] + [10_000] * 11
    assert not timeline.overruns, timeline.overruns


@pytest.mark.audio
def test_a_circuits_tones_sound_where_the_timeline_puts_them(tmp_path: Path) -> None:
    """Decoded: every start and end tone of every round heard where the timeline has it, within 5
    ms, and the rest between rounds its length to the millisecond's precision of the tones."""
    short = PLAN.replace("work: 20", "work: 6").replace("hold: 20", "hold: 6")
    short = short.replace("round_rest: 30", "round_rest: 12").replace("rounds: 3", "rounds: 2")
    built_plan = plan(short)
    settings = RenderSettings()
    result = build_session(plan=built_plan, output=tmp_path / "circuit.mp3", settings=settings)
    timeline = result.timeline
    assert timeline is not None
    samples = am.decode(result.path, sample_rate=settings.sample_rate)
    for tone in am.BUILT_IN_TONES:
        heard = [t.onset_ms for t in am.find_tones(samples, tone, sample_rate=settings.sample_rate)]
        expected = tones(timeline, tone)
        assert len(heard) == len(expected) == 6, (tone, heard, expected)
        for at, want in zip(heard, expected, strict=True):
            assert abs(at - want) <= 5, (tone, at, want)
    ends = tones(timeline, Tone.END)
    round_rest = next(
        e for e in timeline.events if e.text == "Last round." and e.phase is Phase.REST
    )
    rest_start = max(end for end in ends if end < round_rest.start_ms)
    announce = next(
        e for e in timeline.events if e.start_ms > round_rest.start_ms and e.phase is Phase.ANNOUNCE
    )
    assert announce.start_ms - rest_start == 12_000
