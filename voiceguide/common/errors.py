"""One family of errors, each carrying a message a user can act on.

Two kinds: a mistake in the input (InputError: a bad plan, a bad option, an output that cannot be
written as given), and a failure of the machinery (any other VoiceguideError: the speech engine,
ffmpeg, the disk). The CLI says each and turns its kind into an exit code (see cli/ending.py).
"""

from __future__ import annotations

import errno
import os


class VoiceguideError(Exception):
    """Base of every error voiceguide raises on purpose: as such, a failure of the machinery."""

    def report(self) -> str:
        """The message as a user reads it."""
        return str(self)


class InputError(VoiceguideError):
    """A mistake in the input: a plan, profile, option or file as the user gave it."""


class PlanError(InputError):
    """A plan, profile or --set option is unreadable or does not describe a valid session."""

    def __init__(self, problems: list[str], *, subject: str = "the plan") -> None:
        self.problems = problems
        self.subject = subject
        """What the problems are in, for the heading: "the plan", "the profile", ..."""
        super().__init__("\n".join(problems))

    @property
    def heading(self) -> str:
        count = len(self.problems)
        return (
            f"{self.subject} has a problem:"
            if count == 1
            else f"{self.subject} has {count} problems:"
        )

    def report(self) -> str:
        return "\n".join([self.heading, *(f"  {problem}" for problem in self.problems)])


class SettingsError(InputError):
    """An option or setting has a value that cannot be used (an unknown voice, say)."""


class SpeechError(VoiceguideError):
    """The speech engine could not be loaded or failed to synthesize a phrase."""


class AudioError(VoiceguideError):
    """Audio could not be encoded or the session file could not be written."""


class CacheError(VoiceguideError):
    """The speech cache cannot be read or cleared (`voiceguide cache`; a build only misses its
    savings)."""


def path_text(path: str | os.PathLike[str]) -> str:
    """A path as it goes into a message, a tag or a sidecar: a file name that is not UTF-8 keeps its
    odd bytes as \\xff escapes, rather than carrying surrogates that no file or terminal can take."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")


DISK_FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})
"""What the system says when a file cannot grow: no room, over a quota, or over a size limit."""


def is_disk_full(error: BaseException) -> bool:
    return isinstance(error, OSError) and error.errno in DISK_FULL_ERRNOS
