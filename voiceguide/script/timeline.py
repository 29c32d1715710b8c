"""Lay a plan out in time: the pure step from a plan to a timeline of speech, tones and silence.

No I/O happens here. Speech lengths come from a function the caller passes in (the real speech
engine in a build, a fake one in unit tests), so the same layout can be previewed, validated,
rendered and tested.

Timing rules, which are the product:
- A hold, work interval or phase starts on its start cue and ends on the next cue exactly; speech
  never moves a cue. Speech that does not fit before the next fixed cue is cut there and reported
  as an `Overrun`.
- Spoken counts start on their whole-second marks inside the interval they count.
- Intro, announcements and closing are as long as their speech; every other slot has the length
  the plan gives it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum

from voiceguide.plans.plan import Circuit, Counting, Exercise, Instructions, Plan
from voiceguide.script.wording import Wording

SpeechMeasure = Callable[[str], int]
"""Returns how long the given phrase lasts when spoken, in milliseconds."""

START_TONE_MS = 150
END_TONE_MS = 250
AFTER_TONE_MS = 60
BETWEEN_PHRASES_MS = 150
FREE_PAUSE_MS = 400
AFTER_FREE_MS = 800
LEAD_SILENCE_MS = 500
TAIL_SILENCE_MS = 1_500
COUNTDOWN_MIN_SLOT_MS = 5_000
"""No countdown in a lead-in, rest, switch or transition shorter than this."""
COUNTDOWN_ROOM_MS = 2_000
"""A countdown leaves at least this much of the start of its slot to what is said there (the end
tone and "Rest.", "Switch to ..."): in a short slot it counts fewer numbers than asked."""
EVERY_SECOND_FROM = 30
"""Counting every second starts this many seconds before the end: longer numbers take more than
a second to say."""
FIRST_COUNT_MS = 1_000
"""No count before this far into an interval: the start tone and start word come first."""
TIME_LEFT_FROM_MS = 5_000
"""No "N seconds left" sooner than this after the start: so early it says little more than the
announcement did."""
BEFORE_COUNTDOWN_MS = 2_000
"""A "halfway" or "N seconds left" call comes at least this long before the final countdown, to be
said before it."""
TIME_LEFT_MARKS_MS = (30_000, 10_000)
"""Where `seconds-left` says the time left, besides every whole minute left."""


class EventKind(StrEnum):
    SPEECH = "speech"
    TONE = "tone"
    SILENCE = "silence"


class Tone(StrEnum):
    START = "start"
    END = "end"
    TRANSITION = "transition"
    """The end of an exercise, only where it has a sound of its own (`transition_sound`): without
    one, an exercise ends on the end tone as any hold does."""


TONE_MS = {Tone.START: START_TONE_MS, Tone.END: END_TONE_MS, Tone.TRANSITION: END_TONE_MS}


class Phase(StrEnum):
    INTRO = "intro"
    ANNOUNCE = "announce"
    LEAD_IN = "lead-in"
    HOLD = "hold"
    WORK = "work"
    STEP = "step"
    RESET = "reset"
    REST = "rest"
    SWITCH = "switch"
    TRANSITION = "transition"
    OUTRO = "outro"


@dataclass(frozen=True, slots=True, kw_only=True)
class Where:
    """Which part of the session an event belongs to."""

    exercise: str | None = None
    set: int | None = None
    """Only for exercises of more than one set."""
    side: str | None = None
    rep: int | None = None
    round: int | None = None
    """Only for exercises of a circuit: which of its rounds."""
    rounds: int | None = None
    """Only for exercises of a circuit: how many rounds it has."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    start_ms: int
    end_ms: int
    kind: EventKind
    phase: Phase
    where: Where
    text: str | None = None
    tone: Tone | None = None
    clipped_ms: int = 0
    """How much of the phrase was cut off because it overran its slot."""

    @property
    def duration_ms(self) -> int:
        return self.end_ms - self.start_ms


@dataclass(frozen=True, slots=True, kw_only=True)
class Interval:
    """A timed part of a rep as the plan asks for it: a hold, a work interval or a phase."""

    start_ms: int
    end_ms: int
    phase: Phase
    name: str
    where: Where


@dataclass(frozen=True, slots=True, kw_only=True)
class Overrun:
    """A phrase that does not fit where the plan puts it."""

    at_ms: int
    text: str
    needed_ms: int
    available_ms: int
    phase: Phase
    where: Where

    @property
    def over_ms(self) -> int:
        return self.needed_ms - self.available_ms


@dataclass(frozen=True, slots=True, kw_only=True)
class Timeline:
    title: str
    events: tuple[Event, ...]
    intervals: tuple[Interval, ...]
    overruns: tuple[Overrun, ...]

    @property
    def total_ms(self) -> int:
        return self.events[-1].end_ms if self.events else 0

    def phrases(self) -> list[str]:
        """Every distinct phrase spoken, in order of first use."""
        return list(dict.fromkeys(e.text for e in self.events if e.text is not None))


@dataclass(frozen=True, slots=True)
class Cue:
    """Something to place in a slot: at a fixed offset from its start, or right after the last cue."""

    at: int | None
    text: str | None = None
    tone: Tone | None = None


@dataclass(frozen=True, slots=True)
class Turn:
    """One exercise done once, in the order the session does them: an exercise of a circuit has a
    turn in each round."""

    exercise: Exercise
    number: int
    """Its place among the plan's exercises, from 1 (the same in every round)."""
    circuit: Circuit | None = None
    round: int | None = None

    @property
    def where(self) -> Where:
        if self.circuit is None or self.circuit.rounds == 1:
            return Where(exercise=self.exercise.name)  # (one round is no round to tell apart)
        return Where(exercise=self.exercise.name, round=self.round, rounds=self.circuit.rounds)


def running_order(plan: Plan) -> list[Turn]:
    """The plan's exercises in the order they are done: each circuit's block once per round."""
    circuits = {circuit.name: circuit for circuit in plan.circuits}
    turns: list[Turn] = []
    index = 0
    while index < len(plan.exercises):
        exercise = plan.exercises[index]
        circuit = circuits.get(exercise.circuit) if exercise.circuit is not None else None
        if circuit is None:
            turns.append(Turn(exercise, index + 1))
            index += 1
            continue
        end = index
        while end < len(plan.exercises) and plan.exercises[end].circuit == circuit.name:
            end += 1
        for round_number in range(1, circuit.rounds + 1):
            turns += [
                Turn(plan.exercises[place], place + 1, circuit, round_number)
                for place in range(index, end)
            ]
        index = end
    return turns


def _starts_round(turn: Turn, previous: Turn) -> bool:
    """Whether *turn* starts a later round of the circuit *previous* was in."""
    return (
        turn.circuit is not None
        and turn.circuit is previous.circuit
        and turn.round != previous.round
    )


def _gap_ms(plan: Plan, turn: Turn, previous: Turn) -> int:
    """The gap before *turn*: a circuit's rest between rounds, else the rest or transition between
    two exercises."""
    if _starts_round(turn, previous) and turn.circuit and turn.circuit.round_rest_ms:
        return turn.circuit.round_rest_ms
    return plan.rest_between_exercises_ms if plan.transition_ms is None else plan.transition_ms


def shortest_length_ms(plan: Plan) -> int:
    """How long the session lasts at the least, from its timed parts alone (no speech, no layout):
    cheap enough to refuse a plan of absurd length before laying it out."""
    total = 0
    turns = running_order(plan)
    for position, turn in enumerate(turns):
        exercise = turn.exercise
        sides = max(1, len(exercise.sides))
        per_side = exercise.reps * exercise.rep_ms + (exercise.reps - 1) * exercise.gap_ms
        per_set = sides * per_side + (sides - 1) * exercise.switch_ms
        led_in = position == 0 or plan.transition_ms is None
        total += (
            (exercise.lead_in_ms if led_in else 0)
            + exercise.sets * per_set
            + (exercise.sets - 1) * exercise.set_rest_ms
            + (_gap_ms(plan, turn, turns[position - 1]) if position else 0)
        )
    return total


def build_timeline(
    *,
    plan: Plan,
    speech_ms: SpeechMeasure,
    wording: Wording | None = None,
    expected_total_ms: int = 0,
    sound_ms: Mapping[Tone, int] | None = None,
) -> Timeline:
    """Lay out *plan*. The intro states the total, which depends on the intro: lay out again until
    the stated total is the real one. A good *expected_total_ms* saves a pass, and the measuring of
    a sentence that will not be used. *sound_ms* are the lengths of the cues' own sounds (see
    sound/ownsounds.py), by the cue each sounds on; a cue without one has its built-in tone."""
    wording = wording or Wording(plan.language)
    stated_ms = expected_total_ms
    sounds = dict(sound_ms or {})
    for _ in range(10):
        timeline = _lay_out(plan, speech_ms, wording, stated_ms, sounds=sounds)
        if wording.intro(plan, timeline.total_ms) == wording.intro(plan, stated_ms):
            return timeline
        if timeline.total_ms < stated_ms:
            # Stating the longer total shortened the intro enough to round down again: pad the
            # closing silence (by far less than a rounding step) so the statement holds.
            return _lay_out(
                plan, speech_ms, wording, stated_ms, sounds=sounds,
                tail_pad_ms=stated_ms - timeline.total_ms,
            )  # fmt: skip
        stated_ms = timeline.total_ms
    return timeline


def _lay_out(
    plan: Plan,
    speech_ms: SpeechMeasure,
    wording: Wording,
    stated_ms: int,
    *,
    sounds: dict[Tone, int],
    tail_pad_ms: int = 0,
) -> Timeline:
    layout = _Layout(speech_ms, tone_ms={**TONE_MS, **sounds})
    layout.silence_until(LEAD_SILENCE_MS)
    layout.free(Phase.INTRO, wording.intro(plan, stated_ms))
    count = len(plan.exercises)
    brief = plan.instructions is Instructions.BRIEF or (
        plan.instructions is Instructions.FIRST_WEEK and plan.week is not None and plan.week > 1
    )
    turns = running_order(plan)
    for position, turn in enumerate(turns):
        exercise = turn.exercise
        # Full instructions in a circuit's first round; its short form in the rounds after.
        announced = wording.announce(
            exercise, turn.number, count, brief=brief or (turn.round or 1) > 1
        )
        if count == 1 and _same_words(exercise.name, plan.title):
            announced = announced[1:]  # (the intro has just said it, as the title)
        previous = turns[position - 1] if position else None
        opening = _opening(turn, previous, wording)
        layout.where = turn.where
        if previous is None:
            layout.free(Phase.ANNOUNCE, [*opening, *announced])
        elif plan.transition_ms is None:
            rest_ms = _gap_ms(plan, turn, previous)
            said = _lay_out_rest(layout, rest_ms, [wording.rest(), *opening], announced[0])
            # (what the rest has said is not said again: the exercise's name above all)
            layout.free(Phase.ANNOUNCE, announced[said:] if rest_ms else [*opening, *announced])
        else:
            shorter = wording.announce(exercise, turn.number, count, brief=True)
            gap_ms = _gap_ms(plan, turn, previous)
            rest = [wording.rest()] if gap_ms > plan.transition_ms else []
            _lay_out_transition(
                layout,
                gap_ms,
                exercise,
                [*rest, *opening],
                [announced, shorter, shorter[:1]],
                wording,
            )
        led_in = previous is None or plan.transition_ms is None
        _lay_out_exercise(layout, exercise, wording, lead_in=led_in)
        if Tone.TRANSITION in sounds:
            layout.ending_tone = Tone.TRANSITION
    layout.where = Where()
    layout.free(Phase.OUTRO, wording.outro(plan), pause_after=TAIL_SILENCE_MS + tail_pad_ms)
    return layout.finish(plan.title)


def _opening(turn: Turn, previous: Turn | None, wording: Wording) -> list[str]:
    """What is said before a turn's exercise is named: a circuit and its rounds when it starts,
    the round when a later one starts ("Last round." for its last, as for reps, unless the
    exercise's `announce_last` is off)."""
    if turn.circuit is None or turn.circuit.rounds == 1:
        return []  # (a circuit done once is its exercises one after another)
    if previous is None or previous.circuit is not turn.circuit:
        return [wording.circuit(turn.circuit.name, turn.circuit.rounds)]
    if _starts_round(turn, previous):
        if turn.round == turn.circuit.rounds and turn.exercise.announce_last:
            return [wording.last_round()]
        return [wording.next_round(turn.round or 1, turn.circuit.rounds)]
    return []


def _lay_out_rest(layout: _Layout, length_ms: int, texts: list[str], heading: str) -> int:
    """The rest before an exercise: *texts* ("Rest.", and the round), then the exercise's *heading*
    if it fits, so that the announcement after the rest need not name it again. Returns how many
    of the announcement's lines were said (1 for the heading, else 0)."""
    room = length_ms - (layout.tone_ms[layout.ending_tone] + AFTER_TONE_MS)
    with_heading = [*texts, heading]
    fits = _needed_ms(layout, with_heading) <= room
    layout.timed(
        Phase.REST, length_ms, [Cue(None, text) for text in (with_heading if fits else texts)]
    )
    return 1 if fits and length_ms > 0 else 0


def _needed_ms(layout: _Layout, texts: list[str]) -> int:
    """How long *texts* take, said one after another."""
    return sum(layout.speech_ms(text) for text in texts) + BETWEEN_PHRASES_MS * max(
        0, len(texts) - 1
    )


def _same_words(first: str, second: str) -> bool:
    """Whether two texts say the same words, whatever their case and punctuation."""

    def words(text: str) -> list[str]:
        return "".join(c if c.isalnum() else " " for c in text.casefold()).split()

    return words(first) == words(second)


def _lay_out_transition(
    layout: _Layout,
    length_ms: int,
    exercise: Exercise,
    opening: list[str],
    wordings: list[list[str]],
    wording: Wording,
) -> None:
    """The fixed gap before *exercise*: after the end tone, *opening* (the round, a circuit),
    then the exercise announced in the longest of *wordings* that fits before its countdown (in
    full, with its short cue, or its heading alone), and the countdown on the last seconds. What
    does not fit even then is cut at the countdown and reported as an overrun, as in any slot."""
    countdown = _countdown(exercise, wording)(length_ms)
    room = (countdown[0].at if countdown and countdown[0].at else length_ms) - (
        layout.tone_ms[layout.ending_tone] + AFTER_TONE_MS
    )
    texts = next(
        (texts for texts in wordings if _needed_ms(layout, [*opening, *texts]) <= room),
        wordings[-1],
    )
    cues = [Cue(None, text) for text in [*opening, *texts]]
    layout.timed(Phase.TRANSITION, length_ms, [*cues, *countdown])


def _lay_out_exercise(
    layout: _Layout, exercise: Exercise, wording: Wording, *, lead_in: bool = True
) -> None:
    """*exercise* from its lead-in (without one after a transition, which counted it down)."""
    where = layout.where
    countdown = _countdown(exercise, wording)
    if lead_in:
        layout.timed(
            Phase.LEAD_IN,
            exercise.lead_in_ms,
            [Cue(0, wording.get_ready()), *countdown(exercise.lead_in_ms)],
        )
    gap_phase = Phase(exercise.gap_kind.value)
    for set_number in range(1, exercise.sets + 1):
        for side_index, side in enumerate(exercise.sides or (None,)):
            # Sets are numbered only where there are several, so one-set exercises read cleanly.
            layout.where = replace(
                where, set=set_number if exercise.sets > 1 else None, side=side, rep=1
            )
            if side_index > 0 and side is not None:
                layout.timed(
                    Phase.SWITCH,
                    exercise.switch_ms,
                    [Cue(None, wording.switch(side)), *countdown(exercise.switch_ms)],
                )
            for rep in range(1, exercise.reps + 1):
                layout.where = replace(layout.where, rep=rep)
                upcoming = wording.next_rep(
                    exercise.kind, rep, exercise.reps, name_last=exercise.announce_last
                )
                if rep > 1:
                    cues = [
                        Cue(None, wording.end_word(exercise.kind, exercise.gap_kind)),
                        Cue(None, upcoming),
                        *countdown(exercise.gap_ms),
                    ]
                    layout.timed(gap_phase, exercise.gap_ms, cues)
                # Without a pause between reps to say it in, the rep says its own number.
                said = upcoming if rep > 1 and not exercise.gap_ms else None
                first = rep == 1 and set_number == 1
                _lay_out_rep(layout, exercise, wording, said, first=first)
        if set_number < exercise.sets:
            layout.where = replace(where, set=set_number + 1)
            cues = [
                Cue(None, wording.rest()),
                Cue(None, wording.next_set(set_number + 1, exercise.sets)),
            ]
            layout.timed(
                Phase.REST, exercise.set_rest_ms, [*cues, *countdown(exercise.set_rest_ms)]
            )


def _lay_out_rep(
    layout: _Layout,
    exercise: Exercise,
    wording: Wording,
    number: str | None = None,
    *,
    first: bool = True,
) -> None:
    """One rep; its *number* ("Rep two of four.") said after its first start word, the counts it
    would overlap giving way to it; the tips said at their moments (those said `once` in the
    *first* rep on each side only)."""
    tips = sorted((t for t in exercise.tips if first or not t.once), key=lambda t: t.at_ms)
    step_start = 0
    for index, step in enumerate(exercise.steps):
        word = wording.start_word(step.kind, step.name)
        # The first phase opens with the start tone; later phases open with their spoken name.
        opening = [Cue(0, tone=Tone.START), Cue(None, word)] if index == 0 else [Cue(0, word)]
        counts = _counts(step.duration_ms, exercise.step_counting(index), exercise.countdown,
                         wording)  # fmt: skip
        if index == 0 and number is not None:
            opening.append(Cue(None, number))
            said_ms = START_TONE_MS + AFTER_TONE_MS + _needed_ms(layout, [word, number])
            counts = [cue for cue in counts if cue.at is None or cue.at >= said_ms]
        said = [
            Cue(tip.at_ms - step_start, tip.say)
            for tip in tips
            if step_start <= tip.at_ms < step_start + step.duration_ms
        ]
        layout.interval(Phase(step.kind.value), step.name, step.duration_ms)
        layout.timed(Phase(step.kind.value), step.duration_ms, _with_tips(opening, counts, said))
        step_start += step.duration_ms
    layout.ending = layout.where


def _with_tips(opening: list[Cue], counts: list[Cue], tips: list[Cue]) -> list[Cue]:
    """The cues of a step in time order. A tip on the same moment as another cue comes first, so
    that it is the tip that finds no room there and is reported, never the count or the phase's
    name (which keep their marks)."""
    at_start = [tip for tip in tips if tip.at == 0]  # (only at a later phase's start)
    later = [tip for tip in tips if tip.at != 0]
    return [*at_start, *opening, *sorted([*later, *counts], key=lambda cue: cue.at or 0)]


def _counts(duration_ms: int, counting: Counting, countdown: int, wording: Wording) -> list[Cue]:
    """The seconds left, each said on its mark: "one" one second before the end cue, "two" two
    seconds before, and so on: every second (from thirty left), or the last *countdown* seconds,
    none sooner than a second after the start (the start word comes first). Before the countdown
    `last-3` says "halfway" in long intervals, `seconds-left` the time left at every whole minute
    left, thirty and ten seconds, where that is neither at the very start nor on the countdown.
    For whole-second intervals the marks are whole seconds from the start as well."""
    if counting is Counting.NONE:
        return []
    counted = EVERY_SECOND_FROM if counting is Counting.EVERY_SECOND else countdown
    numbers = [
        Cue(duration_ms - left * 1000, wording.count(left))
        for left in range(counted, 0, -1)
        if duration_ms - left * 1000 >= FIRST_COUNT_MS
    ]
    latest_call = (
        numbers[0].at if numbers and numbers[0].at else duration_ms
    ) - BEFORE_COUNTDOWN_MS
    calls = []
    if counting is Counting.LAST_THREE and duration_ms >= 10_000:
        halfway = duration_ms // 2000 * 1000
        if halfway <= latest_call:
            calls.append(Cue(halfway, wording.halfway()))
    elif counting is Counting.SECONDS_LEFT:
        minutes = [left * 60_000 for left in range(duration_ms // 60_000, 0, -1)]
        for left in sorted({*minutes, *TIME_LEFT_MARKS_MS}, reverse=True):
            at = duration_ms - left
            if TIME_LEFT_FROM_MS <= at <= latest_call:
                calls.append(Cue(at, wording.time_left(left)))
    return [*calls, *numbers]


def _countdown(exercise: Exercise, wording: Wording) -> Callable[[int], list[Cue]]:
    """The last *exercise.countdown* seconds of a slot that leads into its start counted down
    ("three, two, one"), if the slot is long enough for a countdown; fewer numbers where the slot
    would have no room left for what is said in it."""

    def cues(slot_ms: int) -> list[Cue]:
        if exercise.counting is Counting.NONE or slot_ms < COUNTDOWN_MIN_SLOT_MS:
            return []
        numbers = min(exercise.countdown, (slot_ms - COUNTDOWN_ROOM_MS) // 1000)
        return [Cue(slot_ms - left * 1000, wording.count(left)) for left in range(numbers, 0, -1)]

    return cues


@dataclass
class _Layout:
    speech_ms: SpeechMeasure
    tone_ms: dict[Tone, int] = field(default_factory=lambda: dict(TONE_MS))
    """How long each cue's sound lasts: the built-in tone's, or the plan's own sound's."""
    now: int = 0
    where: Where = field(default_factory=Where)
    _last_slot_where: Where | None = None
    """The slot of the last event (its `where` may differ: an end tone belongs to the rep it ends)."""
    ending: Where | None = None
    """The rep that has just ended, while its end tone waits to open whatever slot comes next."""
    ending_tone: Tone = Tone.END
    """What sounds that end: TRANSITION where an exercise ends and has a sound of its own."""
    events: list[Event] = field(default_factory=list)
    intervals: list[Interval] = field(default_factory=list)
    overruns: list[Overrun] = field(default_factory=list)

    def silence_until(self, ms: int) -> None:
        self.now = max(self.now, ms)

    def interval(self, phase: Phase, name: str, duration_ms: int) -> None:
        self.intervals.append(
            Interval(
                start_ms=self.now,
                end_ms=self.now + duration_ms,
                phase=phase,
                name=name,
                where=self.where,
            )
        )

    def free(self, phase: Phase, texts: list[str], *, pause_after: int = AFTER_FREE_MS) -> None:
        """Phrases one after another; the slot lasts as long as they take."""
        if self.ending is not None:
            length = self.tone_ms[self.ending_tone]
            self._emit(
                self.now,
                self.now + length,
                EventKind.TONE,
                phase,
                tone=self.ending_tone,
                where=self.ending,
            )
            self.now += length + FREE_PAUSE_MS
            self.ending, self.ending_tone = None, Tone.END
        for index, text in enumerate(texts):
            if index:
                self.now += FREE_PAUSE_MS
            length = self.speech_ms(text)
            self._emit(self.now, self.now + length, EventKind.SPEECH, phase, text=text)
            self.now += length
        self.now += pause_after

    def timed(self, phase: Phase, duration_ms: int, cues: list[Cue]) -> None:
        """A slot of exactly *duration_ms*: cues at their offsets, speech cut where it overruns."""
        if duration_ms <= 0:
            return
        ended, ending_tone = self.ending, self.ending_tone
        self.ending, self.ending_tone = None, Tone.END
        if cues and cues[0].tone is Tone.START:
            ended = None  # the start of the next rep marks the end of this one
        elif ended is not None:
            cues = [Cue(0, tone=ending_tone), *cues]
        start, end = self.now, self.now + duration_ms
        cursor, previous = start, None
        for index, cue in enumerate(cues):
            limit = next((start + c.at for c in cues[index + 1 :] if c.at is not None), end)
            if cue.at is not None:
                at = start + cue.at
            else:
                at = cursor + (
                    0
                    if previous is None
                    else AFTER_TONE_MS
                    if previous.tone
                    else BETWEEN_PHRASES_MS
                )
            length = self.tone_ms[cue.tone] if cue.tone else self.speech_ms(cue.text or "")
            stop = min(at + length, limit)
            if cue.text is not None and at + length > limit:
                self.overruns.append(
                    Overrun(
                        at_ms=at,
                        text=cue.text,
                        needed_ms=length,
                        available_ms=max(0, limit - at),
                        phase=phase,
                        where=self.where,
                    )
                )
            if stop <= at:
                continue
            kind = EventKind.TONE if cue.tone else EventKind.SPEECH
            # An end tone belongs to the rep it ends, though it sounds in the slot after it.
            ends = cue.tone in (Tone.END, Tone.TRANSITION)
            where = ended if ends and ended is not None else self.where
            self._emit(
                at,
                stop,
                kind,
                phase,
                text=cue.text,
                tone=cue.tone,
                clipped_ms=at + length - stop,
                where=where,
            )
            cursor, previous = stop, cue
        self.now = end

    def _emit(
        self,
        start: int,
        end: int,
        kind: EventKind,
        phase: Phase,
        *,
        text: str | None = None,
        tone: Tone | None = None,
        clipped_ms: int = 0,
        where: Where | None = None,
    ) -> None:
        last_end = self.events[-1].end_ms if self.events else 0
        if start > last_end:
            self.events.append(
                Event(
                    start_ms=last_end,
                    end_ms=start,
                    kind=EventKind.SILENCE,
                    phase=self._silence_phase(phase),
                    where=self._silence_where(),
                )
            )
        assert start >= last_end, f"overlapping events at {start} ms"
        self._last_slot_where = self.where
        self.events.append(
            Event(
                start_ms=start,
                end_ms=end,
                kind=kind,
                phase=phase,
                where=where or self.where,
                text=text,
                tone=tone,
                clipped_ms=clipped_ms,
            )
        )

    def _silence_phase(self, next_phase: Phase) -> Phase:
        return self.events[-1].phase if self.events else next_phase

    def _silence_where(self) -> Where:
        return self._last_slot_where or self.where

    def finish(self, title: str) -> Timeline:
        if self.events and self.now > self.events[-1].end_ms:
            last = self.events[-1]
            self.events.append(
                Event(
                    start_ms=last.end_ms,
                    end_ms=self.now,
                    kind=EventKind.SILENCE,
                    phase=last.phase,
                    where=last.where,
                )
            )
        return Timeline(
            title=title,
            events=tuple(self.events),
            intervals=tuple(self.intervals),
            overruns=tuple(self.overruns),
        )
