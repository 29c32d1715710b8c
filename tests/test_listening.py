"""What a listener gets besides the cues' timing: chapters, loudness, even levels, beeps, sidecars.

Everything is measured on real files: the default session (built once, see conftest.py) and a few
small plans, built with build_session (which returns the exact timeline it mixed) or, where an
option is the subject, with the command line. Chapters are read the way players read them (mutagen
for ID3 CHAP/CTOC frames, ffmpeg's ffmetadata output), loudness with ffmpeg's EBU R128 meter.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import audio_measure as am
import numpy as np
import pytest
from audio_measure import ebur128
from click.testing import CliRunner
from mutagen.id3 import ID3, CTOCFlags

from voiceguide.build.session import RenderSettings, build_session, open_synthesizer
from voiceguide.cli.commands import main
from voiceguide.common.externals import ffmpeg_path
from voiceguide.output.export import AudioFormat, Encoding
from voiceguide.plans.loader import load_plan
from voiceguide.script.timeline import EventKind, Phase, Timeline

if TYPE_CHECKING:
    from conftest import BuiltSession

pytestmark = [pytest.mark.audio, pytest.mark.ffmpeg]

CHAPTER_TOLERANCE_MS = 30
TARGET_LUFS = -16.0
LOUDNESS_TOLERANCE_LU = 1.0
LOSSLESS_LOUDNESS_TOLERANCE_LU = 0.2
"""A WAV session has no codec between the tool's loudness measurement and ours: only the meter's
rounding."""
TRUE_PEAK_CEILING_DBTP = -1.0
LEVELLED_PHRASES_MIN_MS = 500
PHRASE_SPREAD_TOLERANCE_DB = {"espeak": 2.0, "piper": 2.5}
"""Largest difference between the loudest and quietest phrase (RMS over the whole phrase), by
engine: each tight enough that the engine's raw phrases would not pass. Measured in the default
session: 1.3 dB spoken by espeak-ng, whose raw phrases spread over 2.4 dB; 2.4 dB by Piper, whose
raw phrases spread over 8.5 dB (RMS over a whole phrase counts the pauses between its sentences,
which the levelling's loudness does not)."""
BEEP_TOLERANCE_DB = 2.0
"""Tone RMS against speech RMS, both as the tool defines them; the codec and the session limiter
account for well under 1 dB of it."""
BEEP_STEP_TOLERANCE_DB = 1.5

SMALL_PLAN = """\
title: Listening check
settings:
  rate: 180
  lead_in: 2
  rest_between_exercises: 3
  counting: none{extra}
exercises:
  - name: Squeeze
    instructions: Squeeze your hand.
    reps: 2
    hold: 3
    reset: 3
  - name: Reach
    instructions: Reach up high.
    hold: 3
"""
QUIET_BEEPS = "\n  beep_level: -12"


# --- reading the files
# -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReadChapter:
    title: str
    start_ms: float
    end_ms: float


def _ffmpeg(*arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [ffmpeg_path(), "-hide_banner", "-nostdin", *arguments],
        capture_output=True,
        text=True,
        check=False,
    )


def ffmpeg_chapters(path: Path) -> list[ReadChapter]:
    """The chapters as ffmpeg reads them: the [CHAPTER] blocks of `ffmpeg -i FILE -f ffmetadata -`."""
    result = _ffmpeg("-loglevel", "error", "-i", str(path), "-f", "ffmetadata", "-")
    assert result.returncode == 0, result.stderr
    chapters, block = [], None
    for line in result.stdout.splitlines():
        if line == "[CHAPTER]":
            block = {}
            chapters.append(block)
        elif block is not None and "=" in line:
            key, value = line.split("=", 1)
            block[key] = re.sub(r"\\(.)", r"\1", value)
    read = []
    for block in chapters:
        numerator, denominator = (int(part) for part in block["TIMEBASE"].split("/"))
        scale = 1000 * numerator / denominator
        read.append(
            ReadChapter(
                block.get("title", ""), int(block["START"]) * scale, int(block["END"]) * scale
            )
        )
    return read


def mutagen_chapters(path: Path) -> list[ReadChapter]:
    """The chapters as ID3 readers see them: the CHAP frames, in the order the table of contents lists
    them."""
    tags = ID3(path)
    tables = tags.getall("CTOC")
    assert len(tables) == 1, f"expected one CTOC frame, found {len(tables)}"
    frames = {frame.element_id: frame for frame in tags.getall("CHAP")}
    read = []
    for element_id in tables[0].child_element_ids:
        frame = frames[element_id]
        title = frame.sub_frames["TIT2"].text[0] if "TIT2" in frame.sub_frames else ""
        read.append(ReadChapter(title, frame.start_time, frame.end_time))
    return read


READERS = {"mutagen": mutagen_chapters, "ffmpeg": ffmpeg_chapters}


# --- what the timeline says
# ------------------------------------------------------------------------


def section_starts(timeline: Timeline, exercise_names: list[str]) -> list[tuple[str, int]]:
    """(title, first cue) of the intro, each exercise in plan order and the closing."""
    cues = [e for e in timeline.events if e.kind is not EventKind.SILENCE]
    starts = [("Introduction", cues[0].start_ms)]
    for name in exercise_names:
        starts.append((name, next(e.start_ms for e in cues if e.where.exercise == name)))
    closing = [e for e in cues if e.phase is Phase.OUTRO and e.where.exercise is None]
    starts.append(("Closing", closing[0].start_ms))
    return starts


def phrase_levels(samples: np.ndarray, timeline: Timeline, rate: int) -> dict[str, float]:
    """Median RMS (dBFS) of each distinct phrase over its whole events: what the tool levels."""
    levels: dict[str, list[float]] = {}
    for event in timeline.events:
        if (
            event.kind is EventKind.SPEECH
            and event.duration_ms > LEVELLED_PHRASES_MIN_MS
            and not event.clipped_ms
        ):
            assert event.text is not None
            levels.setdefault(event.text, []).append(
                am.level_dbfs(samples, event.start_ms, event.end_ms, rate)
            )
    return {text: float(np.median(values)) for text, values in levels.items()}


def beeps_against_speech(samples: np.ndarray, timeline: Timeline, rate: int) -> float:
    """Median tone RMS minus median phrase RMS, in dB, after checking every tone was found."""
    found = []
    for tone in am.BUILT_IN_TONES:
        heard = am.find_tones(samples, tone, sample_rate=rate)
        expected = sum(e.tone is tone for e in timeline.events)
        assert len(heard) == expected, (
            f"{tone} tones: {expected} in the timeline, {len(heard)} heard"
        )
        found += heard
    speech = np.median(list(phrase_levels(samples, timeline, rate).values()))
    return float(np.median([t.level_dbfs for t in found]) - speech)


# --- small plans, built once ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SmallBuild:
    output: Path
    timeline: Timeline
    """The timeline the build itself used (speech lengths drift slightly between engine runs in one
    process)."""
    samples: np.ndarray


def _small_build(
    folder: Path,
    *,
    name: str,
    extra: str = "",
    loudness: float = -20.0,
    audio_format: AudioFormat = AudioFormat.MP3,
) -> SmallBuild:
    """The small plan built through build_session, which returns the exact timeline it mixed."""
    plan_file = folder / "listening.yaml"
    plan_file.write_text(SMALL_PLAN.format(extra=extra))
    output = folder / name
    settings = RenderSettings(
        loudness_lufs=loudness, sidecars=False, encoding=Encoding(format=audio_format)
    )
    result = build_session(plan=load_plan(plan_file), output=output, settings=settings)
    assert result.timeline is not None
    return SmallBuild(output, result.timeline, am.decode(output))


@pytest.fixture(scope="module")
def at_minus_20(tmp_path_factory: pytest.TempPathFactory) -> SmallBuild:
    """The small plan at RenderSettings(loudness_lufs=-20), default beep level."""
    return _small_build(tmp_path_factory.mktemp("minus-20"), name="small.mp3")


@pytest.fixture(scope="module")
def quiet_beeps(tmp_path_factory: pytest.TempPathFactory) -> SmallBuild:
    """The same plan with beep_level -12, also at -20 LUFS."""
    return _small_build(tmp_path_factory.mktemp("quiet-beeps"), name="quiet.mp3", extra=QUIET_BEEPS)


def _voiceguide(*arguments: str, cache: Path | None = None) -> subprocess.CompletedProcess[str]:
    """The command as a user runs it: a fresh process, so the speech engine starts from scratch;
    with the speech cache in *cache* (by default, the test run's)."""
    environment = dict(os.environ, VOICEGUIDE_CACHE_DIR=str(cache)) if cache else None
    return subprocess.run(
        [sys.executable, "-m", "voiceguide", *arguments],
        capture_output=True,
        text=True,
        check=False,
        env=environment,
    )


@pytest.fixture(scope="module")
def cli_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`voiceguide build` of the small plan with --rate 170 --loudness -20 (sidecars on); the session's
    path."""
    folder = tmp_path_factory.mktemp("cli")
    plan_file = folder / "listening.yaml"
    plan_file.write_text(SMALL_PLAN.format(extra=""))
    output = folder / "small.mp3"
    # (a speech cache of its own, which the previews of the same plan read: in the test run's,
    # other tests' clips could push these out, and espeak-ng may make a phrase again a
    # millisecond longer or shorter)
    result = _voiceguide(
        "build", str(plan_file), "-o", str(output), "--rate", "170", "--loudness", "-20",
        cache=folder / "cache",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return output


# --- chapters
# --------------------------------------------------------------------------------------


def test_mp3_chapter_table_is_top_level_ordered_and_in_time_order(
    default_session: BuiltSession,
) -> None:
    """The MP3 has one CTOC (TOP_LEVEL|ORDERED) listing every CHAP frame, in time order."""
    tags = ID3(default_session.result.path)
    (table,) = tags.getall("CTOC")
    assert table.flags == CTOCFlags.TOP_LEVEL | CTOCFlags.ORDERED, f"CTOC flags are {table.flags!r}"
    chapters = {frame.element_id: frame for frame in tags.getall("CHAP")}
    assert sorted(table.child_element_ids) == sorted(chapters), (
        f"CTOC lists {table.child_element_ids}, the CHAP frames are {sorted(chapters)}"
    )
    by_time = sorted(chapters, key=lambda element_id: chapters[element_id].start_time)
    assert table.child_element_ids == by_time, (
        f"CTOC order {table.child_element_ids}, time order {by_time}"
    )


@pytest.mark.parametrize("reader", list(READERS))
def test_chapters_are_intro_exercises_and_closing_in_order(
    default_session: BuiltSession, reader: str
) -> None:
    """One chapter for the intro, one per exercise (named, in plan order) and one for the closing, in
    time order."""
    chapters = READERS[reader](default_session.result.path)
    expected = [
        "Introduction",
        *(exercise.name for exercise in default_session.plan.exercises),
        "Closing",
    ]
    assert [c.title for c in chapters] == expected
    starts = [c.start_ms for c in chapters]
    assert starts == sorted(starts) and len(set(starts)) == len(starts), (
        f"chapter starts out of order: {starts}"
    )


@pytest.mark.parametrize("reader", list(READERS))
def test_each_chapter_starts_at_the_first_cue_of_its_section(
    default_session: BuiltSession, reader: str
) -> None:
    """Every chapter after the first starts within 30 ms of its section's first cue; the first at 0."""
    chapters = READERS[reader](default_session.result.path)
    sections = section_starts(
        default_session.result.timeline, [e.name for e in default_session.plan.exercises]
    )
    assert [c.title for c in chapters] == [title for title, _ in sections]
    assert chapters[0].start_ms == 0
    offsets = [
        (chapter.start_ms - cue, chapter.title)
        for chapter, (_, cue) in zip(chapters[1:], sections[1:], strict=True)
    ]
    print(
        f"{reader}: chapter start - first cue: "
        + ", ".join(f"{title} {off:+.0f} ms" for off, title in offsets)
    )
    worst, title = max(offsets, key=lambda item: abs(item[0]))
    assert abs(worst) <= CHAPTER_TOLERANCE_MS, (
        f"{reader} reads the chapter {title!r} {worst:+.0f} ms from its first cue "
        f"(all: {[round(o) for o, _ in offsets]} ms; tolerance {CHAPTER_TOLERANCE_MS} ms)"
    )


@pytest.mark.parametrize("reader", list(READERS))
def test_chapters_cover_the_session_contiguously(
    default_session: BuiltSession, reader: str
) -> None:
    """Chapters start at 0, each ends where the next starts, and the last ends with the audio (30 ms)."""
    chapters = READERS[reader](default_session.result.path)
    assert chapters[0].start_ms == 0
    gaps = [
        (a.title, a.end_ms, b.start_ms)
        for a, b in itertools.pairwise(chapters)
        if a.end_ms != b.start_ms
    ]
    assert not gaps, f"chapters that do not end where the next starts: {gaps}"
    decoded = am.duration_ms(default_session.samples, default_session.sample_rate)
    print(
        f"{reader}: last chapter ends {chapters[-1].end_ms - decoded:+.0f} ms from the end of the audio"
    )
    assert abs(chapters[-1].end_ms - decoded) <= CHAPTER_TOLERANCE_MS, (
        f"{reader}: the last chapter ends at {chapters[-1].end_ms:.0f} ms, the audio at {decoded:.0f} ms"
    )


# --- loudness
# --------------------------------------------------------------------------------------


def test_each_engine_session_is_at_minus_16_lufs_with_headroom(
    each_engine_session: BuiltSession,
) -> None:
    """The default session measures -16 LUFS integrated (within 1 LU) with a true peak at or below -1
    dBTP."""
    integrated, true_peak = ebur128(each_engine_session.result.path)
    print(f"default session: {integrated:.1f} LUFS integrated, true peak {true_peak:.1f} dBTP")
    assert abs(integrated - TARGET_LUFS) <= LOUDNESS_TOLERANCE_LU, (
        f"integrated loudness {integrated} LUFS"
    )
    assert true_peak <= TRUE_PEAK_CEILING_DBTP, f"true peak {true_peak} dBTP"


def test_loudness_option_sets_another_target(cli_build: Path) -> None:
    """`build --loudness -20` gives a session of -20 LUFS within 1 LU, its true peak under -1 dBTP."""
    integrated, true_peak = ebur128(cli_build)
    print(f"--loudness -20: {integrated:.1f} LUFS, true peak {true_peak:.1f} dBTP")
    assert abs(integrated - -20.0) <= LOUDNESS_TOLERANCE_LU, (
        f"integrated loudness {integrated} LUFS"
    )
    assert true_peak <= TRUE_PEAK_CEILING_DBTP


@pytest.mark.parametrize("target", [-16.0, -20.0])
def test_lossless_session_lands_on_its_target(tmp_path: Path, target: float) -> None:
    """A WAV session (no codec in the way) measures its loudness target within 0.2 LU."""
    build = _small_build(tmp_path, name="small.wav", loudness=target, audio_format=AudioFormat.WAV)
    integrated, _ = ebur128(build.output)
    print(f"WAV at {target} LUFS: measured {integrated:.1f} LUFS")
    assert abs(integrated - target) <= LOSSLESS_LOUDNESS_TOLERANCE_LU, (
        f"asked for {target} LUFS, the WAV measures {integrated} LUFS ({integrated - target:+.1f} LU)"
    )


# --- even levels
# -----------------------------------------------------------------------------------


def test_every_phrase_is_equally_loud(each_engine_session: BuiltSession) -> None:
    """The RMS of every distinct phrase (over 0.5 s) lies within 2 dB (espeak-ng) or 2.5 dB (Piper),
    where the engine's raw output does not."""
    levels = phrase_levels(
        each_engine_session.samples,
        each_engine_session.result.timeline,
        each_engine_session.sample_rate,
    )
    assert len(levels) > 30, f"only {len(levels)} phrases of more than {LEVELLED_PHRASES_MIN_MS} ms"
    quietest, loudest = min(levels, key=levels.__getitem__), max(levels, key=levels.__getitem__)
    spread = levels[loudest] - levels[quietest]
    # The same phrases straight from the speech engine: the tolerance must be tight enough to catch
    # them.
    with open_synthesizer(each_engine_session.plan, each_engine_session.settings) as synthesizer:
        raw = [synthesizer.clip(text).dBFS for text in levels]
    raw_spread = max(raw) - min(raw)
    print(
        f"{len(levels)} phrases: levelled spread {spread:.2f} dB (std {np.std(list(levels.values())):.2f}), "
        f"unlevelled {each_engine_session.plan.engine or 'espeak'} spread {raw_spread:.2f} dB (std {np.std(raw):.2f})"
    )
    tolerance = PHRASE_SPREAD_TOLERANCE_DB[each_engine_session.plan.engine or "espeak"]
    assert spread <= tolerance, (
        f"phrase levels spread over {spread:.1f} dB: {quietest!r} at {levels[quietest]:.1f} dBFS, "
        f"{loudest!r} at {levels[loudest]:.1f} dBFS"
    )
    assert raw_spread > tolerance, "unlevelled speech would pass this test too: it proves nothing"


def test_beeps_sit_at_the_beep_level_below_speech(each_engine_session: BuiltSession) -> None:
    """Tones measure the default beep_level (-3 dB) against the median phrase, within 2 dB."""
    relative = beeps_against_speech(
        each_engine_session.samples,
        each_engine_session.result.timeline,
        each_engine_session.sample_rate,
    )
    expected = each_engine_session.plan.beep_level_db
    print(f"tones against speech: {relative:+.2f} dB (beep_level {expected} dB)")
    assert abs(relative - expected) <= BEEP_TOLERANCE_DB, (
        f"tones sound {relative:+.1f} dB against speech; beep_level asks for {expected:+.1f} dB"
    )


def test_lower_beep_level_makes_tones_quieter_by_as_much(
    at_minus_20: SmallBuild, quiet_beeps: SmallBuild
) -> None:
    """beep_level -12 puts tones 9 dB further below speech than the default -3 (within 1.5 dB)."""
    # The same script (its times may differ by a few ms: the engine drifts between runs in one
    # process).
    assert [e.text or e.tone for e in quiet_beeps.timeline.events] == [
        e.text or e.tone for e in at_minus_20.timeline.events
    ]
    default = beeps_against_speech(at_minus_20.samples, at_minus_20.timeline, am.DEFAULT_RATE)
    quiet = beeps_against_speech(quiet_beeps.samples, quiet_beeps.timeline, am.DEFAULT_RATE)
    print(
        f"tones against speech: {default:+.2f} dB at beep_level -3, {quiet:+.2f} dB at -12: {quiet - default:+.2f}"
    )
    assert abs((quiet - default) - -9.0) <= BEEP_STEP_TOLERANCE_DB, (
        f"beep_level -12 moved the tones {quiet - default:+.1f} dB against speech, not -9 dB"
    )


# --- sidecars
# --------------------------------------------------------------------------------------

VTT_TIME = r"(\d{2}):([0-5]\d):([0-5]\d)\.(\d{3})"
VTT_TIMING = re.compile(rf"^{VTT_TIME} --> {VTT_TIME}$")


def _vtt_ms(hours: str, minutes: str, seconds: str, millis: str) -> int:
    return ((int(hours) * 60 + int(minutes)) * 60 + int(seconds)) * 1000 + int(millis)


def test_vtt_captions_every_cue_at_its_time(default_session: BuiltSession) -> None:
    """<name>.vtt is WebVTT with one cue per speech event (its text) and per tone, at their timeline
    times."""
    vtt = default_session.result.path.with_suffix(".vtt").read_text(encoding="utf-8")
    assert vtt.startswith("WEBVTT\n\n"), f"not a WebVTT header: {vtt[:40]!r}"
    cues = []
    for block in vtt.strip().split("\n\n")[1:]:
        lines = block.split("\n")
        if lines[0] == "NOTE" or lines[0].startswith("NOTE "):
            continue
        timing = VTT_TIMING.match(lines[0])
        assert timing, f"bad cue timing line {lines[0]!r}"
        start, end = _vtt_ms(*timing.groups()[:4]), _vtt_ms(*timing.groups()[4:])
        assert end > start, f"a cue that ends before it starts: {lines[0]}"
        assert len(lines) > 1 and all(line and "-->" not in line for line in lines[1:]), (
            f"bad cue text {lines}"
        )
        cues.append((start, end, "\n".join(lines[1:])))
    events = [e for e in default_session.result.timeline.events if e.kind is not EventKind.SILENCE]
    assert len(cues) == len(events), (
        f"{len(cues)} captions for {len(events)} speech and tone events"
    )
    for (start, end, text), event in zip(cues, events, strict=True):
        assert (start, end) == (event.start_ms, event.end_ms), (
            f"caption {text!r} at {start}-{end} ms, event {event}"
        )
        if event.kind is EventKind.SPEECH:
            assert text == event.text
        else:
            assert event.tone is not None and event.tone.value in text and "tone" in text, (
                f"tone caption {text!r}"
            )


def test_json_sidecar_is_what_preview_prints(cli_build: Path) -> None:
    """build's <name>.json holds the events `voiceguide preview --json` prints for the same plan and
    options."""
    sidecar = json.loads(cli_build.with_suffix(".json").read_text(encoding="utf-8"))
    plan_file = str(cli_build.with_name("listening.yaml"))
    cache = cli_build.parent / "cache"
    same = _voiceguide("preview", plan_file, "--json", "--rate", "170", cache=cache)
    plain = _voiceguide("preview", plan_file, "--json", cache=cache)
    assert same.returncode == 0 and plain.returncode == 0, same.stderr + plain.stderr
    printed = json.loads(same.stdout)
    assert sidecar["events"] == printed["events"]
    assert (sidecar["title"], sidecar["total"]) == (printed["title"], printed["total"])
    # The options reach the sidecar: at the plan's own rate (180) the session is shorter.
    assert json.loads(plain.stdout)["total"] < sidecar["total"]


def test_txt_sidecar_is_the_printable_script(default_session: BuiltSession) -> None:
    """<name>.txt starts with the title, quotes every phrase in order and ends with the total length."""
    text = default_session.result.path.with_suffix(".txt").read_text(encoding="utf-8")
    lines = text.splitlines()
    timeline = default_session.result.timeline
    assert lines[0].startswith(f"{default_session.plan.title}: "), lines[0]
    minutes, rest = divmod(timeline.total_ms, 60_000)
    assert lines[-1].startswith(f"Total: {minutes}:{rest / 1000:04.1f} "), lines[-1]
    positions = [text.find(f'"{phrase}"') for phrase in timeline.phrases()]
    missing = [phrase for phrase, at in zip(timeline.phrases(), positions, strict=True) if at < 0]
    assert not missing, f"phrases not in the script: {missing}"
    assert positions == sorted(positions), "the script does not follow the session's order"


def test_no_sidecars_option_writes_none(tmp_path: Path) -> None:
    """`build --no-sidecars` writes the session and no .vtt, .json or .txt."""
    plan_file = tmp_path / "listening.yaml"
    plan_file.write_text(SMALL_PLAN.format(extra=""))
    output = tmp_path / "small.mp3"
    result = CliRunner().invoke(main, ["build", str(plan_file), "-o", str(output), "--no-sidecars"])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["listening.yaml", "small.mp3"]


@pytest.mark.parametrize(
    ("name", "options"),
    [("music.mp3", ["--music", "{plan}"]), ("session.opus", ["--bitrate", "999k"])],
    ids=["music-not-audio", "encoder-rejects-bitrate"],
)
def test_failed_build_leaves_no_sidecars(tmp_path: Path, name: str, options: list[str]) -> None:
    """A build that fails (bad music, an encoder error) leaves no session, sidecars or temporary files."""
    plan = tmp_path / "listening.yaml"
    plan.write_text(SMALL_PLAN.format(extra=""))
    output = tmp_path / name
    arguments = [option.format(plan=plan) for option in options]
    result = CliRunner().invoke(main, ["build", str(plan), "-o", str(output), *arguments])
    assert result.exit_code in (1, 2), f"exit {result.exit_code}: {result.output}"
    assert "Traceback" not in result.output
    left = sorted(p.name for p in tmp_path.iterdir() if p != plan)
    assert left == [], f"a failed build left {left}"
