"""Files replaced whole, and together: a session, its sidecars, the parts of a split and their
playlist; and one file alone, a speech cache entry (see replace_whole).

Each file of a set is written to a temporary file beside its final name (so that putting it in place
is a rename, which is atomic), and only when every file of the set is complete are they all renamed
into place, in one step that no stop signal cuts in the middle (see stopping.deferred). A failed or
interrupted build leaves every existing file as it was and no temporary file behind; one killed
outright (SIGKILL, a power cut) leaves temporaries that the next build of the same files removes.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterable, Iterator
from pathlib import Path
from types import TracebackType

from voiceguide.common import stopping
from voiceguide.common.errors import AudioError, is_disk_full, path_text

try:
    import fcntl
except ImportError:  # (Windows)
    fcntl = None  # type: ignore[assignment]

DISK_FULL = "the disk is full (or the file may grow no larger); free some space and build again"
DEFAULT_NAME_MAX = 255
"""Bytes in a file name, where the file system does not say (most take 255)."""
_RANDOM = 8
"""Random characters in a temporary name."""
_SUFFIX = ".part"


class FileSet:
    """Files written beside their final names and put in place together by commit, or not at all.

    Used as a context manager: whatever was not committed when it ends is removed.
    """

    def __init__(self) -> None:
        self._stack = contextlib.ExitStack()
        self._staged: list[tuple[Path, Path]] = []

    def __enter__(self) -> FileSet:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._stack.close()

    def temporary(self, path: Path) -> Path:
        """A new temporary file that commit puts at *path*."""
        temp = self._stack.enter_context(_temporary_beside(path))
        self._staged.append((temp, path))
        return temp

    def write_text(self, path: Path, text: str) -> None:
        """*text* (UTF-8, newlines as given) to be put at *path*."""
        self.write_bytes(path, text.encode("utf-8"))

    def write_bytes(self, path: Path, *chunks: bytes) -> None:
        """*chunks*, one after another, to be put at *path*."""
        temp = self.temporary(path)
        with writing(path):
            temp.write_bytes(b"".join(chunks))

    def commit(self, *, remove: Iterable[Path] = ()) -> None:
        """Every file written put in place, and the files in *remove* (left by an earlier build and
        no longer part of the set) removed, in one step that no stop signal interrupts."""
        for temp, path in self._staged:
            with writing(path), temp.open("rb+") as written:
                os.fsync(
                    written.fileno()
                )  # (so that a power cut cannot leave an empty file in place)
        with stopping.deferred():
            for temp, path in self._staged:
                with writing(path):
                    os.replace(temp, path)
            for old in remove:
                with contextlib.suppress(FileNotFoundError):
                    old.unlink()
        self._staged.clear()


def replace_whole(path: Path, *chunks: bytes) -> None:
    """Write *chunks* at *path* as a FileSet of one: a reader (another build, in parallel) finds the
    file that was there or the new one whole, and a power cut leaves no empty one. AudioError if it
    cannot be written."""
    with FileSet() as files:
        files.write_bytes(path, *chunks)
        files.commit()


@contextlib.contextmanager
def writing(path: Path) -> Iterator[None]:
    """What goes wrong writing *path*, said as what the user can do about it."""
    try:
        yield
    except OSError as error:
        if is_disk_full(error):
            raise AudioError(f"cannot write {path_text(path)}: {DISK_FULL}") from None
        raise AudioError(f"cannot write {path_text(path)}: {error.strerror or error}") from None


def name_max(folder: Path) -> int:
    """The most bytes a file name may have in *folder*."""
    try:
        found = os.pathconf(folder, "PC_NAME_MAX")
    except (OSError, ValueError, AttributeError):  # (no such folder yet; no pathconf on Windows)
        return DEFAULT_NAME_MAX
    return found if found > 0 else DEFAULT_NAME_MAX


def fit_name(text: str, size: int) -> str:
    """*text* cut to at most *size* bytes as a file name, on a character's boundary."""
    while len(os.fsencode(text)) > max(size, 0):
        text = text[:-1]
    return text


@contextlib.contextmanager
def _temporary_beside(path: Path) -> Iterator[Path]:
    """A temporary file in *path*'s folder, removed unless renamed. It is named after *path*, cut
    short where that name would be too long for the folder.

    It is locked while this process lives: one left by a process killed outright is not, and the
    next build of the same file removes it (see remove_stale_temporaries)."""
    room = name_max(path.parent) - len(".") - len(".") - _RANDOM - len(_SUFFIX)
    # Named before it is made, so that it is removed however the making ends (a stop signal
    # between the file's making and the handle's return would otherwise leave it).
    temp, handle, held = _temporary_name(path, room), -1, False
    try:
        try:
            try:
                handle = _create(temp)
            except FileExistsError:  # (a name another file took: as likely as 32 random bits)
                temp = _temporary_name(path, room)
                handle = _create(temp)
        except OSError as error:
            raise AudioError(
                f"cannot write in {path_text(path.parent)}: {error.strerror or error}"
            ) from None
        held = _locked(handle)
        with writing(path):
            # The file is private; a session is an ordinary file to share and play.
            os.chmod(temp, path.stat().st_mode & 0o777 if path.exists() else 0o644)
        yield temp
    finally:
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()
        if held:
            os.close(handle)


def _create(temp: Path) -> int:
    return os.open(temp, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)


def _temporary_name(path: Path, room: int) -> Path:
    return path.with_name(
        f".{fit_name(path.name, room)}.{secrets.token_hex(_RANDOM // 2)}{_SUFFIX}"
    )


def remove_stale_temporaries(folder: Path, names: Iterable[str]) -> None:
    """Remove the temporary files of files named by *names* (glob patterns) in *folder* that no live
    process holds: those left by a build killed outright."""
    if fcntl is None:
        return  # (without locks, a stale file cannot be told from one being written)
    for pattern in names:
        for temp in folder.glob(f".{pattern}.*{_SUFFIX}"):
            try:
                handle = os.open(temp, os.O_RDONLY)
            except OSError:
                continue  # gone meanwhile, or not ours to remove
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                temp.unlink()  # (while locked, so that no build can take it up meanwhile)
            except OSError:
                pass  # held: a build is writing it
            finally:
                os.close(handle)


def _locked(handle: int) -> bool:
    """Whether *handle*'s file is locked, and the handle kept open to hold it; without locks it is
    closed (on Windows, a file held open could not be renamed into place)."""
    if fcntl is None:
        os.close(handle)
        return False
    with contextlib.suppress(
        OSError
    ):  # (the file is still written, only not told from a stale one)
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    return True
