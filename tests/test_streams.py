"""Output that cannot be delivered: stdout into a full device, or into a pipe whose reader has gone
(`| head`, `| true`). Real subprocesses, since only they have real file descriptors.

A full stdout is a failure (exit 1) said in one line on stderr; a reader that has gone is the
usual end of a command in a pipe (exit 141, as for one stopped by SIGPIPE), quietly. Either way
the files a build wrote are complete, and no traceback is printed.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from builders import TINY_PLAN

from voiceguide.output.export import read_stamp

EXIT_PIPE_CLOSED = 141
FULL = "Error: cannot write to standard output: No space left on device\n"


@pytest.fixture
def plan(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.yaml"
    path.write_text(TINY_PLAN)
    return path


def into_full_device(*args: str | Path) -> subprocess.CompletedProcess[str]:
    with open("/dev/full", "w") as full:
        return subprocess.run(
            [sys.executable, "-m", "voiceguide", *map(str, args)],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            timeout=300,
        )


def into_closed_pipe(*args: str | Path) -> subprocess.CompletedProcess[str]:
    """Run with stdout a pipe whose reading end is already closed (what `| true` leaves)."""
    read, write = os.pipe()
    os.close(read)
    try:
        return subprocess.run(
            [sys.executable, "-m", "voiceguide", *map(str, args)],
            stdout=write,
            stderr=subprocess.PIPE,
            text=True,
            timeout=300,
        )
    finally:
        os.close(write)


@pytest.mark.speech
@pytest.mark.runs_ffmpeg
def test_preview_into_a_full_device_fails_in_one_line(plan: Path) -> None:
    """preview > /dev/full: exit 1, "cannot write to standard output", no traceback."""
    result = into_full_device("preview", plan)
    assert result.returncode == 1, result.stderr
    assert result.stderr == FULL


def test_help_into_a_full_device_fails_in_one_line() -> None:
    """Click's own output (help) meets the same end."""
    result = into_full_device("build", "--help")
    assert result.returncode == 1, result.stderr
    assert result.stderr == FULL


@pytest.mark.speech
@pytest.mark.runs_ffmpeg
@pytest.mark.parametrize("args", [["preview"], ["validate"], ["build", "--help"], ["--version"]])
def test_a_closed_pipe_ends_the_command_quietly(plan: Path, args: list[str]) -> None:
    """`voiceguide preview | true` and the like: exit 141, nothing on stderr."""
    result = into_closed_pipe(*args, *([plan] if args[0] in ("preview", "validate") else []))
    assert result.returncode == EXIT_PIPE_CLOSED, result.stderr
    assert result.stderr == ""


@pytest.mark.audio
def test_build_into_a_closed_pipe_keeps_the_session_it_wrote(plan: Path, tmp_path: Path) -> None:
    """`voiceguide build ... | true`: the session and its sidecars are written and complete (their
    stamp says so), the exit code says only that the report was not read."""
    out = tmp_path / "s.mp3"
    result = into_closed_pipe("build", plan, "-o", out)
    assert result.returncode == EXIT_PIPE_CLOSED, result.stderr
    assert result.stderr == ""
    stamp = read_stamp(out)
    assert stamp is not None and stamp.length_ms > 20_000
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("s.")) == [
        "s.html",
        "s.json",
        "s.mp3",
        "s.txt",
        "s.vtt",
    ]
    again = subprocess.run(
        [sys.executable, "-m", "voiceguide", "build", str(plan), "-o", str(out)],
        capture_output=True,
        text=True,
    )
    assert again.stdout.startswith(f"Up to date: {out} ("), again.stdout + again.stderr


@pytest.mark.audio
def test_build_into_a_full_device_says_so_after_writing(plan: Path, tmp_path: Path) -> None:
    """build > /dev/full: the session is written; the failure to say so is exit 1 in one line."""
    out = tmp_path / "s.mp3"
    result = into_full_device("build", plan, "-o", out)
    assert result.returncode == 1, result.stderr
    assert result.stderr == FULL
    assert read_stamp(out) is not None
