"""Even loudness: every phrase levelled alike, the session at a spoken-word loudness target.

Each distinct phrase is levelled to one RMS and its peaks limited to a fixed height above it, once,
however often it is spoken. That makes the session's loudness linear in its gain, so one pass of
ffmpeg's EBU R128 meter over the mixed session gives the exact gain to the target, and the true
peak stays below the ceiling without limiting the session as a whole.
"""

from __future__ import annotations

import math
import re
import subprocess
import tempfile
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from voiceguide.errors import AudioError
from voiceguide.externals import ffmpeg_path

if TYPE_CHECKING:
    from pydub import AudioSegment

TARGET_LUFS = -16.0
"""Integrated loudness of a session: the usual target for spoken word."""
SPEECH_RMS_DBFS = -23.0
"""Every phrase is levelled to this RMS before the session gain."""
SPEECH_CREST_DB = 10.0
"""Speech peaks are limited to this far above its RMS, so that at the target loudness the true
peak of the encoded file stays under -1 dBTP."""
SAFETY_LIMIT_DBFS = -2.5
"""A last limiter on the session, for what levelling cannot foresee (loud music)."""
LEVELLING_VERSION = 2
"""Part of the cache key of levelled phrases: raise it whenever levelling changes."""
PHRASE_GAP_MS = 500
"""Silence between phrases while they pass through the limiter together, so none affects another."""

LIMITER_MARGIN = 0.999
"""How far under the safety limit (0.01 dB) a session's peak must stay for the limiter to be left
out: well beyond the rounding of ffmpeg's float gain."""

_INTEGRATED = re.compile(r"I:\s+(-?\d+(?:\.\d+)?) LUFS")


def level_phrases(clips: Mapping[str, AudioSegment], *, sample_rate: int, groups: int = 1) -> dict[str, bytes]:
    """Each phrase's samples at SPEECH_RMS_DBFS, with peaks no higher than SPEECH_CREST_DB above.

    Limiting the peaks lowers a phrase's RMS, and levelling it again raises its peaks: after two
    rounds of both, every phrase is within a few tenths of a dB of the RMS, under the limit.
    The phrases pass through ffmpeg together, once a round; in *groups* ffmpeg processes at once
    (one per core the caller can spare), with the same result to the byte (see _through_ffmpeg).
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
        samples = _through_ffmpeg(levelled, sample_rate=sample_rate, filters=limiter, lead=not first)
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


def _through_ffmpeg(phrases: list[bytes], *, sample_rate: int, filters: str, lead: bool = False) -> list[bytes]:
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
        "-i", "pipe:0", "-af", "ebur128=framelog=quiet", "-f", "null", "-",
    ]  # fmt: skip
    errors = _pipe(command, chunks)
    found = _INTEGRATED.findall(errors)
    if not found:
        raise AudioError(f"ffmpeg did not measure the loudness: {errors.strip().splitlines()[-1:]}")
    return float(found[-1])


def needs_limiter(*, gain_db: float, peak: int | None) -> bool:
    """Whether the safety limiter could act on a session whose largest sample is *peak* (in 16-bit
    steps, before *gain_db*; None where it is not known, as with music). Without music it usually
    could not, and leaving it out lets MP3s be encoded on every core (see mp3.py)."""
    limit = 10 ** (SAFETY_LIMIT_DBFS / 20)
    return peak is None or peak / 32768 * 10 ** (round(gain_db, 2) / 20) >= limit * LIMITER_MARGIN


def session_filters(*, gain_db: float, limit: bool) -> str:
    """The gain and, if *limit*, the safety limiter, for ffmpeg. Without the limiter the samples
    still go the way it takes them (as doubles), so that the file is the same to the byte."""
    gain = f"{gain_db:.2f}"
    if limit:
        ceiling = f"{10 ** (SAFETY_LIMIT_DBFS / 20):.5f}"
        return f"volume={gain}dB,alimiter=limit={ceiling}:attack=2:release=40:level=false:latency=true"
    return f"volume={gain}dB,aformat=sample_fmts=dbl"


def _ffmpeg_filter(data: bytes, *, sample_rate: int, filters: str) -> bytes:
    raw = ["-f", "s16le", "-ar", str(sample_rate), "-ac", "1"]
    command = [ffmpeg_path(), "-hide_banner", "-loglevel", "error", *raw, "-i", "pipe:0", "-af", filters, *raw, "-"]
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
