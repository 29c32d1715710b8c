"""Assemble a timeline into one audio buffer.

Every clip is copied once into a preallocated buffer at its sample offset. Concatenating
AudioSegments with `+=` copies the whole session at every step, which grows quadratically.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING

from voiceguide.externals import audio_segment
from voiceguide.timeline import EventKind, Timeline
from voiceguide.tones import TONE_DBFS, tone

if TYPE_CHECKING:
    from pydub import AudioSegment

SAMPLE_WIDTH = 2
CUT_FADE_MS = 30
"""A phrase cut short by an overrun fades out instead of stopping with a click."""


def frame_at(ms: int, sample_rate: int) -> int:
    return ms * sample_rate // 1000


def mix(
    *,
    timeline: Timeline,
    speech: Callable[[str], AudioSegment],
    sample_rate: int,
    volume: float = 1.0,
    beep_level_dbfs: float = TONE_DBFS,
) -> AudioSegment:
    """One mono 16-bit buffer holding every speech and tone event of *timeline* at its time.

    *volume* (0.1 to 1) scales the speech; *beep_level_dbfs* is the beeps' peak level.
    """
    buffer = bytearray(frame_at(timeline.total_ms, sample_rate) * SAMPLE_WIDTH)
    gain_db = 20 * math.log10(volume)
    voiced: dict[str, AudioSegment] = {}
    for event in timeline.events:
        if event.kind is EventKind.SILENCE:
            continue
        if event.kind is EventKind.TONE:
            assert event.tone is not None
            clip = tone(event.tone, event.duration_ms, sample_rate, beep_level_dbfs)
        else:
            assert event.text is not None
            clip = voiced.get(event.text)
            if clip is None:
                clip = voiced[event.text] = speech(event.text).apply_gain(gain_db) if gain_db else speech(event.text)
            if event.clipped_ms:
                clip = clip[: event.duration_ms].fade_out(min(CUT_FADE_MS, event.duration_ms))
        start = frame_at(event.start_ms, sample_rate) * SAMPLE_WIDTH
        stop = frame_at(event.end_ms, sample_rate) * SAMPLE_WIDTH
        data = clip.raw_data[: stop - start]
        buffer[start : start + len(data)] = data
    return audio_segment()(data=bytes(buffer), sample_width=SAMPLE_WIDTH, frame_rate=sample_rate, channels=1)
