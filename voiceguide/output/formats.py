"""The audio formats a session can be written in and what each takes by default.

The encoder (export.py) and the command line's options and help both read these tables, so what
the help says is what the encoder does. Kept apart from export.py, which is heavy to import, so
that the command line can build its help without it.
"""

from __future__ import annotations

from enum import StrEnum


class AudioFormat(StrEnum):
    MP3 = "mp3"
    M4A = "m4a"
    OPUS = "opus"
    WAV = "wav"


EXTENSIONS = {".mp3": AudioFormat.MP3, ".m4a": AudioFormat.M4A, ".ogg": AudioFormat.OPUS,
              ".opus": AudioFormat.OPUS, ".wav": AudioFormat.WAV}  # fmt: skip
FORMAT_NAMES = {"mp3": AudioFormat.MP3, "m4a": AudioFormat.M4A, "aac": AudioFormat.M4A, "ogg": AudioFormat.OPUS,
                "opus": AudioFormat.OPUS, "wav": AudioFormat.WAV}  # fmt: skip
DEFAULT_BITRATES = {AudioFormat.MP3: "64k", AudioFormat.M4A: "64k", AudioFormat.OPUS: "48k"}
"""Plenty for mono speech. Opus below 48k overshoots its true peak by up to 2 dB."""
BITRATE_RANGES = {AudioFormat.MP3: (8, 320), AudioFormat.M4A: (16, 256), AudioFormat.OPUS: (6, 256)}
SAMPLE_RATES = {
    AudioFormat.MP3: (8_000, 11_025, 12_000, 16_000, 22_050, 24_000, 32_000, 44_100, 48_000),
    AudioFormat.M4A: (8_000, 11_025, 12_000, 16_000, 22_050, 24_000, 32_000, 44_100, 48_000),
    AudioFormat.OPUS: (8_000, 12_000, 16_000, 24_000, 48_000),
    AudioFormat.WAV: tuple(range(8_000, 48_001)),
}
OPUS_RATES = (8_000, 12_000, 16_000, 24_000, 48_000)
