"""Faults of the machinery: no ffmpeg, a failing ffmpeg, no speech engine, an unknown voice, an
output folder that cannot be written, a full disk, Ctrl-C, two builds racing for one file.

Each ends with its own clear message and exit code (1 for the machinery, 2 for the user's input,
130 for Ctrl-C), never a traceback; the session file that was there before is untouched, and no
temporary file (`.<name>.part`) or folder (`voiceguide-*`) is left behind. Nothing is mocked but
the tool that breaks: the test makes ffmpeg or libespeak-ng unavailable, or limits the file size.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from audio_measure import decode, duration_ms
from click.testing import CliRunner, Result
from processes import (
    STOP_SECONDS,
    assert_all_gone,
    assert_group_gone,
    finish,
    phrase_spoken,
    voiceguide,
    wait_for,
)

from voiceguide.cli.commands import main
from voiceguide.common.externals import FFMPEG_VARIABLE, FfmpegNeed, ffmpeg_path, ffmpeg_paths_clear
from voiceguide.common.replacing import DISK_FULL
from voiceguide.output.export import read_stamp
from voiceguide.plans.loader import shipped_plan_path

DATA = Path(__file__).resolve().parent.parent / "data"
DEFAULT_PLAN = shipped_plan_path()
SHORT_PLAN = DATA / "hamstring-stretch.yaml"
"""A shipped plan that builds in about 4 s (2.3 MB of MP3)."""
OLD_SESSION = b"the previous session, which must survive"
INTERRUPTED = "Interrupted; no session file was changed."


@pytest.fixture
def scratch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A private temporary folder for this process (tempfile.tempdir); it must be empty again at the
    end."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    yield folder


@pytest.fixture
def out(tmp_path: Path) -> Path:
    """Where the session goes, with a previous session (and its timeline sidecar) already there."""
    folder = tmp_path / "out"
    folder.mkdir()
    path = folder / "session.mp3"
    path.write_bytes(OLD_SESSION)
    path.with_suffix(".json").write_text('{"old": true}\n')
    return path


def assert_nothing_left(out: Path, scratch: Path, cache: Path | None = None) -> None:
    """The previous session and its sidecar are intact; no .part file (beside the session or in the
    speech cache) and nothing in the temporary folder remain."""
    assert out.read_bytes() == OLD_SESSION, "the previous session was changed"
    assert out.with_suffix(".json").read_text() == '{"old": true}\n'
    parts = sorted(p.name for p in out.parent.iterdir() if p.name.endswith(".part"))
    assert parts == [], f"temporary files left: {parts}"
    left = sorted(p.name for p in scratch.iterdir())
    assert left == [], f"left in the temporary folder: {left}"
    if cache is not None:
        cached_parts = sorted(str(p.relative_to(cache)) for p in cache.rglob("*.part"))
        assert cached_parts == [], f"temporary files left in the speech cache: {cached_parts}"


def assert_failed(result: Result, exit_code: int, message: str) -> None:
    """Exit *exit_code*, no traceback, stderr exactly "Error: <message>"."""
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    assert "Traceback" not in result.output
    assert result.exit_code == exit_code, result.output
    assert result.stderr == f"Error: {message}\n"


def build(out: Path, *options: str, plan: Path | None = None) -> Result:
    return CliRunner().invoke(
        main, ["build", *([str(plan)] if plan else []), "-o", str(out), *options]
    )


# -- ffmpeg --------------------------------------------------------------------------------------


@pytest.fixture
def fresh_ffmpeg_lookup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Forget the ffmpeg found so far, before and after the test, so each looks it up anew; and
    start from an empty speech cache, so that the build needs ffmpeg (to level its phrases): an MP3
    whose phrases are all cached is made without it."""
    monkeypatch.setenv("VOICEGUIDE_CACHE_DIR", str(tmp_path / "cache"))
    ffmpeg_paths_clear()
    yield
    ffmpeg_paths_clear()


@pytest.mark.speech
def test_no_ffmpeg_anywhere_is_a_clear_failure(
    tiny: Path, out: Path, scratch: Path, monkeypatch: pytest.MonkeyPatch, fresh_ffmpeg_lookup: None
) -> None:
    """No ffmpeg on PATH and no imageio-ffmpeg: exit 1 and how to fix it; nothing written, nothing
    left."""
    monkeypatch.delenv(FFMPEG_VARIABLE, raising=False)
    monkeypatch.setattr(shutil, "which", lambda *args, **kwargs: None)
    monkeypatch.setitem(sys.modules, "imageio_ffmpeg", None)
    result = build(out, plan=tiny)
    assert_failed(
        result,
        1,
        "ffmpeg was not found on PATH and the imageio-ffmpeg package is not installed. "
        "Reinstall voiceguide (pip install .) so that its dependencies are present.",
    )
    assert_nothing_left(out, scratch)


@pytest.mark.audio
def test_failing_ffmpeg_leaves_the_previous_session(
    tiny: Path,
    out: Path,
    scratch: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    fresh_ffmpeg_lookup: None,
) -> None:
    """An ffmpeg that exits 1 gives exit 1 with its last words; the old session and sidecars stay, no
    temp is left."""
    script = tmp_path / "ffmpeg-that-fails"
    script.write_text(
        "#!/bin/sh\necho 'first line' >&2\necho 'simulated encoder failure' >&2\nexit 1\n"
    )
    script.chmod(0o755)
    monkeypatch.setenv(FFMPEG_VARIABLE, str(script))
    result = build(out, plan=tiny)
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    assert result.exit_code == 1, result.output
    assert result.stderr.startswith("Error: ffmpeg could not "), result.stderr
    assert "simulated encoder failure" in result.stderr and "Traceback" not in result.output
    assert_nothing_left(out, scratch)


@pytest.mark.audio
def test_ffmpeg_killed_by_a_signal_leaves_the_previous_session(
    tiny: Path,
    out: Path,
    scratch: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    fresh_ffmpeg_lookup: None,
) -> None:
    """ffmpeg crashing (SIGSEGV) while writing the session: exit 1 saying why, .part removed, old
    session intact. (An M4A: ffmpeg encodes every format but MP3, which LAME encodes in-process.)"""
    out = out.with_suffix(".m4a")
    out.write_bytes(OLD_SESSION)
    real = ffmpeg_path(*FfmpegNeed)  # (one that can do everything, whichever ffmpeg this run tests)
    script = tmp_path / "ffmpeg-that-crashes"
    script.write_text(
        "#!/bin/sh\nfor last; do :; done\n"
        f'case "$last" in *.part) head -c 100000 > "$last"; kill -SEGV $$;; esac\nexec "{real}" "$@"\n'
    )
    script.chmod(0o755)
    monkeypatch.setenv(FFMPEG_VARIABLE, str(script))
    result = build(out, plan=tiny)
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    assert result.exit_code == 1, result.output
    assert result.stderr.startswith("Error: ffmpeg could not encode the session"), result.stderr
    reason = result.stderr.strip().split(": ", 2)[-1]
    assert reason and reason != "no details", f"the message gives no reason: {result.stderr!r}"
    assert_nothing_left(out, scratch)


# -- the speech engine ---------------------------------------------------------------------------

WITHOUT_ESPEAK = """\
import ctypes, sys
if {hide_loader}:
    sys.modules["espeakng_loader"] = None  # the wheel with the bundled libespeak-ng is not installed


class NoEspeak(ctypes.CDLL):
    def __init__(self, name, *args, **kwargs):
        if name and "espeak" in str(name):
            raise OSError(f"{{name}}: cannot open shared object file: No such file or directory")
        super().__init__(name, *args, **kwargs)


ctypes.CDLL = NoEspeak  # no libespeak-ng can be loaded, neither the system's nor the bundled one
ctypes.cdll = ctypes.LibraryLoader(NoEspeak)
from voiceguide.cli.commands import main

main(sys.argv[1:], prog_name="voiceguide")
"""


def run_without_espeak(
    args: list[str], cwd: Path, *, hide_loader: bool
) -> subprocess.CompletedProcess[str]:
    code = WITHOUT_ESPEAK.format(hide_loader=hide_loader)
    env = {**os.environ, "TMPDIR": str(cwd / "tmp"), "VOICEGUIDE_CACHE_DIR": str(cwd / "cache")}
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize("command", ["build", "validate"])
def test_no_speech_engine_is_a_clear_failure(
    command: str, tiny: Path, out: Path, tmp_path: Path
) -> None:
    """No system libespeak-ng and no espeakng-loader: exit 1 and how to fix it, nothing written,
    nothing left."""
    (tmp_path / "tmp").mkdir()
    args = [command, str(tiny), *(["-o", str(out)] if command == "build" else [])]
    result = run_without_espeak(args, tmp_path, hide_loader=True)
    assert result.returncode == 1, result.stderr
    assert result.stderr == (
        "Error: libespeak-ng was not found on this system and the espeakng-loader package is not installed. "
        "Reinstall voiceguide (pip install .) so that its dependencies are present.\n"
    )
    assert result.stdout == ""
    assert_nothing_left(out, tmp_path / "tmp")


def test_speech_library_that_cannot_load_is_a_clear_failure(
    tiny: Path, out: Path, tmp_path: Path
) -> None:
    """espeakng-loader installed but its libespeak-ng will not load (say, a missing dependency): exit
    1, a message."""
    (tmp_path / "tmp").mkdir()
    result = run_without_espeak(["build", str(tiny), "-o", str(out)], tmp_path, hide_loader=False)
    assert "Traceback" not in result.stderr, result.stderr[-1500:]
    assert result.returncode == 1, result.stderr
    assert result.stderr.startswith("Error: ") and "espeak" in result.stderr.lower(), result.stderr
    assert_nothing_left(out, tmp_path / "tmp")


def test_voices_without_speech_engine_is_a_clear_failure(tmp_path: Path) -> None:
    """`voiceguide voices` with no speech engine fails with the same message, exit 1."""
    result = run_without_espeak(["voices"], tmp_path, hide_loader=True)
    assert result.returncode == 1
    assert result.stderr.startswith("Error: libespeak-ng was not found on this system"), (
        result.stderr
    )


@pytest.mark.speech
def test_unknown_voice_option_is_an_input_error_with_suggestions(
    tiny: Path, out: Path, scratch: Path
) -> None:
    """--voice with a misspelt voice exits 2 with close names and where to look; nothing written, nothing left."""
    result = build(out, "--voice", "English (Americ)", plan=tiny)
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith(
        "Error: there is no voice 'English (Americ)'. Did you mean 'English (America)'"
    )
    assert result.stderr.endswith("? Run `voiceguide voices` to see the installed voices.\n"), (
        result.stderr
    )
    assert_nothing_left(out, scratch)


@pytest.mark.speech
def test_unknown_voice_in_the_plan_is_an_input_error(tiny: Path, scratch: Path) -> None:
    """A plan whose settings.voice does not exist fails validation with exit 2 and a suggestion."""
    plan = tiny.with_name("voiced.yaml")
    plan.write_text(
        tiny.read_text().replace("exercises:", "settings:\n  voice: Englsh (America)\nexercises:")
    )
    result = CliRunner().invoke(main, ["validate", str(plan)])
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith(
        "Error: there is no voice 'Englsh (America)'. Did you mean 'English (America)'"
    )
    assert list(scratch.iterdir()) == []


# -- where the session is written ----------------------------------------------------------------


def test_output_inside_a_regular_file_is_a_clear_failure(
    tiny: Path, tmp_path: Path, scratch: Path
) -> None:
    """-o under a path that is a file, not a folder: exit 2 naming the path, nothing created."""
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file")
    result = build(blocker / "session.mp3", plan=tiny)
    assert_failed(result, 2, f"{blocker} is a file, not a folder; choose a folder with -o")
    assert blocker.read_text() == "a file" and list(scratch.iterdir()) == []


def test_output_in_proc_is_a_clear_failure(tiny: Path, scratch: Path) -> None:
    """-o in /proc (where nothing can be created, even by root): exit 2, "cannot write in /proc", nothing left."""
    result = build(Path("/proc/voiceguide-session.mp3"), plan=tiny)
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("Error: cannot write in /proc: "), result.stderr
    assert "\n" not in result.stderr.rstrip("\n")
    assert list(scratch.iterdir()) == []


def test_batch_into_a_file_is_an_input_error(tmp_path: Path) -> None:
    """batch -o naming a file, not a folder, exits 2 naming it, before any work."""
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file")
    profile = str(DATA / "profiles" / "older-patient.yaml")
    result = CliRunner().invoke(main, ["batch", str(DEFAULT_PLAN), profile, "-o", str(blocker)])
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    assert result.exit_code == 2, result.output
    assert re.search(rf"^Error: .*{re.escape(str(blocker))}", result.stderr, re.MULTILINE), (
        result.stderr
    )
    assert blocker.read_text() == "a file"


# -- subprocesses: a full disk, Ctrl-C, two builds at once ---------------------------------------


@pytest.mark.audio
@pytest.mark.parametrize(
    ("limit", "stage", "helpers"),
    [(20_000, "speech", False), (20_000, "speech", True), (1_000_000, "clips", False), (12_000_000, "encoding", False)],
    ids=["full-during-speech", "full-during-speech-with-a-helper", "full-while-keeping-the-clips",
         "full-during-encoding"],
)  # fmt: skip
def test_full_disk_is_a_clear_failure(
    limit: int, stage: str, helpers: bool, out: Path, tmp_path: Path
) -> None:
    """A full disk while speech is saved (by this process or a speech helper), the session's clips are
    kept in the temporary folder (see clipstore.py) or the MP3 written: exit 1, "the disk is full",
    old session intact, no temp, no process left. A file size limit stands for the full disk: the
    default plan's clips (about 6 MB, twice that with those mastering limits) outgrow 1 MB; tabata's
    (about 2 MB) stay well under 12 MB, which its session at 160 kbps (about 23 MB) outgrows."""
    plan = [str(DATA / "tabata.yaml"), "--bitrate", "160k"] if stage == "encoding" else []
    process = voiceguide(["build", *plan, "-o", str(out)], tmp_path, file_size_limit=limit, new_session=True,
                         helpers=helpers)  # fmt: skip
    stdout, stderr = finish(process, 90)
    assert "Traceback" not in stderr, stderr[-1500:]
    assert process.returncode == 1, stderr
    assert stderr.startswith("Error: ") and stderr.count("\n") == 1, stderr
    assert "the disk is full" in stderr, stderr
    if stage == "speech":
        assert "speech engine" in stderr, stderr
    elif stage == "clips":
        assert stderr == (
            f"Error: cannot keep the session's clips in the temporary folder {tmp_path / 'tmp'}: the disk is full; "
            "free some space, or set TMPDIR to a folder on a disk with room\n"
        )
    else:
        assert stderr == f"Error: cannot write {out}: {DISK_FULL}\n"
    assert stdout == ""
    assert_group_gone(process.pid)
    assert_nothing_left(out, tmp_path / "tmp", tmp_path / "cache")


@pytest.mark.audio
@pytest.mark.parametrize(
    ("stage", "whole_group", "helpers"),
    [
        ("speech", True, False),
        ("speech", True, True),
        ("speech", False, True),
        ("encoding", True, False),
        ("encoding", False, False),
    ],
    ids=[
        "ctrl-c-during-speech",
        "ctrl-c-during-speech-with-a-helper",
        "sigint-to-python-only-during-speech-with-a-helper",
        "ctrl-c-during-encoding",
        "sigint-to-python-only-during-encoding",
    ],
)
def test_ctrl_c_during_build_exits_130_and_leaves_the_previous_session(
    stage: str, whole_group: bool, helpers: bool, out: Path, tmp_path: Path
) -> None:
    """Ctrl-C during speech (with a speech helper too) or encoding: exit 130 within 5 s, the message,
    old session intact, no temp, no process."""
    process = voiceguide(["build", "-o", str(out)], tmp_path, new_session=True, helpers=helpers)
    if helpers:  # once the helper's engine has started (in the temporary folder it is given)
        wait_for(
            "helper",
            lambda: any((tmp_path / "tmp").glob("voiceguide-helper-*/voiceguide-speech-*")),
            process,
        )
    elif stage == "speech":  # as soon as the engine has written a phrase: it is busy with the next
        wait_for(
            "phrase", lambda: any((tmp_path / "tmp").glob("voiceguide-speech-*/*.wav")), process
        )
    else:
        wait_for(".part file", lambda: any(out.parent.glob(".*.part")), process)
        time.sleep(0.3)
    if whole_group:
        os.killpg(
            process.pid, signal.SIGINT
        )  # what Ctrl-C in a terminal does: the whole foreground group
    else:
        process.send_signal(signal.SIGINT)
    interrupted = time.monotonic()
    stdout, stderr = finish(process, 30)
    took = time.monotonic() - interrupted
    assert process.returncode == 130, stderr
    assert took < 5, f"took {took:.1f} s to stop"
    assert "Traceback" not in stderr, stderr
    assert stderr.strip() == INTERRUPTED, stderr
    assert stdout == "", stdout
    assert_group_gone(process.pid)
    assert_nothing_left(out, tmp_path / "tmp", tmp_path / "cache")


CTRL_C_WHILE_PYDUB_LOADS = """\
import signal, sys


class CtrlCWhileLooking:
    def find_spec(self, name, path, target=None):
        if name == "StringIO":  # (pydub looks for Python 2's StringIO first, in a bare try/except)
            signal.raise_signal(signal.SIGINT)
        return None


sys.meta_path.insert(0, CtrlCWhileLooking())
from voiceguide.common.externals import audio_segment
try:
    audio_segment()
except KeyboardInterrupt:
    print("interrupted")
else:
    print("carried on")
"""


@pytest.mark.runs_ffmpeg
def test_ctrl_c_while_the_audio_library_loads_is_not_lost(tmp_path: Path) -> None:
    """A Ctrl-C that comes while pydub is imported (the first phrase's, in a build) interrupts the
    command after the import: pydub's import runs a bare `except:` that would swallow it."""
    result = subprocess.run(
        [sys.executable, "-c", CTRL_C_WHILE_PYDUB_LOADS],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (result.returncode, result.stdout, result.stderr) == (0, "interrupted\n", "")


@pytest.mark.audio
def test_ctrl_c_during_batch_exits_130_and_stops_every_worker(tmp_path: Path) -> None:
    """Ctrl-C while a batch of two profiles builds: exit 130 promptly, every worker gone, nothing left
    behind."""
    folder = tmp_path / "sessions"
    folder.mkdir()
    previous = folder / "feet-for-back-pain-older-patient.mp3"
    previous.write_bytes(OLD_SESSION)
    profiles = [
        str(DATA / "profiles" / name) for name in ("older-patient.yaml", "left-side-rehab.yaml")
    ]
    process = voiceguide(
        ["batch", str(DEFAULT_PLAN), *profiles, "-o", str(folder)], tmp_path, new_session=True
    )
    wait_for("phrase", phrase_spoken(tmp_path / "tmp"), process)
    os.killpg(process.pid, signal.SIGINT)
    interrupted = time.monotonic()
    stdout, stderr = finish(process, 30)
    took = time.monotonic() - interrupted
    assert process.returncode == 130, stderr
    assert took < STOP_SECONDS, f"took {took:.1f} s to stop"
    assert stderr.strip() == INTERRUPTED, stderr
    assert stdout == "", f"the speech engine's chatter reached stdout: {stdout!r}"
    assert_group_gone(process.pid)
    assert_all_gone(tmp_path / "tmp")
    assert previous.read_bytes() == OLD_SESSION
    assert sorted(p.name for p in folder.iterdir()) == [previous.name]
    assert list((tmp_path / "tmp").iterdir()) == []
    assert list((tmp_path / "cache").rglob("*.part")) == []


@pytest.mark.audio
def test_two_builds_of_one_file_at_once_leave_one_complete_session(tmp_path: Path) -> None:
    """Two builds of one output at once both succeed and leave one whole session (length within 50 ms),
    no temp."""
    output = tmp_path / "race" / "session.mp3"
    output.parent.mkdir()
    first = voiceguide(["build", str(SHORT_PLAN), "-o", str(output), "--force"], tmp_path)
    second = voiceguide(["build", str(SHORT_PLAN), "-o", str(output), "--force"], tmp_path)
    results = [finish(first, 120), finish(second, 120)]
    for process, (stdout, stderr) in zip((first, second), results, strict=True):
        assert process.returncode == 0, stderr
        assert stdout.startswith(f"Wrote {output} ("), stdout
    stamp = read_stamp(output)
    assert stamp is not None, "the file has no voiceguide stamp"
    decoded = duration_ms(decode(output))
    assert abs(decoded - stamp.length_ms) <= 50, (
        f"decodes to {decoded:.0f} ms, its timeline says {stamp.length_ms}"
    )
    timeline = json.loads(output.with_suffix(".json").read_text())
    assert round(timeline["total"] * 1000) == stamp.length_ms
    written = sorted(p.name for p in output.parent.iterdir())
    assert written == ["session.html", "session.json", "session.mp3", "session.txt", "session.vtt"]
    assert list((tmp_path / "tmp").iterdir()) == []
    assert list((tmp_path / "cache").rglob("*.part")) == []
