"""Beeps: short sine tones with fades, so they never click. Start and end cues differ in pitch."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from voiceguide.common.externals import audio_segment
from voiceguide.script.timeline import Tone

if TYPE_CHECKING:
    from pydub import AudioSegment

TONE_HZ = {Tone.START: 880.0, Tone.END: 523.25, Tone.TRANSITION: 523.25}
"""A5 to start, C5 to end: a rising-then-falling pair that is easy to tell apart. (A TRANSITION
sounds only where a plan gives it a sound of its own: see ownsounds.py.)"""
FADE_IN_MS = 8
FADE_OUT_MS = 40


@functools.cache
def tone(cue: Tone, duration_ms: int, sample_rate: int, level_dbfs: float) -> AudioSegment:
    """A beep of *duration_ms* peaking at *level_dbfs*."""
    audio_segment()  # pydub wired to our ffmpeg (and its warning silenced) before any of it is imported
    from pydub.generators import Sine

    sine = Sine(TONE_HZ[cue], sample_rate=sample_rate, bit_depth=16)
    clip = sine.to_audio_segment(duration=duration_ms, volume=level_dbfs)
    return clip.fade_in(min(FADE_IN_MS, duration_ms // 4)).fade_out(
        min(FADE_OUT_MS, duration_ms // 2)
    )
