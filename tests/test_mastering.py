"""The pieces that hold a session at its loudness target and under its true-peak ceiling as heard
(mastering.py, truepeak.py): the true peak, the clip limiter, the check of the written file, and the
warning where the ceiling keeps a session quieter than asked. Files are real, decoded and measured
with ffmpeg's EBU R128 meter."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from audio_measure import ebur128
from click.testing import CliRunner

from voiceguide.build.session import RenderSettings, mix_session, write_session
from voiceguide.cli.commands import main
from voiceguide.output import mastering
from voiceguide.output.export import AudioFormat, Encoding, Source, Tags, write_audio
from voiceguide.plans.customize import customize
from voiceguide.plans.loader import load_plan
from voiceguide.plans.profile import parse_set
from voiceguide.sound import truepeak

RATE = 22_050
DATA = Path(__file__).parent.parent / "data"


@pytest.fixture
def own_speech_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A speech cache of the test's own meanwhile. These sessions are near the ceiling, and how near
    depends on the levelled clips to the sample: those the shared cache holds were levelled by
    whichever test first needed them, with whichever ffmpeg (see test_loudness_meter), alone or
    after other phrases (see test_speed)."""
    monkeypatch.setenv("VOICEGUIDE_CACHE_DIR", str(tmp_path / "speech-cache"))


def oversampled_peak_dbtp(samples: np.ndarray) -> float:
    """The true peak of *samples* (full scale 1), by band-limited interpolation at 16 times the rate."""
    fine = np.fft.irfft(np.fft.rfft(samples), len(samples) * 16) * 16
    return float(20 * np.log10(np.abs(fine).max()))


@pytest.mark.runs_ffmpeg
def test_the_clip_limiter_holds_its_ceiling_with_every_sample_in_place() -> None:
    """A clip limited at -16 dBTP peaks there (within 0.1 dB), keeps its length and its onset to the
    sample, and away from its loud middle is as it was (to a few steps of 16 bits)."""
    seconds = np.arange(RATE) / RATE
    tone = np.sin(2 * np.pi * 440 * seconds) * np.where(
        (seconds > 0.4) & (seconds < 0.6), 0.5, 0.05
    )
    quiet = np.zeros(RATE // 5)
    clip = (np.concatenate([quiet, tone, quiet]) * 32767).astype("<i2")
    [limited] = truepeak.limited([clip.tobytes()], [-16.0], sample_rate=RATE)
    after = np.frombuffer(limited, dtype="<i2")
    assert len(after) == len(clip)
    assert oversampled_peak_dbtp(clip / 32768) > -6.5
    assert -16.1 <= oversampled_peak_dbtp(after / 32768) <= -15.9
    onset = [int(np.flatnonzero(np.abs(samples.astype(int)) > 100)[0]) for samples in (clip, after)]
    assert onset[0] == onset[1] == len(quiet) + 1
    away = np.r_[
        len(quiet) : len(quiet) + RATE * 3 // 10, len(quiet) + RATE * 7 // 10 : len(quiet) + RATE
    ]
    assert (
        np.abs(after[away].astype(int) - clip[away]).max() <= 4
    )  # (the resampling to four times the rate and back)


def test_the_true_peak_is_found_between_the_samples() -> None:
    """A tone whose crests fall between samples (a quarter of the rate, 45 degrees off) peaks 3 dB
    over its highest sample; the meter finds it, as it finds a tone's peak that falls on a sample."""
    samples = np.arange(RATE)
    envelope = np.minimum(1, np.minimum(samples, samples[::-1]) / 1000)
    between = 0.5 * np.sin(np.pi / 2 * samples + np.pi / 4) * envelope
    assert 20 * np.log10(np.abs(between).max()) == pytest.approx(-9.03, abs=0.01)
    assert truepeak.dbtp(truepeak.true_peak(between)) == pytest.approx(-6.02, abs=0.02)
    on = 0.5 * np.sin(2 * np.pi * 1000 * samples / RATE) * envelope
    assert truepeak.dbtp(truepeak.true_peak(on)) == pytest.approx(-6.02, abs=0.02)


@pytest.mark.audio
@pytest.mark.usefixtures("own_speech_cache")
def test_the_check_of_the_written_file_holds_the_ceiling_where_the_codec_overshoots(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the codec's headroom taken away (clips limited at 0 dBTP, not 1.5 dB under the ceiling),
    the peaks Opus adds take a loud session's file over -1 dBTP everywhere; the check of the written
    file makes it quieter and writes it again: under -1 dBTP, at the loudness reported."""
    monkeypatch.setitem(mastering.HEADROOM_DB, AudioFormat.OPUS, -1.0)
    loaded = load_plan(DATA / "feet-for-back-pain.yaml")
    first = loaded.exercises[0].name
    plan = customize(
        plan=loaded, layers=[parse_set(f"only=[{first}]"), parse_set(f"{first}.reps=2")]
    ).plan
    encoding = Encoding(format=AudioFormat.OPUS)
    with mix_session(plan=plan, settings=RenderSettings()) as mixed:
        heard = mastering.Mastering(mixed.mixdown, target_lufs=-12.0, encoding=encoding)
        unchecked = tmp_path / "unchecked.opus"
        source = Source(sample_rate=RATE, frames=mixed.mixdown.frames, read=heard.mixdown.chunks)
        tags = Tags(title="t", artist="a", album="b")
        write_audio(source, unchecked, encoding=encoding, tags=tags, gain_db=heard.gain_db)
        checked = tmp_path / "checked.opus"
        settings = RenderSettings(encoding=encoding, loudness_lufs=-12.0, sidecars=False)
        reported = write_session(mixed, checked, settings=settings)
    (_, unchecked_peak), (integrated, peak) = ebur128(unchecked), ebur128(checked)
    print(
        f"unchecked: {unchecked_peak} dBTP; checked: {integrated} LUFS ({reported:.2f} reported), {peak} dBTP"
    )
    assert unchecked_peak > -1.0
    assert peak <= -1.0
    assert abs(integrated - reported) <= 0.3


def test_a_dip_makes_the_session_quieter_there_only_fading_in_and_out() -> None:
    """A dip (see Mastering.check) scales the samples inside its span by its gain, the ramp either
    side in between, and leaves every other sample as it was, whichever chunks the samples come in."""
    heard = object.__new__(mastering.Mastering)  # (only what dipped uses: the rate and the dips)
    heard._rate = RATE
    heard.dips = [mastering.Dip(first=10_000, last=12_000, gain_db=-6.0)]
    ramp = RATE * mastering.RAMP_MS // 1000
    level = np.full(30_000, 10_000, dtype="<i2")
    chunks = [level[i : i + 7_001].tobytes() for i in range(5_000, 30_000, 7_001)]
    out = np.frombuffer(b"".join(heard.dipped(chunks, 5_000)), dtype="<i2")
    assert len(out) == 25_000
    at = np.arange(5_000, 30_000)
    untouched = (at < 10_000 - ramp) | (at > 12_000 + ramp)
    assert (out[untouched] == 10_000).all()
    assert (np.abs(out[(at >= 10_000) & (at <= 12_000)] - 10_000 * 10 ** (-6 / 20)) <= 1).all()
    falling = out[(at >= 10_000 - ramp) & (at <= 10_000)]
    assert (np.diff(falling.astype(int)) <= 0).all() and falling[0] > 9_990 and falling[-1] < 5_020


@pytest.mark.audio
@pytest.mark.usefixtures("own_speech_cache")
def test_a_target_the_ceiling_keeps_out_of_reach_is_warned_about(
    tmp_path: Path, tiny: Path
) -> None:
    """`--loudness -10` is more than speech can be made under -1 dBTP without limiting it out of
    shape: the build says how loud the session is, which is what the file measures, under -1 dBTP."""
    output = tmp_path / "loud.mp3"
    result = CliRunner().invoke(
        main, ["build", str(tiny), "-o", str(output), "--loudness", "-10", "--no-sidecars"]
    )
    assert result.exit_code == 0, result.output
    found = re.search(
        r"warning: the session is (-?\d+\.\d) LUFS, not the -10 LUFS asked for", result.stderr
    )
    assert found, result.stderr
    integrated, peak = ebur128(output)
    print(f"asked -10 LUFS: warned {found[1]} LUFS, measured {integrated} LUFS, {peak} dBTP")
    assert float(found[1]) < -10.3
    assert abs(integrated - float(found[1])) <= 0.3
    assert peak <= -1.0
