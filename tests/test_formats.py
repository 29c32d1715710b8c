"""Output formats, encoding options and --split, checked on the files as other programs read them.

A small plan is built through the command line in each format; the files are then probed and
decoded with the bundled ffmpeg and read with mutagen. Each build's timeline is the .json it wrote
beside the session (speech lengths drift by a few ms between engine runs in one process, so a
timeline from another run would not be the one that was mixed).
"""

from __future__ import annotations

import itertools
import json
import re
import struct
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import audio_measure as am
import mutagen
import pytest
from click.testing import CliRunner, Result

from voiceguide.cli.commands import main
from voiceguide.common.externals import ffmpeg_path

pytestmark = [pytest.mark.audio, pytest.mark.ffmpeg]

LENGTH_TOLERANCE_MS = 50
AAC_FRAME_SAMPLES = 1024
"""ffmpeg before 6.0 keeps an M4A's end padding when it decodes, up to one AAC frame: the session
starts on time and lasts longer by the padding (measured with Debian 12's ffmpeg 5.1)."""


def length_error_allowed(extension: str, sample_rate: int = 22_050) -> tuple[float, float]:
    """How far under and over the timeline's length a decoded file of this format may end, in ms."""
    padding = AAC_FRAME_SAMPLES * 1000 / sample_rate if extension in ("m4a", "aac") else 0
    return -LENGTH_TOLERANCE_MS, LENGTH_TOLERANCE_MS + padding


CHAPTER_TOLERANCE_MS = 30
PLAYLIST_TOLERANCE_S = 1.0
TITLE = "Formats check"
EXERCISES = ["Squeeze", "Reach up"]
PLAN = f"""\
title: {TITLE}
settings:
  rate: 190
  lead_in: 2
  rest_between_exercises: 3
  counting: none
exercises:
  - name: {EXERCISES[0]}
    instructions: Squeeze your hand.
    reps: 2
    hold: 2
    reset: 2
  - name: {EXERCISES[1]}
    hold: 3
"""
EXTENSIONS = ["mp3", "m4a", "ogg", "opus", "wav"]
CONTAINERS = {
    # extension: (what ffmpeg says the input is, its audio codec, how the file starts)
    "mp3": ("mp3", "mp3", lambda data: data.startswith(b"ID3")),
    "m4a": ("mov,mp4,m4a", "aac", lambda data: data[4:8] == b"ftyp"),
    "ogg": ("ogg", "opus", lambda data: data.startswith(b"OggS") and b"OpusHead" in data[:100]),
    "opus": ("ogg", "opus", lambda data: data.startswith(b"OggS") and b"OpusHead" in data[:100]),
    "wav": ("wav", "pcm_s16le", lambda data: data.startswith(b"RIFF") and data[8:12] == b"WAVE"),
}


@dataclass(frozen=True, slots=True)
class Built:
    output: Path
    result: Result
    arguments: list[str]

    @property
    def timeline(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(
            self.output.with_suffix(".json").read_text(encoding="utf-8")
        )
        return data

    @property
    def total_ms(self) -> float:
        return float(self.timeline["total"]) * 1000


def _invoke(arguments: list[str]) -> Result:
    return CliRunner().invoke(main, arguments)


@pytest.fixture(scope="module")
def plan_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("plan") / "formats-check.yaml"
    path.write_text(PLAN)
    return path


@pytest.fixture(scope="module")
def build(tmp_path_factory: pytest.TempPathFactory, plan_file: Path) -> Callable[..., Built]:
    """build(name, *options): `voiceguide build` of the plan into a folder of its own, once per
    arguments."""
    cache: dict[tuple[str, ...], Built] = {}

    def run(name: str, *options: str) -> Built:
        key = (name, *options)
        if key not in cache:
            output = tmp_path_factory.mktemp("build") / name
            arguments = ["build", str(plan_file), "-o", str(output), *options]
            result = _invoke(arguments)
            assert result.exit_code == 0, result.output
            cache[key] = Built(output, result, arguments)
        return cache[key]

    return run


def probe(path: Path) -> str:
    """What `ffmpeg -i FILE` says about a file (on stderr)."""
    result = subprocess.run(
        [ffmpeg_path(), "-hide_banner", "-i", str(path)], capture_output=True, text=True
    )
    return result.stderr


def ffmetadata(path: Path) -> tuple[dict[str, str], list[dict[str, Any]]]:
    """The global tags and the chapters (title, start_ms, end_ms) of `ffmpeg -i FILE -f ffmetadata -`."""
    command = [
        ffmpeg_path(),
        "-hide_banner",
        "-loglevel",
        "error",
        "-i",
        str(path),
        "-f",
        "ffmetadata",
        "-",
    ]
    result = subprocess.run(command, capture_output=True, text=True, check=True)
    tags: dict[str, str] = {}
    blocks: list[dict[str, str]] = []
    for line in result.stdout.splitlines()[1:]:
        if line == "[CHAPTER]":
            blocks.append({})
        elif "=" in line:
            key, value = line.split("=", 1)
            (blocks[-1] if blocks else tags)[key] = re.sub(r"\\(.)", r"\1", value)
    chapters = []
    for block in blocks:
        numerator, denominator = (int(part) for part in block["TIMEBASE"].split("/"))
        scale = 1000 * numerator / denominator
        chapters.append(
            {
                "title": block.get("title"),
                "start_ms": int(block["START"]) * scale,
                "end_ms": int(block["END"]) * scale,
            }
        )
    return tags, chapters


def section_starts(timeline: dict[str, Any]) -> list[tuple[str, float]]:
    """(title, first cue in ms) of the intro, each exercise and the closing, from a timeline's events."""
    cues = [e for e in timeline["events"] if e["kind"] != "silence"]
    starts = [("Introduction", cues[0]["start"] * 1000)]
    starts += [
        (name, next(e["start"] for e in cues if e["exercise"] == name) * 1000) for name in EXERCISES
    ]
    closing = next(e for e in cues if e["phase"] == "outro" and e["exercise"] is None)
    return [*starts, ("Closing", closing["start"] * 1000)]


def opus_input_rate(path: Path) -> int:
    """The input sample rate an Ogg Opus file's OpusHead records (Opus itself always decodes at 48
    kHz)."""
    data = path.read_bytes()[:4096]
    head = data.find(b"OpusHead")
    assert head >= 0, "no OpusHead packet"
    rate: int = struct.unpack("<I", data[head + 12 : head + 16])[0]
    return rate


# --- choosing the format
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("extension", EXTENSIONS)
def test_output_extension_chooses_the_format(build: Callable[..., Built], extension: str) -> None:
    """-o session.<ext> writes that container and codec (mp3, m4a/AAC, ogg and opus/Opus, wav/PCM)."""
    built = build(f"session.{extension}")
    container, codec, starts_right = CONTAINERS[extension]
    assert starts_right(built.output.read_bytes()[:100]), (
        f"{built.output.name} does not start like a {extension}"
    )
    said = probe(built.output)
    assert f"Input #0, {container}" in said and f"Audio: {codec}" in said, said


def test_format_option_and_extension_must_agree(plan_file: Path, tmp_path: Path) -> None:
    """--format m4a with a file named session.bin is refused before any work: an M4A would be
    written under a name that says otherwise (see test_output_checks.py for the messages)."""
    result = _invoke(
        ["build", str(plan_file), "-o", str(tmp_path / "session.bin"), "--format", "m4a"]
    )
    assert result.exit_code == 2, result.output
    assert "--format m4a writes M4A, whose files end in .m4a; name the output" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_format_option_names_the_default_output(
    plan_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without -o, --format opus writes output/<plan>.opus, an Ogg Opus file."""
    monkeypatch.chdir(tmp_path)
    result = _invoke(["build", str(plan_file), "--format", "opus", "--no-sidecars"])
    assert result.exit_code == 0, result.output
    written = tmp_path / "output" / "formats-check.opus"
    assert sorted(p.name for p in (tmp_path / "output").iterdir()) == [written.name]
    assert "Audio: opus" in probe(written)


# --- what every format holds
# -----------------------------------------------------------------------


@pytest.mark.parametrize("extension", EXTENSIONS)
def test_every_format_decodes_to_the_timelines_length(
    build: Callable[..., Built], extension: str
) -> None:
    """Each format decodes to the timeline's length within 50 ms (and an M4A's end padding, for an
    older ffmpeg)."""
    built = build(f"session.{extension}")
    decoded = am.duration_ms(am.decode(built.output))
    print(
        f"{extension}: decoded {decoded - built.total_ms:+.1f} ms off the timeline's {built.total_ms:.0f} ms"
    )
    under, over = length_error_allowed(extension)
    assert under <= decoded - built.total_ms <= over, (
        f"{extension} decodes to {decoded:.0f} ms for a timeline of {built.total_ms:.0f} ms"
    )


@pytest.mark.parametrize("extension", EXTENSIONS)
def test_tags_name_the_session(build: Callable[..., Built], extension: str) -> None:
    """The title (and artist) tags are in every format: read by mutagen, or by ffmpeg for WAV's INFO
    chunk."""
    built = build(f"session.{extension}")
    if extension == "wav":
        tags, _ = ffmetadata(built.output)  # mutagen reads only ID3 chunks in a WAV
        found = {"title": [tags.get("title")], "artist": [tags.get("artist")]}
    else:
        audio = mutagen.File(built.output, easy=True)
        assert audio is not None and audio.tags is not None, (
            f"mutagen finds no tags in {built.output.name}"
        )
        found = {key: list(audio.tags.get(key) or []) for key in ("title", "artist")}
    assert found == {"title": [TITLE], "artist": ["voiceguide"]}


@pytest.mark.parametrize("extension", ["m4a", "ogg", "opus"])
def test_chapters_in_m4a_and_ogg(build: Callable[..., Built], extension: str) -> None:
    """M4A and Ogg Opus files hold the chapters: named in order, each at its section's first cue (30
    ms), contiguous."""
    built = build(f"session.{extension}")
    _, chapters = ffmetadata(built.output)
    sections = section_starts(built.timeline)
    assert [c["title"] for c in chapters] == [title for title, _ in sections]
    assert chapters[0]["start_ms"] == 0
    offsets = [c["start_ms"] - cue for c, (_, cue) in zip(chapters[1:], sections[1:], strict=True)]
    print(f"{extension}: chapter start - first cue: {[round(o, 1) for o in offsets]} ms")
    assert all(abs(o) <= CHAPTER_TOLERANCE_MS for o in offsets), f"chapter offsets {offsets} ms"
    assert all(a["end_ms"] == b["start_ms"] for a, b in itertools.pairwise(chapters))
    assert abs(chapters[-1]["end_ms"] - built.total_ms) <= CHAPTER_TOLERANCE_MS


@pytest.mark.parametrize("extension", EXTENSIONS)
def test_an_unchanged_session_is_not_rebuilt(build: Callable[..., Built], extension: str) -> None:
    """Building the same plan with the same options again leaves the file as it is and says so."""
    built = build(f"session.{extension}")
    before = built.output.stat().st_mtime_ns
    again = _invoke(built.arguments)
    assert again.exit_code == 0, again.output
    assert again.stdout.startswith("Up to date:"), (
        f"{extension}: built again: {again.stdout.strip()}"
    )
    assert built.output.stat().st_mtime_ns == before


# --- encoding options
# ------------------------------------------------------------------------------


def test_bitrate_option_sets_the_bitrate(build: Callable[..., Built]) -> None:
    """--bitrate 32k makes a 32 kb/s MP3, about half the size of the default 64k one."""
    default, low = build("session.mp3"), build("low.mp3", "--bitrate", "32k")
    assert "64 kb/s" in probe(default.output) and "32 kb/s" in probe(low.output)
    ratio = low.output.stat().st_size / default.output.stat().st_size
    print(f"32k / 64k MP3 size ratio: {ratio:.3f}")
    assert 0.4 <= ratio <= 0.6, f"the 32k file is {ratio:.2f} times the 64k one"


def test_sample_rate_option_sets_the_rate(build: Callable[..., Built]) -> None:
    """--sample-rate 16000 makes a 16 kHz M4A that still lasts the timeline's length (and its end padding, for an
    older ffmpeg); the default is 22.05 kHz."""
    assert re.search(r"Audio: aac.*, 22050 Hz", probe(build("session.m4a").output))
    built = build("narrow.m4a", "--sample-rate", "16000")
    assert re.search(r"Audio: aac.*, 16000 Hz", probe(built.output)), probe(built.output)
    decoded = am.duration_ms(am.decode(built.output, sample_rate=16_000), 16_000)
    under, over = length_error_allowed("m4a", 16_000)
    assert under <= decoded - built.total_ms <= over, decoded - built.total_ms


def test_opus_takes_the_sample_rate_asked_or_the_nearest_above(build: Callable[..., Built]) -> None:
    """An Opus file records --sample-rate 16000 as its input rate, and 24000 for the session's 22050 by
    default."""
    assert opus_input_rate(build("session.opus").output) == 24_000
    assert opus_input_rate(build("narrow.opus", "--sample-rate", "16000").output) == 16_000


@pytest.mark.parametrize(
    ("name", "options", "named"),
    [
        ("session.mp3", ["--bitrate", "64"], "64"),
        ("session.m4a", ["--bitrate", "fast"], "fast"),
        ("session.opus", ["--sample-rate", "22050"], "22050"),
        ("session.opus", ["--bitrate", "999k"], "999k"),
        ("session.mp3", ["--sample-rate", "9000"], "9000"),
    ],
    ids=["bitrate-without-k", "bitrate-word", "opus-rate", "opus-bitrate-too-high", "mp3-rate"],
)
def test_bad_encoding_options_are_refused(
    plan_file: Path, tmp_path: Path, name: str, options: list[str], named: str
) -> None:
    """A bitrate or sample rate the format cannot take is exit 2, a message naming it, and no file."""
    output = tmp_path / name
    result = _invoke(["build", str(plan_file), "-o", str(output), *options])
    assert result.exit_code == 2, f"exit {result.exit_code}: {result.stderr.strip()}"
    assert named in result.stderr, f"the message does not name {named!r}: {result.stderr.strip()}"
    assert list(tmp_path.iterdir()) == []


# --- split
# -----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Entry:
    seconds: float
    title: str
    file: Path


@pytest.fixture(scope="module")
def split(build: Callable[..., Built]) -> tuple[Built, list[Entry]]:
    """`build --split -o .../parts.mp3` and the entries of the playlist it wrote."""
    built = build("parts.mp3", "--split")
    playlist = built.output.with_suffix(".m3u").read_text(encoding="utf-8").splitlines()
    assert playlist[0] == "#EXTM3U", playlist[:1]
    entries = []
    for info, name in zip(playlist[1::2], playlist[2::2], strict=True):
        found = re.fullmatch(r"#EXTINF:(-?\d+(?:\.\d+)?),(.+)", info)
        assert found, f"not an #EXTINF line: {info!r}"
        entries.append(Entry(float(found[1]), found[2], built.output.with_name(name)))
    return built, entries


def test_split_writes_a_file_per_section_in_order(split: tuple[Built, list[Entry]]) -> None:
    """--split writes one file per section, numbered in order, and a playlist listing them with their titles."""
    built, entries = split
    titles = ["Introduction", *EXERCISES, "Closing"]
    assert [e.title for e in entries] == [f"{n:02d} {t}" for n, t in enumerate(titles, start=1)]
    slugs = ["introduction", "squeeze", "reach-up", "closing"]
    assert [e.file.name for e in entries] == [
        f"parts-{n:02d}-{s}.mp3" for n, s in enumerate(slugs, start=1)
    ]
    on_disk = sorted(p.name for p in built.output.parent.glob("parts-*.mp3"))
    assert on_disk == [e.file.name for e in entries]
    for number, entry in enumerate(entries, start=1):
        tags = mutagen.File(entry.file, easy=True).tags
        assert tags["title"] == [entry.title] and tags["tracknumber"] == [
            f"{number}/{len(entries)}"
        ]


def test_split_parts_last_what_the_playlist_says(split: tuple[Built, list[Entry]]) -> None:
    """Each #EXTINF is its file's decoded length (1 s); the parts add up to the session, as do the
    #EXTINFs."""
    built, entries = split
    lengths = [am.duration_ms(am.decode(e.file)) / 1000 for e in entries]
    print(
        "parts (#EXTINF / decoded s): "
        + ", ".join(f"{e.seconds:g}/{n:.3f}" for e, n in zip(entries, lengths, strict=True))
    )
    for entry, length in zip(entries, lengths, strict=True):
        assert abs(entry.seconds - length) <= PLAYLIST_TOLERANCE_S, (
            f"{entry.file.name}: {entry.seconds} vs {length}"
        )
    total = built.total_ms / 1000
    assert abs(sum(lengths) - total) <= len(entries) * LENGTH_TOLERANCE_MS / 1000, (
        f"the parts last {sum(lengths):.3f} s together, the session {total:.3f} s"
    )
    listed = sum(e.seconds for e in entries)
    print(f"playlist total {listed:g} s, session {total:.3f} s")
    assert abs(listed - total) <= PLAYLIST_TOLERANCE_S, (
        f"the playlist adds up to {listed} s for a {total:.2f} s session"
    )
