"""Speech clips kept on disk between runs, so that a rebuild spends nothing on speech.

A clip is keyed by everything that changes how a phrase sounds: the engine (its driver, its
pyttsx3 and espeak-ng versions), the voice, the rate, the sample rate and the text. The cache is
capped in size; the least recently used clips go first.

An entry is a header (magic, format, the payload's length and CRC-32) and its payload: raw 16-bit
mono samples, or a voice list as JSON. What a crash, a full disk or a stray write leaves is never
taken for speech: a clip's length alone (all a preview needs) is trusted only if the file is as
long as its header says, and a payload that is read is checked against its CRC too. A damaged
entry is removed and counted in `damaged`, for the caller to report, and the caller makes it
again. Entries are written to a temporary file, flushed to the disk and then renamed into place,
so that parallel builds never read half of one and a power loss leaves no empty one.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import struct
import tempfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from voiceguide.common.errors import AudioError, CacheError, SettingsError
from voiceguide.common.replacing import replace_whole

CACHE_ENV = "VOICEGUIDE_CACHE_DIR"
MAX_BYTES = 256 * 1024 * 1024
FORMAT = 2
"""Raised whenever what an entry holds changes (its trimming, its header), so old entries are not
reused."""
MAGIC = b"VGSC"
HEADER = struct.Struct("<4sIQI")
"""MAGIC, FORMAT, the payload's length in bytes, its CRC-32: CRC-32 finds what damage does to a
file at a small part of the cost of reading it (a cryptographic digest would guard against nobody)."""

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Location:
    folder: Path
    setting: str | None = None
    """The environment variable that names the folder, if one does."""
    temporary: bool = False
    """True when there is no home directory to keep the cache in: it is then in the temporary folder."""


def location() -> Location:
    """$VOICEGUIDE_CACHE_DIR, else $XDG_CACHE_HOME/voiceguide, else ~/.cache/voiceguide; without a
    home directory (HOME unset, and a user id with no passwd entry, as in a container run as
    `-u N`), a folder of this user's in the temporary folder."""
    if os.environ.get(CACHE_ENV):
        return Location(Path(os.environ[CACHE_ENV]), CACHE_ENV)
    if os.environ.get("XDG_CACHE_HOME"):
        return Location(Path(os.environ["XDG_CACHE_HOME"]) / "voiceguide", "XDG_CACHE_HOME")
    try:
        return Location(Path.home() / ".cache" / "voiceguide")
    except RuntimeError:
        return Location(_temporary_folder(), temporary=True)


def cache_folder() -> Path:
    return location().folder


def speech_folder(folder: Path | None = None) -> Path:
    """Where the cache in *folder* (by default, the user's) keeps its entries."""
    return (folder or cache_folder()) / "speech"


_private_folder: Path | None = None


def _temporary_folder() -> Path:
    """One folder per user in the temporary folder, so that runs (and batch's workers) share it;
    if another user made it first, one of this process's own instead."""
    global _private_folder
    folder = Path(tempfile.gettempdir()) / f"voiceguide-cache-{os.getuid()}"
    with contextlib.suppress(OSError):
        folder.mkdir(mode=0o700)
    with contextlib.suppress(OSError):
        status = folder.lstat()
        if (
            folder.is_dir()
            and not folder.is_symlink()
            and status.st_uid == os.getuid()
            and not status.st_mode & 0o022
        ):
            return folder
    if _private_folder is None:
        _private_folder = Path(tempfile.mkdtemp(prefix="voiceguide-cache-"))
    return _private_folder


@dataclass(frozen=True, slots=True)
class CacheUsage:
    folder: Path
    files: int
    bytes: int


@dataclass(frozen=True, slots=True)
class Cleared:
    folder: Path
    files: int
    """Clips removed."""
    bytes: int
    failed: int = 0
    """Clips that could not be removed."""
    reason: str = ""
    """Why the first of those could not be."""


class SpeechCache:
    def __init__(
        self, *, engine: str, folder: Path | None = None, max_bytes: int = MAX_BYTES
    ) -> None:
        self.engine = engine
        self.root = folder or cache_folder()
        self.folder = speech_folder(self.root)
        self.max_bytes = max_bytes
        self.stored = 0
        self.damaged: set[str] = set()
        """The entries found damaged (and removed) so far, by file name."""

    def key(self, *, text: str, voice: str, rate: int, sample_rate: int) -> str:
        content = json.dumps(
            [FORMAT, self.engine, voice, rate, sample_rate, text], ensure_ascii=False
        )
        return hashlib.sha256(content.encode()).hexdigest()

    def _path(self, key: str) -> Path:
        return self.folder / key[:2] / f"{key}.pcm"

    def _json_path(self, name: str) -> Path:
        return self.folder / f"{name}-{FORMAT}.json"

    def frames(self, key: str) -> int | None:
        """The clip's length in samples, from its header alone; None if it is not cached (or damaged)."""
        path = self._path(key)
        try:
            with path.open("rb") as file:
                header = file.read(HEADER.size)
                size = os.fstat(file.fileno()).st_size
        except OSError:
            return None
        length = _length(header, size)
        if length is None or length % 2:
            self._discard(path)
            return None
        return length // 2

    def load(self, key: str) -> bytes | None:
        path = self._path(key)
        data = self._read(path)
        if data is not None:
            with contextlib.suppress(OSError):
                os.utime(path)  # recently used: kept longest when the cache is trimmed
        return data

    def store(self, key: str, data: bytes) -> None:
        """Keep a clip; a cache that cannot be written (a full or read-only disk) is only a missed
        saving."""
        if _write_atomically(self._path(key), data):
            self.stored += 1

    def load_json(self, name: str, parse: Callable[[object], T]) -> T | None:
        """The entry *name* as *parse* makes it from its JSON; None if there is none, or if it is
        damaged: not JSON, or refused by *parse* (with a ValueError, TypeError or KeyError)."""
        path = self._json_path(name)
        data = self._read(path)
        if data is None:
            return None
        try:
            return parse(json.loads(data))
        except (ValueError, TypeError, KeyError):
            self._discard(path)
            return None

    def store_json(self, name: str, value: object) -> None:
        _write_atomically(self._json_path(name), json.dumps(value).encode())

    def _read(self, path: Path) -> bytes | None:
        """The payload of the entry at *path*, checked; None if there is none or it is damaged."""
        try:
            with path.open("rb") as file:
                header = file.read(HEADER.size)
                payload = file.read()
        except OSError:
            return None
        if (
            _length(header, HEADER.size + len(payload)) is None
            or zlib.crc32(payload) != HEADER.unpack(header)[3]
        ):
            self._discard(path)
            return None
        return payload

    def _discard(self, path: Path) -> None:
        self.damaged.add(path.name)
        # (A build that wrote it anew meanwhile loses that clip: it is made again next time.)
        with contextlib.suppress(OSError):
            path.unlink()

    def trim(self) -> None:
        """Remove the least recently used clips until the cache is within its size."""
        with contextlib.suppress(OSError):
            clips = _clips(self.folder)
            total = sum(size for _, size, _ in clips)
            if total <= self.max_bytes:
                return
            for path, size, _ in sorted(clips, key=lambda clip: clip[2]):
                with contextlib.suppress(OSError):
                    path.unlink()
                    total -= size
                if total <= self.max_bytes * 9 // 10:
                    break


def _length(header: bytes, size: int) -> int | None:
    """The payload's length if *header* is a whole entry's of *size* bytes, else None."""
    if len(header) < HEADER.size:
        return None
    magic, version, length, _ = HEADER.unpack(header)
    if magic != MAGIC or version != FORMAT or size != HEADER.size + length:
        return None
    return int(length)


def _write_atomically(path: Path, payload: bytes) -> bool:
    """Write an entry at *path* in one step (see replacing.replace_whole), so that parallel builds
    never read half a file, nor a power loss leave an empty one; False if it could not be written."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        replace_whole(path, HEADER.pack(MAGIC, FORMAT, len(payload), zlib.crc32(payload)), payload)
    except (OSError, AudioError):
        return False
    return True


def _clips(folder: Path) -> list[tuple[Path, int, float]]:
    """Every clip in *folder*, with its size and when it was last used; OSError if *folder* (there
    or not) cannot be read."""
    found = []
    try:
        subfolders = [
            Path(entry.path) for entry in os.scandir(folder) if entry.is_dir(follow_symlinks=False)
        ]
    except FileNotFoundError:
        return []
    for subfolder in subfolders:
        for entry in os.scandir(subfolder):
            if entry.name.endswith(".pcm"):
                with contextlib.suppress(OSError):
                    status = entry.stat(follow_symlinks=False)
                    found.append((Path(entry.path), status.st_size, status.st_mtime))
    return found


def _readable_clips(folder: Path | None) -> tuple[Path, list[tuple[Path, int, float]]]:
    speech = speech_folder(folder)
    try:
        return speech, _clips(speech)
    except OSError as error:
        problem = f"cannot read the speech cache in {speech}: {error.strerror or error}"
        setting = location().setting if folder is None else None
        if setting is not None:
            raise SettingsError(
                f"{problem}; {setting} names it: name a folder you may use, or unset it"
            ) from None
        raise CacheError(problem) from None


def usage(folder: Path | None = None) -> CacheUsage:
    """What the cache in *folder* (by default, the user's) holds; CacheError (SettingsError when an
    environment variable names it) if it cannot be read."""
    speech, clips = _readable_clips(folder)
    return CacheUsage(folder=speech, files=len(clips), bytes=sum(size for _, size, _ in clips))


def clear(folder: Path | None = None) -> Cleared:
    """Remove every cached clip (and voice list, and what an interrupted write left); returns how
    many clips were removed, and how many could not be and why. Errors as usage's."""
    speech, clips = _readable_clips(folder)
    removed = size = failed = 0
    reason = ""
    for path, clip_size, _ in clips:
        try:
            path.unlink()
        except FileNotFoundError:
            continue  # (another clear, or a trim, was quicker)
        except OSError as error:
            failed += 1
            reason = reason or str(error.strerror or error)
            continue
        removed += 1
        size += clip_size
    for path in [*speech.glob("*/.*.part"), *speech.glob("*.json")]:
        with contextlib.suppress(OSError):
            path.unlink()
    for sub in speech.glob("*"):
        with contextlib.suppress(OSError):
            sub.rmdir()
    return Cleared(folder=speech, files=removed, bytes=size, failed=failed, reason=reason)
