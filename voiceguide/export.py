"""Write the session file: MP3 with ID3 tags, atomically.

The file is encoded into a temporary file in the destination folder and renamed into place, so a
failed or interrupted run leaves no partial file and any existing session untouched.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from voiceguide.errors import AudioError

if TYPE_CHECKING:
    from pydub import AudioSegment


@dataclass(frozen=True, slots=True, kw_only=True)
class Tags:
    title: str
    artist: str
    album: str
    comment: str = ""


def write_mp3(audio: AudioSegment, path: Path, *, tags: Tags, bitrate: str) -> None:
    from pydub.exceptions import CouldntEncodeError

    folder = path.parent
    if not folder.is_dir():
        raise AudioError(f"cannot write {path}: the folder {folder} does not exist")
    try:
        handle, temp_name = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".part")
    except OSError as error:
        raise AudioError(f"cannot write in {folder}: {error.strerror or error}") from None
    os.close(handle)
    temp = Path(temp_name)
    try:
        # mkstemp makes the file private; a session is an ordinary file to share and play.
        os.chmod(temp, path.stat().st_mode & 0o777 if path.exists() else 0o644)
        metadata = {"title": tags.title, "artist": tags.artist, "album": tags.album}
        if tags.comment:
            metadata["comment"] = tags.comment
        with temp.open("r+b") as out:
            audio.export(out, format="mp3", bitrate=bitrate, tags=metadata, id3v2_version="3")
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, path)
    except CouldntEncodeError as error:
        raise AudioError(f"ffmpeg could not encode the session: {_last_line(str(error))}") from None
    except OSError as error:
        raise AudioError(f"cannot write {path}: {error.strerror or error}") from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "no details"
