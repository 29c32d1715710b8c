"""Write the session file: MP3 (encoded by ffmpeg) with ID3 tags (written by mutagen), atomically.

The samples are piped straight into ffmpeg, which writes a temporary file in the destination
folder; only a complete file is renamed into place. A failed or interrupted run so leaves no
partial file, and any existing session untouched. (pydub's own `export` would do the same job
through two temporary files in /tmp that it leaves behind, open, when ffmpeg fails.)
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from voiceguide.errors import AudioError
from voiceguide.externals import ffmpeg_path

if TYPE_CHECKING:
    from pydub import AudioSegment


@dataclass(frozen=True, slots=True, kw_only=True)
class Tags:
    title: str
    artist: str
    album: str
    comment: str = ""
    length_ms: int | None = None
    fingerprint: str | None = None
    """What the session was made from (see session.fingerprint), so an unchanged one is not rebuilt."""

    def write_to(self, path: Path) -> None:
        """Replace the MP3's ID3 tag with ours (ID3v2.3, which every player reads)."""
        from mutagen.id3 import COMM, ID3, TALB, TIT2, TLEN, TPE1, TXXX

        tag = ID3()
        tag.add(TIT2(encoding=3, text=self.title))
        tag.add(TPE1(encoding=3, text=self.artist))
        tag.add(TALB(encoding=3, text=self.album))
        if self.comment:
            tag.add(COMM(encoding=3, lang="eng", desc="", text=self.comment))
        if self.length_ms is not None:
            tag.add(TLEN(encoding=3, text=str(self.length_ms)))
        if self.fingerprint:
            tag.add(TXXX(encoding=3, desc=FINGERPRINT_TAG, text=self.fingerprint))
        tag.save(path, v2_version=3)


FINGERPRINT_TAG = "voiceguide fingerprint"


@dataclass(frozen=True, slots=True)
class Stamp:
    fingerprint: str
    length_ms: int


def read_stamp(path: Path) -> Stamp | None:
    """The fingerprint and length an existing session was written with, if it is one of ours."""
    from mutagen import MutagenError
    from mutagen.id3 import ID3

    try:
        tag = ID3(path)
    except (MutagenError, OSError):
        return None
    fingerprints = tag.getall(f"TXXX:{FINGERPRINT_TAG}")
    lengths = tag.getall("TLEN")
    if not fingerprints or not lengths or not str(lengths[0].text[0]).isdigit():
        return None
    return Stamp(fingerprint=str(fingerprints[0].text[0]), length_ms=int(lengths[0].text[0]))


CHUNK_BYTES = 1 << 20


def write_mp3(
    audio: AudioSegment, path: Path, *, tags: Tags, bitrate: str, progress: Callable[[int, int], None] | None = None
) -> None:
    """Encode *audio* into an MP3 at *path*; progress(done, total) is called as samples go in."""
    folder = path.parent
    if not folder.is_dir():
        raise AudioError(f"cannot write {path}: the folder {folder} does not exist")
    try:
        handle, temp_name = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".part")
    except OSError as error:
        raise AudioError(f"cannot write in {folder}: {error.strerror or error}") from None
    os.close(handle)
    temp = Path(temp_name)
    command = [
        ffmpeg_path(),
        "-hide_banner",
        "-loglevel",
        "error",
        "-y",
        "-f",
        "s16le",
        "-ar",
        str(audio.frame_rate),
        "-ac",
        str(audio.channels),
        "-i",
        "pipe:0",
        "-codec:a",
        "libmp3lame",
        "-b:a",
        bitrate,
        "-id3v2_version",
        "3",
        "-f",
        "mp3",
        str(temp),
    ]
    try:
        # mkstemp makes the file private; a session is an ordinary file to share and play.
        os.chmod(temp, path.stat().st_mode & 0o777 if path.exists() else 0o644)
        returncode, errors = _encode(command, audio.raw_data, progress)
        if returncode != 0:
            raise AudioError(f"ffmpeg could not encode the session: {_last_line(errors)}")
        tags.write_to(temp)
        with temp.open("rb+") as written:
            os.fsync(written.fileno())
        os.replace(temp, path)
    except OSError as error:
        raise AudioError(f"cannot write {path}: {error.strerror or error}") from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()


def _encode(command: list[str], data: bytes, progress: Callable[[int, int], None] | None) -> tuple[int, str]:
    """Feed *data* to ffmpeg in chunks (so progress can be shown); return its exit code and errors."""
    with tempfile.TemporaryFile() as errors:
        try:
            # Unbuffered, so closing stdin after ffmpeg has quit cannot fail on a pending flush.
            process = subprocess.Popen(
                command, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=errors, bufsize=0
            )
        except OSError as error:
            raise AudioError(f"cannot run ffmpeg ({command[0]}): {error.strerror or error}") from None
        assert process.stdin is not None
        view = memoryview(data)
        try:
            for offset in range(0, len(data), CHUNK_BYTES):
                chunk = view[offset : offset + CHUNK_BYTES]
                while chunk:  # a raw pipe write may take only part of a chunk
                    chunk = chunk[process.stdin.write(chunk) or 0 :]
                if progress:
                    progress(min(offset + CHUNK_BYTES, len(data)), len(data))
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
