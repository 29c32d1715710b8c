"""Notes, in the file that $VOICEGUIDE_TEST_STARTS names, each time this process starts the speech
engine or an ffmpeg: conftest reads them to fail a test whose marks do not say so (see cost_marks.py).

It imports nothing of voiceguide's or of the libraries', since tests check which of those a command
imports, and it watches through Python's audit events, so it sees what any code starts.
"""

import os
import sys

VARIABLE = "VOICEGUIDE_TEST_STARTS"
SPEECH, FFMPEG = "speech", "ffmpeg"
ESPEAK_DRIVER = "pyttsx3.drivers._espeak"
"""Imported as pyttsx3 starts the espeak-ng engine the first time in a process."""


def note(what: str) -> None:
    path = os.environ.get(VARIABLE)
    if path:
        with open(path, "a") as notes:
            notes.write(f"{what}\n")


def program_kind(program: object) -> str | None:
    """SPEECH or FFMPEG if *program* (a path or a name) is an ffmpeg or espeak-ng."""
    if not isinstance(program, (str, bytes, os.PathLike)):
        return None
    name = os.path.basename(os.fsdecode(program))
    if "ffmpeg" in name or "ffprobe" in name:
        return FFMPEG
    return SPEECH if "espeak" in name else None


def _on_event(event: str, args: tuple[object, ...]) -> None:
    if event == "import" and args[0] == ESPEAK_DRIVER:
        note(SPEECH)
    elif event == "subprocess.Popen":
        executable, argv = args[0], args[1]
        if not executable and isinstance(argv, (list, tuple)):
            executable = argv[0] if argv else None
        kind = program_kind(executable or argv)
        if kind:
            note(kind)


def watch() -> None:
    """Watch this process from now on (audit hooks cannot be removed: once a process)."""
    sys.addaudithook(_on_event)
