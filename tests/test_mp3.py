"""MP3 encoded in parts at once (voiceguide/output/mp3.py): the joined stream decodes to every sample
in its place, the Info tag says what decoders need, and the checksums agree with ffmpeg's.

Everything is checked on real LAME output decoded by ffmpeg, as a player would decode it."""

from __future__ import annotations

import random
import struct
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from audio_measure import decode
from mutagen.mp3 import MP3

from voiceguide.common.externals import ffmpeg_path
from voiceguide.output import mp3
from voiceguide.output.export import Chapter, Encoding, Source, Tags, write_audio

RATE = 22_050
LAYOUT = mp3.Layout(sample_rate=RATE, kbps=64)

pytestmark = pytest.mark.ffmpeg


def bitwise_crc16(data: bytes, crc: int = 0) -> int:
    """CRC-16/ARC one bit at a time, as its definition reads."""
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return crc


@pytest.mark.parametrize("size", [0, 1, 255, 4095, 4096, 4097, 70_001])
def test_crc16_is_crc16_arc_from_any_start(size: int) -> None:
    rng = random.Random(size)
    data = rng.randbytes(size)
    start = rng.randrange(65536)
    assert mp3.crc16(data) == bitwise_crc16(data)
    assert mp3.crc16(data, start) == bitwise_crc16(data, start)


def test_crc16_advance_joins_two_crcs() -> None:
    rng = random.Random(7)
    first, second = rng.randbytes(5000), rng.randbytes(12_345)
    joined = mp3.crc16_advance(mp3.crc16(first), len(second)) ^ mp3.crc16(second)
    assert joined == bitwise_crc16(first + second)


def bursts(
    seconds: int, every_s: float = 3.0, burst_s: float = 0.5, rate: int = RATE
) -> tuple[np.ndarray, list[int]]:
    """A 440 Hz burst every *every_s* seconds, silence between; and where each burst starts."""
    samples = np.zeros(rate * seconds, dtype=np.int16)
    onsets = []
    t = np.arange(int(rate * burst_s)) / rate
    wave = (np.sin(2 * np.pi * 440 * t) * 12_000).astype(np.int16)
    for start in range(rate // 2, len(samples) - len(wave), int(rate * every_s)):
        samples[start : start + len(wave)] = wave
        onsets.append(start)
    return samples, onsets


def silences_of(samples: np.ndarray) -> list[tuple[int, int]]:
    silent = np.concatenate([[0], (samples == 0).astype(np.int8), [0]])
    edges = np.flatnonzero(np.diff(silent))
    return [(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2], strict=True)]


def reader(samples: np.ndarray) -> mp3.Reader:
    def read(start: int, end: int) -> Iterator[bytes]:
        for first in range(start, end, 200_000):
            yield samples[first : min(end, first + 200_000)].tobytes()

    return read


def encoded(
    tmp_path: Path, samples: np.ndarray, parts: int, name: str, layout: mp3.Layout = LAYOUT
) -> Path:
    path = tmp_path / name
    with path.open("wb") as sink:
        mp3.encode(
            reader(samples),
            len(samples),
            sink,
            layout=layout,
            cuts=mp3.cut_points(silences_of(samples), len(samples), parts, layout),
            scale=1.0,
            scratch=tmp_path,
        )
    return path


def first_sound(decoded: np.ndarray, onsets: list[int], rate: int) -> list[int]:
    """Where each burst begins in *decoded*: the first sample above -40 dBFS near its onset."""
    found = []
    for onset in onsets:
        window = decoded[onset - rate // 10 : onset + rate // 10]
        found.append(onset - rate // 10 + int(np.argmax(np.abs(window) > 0.01)))
    return found


@pytest.mark.parametrize(
    "layout",
    [LAYOUT, mp3.Layout(sample_rate=8_000, kbps=24), mp3.Layout(sample_rate=44_100, kbps=96)],
    ids=["MPEG-2", "MPEG-2.5", "MPEG-1"],
)
def test_parts_decode_to_every_sample_in_its_place(tmp_path: Path, layout: mp3.Layout) -> None:
    """Encoded in three parts or in one, the session decodes to its exact length, each burst
    starts where it starts in the input, and the joins are silent."""
    rate = layout.sample_rate
    samples, onsets = bursts(90, rate=rate)
    cuts = mp3.cut_points(silences_of(samples), len(samples), 3, layout)
    assert len(cuts) == 2
    whole = decode(encoded(tmp_path, samples, 1, "whole.mp3", layout), rate)
    parts = decode(encoded(tmp_path, samples, 3, "parts.mp3", layout), rate)
    assert len(whole) == len(parts) == len(samples)
    assert first_sound(parts, onsets, rate) == first_sound(whole, onsets, rate)
    assert all(
        abs(found - onset) <= 2
        for found, onset in zip(first_sound(parts, onsets, rate), onsets, strict=True)
    )
    for cut in cuts:
        join = parts[cut - 1152 - rate // 20 : cut + rate // 20]
        assert np.abs(join).max() < 1e-3, f"sound at the join at {cut}"
    # Away from the joins the two encodes are the same music: their difference is far below it.
    difference = parts.astype(np.float64) - whole
    assert 10 * np.log10(np.sum(whole.astype(np.float64) ** 2) / np.sum(difference**2)) > 25


def info_tag(path: Path) -> tuple[bytes, int]:
    """The Info frame of an MP3 (after its ID3 tag) and where "Info" starts in it."""
    data = path.read_bytes()
    start = (
        10 + (data[6] << 21 | data[7] << 14 | data[8] << 7 | data[9]) if data[:3] == b"ID3" else 0
    )
    frame = data[start : start + 2000]
    return frame, frame.index(b"Info")


@pytest.mark.parametrize("kbps", [64, 8])  # at 8k the tag needs a frame of a higher bitrate
def test_the_info_tag_tells_decoders_the_length_and_checks_out(tmp_path: Path, kbps: int) -> None:
    samples, _ = bursts(75)
    layout = mp3.Layout(sample_rate=RATE, kbps=kbps)
    path = encoded(tmp_path, samples, 2, "tagged.mp3", layout)
    info = MP3(path).info
    assert round(info.length * RATE) == len(samples)  # mutagen takes delay and padding off too
    assert len(decode(path)) == len(samples)
    frame, at = info_tag(path)
    frames, total = struct.unpack(">II", frame[at + 8 : at + 16])
    assert total == path.stat().st_size
    assert frames * 576 - 576 - (int.from_bytes(frame[at + 141 : at + 144], "big") & 0xFFF) == len(
        samples
    )
    assert frame[at + 120 : at + 124] == b"LAME"  # ffmpeg reads the delay only after this name
    (music_crc, tag_crc) = struct.unpack(">HH", frame[at + 152 : at + 156])
    info_bytes = len(layout.info_frame(frames=0, audio_bytes=0, music_crc=0, padding=0))
    audio = path.read_bytes()[info_bytes:]
    assert music_crc == bitwise_crc16(audio)
    assert tag_crc == bitwise_crc16(frame[: at + 154])


def test_the_music_crc_is_the_one_ffmpeg_writes(tmp_path: Path) -> None:
    """ffmpeg's own MP3 muxer stores the CRC of its audio frames; ours computes the same of them."""
    samples, _ = bursts(20)
    raw = tmp_path / "in.pcm"
    raw.write_bytes(samples.tobytes())
    made = tmp_path / "ffmpeg.mp3"
    subprocess.run(
        [ffmpeg_path(), "-v", "error", "-f", "s16le", "-ar", str(RATE), "-ac", "1", "-i", str(raw),
         "-c:a", "libmp3lame", "-b:a", "64k", "-id3v2_version", "0", str(made)],
        check=True,
    )  # fmt: skip
    frame, at = info_tag(made)
    size = int(LAYOUT.frame_bytes(64))
    assert mp3.crc16(made.read_bytes()[size:]) == struct.unpack(">H", frame[at + 152 : at + 154])[0]


def test_cuts_fall_on_frames_in_silence_with_room_on_both_sides() -> None:
    samples, _ = bursts(120)
    silences = silences_of(samples)
    cuts = mp3.cut_points(silences, len(samples), 4, LAYOUT)
    assert len(cuts) == 3 and cuts == sorted(cuts)
    margin = RATE * mp3.JOIN_SILENCE_MS // 1000
    for cut in cuts:
        assert cut % 576 == 0
        assert any(start <= cut - 1152 - margin and cut + margin <= end for start, end in silences)
    assert mp3.cut_points([], len(samples), 4, LAYOUT) == []  # no silence: one part
    short = RATE * mp3.SHORTEST_PART_SECONDS
    assert (
        mp3.cut_points(silences_of(samples[:short]), short, 2, LAYOUT) == []
    )  # too short to share


def tone_source(seconds: int) -> Source:
    samples, _ = bursts(seconds)
    return Source(
        sample_rate=RATE, frames=len(samples), read=reader(samples), silences=silences_of(samples)
    )


def test_a_failing_part_stops_the_others_and_leaves_nothing(tmp_path: Path) -> None:
    """An error in any part reaches the caller as it is; no session and no part file is left."""
    good = tone_source(60)

    def failing(start: int, end: int) -> Iterator[bytes]:
        yield from good.read(start, min(end, start + RATE * 10))
        if start > 0:
            raise OSError(28, "No space left on device")
        yield from good.read(start + RATE * 10, end)

    source = Source(sample_rate=RATE, frames=good.frames, read=failing, silences=good.silences)
    with pytest.raises(Exception, match="disk is full"):
        write_audio(source, tmp_path / "s.mp3", encoding=Encoding(), tags=Tags(title="t", artist="a", album="b"),
                    cores=2)  # fmt: skip
    assert list(tmp_path.iterdir()) == []


def test_mp3s_keep_their_tags_and_chapters_as_ffmpeg_wrote_them(tmp_path: Path) -> None:
    """The same ID3 frames whichever encoder made the file (lameenc, or ffmpeg behind the limiter)."""
    tags = Tags(
        title="Füße, week 2", artist="voiceguide", album="Füße", comment="made", track="1/3"
    )
    chapters = [Chapter(title="Intro", start_ms=0, end_ms=20_000), Chapter(title="Zehen", start_ms=20_000,
                end_ms=60_000)]  # fmt: skip
    frames = {}
    for limit in (False, True):
        path = tmp_path / f"{limit}.mp3"
        write_audio(tone_source(60), path, encoding=Encoding(), tags=tags, chapters=chapters,
                    limit_dbtp=-2.5 if limit else None, cores=2)  # fmt: skip
        id3 = MP3(path).tags
        assert id3 is not None
        frames[limit] = {key: repr(frame) for key, frame in id3.items()}
        frames[limit].pop("TSSE", None)  # ffmpeg names itself
    assert frames[False] == frames[True]
    assert set(frames[False]) == {
        "TIT2",
        "TPE1",
        "TALB",
        "TXXX:comment",
        "TRCK",
        "CTOC:toc",
        "CHAP:ch0",
        "CHAP:ch1",
    }


@pytest.mark.parametrize(
    ("encoding", "lame"),
    [
        (Encoding(), True),
        (Encoding(bitrate="96k"), True),
        (Encoding(bitrate="320k"), False),  # no MPEG-2 frame at 22.05 kHz holds 320k
        (Encoding(sample_rate=44_100), False),  # resampled by ffmpeg
        (Encoding(sample_rate=22_050, bitrate="32k"), True),
    ],
)
def test_what_ffmpeg_still_encodes_decodes_to_the_same_length(
    tmp_path: Path, encoding: Encoding, lame: bool
) -> None:
    from voiceguide.output.export import _lame_layout

    assert (_lame_layout(encoding, RATE) is not None) is lame
    source = tone_source(30)
    path = tmp_path / "s.mp3"
    write_audio(
        source, path, encoding=encoding, tags=Tags(title="t", artist="a", album="b"), cores=2
    )
    assert (
        len(decode(path, encoding.sample_rate or RATE))
        == source.frames * (encoding.sample_rate or RATE) // RATE
    )


def test_an_interrupt_while_parts_are_encoding_leaves_nothing(tmp_path: Path) -> None:
    """Ctrl-C reaches the main thread, which waits on the parts: they stop, and no session and no
    part file is left."""
    calls = []

    def interrupt(done: int, total: int) -> None:
        calls.append(done)
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_audio(tone_source(120), tmp_path / "s.mp3", encoding=Encoding(),
                    tags=Tags(title="t", artist="a", album="b"), cores=2, progress=interrupt)  # fmt: skip
    assert calls and list(tmp_path.iterdir()) == []


def test_without_lameenc_ffmpeg_encodes_the_mp3(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where lameenc has no wheel it is not installed: ffmpeg then encodes MP3s, as exactly."""
    monkeypatch.setitem(sys.modules, "lameenc", None)
    source = tone_source(30)
    path = tmp_path / "s.mp3"
    write_audio(
        source, path, encoding=Encoding(), tags=Tags(title="t", artist="a", album="b"), cores=2
    )
    assert len(decode(path)) == source.frames
    tags = MP3(path).tags
    assert tags is not None and str(tags["TSSE"]).startswith("Lavf")  # ffmpeg's muxer names itself
