"""Sound files for tests of a plan's own sounds (start_sound, end_sound, transition_sound).

A chime is a sine that decays, after a stretch of digital silence: what a bell sounds like to the
code that trims and levels it. WAVs are written with the standard library (no ffmpeg needed);
other formats are encoded from one by ffmpeg.
"""

from __future__ import annotations

import subprocess
import wave
from pathlib import Path

import numpy as np

from voiceguide.common.externals import ffmpeg_path

CHIME_RATE = 44_100
LEAD_SILENCE_MS = 200


def write_chime(
    path: Path,
    *,
    frequency: float = 1_320.0,
    length_ms: int = 600,
    lead_ms: int = LEAD_SILENCE_MS,
    level_dbfs: float = -12.0,
    rate: int = CHIME_RATE,
) -> Path:
    """A WAV (mono, 16-bit) of *lead_ms* of silence, then a sine of *frequency* that starts at its
    full level (peak *level_dbfs*, a 2 ms fade-in) and decays over *length_ms*."""
    count = rate * length_ms // 1000
    t = np.arange(count) / rate
    envelope = np.exp(-3 * t / (length_ms / 1000)) * np.minimum(1, t / 0.002)
    tone = 10 ** (level_dbfs / 20) * envelope * np.sin(2 * np.pi * frequency * t)
    samples = np.concatenate([np.zeros(rate * lead_ms // 1000), tone])
    with wave.open(str(path), "wb") as file:
        file.setnchannels(1)
        file.setsampwidth(2)
        file.setframerate(rate)
        file.writeframes((np.round(samples * 32767)).astype("<i2").tobytes())
    return path


def encoded(wav: Path, suffix: str) -> Path:
    """*wav* encoded by ffmpeg into the format its *suffix* names (".ogg", ".mp3", ".flac")."""
    codecs = {".ogg": ["-c:a", "libvorbis"], ".mp3": ["-c:a", "libmp3lame"], ".flac": []}
    out = wav.with_suffix(suffix)
    subprocess.run(
        [ffmpeg_path(), "-hide_banner", "-loglevel", "error", "-y", "-i", str(wav),
         *codecs[suffix], str(out)],
        check=True,
    )  # fmt: skip
    return out
