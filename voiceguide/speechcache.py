"""Speech clips kept on disk between runs, so that a rebuild spends nothing on speech.

A clip is keyed by everything that changes how a phrase sounds: the engine (its driver, its
pyttsx3 and espeak-ng versions), the voice, the rate, the sample rate and the text. Clips are raw
16-bit mono samples, so a clip's length is its file size: a preview reads no audio at all. The
cache is capped in size; the least recently used clips go first.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

CACHE_ENV = "VOICEGUIDE_CACHE_DIR"
MAX_BYTES = 256 * 1024 * 1024
FORMAT = 1
"""Raised whenever what a clip holds changes (its trimming, say), so old clips are not reused."""


def cache_folder() -> Path:
    """$VOICEGUIDE_CACHE_DIR, else $XDG_CACHE_HOME/voiceguide, else ~/.cache/voiceguide."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "voiceguide"


@dataclass(frozen=True, slots=True)
class CacheUsage:
    folder: Path
    files: int
    bytes: int


class SpeechCache:
    def __init__(self, *, engine: str, folder: Path | None = None, max_bytes: int = MAX_BYTES) -> None:
        self.engine = engine
        self.folder = (folder or cache_folder()) / "speech"
        self.max_bytes = max_bytes
        self.stored = 0

    def key(self, *, text: str, voice: str, rate: int, sample_rate: int) -> str:
        content = json.dumps([FORMAT, self.engine, voice, rate, sample_rate, text], ensure_ascii=False)
        return hashlib.sha256(content.encode()).hexdigest()

    def _path(self, key: str) -> Path:
        return self.folder / key[:2] / f"{key}.pcm"

    def frames(self, key: str) -> int | None:
        """The clip's length in samples, without reading it; None if it is not cached."""
        try:
            return self._path(key).stat().st_size // 2
        except OSError:
            return None

    def load(self, key: str) -> bytes | None:
        path = self._path(key)
        try:
            data = path.read_bytes()
            os.utime(path)  # recently used: kept longest when the cache is trimmed
        except OSError:
            return None
        return data

    def store(self, key: str, data: bytes) -> None:
        """Keep a clip; a cache that cannot be written (a full or read-only disk) is only a missed saving."""
        if _write_atomically(self._path(key), data):
            self.stored += 1

    def load_json(self, name: str) -> object:
        with contextlib.suppress(OSError, ValueError):
            return json.loads((self.folder / f"{name}.json").read_text(encoding="utf-8"))
        return None

    def store_json(self, name: str, value: object) -> None:
        _write_atomically(self.folder / f"{name}.json", json.dumps(value).encode())

    def trim(self) -> None:
        """Remove the least recently used clips until the cache is within its size."""
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


def _write_atomically(path: Path, data: bytes) -> bool:
    """Write *path* through a temporary file renamed into place, so that parallel builds never read
    half a file; False if it could not be written. The temporary file is named before it is made,
    so that it is removed however the writing ends (a full disk, Ctrl-C, a helper's SIGTERM)."""
    temp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.part")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with temp.open("xb") as file:
            file.write(data)
        os.replace(temp, path)
        return True
    except OSError:
        return False
    finally:
        with contextlib.suppress(OSError):
            temp.unlink()


def _clips(folder: Path) -> list[tuple[Path, int, float]]:
    found = []
    for path in folder.glob("*/*.pcm"):
        with contextlib.suppress(OSError):
            status = path.stat()
            found.append((path, status.st_size, status.st_mtime))
    return found


def usage(folder: Path | None = None) -> CacheUsage:
    speech = (folder or cache_folder()) / "speech"
    clips = _clips(speech)
    return CacheUsage(folder=speech, files=len(clips), bytes=sum(size for _, size, _ in clips))


def clear(folder: Path | None = None) -> CacheUsage:
    """Remove every cached clip (and voice list); returns what there was."""
    before = usage(folder)
    speech = before.folder
    for path in [*speech.glob("*/*.pcm"), *speech.glob("*/.*.part"), *speech.glob("*.json")]:
        with contextlib.suppress(OSError):
            path.unlink()
    for sub in speech.glob("*"):
        with contextlib.suppress(OSError):
            sub.rmdir()
    return before
