"""Even loudness: every phrase levelled alike, the session at a spoken-word loudness target.

Each distinct phrase is levelled to one RMS and its peaks limited to a fixed height above it, once,
however often it is spoken. That makes the session's loudness linear in its gain, so one measurement
of the mixed session gives the exact gain to the target (as heard through the encoder, and with the
true peak under the ceiling: see mastering.py). The measurement is BS.1770's, taken from the placed
clips, each filtered once (placed_loudness); with music under them, ffmpeg's EBU R128 meter takes it
of the whole session.
"""

from __future__ import annotations

import functools
import math
import re
import subprocess
import tempfile
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from voiceguide.errors import AudioError
from voiceguide.externals import FfmpegNeed, ffmpeg_path

if TYPE_CHECKING:
    import numpy as np
    from pydub import AudioSegment

TARGET_LUFS = -16.0
"""Integrated loudness of a session: the usual target for spoken word."""
SPEECH_RMS_DBFS = -23.0
"""Every phrase is levelled to this RMS before the session gain."""
SPEECH_CREST_DB = 9.0
"""Speech peaks are limited to this far above its RMS: at the default target, the true peak of
speech in every shipped language then stays under what a lossy file is limited to before it is
encoded (see mastering.py), so that no clip needs limiting again."""
LEVELLING_VERSION = 3
"""Part of the cache key of levelled phrases: raise it whenever levelling changes."""
PHRASE_GAP_MS = 500
"""Silence between phrases while they pass through the limiter together, so none affects another."""

FFT_SIZE = 1 << 14
"""Block size of the K-weighting filter by FFT: large against the filter's response (2,000 samples
at 22.05 kHz), small against memory."""

_INTEGRATED = re.compile(r"I:\s+(-?\d+(?:\.\d+)?) LUFS")


def level_phrases(clips: Mapping[str, AudioSegment], *, sample_rate: int, groups: int = 1) -> dict[str, bytes]:
    """Each phrase's samples at SPEECH_RMS_DBFS, with peaks no higher than SPEECH_CREST_DB above.

    Limiting the peaks lowers a phrase's RMS, and levelling it again raises its peaks: after two
    rounds of both, every phrase is within a few tenths of a dB of the RMS, under the limit.
    The phrases pass through ffmpeg together, once a round; in *groups* ffmpeg processes at once
    (one per core the caller can spare), with the same result to the byte (see through_ffmpeg).
    """
    if not clips:
        return {}
    segment = type(next(iter(clips.values())))
    texts = list(clips)
    samples = [clip.raw_data for clip in clips.values()]
    bounds = _split([len(data) for data in samples], groups)
    if len(bounds) == 1:
        levelled = _level(segment, samples, sample_rate=sample_rate, first=True)
    else:
        # Threads are enough: each waits on its own ffmpeg, and the work is ffmpeg's.
        with ThreadPoolExecutor(max_workers=len(bounds)) as pool:
            parts = pool.map(
                lambda bound: _level(
                    segment, samples[bound[0] : bound[1]], sample_rate=sample_rate, first=not bound[0]
                ),
                bounds,
            )
            levelled = [data for part in parts for data in part]
    return dict(zip(texts, levelled, strict=True))


def _level(segment: type[AudioSegment], samples: list[bytes], *, sample_rate: int, first: bool) -> list[bytes]:
    """The two rounds of level_phrases for one group of phrases; *first* if it is the first group."""
    limit = 10 ** ((SPEECH_RMS_DBFS + SPEECH_CREST_DB) / 20)
    # latency=true: the limiter looks ahead, and compensating its delay keeps every sample in place.
    # At four times the rate, the limiter sees the peaks between samples too (the true peak).
    limiter = (
        f"aresample={sample_rate * 4},alimiter=limit={limit:.5f}:attack=2:release=40:level=false:latency=true,"
        f"aresample={sample_rate}"
    )
    for _ in range(2):
        levelled = [_at_rms(segment, data, sample_rate) for data in samples]
        samples = through_ffmpeg(levelled, sample_rate=sample_rate, filters=limiter, lead=not first)
    # Limiting last: a phrase may end a little under the RMS (a few tenths of a dB), never over its peak.
    return samples


def _split(sizes: list[int], groups: int) -> list[tuple[int, int]]:
    """*sizes* cut into at most *groups* runs of about equal total, as (start, end) indices."""
    groups = max(1, min(groups, len(sizes)))
    total = sum(sizes)
    bounds: list[tuple[int, int]] = []
    start = running = 0
    for index, size in enumerate(sizes[:-1]):
        running += size
        if len(bounds) < groups - 1 and running * groups >= total * (len(bounds) + 1):
            bounds.append((start, index + 1))
            start = index + 1
    return [*bounds, (start, len(sizes))]


def speech_level_dbfs(phrases: Mapping[str, bytes]) -> float:
    """The RMS of all the phrases together: the level beeps and music are set against."""
    import audioop  # (pydub's own dependency; audioop-lts from Python 3.13)

    energy = sum(audioop.rms(data, 2) ** 2 * len(data) for data in phrases.values())
    frames = sum(len(data) for data in phrases.values())
    rms = math.sqrt(energy / frames) / 32768 if frames else 0.0
    return 20 * math.log10(rms) if rms > 0 else SPEECH_RMS_DBFS


def _at_rms(segment: type[AudioSegment], data: bytes, sample_rate: int) -> bytes:
    clip = segment(data=data, sample_width=2, frame_rate=sample_rate, channels=1)
    levelled: bytes = clip.apply_gain(SPEECH_RMS_DBFS - clip.dBFS).raw_data
    return levelled


def through_ffmpeg(phrases: list[bytes], *, sample_rate: int, filters: str, lead: bool = False) -> list[bytes]:
    """*phrases* filtered in one ffmpeg run, with silence between them so none affects another.

    The resampler starts a stream a little differently from how it goes on after silence (the
    first few samples of a phrase can differ by one step). Each group of level_phrases after the
    first is led by a gap too, so that a phrase comes out the same whichever group it is in.
    """
    gap = bytes(sample_rate * PHRASE_GAP_MS // 1000 * 2)
    filtered = _ffmpeg_filter(
        (gap if lead else b"") + gap.join(phrases) + gap, sample_rate=sample_rate, filters=filters
    )
    out, offset = [], len(gap) if lead else 0
    for data in phrases:
        out.append(filtered[offset : offset + len(data)])
        offset += len(data) + len(gap)
    return out


def integrated_loudness(chunks: Iterable[bytes], *, sample_rate: int) -> float:
    """The EBU R128 integrated loudness (LUFS) of a mono 16-bit stream, measured by ffmpeg."""
    command = [
        ffmpeg_path(), "-hide_banner", "-nostats", "-f", "s16le", "-ar", str(sample_rate), "-ac", "1",
        "-i", "pipe:0", "-af", "ebur128=framelog=verbose", "-f", "null", "-",
    ]  # fmt: skip
    errors = _pipe(command, chunks)
    found = _INTEGRATED.findall(errors)
    if not found:
        raise AudioError(f"ffmpeg did not measure the loudness: {errors.strip().splitlines()[-1:]}")
    return float(found[-1])


def placed_loudness(
    placed: Iterable[tuple[int, bytes | memoryview]],
    *,
    frames: int,
    sample_rate: int,
    shares: Mapping[int, float] | None = None,
) -> float:
    """The integrated loudness (LUFS, ITU-R BS.1770-4, as ffmpeg's meter) of *frames* samples made
    of clips (mono 16-bit) placed at their first frame, with silence between.

    The K-weighting filter is linear and each clip is filtered once, however often it is placed
    (a count said a hundred times is one clip): the session is never filtered as a whole. Each
    placed clip adds the energy of its filtered samples, tail included, to the 100 ms steps it
    covers; gating then works on the 400 ms blocks of four steps, as the standard says. Clips whose
    tails overlap a neighbour add their energies rather than their samples, which the tails'
    smallness leaves below a hundredth of a LU.

    A clip is known by its object (the mixdown keeps one copy of each phrase and tone, and places
    views of it). *shares* gives, by that object's id, the share of a clip's energy that counts (what
    a codec lets through: see mastering.py).
    """
    import numpy as np

    step = sample_rate // 10
    energy = np.zeros(frames // step + 1)
    # Placings grouped by clip, so that one clip's filtered energy is held at a time.
    clips: dict[tuple[int, int], tuple[bytes | memoryview, list[int]]] = {}
    for start, data in placed:
        key = (id(data.obj) if isinstance(data, memoryview) else id(data), len(data))
        clips.setdefault(key, (data, []))[1].append(start)
    for key, (data, starts) in clips.items():
        cumulative = _k_weighted_energy(bytes(data), sample_rate)
        if shares is not None and key[0] in shares:
            cumulative = cumulative * shares[key[0]]
        for start in starts:
            end = min(start + len(cumulative) - 1, frames)
            if end <= start:
                continue
            first, last = start // step, (end - 1) // step
            edges = np.concatenate(([start], np.arange(first + 1, last + 1) * step, [end])) - start
            energy[first : last + 1] += np.diff(cumulative[edges])
    whole = frames // step
    if whole < 4:
        return -70.0
    blocks = (energy[0 : whole - 3] + energy[1 : whole - 2] + energy[2 : whole - 1] + energy[3:whole]) / (4 * step)
    audible = blocks[blocks > 10 ** ((-70 + 0.691) / 10)]  # the absolute gate, -70 LUFS
    if not len(audible):
        return -70.0
    relative = 10 * np.log10(np.mean(audible)) - 10  # the relative gate, 10 LU under
    gated = audible[10 * np.log10(audible) > relative]
    return float(-0.691 + 10 * np.log10(np.mean(gated)))


def weighted_energy(data: bytes, sample_rate: int) -> float:
    """The energy of *data* (mono 16-bit) through the K-weighting filter, tail included: what it adds to
    the loudness of a session wherever it is placed (unless gated out)."""
    return float(_k_weighted_energy(data, sample_rate)[-1]) if data else 0.0


def _k_weighted_energy(data: bytes, sample_rate: int) -> np.ndarray:
    """The running energy of *data* through the K-weighting filter, tail included: [0, e1, e1 + e2, ...].

    The filter's impulse response is applied by FFT, overlap-add, in blocks of one size (so that
    a long clip needs no more memory than a few copies of itself)."""
    import numpy as np

    response = _k_weighting_response(sample_rate)
    fft_size = max(FFT_SIZE, 1 << (4 * len(response) - 1).bit_length())
    hop = fft_size - len(response) + 1
    samples = np.frombuffer(data, dtype="<i2") / 32768.0
    blocks = max(1, -(-len(samples) // hop))
    padded = np.zeros(blocks * hop)
    padded[: len(samples)] = samples
    pieces = np.fft.irfft(
        np.fft.rfft(padded.reshape(blocks, hop), fft_size, axis=1) * _k_weighting_spectrum(sample_rate, fft_size),
        fft_size,
        axis=1,
    )
    out = np.zeros((blocks + 1) * hop)
    out[: blocks * hop] = pieces[:, :hop].reshape(-1)
    tails = np.zeros((blocks, hop))
    tails[:, : fft_size - hop] = pieces[:, hop:]
    out[hop:] += tails.reshape(-1)
    size = len(samples) + len(response) - 1
    return np.concatenate(([0.0], np.cumsum(out[:size] ** 2)))


@functools.cache
def _k_weighting_spectrum(sample_rate: int, fft_size: int) -> np.ndarray:
    import numpy as np

    return np.fft.rfft(_k_weighting_response(sample_rate), fft_size)


@functools.cache
def _k_weighting_response(sample_rate: int) -> np.ndarray:
    """The impulse response of BS.1770's K-weighting at *sample_rate* (the shelf, then the high
    pass, with the coefficients ffmpeg and libebur128 derive for any rate), long enough to have
    died away by 200 dB."""
    import numpy as np

    k = math.tan(math.pi * 1681.974450955533 / sample_rate)
    q = 0.7071752369554196
    high = 10 ** (3.999843853973347 / 20)
    band = high**0.4996667741545416
    norm = 1 + k / q + k * k
    shelf = ((high + band * k / q + k * k) / norm, 2 * (k * k - high) / norm, (high - band * k / q + k * k) / norm,
             2 * (k * k - 1) / norm, (1 - k / q + k * k) / norm)  # fmt: skip
    k = math.tan(math.pi * 38.13547087602444 / sample_rate)
    q = 0.5003270373238773
    norm = 1 + k / q + k * k
    high_pass = (1.0, -2.0, 1.0, 2 * (k * k - 1) / norm, (1 - k / q + k * k) / norm)
    signal = [1.0] + [0.0] * (sample_rate - 1)
    for b0, b1, b2, a1, a2 in (shelf, high_pass):
        x1 = x2 = y1 = y2 = 0.0
        out = []
        for x in signal:
            y = b0 * x + b1 * x1 + b2 * x2 - a1 * y1 - a2 * y2
            out.append(y)
            x2, x1, y2, y1 = x1, x, y1, y
        signal = out
    response = np.array(signal)
    alive = np.flatnonzero(np.abs(response) > 1e-10)
    return response[: alive[-1] + 1]


def _ffmpeg_filter(data: bytes, *, sample_rate: int, filters: str) -> bytes:
    raw = ["-f", "s16le", "-ar", str(sample_rate), "-ac", "1"]
    # (its only filters are the phrase limiter's)
    command = [ffmpeg_path(FfmpegNeed.LIMITER), "-hide_banner", "-loglevel", "error", *raw, "-i", "pipe:0", "-af",
               filters, *raw, "-"]  # fmt: skip
    result = subprocess.run(command, input=data, capture_output=True, check=False)
    if result.returncode != 0 or len(result.stdout) != len(data):
        raise AudioError(f"ffmpeg could not level the speech: {result.stderr.decode(errors='replace').strip()}")
    return result.stdout


def _pipe(command: list[str], chunks: Iterable[bytes]) -> str:
    """Run *command* with *chunks* on its stdin; return what it wrote to stderr."""
    # stderr goes to a file: a pipe nobody reads while stdin is being written could fill and stall.
    with tempfile.TemporaryFile() as errors_file:
        with subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=errors_file) as process:
            assert process.stdin is not None
            try:
                for chunk in chunks:
                    process.stdin.write(chunk)
                process.stdin.close()
            except BrokenPipeError:
                pass
        errors_file.seek(0)
        errors = errors_file.read().decode(errors="replace")
    if process.returncode != 0:
        last = errors.strip().splitlines()[-1:] or ["no details"]
        raise AudioError(f"ffmpeg could not measure the loudness: {last[0]}")
    return errors
