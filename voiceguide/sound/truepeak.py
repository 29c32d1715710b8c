"""True peaks: how high a signal reaches between its samples too (BS.1770's true peak, as ffmpeg's
EBU R128 meter takes it), in clips and in a written file, and a limiter that holds clips under one.

A decoder's output is what a player turns into sound; its true peak is what a ceiling in dBTP is
about. The signal between two samples is found by band-limited interpolation (a windowed sinc of
2 x TAPS samples) at OVERSAMPLING points, only beside samples that come within SCREEN_DB of the
level in question: a long file then costs little more than its decoding.
"""

from __future__ import annotations

import functools
import hashlib
import math
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from voiceguide.common.errors import AudioError
from voiceguide.common.externals import ffmpeg_path

if TYPE_CHECKING:
    import numpy as np

    from voiceguide.sound.speechcache import SpeechCache

OVERSAMPLING = 8
"""Points between two samples, as ffmpeg's meter about has them (it resamples to 192 kHz: 8.7 times
22.05 kHz, 4 times 48 kHz)."""
TAPS = 32
"""Samples on each side the interpolation takes: enough for a tenth of a dB up to 0.45 of the rate."""
SCREEN_DB = 7.0
"""How far over the higher of two samples the signal between them is taken to reach at most: only
samples this near the level in question are looked around. A codec's output has sound near the top
of its band, where the signal between two samples reaches far over both (5.3 dB measured in an MP3
at 22.05 kHz, between samples at -6.2 and -6.5 dBFS)."""
GAPS_AT_ONCE = 1 << 16
"""Gaps interpolated at a time (each takes 2 x TAPS samples): a few megabytes."""
BLOCK = 4096
"""A file's peaks over a level are told one for each block of this many samples."""
READ_SAMPLES = 1 << 18
"""Samples read from the decoder at a time (a megabyte)."""
LOWEST_LIMIT_DBFS = -18.0
"""Well inside the limits alimiter accepts (-24 dBFS to 0)."""
LIMITER = "attack=2:release=40:level=false:latency=true"
"""The clip limiter's settings, as levelling's (loudness.py): latency=true keeps every sample in place."""


def dbtp(value: float) -> float:
    return 20 * math.log10(value) if value > 0 else -math.inf


def true_peak(samples: np.ndarray) -> float:
    """The true peak (full scale 1.0) of *samples*, float, mono."""
    import numpy as np

    highest = float(np.abs(samples).max(initial=0.0))
    padded = np.concatenate([np.zeros(TAPS), samples, np.zeros(TAPS)])
    _, peaks = _peaks_near(padded, highest * 10 ** (-SCREEN_DB / 20))
    return max(highest, float(peaks.max(initial=0.0)))


def file_peaks_over(path: Path, ceiling_dbtp: float) -> tuple[list[tuple[int, float]], int]:
    """The file at *path* as a player decodes it (mono, at the decoder's own rate: Opus decodes at
    48 kHz): where and how high (dBTP) the true peak of each block of BLOCK samples over
    *ceiling_dbtp* is, and the number of samples. It is read a piece at a time, so a long file takes
    little memory."""
    import numpy as np

    screen = 10 ** ((ceiling_dbtp - SCREEN_DB) / 20)
    ceiling = 10 ** (ceiling_dbtp / 20)
    blocks: dict[int, tuple[float, int]] = {}  # by block: its true peak, and where
    # The samples not yet looked around, led by the TAPS before them (silence at the start).
    pending, done = np.zeros(TAPS, dtype=np.float32), 0
    command = [ffmpeg_path(), "-hide_banner", "-loglevel", "error", "-nostdin", "-i", str(path),
               "-f", "f32le", "-ac", "1", "-"]  # fmt: skip
    with (
        tempfile.TemporaryFile() as errors,
        subprocess.Popen(command, stdout=subprocess.PIPE, stderr=errors) as ffmpeg,
    ):
        assert ffmpeg.stdout is not None
        while True:
            data = ffmpeg.stdout.read(READ_SAMPLES * 4)
            pending = np.concatenate([pending, np.frombuffer(data, dtype="<f4")])
            if not data:
                pending = np.concatenate([pending, np.zeros(TAPS, dtype=np.float32)])
            ready = len(pending) - 2 * TAPS  # each with the TAPS after it
            if ready > 0:
                indices, peaks = _peaks_near(pending[: ready + 2 * TAPS], screen)
                loud = peaks > ceiling
                for index, peak in zip(indices[loud] + done, peaks[loud], strict=True):
                    block = int(index) // BLOCK
                    blocks[block] = max(blocks.get(block, (0.0, 0)), (float(peak), int(index)))
                pending, done = pending[ready:], done + ready
            if not data:
                break
        errors.seek(0)
        message = errors.read().decode(errors="replace").strip()
    if ffmpeg.returncode != 0:
        raise AudioError(f"ffmpeg could not read back {path}: {message or 'no details'}")
    return [(index, dbtp(peak)) for _, (peak, index) in sorted(blocks.items())], done


def _peaks_near(padded: np.ndarray, screen: float) -> tuple[np.ndarray, np.ndarray]:
    """Of *padded* (TAPS samples, the samples in question, TAPS samples): the index (among the
    samples in question) and the true peak from it to the next of each sample that, or whose next,
    reaches *screen*."""
    import numpy as np

    count = len(padded) - 2 * TAPS
    magnitude = np.abs(padded)
    loud = np.flatnonzero(magnitude[TAPS : TAPS + count] >= screen) + TAPS  # (positions in padded)
    gaps = np.unique(np.concatenate([loud - 1, loud]))  # (each gap by the sample before it)
    gaps = gaps[(gaps >= TAPS) & (gaps < TAPS + count)]
    if not len(gaps):
        return gaps, np.zeros(0)
    between = np.concatenate(
        [
            np.abs(padded[part[:, None] + np.arange(-TAPS + 1, TAPS + 1)] @ _kernel()).max(axis=1)
            for part in np.array_split(gaps, max(1, len(gaps) // GAPS_AT_ONCE))
        ]
    )
    return gaps - TAPS, np.maximum(between, np.maximum(magnitude[gaps], magnitude[gaps + 1]))


@functools.cache
def _kernel() -> np.ndarray:
    """(2 x TAPS, OVERSAMPLING - 1): the weights of the samples around a gap for each point in it: a
    sinc under a Kaiser window, each point's weights summing to one."""
    import numpy as np

    offsets = np.arange(-TAPS + 1, TAPS + 1)  # sample positions from the one before the gap
    points = np.arange(1, OVERSAMPLING) / OVERSAMPLING
    distance = points[None, :] - offsets[:, None]
    window = np.i0(8.0 * np.sqrt(np.clip(1 - (distance / TAPS) ** 2, 0, None))) / np.i0(8.0)
    weights = np.sinc(distance) * window
    normalized: np.ndarray = (weights / weights.sum(axis=0)).astype(
        np.float32
    )  # (as the decoded samples)
    return normalized


class Decoded:
    """A file as ffmpeg decodes it (mono 16-bit samples at a given rate), read forward by range while
    it is decoded, so that a long file is never held whole. Use it as a context manager."""

    def __init__(self, path: Path, *, sample_rate: int) -> None:
        self._path = path
        command = [ffmpeg_path(), "-hide_banner", "-loglevel", "error", "-nostdin", "-i", str(path),
                   "-f", "s16le", "-ac", "1", "-ar", str(sample_rate), "-"]  # fmt: skip
        self._errors = tempfile.TemporaryFile()
        try:
            self._process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=self._errors)
        except BaseException:
            self._errors.close()
            raise
        self._held = bytearray()
        self._first = 0
        """The frame the held samples start at: those before are gone."""

    def __enter__(self) -> Decoded:
        return self

    def __exit__(self, kind: type[BaseException] | None, *exc: object) -> None:
        assert self._process.stdout is not None
        try:
            with self._process:
                if kind is not None:
                    self._process.kill()
                else:
                    while self._process.stdout.read(READ_SAMPLES * 2):
                        pass  # (the rest is not wanted, but ffmpeg is to end as it does)
            if kind is None and self._process.returncode != 0:
                self._errors.seek(0)
                message = self._errors.read().decode(errors="replace").strip()
                raise AudioError(
                    f"ffmpeg could not read back {self._path}: {message or 'no details'}"
                )
        finally:
            self._errors.close()

    def samples(self, first: int, last: int) -> bytes:
        """The decoded samples from frame *first* to *last* (fewer where the file ends sooner); the
        samples before *first* cannot be read again."""
        assert self._process.stdout is not None
        if first < self._first:
            raise ValueError("the decoded samples are read forward only")
        skip = (first - self._first) * 2  # (bytes held, or still to come, from before *first*)
        self._first = first
        while len(self._held) < skip + (last - first) * 2:
            data = self._process.stdout.read(READ_SAMPLES * 2)
            if not data:
                break
            self._held += data
            dropped = min(skip, len(self._held))
            del self._held[:dropped]
            skip -= dropped
        del self._held[:skip]
        return bytes(self._held[: max(0, last - first) * 2])


def limited(
    clips: Sequence[bytes],
    ceilings_dbtp: Sequence[float | None],
    *,
    sample_rate: int,
    cache: SpeechCache | None = None,
) -> list[bytes]:
    """*clips* (mono 16-bit) each through a true-peak limiter at its ceiling, or as they are where it
    is None; from *cache* (see limited_clips_cache) where it has them, and kept there.

    Clips with one ceiling pass through ffmpeg together, with silence between them (as levelling's
    do), the limiter at four times the rate so that it sees the peaks between samples: a clip comes
    out the same whatever passes with it, so it can be kept. It may leave a peak a little over its
    ceiling (the resampling back rings): the ceiling is an aim, and what the file reaches is
    checked after encoding (see mastering.py)."""
    from voiceguide.sound.loudness import through_ffmpeg

    out = list(clips)
    keys: dict[int, str] = {}
    found: set[int] = set()
    if cache is not None:
        for number, ceiling in enumerate(ceilings_dbtp):
            if ceiling is not None:
                keys[number] = cache.key(
                    text=hashlib.sha256(clips[number]).hexdigest(), voice=f"{ceiling} dBTP",
                    rate=0, sample_rate=sample_rate,
                )  # fmt: skip
                kept = cache.load(keys[number])
                if kept is not None:
                    out[number] = kept
                    found.add(number)
    for ceiling in sorted({ceiling for ceiling in ceilings_dbtp if ceiling is not None}):
        chosen = [
            number
            for number, value in enumerate(ceilings_dbtp)
            if value == ceiling and number not in found
        ]
        if not chosen:
            continue
        filters = limiter(ceiling, sample_rate)
        for number, data in zip(
            chosen,
            through_ffmpeg(
                [clips[n] for n in chosen], sample_rate=sample_rate, filters=filters, lead=True
            ),
            strict=True,
        ):
            out[number] = data
            if cache is not None:
                cache.store(keys[number], data)
    return out


LIMITER_VERSION = 1
"""Part of the key of limited clips: raise it whenever the limiter changes."""


def limited_clips_cache() -> SpeechCache:
    """Where clips limited for a session's gain are kept between builds, beside the spoken ones: a
    warm build then passes none through the limiter again. The key is the clip's content, its
    ceiling and the limiter (an ffmpeg that limits a little otherwise is harmless: the file's peak
    is checked after encoding)."""
    from voiceguide.sound.speechcache import SpeechCache

    return SpeechCache(engine=f"true-peak limiter {LIMITER_VERSION}")


def limiter(ceiling_dbtp: float, sample_rate: int) -> str:
    """ffmpeg's filters for a true-peak limiter at *ceiling_dbtp*: at four times the rate, so that it
    sees the peaks between samples. alimiter takes limits from -24 dBFS to 0: a lower one is taken
    with the level raised before and lowered after."""
    lift = max(0.0, LOWEST_LIMIT_DBFS - ceiling_dbtp)
    limit = min(1.0, 10 ** ((ceiling_dbtp + lift) / 20))
    return (
        f"volume={lift:.4f}dB,aresample={sample_rate * 4},alimiter=limit={limit:.6f}:{LIMITER},"
        f"aresample={sample_rate},volume={-lift:.4f}dB"
    )
