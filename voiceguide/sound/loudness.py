"""Even loudness: every phrase levelled alike, the session at a spoken-word loudness target.

Each distinct phrase is levelled to one RMS and its peaks limited to a fixed height above it, once,
however often it is spoken. That makes the session's loudness linear in its gain, so one measurement
of the mixed session gives the exact gain to the target (as heard through the encoder, and with the
true peak under the ceiling: see mastering.py). The measurement is BS.1770's, taken from the placed
clips, each filtered once (placed_loudness); with music under them, ffmpeg's EBU R128 meter takes it
of the whole session.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import math
import os
import re
import signal
import subprocess
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import IO, TYPE_CHECKING

from voiceguide.common.errors import AudioError
from voiceguide.common.externals import FfmpegNeed, audio_segment, ffmpeg_path
from voiceguide.sound.clipstore import clips_error

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


def level_phrases(
    clips: Iterable[bytes], *, sizes: Sequence[int], sample_rate: int, groups: int = 1
) -> Iterator[bytes]:
    """Each of *clips* (mono 16-bit samples, about *sizes* long in any unit) at SPEECH_RMS_DBFS, with
    peaks no higher than SPEECH_CREST_DB above, in order.

    Limiting the peaks lowers a phrase's RMS, and levelling it again raises its peaks: after two
    rounds of both, every phrase is within a few tenths of a dB of the RMS, under the limit.
    The phrases pass through ffmpeg together, once a round; in *groups* ffmpeg processes at once
    (one per core the caller can spare), with the same result to the byte (see through_ffmpeg).
    They go in and come out through temporary files, each clip read as it is written there and each
    levelled one as it is asked for: however many there are, one is held at a time.
    """
    if not sizes:
        return
    segment = audio_segment()
    bounds = _split(list(sizes), groups)
    with contextlib.ExitStack() as stack:
        spaced = []  # each group's phrases as ffmpeg reads them (levelled once), and their lengths
        clip = iter(clips)
        for start, end in bounds:
            file = stack.enter_context(_temporary())
            levelled = (_at_rms(segment, next(clip), sample_rate) for _ in range(start, end))
            spaced.append(
                (file, _write_spaced(file, levelled, sample_rate=sample_rate, lead=bool(start)))
            )
        leads = [bool(start) for start, _ in bounds]
        if len(bounds) == 1:
            outcomes = [
                _level(segment, spaced[0][0], spaced[0][1], sample_rate=sample_rate, lead=False)
            ]
        else:
            # Threads are enough: each waits on its own ffmpeg, and most of the work is ffmpeg's.
            with ThreadPoolExecutor(max_workers=len(bounds)) as pool:
                outcomes = list(
                    pool.map(
                        lambda group: _level(
                            segment, *group[0], sample_rate=sample_rate, lead=group[1]
                        ),
                        zip(spaced, leads, strict=True),
                    )
                )
        for out in outcomes:
            stack.enter_context(out)
        for out, (_, lengths), lead in zip(outcomes, spaced, leads, strict=True):
            yield from _read_spaced(out, lengths, sample_rate=sample_rate, lead=lead)


def _level(
    segment: type[AudioSegment],
    source: IO[bytes],
    lengths: list[int],
    *,
    sample_rate: int,
    lead: bool,
) -> IO[bytes]:
    """The two rounds of level_phrases for one group of phrases (in *source*, levelled once, led by a
    gap unless it is the first group): the file ffmpeg wrote them into, spaced as in *source*."""
    limit = 10 ** ((SPEECH_RMS_DBFS + SPEECH_CREST_DB) / 20)
    # latency=true: the limiter looks ahead, and compensating its delay keeps every sample in place.
    # At four times the rate, the limiter sees the peaks between samples too (the true peak).
    limiter = (
        f"aresample={sample_rate * 4},alimiter=limit={limit:.5f}:attack=2:release=40:level=false:latency=true,"
        f"aresample={sample_rate}"
    )
    with _temporary() as limited, _temporary() as again:
        _filter(source, limited, sample_rate=sample_rate, filters=limiter)
        phrases = _read_spaced(limited, lengths, sample_rate=sample_rate, lead=lead)
        _write_spaced(again, (_at_rms(segment, data, sample_rate) for data in phrases), sample_rate=sample_rate,
                      lead=lead)  # fmt: skip
        # Limiting last: a phrase may end a little under the RMS (a few tenths of a dB), never over
        # its peak.
        out = _temporary()
        try:
            _filter(again, out, sample_rate=sample_rate, filters=limiter)
        except BaseException:
            out.close()
            raise
    return out


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


def speech_level_dbfs(phrases: Iterable[bytes]) -> float:
    """The RMS of all the phrases together: the level beeps and music are set against."""
    import audioop  # (pydub's own dependency; audioop-lts from Python 3.13)

    energy = frames = 0
    for data in phrases:
        energy += audioop.rms(data, 2) ** 2 * len(data)
        frames += len(data)
    rms = math.sqrt(energy / frames) / 32768 if frames else 0.0
    return 20 * math.log10(rms) if rms > 0 else SPEECH_RMS_DBFS


def _at_rms(segment: type[AudioSegment], data: bytes, sample_rate: int) -> bytes:
    clip = segment(data=data, sample_width=2, frame_rate=sample_rate, channels=1)
    levelled: bytes = clip.apply_gain(SPEECH_RMS_DBFS - clip.dBFS).raw_data
    return levelled


def through_ffmpeg(
    phrases: Iterable[bytes], *, sample_rate: int, filters: str, lead: bool = False
) -> list[bytes]:
    """*phrases* filtered in one ffmpeg run, with silence between them so none affects another.

    The resampler starts a stream a little differently from how it goes on after silence (the
    first few samples of a phrase can differ by one step). Each group of level_phrases after the
    first is led by a gap too, so that a phrase comes out the same whichever group it is in.
    """
    with _temporary() as source, _temporary() as out:
        lengths = _write_spaced(source, phrases, sample_rate=sample_rate, lead=lead)
        _filter(source, out, sample_rate=sample_rate, filters=filters)
        return list(_read_spaced(out, lengths, sample_rate=sample_rate, lead=lead))


def _write_spaced(
    file: IO[bytes], phrases: Iterable[bytes], *, sample_rate: int, lead: bool
) -> list[int]:
    """*phrases* written into *file*, each followed by PHRASE_GAP_MS of silence (and, given *lead*,
    the first led by it too), one at a time; their lengths."""
    gap = bytes(sample_rate * PHRASE_GAP_MS // 1000 * 2)
    lengths = []
    try:
        if lead:
            file.write(gap)
        for phrase in phrases:
            file.write(phrase)
            file.write(gap)
            lengths.append(len(phrase))
        file.flush()
    except OSError as error:
        raise clips_error(error) from None
    return lengths


def _temporary() -> IO[bytes]:
    try:
        return tempfile.TemporaryFile()
    except OSError as error:
        raise clips_error(error) from None


def _read_spaced(
    file: IO[bytes], lengths: list[int], *, sample_rate: int, lead: bool
) -> Iterator[bytes]:
    """The phrases of *lengths* from *file*, spaced as _write_spaced spaces them, one at a time."""
    gap = sample_rate * PHRASE_GAP_MS // 1000 * 2
    file.seek(gap if lead else 0)
    for length in lengths:
        yield file.read(length)
        file.seek(gap, os.SEEK_CUR)


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
    clips: Sequence[bytes],
    placed: Iterable[tuple[int, int, int]],
    *,
    frames: int,
    sample_rate: int,
    shares: Sequence[float] | None = None,
) -> float:
    """The integrated loudness (LUFS, ITU-R BS.1770-4, as ffmpeg's meter) of *frames* samples made
    of *clips* (mono 16-bit) *placed* (first frame, which clip, how many of its frames) with silence
    between.

    The K-weighting filter is linear and each clip is filtered once, however often it is placed
    (a count said a hundred times is one clip): the session is never filtered as a whole. Each
    placed clip adds the energy of its filtered samples, tail included, to the 100 ms steps it
    covers; gating then works on the 400 ms blocks of four steps, as the standard says. Clips whose
    tails overlap a neighbour add their energies rather than their samples, which the tails'
    smallness leaves below a hundredth of a LU.

    *shares* gives, by clip, the share of its energy that counts (what a codec lets through: see
    mastering.py). One clip is read (and its filtered energy held) at a time: *clips* may be read
    from disk (see clipstore.py).
    """
    import numpy as np

    step = sample_rate // 10
    energy = np.zeros(frames // step + 1)
    # Placings grouped by clip (and how much of it sounds), so that one clip is filtered at a time.
    grouped: dict[tuple[int, int], list[int]] = {}
    for start, clip, length in placed:
        grouped.setdefault((clip, length), []).append(start)
    for (clip, length), starts in grouped.items():
        cumulative = _k_weighted_energy(clips[clip][: length * 2], sample_rate)
        if shares is not None:
            cumulative = cumulative * shares[clip]
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
    blocks = (
        energy[0 : whole - 3] + energy[1 : whole - 2] + energy[2 : whole - 1] + energy[3:whole]
    ) / (4 * step)
    audible = blocks[blocks > 10 ** ((-70 + 0.691) / 10)]  # the absolute gate, -70 LUFS
    if not len(audible):
        return -70.0
    relative = 10 * np.log10(np.mean(audible)) - 10  # the relative gate, 10 LU under
    gated = audible[10 * np.log10(audible) > relative]
    return float(-0.691 + 10 * np.log10(np.mean(gated)))


def weighted_energy(data: bytes, sample_rate: int) -> float:
    """The energy of *data* (mono 16-bit) through the K-weighting filter, tail included: what it adds
    to the loudness of a session wherever it is placed (unless gated out)."""
    return float(_k_weighted_energy(data, sample_rate)[-1]) if data else 0.0


def _k_weighted_energy(data: bytes, sample_rate: int) -> np.ndarray:
    """The running energy of *data* through the K-weighting filter, tail included: [0, e1, e1 + e2,
    ...].

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
        np.fft.rfft(padded.reshape(blocks, hop), fft_size, axis=1)
        * _k_weighting_spectrum(sample_rate, fft_size),
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


def _filter(source: IO[bytes], out: IO[bytes], *, sample_rate: int, filters: str) -> None:
    """What the file *source* holds, through ffmpeg's *filters*, into the file *out* (as long)."""
    raw = ["-f", "s16le", "-ar", str(sample_rate), "-ac", "1"]
    # (its only filters are the phrase limiter's)
    command = [ffmpeg_path(FfmpegNeed.LIMITER), "-hide_banner", "-loglevel", "error", *raw, "-i", "pipe:0", "-af",
               filters, *raw, "-"]  # fmt: skip
    source.flush()
    source.seek(0)
    result = subprocess.run(command, stdin=source, stdout=out, stderr=subprocess.PIPE, check=False)
    errors = result.stderr.decode(errors="replace").strip()
    if result.returncode == -signal.SIGXFSZ or "No space left" in errors:
        raise clips_error(OSError(errno.ENOSPC, "no space left"))
    if (
        result.returncode != 0
        or os.fstat(out.fileno()).st_size != os.fstat(source.fileno()).st_size
    ):
        raise AudioError(f"ffmpeg could not level the speech: {errors}")


def _pipe(command: list[str], chunks: Iterable[bytes]) -> str:
    """Run *command* with *chunks* on its stdin; return what it wrote to stderr."""
    # stderr goes to a file: a pipe nobody reads while stdin is being written could fill and stall.
    with tempfile.TemporaryFile() as errors_file:
        with subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=errors_file
        ) as process:
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
