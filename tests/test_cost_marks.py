"""The marks by cost (tests/cost_marks.py): a test that starts the speech engine or ffmpeg without the
mark that allows it fails, whether it starts it itself or through a process it starts; and
`scripts/test --fast` leaves out every test with one of those marks."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from cost_marks import COST_MARKS

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent


def run_pytest(folder: Path, test_file: str) -> str:
    """pytest's short summary of *test_file* run in *folder* with the check (and nothing else of
    this suite's)."""
    (folder / "test_marked.py").write_text(test_file)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "cost_marks", "-p", "no:cacheprovider", "-q", "-rA"],
        capture_output=True,
        text=True,
        cwd=folder,
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(TESTS), os.environ["PYTHONPATH"]])},
        timeout=120,
        check=False,
    )
    return result.stdout


def outcomes(summary: str) -> dict[str, set[str]]:
    """Each test's outcomes in the short summary (PASSED, and ERROR for one that failed at its
    teardown)."""
    found: dict[str, set[str]] = {}
    for outcome, name in re.findall(
        r"^(PASSED|FAILED|ERROR) test_marked\.py::(\w+)", summary, re.M
    ):
        found.setdefault(name, set()).add(outcome)
    return found


def test_a_test_that_runs_ffmpeg_unmarked_fails_even_through_a_process_it_starts(
    tmp_path: Path,
) -> None:
    """An ffmpeg (found by its name: here a stand-in that does nothing) started by the test, or by a
    Python process it starts, fails it unless it is marked runs_ffmpeg, ffmpeg or audio."""
    fake = tmp_path / "bin" / "ffmpeg"
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\nexit 0\n")
    fake.chmod(0o755)
    summary = run_pytest(
        tmp_path,
        f"""\
import subprocess, sys
import pytest

FFMPEG = {str(fake)!r}
CHILD = f"import subprocess; subprocess.run([{{FFMPEG!r}}], check=True)"

def test_unmarked():
    subprocess.run([FFMPEG], check=True)

def test_unmarked_through_a_child():
    subprocess.run([sys.executable, "-c", CHILD], check=True)

def test_unmarked_starting_something_else():
    subprocess.run(["true"], check=True)

@pytest.mark.runs_ffmpeg
def test_marked():
    subprocess.run([FFMPEG], check=True)

@pytest.mark.ffmpeg
def test_marked_as_depending_on_it():
    subprocess.run([sys.executable, "-c", CHILD], check=True)

@pytest.mark.audio
def test_marked_end_to_end():
    subprocess.run([FFMPEG], check=True)

@pytest.mark.speech
def test_marked_for_the_other():
    subprocess.run([FFMPEG], check=True)
""",
    )
    assert outcomes(summary) == {
        "test_unmarked": {"PASSED", "ERROR"},
        "test_unmarked_through_a_child": {"PASSED", "ERROR"},
        "test_unmarked_starting_something_else": {"PASSED"},
        "test_marked": {"PASSED"},
        "test_marked_as_depending_on_it": {"PASSED"},
        "test_marked_end_to_end": {"PASSED"},
        "test_marked_for_the_other": {"PASSED", "ERROR"},
    }, summary
    assert (
        "test_marked.py::test_unmarked started ffmpeg but is not marked @pytest.mark.runs_ffmpeg"
        " or @pytest.mark.ffmpeg or @pytest.mark.audio (see tests/cost_marks.py)" in summary
    ), summary


@pytest.mark.speech
def test_a_test_that_starts_the_speech_engine_unmarked_fails(tmp_path: Path) -> None:
    """A phrase spoken by the real engine, in the test's process or in one it starts, fails the test
    unless it is marked speech or audio (an engine started in a process before fails it too: each
    start is noted)."""
    speak = (
        "from voiceguide.sound.speech import Synthesizer\n"
        "Synthesizer(voice=None, rate=170, sample_rate=22050).clip('Squeeze.')\n"
    )
    summary = run_pytest(
        tmp_path,
        f"""\
import subprocess, sys
import pytest

SPEAK = {speak!r}

def test_unmarked():
    exec(SPEAK)

def test_unmarked_again():
    exec(SPEAK)

def test_unmarked_through_a_child():
    subprocess.run([sys.executable, "-c", SPEAK], check=True)

@pytest.mark.speech
def test_marked():
    exec(SPEAK)

@pytest.mark.audio
def test_marked_end_to_end():
    subprocess.run([sys.executable, "-c", SPEAK], check=True)
""",
    )
    assert outcomes(summary) == {
        "test_unmarked": {"PASSED", "ERROR"},
        "test_unmarked_again": {"PASSED", "ERROR"},
        "test_unmarked_through_a_child": {"PASSED", "ERROR"},
        "test_marked": {"PASSED"},
        "test_marked_end_to_end": {"PASSED"},
    }, summary


def test_the_fast_run_leaves_out_every_mark_by_cost_and_each_is_registered() -> None:
    """`scripts/test --fast` selects the tests with none of the marks that allow a start, and
    pyproject.toml describes each of them."""
    script = (ROOT / "scripts" / "test").read_text()
    (selection,) = re.findall(r'-m "not \(([^)]*)\)"', script)
    every = {mark for marks in COST_MARKS.values() for mark in marks}
    assert set(selection.split(" or ")) == every
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    registered = {line.split(":")[0] for line in config["tool"]["pytest"]["ini_options"]["markers"]}
    assert every <= registered
