"""Assemble a timeline into one audio buffer.

Every clip is copied once into a preallocated buffer at its sample offset. Concatenating
AudioSegments with `+=` copies the whole session at every step, which grows quadratically.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from voiceguide.externals import audio_segment
from voiceguide.timeline import EventKind, Timeline
from voiceguide.tones import tone

if TYPE_CHECKING:
    from pydub import AudioSegment

SAMPLE_WIDTH = 2
CUT_FADE_MS = 30
"""A phrase cut short by an overrun fades out instead of stopping with a click."""


def frame_at(ms: int, sample_rate: int) -> int:
    return ms * sample_rate // 1000


def mix(*, timeline: Timeline, speech: Callable[[str], AudioSegment], sample_rate: int) -> AudioSegment:
    """One mono 16-bit buffer holding every speech and tone event of *timeline* at its time."""
    buffer = bytearray(frame_at(timeline.total_ms, sample_rate) * SAMPLE_WIDTH)
    for event in timeline.events:
        if event.kind is EventKind.SILENCE:
            continue
        if event.kind is EventKind.TONE:
            assert event.tone is not None
            clip = tone(event.tone, event.duration_ms, sample_rate)
        else:
            assert event.text is not None
            clip = speech(event.text)
            if event.clipped_ms:
                clip = clip[: event.duration_ms].fade_out(min(CUT_FADE_MS, event.duration_ms))
        start = frame_at(event.start_ms, sample_rate) * SAMPLE_WIDTH
        stop = frame_at(event.end_ms, sample_rate) * SAMPLE_WIDTH
        data = clip.raw_data[: stop - start]
        buffer[start : start + len(data)] = data
    return audio_segment()(data=bytes(buffer), sample_width=SAMPLE_WIDTH, frame_rate=sample_rate, channels=1)
