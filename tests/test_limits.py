"""Limits of size and of input: plans with many exercises, truncated sessions, endless or empty
music, and outputs that are not regular files."""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import wave
from pathlib import Path

import audio_measure as am
import pytest
from cost_marks import marks_its_tests
from test_listening import READERS

from voiceguide.output.chapters import MAX_CHAPTERS
from voiceguide.plans.loader import MAX_EXERCISES, load_plan_text

ENOUGH_S = 120
"""What a refused input or a tiny build takes at most on a loaded machine: a hang fails the test
instead of stopping the suite."""


def voiceguide(
    *arguments: str, seconds: float = ENOUGH_S, **environment: str
) -> subprocess.CompletedProcess[str]:
    """The command in a fresh process; fails the test if it has not finished within *seconds*,
    after stopping it and whatever it started (an ffmpeg looping forever)."""
    command = [sys.executable, "-m", "voiceguide", *arguments]
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=dict(os.environ, **environment),
        start_new_session=True,
    ) as process:  # fmt: skip
        try:
            stdout, stderr = process.communicate(timeout=seconds)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
            pytest.fail(f"voiceguide {' '.join(arguments)} was still running after {seconds} s")
    return subprocess.CompletedProcess(command, process.returncode, stdout, stderr)


def many_exercises(count: int) -> str:
    """A plan of *count* tiny exercises (one 1-second hold each, no counting, no lead-in)."""
    lines = ["title: Many", "settings:", "  lead_in: 0", "  rest_between_exercises: 1", "  counting: none",
             "exercises:"]  # fmt: skip
    for number in range(1, count + 1):
        lines += [f"  - name: E{number}", "    hold: 1"]
    return "\n".join(lines) + "\n"


TINY = "title: Tiny\nexercises:\n  - name: Squeeze\n    hold: 2\n    reps: 2\n"


# --- chapters of long plans
# ------------------------------------------------------------------------


@pytest.fixture(scope="module")
@marks_its_tests("audio")
def three_hundred(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`voiceguide build` of 300 tiny exercises into an MP3; the session's path. Spoken at the
    fastest rate there is, which makes the session a third shorter (and quicker to build) than at
    the default: what is checked is its chapters, whatever their length."""
    folder = tmp_path_factory.mktemp("many")
    plan = folder / "many.yaml"
    plan.write_text(many_exercises(300))
    output = folder / "many.mp3"
    result = voiceguide(
        "build", str(plan), "-o", str(output), "--no-sidecars", "--rate", "400", seconds=600
    )
    assert result.returncode == 0, result.stderr
    return output


@pytest.mark.audio
@pytest.mark.parametrize("reader", list(READERS))
def test_a_plan_of_300_exercises_has_chapters_of_consecutive_exercises(
    three_hundred: Path, reader: str
) -> None:
    """Past what an ID3 table of contents holds, exercises share chapters two by two, titled by
    their first and last, between the introduction and the closing, covering the whole session."""
    chapters = READERS[reader](three_hundred)
    pairs = [f"E{n} \u2013 E{n + 1}" for n in range(1, 300, 2)]
    assert [c.title for c in chapters] == ["Introduction", *pairs, "Closing"]
    assert len(chapters) <= MAX_CHAPTERS
    assert chapters[0].start_ms == 0
    assert all(a.end_ms == b.start_ms for a, b in itertools.pairwise(chapters))
    decoded = am.duration_ms(am.decode(three_hundred))
    assert abs(chapters[-1].end_ms - decoded) <= 30, (
        f"last chapter ends {chapters[-1].end_ms}, audio {decoded}"
    )


# --- up to date, or truncated
# ----------------------------------------------------------------------


@pytest.mark.audio
@pytest.mark.parametrize("extension", ["mp3", "m4a", "ogg", "wav"])
def test_a_truncated_session_is_rebuilt(tmp_path: Path, extension: str) -> None:
    """A session cut short (its tags kept) is not up to date: the next build makes it whole again."""
    plan = tmp_path / "tiny.yaml"
    plan.write_text(TINY)
    output = tmp_path / f"tiny.{extension}"
    first = voiceguide("build", str(plan), "-o", str(output), "--no-sidecars")
    assert first.returncode == 0, first.stderr
    whole = am.duration_ms(am.decode(output))
    again = voiceguide("build", str(plan), "-o", str(output), "--no-sidecars")
    assert again.stdout.startswith("Up to date"), again.stdout
    data = output.read_bytes()
    output.write_bytes(data[: len(data) * 2 // 3])
    rebuilt = voiceguide("build", str(plan), "-o", str(output), "--no-sidecars")
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert rebuilt.stdout.startswith("Wrote"), rebuilt.stdout
    assert abs(am.duration_ms(am.decode(output)) - whole) <= 1, "the rebuilt session is not whole"


# --- inputs that never end, or hold nothing
# --------------------------------------------------------


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    plan = tmp_path / "tiny.yaml"
    plan.write_text(TINY)
    return plan


def test_endless_music_is_refused(tiny: Path, tmp_path: Path) -> None:
    """--music /dev/zero (an input that never ends) is refused at once, with exit 2."""
    result = voiceguide(
        "build", str(tiny), "-o", str(tmp_path / "s.mp3"), "--music", "/dev/zero", seconds=60
    )
    assert result.returncode == 2, result.stderr
    assert "/dev/zero" in result.stderr and "not a regular file" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "s.mp3").exists()


@pytest.mark.runs_ffmpeg
@pytest.mark.parametrize("ffmpeg", ["system", "bundled"])
def test_music_without_samples_is_refused(tiny: Path, tmp_path: Path, ffmpeg: str) -> None:
    """A WAV of 0 samples as music: a clear message and exit 2, with either ffmpeg, never a hang."""
    music = tmp_path / "empty.wav"
    with wave.open(str(music), "wb") as empty:
        empty.setnchannels(1)
        empty.setsampwidth(2)
        empty.setframerate(22_050)
    environment = {"VOICEGUIDE_FFMPEG": "bundled"} if ffmpeg == "bundled" else {}
    result = voiceguide("build", str(tiny), "-o", str(tmp_path / "s.mp3"), "--music", str(music), seconds=60,
                        **environment)  # fmt: skip
    assert result.returncode == 2, result.stderr
    assert str(music) in result.stderr and "no audio" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("force", [False, True])
def test_an_output_that_is_a_fifo_is_refused_before_any_work(
    tiny: Path, tmp_path: Path, force: bool
) -> None:
    """An existing output that is a FIFO is refused with exit 2, never opened (which would block)
    nor replaced."""
    fifo = tmp_path / "s.mp3"
    os.mkfifo(fifo)
    result = voiceguide(
        "build", str(tiny), "-o", str(fifo), *(["--force"] if force else []), seconds=60
    )
    assert result.returncode == 2, result.stderr
    assert str(fifo) in result.stderr and "not a regular file" in result.stderr, result.stderr
    assert fifo.is_fifo()


# --- the size of a plan
# ----------------------------------------------------------------------------


def test_a_plan_over_the_exercise_limit_is_refused_by_validate(tmp_path: Path) -> None:
    """`validate` of a plan one exercise over MAX_EXERCISES: exit 2, located, naming the limit, no
    speech made."""
    plan = tmp_path / "huge.yaml"
    plan.write_text(many_exercises(MAX_EXERCISES + 1))
    result = voiceguide("validate", str(plan), seconds=60)
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    expected = (
        f"  {plan}:7:3: exercises: a plan has at most {MAX_EXERCISES} exercises, found {MAX_EXERCISES + 1}; "
        "split it into several plans"
    )
    assert result.stderr.splitlines() == ["Error: the plan has a problem:", expected], result.stderr


def test_a_plan_of_as_many_exercises_as_allowed_loads() -> None:
    """MAX_EXERCISES exercises are a valid plan."""
    assert len(load_plan_text(many_exercises(MAX_EXERCISES)).exercises) == MAX_EXERCISES
