"""Fixed transitions: the whole gap between two exercises as one length (`transition:`), with the
next exercise announced and counted down inside it. The layout with a fake speech measure, the
shipped 7-minute workout with real speech in every language, and its decoded audio."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import audio_measure as am
import pytest
from test_timeline import BASE_PLAN, cues, make_exercise, measure_with, words, work

from voiceguide.build.session import RenderSettings, build_session, preview
from voiceguide.language.catalog import catalog_codes
from voiceguide.plans.loader import load_plan, shipped_plan_path
from voiceguide.plans.plan import Counting, Exercise, Instructions
from voiceguide.script.timeline import (
    END_TONE_MS,
    EventKind,
    Phase,
    Timeline,
    Tone,
    build_timeline,
    shortest_length_ms,
)
from voiceguide.script.wording import Wording

TRANSITION_MS = 10_000
SEVEN_MINUTE = "seven-minute-workout.yaml"


def circuit(count: int = 3, **overrides: object) -> tuple[Exercise, ...]:
    fields: dict[str, object] = {
        "instructions": "Move well and keep breathing.",
        "cue": "Move well.",
        "steps": work(30_000),
        "counting": Counting.LAST_THREE,
        **overrides,
    }
    return tuple(make_exercise(name=f"Exercise {chr(65 + n)}", **fields) for n in range(count))


def lay_out(exercises: tuple[Exercise, ...], measure=words, **overrides: object) -> Timeline:
    plan = dataclasses.replace(
        BASE_PLAN, exercises=exercises, transition_ms=TRANSITION_MS, **overrides
    )
    return build_timeline(plan=plan, speech_ms=measure)


def tones(timeline: Timeline, tone: Tone) -> list[int]:
    return [e.start_ms for e in timeline.events if e.kind is EventKind.TONE and e.tone is tone]


def gaps(timeline: Timeline) -> list[int]:
    """From each exercise's end tone to the next exercise's start tone."""
    return [
        start - end
        for end, start in zip(
            tones(timeline, Tone.END), tones(timeline, Tone.START)[1:], strict=False
        )
    ]


def test_the_gap_between_exercises_is_the_transition_exactly() -> None:
    """End tone to the next start tone: the transition, to the millisecond; inside it the next
    exercise announced in full, and 3-2-1 on its last seconds; no rest, announcement or lead-in
    of its own after the first exercise."""
    timeline = lay_out(circuit())
    assert gaps(timeline) == [TRANSITION_MS, TRANSITION_MS]
    end = tones(timeline, Tone.END)[0]
    wording = Wording()
    announced = wording.announce(circuit()[1], 2, 3)
    inside = [what for _, _, what in cues(timeline, end, end + TRANSITION_MS)]
    assert inside == ["<end>", *announced, "three", "two", "one"]
    counted = [at for at, _, what in cues(timeline, end, end + TRANSITION_MS) if what == "three"]
    assert counted == [TRANSITION_MS - 3000]
    phases = [e.phase for e in timeline.events if e.where.exercise != "Exercise A"]
    assert Phase.ANNOUNCE not in phases and Phase.LEAD_IN not in phases
    assert Phase.REST not in {e.phase for e in timeline.events}
    assert not timeline.overruns


def test_the_session_lasts_its_timed_parts_and_transitions_whatever_the_speech() -> None:
    """From the first start tone to the last end tone: the exercises and the transitions between
    them, at any speech speed (the slowest here needs the shortest wording, and still overruns)."""
    exercises = circuit(4)
    for per_word in (50, 100, 400, 1_500):
        timeline = lay_out(exercises, measure=lambda text, ms=per_word: ms * len(text.split()))
        first, last = tones(timeline, Tone.START)[0], tones(timeline, Tone.END)[-1]
        assert last - first == 4 * 30_000 + 3 * TRANSITION_MS, per_word
        assert gaps(timeline) == [TRANSITION_MS] * 3


def test_an_announcement_too_long_is_said_shorter() -> None:
    """The full wording first; where it does not fit before the countdown, the short cue; then the
    heading alone; what still does not fit is cut there and reported as an overrun."""
    exercises = circuit(2)
    wording = Wording()
    full = wording.announce(exercises[1], 2, 2)
    brief = wording.announce(exercises[1], 2, 2, brief=True)
    slow = {full[1]: 6_000}  # (the instructions: too long for the 6.7 s before the countdown)
    timeline = lay_out(exercises, measure=measure_with(slow))
    end = tones(timeline, Tone.END)[0]
    said = [what for _, _, what in cues(timeline, end, end + TRANSITION_MS)]
    assert said == ["<end>", *brief, "three", "two", "one"]
    heading = dict.fromkeys((*full, *brief), 5000)
    heading[full[0]] = 8_000
    timeline = lay_out(exercises, measure=measure_with(heading))
    end = tones(timeline, Tone.END)[0]
    said = [what for _, _, what in cues(timeline, end, end + TRANSITION_MS)]
    assert said[:2] == ["<end>", full[0]]
    [overrun] = timeline.overruns
    assert overrun.text == full[0] and overrun.phase is Phase.TRANSITION
    assert overrun.available_ms == TRANSITION_MS - 3_000 - (END_TONE_MS + 60)


def test_brief_instructions_and_no_counting_hold_in_transitions() -> None:
    """A plan asking for brief instructions gets the short cue in its transitions; with counting
    `none`, no 3-2-1, and the announcement has the whole gap."""
    exercises = circuit(2, counting=Counting.NONE)
    timeline = lay_out(exercises, instructions=Instructions.BRIEF)
    end = tones(timeline, Tone.END)[0]
    said = [what for _, _, what in cues(timeline, end, end + TRANSITION_MS)]
    assert said == ["<end>", *Wording().announce(exercises[1], 2, 2, brief=True)]
    assert gaps(timeline) == [TRANSITION_MS]


def test_the_shortest_length_counts_transitions_instead_of_rests_and_lead_ins() -> None:
    exercises = circuit(3)
    plan = dataclasses.replace(BASE_PLAN, exercises=exercises, transition_ms=TRANSITION_MS)
    assert shortest_length_ms(plan) == exercises[0].lead_in_ms + 3 * 30_000 + 2 * TRANSITION_MS
    assert build_timeline(plan=plan, speech_ms=words).total_ms > shortest_length_ms(plan)


@pytest.mark.speech
@pytest.mark.runs_ffmpeg  # (pydub's AudioSegment is set up with the ffmpeg voiceguide finds)
@pytest.mark.parametrize("language", catalog_codes())
def test_the_seven_minute_workout_keeps_its_transitions_in_every_language(language: str) -> None:
    """The shipped plan, spoken for real in each language: 12 x 30 s of work and 11 x 10 s of
    transition from the first start tone to the last end tone, and every announcement fits."""
    plan = dataclasses.replace(load_plan(shipped_plan_path(SEVEN_MINUTE)), language=language)
    timeline = preview(plan=plan, settings=RenderSettings()).timeline
    first, last = tones(timeline, Tone.START)[0], tones(timeline, Tone.END)[-1]
    assert last - first == 12 * 30_000 + 11 * 10_000
    assert gaps(timeline) == [10_000] * 11
    assert not timeline.overruns, timeline.overruns


@pytest.mark.audio
def test_the_seven_minute_workouts_tones_sound_ten_seconds_apart(tmp_path: Path) -> None:
    """Decoded: each exercise's start tone is heard 10 s after the end tone before it (the end
    tone's length included), within 5 ms."""
    plan = load_plan(shipped_plan_path(SEVEN_MINUTE))
    settings = RenderSettings()
    result = build_session(plan=plan, output=tmp_path / "seven.mp3", settings=settings)
    samples = am.decode(result.path, sample_rate=settings.sample_rate)
    heard = {
        tone: [t.onset_ms for t in am.find_tones(samples, tone, sample_rate=settings.sample_rate)]
        for tone in am.BUILT_IN_TONES
    }
    assert len(heard[Tone.START]) == len(heard[Tone.END]) == 12
    for end, start in zip(heard[Tone.END], heard[Tone.START][1:], strict=False):
        assert abs((start - end) - 10_000) <= 5, (end, start)
