"""The session's loudness taken from its placed clips (loudness.placed_loudness) agrees with
ffmpeg's EBU R128 meter over the same samples laid out in full: for tones across the band the
K-weighting shapes, for clips that follow one another closely, and for real sessions.

The reference is the bundled ffmpeg's meter, whichever ffmpeg the run tests: ffmpeg 4.2.2's
measures these 22.05 kHz signals 0.1 to 0.2 LU higher (measured), so it is no reference."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from voiceguide.build.session import (
    RenderSettings,
    levelled_phrases,
    open_synthesizer,
    timed_script,
)
from voiceguide.common.externals import FFMPEG_VARIABLE, ffmpeg_paths_clear
from voiceguide.plans.loader import load_plan
from voiceguide.sound.clipstore import ClipStore
from voiceguide.sound.loudness import integrated_loudness, placed_loudness
from voiceguide.sound.mixdown import Mixdown

RATE = 22_050
AGREEMENT_LU = 0.06
"""ffmpeg prints a tenth of a LU: this is its rounding and a little more."""


@pytest.fixture(autouse=True)
def reference_meter(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """integrated_loudness measures with the bundled ffmpeg meanwhile."""
    monkeypatch.setenv(FFMPEG_VARIABLE, "bundled")
    ffmpeg_paths_clear()
    yield
    monkeypatch.delenv(FFMPEG_VARIABLE)
    ffmpeg_paths_clear()


def laid_out(clips: list[bytes], placed: list[tuple[int, int, int]], frames: int) -> bytes:
    samples = np.zeros(frames, dtype="<i2")
    for start, clip, length in placed:
        data = np.frombuffer(clips[clip], dtype="<i2")[: min(length, frames - start)]
        samples[start : start + len(data)] = data
    return samples.tobytes()


def sine(hz: float, seconds: float, dbfs: float) -> bytes:
    t = np.arange(int(RATE * seconds)) / RATE
    return (np.sin(2 * np.pi * hz * t) * 32767 * 10 ** (dbfs / 20)).astype("<i2").tobytes()


@pytest.mark.runs_ffmpeg
@pytest.mark.parametrize("hz", [60, 440, 997, 3000, 8000])
def test_tones_across_the_band_measure_as_ffmpeg_measures_them(hz: int) -> None:
    clips = [sine(hz, 1.3, -12), sine(hz, 0.7, -30)]
    which = [0 if n % 3 else 1 for n in range(20)]  # (loud, but every third quiet)
    placed = [
        (RATE // 3 + n * RATE * 2, clip, len(clips[clip]) // 2) for n, clip in enumerate(which)
    ]
    frames = RATE * 42
    ours = placed_loudness(clips, placed, frames=frames, sample_rate=RATE)
    theirs = integrated_loudness([laid_out(clips, placed, frames)], sample_rate=RATE)
    assert abs(ours - theirs) <= AGREEMENT_LU, (ours, theirs)


@pytest.mark.runs_ffmpeg
def test_clips_close_together_and_one_cut_by_the_end() -> None:
    """Clips 10 ms apart (their filter tails overlap), and the last running past the session's end."""
    rng = np.random.default_rng(5)
    clips = [(rng.standard_normal(RATE) * 3000).astype("<i2").tobytes()]
    placed = [(n * (RATE + RATE // 100), 0, RATE) for n in range(12)]
    frames = 11 * (RATE + RATE // 100) + RATE // 2
    ours = placed_loudness(clips, placed, frames=frames, sample_rate=RATE)
    theirs = integrated_loudness([laid_out(clips, placed, frames)], sample_rate=RATE)
    assert abs(ours - theirs) <= AGREEMENT_LU, (ours, theirs)


def test_silence_measures_as_the_absolute_gate() -> None:
    assert placed_loudness([], [], frames=RATE * 5, sample_rate=RATE) == -70.0


@pytest.mark.audio
@pytest.mark.parametrize("name", ["feet-for-back-pain", "tabata"])
def test_real_sessions_measure_as_ffmpeg_measures_them(name: str) -> None:
    plan = load_plan(Path(__file__).parent.parent / "data" / f"{name}.yaml")
    settings = RenderSettings()
    with open_synthesizer(plan, settings) as synthesizer, ClipStore() as store:
        timeline = timed_script(plan=plan, settings=settings, synthesizer=synthesizer)
        phrases = levelled_phrases(synthesizer, timeline.phrases(), RATE, 1, store)
        mixdown = Mixdown(timeline=timeline, phrases=phrases, store=store, sample_rate=RATE)
        ours = placed_loudness(
            mixdown.clips, mixdown.placed(), frames=mixdown.frames, sample_rate=RATE
        )
        theirs = integrated_loudness(mixdown.chunks(), sample_rate=RATE)
    assert abs(ours - theirs) <= AGREEMENT_LU, (ours, theirs)
