"""The shipped plan built with the real speech engine and ffmpeg, checked on the decoded MP3.

Every figure here is measured on what a listener hears: the session file decoded back to samples.
The timeline says when each cue should sound; these tests find the cues in the audio and compare.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import audio_measure as am
import pytest
from mutagen.easyid3 import EasyID3
from mutagen.id3 import ID3
from mutagen.mp3 import MP3

from voiceguide.output.export import read_stamp
from voiceguide.script.timeline import TONE_MS, Event, EventKind, Interval, Phase, Tone
from voiceguide.script.wording import Wording

if TYPE_CHECKING:
    from conftest import BuiltSession

pytestmark = [pytest.mark.audio, pytest.mark.ffmpeg]

LENGTH_TOLERANCE_MS = 50
TONE_TOLERANCE_MS = 30
HOLD_TOLERANCE_MS = 30
COUNT_TOLERANCE_MS = 30
TONE_LENGTH_TOLERANCE_MS = 20
"""The run of tone-like windows is a rough length; it only has to tell a start tone from an end tone."""
LONG_SILENCE_MS = 200
SILENCE_MARGIN_MS = 50
"""Left out at both ends of a silence, where a neighbour's fade or the codec's smearing may reach."""
QUIET_DBFS = -50.0
SPEECH_DBFS = -40.0
TIMED_PHASES = (Phase.HOLD, Phase.WORK, Phase.STEP)


@pytest.fixture(scope="module")
def heard_tones(each_engine_session: BuiltSession) -> dict[Tone, list[am.FoundTone]]:
    """Every start and end tone found in the decoded each_engine_session."""
    samples, rate = each_engine_session.samples, each_engine_session.sample_rate
    return {tone: am.find_tones(samples, tone, sample_rate=rate) for tone in am.BUILT_IN_TONES}


def _tone_events(each_engine_session: BuiltSession, tone: Tone) -> list[Event]:
    return [
        e
        for e in each_engine_session.result.timeline.events
        if e.kind is EventKind.TONE and e.tone is tone
    ]


def _where(event_or_interval: Event | Interval) -> str:
    w = event_or_interval.where
    parts = [
        w.exercise,
        w.side,
        f"set {w.set}" if w.set else None,
        f"rep {w.rep}" if w.rep else None,
    ]
    return ", ".join(p for p in parts if p)


def _distance(values: list[int], target: float) -> float:
    found = am.nearest(values, target)
    return math.inf if found is None else abs(found - target)


def test_decoded_length_matches_the_timeline(each_engine_session: BuiltSession) -> None:
    """The decoded session lasts as long as the timeline says, within 50 ms."""
    decoded = am.duration_ms(each_engine_session.samples, each_engine_session.sample_rate)
    planned = each_engine_session.result.timeline.total_ms
    assert planned > 60_000, f"the shipped plan should make a session of minutes, not {planned} ms"
    print(f"decoded length {decoded:.1f} ms, timeline {planned} ms: {decoded - planned:+.2f} ms")
    assert abs(decoded - planned) <= LENGTH_TOLERANCE_MS, (
        f"decoded {decoded:.1f} ms, timeline {planned} ms: off by {decoded - planned:+.1f} ms"
    )


@pytest.mark.parametrize("tone", am.BUILT_IN_TONES)
def test_every_tone_sounds_at_its_time_and_nowhere_else(
    each_engine_session: BuiltSession, heard_tones: dict[Tone, list[am.FoundTone]], tone: Tone
) -> None:
    """Each start/end tone of the timeline is heard within 30 ms of its time, and no other tone is
    heard."""
    events = _tone_events(each_engine_session, tone)
    heard = heard_tones[tone]
    assert events, f"the shipped plan has no {tone} tones"
    onsets = [t.onset_ms for t in heard]

    errors = []
    for event in events:
        found = am.nearest(onsets, event.start_ms)
        error = math.inf if found is None else found - event.start_ms
        errors.append((abs(error), error, event))
    worst_abs, worst, worst_event = max(errors, key=lambda item: item[0])
    missing = [e for absolute, _, e in errors if absolute > TONE_TOLERANCE_MS]
    starts = [e.start_ms for e in events]
    extra = [t for t in heard if _distance(starts, t.onset_ms) > TONE_TOLERANCE_MS]

    assert not missing and not extra and len(heard) == len(events), (
        f"{tone} tones: timeline has {len(events)}, heard {len(heard)}; "
        f"{len(missing)} not heard within {TONE_TOLERANCE_MS} ms of their time "
        f"(first at {missing[0].start_ms if missing else '-'} ms), "
        f"{len(extra)} heard where the timeline has none (at {[round(t.onset_ms) for t in extra[:5]]} ms); "
        f"worst error {worst:+.1f} ms at {worst_event.start_ms} ms ({_where(worst_event)})"
    )
    print(
        f"{len(heard)} {tone} tones heard for {len(events)} in the timeline; worst error {worst:+.2f} ms"
    )
    assert worst_abs <= TONE_TOLERANCE_MS, (
        f"worst {tone} tone error {worst:+.1f} ms at {worst_event.start_ms} ms"
    )
    lengths = [t.length_ms for t in heard]
    assert all(abs(length - TONE_MS[tone]) <= TONE_LENGTH_TOLERANCE_MS for length in lengths), (
        f"{tone} tones should last {TONE_MS[tone]} ms; heard {min(lengths):.0f} to {max(lengths):.0f} ms"
    )


def test_every_hold_and_work_interval_lasts_as_planned(
    each_engine_session: BuiltSession, heard_tones: dict[Tone, list[am.FoundTone]]
) -> None:
    """From its start tone to the next tone heard, every interval lasts its planned time within 30 ms."""
    timeline = each_engine_session.result.timeline
    intervals = timeline.intervals
    assert intervals, "the shipped plan has no timed intervals"
    start_tone_at = {e.start_ms for e in _tone_events(each_engine_session, Tone.START)}
    # In the shipped plan every rep is one hold or work interval, opened by the start tone.
    assert all(i.start_ms in start_tone_at for i in intervals), (
        "an interval of the shipped plan has no start tone"
    )

    start_onsets = [t.onset_ms for t in heard_tones[Tone.START]]
    every_onset = sorted(t.onset_ms for tones in heard_tones.values() for t in tones)
    results = []
    for interval in intervals:
        planned = interval.end_ms - interval.start_ms
        start = am.nearest(start_onsets, interval.start_ms)
        if start is None or abs(start - interval.start_ms) > TONE_TOLERANCE_MS:
            results.append((math.inf, "no start tone heard at its start", planned, interval))
            continue
        # The interval ends on the next cue tone: the end tone, or the next rep's start tone.
        later = [onset for onset in every_onset if onset > start + TONE_MS[Tone.START] / 2]
        if not later:
            results.append((math.inf, "no tone heard after its start tone", planned, interval))
            continue
        measured = later[0] - start
        results.append((abs(measured - planned), measured, planned, interval))

    worst_abs, measured, planned, interval = max(results, key=lambda item: item[0])
    described = measured if isinstance(measured, str) else f"measured {measured:.1f} ms"
    print(
        f"{len(results)} intervals; worst length error {worst_abs:.2f} ms ({interval.phase}, planned {planned} ms)"
    )
    assert worst_abs <= HOLD_TOLERANCE_MS, (
        f"{sum(r[0] > HOLD_TOLERANCE_MS for r in results)} of {len(results)} intervals are off by more than "
        f"{HOLD_TOLERANCE_MS} ms; worst: {interval.phase} at {interval.start_ms} ms ({_where(interval)}), "
        f"planned {planned} ms, {described}"
    )


def test_long_silences_are_quiet(each_engine_session: BuiltSession) -> None:
    """The middle of every silence longer than 200 ms is below -50 dBFS."""
    silences = [
        e
        for e in each_engine_session.result.timeline.events
        if e.kind is EventKind.SILENCE and e.duration_ms > LONG_SILENCE_MS
    ]
    assert len(silences) > 50, f"only {len(silences)} long silences in the shipped session"
    levels = [
        (
            am.level_dbfs(
                each_engine_session.samples,
                e.start_ms + SILENCE_MARGIN_MS,
                e.end_ms - SILENCE_MARGIN_MS,
                each_engine_session.sample_rate,
            ),
            e,
        )
        for e in silences
    ]
    loudest, event = max(levels, key=lambda item: item[0])
    assert loudest < QUIET_DBFS, (
        f"the silence {event.start_ms}-{event.end_ms} ms ({event.phase}, {_where(event)}) is at {loudest:.1f} dBFS; "
        f"{sum(level >= QUIET_DBFS for level, _ in levels)} of {len(levels)} silences are not quiet"
    )


def test_every_phrase_is_heard(each_engine_session: BuiltSession) -> None:
    """The middle half of every speech event is clearly louder than silence (above -40 dBFS)."""
    speech = [e for e in each_engine_session.result.timeline.events if e.kind is EventKind.SPEECH]
    assert len(speech) > 100, f"only {len(speech)} phrases in the shipped session"
    levels = [
        (
            am.level_dbfs(
                each_engine_session.samples,
                e.start_ms + e.duration_ms / 4,
                e.end_ms - e.duration_ms / 4,
                each_engine_session.sample_rate,
            ),
            e,
        )
        for e in speech
    ]
    quietest, event = min(levels, key=lambda item: item[0])
    assert quietest > SPEECH_DBFS, (
        f"{event.text!r} at {event.start_ms}-{event.end_ms} ms is at {quietest:.1f} dBFS; "
        f"{sum(level <= SPEECH_DBFS for level, _ in levels)} of {len(levels)} phrases are not heard"
    )


def test_id3_tags_name_the_session(each_engine_session: BuiltSession) -> None:
    """The MP3 carries the plan's title as title and album, and voiceguide as artist."""
    audio = MP3(each_engine_session.result.path, ID3=EasyID3)
    assert audio.tags is not None, "the MP3 has no ID3 tag"
    title = each_engine_session.plan.title
    assert audio.tags.get("title") == [title]
    assert audio.tags.get("artist") == ["voiceguide"]
    assert audio.tags.get("album") == [title]
    raw = ID3(each_engine_session.result.path)
    assert raw.version[:2] == (2, 3)
    # ffmpeg writes the comment as a TXXX frame; it carries the file's fingerprint.
    comments = raw.getall("TXXX:comment")
    assert len(comments) == 1 and "feet-for-back-pain.yaml" in comments[0].text[0]
    assert read_stamp(each_engine_session.result.path) is not None


def test_counts_start_on_their_second_marks(
    each_engine_session: BuiltSession, heard_tones: dict[Tone, list[am.FoundTone]]
) -> None:
    """Spoken counts in holds and work intervals start within 30 ms of their whole-second marks."""
    timeline = each_engine_session.result.timeline
    wording = Wording()
    longest_s = max(i.end_ms - i.start_ms for i in timeline.intervals) // 1000
    numbers = {wording.count(n) for n in range(1, longest_s + 1)}
    counts = [
        e
        for e in timeline.events
        if e.kind is EventKind.SPEECH and e.phase in TIMED_PHASES and e.text in numbers
    ]
    assert len(counts) > 100, f"only {len(counts)} spoken counts in the shipped session"
    start_onsets = [t.onset_ms for t in heard_tones[Tone.START]]

    off_mark, to_event, to_tone = [], [], []
    for event in counts:
        interval = next(i for i in timeline.intervals if i.start_ms <= event.start_ms < i.end_ms)
        offset = event.start_ms - interval.start_ms
        if offset % 1000:
            off_mark.append(event)
        onset = am.speech_onset_ms(
            each_engine_session.samples, event.start_ms, sample_rate=each_engine_session.sample_rate
        )
        tone = am.nearest(start_onsets, interval.start_ms)
        if onset is None or tone is None:
            to_event.append((math.inf, event))
            to_tone.append((math.inf, event))
            continue
        to_event.append((onset - event.start_ms, event))
        # As heard: from the start tone that opened the interval to the number.
        to_tone.append((onset - tone - offset, event))

    assert not off_mark, (
        f"{len(off_mark)} counts are not on a whole second of their interval, first {off_mark[0]}"
    )
    for label, errors in (("event start", to_event), ("heard start tone + whole seconds", to_tone)):
        worst, event = max(errors, key=lambda item: abs(item[0]))
        print(f"{len(errors)} spoken counts; worst onset error from their {label}: {worst:+.2f} ms")
        assert abs(worst) <= COUNT_TOLERANCE_MS, (
            f"{sum(abs(e) > COUNT_TOLERANCE_MS for e, _ in errors)} of {len(errors)} counts start more than "
            f"{COUNT_TOLERANCE_MS} ms from their {label}; worst {event.text!r} at {event.start_ms} ms "
            f"({_where(event)}): {worst:+.1f} ms"
        )
