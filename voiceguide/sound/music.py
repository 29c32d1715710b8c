"""Music under the voice: looped to the session's length, faded in and out, and ducked under every
spoken cue, with short ramps, so the voice stays clear.

The ducking follows the timeline rather than listening to the voice (as a sidechain compressor
would): the music is already down when a cue starts, and back up as soon as it ends.
"""

from __future__ import annotations

import math
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import IO, TYPE_CHECKING

from voiceguide.common.clock import in_seconds
from voiceguide.common.errors import SettingsError, path_text
from voiceguide.common.externals import ffmpeg_path
from voiceguide.script.timeline import EventKind, Timeline
from voiceguide.sound.loudness import SPEECH_RMS_DBFS

if TYPE_CHECKING:
    import numpy as np

DUCK_DB = -12.0
"""How far the music goes down under speech."""
RAMP_MS = 120
"""How long the music takes to go down before a cue, and to come back after it."""
FADE_MS = 3_000
DEFAULT_LEVEL_DB = -8.0
"""The music's RMS against the speech's, where nobody speaks."""


class Music:
    """A music file decoded once to mono samples at the session's rate, in a temporary file."""

    def __init__(
        self,
        path: Path,
        *,
        sample_rate: int,
        total_ms: int,
        level_db: float = DEFAULT_LEVEL_DB,
        speech_level_dbfs: float = SPEECH_RMS_DBFS,
    ) -> None:
        self.sample_rate = sample_rate
        self._file: IO[bytes] = tempfile.TemporaryFile(prefix="voiceguide-music-")
        seconds, fade = in_seconds(total_ms), in_seconds(FADE_MS)
        fade_out_at = max(0.0, seconds - fade)
        fades = f"afade=t=in:d={fade},afade=t=out:st={fade_out_at:.3f}:d={fade}"

        def decode(*loop: str) -> subprocess.CompletedProcess[bytes]:
            self._file.seek(0)
            self._file.truncate()
            command = [
                ffmpeg_path(), "-hide_banner", "-loglevel", "error", "-nostdin",
                *loop, "-i", str(path), "-t", f"{seconds:.3f}", "-vn",
                "-ac", "1", "-ar", str(sample_rate), "-af", fades, "-f", "s16le", "-",
            ]  # fmt: skip
            return subprocess.run(command, stdout=self._file, stderr=subprocess.PIPE, check=False)

        try:
            # Looped only once it is known to hold samples: an ffmpeg may loop an empty input
            # forever.
            result = decode()
            if (
                result.returncode == 0
                and 0 < self._file.tell() < total_ms * sample_rate // 1000 * 2
            ):
                result = decode("-stream_loop", "-1")
            if result.returncode != 0 or self._file.tell() == 0:
                details = result.stderr.decode(errors="replace").strip().splitlines()[-1:] or [
                    "it holds no audio"
                ]
                raise SettingsError(f"cannot use {path_text(path)} as music: {details[0]}")
            self._gain = 10 ** ((speech_level_dbfs + level_db - self._rms_dbfs()) / 20)
        except BaseException:
            self._file.close()
            raise

    def __enter__(self) -> Music:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._file.close()

    def _rms_dbfs(self) -> float:
        import numpy as np

        self._file.seek(0)
        total, count = 0.0, 0
        while data := self._file.read(1 << 20):
            samples = np.frombuffer(data, dtype="<i2").astype(np.float64)
            total += float(np.dot(samples, samples))
            count += samples.size
        rms = math.sqrt(total / max(count, 1)) / 32768
        if rms < 1e-5:
            raise SettingsError(
                "the music file is silent: there is nothing to play under the voice"
            )
        return 20 * math.log10(rms)

    def under(
        self, voice: Iterator[bytes], timeline: Timeline, start_frame: int = 0
    ) -> Iterator[bytes]:
        """*voice* chunks (from *start_frame* on) with the music mixed in, ducked under every phrase."""
        import numpy as np

        ducks = _duck_regions(timeline, self.sample_rate)
        self._file.seek(start_frame * 2)
        position = start_frame
        for chunk in voice:
            frames = len(chunk) // 2
            data = self._file.read(frames * 2)
            music = np.zeros(frames, dtype=np.float32)
            music[: len(data) // 2] = np.frombuffer(data, dtype="<i2")
            envelope = _envelope(ducks, position, frames, RAMP_MS * self.sample_rate // 1000)
            mixed = np.frombuffer(chunk, dtype="<i2").astype(np.float32) + music * (
                self._gain * envelope
            )
            yield np.clip(mixed, -32768, 32767).astype("<i2").tobytes()
            position += frames


def _duck_regions(timeline: Timeline, sample_rate: int) -> list[tuple[int, int]]:
    """(first, last) frames of speech, merged where the music would not have time to come back up."""
    regions: list[tuple[int, int]] = []
    ramp = RAMP_MS * sample_rate // 1000
    for event in timeline.events:
        if event.kind is not EventKind.SPEECH:
            continue
        start, end = event.start_ms * sample_rate // 1000, event.end_ms * sample_rate // 1000
        if regions and start - regions[-1][1] < 2 * ramp:
            regions[-1] = (regions[-1][0], end)
        else:
            regions.append((start, end))
    return regions


def _envelope(regions: list[tuple[int, int]], first: int, frames: int, ramp: int) -> np.ndarray:
    """The music's gain for frames first .. first+frames: 1, and down to DUCK_DB over each region,
    reached *ramp* frames before it starts and left *ramp* frames after it ends."""
    import numpy as np

    ducked = 10 ** (DUCK_DB / 20)
    envelope = np.ones(frames, dtype=np.float32)
    positions = np.arange(first, first + frames, dtype=np.int64)
    for start, end in regions:
        if end + ramp < first or start - ramp > first + frames:
            continue
        # Frames outside the region (0 inside), turned into a gain that ramps from `ducked` to 1.
        distance = np.maximum(np.maximum(start - positions, positions - end), 0)
        gain = ducked + (1 - ducked) * np.clip(distance / max(ramp, 1), 0, 1)
        np.minimum(envelope, gain.astype(np.float32), out=envelope)
    return envelope
