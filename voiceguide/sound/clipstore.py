"""A session's distinct clips (phrases, tones, phrases cut short, clips limited), each kept once in
one temporary file rather than in memory, so that a build's memory does not grow with its plan:
the mixer, the loudness meter and mastering read what they need of a clip when they need it.

The file has no name in the file system (it is made without one, or unlinked at once), so nothing
of it outlives the process, however the process ends: even killed outright. What is read stays in
the operating system's page cache, not in the process; it may be read from any thread.
"""

from __future__ import annotations

import errno
import os
import tempfile
import threading
import weakref
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import IO, TypeVar, overload

from voiceguide.common.errors import AudioError, is_disk_full, path_text

SAMPLE_WIDTH = 2
"""Clips are mono 16-bit samples."""

T = TypeVar("T")


class ClipStore:
    """Clips added one at a time and read back by number, whole or by range of frames."""

    def __init__(self) -> None:
        try:
            self._file: IO[bytes] = tempfile.TemporaryFile(prefix="voiceguide-clips-", buffering=0)
        except OSError as error:
            raise clips_error(error) from None
        self._fd = self._file.fileno()
        self._offsets: list[int] = []
        self._frames: list[int] = []
        self._end = 0
        self._lock = threading.Lock()
        # (closed when the store is dropped, if nobody closed it)
        self._close = weakref.finalize(self, self._file.close)

    def __enter__(self) -> ClipStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._close()

    def __len__(self) -> int:
        return len(self._offsets)

    def add(self, data: bytes) -> int:
        """Keep *data*; its number."""
        with self._lock:
            try:
                _write_at(self._file, data, self._end)
            except OSError as error:
                raise clips_error(error) from None
            self._offsets.append(self._end)
            self._frames.append(len(data) // SAMPLE_WIDTH)
            self._end += len(data)
            return len(self._offsets) - 1

    def frames(self, number: int) -> int:
        return self._frames[number]

    def read(self, number: int, first: int = 0, last: int | None = None) -> bytes:
        """Clip *number*'s frames from *first* to *last* (its end)."""
        frames = self._frames[number]
        last = frames if last is None else min(last, frames)
        if last <= first:
            return b""
        offset = self._offsets[number] + first * SAMPLE_WIDTH
        size = (last - first) * SAMPLE_WIDTH
        try:
            data = self._read_at(offset, size)
        except OSError as error:
            raise clips_error(error) from None
        if len(data) != size:
            raise clips_error(OSError(errno.EIO, "the file was cut short"))
        return data

    def _read_at(self, offset: int, size: int) -> bytes:
        if not hasattr(os, "pread"):  # (Windows)
            with self._lock:
                self._file.seek(offset)
                return self._file.read(size) or b""
        data = os.pread(self._fd, size, offset)
        while (
            0 < len(data) < size
        ):  # (a regular file gives all at once; this is for the rule, not the case)
            more = os.pread(self._fd, size - len(data), offset + len(data))
            if not more:
                break
            data += more
        return data


class Clips(Sequence[bytes]):
    """Some of a store's clips, in an order of their own: each read when it is asked for."""

    def __init__(self, store: ClipStore, numbers: Sequence[int]) -> None:
        self.store = store
        self.numbers = tuple(numbers)
        """Each clip's number in the store."""

    def __len__(self) -> int:
        return len(self.numbers)

    @overload
    def __getitem__(self, index: int) -> bytes: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[bytes]: ...

    def __getitem__(self, index: int | slice) -> bytes | Sequence[bytes]:
        if isinstance(index, slice):
            return Clips(self.store, self.numbers[index])
        return self.store.read(self.numbers[index])

    def __iter__(self) -> Iterator[bytes]:
        return (self.store.read(number) for number in self.numbers)

    def frames(self, index: int) -> int:
        return self.store.frames(self.numbers[index])

    def read(self, index: int, first: int, last: int) -> bytes:
        """Clip *index*'s frames from *first* to *last*."""
        return self.store.read(self.numbers[index], first, last)


def batches(items: Iterable[T], size: Callable[[T], int], most: int) -> Iterator[list[T]]:
    """*items* in order, in runs of at most *most* in all by *size* (an item larger than that alone):
    work on many clips that holds a run at a time holds at most that much, however many there are."""
    batch: list[T] = []
    total = 0
    for item in items:
        if batch and total + size(item) > most:
            yield batch
            batch, total = [], 0
        batch.append(item)
        total += size(item)
    if batch:
        yield batch


def _write_at(file: IO[bytes], data: bytes, offset: int) -> None:
    view = memoryview(data)
    if hasattr(os, "pwrite"):
        while view:
            view = view[os.pwrite(file.fileno(), view, offset + len(data) - len(view)) :]
    else:  # (Windows; the caller holds the lock)
        file.seek(offset)
        while view:
            view = view[file.write(view) or 0 :]


def clips_error(error: OSError) -> AudioError:
    """What a build says when the temporary files of its clips (here, or as they are levelled or
    limited) cannot be written: a failure of the disk, not of the input."""
    where = f"cannot keep the session's clips in the temporary folder {path_text(tempfile.gettempdir())}"
    if is_disk_full(error):
        return AudioError(
            f"{where}: the disk is full; free some space, or set TMPDIR to a folder on a disk with room"
        )
    return AudioError(
        f"{where}: {error.strerror or error}; set TMPDIR to a folder you can write in"
    )
