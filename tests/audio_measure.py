"""Measuring real audio in tests: decode a session file and find its tones, speech and silence.

Everything here works on the decoded samples only, never on voiceguide's own buffers, so what the
tests measure is what a listener hears. Levels are in dBFS of the RMS relative to full scale
(a full-scale square wave is 0 dBFS, a full-scale sine -3 dBFS); times are in milliseconds.

Tones are told from speech by their purity: over a window of a few tens of milliseconds, a pure
sine puts all of its energy at one frequency, speech spreads it over many harmonics and formants.
The fraction of a window's energy at the tone frequency is ~1 for a cue tone and small for speech.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from voiceguide.common.externals import ffmpeg_path
from voiceguide.script.timeline import TONE_MS, Tone
from voiceguide.sound.tones import FADE_IN_MS, TONE_HZ

BUILT_IN_TONES = (Tone.START, Tone.END)
"""The tones a session sounds where its plan names no sounds of its own (a TRANSITION sounds only
as one: see voiceguide/sound/ownsounds.py)."""
DEFAULT_RATE = 22_050
SILENT_DBFS = -90.0
"""What `level_dbfs` reports for digital silence."""

TONE_WINDOW_MS = 30
"""Analysis window for telling a tone from speech (a frequency resolution of ~33 Hz)."""
TONE_HOP_MS = 5
TONE_PURITY = 0.8
"""Fraction of a window's energy at the tone frequency above which the window counts as tone."""
TONE_FLOOR_DBFS = -50.0
"""A tone is heard only above this level: the session's loudness gain decides the beeps' level, so
purity, not level, is what tells a tone from speech."""
TONE_MIN_COVERAGE = 0.5
"""A run of tone windows must last at least this fraction of the shorter cue tone to count."""


def decode(
    path: Path | str, sample_rate: int = DEFAULT_RATE, *, ffmpeg: str | None = None
) -> np.ndarray:
    """The audio file at *path* as mono float32 samples in [-1, 1), decoded by voiceguide's ffmpeg
    (or by *ffmpeg*)."""
    command = [
        ffmpeg or ffmpeg_path(),
        "-hide_banner",
        "-loglevel",
        "error",
        "-nostdin",
        "-i",
        str(path),
        "-f",
        "s16le",
        "-acodec",
        "pcm_s16le",
        "-ac",
        "1",
        "-ar",
        str(sample_rate),
        "-",
    ]
    result = subprocess.run(command, capture_output=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(
            f"ffmpeg could not decode {path}: {result.stderr.decode(errors='replace')}"
        )
    return np.frombuffer(result.stdout, dtype="<i2").astype(np.float32) / 32768.0


def ebur128(path: Path) -> tuple[float, float]:
    """(integrated loudness in LUFS, true peak in dBTP) of the file at *path* as decoded, from the
    summary of ffmpeg's EBU R128 meter (which takes the true peak at 192 kHz)."""
    command = [ffmpeg_path(), "-hide_banner", "-nostdin", "-nostats", "-i", str(path),
               "-af", "ebur128=peak=true:framelog=verbose", "-f", "null", "-"]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    integrated = re.findall(r"I:\s+(-?\d+(?:\.\d+)?) LUFS", result.stderr)
    peak = re.findall(r"Peak:\s+(-?\d+(?:\.\d+)?|-inf) dBFS", result.stderr)
    assert integrated and peak, f"no ebur128 summary in: {result.stderr[-500:]}"
    return float(integrated[-1]), float(peak[-1])


def index_at(ms: float, sample_rate: int = DEFAULT_RATE) -> int:
    return round(ms * sample_rate / 1000)


def ms_at(index: float, sample_rate: int = DEFAULT_RATE) -> float:
    return index * 1000 / sample_rate


def duration_ms(samples: np.ndarray, sample_rate: int = DEFAULT_RATE) -> float:
    return ms_at(len(samples), sample_rate)


def to_dbfs(rms: np.ndarray | float) -> np.ndarray | float:
    """RMS (full scale 1.0) in dBFS, with digital silence at SILENT_DBFS."""
    rms = np.asarray(rms, dtype=np.float64)
    with np.errstate(divide="ignore"):
        db = 20 * np.log10(np.maximum(rms, 0.0))
    db = np.maximum(db, SILENT_DBFS)
    return float(db) if db.ndim == 0 else db


def level_dbfs(
    samples: np.ndarray, start_ms: float, end_ms: float, sample_rate: int = DEFAULT_RATE
) -> float:
    """RMS level of the samples from *start_ms* to *end_ms*."""
    part = samples[max(0, index_at(start_ms, sample_rate)) : max(0, index_at(end_ms, sample_rate))]
    if len(part) == 0:
        raise ValueError(f"no samples between {start_ms} and {end_ms} ms")
    return float(to_dbfs(np.sqrt(np.mean(np.square(part, dtype=np.float64)))))


def frame_levels(
    samples: np.ndarray, frame_ms: float = 1.0, sample_rate: int = DEFAULT_RATE
) -> np.ndarray:
    """RMS level in dBFS of consecutive frames of *frame_ms* (the last, partial frame dropped)."""
    size = max(1, index_at(frame_ms, sample_rate))
    count = len(samples) // size
    frames = samples[: count * size].astype(np.float64).reshape(count, size)
    return np.asarray(to_dbfs(np.sqrt(np.mean(np.square(frames), axis=1))))


def speech_onset_ms(
    samples: np.ndarray,
    around_ms: float,
    *,
    before_ms: float = 60,
    after_ms: float = 120,
    threshold_dbfs: float = -50.0,
    frame_ms: float = 1.0,
    sample_rate: int = DEFAULT_RATE,
) -> float | None:
    """Where sound first rises above *threshold_dbfs* (per *frame_ms* frame) near *around_ms*.

    Searches from *before_ms* before to *after_ms* after; None if nothing is that loud there.
    """
    start = max(0.0, around_ms - before_ms)
    part = samples[index_at(start, sample_rate) : index_at(around_ms + after_ms, sample_rate)]
    levels = frame_levels(part, frame_ms, sample_rate)
    loud = np.flatnonzero(levels > threshold_dbfs)
    if len(loud) == 0:
        return None
    return start + loud[0] * ms_at(max(1, index_at(frame_ms, sample_rate)), sample_rate)


@dataclass(frozen=True, slots=True)
class ToneTrack:
    """Per analysis hop: how much of a window's energy is at one frequency, and how loud it is."""

    frequency: float
    times_ms: np.ndarray
    """Start of each analysis window."""
    purity: np.ndarray
    """Fraction of the window's energy at `frequency`: ~1 for a pure sine, small for speech."""
    level_dbfs: np.ndarray
    """RMS level of the window."""
    amplitude: np.ndarray
    """Amplitude (peak, full scale 1.0) of the `frequency` component in the window."""


def _hop_sums(
    samples: np.ndarray, frequency: float, hop: int, sample_rate: int
) -> tuple[np.ndarray, np.ndarray]:
    """Per hop of *hop* samples: the sum of x*exp(-jwn) and the sum of x^2 (chunked to bound memory)."""
    count = len(samples) // hop
    usable = samples[: count * hop]
    omega = 2 * np.pi * frequency / sample_rate
    demodulated = np.empty(count, dtype=np.complex128)
    energy = np.empty(count, dtype=np.float64)
    chunk_hops = max(1, (1 << 20) // hop)
    for first in range(0, count, chunk_hops):
        last = min(count, first + chunk_hops)
        block = usable[first * hop : last * hop].astype(np.float64)
        n = np.arange(first * hop, last * hop, dtype=np.float64)
        # The phase is taken modulo one turn before exp() so that it stays precise far into the
        # file.
        phase = np.mod(omega * n, 2 * np.pi)
        demodulated[first:last] = (block * np.exp(-1j * phase)).reshape(-1, hop).sum(axis=1)
        energy[first:last] = np.square(block).reshape(-1, hop).sum(axis=1)
    return demodulated, energy


def tone_track(
    samples: np.ndarray,
    frequency: float,
    *,
    window_ms: float = TONE_WINDOW_MS,
    hop_ms: float = TONE_HOP_MS,
    sample_rate: int = DEFAULT_RATE,
) -> ToneTrack:
    """Goertzel-style analysis of *samples* at *frequency* over sliding windows."""
    hop = max(1, index_at(hop_ms, sample_rate))
    hops_per_window = max(1, round(window_ms / ms_at(hop, sample_rate)))
    size = hop * hops_per_window
    demodulated, energy = _hop_sums(samples, frequency, hop, sample_rate)
    kernel = np.ones(hops_per_window)
    window_x = np.convolve(demodulated, kernel, mode="valid")
    window_energy = np.convolve(energy, kernel, mode="valid")
    # A sine of amplitude A over N samples gives |sum x e^-jwn| = A N / 2 and sum x^2 = A^2 N / 2,
    # so 2 |X|^2 / (N E) is 1 for a pure sine and the share of the energy at *frequency* otherwise.
    with np.errstate(divide="ignore", invalid="ignore"):
        purity = np.where(
            window_energy > 0, 2 * np.abs(window_x) ** 2 / (size * window_energy), 0.0
        )
    times = np.arange(len(window_x)) * ms_at(hop, sample_rate)
    level = np.asarray(to_dbfs(np.sqrt(window_energy / size)))
    amplitude = 2 * np.abs(window_x) / size
    return ToneTrack(
        frequency=frequency, times_ms=times, purity=purity, level_dbfs=level, amplitude=amplitude
    )


def _envelope(samples: np.ndarray, frequency: float, sample_rate: int) -> np.ndarray:
    """Amplitude of the *frequency* component, sample by sample, over a box of whole periods (~2 ms).

    A box of a whole number of periods cancels the 2f term of the demodulation, so a steady sine
    gives a flat envelope and a linear fade-in a linear ramp centred where it really is.
    """
    period = sample_rate / frequency
    periods = max(1, round(0.002 * sample_rate / period))
    size = max(1, round(periods * period))
    n = np.arange(len(samples), dtype=np.float64)
    demodulated = samples.astype(np.float64) * np.exp(
        -1j * np.mod(2 * np.pi * frequency / sample_rate * n, 2 * np.pi)
    )
    smoothed = np.convolve(demodulated, np.ones(size) / size, mode="same")
    return 2 * np.abs(smoothed)


@dataclass(frozen=True, slots=True)
class FoundTone:
    tone: Tone
    onset_ms: float
    """Where the tone starts: its fade-in reaching half the tone's level, less half the fade-in."""
    length_ms: float
    """How long the run of tone-like windows lasts (a rough figure)."""
    level_dbfs: float
    """RMS level in the middle of the tone."""


def _refine_onset(
    samples: np.ndarray, tone: Tone, coarse_ms: float, plateau: float, sample_rate: int
) -> float:
    """The onset of a tone found near *coarse_ms*, to about a millisecond, from its rising envelope."""
    start_ms = max(0.0, coarse_ms - 40)
    part = samples[index_at(start_ms, sample_rate) : index_at(coarse_ms + 40, sample_rate)]
    envelope = _envelope(part, TONE_HZ[tone], sample_rate)
    above = np.flatnonzero(envelope >= plateau / 2)
    if len(above) == 0:
        return coarse_ms
    # The fade-in is a linear ramp in amplitude, so the half-level point is half the fade in.
    fade_ms = min(FADE_IN_MS, TONE_MS[tone] // 4)
    return start_ms + ms_at(above[0], sample_rate) - fade_ms / 2


def find_tones(
    samples: np.ndarray, tone: Tone, *, sample_rate: int = DEFAULT_RATE
) -> list[FoundTone]:
    """Every occurrence of the cue *tone* in *samples*, in order, with its onset to a millisecond or
    so.

    A window is tone-like when nearly all its energy is at the tone's frequency and its level is
    near a cue tone's; a run of such windows long enough to be a cue is a tone.
    """
    track = tone_track(samples, TONE_HZ[tone], sample_rate=sample_rate)
    tone_like = (track.purity >= TONE_PURITY) & (track.level_dbfs > TONE_FLOOR_DBFS)
    hop_ms = (
        float(track.times_ms[1] - track.times_ms[0]) if len(track.times_ms) > 1 else TONE_HOP_MS
    )
    min_hops = max(1, int(TONE_MIN_COVERAGE * min(TONE_MS.values()) / hop_ms))
    found = []
    for first, last in _runs(tone_like):
        if last - first < min_hops:
            continue
        middle = slice(first + (last - first) // 4, last - (last - first) // 4)
        plateau = float(np.median(track.amplitude[middle]))
        coarse_ms = float(track.times_ms[first])
        found.append(
            FoundTone(
                tone=tone,
                onset_ms=_refine_onset(samples, tone, coarse_ms, plateau, sample_rate),
                length_ms=(last - first) * hop_ms + TONE_WINDOW_MS,
                level_dbfs=float(np.median(track.level_dbfs[middle])),
            )
        )
    return found


def _runs(flags: np.ndarray) -> list[tuple[int, int]]:
    """(first, end) index pairs of the runs of True in *flags*, end exclusive."""
    padded = np.concatenate(([False], flags.astype(bool), [False]))
    edges = np.flatnonzero(np.diff(padded.astype(np.int8)))
    return list(zip(edges[0::2].tolist(), edges[1::2].tolist(), strict=True))


def nearest(values: list[float] | np.ndarray, target: float) -> float | None:
    """The value in *values* closest to *target*; None if there are none."""
    if len(values) == 0:
        return None
    array = np.asarray(values, dtype=np.float64)
    return float(array[np.argmin(np.abs(array - target))])
