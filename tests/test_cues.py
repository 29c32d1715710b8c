"""Cues during the timed part: tips said at their moments of a rep, the counting chosen by the
interval (`auto`) or said as the time left (`seconds-left`), the length of the final countdown,
and "Last rep." / "Last round.". The layout with the fake speech measure (100 ms a word); the
plans and profiles read from YAML as a person writes them."""

from __future__ import annotations

import textwrap
from pathlib import Path

import audio_measure as am
import numpy as np
import pytest
from test_timeline import cues, hold, lay_out, make_exercise, measure_with, work

from voiceguide.build.session import RenderSettings, build_session
from voiceguide.common.errors import PlanError
from voiceguide.plans.customize import customize
from voiceguide.plans.loader import load_plan, load_plan_text, shipped_plan_path
from voiceguide.plans.plan import Counting, GapKind, Step, StepKind, Tip
from voiceguide.plans.profile import load_profile, parse_set
from voiceguide.script.timeline import EventKind, Overrun, Phase, Timeline, Tone, Where

BACK = "Keep your back straight."


def said_in(timeline: Timeline, index: int = 0) -> list[tuple[int, str]]:
    """(offset, what) of the tones and speech of the *index*-th interval, from its start to its end
    cue included."""
    interval = timeline.intervals[index]
    return [(at, what) for at, _, what in cues(timeline, interval.start_ms, interval.end_ms + 1)]


def texts(timeline: Timeline) -> list[str]:
    return [e.text for e in timeline.events if e.kind is EventKind.SPEECH and e.text]


# -- tips ----------------------------------------------------------------------------------------


def test_a_tip_is_said_at_its_second_among_the_time_left_and_the_countdown() -> None:
    """A 20 s hold with a tip at 5 s: the tip on its mark, "Ten seconds left." at 10 s, 3-2-1."""
    exercise = make_exercise(
        steps=hold(20_000), counting=Counting.AUTO, tips=(Tip(at_ms=5000, say=BACK),)
    )
    timeline = lay_out(exercise)
    assert said_in(timeline) == [
        (0, "<start>"),
        (210, "Hold."),
        (5000, BACK),
        (10_000, "Ten seconds left."),
        (17_000, "three"),
        (18_000, "two"),
        (19_000, "one"),
        (20_000, "<end>"),
    ]
    assert timeline.overruns == ()


def test_a_tip_in_a_short_hold_makes_auto_count_down_rather_than_talk_over_it() -> None:
    """An 8 s hold is counted every second; with a tip in it, only 3-2-1, and the tip has room."""
    plain = lay_out(make_exercise(steps=hold(8000), counting=Counting.AUTO))
    assert [what for _, what in said_in(plain)][2:-1] == [
        "seven", "six", "five", "four", "three", "two", "one",
    ]  # fmt: skip
    tipped = lay_out(
        make_exercise(
            steps=hold(8000), counting=Counting.AUTO, tips=(Tip(at_ms=2000, say="Breathe."),)
        )
    )
    assert said_in(tipped) == [
        (0, "<start>"),
        (210, "Hold."),
        (2000, "Breathe."),
        (5000, "three"),
        (6000, "two"),
        (7000, "one"),
        (8000, "<end>"),
    ]


def test_a_tip_on_a_count_is_dropped_and_reported_and_the_count_keeps_its_mark() -> None:
    """Counting every second, a tip at 3 s meets the "five" said there: the tip has no room, is
    reported with 0 ms available, and the count is said on its mark."""
    exercise = make_exercise(
        steps=hold(8000), counting=Counting.EVERY_SECOND, tips=(Tip(at_ms=3000, say="Breathe."),)
    )
    timeline = lay_out(exercise)
    start = timeline.intervals[0].start_ms
    assert (3000, "five") in said_in(timeline)
    assert "Breathe." not in texts(timeline)
    assert timeline.overruns == (
        Overrun(
            at_ms=start + 3000,
            text="Breathe.",
            needed_ms=100,
            available_ms=0,
            phase=Phase.HOLD,
            where=Where(exercise="A", rep=1),
        ),
    )


def test_a_tip_too_long_for_its_moment_is_cut_at_the_next_cue_and_reported() -> None:
    """A 1 s tip at 9.5 s of a 20 s hold runs into "Ten seconds left." at 10 s: cut there, reported,
    and every later cue where it was."""
    exercise = make_exercise(
        steps=hold(20_000), counting=Counting.SECONDS_LEFT, tips=(Tip(at_ms=9500, say=BACK),)
    )
    plain = lay_out(make_exercise(steps=hold(20_000), counting=Counting.SECONDS_LEFT))
    timeline = lay_out(exercise, measure=measure_with({BACK: 1000}))
    start = timeline.intervals[0].start_ms
    [tip] = [e for e in timeline.events if e.text == BACK]
    assert (tip.start_ms - start, tip.end_ms - start, tip.clipped_ms) == (9500, 10_000, 500)
    [overrun] = timeline.overruns
    assert (overrun.text, overrun.needed_ms, overrun.available_ms) == (BACK, 1000, 500)
    later = [(e.start_ms, e.text) for e in timeline.events if e.start_ms >= start + 10_000]
    assert later == [(e.start_ms, e.text) for e in plain.events if e.start_ms >= start + 10_000]


PHASES = (
    Step(name="Inhale", kind=StepKind.STEP, duration_ms=4000),
    Step(name="Hold", kind=StepKind.STEP, duration_ms=7000),
    Step(name="Exhale", kind=StepKind.STEP, duration_ms=8000),
)


def test_a_tip_in_phases_counts_from_the_start_of_the_rep() -> None:
    """In 4-7-8 breathing a tip at 6 s is said 2 s into the hold, as part of it; one at 4 s, on the
    hold's name, finds no room and is reported, and the name is said."""
    tips = (Tip(at_ms=6000, say="Shoulders down."), Tip(at_ms=4000, say="Relax."))
    timeline = lay_out(make_exercise(steps=PHASES, counting=Counting.NONE, tips=tips))
    assert said_in(timeline, 1) == [(0, "Hold."), (2000, "Shoulders down."), (7000, "Exhale.")]
    [tip] = [e for e in timeline.events if e.text == "Shoulders down."]
    assert (tip.phase, tip.where) == (Phase.STEP, Where(exercise="A", rep=1))
    [overrun] = timeline.overruns
    assert (overrun.text, overrun.at_ms, overrun.available_ms) == (
        "Relax.",
        timeline.intervals[1].start_ms,
        0,
    )


def test_a_tip_said_once_is_said_in_the_first_rep_on_each_side() -> None:
    """`once`: the first rep of the first set on each side; the others in every rep."""
    tips = (Tip(at_ms=1500, say="First.", once=True), Tip(at_ms=2500, say="Every."))
    exercise = make_exercise(
        steps=hold(4000),
        counting=Counting.NONE,
        reps=3,
        gap_ms=4000,
        sets=2,
        sides=("left foot", "right foot"),
        tips=tips,
    )
    timeline = lay_out(exercise)
    firsts = [e.where for e in timeline.events if e.text == "First."]
    assert firsts == [
        Where(exercise="A", set=1, side="left foot", rep=1),
        Where(exercise="A", set=1, side="right foot", rep=1),
    ]
    assert texts(timeline).count("Every.") == 2 * 2 * 3


# -- counting: seconds-left and auto -------------------------------------------------------------


@pytest.mark.parametrize(
    ("work_ms", "countdown", "expected"),
    [
        # No time left in the first 5 s; counts on the last three seconds.
        (12_000, 3, [(9000, "three"), (10_000, "two"), (11_000, "one")]),
        (15_000, 3, [(5000, "Ten seconds left."), (12_000, "three"), (13_000, "two"),
                     (14_000, "one")]),
        (45_000, 3, [(15_000, "Thirty seconds left."), (35_000, "Ten seconds left."),
                     (42_000, "three"), (43_000, "two"), (44_000, "one")]),
        # Every whole minute left as well.
        (150_000, 3, [(30_000, "Two minutes left."), (90_000, "One minute left."),
                      (120_000, "Thirty seconds left."), (140_000, "Ten seconds left."),
                      (147_000, "three"), (148_000, "two"), (149_000, "one")]),
        # The final countdown as long as asked; a call too close to it is left out.
        (20_000, 8, [(10_000, "Ten seconds left."), *((20_000 - n * 1000, n) for n in range(8, 0, -1))]),
        (20_000, 10, [(20_000 - n * 1000, n) for n in range(10, 0, -1)]),
        (20_000, 0, [(10_000, "Ten seconds left.")]),
    ],
)  # fmt: skip
def test_seconds_left_says_the_time_left_at_its_marks_then_counts_down(
    work_ms: int, countdown: int, expected: list[tuple[int, object]]
) -> None:
    """`seconds-left`: the time left at each whole minute, 30 s and 10 s before the end, where
    that is 5 s or more after the start and 2 s or more before the countdown; then the countdown."""
    numbers = ["one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"]
    exercise = make_exercise(
        steps=work(work_ms), counting=Counting.SECONDS_LEFT, countdown=countdown
    )
    said = said_in(lay_out(exercise))
    assert said[:2] == [(0, "<start>"), (210, "Go!")] and said[-1] == (work_ms, "<end>")
    assert said[2:-1] == [
        (at, what if isinstance(what, str) else numbers[what - 1]) for at, what in expected
    ]


@pytest.mark.parametrize(
    ("step", "tipped", "chosen"),
    [
        (hold(3000)[0], False, Counting.EVERY_SECOND),
        (hold(10_000)[0], False, Counting.EVERY_SECOND),
        (hold(10_001)[0], False, Counting.SECONDS_LEFT),
        (hold(30_000)[0], False, Counting.SECONDS_LEFT),
        (PHASES[2], False, Counting.EVERY_SECOND),
        (work(5000)[0], False, Counting.SECONDS_LEFT),
        (work(20_000)[0], False, Counting.SECONDS_LEFT),
        (hold(5000)[0], True, Counting.SECONDS_LEFT),
    ],
)
def test_auto_counts_every_second_only_in_short_holds_and_phases_without_tips(
    step: Step, tipped: bool, chosen: Counting
) -> None:
    """`auto` is every second in holds and phases of up to 10 s, the time left in longer ones, in
    every work interval and wherever a tip is said; a counting given is kept as it is."""
    tips = (Tip(at_ms=1000, say="Breathe."),) if tipped else ()
    exercise = make_exercise(steps=(step,), counting=Counting.AUTO, tips=tips)
    assert exercise.step_counting(0) is chosen
    for given in (Counting.EVERY_SECOND, Counting.LAST_THREE, Counting.NONE):
        assert make_exercise(steps=(step,), counting=given, tips=tips).step_counting(0) is given


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("breathing-4-7-8.yaml", [[Counting.EVERY_SECOND] * 3]),
        ("pelvic-floor.yaml", [[Counting.EVERY_SECOND] * 2, [Counting.LAST_THREE]]),
        (
            "feet-for-back-pain.yaml",
            [[Counting.EVERY_SECOND], [Counting.LAST_THREE], *[[Counting.EVERY_SECOND]] * 3],
        ),
        ("tabata.yaml", [[Counting.SECONDS_LEFT]] * 2),
        ("hamstring-stretch.yaml", [[Counting.SECONDS_LEFT]] * 2),
    ],
)
def test_the_shipped_plans_count_as_their_authors_meant(
    name: str, expected: list[list[Counting]]
) -> None:
    """Plans that gave no counting keep the count every second in their short phases under `auto`;
    the default plan says every second on purpose (its walking on tiptoes, last-3); tabata and the
    stretches count the time left."""
    plan = load_plan(shipped_plan_path(name))
    chosen = [[e.step_counting(i) for i in range(len(e.steps))] for e in plan.exercises]
    assert chosen == expected


# -- the final countdown -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lead_in_ms", "countdown", "said"),
    [
        (8000, 5, ["Get ready.", "five", "four", "three", "two", "one"]),
        (8000, 0, ["Get ready."]),
        (8000, 10, ["Get ready.", "six", "five", "four", "three", "two", "one"]),
        (5000, 5, ["Get ready.", "three", "two", "one"]),
        (4999, 5, ["Get ready."]),
    ],
)
def test_the_countdown_setting_sets_how_many_seconds_are_counted_down(
    lead_in_ms: int, countdown: int, said: list[str]
) -> None:
    """The lead-in counts down the last *countdown* seconds, leaving its first two seconds to
    "Get ready." (so fewer in a short one), and none under 5 s, as before."""
    timeline = lay_out(make_exercise(lead_in_ms=lead_in_ms, countdown=countdown))
    lead_in = [e for e in timeline.events if e.phase is Phase.LEAD_IN and e.text]
    assert [e.text for e in lead_in] == said
    end = timeline.intervals[0].start_ms
    assert [end - e.start_ms for e in lead_in[1:]] == [
        1000 * n for n in range(len(said) - 1, 0, -1)
    ]


def test_the_countdown_setting_counts_down_rests_switches_and_last_3_holds() -> None:
    """With `countdown: 5` the rest between rounds and the switch count five to one, and `last-3`
    counts the last five seconds of a hold (its "Halfway." left out where it would meet them)."""
    rounds = lay_out(
        make_exercise(steps=work(3000), reps=2, gap_ms=10_000, gap_kind=GapKind.REST, countdown=5)
    )
    first, second = rounds.intervals
    rest = cues(rounds, first.end_ms, second.start_ms)
    assert [(at, what) for at, _, what in rest][-5:] == [
        (5000, "five"), (6000, "four"), (7000, "three"), (8000, "two"), (9000, "one"),
    ]  # fmt: skip
    switch = lay_out(make_exercise(steps=hold(2000), sides=("l", "r"), switch_ms=8000, countdown=5))
    left, right = switch.intervals
    assert [what for _, _, what in cues(switch, left.end_ms, right.start_ms)][-5:] == [
        "five", "four", "three", "two", "one",
    ]  # fmt: skip
    last_five = lay_out(
        make_exercise(steps=hold(12_000), counting=Counting.LAST_THREE, countdown=5)
    )
    assert said_in(last_five)[2:-1] == [
        (7000, "five"), (8000, "four"), (9000, "three"), (10_000, "two"), (11_000, "one"),
    ]  # fmt: skip
    last_three = lay_out(make_exercise(steps=hold(12_000), counting=Counting.LAST_THREE))
    assert said_in(last_three)[2] == (6000, "Halfway.")


# -- the last rep and round ----------------------------------------------------------------------


def test_the_final_rep_of_each_set_is_called_the_last() -> None:
    """Before the final rep of each set: "Last rep." (in work, "Last round."); the others by
    number; with `announce_last: false` the final one by number too."""
    holds = lay_out(make_exercise(steps=hold(2000), reps=3, gap_ms=4000, sets=2, set_rest_ms=6000))
    assert [t for t in texts(holds) if t.startswith(("Rep ", "Last "))] == [
        "Rep two of three.", "Last rep.", "Rep two of three.", "Last rep.",
    ]  # fmt: skip
    rounds = lay_out(make_exercise(steps=work(2000), reps=3, gap_ms=6000, gap_kind=GapKind.REST))
    assert [t for t in texts(rounds) if t.startswith(("Round ", "Last "))] == [
        "Round two of three.", "Last round.",
    ]  # fmt: skip
    numbered = lay_out(make_exercise(steps=hold(2000), reps=3, gap_ms=4000, announce_last=False))
    assert [t for t in texts(numbered) if t.startswith(("Rep ", "Last "))] == [
        "Rep two of three.", "Rep three of three.",
    ]  # fmt: skip


# -- plans, profiles and --set -------------------------------------------------------------------

PLAN = """\
title: Cues
settings:
  countdown: 5
  announce_last: false
exercises:
  - name: Plank
    hold: 30
    reps: 2
    tips:
      - {at: 10, say: {en: Keep your back straight., de: Halten Sie den Rücken gerade.}}
      - at: 20
        say: Breathe.
        once: true
  - name: Breathing
    phases:
      - Inhale: 4
      - Hold: 7
      - Exhale: 12
    countdown: 3
"""


def plan_problems(text: str) -> list[str]:
    with pytest.raises(PlanError) as raised:
        load_plan_text(text, display_name="plan.yaml")
    return raised.value.problems


def test_a_plan_gives_tips_per_language_and_the_counting_settings() -> None:
    """Tips are read with their moments, texts (per language) and `once`; countdown and
    announce_last are settings of every exercise that an exercise may change."""
    plan = load_plan_text(PLAN, display_name="plan.yaml")
    plank, breathing = plan.exercises
    assert plank.tips == (
        Tip(at_ms=10_000, say="Keep your back straight."),
        Tip(at_ms=20_000, say="Breathe.", once=True),
    )
    assert plank.tips[0].where == "plan.yaml:10:14: exercises[0].tips[0].at"
    assert (plank.countdown, plank.announce_last, plank.counting) == (5, False, Counting.AUTO)
    assert (breathing.countdown, breathing.announce_last) == (3, False)
    german = customize(plan=plan, layers=[parse_set("language=de")])
    assert [tip.say for tip in german.plan.exercises[0].tips] == [
        "Halten Sie den Rücken gerade.",
        "Breathe.",
    ]
    missing = german.missing_translations["de"]
    assert "exercise 'Plank' tip: 'Breathe.'" in missing
    assert not [line for line in missing if "back straight" in line]


def test_preview_explains_the_counting_auto_chose_and_the_countdown() -> None:
    """`--explain` shows what `auto` chose for each exercise (per phase where they differ), and
    the countdown and announce_last of each."""
    explained = {
        row.target: (row.value, row.source)
        for row in customize(
            plan=load_plan_text(PLAN), layers=[parse_set("Plank.countdown=4")]
        ).explanation
    }
    assert explained["Plank.counting"] == ("auto: seconds-left", "plan")
    assert explained["Breathing.counting"] == (
        "auto: every-second (Inhale, Hold), seconds-left (Exhale)",
        "plan",
    )
    assert explained["Plank.countdown"] == ("4", "--set 'Plank.countdown=4'")
    assert explained["Breathing.countdown"] == ("3", "plan")
    assert explained["Plank.announce_last"] == ("false", "plan")


@pytest.mark.parametrize(
    ("tips", "problem"),
    [
        (
            "[{at: 30, say: Breathe.}]",
            "plan.yaml:5:17: exercises[0].tips[0].at: the tip at 30 s is at or past the end of "
            "the hold, which lasts 30 s; give it an `at` before 30 s",
        ),
        (
            "[{at: 0, say: Breathe.}]",
            "plan.yaml:5:17: exercises[0].tips[0].at: expected a duration from 1 s to 1 h, found 0 s",
        ),
        (
            "[{at: 5, say: Breathe.}, {at: 5, say: Relax.}]",
            "plan.yaml:5:41: exercises[0].tips[1].at: another tip is said at 5 s (line 5); give "
            "each tip its own moment",
        ),
        ("[{at: 5}]", "plan.yaml:5:12: exercises[0].tips[0]: missing required field 'say'"),
        (
            "[{at: 5, say: Breathe., once: sometimes}]",
            "plan.yaml:5:41: exercises[0].tips[0].once: expected true or false, found the text "
            "'sometimes'",
        ),
        (
            "Breathe.",
            "plan.yaml:5:11: exercises[0].tips: expected a list, found the text 'Breathe.'",
        ),
        (
            "[{at: 5, say: Chest up, knees out.}]",
            "plan.yaml:5:35: exercises[0].tips[0].knees out.: 'knees out.' reads as a field of its "
            "own: inside {...} a comma ends the text; put the text in quotes, like say: "
            '"Chest up, knees out."',
        ),
    ],
)
def test_a_tip_a_plan_cannot_say_is_refused_at_its_line(tips: str, problem: str) -> None:
    text = f"title: T\nexercises:\n  - name: Plank\n    hold: 30\n    tips: {tips}\n"
    assert plan_problems(text) == [problem]


def test_a_tip_past_the_end_of_phases_is_refused() -> None:
    """In phases a tip's moment counts from the start of the rep: past all of them is refused."""
    text = (
        "title: T\nexercises:\n  - name: Breathing\n    phases: [{In: 4}, {Out: 4}]\n"
        "    tips: [{at: 8.5, say: Relax.}]\n"
    )
    assert plan_problems(text) == [
        "plan.yaml:5:17: exercises[0].tips[0].at: the tip at 8.5 s is at or past the end of a rep "
        "(its phases one after another), which lasts 8 s; give it an `at` before 8 s"
    ]


def test_a_profile_replaces_the_tips_and_a_shorter_hold_names_the_tip_left_behind(
    tmp_path: Path,
) -> None:
    """A profile's `tips` replace the plan's (`[]`: none); a profile that shortens the hold under a
    tip is refused, naming the tip, the hold and where its length comes from."""
    plan = load_plan_text(PLAN, display_name="plan.yaml")
    path = tmp_path / "ann.yaml"
    path.write_text(
        textwrap.dedent("""\
        exercises:
          Plank:
            tips: [{at: 5, say: Slowly.}]
          Breathing:
            tips: []
        """)
    )
    replaced = customize(plan=plan, layers=[load_profile(path)]).plan
    assert [(t.at_ms, t.say) for t in replaced.exercises[0].tips] == [(5000, "Slowly.")]
    assert replaced.exercises[1].tips == ()
    with pytest.raises(PlanError) as raised:
        customize(plan=plan, layers=[parse_set("hold_scale=0.5")])
    assert raised.value.problems == [
        "plan.yaml:11:13: exercises[0].tips[1].at: the tip at 20 s is at or past the end of the "
        "hold, which lasts 15 s in this session (plan x 0.5 (hold_scale, --set 'hold_scale=0.5')); "
        "give 'Plank' other tips (`tips:` in the profile), or this one an `at` before 15 s"
    ]


def test_set_gives_tips_and_a_countdown_and_refuses_a_countdown_out_of_range() -> None:
    layer = parse_set("Plank.tips=[{at: 3, say: Now.}]")
    customized = customize(plan=load_plan_text(PLAN), layers=[layer])
    assert [(t.at_ms, t.say) for t in customized.plan.exercises[0].tips] == [(3000, "Now.")]
    with pytest.raises(PlanError) as raised:
        parse_set("countdown=11")
    assert raised.value.problems == [
        "--set 'countdown=11': countdown: expected a whole number from 0 to 10, found 11"
    ]


# -- as heard ------------------------------------------------------------------------------------

HEARD_PLAN = """\
title: Plank
settings:
  counting: seconds-left
  countdown: 5
  lead_in: 8
exercises:
  - name: Plank
    instructions: Hold a plank on your forearms.
    hold: 20
    reps: 2
    reset: 8
    tips:
      - {at: 3, say: Keep your back straight.}
      - {at: 6, say: Breathe., once: true}
"""
ONSET_TOLERANCE_MS = 30
LENGTH_TOLERANCE_MS = 40
"""A phrase's sound, from its onset to the first 150 ms of quiet, lasts its clip's length within
this: the codec smears its edges, and a word's last consonant may fall under the threshold."""


def heard_burst(samples: np.ndarray, around_ms: int, rate: int) -> tuple[float, float] | None:
    """(onset, end) of the sound that starts near *around_ms*: from where it rises above -50 dBFS
    to the start of the first 150 ms below it."""
    onset = am.speech_onset_ms(samples, around_ms, sample_rate=rate)
    if onset is None:
        return None
    levels = am.frame_levels(samples[am.index_at(onset, rate) :], 1.0, rate)
    quiet = np.convolve(levels <= -50.0, np.ones(150), mode="valid") == 150
    stops = np.flatnonzero(quiet)
    return onset, onset + (float(stops[0]) if len(stops) else am.ms_at(len(levels), rate))


@pytest.mark.audio
def test_tips_time_left_and_a_countdown_of_five_are_heard_where_the_timeline_puts_them(
    tmp_path: Path,
) -> None:
    """A plank session with two tips (one said once), `seconds-left` and `countdown: 5`, spoken
    by the real engine, encoded and decoded: each tip, time-left call and count of the lead-in,
    holds and reset starts within 30 ms of its place in the timeline (and of its start tone plus
    its offset, in a hold), sounds for its own length, and nothing overruns."""
    plan = load_plan_text(HEARD_PLAN, display_name="plank.yaml")
    settings = RenderSettings()
    result = build_session(plan=plan, output=tmp_path / "plank.mp3", settings=settings)
    timeline, rate = result.timeline, settings.sample_rate
    assert timeline.overruns == ()
    numbers = ["one", "two", "three", "four", "five"]
    hold_start = [i.start_ms for i in timeline.intervals]

    def placed(phase: Phase) -> list[tuple[int, str]]:
        """(offset in its slot, text) of the cues under test said in *phase*."""
        events = [e for e in timeline.events if e.phase is phase and e.text]
        checked = [e for e in events if e.text in {*numbers, BACK, "Breathe.", "Ten seconds left."}]
        starts = {
            Phase.HOLD: lambda e: max(s for s in hold_start if s <= e.start_ms),
            Phase.LEAD_IN: lambda e: hold_start[0] - 8000,
            Phase.RESET: lambda e: hold_start[1] - 8000,
        }
        return [(e.start_ms - starts[phase](e), e.text or "") for e in checked]

    countdown = [(8000 - n * 1000, numbers[n - 1]) for n in range(5, 0, -1)]
    hold_cues = [(3000, BACK), (10_000, "Ten seconds left."),
                 *((20_000 - n * 1000, numbers[n - 1]) for n in range(5, 0, -1))]  # fmt: skip
    assert placed(Phase.LEAD_IN) == countdown and placed(Phase.RESET) == countdown
    assert placed(Phase.HOLD) == [*hold_cues[:1], (6000, "Breathe."), *hold_cues[1:], *hold_cues]

    samples = am.decode(result.path, sample_rate=rate)
    start_tones = [t.onset_ms for t in am.find_tones(samples, Tone.START, sample_rate=rate)]
    assert len(start_tones) == 2
    under_test = {*numbers, BACK, "Breathe.", "Ten seconds left."}
    events = [
        e
        for e in timeline.events
        if e.text in under_test and e.phase in (Phase.LEAD_IN, Phase.HOLD, Phase.RESET)
    ]
    assert len(events) == 5 + 8 + 5 + 7  # (lead-in, first hold, reset, second hold)
    worst = []
    for event in events:
        heard = heard_burst(samples, event.start_ms, rate)
        assert heard is not None, f"{event.text!r} at {event.start_ms} ms is not heard"
        onset, end = heard
        worst.append(abs(onset - event.start_ms))
        assert abs(onset - event.start_ms) <= ONSET_TOLERANCE_MS, (event, onset)
        assert abs((end - onset) - event.duration_ms) <= LENGTH_TOLERANCE_MS, (event, end - onset)
        if event.phase is Phase.HOLD:
            # As heard: from the start tone that opened the hold to the phrase.
            offset = event.start_ms - max(s for s in hold_start if s <= event.start_ms)
            tone = am.nearest(start_tones, event.start_ms - offset)
            assert tone is not None and abs(onset - tone - offset) <= ONSET_TOLERANCE_MS, event
    print(f"{len(events)} tips, calls and counts; worst onset error {max(worst):.1f} ms")
