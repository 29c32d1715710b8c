"""Music under the voice, measured in the decoded session.

The music is a steady 200 Hz sine of 3 s (so it must loop): its level anywhere in the session is
the amplitude of the 200 Hz component, found by demodulating at 200 Hz over a window (a lock-in).
Over a window of tens of periods this rejects speech, whose energy near 200 Hz comes and goes with
its pitch, so the music can be followed under the voice as well as in the gaps.
"""

from __future__ import annotations

import gc
import json
import subprocess
import warnings
from dataclasses import dataclass
from pathlib import Path

import audio_measure as am
import numpy as np
import pytest
from builders import QUICK, exercise_yaml, plan_yaml
from click.testing import CliRunner

from voiceguide.cli.commands import main
from voiceguide.common.externals import ffmpeg_path

pytestmark = [pytest.mark.audio, pytest.mark.ffmpeg]

MUSIC_HZ = 200.0
MUSIC_SECONDS = 3
FADE_MS = 3_000
"""The music fades in over the first 3 s of the session and out over its last 3 s."""
RAMP_MS = 120
"""The music goes down this long before a cue and comes back up this long after it."""
RATE = am.DEFAULT_RATE
LENGTH_TOLERANCE_MS = 50
TONE_TOLERANCE_MS = 30
GAP_MIN_MS = 700
STEADY_TOLERANCE_DB = 1.0
DUCK_MIN_DB, DUCK_MAX_DB = 8.0, 16.0
LEVEL_STEP_TOLERANCE_DB = 1.5
LEVEL_TOLERANCE_DB = 2.0
DEFAULT_MUSIC_LEVEL_DB = -8.0

PLAN = plan_yaml(
    "Music check",
    exercise_yaml("Squeeze", "Squeeze your hand.", reps=2, hold=4, reset=3),
    rate=180,
    **QUICK,
)


@dataclass(frozen=True, slots=True)
class Span:
    kind: str
    start_ms: float
    end_ms: float
    tone: str | None

    @property
    def duration_ms(self) -> float:
        return self.end_ms - self.start_ms


@dataclass(frozen=True, slots=True)
class MusicBuild:
    output: Path
    spans: list[Span]
    """The timeline the build wrote beside the session (its .json), which its mix follows."""
    total_ms: float
    samples: np.ndarray


def _ffmpeg(*arguments: str) -> None:
    command = [ffmpeg_path(), "-hide_banner", "-loglevel", "error", "-nostdin", "-y", *arguments]
    subprocess.run(command, check=True, capture_output=True)


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("music")


@pytest.fixture(scope="module")
def plan_file(folder: Path) -> Path:
    path = folder / "music-check.yaml"
    path.write_text(PLAN)
    return path


@pytest.fixture(scope="module")
def music_file(folder: Path) -> Path:
    """A 3 s, 200 Hz sine as a stereo 44.1 kHz WAV: another rate and layout than the session's."""
    path = folder / "hum.wav"
    _ffmpeg("-f", "lavfi", "-i", f"sine=frequency={MUSIC_HZ:g}:sample_rate=44100:duration={MUSIC_SECONDS}", "-ac", "2",
            str(path))  # fmt: skip
    return path


def _build(plan_file: Path, music_file: Path, name: str, *options: str) -> MusicBuild:
    output = plan_file.with_name(name)
    result = CliRunner().invoke(
        main, ["build", str(plan_file), "-o", str(output), "--music", str(music_file), *options]
    )
    assert result.exit_code == 0, result.output
    timeline = json.loads(output.with_suffix(".json").read_text(encoding="utf-8"))
    spans = [
        Span(
            e["kind"],
            e["start"] * 1000,
            e["end"] * 1000,
            e.get("tone") if e.get("clipped") is None else "clipped",
        )
        for e in timeline["events"]
    ]
    return MusicBuild(output, spans, timeline["total"] * 1000, am.decode(output))


@pytest.fixture(scope="module")
def with_music(plan_file: Path, music_file: Path) -> MusicBuild:
    """`build --music hum.wav` (the default --music-level, -8 dB)."""
    return _build(plan_file, music_file, "with-music.mp3")


@pytest.fixture(scope="module")
def quieter_music(plan_file: Path, music_file: Path) -> MusicBuild:
    """`build --music hum.wav --music-level -14`."""
    return _build(plan_file, music_file, "quieter-music.mp3", "--music-level", "-14")


def music_db(samples: np.ndarray, start_ms: float, end_ms: float) -> float:
    """RMS level (dBFS) of the 200 Hz component between the two times (a lock-in over the window)."""
    first = am.index_at(start_ms)
    part = samples[first : am.index_at(end_ms)].astype(np.float64)
    n = np.arange(first, first + len(part), dtype=np.float64)
    amplitude = 2 * abs(np.mean(part * np.exp(-2j * np.pi * MUSIC_HZ / RATE * n)))
    return float(am.to_dbfs(amplitude / np.sqrt(2)))


def steady_gaps(build: MusicBuild) -> list[Span]:
    """Silences long enough for the music to be fully back up, away from the fades."""
    return [
        s
        for s in build.spans
        if s.kind == "silence"
        and s.duration_ms >= GAP_MIN_MS
        and s.start_ms >= FADE_MS + 100
        and s.end_ms <= build.total_ms - FADE_MS - 100
    ]


def gap_level(build: MusicBuild, gap: Span) -> float:
    return music_db(build.samples, gap.start_ms + RAMP_MS + 50, gap.end_ms - RAMP_MS - 50)


def steady_level(build: MusicBuild) -> float:
    """The music's level where nobody speaks: the median over the steady gaps."""
    return float(np.median([gap_level(build, gap) for gap in steady_gaps(build)]))


def speech_level(build: MusicBuild) -> float:
    """Median RMS (dBFS) of the phrases over 0.5 s, with the music's own energy taken out."""
    levels = []
    for span in build.spans:
        if span.kind != "speech" or span.duration_ms <= 500 or span.tone == "clipped":
            continue
        part = build.samples[am.index_at(span.start_ms) : am.index_at(span.end_ms)].astype(
            np.float64
        )
        music_power = 10 ** (music_db(build.samples, span.start_ms, span.end_ms) / 10)
        levels.append(10 * np.log10(max(np.mean(np.square(part)) - music_power, 1e-12)))
    return float(np.median(levels))


def test_session_keeps_its_length_with_music(with_music: MusicBuild) -> None:
    """With music under it, the session decodes to the timeline's length within 50 ms."""
    decoded = am.duration_ms(with_music.samples)
    assert with_music.total_ms > 4 * MUSIC_SECONDS * 1000, (
        "the session should be several loops of the music long"
    )
    assert abs(decoded - with_music.total_ms) <= LENGTH_TOLERANCE_MS, (
        f"decoded {decoded:.0f} ms for a timeline of {with_music.total_ms:.0f} ms"
    )


def test_music_loops_from_start_to_end(with_music: MusicBuild) -> None:
    """In every gap between cues, all through the session, the music is there at one steady level."""
    gaps = steady_gaps(with_music)
    assert len(gaps) >= 3, f"only {len(gaps)} gaps of {GAP_MIN_MS} ms to measure the music in"
    assert gaps[-1].end_ms > 3 * MUSIC_SECONDS * 1000, "no gap after the music's third loop"
    steady = steady_level(with_music)
    assert steady > -40, f"the music is barely there: {steady:.1f} dBFS"
    worst = []
    for gap in gaps:
        # 100 ms windows: a loop that stopped, or a hole at a loop's seam, would show in one of
        # them.
        for start in np.arange(gap.start_ms + RAMP_MS + 50, gap.end_ms - RAMP_MS - 150, 100):
            worst.append((abs(music_db(with_music.samples, start, start + 100) - steady), start))
    deviation, at = max(worst)
    print(
        f"music in {len(gaps)} gaps ({len(worst)} windows): {steady:.2f} dBFS, worst window {deviation:.2f} dB off"
    )
    assert deviation <= STEADY_TOLERANCE_DB, (
        f"the music is {deviation:.1f} dB off its steady level at {at:.0f} ms"
    )


def test_music_fades_in_and_out(with_music: MusicBuild) -> None:
    """The music rises over the first moments (before the first cue) and falls away after the last one."""
    samples, total, steady = with_music.samples, with_music.total_ms, steady_level(with_music)
    first_cue = next(s.start_ms for s in with_music.spans if s.kind != "silence")
    last_cue = max(s.end_ms for s in with_music.spans if s.kind != "silence")
    assert first_cue >= 400 and total - last_cue >= 1_300, (
        "the plan leaves no quiet start or end to hear the fades"
    )
    rising = [music_db(samples, start, start + 100) - steady for start in (0, 100, 200)]
    ends = [total - before for before in (1_250, 850, 450, 150)]
    falling = [music_db(samples, end - 100, end) - steady for end in ends]
    print(f"fade in (dB against steady): {np.round(rising, 1)}; fade out: {np.round(falling, 1)}")
    assert rising == sorted(rising) and falling == sorted(falling, reverse=True), (
        "the fades do not rise and fall"
    )
    start, end = music_db(samples, 0, 300) - steady, music_db(samples, total - 300, total) - steady
    assert -40 < start < -12, (
        f"the first 300 ms of music are {start:+.1f} dB against its steady level"
    )
    assert -40 < end < -12, f"the last 300 ms of music are {end:+.1f} dB against its steady level"


def test_music_ducks_under_speech(with_music: MusicBuild) -> None:
    """Under speech the music is about 12 dB (8 to 16) lower than in the gaps, and back up after."""
    steady = steady_level(with_music)
    ducked = [
        music_db(with_music.samples, s.start_ms, s.end_ms)
        for s in with_music.spans
        if s.kind == "speech"
        and s.duration_ms >= 400
        and FADE_MS <= s.start_ms
        and s.end_ms <= with_music.total_ms - FADE_MS
    ]
    assert len(ducked) >= 4, f"only {len(ducked)} phrases to measure the ducking under"
    depth = steady - float(np.median(ducked))
    print(
        f"ducking under {len(ducked)} phrases: {depth:.2f} dB (per phrase {np.round(steady - np.array(ducked), 1)})"
    )
    assert DUCK_MIN_DB <= depth <= DUCK_MAX_DB, (
        f"the music goes down by {depth:.1f} dB under speech"
    )


def test_music_level_option_moves_it_by_as_much(
    with_music: MusicBuild, quieter_music: MusicBuild
) -> None:
    """--music-level -14 puts the music 6 dB (within 1.5) further below speech than the default -8."""
    default = steady_level(with_music) - speech_level(with_music)
    quieter = steady_level(quieter_music) - speech_level(quieter_music)
    print(
        f"music against speech: {default:+.2f} dB at -8, {quieter:+.2f} dB at -14: {quieter - default:+.2f} dB"
    )
    assert abs((quieter - default) - -6.0) <= LEVEL_STEP_TOLERANCE_DB, (
        f"--music-level -14 moved the music {quieter - default:+.1f} dB against speech, not -6 dB"
    )


def test_music_sits_at_its_level_against_speech(with_music: MusicBuild) -> None:
    """Where nobody speaks, the music's RMS is --music-level (-8 dB) against the speech's, within 2 dB."""
    relative = steady_level(with_music) - speech_level(with_music)
    print(
        f"music in the gaps against speech: {relative:+.2f} dB (asked {DEFAULT_MUSIC_LEVEL_DB:+.0f} dB)"
    )
    assert abs(relative - DEFAULT_MUSIC_LEVEL_DB) <= LEVEL_TOLERANCE_DB, (
        f"the music sits {relative:+.1f} dB against speech; --music-level asks for {DEFAULT_MUSIC_LEVEL_DB:+.0f} dB"
    )


def test_tones_keep_their_times_with_music(with_music: MusicBuild) -> None:
    """Every tone is still heard within 30 ms of its time with the music under it (music band filtered
    out)."""
    # The tone finder asks for a window's energy to be nearly all at the tone's pitch; the music
    # (200 Hz, far from the 523 and 880 Hz tones) is taken out first, as an ear would tell it apart.
    spectrum = np.fft.rfft(with_music.samples.astype(np.float64))
    frequencies = np.fft.rfftfreq(len(with_music.samples), 1 / RATE)
    spectrum[(frequencies > MUSIC_HZ - 50) & (frequencies < MUSIC_HZ + 50)] = 0
    filtered = np.fft.irfft(spectrum, len(with_music.samples)).astype(np.float32)
    for tone in am.BUILT_IN_TONES:
        expected = [
            s.start_ms for s in with_music.spans if s.kind == "tone" and s.tone == tone.value
        ]
        heard = [t.onset_ms for t in am.find_tones(filtered, tone)]
        assert expected and len(heard) == len(expected), (
            f"{tone} tones: {len(expected)} planned, {len(heard)} heard"
        )
        errors = [found - planned for found, planned in zip(heard, expected, strict=True)]
        print(f"{tone} tones with music: worst error {max(errors, key=abs):+.1f} ms")
        assert max(abs(e) for e in errors) <= TONE_TOLERANCE_MS, (
            f"{tone} tones off their times by {errors} ms"
        )


@pytest.mark.parametrize("kind", ["not-audio", "silent"])
def test_unusable_music_is_refused(tmp_path: Path, plan_file: Path, kind: str) -> None:
    """Music that is not audio, or silent, is exit 2 with a message, no output and no file left open."""
    if kind == "not-audio":
        music = tmp_path / "notes.mp3"
        music.write_text("These are notes, not music.\n")
        expected = [str(music), "music"]
    else:
        music = tmp_path / "silence.wav"
        _ffmpeg("-f", "lavfi", "-i", "anullsrc=r=44100:cl=stereo", "-t", "2", str(music))
        expected = ["music", "silent"]
    output = tmp_path / "session.mp3"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        result = CliRunner().invoke(
            main, ["build", str(plan_file), "-o", str(output), "--music", str(music)]
        )
        exit_code, stderr, output_text = result.exit_code, result.stderr, result.output
        del result  # it holds the traceback, and with it whatever the failed build still had open
        gc.collect()
    assert exit_code == 2, f"exit {exit_code}: {output_text}"
    assert all(word in stderr for word in expected), stderr
    assert "Traceback" not in output_text
    assert sorted(p.name for p in tmp_path.iterdir()) == [music.name], (
        "a refused build left files behind"
    )
    leaked = [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)]
    assert not leaked, f"the refused build left files open: {leaked}"
