"""One family of errors, each carrying a message a user can act on.

The CLI turns these into exit codes: input mistakes (a bad plan, a bad option) exit 2,
failures of the machinery (speech engine, ffmpeg, the disk) exit 1.
"""

from __future__ import annotations


class VoiceguideError(Exception):
    """Base of every error voiceguide raises on purpose."""

    exit_code = 1


class PlanError(VoiceguideError):
    """The plan file is unreadable or does not describe a valid session."""

    exit_code = 2

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


class SettingsError(VoiceguideError):
    """An option or setting has a value that cannot be used (an unknown voice, say)."""

    exit_code = 2


class SpeechError(VoiceguideError):
    """The speech engine could not be loaded or failed to synthesize a phrase."""


class AudioError(VoiceguideError):
    """Audio could not be encoded or the session file could not be written."""
