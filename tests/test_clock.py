"""Times as text: every place voiceguide shows a time uses voiceguide/common/clock.py, so a minute
always carries (59.96 s is 1:00.0, never 0:60.0) and the same time reads the same everywhere."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from voiceguide.common import clock
from voiceguide.common.clock import parse_duration_ms
from voiceguide.output import sidecars
from voiceguide.script import report
from voiceguide.script.timeline import Event, EventKind, Phase, Timeline, Tone, Where

TWELVE_HOURS = 12 * 3_600_000
times = st.integers(min_value=0, max_value=TWELVE_HOURS)


@pytest.mark.parametrize(
    ("ms", "shown"),
    [
        (0, "0:00.0"),
        (5_340, "0:05.3"),
        (59_949, "0:59.9"),
        (59_950, "1:00.0"),
        (59_960, "1:00.0"),
        (119_960, "2:00.0"),
        (659_960, "11:00.0"),
        (727_586, "12:07.6"),
        (3_599_960, "1:00:00.0"),
        (3_723_400, "1:02:03.4"),
    ],
)
def test_clock_rounds_to_tenths_before_carrying(ms: int, shown: str) -> None:
    """The tenth is rounded first, then minutes and hours carry: 59.96 s is 1:00.0."""
    assert clock.clock(ms) == shown


@pytest.mark.parametrize(
    ("ms", "shown"),
    [
        (0, "0 s"),
        (499, "0 s"),
        (500, "1 s"),
        (33_200, "33 s"),
        (59_600, "1 min"),
        (727_586, "12 min 8 s"),
        (3_600_000, "1 h"),
        (4 * 3_600_000 + 14_000, "4 h 14 s"),
        (3_723_400, "1 h 2 min 3 s"),
    ],
)
def test_length_is_whole_seconds_with_only_the_units_it_needs(ms: int, shown: str) -> None:
    """A session's length, to the second: "12 min 8 s", "1 h 2 min 3 s"."""
    assert clock.length(ms) == shown


@pytest.mark.parametrize(
    ("ms", "shown"),
    [(0, "0 s"), (2_500, "2.5 s"), (90_000, "1 min 30 s"), (3_630_000, "1 h 30 s"), (-1_000, "-1 s"),
     (3_600_500, "1 h 0.5 s"), (1_234, "1.234 s")],
)  # fmt: skip
def test_duration_is_exact(ms: int, shown: str) -> None:
    """A duration as a plan writes it, to the millisecond: nothing under a minute is dropped after an
    hour."""
    assert clock.duration(ms) == shown


@pytest.mark.parametrize(
    ("ms", "shown"), [(49, "0.05 s"), (50, "0.05 s"), (1_050, "1.1 s"), (1_250, "1.3 s")]
)
def test_seconds_are_rounded_half_up(ms: int, shown: str) -> None:
    """Short amounts (how far a phrase overruns): hundredths under a second, tenths above."""
    assert clock.seconds(ms) == shown


@pytest.mark.parametrize(
    ("ms", "shown"), [(0, "00:00:00.000"), (727_586, "00:12:07.586"), (3_723_004, "01:02:03.004")]
)
def test_timestamp_is_exact_to_the_millisecond(ms: int, shown: str) -> None:
    """WebVTT and chapter times: HH:MM:SS.mmm."""
    assert clock.timestamp(ms) == shown


def _clock_fields(text: str) -> tuple[int, int, int, int]:
    match = re.fullmatch(r"(?:(\d+):)?(\d+):(\d\d)\.(\d)", text)
    assert match, text
    hours, minutes, seconds, tenths = (int(part or 0) for part in match.groups())
    return hours, minutes, seconds, tenths


@given(times)
def test_clock_fields_stay_in_range(ms: int) -> None:
    """Seconds are always under 60, and minutes too once there are hours."""
    _, minutes, seconds, tenths = _clock_fields(clock.clock(ms))
    assert seconds < 60 and tenths < 10
    assert minutes < 60


@given(times, times)
def test_clock_is_monotonic(a: int, b: int) -> None:
    """A later time never reads earlier."""
    low, high = sorted((a, b))
    assert _clock_fields(clock.clock(low)) <= _clock_fields(clock.clock(high))


@given(st.integers(min_value=0, max_value=3_599_949))
def test_clock_reads_back_to_the_tenth(ms: int) -> None:
    """The duration parser (which plans use, and which knows no hours) reads a clock back as the
    time rounded to the tenth, half up."""
    assert parse_duration_ms(clock.clock(ms)) == (ms + 50) // 100 * 100


@given(st.integers(min_value=0, max_value=3_599_999))
def test_duration_reads_back_exactly(ms: int) -> None:
    """What duration writes, the parser of plans reads back to the millisecond."""
    assert parse_duration_ms(clock.duration(ms)) == ms


@given(st.integers(min_value=0, max_value=3_599_499))
def test_length_reads_back_to_the_second(ms: int) -> None:
    assert parse_duration_ms(clock.length(ms)) == (ms + 500) // 1000 * 1000


@given(times, times)
def test_timestamp_is_monotonic_and_in_range(a: int, b: int) -> None:
    low, high = sorted((a, b))
    assert clock.timestamp(low) <= clock.timestamp(high)  # (fixed width: text order is time order)
    _, minutes, seconds = clock.timestamp(high).split(":")
    assert int(minutes) < 60 and float(seconds) < 60


def _at(start_ms: int, text: str) -> Event:
    return Event(
        start_ms=start_ms,
        end_ms=start_ms + 40,
        kind=EventKind.SPEECH,
        phase=Phase.INTRO,
        where=Where(),
        text=text,
    )


def test_preview_table_and_script_carry_the_minute() -> None:
    """The preview table (and so the .txt script, which is the same table) shows 59.96 s as 1:00.0,
    and the captions' timestamps agree with it."""
    events = (
        _at(59_960, "One."),
        _at(179_960, "Two."),
        Event(
            start_ms=659_960,
            end_ms=660_110,
            kind=EventKind.TONE,
            phase=Phase.INTRO,
            where=Where(),
            tone=Tone.START,
        ),
    )
    timeline = Timeline(title="Clock", events=events, intervals=(), overruns=())
    table = report.table(timeline)
    assert re.search(r"^ +1:00\.0  intro .*\"One\.\"$", table, re.MULTILINE), table
    assert re.search(r"^ +3:00\.0  intro .*\"Two\.\"$", table, re.MULTILINE), table
    assert re.search(r"^ +11:00\.0  intro .*\[start tone\]$", table, re.MULTILINE), table
    assert ":60." not in table
    assert "00:00:59.960 --> 00:01:00.000\nOne." in sidecars.captions(timeline)


def test_preview_table_of_a_long_session_shows_hours_in_an_even_column() -> None:
    """Past an hour the clock shows hours (1:02:03.4), and the time column stays right-aligned."""
    timeline = Timeline(
        title="Long",
        events=(_at(5_000, "Early."), _at(3_723_400, "Late.")),
        intervals=(),
        overruns=(),
    )
    rows = [
        row for row in report.table(timeline).splitlines() if row.endswith(('"Early."', '"Late."'))
    ]
    assert [row.split()[0] for row in rows] == ["0:05.0", "1:02:03.4"]
    assert rows[0].index("intro") == rows[1].index("intro")
