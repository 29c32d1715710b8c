"""Times as text, for every place voiceguide shows or reads one (tables, messages, captions, tags,
JSON, ffmpeg's options). Spoken times are words, said by each language's catalog.

Times are whole milliseconds, never negative except in `duration`, which shows what a user wrote.
Each form rounds once, half up, in integers, and only then splits into hours, minutes and
seconds: so 59.96 s is "1:00.0", and a minute always carries.
"""

from __future__ import annotations

import math
import re

HOUR_MS = 3_600_000
MINUTE_MS = 60_000

_UNITS = re.compile(
    r"^\s*(?:(?P<min>\d+(?:\.\d+)?)\s*(?:m|min|mins|minutes?))?"
    r"\s*(?:(?P<sec>\d+(?:\.\d+)?)\s*(?:s|sec|secs|seconds?))?\s*$"
)
_CLOCK = re.compile(r"^\s*(?P<min>\d+):(?P<sec>[0-5]\d(?:\.\d+)?)\s*$")


def clock(ms: int) -> str:
    """A moment in a session, to the tenth of a second: "0:05.3", "12:07.6", "1:02:03.4"."""
    tenths = (ms + 50) // 100
    hours, rest = divmod(tenths, HOUR_MS // 100)
    minutes, rest = divmod(rest, MINUTE_MS // 100)
    seconds, tenth = divmod(rest, 10)
    if hours:
        return f"{hours}:{minutes:02d}:{seconds:02d}.{tenth}"
    return f"{minutes}:{seconds:02d}.{tenth}"


def whole_seconds(ms: int) -> int:
    """*ms* rounded to the second, half up."""
    return (ms + 500) // 1000


def length(ms: int) -> str:
    """How long a session lasts, to the second: "33 s", "12 min 8 s", "1 h 2 min 3 s"."""
    return duration(whole_seconds(ms) * 1000)


def duration(ms: int) -> str:
    """A duration exactly, as a plan may write it: "5 s", "2.5 s", "1 min 30 s", "1 h 0.5 s"."""
    if ms < 0:
        return f"-{duration(-ms)}"
    hours, rest = divmod(ms, HOUR_MS)
    minutes, rest = divmod(rest, MINUTE_MS)
    parts = [f"{hours} h"] if hours else []
    parts += [f"{minutes} min"] if minutes else []
    if rest or not parts:
        parts.append(f"{rest / 1000:g} s")
    return " ".join(parts)


def seconds(ms: int) -> str:
    """A short amount (how far a phrase overruns its slot): hundredths under a second, where a
    tenth is a large share, and tenths from a second up."""
    if ms < 1000:
        hundredths = (ms + 5) // 10
        return f"{hundredths // 100}.{hundredths % 100:02d} s"
    tenths = (ms + 50) // 100
    return f"{tenths // 10}.{tenths % 10} s"


def in_seconds(ms: int) -> float:
    """A time as a number of seconds, for JSON and ffmpeg's options: 12.5, 727.586."""
    return ms / 1000


def timestamp(ms: int) -> str:
    """WebVTT and chapter times, to the millisecond: "00:12:07.586"."""
    hours, rest = divmod(ms, HOUR_MS)
    minutes, rest = divmod(rest, MINUTE_MS)
    return f"{hours:02d}:{minutes:02d}:{rest // 1000:02d}.{rest % 1000:03d}"


def parse_duration_ms(text: str) -> int | None:
    """Milliseconds of a duration written as text ("90s", "1m30s", "1:30", "2 min", and what `clock`
    and `duration` write under an hour); None if it is not one, or too large to count."""
    try:
        value = _duration_seconds(text)
    except OverflowError:  # (digits too many for a float)
        return None
    if value is None or not math.isfinite(value * 1000):
        return None
    return round(value * 1000)


def _duration_seconds(text: str) -> float | None:
    found = _CLOCK.match(text)
    if found:
        return int(found["min"]) * 60 + float(found["sec"])
    found = _UNITS.match(text)
    if not found or not (found["min"] or found["sec"]):
        try:
            return float(text)
        except ValueError:
            return None
    return float(found["min"] or 0) * 60 + float(found["sec"] or 0)
