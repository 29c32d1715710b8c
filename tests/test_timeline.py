"""Exact timelines of small plans, laid out with a fake speech measure (100 ms per word)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from voiceguide.plans.loader import load_plan, shipped_plan_path
from voiceguide.plans.plan import Counting, Exercise, GapKind, Plan, Step, StepKind
from voiceguide.script.timeline import (
    Event,
    EventKind,
    Interval,
    Overrun,
    Phase,
    Timeline,
    Tone,
    Where,
    build_timeline,
)
from voiceguide.script.wording import Wording

about_duration = Wording().about_duration


def words(text: str) -> int:
    """The fake speech measure: 100 ms per word."""
    return 100 * len(text.split())


def measure_with(overrides: dict[str, int]):
    """100 ms per word, except for the phrases given."""
    return lambda text: overrides.get(text, words(text))


def hold(ms: int) -> tuple[Step, ...]:
    return (Step(name="Hold", kind=StepKind.HOLD, duration_ms=ms),)


def work(ms: int) -> tuple[Step, ...]:
    return (Step(name="Go", kind=StepKind.WORK, duration_ms=ms),)


BASE_EXERCISE = Exercise(
    name="A",
    instructions=None,
    steps=(Step(name="Hold", kind=StepKind.HOLD, duration_ms=3000),),
    reps=1,
    gap_ms=0,
    gap_kind=GapKind.RESET,
    sides=(),
    switch_ms=5000,
    sets=1,
    set_rest_ms=30_000,
    lead_in_ms=5000,
    counting=Counting.EVERY_SECOND,
)


def make_exercise(**overrides: Any) -> Exercise:
    return replace(BASE_EXERCISE, **overrides)


BASE_PLAN = Plan(
    title="T",
    description=None,
    frequency=None,
    equipment=(),
    safety="Be safe.",
    sources=(),
    notes=None,
    voice=None,
    rate=150,
    rest_between_exercises_ms=15_000,
    exercises=(),
    source_name="plan.yaml",
)


def make_plan(*exercises: Exercise, **overrides: Any) -> Plan:
    return replace(BASE_PLAN, exercises=exercises, **overrides)


def lay_out(*exercises: Exercise, measure=words, **overrides: object) -> Timeline:
    return build_timeline(plan=make_plan(*exercises, **overrides), speech_ms=measure)


def label(event: Event) -> str:
    if event.kind is EventKind.TONE:
        assert event.tone is not None
        return f"<{event.tone.value}>"
    assert event.text is not None
    return event.text


def cues(timeline: Timeline, start: int, end: int) -> list[tuple[int, int, str]]:
    """Tones and speech starting in [start, end), as (start, end, what) relative to *start*."""
    return [
        (e.start_ms - start, e.end_ms - start, label(e))
        for e in timeline.events
        if e.kind is not EventKind.SILENCE and start <= e.start_ms < end
    ]


def spans(timeline: Timeline) -> list[tuple[int, int, str, Where]]:
    return [(i.start_ms, i.end_ms, i.name, i.where) for i in timeline.intervals]


# -- a single rep, end to end --------------------------------------------------------------------


def test_single_hold_rep_whole_timeline() -> None:
    """One 3 s hold: every event of the session at its exact time, from the lead silence to the tail."""
    timeline = lay_out(make_exercise())
    intro, announce, lead, hold_, outro = (
        Phase.INTRO,
        Phase.ANNOUNCE,
        Phase.LEAD_IN,
        Phase.HOLD,
        Phase.OUTRO,
    )
    S, P, T = EventKind.SILENCE, EventKind.SPEECH, EventKind.TONE
    got = [(e.start_ms, e.end_ms, e.kind, e.phase, e.text or e.tone) for e in timeline.events]
    assert got == [
        (0, 500, S, intro, None),
        (500, 600, P, intro, "T."),
        (600, 1000, S, intro, None),
        (1000, 1200, P, intro, "Be safe."),
        (1200, 1600, S, intro, None),
        (1600, 2200, P, intro, "This session takes about twenty seconds."),
        (2200, 2600, S, intro, None),
        (2600, 2800, P, intro, "Let's begin."),
        (2800, 3600, S, intro, None),
        (3600, 3700, P, announce, "A."),
        (3700, 4100, S, announce, None),
        (4100, 4700, P, announce, "One rep. Hold for three seconds."),
        (4700, 5500, S, announce, None),
        (5500, 5700, P, lead, "Get ready."),
        (5700, 7500, S, lead, None),
        (7500, 7600, P, lead, "three"),
        (7600, 8500, S, lead, None),
        (8500, 8600, P, lead, "two"),
        (8600, 9500, S, lead, None),
        (9500, 9600, P, lead, "one"),
        (9600, 10_500, S, lead, None),
        (10_500, 10_650, T, hold_, Tone.START),
        (10_650, 10_710, S, hold_, None),
        (10_710, 10_810, P, hold_, "Hold."),
        (10_810, 11_500, S, hold_, None),
        (11_500, 11_600, P, hold_, "two"),
        (11_600, 12_500, S, hold_, None),
        (12_500, 12_600, P, hold_, "one"),
        (12_600, 13_500, S, hold_, None),
        (13_500, 13_750, T, outro, Tone.END),
        (13_750, 14_150, S, outro, None),
        (14_150, 15_050, P, outro, "Well done. That is the end of the session."),
        (15_050, 16_550, S, outro, None),
    ]
    assert timeline.intervals == (
        Interval(
            start_ms=10_500,
            end_ms=13_500,
            phase=Phase.HOLD,
            name="Hold",
            where=Where(exercise="A", rep=1),
        ),
    )
    assert timeline.total_ms == 16_550
    assert timeline.overruns == ()
    assert timeline.title == "T"


def test_hold_cues_relative_to_the_start_tone() -> None:
    """A hold: start tone at 0, "Hold." 60 ms after the tone, counts on the seconds, end tone at the
    hold's end."""
    timeline = lay_out(make_exercise(steps=hold(4000)))
    (interval,) = timeline.intervals
    assert interval.end_ms - interval.start_ms == 4000
    assert cues(timeline, interval.start_ms, interval.end_ms + 1) == [
        (0, 150, "<start>"),
        (210, 310, "Hold."),
        (1000, 1100, "three"),
        (2000, 2100, "two"),
        (3000, 3100, "one"),
        (4000, 4250, "<end>"),
    ]


# -- gaps between reps ---------------------------------------------------------------------------


def test_reps_with_a_reset_gap() -> None:
    """Two 2 s holds with a 3 s reset: end tone, "Release.", "Last rep." (the next rep, the final
    one), then the next start tone."""
    timeline = lay_out(make_exercise(steps=hold(2000), reps=2, gap_ms=3000, gap_kind=GapKind.RESET))
    first, _second = timeline.intervals
    start = first.start_ms
    assert spans(timeline) == [
        (start, start + 2000, "Hold", Where(exercise="A", rep=1)),
        (start + 5000, start + 7000, "Hold", Where(exercise="A", rep=2)),
    ]
    assert cues(timeline, start, start + 7001) == [
        (0, 150, "<start>"),
        (210, 310, "Hold."),
        (1000, 1100, "one"),
        (2000, 2250, "<end>"),
        (2310, 2410, "Release."),
        (2560, 2760, "Last rep."),
        (5000, 5150, "<start>"),
        (5210, 5310, "Hold."),
        (6000, 6100, "one"),
        (7000, 7250, "<end>"),
    ]
    gap = [e for e in timeline.events if start + 2000 <= e.start_ms < start + 5000]
    assert {e.phase for e in gap} == {Phase.RESET}


def test_work_with_rest_and_countdown() -> None:
    """Two 3 s work rounds with a 6 s rest: "Rest.", "Last round.", and 3-2-1 on the last seconds of
    the rest."""
    timeline = lay_out(make_exercise(steps=work(3000), reps=2, gap_ms=6000, gap_kind=GapKind.REST))
    first, second = timeline.intervals
    start = first.start_ms
    assert (first.phase, first.name, second.start_ms, second.end_ms) == (
        Phase.WORK,
        "Go",
        start + 9000,
        start + 12_000,
    )
    assert cues(timeline, start, start + 9001) == [
        (0, 150, "<start>"),
        (210, 310, "Go!"),
        (1000, 1100, "two"),
        (2000, 2100, "one"),
        (3000, 3250, "<end>"),
        (3310, 3410, "Rest."),
        (3560, 3760, "Last round."),
        (6000, 6100, "three"),
        (7000, 7100, "two"),
        (8000, 8100, "one"),
        (9000, 9150, "<start>"),
    ]
    rest = [e for e in timeline.events if start + 3000 <= e.start_ms < start + 9000]
    assert {e.phase for e in rest} == {Phase.REST}


@pytest.mark.parametrize(("rest_ms", "countdown"), [(4999, False), (5000, True), (20_000, True)])
def test_countdown_only_in_rests_of_five_seconds_or_more(rest_ms: int, countdown: bool) -> None:
    """A rest gets 3-2-1 at its last three seconds only if it lasts at least 5 s."""
    timeline = lay_out(
        make_exercise(steps=work(2000), reps=2, gap_ms=rest_ms, gap_kind=GapKind.REST)
    )
    first, second = timeline.intervals
    assert second.start_ms == first.end_ms + rest_ms
    got = cues(timeline, first.end_ms, second.start_ms)
    expected = [(0, 250, "<end>"), (310, 410, "Rest."), (560, 760, "Last round.")]
    if countdown:
        expected += [
            (rest_ms - 3000, rest_ms - 2900, "three"),
            (rest_ms - 2000, rest_ms - 1900, "two"),
            (rest_ms - 1000, rest_ms - 900, "one"),
        ]
    assert got == expected


def test_sides_with_a_switch() -> None:
    """Two sides: the end tone, "Switch to the right foot.", a 3-2-1, and the same rep on the other
    side."""
    exercise = make_exercise(steps=hold(2000), sides=("left foot", "right foot"), switch_ms=5000)
    timeline = lay_out(exercise)
    start = timeline.intervals[0].start_ms
    assert spans(timeline) == [
        (start, start + 2000, "Hold", Where(exercise="A", side="left foot", rep=1)),
        (start + 7000, start + 9000, "Hold", Where(exercise="A", side="right foot", rep=1)),
    ]
    assert cues(timeline, start, start + 9001) == [
        (0, 150, "<start>"),
        (210, 310, "Hold."),
        (1000, 1100, "one"),
        (2000, 2250, "<end>"),
        (2310, 2810, "Switch to the right foot."),
        (4000, 4100, "three"),
        (5000, 5100, "two"),
        (6000, 6100, "one"),
        (7000, 7150, "<start>"),
        (7210, 7310, "Hold."),
        (8000, 8100, "one"),
        (9000, 9250, "<end>"),
    ]
    switch = [e for e in timeline.events if start + 2000 <= e.start_ms < start + 7000]
    assert {e.phase for e in switch} == {Phase.SWITCH}
    spoken = [e.text for e in timeline.events if e.phase is Phase.ANNOUNCE and e.text]
    assert spoken == [
        "A.",
        "One rep, on each side. Hold for two seconds.",
        "Start with the left foot.",
    ]


def test_sets_with_a_set_rest() -> None:
    """Two sets: the end tone, "Rest.", "Next: set two of two.", a 3-2-1, and the second set."""
    timeline = lay_out(make_exercise(steps=hold(2000), sets=2, set_rest_ms=6000))
    start = timeline.intervals[0].start_ms
    assert spans(timeline) == [
        (start, start + 2000, "Hold", Where(exercise="A", set=1, rep=1)),
        (start + 8000, start + 10_000, "Hold", Where(exercise="A", set=2, rep=1)),
    ]
    assert cues(timeline, start + 2000, start + 8001) == [
        (0, 250, "<end>"),
        (310, 410, "Rest."),
        (560, 1060, "Next: set two of two."),
        (3000, 3100, "three"),
        (4000, 4100, "two"),
        (5000, 5100, "one"),
        (6000, 6150, "<start>"),
    ]
    set_rest = [e for e in timeline.events if start + 2000 <= e.start_ms < start + 8000]
    assert {e.phase for e in set_rest} == {Phase.REST}
    assert {e.where for e in set_rest if e.kind is not EventKind.TONE} == {
        Where(exercise="A", set=2)
    }


def test_phases_flow_from_rep_to_rep() -> None:
    """4-7-8 breathing: each phase name at its boundary, no end tone between reps, the start tone marks
    each rep, and with no pause between reps to say it in, the rep says which it is after its first
    phase's name (the final one "Last rep.")."""
    steps = (
        Step(name="Inhale", kind=StepKind.STEP, duration_ms=4000),
        Step(name="Hold", kind=StepKind.STEP, duration_ms=7000),
        Step(name="Exhale", kind=StepKind.STEP, duration_ms=8000),
    )
    timeline = lay_out(make_exercise(steps=steps, reps=2, gap_ms=0, counting=Counting.NONE))
    start = timeline.intervals[0].start_ms
    rep1, rep2 = Where(exercise="A", rep=1), Where(exercise="A", rep=2)
    assert spans(timeline) == [
        (start, start + 4000, "Inhale", rep1),
        (start + 4000, start + 11_000, "Hold", rep1),
        (start + 11_000, start + 19_000, "Exhale", rep1),
        (start + 19_000, start + 23_000, "Inhale", rep2),
        (start + 23_000, start + 30_000, "Hold", rep2),
        (start + 30_000, start + 38_000, "Exhale", rep2),
    ]
    assert {i.phase for i in timeline.intervals} == {Phase.STEP}
    assert cues(timeline, start, start + 38_001) == [
        (0, 150, "<start>"),
        (210, 310, "Inhale."),
        (4000, 4100, "Hold."),
        (11_000, 11_100, "Exhale."),
        (19_000, 19_150, "<start>"),
        (19_210, 19_310, "Inhale."),
        (19_460, 19_660, "Last rep."),
        (23_000, 23_100, "Hold."),
        (30_000, 30_100, "Exhale."),
        (38_000, 38_250, "<end>"),
    ]


def test_phases_are_counted_within_each_phase() -> None:
    """With counting, each phase counts down its own seconds after its name."""
    steps = (
        Step(name="Inhale", kind=StepKind.STEP, duration_ms=2000),
        Step(name="Exhale", kind=StepKind.STEP, duration_ms=3000),
    )
    timeline = lay_out(make_exercise(steps=steps))
    start = timeline.intervals[0].start_ms
    assert cues(timeline, start, start + 5001) == [
        (0, 150, "<start>"),
        (210, 310, "Inhale."),
        (1000, 1100, "one"),
        (2000, 2100, "Exhale."),
        (3000, 3100, "two"),
        (4000, 4100, "one"),
        (5000, 5250, "<end>"),
    ]


# -- counting styles -----------------------------------------------------------------------------


NUMBERS = ["one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven"]


@pytest.mark.parametrize(
    ("counting", "hold_ms", "expected"),
    [
        (Counting.EVERY_SECOND, 12_000, [(s * 1000, NUMBERS[11 - s]) for s in range(1, 12)]),
        # Counts land on whole seconds before the end cue, none sooner than a second after the
        # start.
        (Counting.EVERY_SECOND, 2500, [(1500, "one")]),
        (Counting.EVERY_SECOND, 4500, [(1500, "three"), (2500, "two"), (3500, "one")]),
        (
            Counting.LAST_THREE,
            12_000,
            [(6000, "Halfway."), (9000, "three"), (10_000, "two"), (11_000, "one")],
        ),
        (
            Counting.LAST_THREE,
            10_000,
            [(5000, "Halfway."), (7000, "three"), (8000, "two"), (9000, "one")],
        ),
        (Counting.LAST_THREE, 9000, [(6000, "three"), (7000, "two"), (8000, "one")]),
        (Counting.LAST_THREE, 2000, [(1000, "one")]),
        (Counting.NONE, 12_000, []),
    ],
)
def test_counting_styles(counting: Counting, hold_ms: int, expected: list[tuple[int, str]]) -> None:
    """every-second counts each second left; last-3 the last three (and "Halfway." from 10 s); none
    nothing.

    Counts land on whole seconds before the end cue, none sooner than a second after the start."""
    timeline = lay_out(make_exercise(steps=hold(hold_ms), counting=counting))
    (interval,) = timeline.intervals
    got = cues(timeline, interval.start_ms, interval.end_ms)
    assert got[:2] == [(0, 150, "<start>"), (210, 310, "Hold.")]
    assert [(at, text) for at, _, text in got[2:]] == expected


@pytest.mark.parametrize(
    ("counting", "lead_in"),
    [
        (Counting.EVERY_SECOND, ["Get ready.", "three", "two", "one"]),
        (Counting.LAST_THREE, ["Get ready.", "three", "two", "one"]),
        (Counting.NONE, ["Get ready."]),
    ],
)
def test_lead_in_countdown_follows_the_counting_style(
    counting: Counting, lead_in: list[str]
) -> None:
    """The lead-in says "Get ready." and counts 3-2-1 unless counting is none."""
    timeline = lay_out(make_exercise(counting=counting))
    assert [e.text for e in timeline.events if e.phase is Phase.LEAD_IN and e.text] == lead_in


def test_zero_gaps_and_lead_in_take_no_time() -> None:
    """A zero lead-in, switch and between-exercise rest add nothing; the end tone still sounds once."""
    first = make_exercise(steps=hold(1000), sides=("l", "r"), switch_ms=0, lead_in_ms=0)
    second = make_exercise(name="B", steps=hold(1000), lead_in_ms=0)
    timeline = lay_out(first, second, rest_between_exercises_ms=0)
    a_left, a_right, b = timeline.intervals
    assert a_right.start_ms == a_left.end_ms
    assert cues(timeline, a_left.start_ms, a_right.end_ms + 1) == [
        (0, 150, "<start>"),
        (210, 310, "Hold."),
        (1000, 1150, "<start>"),
        (1210, 1310, "Hold."),
        (2000, 2250, "<end>"),
    ]
    end_tone = next(e for e in timeline.events if e.start_ms == a_right.end_ms)
    assert end_tone.phase is Phase.ANNOUNCE
    announce_b = [
        e
        for e in timeline.events
        if e.phase is Phase.ANNOUNCE and e.text and e.where.exercise == "B"
    ]
    assert announce_b[0].start_ms == a_right.end_ms + 250 + 400
    assert b.start_ms == announce_b[-1].end_ms + 800
    assert [e.text for e in timeline.events if e.phase is Phase.LEAD_IN] == []


def test_rest_between_exercises_names_the_next_one() -> None:
    """Between exercises: the end tone, "Rest.", and the next exercise's heading, for exactly the
    plan's rest; the announcement after it does not name the exercise again."""
    timeline = lay_out(
        make_exercise(steps=hold(1000)),
        make_exercise(name="B", steps=hold(1000)),
        rest_between_exercises_ms=7000,
    )
    a_end = timeline.intervals[0].end_ms
    assert cues(timeline, a_end, a_end + 7000) == [
        (0, 250, "<end>"),
        (310, 410, "Rest."),
        (560, 1060, "Exercise two of two: B."),
    ]
    announce_b = [
        e for e in timeline.events if e.phase is Phase.ANNOUNCE and e.where.exercise == "B"
    ]
    assert announce_b[0].start_ms == a_end + 7000
    assert announce_b[0].where == Where(exercise="B")
    assert [e.text for e in announce_b if e.kind is EventKind.SPEECH] == [
        "One rep. Hold for one second."
    ]


# -- overruns ------------------------------------------------------------------------------------


def test_overrun_is_cut_at_the_next_cue_and_nothing_moves() -> None:
    """A 2 s "Hold." is cut at the 1 s count, reported with needed/available, and every later event
    stays put."""
    exercise = make_exercise(steps=hold(3000))
    plain = lay_out(exercise)
    long = lay_out(exercise, measure=measure_with({"Hold.": 2000}))
    start = long.intervals[0].start_ms
    assert plain.overruns == ()
    assert long.overruns == (
        Overrun(
            at_ms=start + 210,
            text="Hold.",
            needed_ms=2000,
            available_ms=790,
            phase=Phase.HOLD,
            where=Where(exercise="A", rep=1),
        ),
    )
    assert long.overruns[0].over_ms == 1210
    (clipped,) = [e for e in long.events if e.text == "Hold."]
    assert (clipped.start_ms, clipped.end_ms, clipped.clipped_ms) == (
        start + 210,
        start + 1000,
        1210,
    )
    assert cues(long, start, start + 3001) == [
        (0, 150, "<start>"),
        (210, 1000, "Hold."),
        (1000, 1100, "two"),
        (2000, 2100, "one"),
        (3000, 3250, "<end>"),
    ]
    after = [e for e in long.events if e.start_ms >= start + 1000]
    assert after == [e for e in plain.events if e.start_ms >= start + 1000]
    assert long.total_ms == plain.total_ms


def test_overrun_in_a_rest_is_cut_by_the_countdown() -> None:
    """A long round announcement in a rest is cut at the "three" of the countdown, which stays on its
    second."""
    exercise = make_exercise(steps=work(2000), reps=2, gap_ms=6000, gap_kind=GapKind.REST)
    long = lay_out(exercise, measure=measure_with({"Last round.": 5000}))
    first, second = long.intervals
    rest = first.end_ms
    assert cues(long, rest, second.start_ms) == [
        (0, 250, "<end>"),
        (310, 410, "Rest."),
        (560, 3000, "Last round."),
        (3000, 3100, "three"),
        (4000, 4100, "two"),
        (5000, 5100, "one"),
    ]
    assert long.overruns == (
        Overrun(
            at_ms=rest + 560,
            text="Last round.",
            needed_ms=5000,
            available_ms=2440,
            phase=Phase.REST,
            where=Where(exercise="A", rep=2),
        ),
    )


def test_phrases_that_cannot_start_are_dropped_and_reported() -> None:
    """In a 300 ms reset there is no room after the end tone: both phrases are dropped, reported with 0
    ms available."""
    timeline = lay_out(make_exercise(steps=hold(2000), reps=2, gap_ms=300))
    first, second = timeline.intervals
    assert second.start_ms == first.end_ms + 300
    assert cues(timeline, first.end_ms, second.start_ms + 1) == [
        (0, 250, "<end>"),
        (300, 450, "<start>"),
    ]
    where = Where(exercise="A", rep=2)
    assert timeline.overruns == (
        Overrun(
            at_ms=first.end_ms + 310,
            text="Release.",
            needed_ms=100,
            available_ms=0,
            phase=Phase.RESET,
            where=where,
        ),
        Overrun(
            at_ms=first.end_ms + 310,
            text="Last rep.",
            needed_ms=200,
            available_ms=0,
            phase=Phase.RESET,
            where=where,
        ),
    )
    assert "Release." not in timeline.phrases()


def test_free_slots_stretch_instead_of_overrunning() -> None:
    """Intro, announcements and closing are as long as their speech: a long phrase there moves what
    follows."""
    exercise = make_exercise(instructions="Stand up.")
    plain = lay_out(exercise)
    long = lay_out(exercise, measure=measure_with({"Stand up.": 60_000}))
    assert long.overruns == ()
    assert long.intervals[0].start_ms == plain.intervals[0].start_ms + 60_000 - 200
    (said,) = [e for e in long.events if e.text == "Stand up."]
    assert (said.duration_ms, said.clipped_ms) == (60_000, 0)


# -- the stated total ----------------------------------------------------------------------------


def stated(timeline: Timeline) -> str:
    (line,) = [
        e.text for e in timeline.events if e.text and e.text.startswith("This session takes ")
    ]
    return line


def test_intro_states_the_total_of_the_default_plan() -> None:
    """The shipped plan's intro says "about N minutes", N being its real length rounded to the minute."""
    plan = load_plan(shipped_plan_path())
    timeline = build_timeline(plan=plan, speech_ms=words)
    minutes = round(timeline.total_ms / 60_000)
    assert minutes >= 10
    assert stated(timeline) == about_duration(timeline.total_ms)
    assert stated(timeline).endswith(" minutes.")
    assert about_duration(minutes * 60_000) == about_duration(timeline.total_ms)


@pytest.mark.parametrize(
    ("hold_ms", "measure", "total_ms", "said"),
    [
        (30_000, words, 43_550, "about forty seconds"),
        (30_000, lambda text: 50 * len(text), 47_750, "about fifty seconds"),
        (100_000, lambda text: 50 * len(text), 118_150, "about two minutes"),
    ],
)
def test_stated_total_converges_from_a_wrong_first_guess(
    hold_ms: int, measure, total_ms: int, said: str
) -> None:
    """The first layout states "about ten seconds"; build_timeline lays out again until the statement
    is true."""
    timeline = lay_out(make_exercise(steps=hold(hold_ms)), measure=measure)
    assert stated(timeline) == f"This session takes {said}."
    assert timeline.total_ms == total_ms
    assert about_duration(total_ms) == f"This session takes {said}." != about_duration(0)


def test_stated_total_with_a_length_that_changes_the_intro() -> None:
    """Even when saying the total changes the total, the returned timeline states its own length."""
    # Measured by characters, "about thirty seconds" is longer than "about forty seconds": stating
    # thirty makes the session 35.00 s (rounds to forty), stating forty makes it 34.95 s (rounds to
    # thirty).
    timeline = lay_out(make_exercise(steps=hold(16_650)), measure=lambda text: 50 * len(text))
    assert stated(timeline) == about_duration(timeline.total_ms)
