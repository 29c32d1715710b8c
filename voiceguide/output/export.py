"""Write session files (MP3, M4A, Ogg Opus or WAV) with tags and chapters, atomically.

Every file is written to a temporary file in the destination folder, and only a complete file is
renamed into place: a failed or interrupted run leaves no partial file and any existing session
untouched. MP3s are encoded by LAME in-process, a part per core (see mp3.py), behind the ID3 tag
ffmpeg would write; where the whole session is limited (music), or for another format or sample
rate, the samples are piped into ffmpeg, with tags and chapters in an ffmetadata file so that every
container gets what it can hold, and mutagen finishes what ffmpeg writes badly (Ogg chapters, WAV
tags).
"""

from __future__ import annotations

import errno
import io
import os
import re
import signal
import subprocess
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING

from voiceguide.common.clock import timestamp
from voiceguide.common.errors import AudioError, SettingsError, path_text
from voiceguide.common.externals import FfmpegNeed, ffmpeg_path
from voiceguide.common.replacing import FileSet, writing
from voiceguide.output.formats import (
    BITRATE_RANGES,
    DEFAULT_BITRATES,
    EXTENSIONS,
    FORMAT_NAMES,
    OPUS_RATES,
    SAMPLE_RATES,
    AudioFormat,
)
from voiceguide.sound.truepeak import limiter

if TYPE_CHECKING:
    from mutagen.id3 import Frame

    from voiceguide.output.mp3 import Layout


_CODECS = {
    AudioFormat.MP3: ["-c:a", "libmp3lame", "-id3v2_version", "3", "-f", "mp3"],
    # ffmpeg's default AAC coder (twoloop, since 5.0) overshoots espeak-ng's speech by up to 7 dB,
    # by chance, so that no headroom holds the true-peak ceiling; the fast coder stays within about
    # 1 dB.
    AudioFormat.M4A: ["-c:a", "aac", "-aac_coder", "fast", "-f", "ipod"],
    AudioFormat.OPUS: ["-c:a", "libopus", "-f", "ogg"],
    AudioFormat.WAV: ["-c:a", "pcm_s16le", "-f", "wav"],
}
_FFMPEG_NEEDS = {AudioFormat.MP3: FfmpegNeed.MP3, AudioFormat.M4A: FfmpegNeed.AAC, AudioFormat.OPUS: FfmpegNeed.OPUS,
                 AudioFormat.WAV: FfmpegNeed.WAV}  # fmt: skip
LAME_DELAY_SAMPLES = 1105
"""Samples of priming an MP3 starts with (LAME's 576 plus the decoder's 529); gapless decoders skip
them."""
ID3_PADDING = 1024
"""Room in the ID3 tag, so that a tag editor can change it without rewriting the file."""
_STAMP = re.compile(
    r"voiceguide fingerprint ([0-9a-f]{64}), (\d+) ms(?:, sidecars ([0-9a-f]{16}))?"
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Encoding:
    format: AudioFormat = AudioFormat.MP3
    bitrate: str | None = None
    """None for the format's default (DEFAULT_BITRATES)."""
    sample_rate: int | None = None
    """None to keep the session's rate (Opus: the nearest rate it supports)."""

    def output_rate(self, session_rate: int) -> int:
        rate = self.sample_rate or session_rate
        if self.format is AudioFormat.OPUS and rate not in OPUS_RATES:
            if self.sample_rate is not None:
                rates = ", ".join(str(r) for r in OPUS_RATES)
                raise SettingsError(
                    f"Opus cannot use a sample rate of {rate} Hz; use one of {rates}"
                )
            rate = min(supported for supported in OPUS_RATES if supported >= rate)
        return rate

    def arguments(self, session_rate: int) -> list[str]:
        rate = self.output_rate(session_rate)
        bitrate = self.bitrate or DEFAULT_BITRATES.get(self.format)
        return [*_CODECS[self.format], *(["-b:a", bitrate] if bitrate and self.format is not AudioFormat.WAV else []),
                "-ar", str(rate)]  # fmt: skip


def encoding_for(
    path: Path, *, name: str | None, bitrate: str | None, sample_rate: int | None
) -> Encoding:
    """The encoding a user asked for, by --format or else by the output's extension (MP3 by default)."""
    if name is not None:
        chosen = FORMAT_NAMES.get(name.lower())
        if chosen is None:
            raise SettingsError(
                f"unknown format {name!r}; choose one of: {', '.join(FORMAT_NAMES)}"
            )
    else:
        chosen = EXTENSIONS.get(path.suffix.lower(), AudioFormat.MP3)
    if bitrate is not None:
        if not re.fullmatch(r"\d{1,3}k", bitrate):
            raise SettingsError(
                f"a bitrate is written like 64k (kilobits a second), not {bitrate!r}"
            )
        if chosen is AudioFormat.WAV:
            raise SettingsError(
                "WAV is not compressed, so it takes no bitrate; leave out --bitrate"
            )
        low, high = BITRATE_RANGES[chosen]
        if not low <= int(bitrate[:-1]) <= high:
            raise SettingsError(
                f"{chosen.value} takes a bitrate from {low}k to {high}k, not {bitrate}"
            )
    if sample_rate is not None and sample_rate not in SAMPLE_RATES[chosen]:
        rates = ", ".join(str(rate) for rate in SAMPLE_RATES[chosen])
        raise SettingsError(
            f"{chosen.value} cannot use a sample rate of {sample_rate} Hz; use one of {rates}"
        )
    return Encoding(format=chosen, bitrate=bitrate, sample_rate=sample_rate)


@dataclass(frozen=True, slots=True, kw_only=True)
class Chapter:
    title: str
    start_ms: int
    end_ms: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Tags:
    title: str
    artist: str
    album: str
    comment: str = ""
    track: str | None = None
    length_ms: int | None = None
    fingerprint: str | None = None
    """What the session was made from (see build.existing.fingerprint), so an unchanged one is not rebuilt."""
    sidecars: str | None = None
    """A digest of the files written beside the session (see sidecars.digest), so that a session
    whose sidecars are missing or changed is rebuilt."""

    @property
    def full_comment(self) -> str:
        stamp = ""
        if self.fingerprint:
            stamp = f"voiceguide fingerprint {self.fingerprint}, {self.length_ms} ms"
            stamp += f", sidecars {self.sidecars}" if self.sidecars else ""
        return "; ".join(part for part in (self.comment, stamp) if part)


@dataclass(frozen=True, slots=True)
class Stamp:
    fingerprint: str
    length_ms: int
    sidecars: str | None = None


@dataclass(frozen=True, slots=True)
class Source:
    """A session's samples (mono, 16-bit), read by range, and the ranges where they are silent."""

    sample_rate: int
    frames: int
    read: Callable[[int, int], Iterator[bytes]]
    """read(start, end): the samples from frame *start* to *end*, in chunks."""
    silences: Sequence[tuple[int, int]] = ()
    """(start, end) frame ranges with no sound: where MP3 encoding may be cut into parts."""

    def part(self, start: int, end: int) -> Source:
        """Frames *start* to *end* as a source of their own."""
        return Source(
            sample_rate=self.sample_rate,
            frames=end - start,
            read=lambda first, last: self.read(start + first, start + last),
            silences=[
                (max(a, start) - start, min(b, end) - start)
                for a, b in self.silences
                if a < end and b > start
            ],
        )


@dataclass(frozen=True, slots=True)
class Retake:
    """What to encode instead of a file its check found wanting (see write_audio)."""

    source: Source
    gain_db: float = 0.0
    limit_dbtp: float | None = None


def write_audio(
    source: Source,
    path: Path,
    *,
    encoding: Encoding,
    tags: Tags,
    chapters: Sequence[Chapter] = (),
    gain_db: float = 0.0,
    limit_dbtp: float | None = None,
    cores: int = 1,
    progress: Callable[[int, int], None] | None = None,
    check: Callable[[Path], Retake | None] | None = None,
    files: FileSet | None = None,
) -> None:
    """Encode *source*, made *gain_db* louder and, given *limit_dbtp*, through a true-peak limiter at
    that ceiling, into *path*, replacing it only when complete. MP3s without the limiter are encoded
    on up to *cores* cores (see mp3.py); everything else by ffmpeg. *check* is shown the complete
    file before it replaces anything, and may have it encoded again, from another source, gain or
    limit. Given *files*, the file is one of that set, put in place with the others when it is
    committed."""
    if files is None:
        with FileSet() as alone:
            write_audio(source, path, encoding=encoding, tags=tags, chapters=chapters, gain_db=gain_db,
                        limit_dbtp=limit_dbtp, cores=cores, progress=progress, check=check, files=alone)  # fmt: skip
            alone.commit()
        return
    folder = path.parent
    if not os.path.isdir(folder):  # (False, not an error, for a name too long to look up)
        raise AudioError(
            f"cannot write {path_text(path)}: the folder {path_text(folder)} does not exist"
        )
    if encoding.format is AudioFormat.MP3 and chapters:
        chapters = _halfway_for_mp3_readers(chapters, encoding.output_rate(source.sample_rate))
    layout = _lame_layout(encoding, source.sample_rate)
    temp = files.temporary(path)
    with writing(path):
        while True:
            if layout is not None and limit_dbtp is None:
                _encode_mp3(source, temp, layout=layout, tags=tags, chapters=chapters, gain_db=gain_db, cores=cores,
                            progress=progress)  # fmt: skip
            else:
                filters = _session_filters(
                    gain_db=gain_db, limit_dbtp=limit_dbtp, sample_rate=source.sample_rate
                )
                _encode_with_ffmpeg(source, temp, encoding=encoding, tags=tags, chapters=chapters, filters=filters,
                                    limited=limit_dbtp is not None, progress=progress)  # fmt: skip
                _finish_tags(temp, encoding.format, tags, chapters)
            retake = check(temp) if check else None
            if retake is None:
                break
            source, gain_db, limit_dbtp = retake.source, retake.gain_db, retake.limit_dbtp


def _session_filters(*, gain_db: float, limit_dbtp: float | None, sample_rate: int) -> str:
    """The gain and, given *limit_dbtp*, the true-peak limiter, for ffmpeg."""
    gain = f"volume={gain_db:.2f}dB"
    return gain if limit_dbtp is None else f"{gain},{limiter(limit_dbtp, sample_rate)}"


def _lame_layout(encoding: Encoding, sample_rate: int) -> Layout | None:
    """The MP3 frames lameenc makes for *encoding*, or None where ffmpeg encodes it (another format,
    a change of sample rate, a bitrate MPEG has no frame for at this rate, or a platform lameenc has
    no wheel for, where it is not installed)."""
    if encoding.format is not AudioFormat.MP3 or encoding.output_rate(sample_rate) != sample_rate:
        return None
    try:
        import lameenc  # noqa: F401
    except ImportError:
        return None
    kbps = int((encoding.bitrate or DEFAULT_BITRATES[AudioFormat.MP3])[:-1])
    from voiceguide.output.mp3 import Layout

    layout = Layout(sample_rate=sample_rate, kbps=kbps)
    return layout if layout.supported else None


def _encode_mp3(
    source: Source,
    temp: Path,
    *,
    layout: Layout,
    tags: Tags,
    chapters: Sequence[Chapter],
    gain_db: float,
    cores: int,
    progress: Callable[[int, int], None] | None,
) -> None:
    from voiceguide.output import mp3

    total_bytes = source.frames * 2
    with temp.open("wb") as sink:
        sink.write(_id3_tag(tags, chapters))
        mp3.encode(
            source.read,
            source.frames,
            sink,
            layout=layout,
            cuts=mp3.cut_points(source.silences, source.frames, cores, layout),
            scale=10 ** (round(gain_db, 2) / 20),
            scratch=temp.parent,
            progress=(lambda done: progress(min(done * 2, total_bytes), total_bytes))
            if progress
            else None,
        )


def _id3_tag(tags: Tags, chapters: Sequence[Chapter]) -> bytes:
    """The ID3v2.3 tag ffmpeg writes from the same metadata: title, artist, album, the comment (as
    TXXX, with the fingerprint), track, and the chapters as CHAP frames in time order under one
    ordered CTOC. mutagen encodes each frame; they are put together here because mutagen orders
    frames by size, and ffmpeg reads chapters in the order of their frames."""
    from mutagen.id3 import CHAP, CTOC, TALB, TIT2, TPE1, TRCK, TXXX, CTOCFlags

    def text(value: str) -> dict[str, object]:
        return {
            "encoding": 0 if value.isascii() else 3,
            "text": [value],
        }  # as ffmpeg: Latin-1 if it can

    frames: list[Frame] = [
        TIT2(**text(tags.title)),
        TPE1(**text(tags.artist)),
        TALB(**text(tags.album)),
    ]
    if tags.full_comment:
        frames.append(TXXX(desc="comment", **text(tags.full_comment)))
    if tags.track:
        frames.append(TRCK(**text(tags.track)))
    if chapters:
        ids = [f"ch{number}" for number in range(len(chapters))]
        frames.append(CTOC(element_id="toc", flags=CTOCFlags.TOP_LEVEL | CTOCFlags.ORDERED, child_element_ids=ids,
                           sub_frames=[]))  # fmt: skip
        frames += [
            CHAP(element_id=element_id, start_time=chapter.start_ms, end_time=chapter.end_ms,
                 start_offset=0xFFFFFFFF, end_offset=0xFFFFFFFF, sub_frames=[TIT2(**text(chapter.title))])
            for element_id, chapter in zip(ids, chapters, strict=True)
        ]  # fmt: skip
    body = b"".join(_frame_bytes(frame) for frame in frames)
    size = len(body) + ID3_PADDING
    syncsafe = bytes((size >> shift) & 0x7F for shift in (21, 14, 7, 0))
    return b"ID3\x03\x00\x00" + syncsafe + body + bytes(ID3_PADDING)


def _frame_bytes(frame: Frame) -> bytes:
    """One frame as ID3v2.3 holds it: a tag of that frame alone, without its 10-byte header."""
    from mutagen.id3 import ID3

    tag = ID3()
    tag.add(frame)
    buffer = io.BytesIO()
    tag.save(buffer, v2_version=3, padding=lambda info: 0)
    return buffer.getvalue()[10:]


def _encode_with_ffmpeg(
    source: Source,
    temp: Path,
    *,
    encoding: Encoding,
    tags: Tags,
    chapters: Sequence[Chapter],
    filters: str,
    limited: bool,
    progress: Callable[[int, int], None] | None,
) -> None:
    needs = [_FFMPEG_NEEDS[encoding.format], *([FfmpegNeed.LIMITER] if limited else [])]
    with tempfile.TemporaryDirectory(prefix="voiceguide-") as scratch:
        metadata = Path(scratch) / "metadata.txt"
        metadata.write_text(_ffmetadata(tags, chapters), encoding="utf-8")
        command = [
            ffmpeg_path(*needs), "-hide_banner", "-loglevel", "error", "-y",
            "-f", "s16le", "-ar", str(source.sample_rate), "-ac", "1", "-i", "pipe:0",
            "-f", "ffmetadata", "-i", str(metadata),
            "-map", "0:a", "-map_metadata", "1",
            # ffmpeg rounds Ogg chapter times to whole seconds wrongly; mutagen writes them.
            "-map_chapters", "-1" if encoding.format is AudioFormat.OPUS else "1",
            "-af", filters,
            *encoding.arguments(source.sample_rate), str(temp),
        ]  # fmt: skip
        returncode, errors = _encode(
            command, source.read(0, source.frames), source.frames * 2, progress
        )
    if returncode != 0:
        if "No space left" in errors or returncode == -signal.SIGXFSZ:
            raise OSError(errno.ENOSPC, "no space left")
        reason = _last_line(errors)
        if returncode < 0 and reason == "no details":
            reason = f"ffmpeg was stopped by signal {signal.Signals(-returncode).name}"
        raise AudioError(f"ffmpeg could not encode the session: {reason}")


def _halfway_for_mp3_readers(chapters: Sequence[Chapter], rate: int) -> list[Chapter]:
    """Readers disagree on MP3 chapter times by the encoder's priming delay (LAME_DELAY_SAMPLES, 50
    ms at 22.05 kHz): ffmpeg takes it off the times it reads, while mutagen and many players read
    the times as written. Written half the delay late, chapters land within half of it of their
    cues for both kinds of reader."""
    shift = LAME_DELAY_SAMPLES * 1000 // rate // 2
    return [
        Chapter(
            title=c.title, start_ms=c.start_ms + shift if c.start_ms else 0, end_ms=c.end_ms + shift
        )
        for c in chapters
    ]


def _ffmetadata(tags: Tags, chapters: Sequence[Chapter]) -> str:
    lines = [";FFMETADATA1"]
    fields = {"title": tags.title, "artist": tags.artist, "album": tags.album, "comment": tags.full_comment,
              "track": tags.track}  # fmt: skip
    lines += [f"{key}={_escape(value)}" for key, value in fields.items() if value]
    for chapter in chapters:
        lines += ["[CHAPTER]", "TIMEBASE=1/1000", f"START={chapter.start_ms}", f"END={chapter.end_ms}",
                  f"title={_escape(chapter.title)}"]  # fmt: skip
    return "\n".join(lines) + "\n"


def _escape(value: str) -> str:
    return re.sub(r"([=;#\\\n])", r"\\\1", value)


def _finish_tags(
    path: Path, audio_format: AudioFormat, tags: Tags, chapters: Sequence[Chapter]
) -> None:
    """What ffmpeg does not write (well): Ogg chapters as CHAPTERnnn comments (ffmpeg rounds their
    times), and an ID3 chunk in WAV files (ffmpeg writes only a RIFF INFO list, which few read)."""
    if audio_format is AudioFormat.OPUS and chapters:
        from mutagen.oggopus import OggOpus

        opus = OggOpus(path)
        assert opus.tags is not None
        for number, chapter in enumerate(chapters, start=1):
            opus.tags[f"CHAPTER{number:03d}"] = [timestamp(chapter.start_ms)]
            opus.tags[f"CHAPTER{number:03d}NAME"] = [chapter.title]
        opus.save()
    elif audio_format is AudioFormat.WAV:
        from mutagen.id3 import TALB, TIT2, TPE1, TXXX
        from mutagen.wave import WAVE

        wave = WAVE(path)
        wave.add_tags()
        assert wave.tags is not None
        wave.tags.add(TIT2(encoding=3, text=tags.title))
        wave.tags.add(TPE1(encoding=3, text=tags.artist))
        wave.tags.add(TALB(encoding=3, text=tags.album))
        wave.tags.add(TXXX(encoding=3, desc="comment", text=tags.full_comment))
        wave.save()


def read_stamp(path: Path) -> Stamp | None:
    """The fingerprint and length an existing session was written with, if it is one of ours and
    whole: a file cut short (its tags kept) has no stamp, so it is made again."""
    import mutagen

    if not path.is_file():
        return None  # (a FIFO or a device would block or never end)
    try:
        audio = mutagen.File(path)
        if audio is None or audio.tags is None:
            return None
        for value in audio.tags.values():
            for text in value if isinstance(value, list) else [value]:
                found = _STAMP.search(str(text))
                if found:
                    stamp = Stamp(fingerprint=found[1], length_ms=int(found[2]), sidecars=found[3])
                    return stamp if _whole(path, audio, stamp.length_ms) else None
    except (mutagen.MutagenError, OSError):
        return None
    return None


WHOLE_TOLERANCE_MS = 100
"""How far the length a file's header gives may be from the stamped one: a frame or two of any format."""


def _whole(path: Path, audio: object, length_ms: int) -> bool:
    """Whether *path* holds all the audio its stamp says: the length its header gives (Ogg's from
    its last page) is the stamped one, and the bytes its header promises (MP3's Info tag, WAV's and
    M4A's chunks) are all there."""
    from mutagen.mp3 import MP3
    from mutagen.mp4 import MP4
    from mutagen.wave import WAVE

    info = getattr(audio, "info", None)
    if info is None or abs(info.length * 1000 - length_ms) > WHOLE_TOLERANCE_MS:
        return False
    size = path.stat().st_size
    with path.open("rb") as file:
        if isinstance(audio, MP3):
            return _mp3_whole(file, audio, size)
        if isinstance(audio, WAVE):
            return _chunks_whole(file, size, start=12, little_endian=True)
        if isinstance(audio, MP4):
            return _chunks_whole(file, size, start=0, little_endian=False)
    return True


def _mp3_whole(file: IO[bytes], audio: object, size: int) -> bool:
    """The bytes the Info (or Xing) tag counts from the first frame on are all in the file."""
    import struct

    tags = getattr(audio, "tags", None)
    start: int = tags.size if tags is not None else 0
    file.seek(start)
    head = file.read(4096)
    at = max(head.find(b"Info"), head.find(b"Xing"))
    if at < 0 or len(head) < at + 16:
        return True  # no count to check; the length checked before is then estimated from the size
    flags, first, second = struct.unpack(">III", head[at + 4 : at + 16])
    if not flags & 2:
        return True
    counted: int = second if flags & 1 else first  # (the frame count comes first when there is one)
    return size - start >= counted


def _chunks_whole(file: IO[bytes], size: int, *, start: int, little_endian: bool) -> bool:
    """Every chunk (RIFF, from *start*) or atom (MP4) ends within the file's *size*."""
    import struct

    position = start
    while position + 8 <= size:
        file.seek(position)
        header = file.read(16)
        length = struct.unpack(
            "<I" if little_endian else ">I", header[:4] if not little_endian else header[4:8]
        )[0]
        if little_endian:
            length += 8 + (length & 1)
        elif length == 1:
            length = struct.unpack(">Q", header[8:16])[0]
        elif length == 0:
            return True  # an MP4 atom that runs to the end of the file
        if length < 8:
            return False
        position += length
    return position == size


def _encode(
    command: list[str],
    chunks: Iterable[bytes],
    total_bytes: int | None,
    progress: Callable[[int, int], None] | None,
) -> tuple[int, str]:
    """Feed *chunks* to ffmpeg (reporting progress); return its exit code and what it said."""
    with tempfile.TemporaryFile() as errors:
        try:
            # Unbuffered, so closing stdin after ffmpeg has quit cannot fail on a pending flush.
            process = subprocess.Popen(
                command, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=errors, bufsize=0
            )
        except OSError as error:
            raise AudioError(
                f"cannot run ffmpeg ({command[0]}): {error.strerror or error}"
            ) from None
        assert process.stdin is not None
        done = 0
        try:
            for data in chunks:
                view = memoryview(data)
                while view:  # a raw pipe write may take only part of a chunk
                    view = view[process.stdin.write(view) or 0 :]
                done += len(data)
                if progress and total_bytes:
                    progress(min(done, total_bytes), total_bytes)
        except BrokenPipeError:
            pass  # ffmpeg quit early; its exit code and message say why
        except BaseException:
            process.kill()
            raise
        finally:
            process.stdin.close()
            process.wait()
        errors.seek(0)
        return process.returncode, errors.read().decode(errors="replace")


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "no details"
