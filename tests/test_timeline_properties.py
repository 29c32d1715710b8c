"""Properties of build_timeline over generated plans and generated (often overlong) speech lengths."""

from __future__ import annotations

import zlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from itertools import pairwise

from fuzz_strategies import examples
from hypothesis import given, settings
from hypothesis import strategies as st

from voiceguide.plans.plan import Circuit, Counting, Exercise, GapKind, Plan, Step, StepKind, Tip
from voiceguide.script.timeline import (
    AFTER_TONE_MS,
    BETWEEN_PHRASES_MS,
    EVERY_SECOND_FROM,
    START_TONE_MS,
    Event,
    EventKind,
    Phase,
    Timeline,
    Tone,
    Where,
    build_timeline,
    running_order,
)
from voiceguide.script.wording import Wording

WORDING = Wording()
PHASE_NAMES = ["Inhale", "Exhale", "Hold", "Up", "Down", "Squeeze"]
TIP_TEXTS = ["Keep your back straight.", "Breathe.", "Shoulders down."]

durations = st.integers(min_value=500, max_value=45_000)
gaps = st.integers(min_value=0, max_value=20_000)


@st.composite
def exercises(draw: st.DrawFn, index: int) -> Exercise:
    timed = draw(st.sampled_from(["hold", "work", "phases"]))
    if timed == "hold":
        steps: tuple[Step, ...] = (
            Step(name="Hold", kind=StepKind.HOLD, duration_ms=draw(durations)),
        )
    elif timed == "work":
        steps = (Step(name="Go", kind=StepKind.WORK, duration_ms=draw(durations)),)
    else:
        names = draw(st.lists(st.sampled_from(PHASE_NAMES), min_size=1, max_size=4))
        steps = tuple(
            Step(name=name, kind=StepKind.STEP, duration_ms=draw(durations)) for name in names
        )
    sides = draw(st.sampled_from([(), ("left foot",), ("left foot", "right foot")]))
    rep_ms = sum(step.duration_ms for step in steps)
    moments = (
        draw(st.lists(st.integers(1000, rep_ms - 1), max_size=3, unique=True))
        if rep_ms > 1000
        else []
    )
    tips = tuple(
        Tip(at_ms=at, say=draw(st.sampled_from(TIP_TEXTS)), once=draw(st.booleans()))
        for at in moments
    )
    return Exercise(
        name=f"Exercise {index}",
        instructions=draw(st.none() | st.just("Stand tall.")),
        steps=steps,
        reps=draw(st.integers(1, 6)),
        gap_ms=draw(gaps),
        gap_kind=draw(st.sampled_from(GapKind)),
        sides=sides,
        switch_ms=draw(gaps),
        sets=draw(st.integers(1, 3)),
        set_rest_ms=draw(gaps),
        lead_in_ms=draw(gaps),
        counting=draw(st.sampled_from(Counting)),
        countdown=draw(st.integers(0, 10)),
        announce_last=draw(st.booleans()),
        tips=tips,
    )


@st.composite
def plans(draw: st.DrawFn) -> Plan:
    count = draw(st.integers(1, 4))
    drawn = [draw(exercises(index)) for index in range(1, count + 1)]
    circuits: tuple[Circuit, ...] = ()
    if count > 1 and draw(st.booleans()):
        # A run of consecutive exercises done in rounds.
        first = draw(st.integers(0, count - 2))
        last = draw(st.integers(first + 1, count - 1))
        circuit = Circuit(name="Circuit", rounds=draw(st.integers(1, 3)), round_rest_ms=draw(gaps))
        circuits = (circuit,)
        drawn[first : last + 1] = [replace(e, circuit="Circuit") for e in drawn[first : last + 1]]
    return Plan(
        title="Generated",
        description=None,
        frequency=draw(st.none() | st.just("every day")),
        equipment=draw(st.sampled_from([(), ("a chair",)])),
        safety="Be careful.",
        sources=(),
        notes=None,
        voice=None,
        rate=150,
        rest_between_exercises_ms=draw(gaps),
        exercises=tuple(drawn),
        circuits=circuits,
        source_name="generated.yaml",
    )


# Speech lengths: a short list of lengths, each phrase picking one by a stable hash of its text, so
# the same phrase always has the same length. Some are far longer than any slot, so they overrun.
speech_lengths = st.lists(
    st.integers(min_value=1, max_value=400) | st.integers(min_value=400, max_value=40_000),
    min_size=1,
    max_size=24,
)


def measure_from(lengths: list[int]) -> Callable[[str], int]:
    def measure(text: str) -> int:
        return lengths[zlib.crc32(text.encode()) % len(lengths)]

    return measure


@dataclass(frozen=True)
class Expected:
    """One timed part of a rep as the plan asks for it."""

    where: Where
    step: Step
    first: bool
    last: bool
    offset_ms: int
    """From the start of the rep to the start of this step."""
    tips: tuple[Tip, ...]
    """The tips said in this rep."""


def expected_intervals(plan: Plan) -> list[Expected]:
    out = []
    for turn in running_order(plan):
        exercise = turn.exercise
        for set_number in range(1, exercise.sets + 1):
            for side in exercise.sides or (None,):
                for rep in range(1, exercise.reps + 1):
                    where = replace(
                        turn.where,
                        set=set_number if exercise.sets > 1 else None,
                        side=side,
                        rep=rep,
                    )
                    last = len(exercise.steps) - 1
                    tips = said_tips(exercise, first_rep=rep == 1 and set_number == 1)
                    offset = 0
                    for index, step in enumerate(exercise.steps):
                        out.append(
                            Expected(
                                where=where,
                                step=step,
                                first=index == 0,
                                last=index == last,
                                offset_ms=offset,
                                tips=tips,
                            )
                        )
                        offset += step.duration_ms
    return out


def said_tips(exercise: Exercise, *, first_rep: bool) -> tuple[Tip, ...]:
    """The tips of a rep: all of them in the first rep on each side, those not `once` after."""
    return tuple(tip for tip in exercise.tips if first_rep or not tip.once)


def style(exercise: Exercise, index: int) -> Counting:
    """The counting of the *index*-th step, `auto` chosen as the README says: every second in holds
    and phases of up to 10 s that no tip is said in, the time left everywhere else."""
    if exercise.counting is not Counting.AUTO:
        return exercise.counting
    step = exercise.steps[index]
    start = sum(s.duration_ms for s in exercise.steps[:index])
    tipped = any(start <= tip.at_ms < start + step.duration_ms for tip in exercise.tips)
    if step.kind is not StepKind.WORK and step.duration_ms <= 10_000 and not tipped:
        return Counting.EVERY_SECOND
    return Counting.SECONDS_LEFT


def counts(duration_ms: int, counting: Counting, countdown: int) -> list[tuple[int, str]]:
    """The numbers (and "Halfway." or the time left), each with its mark, said during an interval."""
    if counting is Counting.NONE:
        return []
    # A count n is said n seconds before the end, and none earlier than a second after the start.
    left = range((duration_ms - 1000) // 1000, 0, -1)
    most = EVERY_SECOND_FROM if counting is Counting.EVERY_SECOND else countdown
    numbers = [(duration_ms - n * 1000, WORDING.count(n)) for n in left if n <= most]
    # Calls come 2 s or more before the first number (and time left from 5 s after the start).
    latest = (numbers[0][0] if numbers else duration_ms) - 2000
    calls = []
    halfway = duration_ms // 2000 * 1000
    if counting is Counting.LAST_THREE and duration_ms >= 10_000 and halfway <= latest:
        calls = [(halfway, WORDING.halfway())]
    if counting is Counting.SECONDS_LEFT:
        marks = {*(m * 60_000 for m in range(1, duration_ms // 60_000 + 1)), 30_000, 10_000}
        calls = [
            (duration_ms - m, WORDING.time_left(m))
            for m in sorted(marks, reverse=True)
            if 5000 <= duration_ms - m <= latest
        ]
    return calls + numbers


def countdown(slot_ms: int, exercise: Exercise) -> list[str]:
    if exercise.counting is Counting.NONE or slot_ms < 5000:
        return []
    numbers = min(exercise.countdown, (slot_ms - 2000) // 1000)
    return [WORDING.count(n) for n in range(numbers, 0, -1)]


def script(plan: Plan, measure: Callable[[str], int]) -> Counter[str]:
    """Every phrase the plan should have said after its intro, as a multiset."""
    said: list[str] = []
    turns = running_order(plan)
    count = len(plan.exercises)
    for position, turn in enumerate(turns):
        exercise, previous = turn.exercise, turns[position - 1] if position else None
        if turn.circuit and turn.circuit.rounds == 1:
            pass
        elif turn.circuit and (previous is None or previous.circuit is not turn.circuit):
            said.append(WORDING.circuit(turn.circuit.name, turn.circuit.rounds))
        elif turn.circuit and previous and previous.round != turn.round:
            last = turn.round == turn.circuit.rounds and exercise.announce_last
            rounds = turn.circuit.rounds
            said.append(
                WORDING.last_round() if last else WORDING.next_round(turn.round or 1, rounds)
            )
        if previous is not None:
            starts_round = turn.circuit is previous.circuit and previous.round != turn.round
            gap = (
                turn.circuit.round_rest_ms
                if starts_round and turn.circuit and turn.circuit.round_rest_ms
                else plan.rest_between_exercises_ms
            )
            said += [WORDING.rest()] if gap else []
        said += WORDING.announce(exercise, turn.number, count, brief=(turn.round or 1) > 1)
        if exercise.lead_in_ms:
            said += [WORDING.get_ready(), *countdown(exercise.lead_in_ms, exercise)]
        for set_number in range(1, exercise.sets + 1):
            for side_index, side in enumerate(exercise.sides or (None,)):
                if side_index and side and exercise.switch_ms:
                    said += [
                        WORDING.switch(side),
                        *countdown(exercise.switch_ms, exercise),
                    ]
                for rep in range(1, exercise.reps + 1):
                    number = None
                    if rep > 1 and exercise.gap_ms:
                        said += [
                            WORDING.end_word(exercise.kind, exercise.gap_kind),
                            WORDING.next_rep(
                                exercise.kind, rep, exercise.reps, name_last=exercise.announce_last
                            ),
                            *countdown(exercise.gap_ms, exercise),
                        ]
                    elif rep > 1:  # (no pause to say it in: the rep says its number itself)
                        number = WORDING.next_rep(
                            exercise.kind, rep, exercise.reps, name_last=exercise.announce_last
                        )
                    for index, step in enumerate(exercise.steps):
                        word = WORDING.start_word(step.kind, step.name)
                        marked = counts(
                            step.duration_ms, style(exercise, index), exercise.countdown
                        )
                        said.append(word)
                        if index == 0 and number is not None:
                            said.append(number)
                            # (the counts it would overlap give way to it)
                            spoken = measure(word) + BETWEEN_PHRASES_MS + measure(number)
                            first = START_TONE_MS + AFTER_TONE_MS + spoken
                            marked = [(at, text) for at, text in marked if at >= first]
                        said += [text for _, text in marked]
                    said += [
                        tip.say
                        for tip in said_tips(exercise, first_rep=rep == 1 and set_number == 1)
                    ]
            if set_number < exercise.sets and exercise.set_rest_ms:
                said += [
                    WORDING.rest(),
                    WORDING.next_set(set_number + 1, exercise.sets),
                    *countdown(exercise.set_rest_ms, exercise),
                ]
    said += WORDING.outro(plan)
    return Counter(said)


def starting_at(timeline: Timeline) -> dict[int, list[Event]]:
    by_start: dict[int, list[Event]] = {}
    for event in timeline.events:
        by_start.setdefault(event.start_ms, []).append(event)
    return by_start


PROPERTY_SETTINGS = settings(max_examples=examples(80), deadline=None)


@PROPERTY_SETTINGS
@given(plan=plans(), lengths=speech_lengths)
def test_events_are_contiguous_from_zero_to_the_total(plan: Plan, lengths: list[int]) -> None:
    """Events never overlap, have no holes, run from 0 to the total, and their durations sum to it."""
    timeline = build_timeline(plan=plan, speech_ms=measure_from(lengths))
    events = timeline.events
    assert events[0].start_ms == 0
    for previous, event in pairwise(events):
        assert event.start_ms == previous.end_ms
    assert all(event.duration_ms > 0 for event in events)
    assert timeline.total_ms == events[-1].end_ms == sum(event.duration_ms for event in events)
    assert events[-1].kind is EventKind.SILENCE and events[-1].phase is Phase.OUTRO


@PROPERTY_SETTINGS
@given(plan=plans(), lengths=speech_lengths)
def test_intervals_are_the_plans_steps_with_their_durations(plan: Plan, lengths: list[int]) -> None:
    """One interval per step of every rep of every side and set, in order, each exactly as long as its
    step."""
    timeline = build_timeline(plan=plan, speech_ms=measure_from(lengths))
    expected = expected_intervals(plan)
    rounds = {circuit.name: circuit.rounds for circuit in plan.circuits}
    expected_count = sum(
        rounds.get(e.circuit or "", 1) * e.sets * max(1, len(e.sides)) * e.reps * len(e.steps)
        for e in plan.exercises
    )
    assert len(timeline.intervals) == len(expected) == expected_count
    for interval, want in zip(timeline.intervals, expected, strict=True):
        assert interval.end_ms - interval.start_ms == want.step.duration_ms
        assert (interval.name, interval.phase, interval.where) == (
            want.step.name,
            Phase(want.step.kind.value),
            want.where,
        )
    for interval, following in pairwise(timeline.intervals):
        assert following.start_ms >= interval.end_ms
    for interval, want, following in zip(
        timeline.intervals, expected, timeline.intervals[1:], strict=False
    ):
        if not want.last:
            assert following.start_ms == interval.end_ms
    assert timeline.intervals[-1].end_ms < timeline.total_ms


@PROPERTY_SETTINGS
@given(plan=plans(), lengths=speech_lengths)
def test_every_interval_is_marked_at_its_start_and_end(plan: Plan, lengths: list[int]) -> None:
    """Each step starts on a start tone or its spoken name, and each rep ends on an end tone or the
    next start tone."""
    timeline = build_timeline(plan=plan, speech_ms=measure_from(lengths))
    by_start = starting_at(timeline)
    for interval, want in zip(timeline.intervals, expected_intervals(plan), strict=True):
        opening = by_start.get(interval.start_ms, [])
        if want.first:
            assert [(e.kind, e.tone) for e in opening] == [(EventKind.TONE, Tone.START)]
        else:
            word = WORDING.start_word(want.step.kind, want.step.name)
            assert [(e.kind, e.text) for e in opening] == [(EventKind.SPEECH, word)]
        if want.last:
            closing = by_start.get(interval.end_ms, [])
            assert [e.kind for e in closing] == [EventKind.TONE]
            assert closing[0].tone in (Tone.START, Tone.END)
    # Start tones mark reps and nothing else; every end tone closes a rep.
    rep_starts = {
        i.start_ms
        for i, w in zip(timeline.intervals, expected_intervals(plan), strict=True)
        if w.first
    }
    rep_ends = {
        i.end_ms
        for i, w in zip(timeline.intervals, expected_intervals(plan), strict=True)
        if w.last
    }
    start_tones = [e.start_ms for e in timeline.events if e.tone is Tone.START]
    assert sorted(start_tones) == sorted(rep_starts) and len(start_tones) == len(rep_starts)
    assert all(e.start_ms in rep_ends for e in timeline.events if e.tone is Tone.END)


@PROPERTY_SETTINGS
@given(plan=plans(), lengths=speech_lengths)
def test_events_inside_an_interval_belong_to_it_and_counts_sit_on_seconds(
    plan: Plan, lengths: list[int]
) -> None:
    """Nothing straddles an interval's edges, its events carry its phase, and its numbers start on
    whole seconds."""
    timeline = build_timeline(plan=plan, speech_ms=measure_from(lengths))
    events = iter(timeline.events)
    event = next(events)
    for interval, want in zip(timeline.intervals, expected_intervals(plan), strict=True):
        while event.end_ms <= interval.start_ms:
            event = next(events)
        inside: list[Event] = []
        while event.start_ms < interval.end_ms:
            assert interval.start_ms <= event.start_ms and event.end_ms <= interval.end_ms
            inside.append(event)
            event = next(events)
        assert {e.phase for e in inside} == {interval.phase}
        assert {e.where for e in inside} == {interval.where}
        exercise = next(e for e in plan.exercises if e.name == interval.where.exercise)
        said_by_the_rep = (
            WORDING.start_word(want.step.kind, want.step.name),
            # (its number, when there is no pause between reps to say it in)
            WORDING.next_rep(
                exercise.kind,
                interval.where.rep or 1,
                exercise.reps,
                name_last=exercise.announce_last,
            ),
        )
        numbers = [
            e for e in inside[1:] if e.kind is EventKind.SPEECH and e.text not in said_by_the_rep
        ]
        for spoken in numbers:
            offset = spoken.start_ms - interval.start_ms
            before_end = interval.end_ms - spoken.start_ms
            if spoken.text in TIP_TEXTS:  # (on its moment from the start of the rep)
                moments = [tip.at_ms for tip in want.tips if tip.say == spoken.text]
                assert want.offset_ms + offset in moments
                continue
            if spoken.text == WORDING.halfway():
                assert offset % 1000 == 0 and offset > 0
                continue
            if spoken.text == WORDING.time_left(before_end):
                assert before_end % 1000 == 0 and offset >= 5000
                continue
            # Counts sit on whole seconds before the end cue, and say how many are left.
            assert before_end % 1000 == 0 and offset >= 1000
            assert spoken.text == WORDING.count(before_end // 1000)


@PROPERTY_SETTINGS
@given(plan=plans(), lengths=speech_lengths)
def test_overruns_are_reported_iff_speech_is_cut_or_dropped(plan: Plan, lengths: list[int]) -> None:
    """Each clipped phrase has its overrun, each overrun a clipped or dropped phrase, and nothing is
    lost unreported."""
    measure = measure_from(lengths)
    timeline = build_timeline(plan=plan, speech_ms=measure)
    speech = [e for e in timeline.events if e.kind is EventKind.SPEECH]
    for event in speech:
        assert event.text is not None
        assert event.duration_ms <= measure(event.text)
        assert event.duration_ms + event.clipped_ms == measure(event.text)
    clipped = {(e.start_ms, e.text, e.duration_ms) for e in speech if e.clipped_ms}
    reported_clipped = {
        (o.at_ms, o.text, o.available_ms) for o in timeline.overruns if o.available_ms
    }
    assert clipped == reported_clipped
    assert len(reported_clipped) == sum(1 for o in timeline.overruns if o.available_ms)
    for overrun in timeline.overruns:
        assert overrun.needed_ms == measure(overrun.text)
        assert overrun.needed_ms > overrun.available_ms >= 0
        assert overrun.over_ms > 0
    dropped = Counter(o.text for o in timeline.overruns if not o.available_ms)
    said = Counter(e.text for e in speech if e.phase is not Phase.INTRO)
    assert said + dropped == script(plan, measure)
    assert bool(timeline.overruns) == (bool(clipped) or bool(dropped))
    # Free slots (intro, announcements, closing) stretch to fit: nothing there is ever cut.
    free = (Phase.INTRO, Phase.ANNOUNCE, Phase.OUTRO)
    assert all(e.clipped_ms == 0 for e in speech if e.phase in free)
    assert all(o.phase not in free for o in timeline.overruns)


@PROPERTY_SETTINGS
@given(plan=plans(), lengths=speech_lengths, extra=st.integers(1, 30_000))
def test_a_longer_phrase_never_moves_a_timed_cue(
    plan: Plan, lengths: list[int], extra: int
) -> None:
    """Lengthening a phrase said inside the reps moves no interval, no tone and not the total."""
    measure = measure_from(lengths)
    timeline = build_timeline(plan=plan, speech_ms=measure)
    counted = [
        e.text
        for e in timeline.events
        if e.phase in (Phase.HOLD, Phase.WORK, Phase.STEP) and e.text
    ]
    target = counted[0]
    longer = build_timeline(
        plan=plan, speech_ms=lambda text: measure(text) + (extra if text == target else 0)
    )
    assert longer.intervals == timeline.intervals
    assert longer.total_ms == timeline.total_ms

    def tones(t: Timeline) -> list[tuple[int, Tone | None]]:
        return [(e.start_ms, e.tone) for e in t.events if e.kind is EventKind.TONE]

    assert tones(longer) == tones(timeline)
    # The change did reach the phrase: it is longer or more clipped wherever it is said.
    assert [e for e in longer.events if e.text == target] != [
        e for e in timeline.events if e.text == target
    ]
