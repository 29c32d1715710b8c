"""The command line as a user meets it: exit codes, messages on stderr, a clean stdout."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from voiceguide.cli.commands import main
from voiceguide.common.externals import FFMPEG_VARIABLE, ffmpeg_paths_clear

OVERRUN_PLAN = """\
title: Too tight
exercises:
  - name: Squeeze
    reps: 3
    hold: 2
    reset: 1
"""


@pytest.mark.audio
def test_build_writes_the_session_and_says_where(
    runner: CliRunner, tiny: Path, tmp_path: Path
) -> None:
    """build writes an MP3 at -o and names it and its length on stdout."""
    out = tmp_path / "tiny.mp3"
    result = runner.invoke(main, ["build", str(tiny), "-o", str(out)], catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    assert out.stat().st_size > 1000
    assert result.stdout.startswith(f"Wrote {out} (")
    assert "1 exercise)" in result.stdout
    assert "Audio saved" not in result.output
    assert list(tmp_path.glob(".*.part")) == []


@pytest.mark.audio
def test_build_without_plan_writes_default_session_into_output(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With no PLAN, build renders the shipped default plan into ./output/."""
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(main, ["build"], catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    written = tmp_path / "output" / "feet-for-back-pain.mp3"
    assert written.stat().st_size > 100_000
    assert "output/feet-for-back-pain.mp3" in result.stdout
    assert "5 exercises" in result.stdout


@pytest.mark.audio
def test_failed_encoding_leaves_existing_file_untouched(
    runner: CliRunner,
    tiny: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
) -> None:
    """When ffmpeg fails, the old session survives, no temporary file is left, and the exit code is 1.
    (From an empty speech cache: the build then needs ffmpeg to level its phrases.)"""
    monkeypatch.setenv("VOICEGUIDE_CACHE_DIR", str(tmp_path / "cache"))
    out = tmp_path / "session.mp3"
    out.write_bytes(b"the previous session")
    monkeypatch.setenv(FFMPEG_VARIABLE, str(_failing_ffmpeg(tmp_path)))
    ffmpeg_paths_clear()
    request.addfinalizer(ffmpeg_paths_clear)  # the next tests find the real ffmpeg again
    result = runner.invoke(main, ["build", str(tiny), "-o", str(out)])
    assert result.exit_code == 1
    assert (
        result.stderr.startswith("Error: ffmpeg could not ")
        and "simulated encoder failure" in result.stderr
    )
    assert "Traceback" not in result.output
    assert out.read_bytes() == b"the previous session"
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".part")] == []


def _failing_ffmpeg(folder: Path) -> Path:
    script = folder / "ffmpeg-that-fails"
    script.write_text("#!/bin/sh\necho 'simulated encoder failure' >&2\nexit 1\n")
    script.chmod(0o755)
    return script


def test_bad_plan_exits_2_and_leaves_output_untouched(runner: CliRunner, tmp_path: Path) -> None:
    """An invalid plan is reported with file, line and field; nothing is written."""
    plan = tmp_path / "bad.yaml"
    plan.write_text("title: Bad\nexercises:\n  - name: Squeeze\n    hodl: 3\n")
    out = tmp_path / "session.mp3"
    out.write_bytes(b"old")
    result = runner.invoke(main, ["build", str(plan), "-o", str(out)])
    assert result.exit_code == 2
    assert (
        f"{plan}:4:5: exercises[0].hodl: unknown field 'hodl'; did you mean 'hold'?"
        in result.stderr
    )
    assert result.stdout == ""
    assert out.read_bytes() == b"old"


def test_missing_output_folder_is_a_clear_failure(
    runner: CliRunner, tiny: Path, tmp_path: Path
) -> None:
    """An output path in a folder that does not exist is refused (a usage error) naming the folder."""
    result = runner.invoke(main, ["build", str(tiny), "-o", str(tmp_path / "nowhere" / "s.mp3")])
    assert result.exit_code == 2
    assert "does not exist" in result.stderr and "nowhere" in result.stderr


@pytest.mark.speech
@pytest.mark.runs_ffmpeg
def test_preview_prints_the_timed_script(runner: CliRunner, tiny: Path) -> None:
    """preview shows each cue with its time and the total, without writing audio."""
    result = runner.invoke(main, ["preview", str(tiny)], catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "Effective values:"
    assert ["Squeeze.hold", "2", "s"] in [line.split() for line in lines]
    lines = lines[lines.index("") + 1 :]
    assert lines[0].startswith("Tiny: ")
    assert any("[start tone]" in line and "hold" in line for line in lines)
    assert any('"Squeeze your hand."' in line for line in lines)
    assert lines[-1].startswith("Total: ")
    assert result.stderr == ""


@pytest.mark.speech
def test_preview_json_has_events_with_times_kinds_and_phases(runner: CliRunner, tiny: Path) -> None:
    """preview --json gives an events list whose entries carry start, end, kind, text, exercise and
    phase."""
    result = runner.invoke(main, ["preview", str(tiny), "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    events = data["events"]
    assert events[0]["start"] == 0 and events[-1]["end"] == data["total"]
    assert {e["kind"] for e in events} == {"speech", "tone", "silence"}
    assert {"intro", "announce", "lead-in", "hold", "reset", "outro"} <= {
        e["phase"] for e in events
    }
    for event in events:
        assert event["end"] >= event["start"]
        assert ("text" in event) == (event["kind"] == "speech")
        assert "exercise" in event
    holds = [i for i in data["intervals"] if i["phase"] == "hold"]
    assert [round(i["end"] - i["start"], 3) for i in holds] == [2.0, 2.0]


@pytest.mark.audio
def test_validate_accepts_every_shipped_plan(runner: CliRunner) -> None:
    """Every plan in data/ is valid and every phrase in it fits its slot."""
    for plan in sorted(Path(__file__).parent.parent.joinpath("data").glob("*.yaml")):
        result = runner.invoke(main, ["validate", str(plan)], catch_exceptions=False)
        assert result.exit_code == 0, f"{plan.name}: {result.stderr}"
        assert ": OK, " in result.stdout


def test_validate_reports_each_problem_and_exits_2(runner: CliRunner, tmp_path: Path) -> None:
    """validate lists every problem of a bad plan, each with its location."""
    plan = tmp_path / "bad.yaml"
    plan.write_text(
        "title: Bad\nexercises:\n  - name: A\n    hold: soon\n  - name: B\n    work: 5\n    reps: -1\n"
    )
    result = runner.invoke(main, ["validate", str(plan)])
    assert result.exit_code == 2
    assert "the plan has 2 problems:" in result.stderr
    assert f"{plan}:4:11: exercises[0].hold: expected a duration" in result.stderr
    assert (
        f"{plan}:7:11: exercises[1].reps: expected a whole number from 1 to 500, found -1"
        in result.stderr
    )
    assert result.stdout == ""


@pytest.mark.speech
def test_validate_reports_speech_that_overruns_its_slot(runner: CliRunner, tmp_path: Path) -> None:
    """A reset too short for its cues is reported with the overrun in seconds, exit 2."""
    plan = tmp_path / "tight.yaml"
    plan.write_text(OVERRUN_PLAN)
    result = runner.invoke(main, ["validate", str(plan)])
    assert result.exit_code == 2
    assert "overruns by" in result.stderr and ", Squeeze, rep 2 (reset): " in result.stderr
    assert "do not fit their slots" in result.stderr


@pytest.mark.speech
def test_unknown_voice_is_a_usage_error_with_a_hint(runner: CliRunner, tiny: Path) -> None:
    """A voice the engine does not have exits 2 and points to `voiceguide voices`."""
    result = runner.invoke(main, ["preview", str(tiny), "--voice", "Englsh (America)"])
    assert result.exit_code == 2
    assert "there is no voice 'Englsh (America)'" in result.stderr
    assert "English (America)" in result.stderr
    assert "voiceguide voices" in result.stderr


@pytest.mark.speech
def test_voices_lists_installed_voices(runner: CliRunner) -> None:
    """voices prints one row per installed voice, with English among them."""
    result = runner.invoke(main, ["voices"], catch_exceptions=False)
    assert result.exit_code == 0
    rows = result.stdout.splitlines()[1:]
    assert len(rows) > 10
    assert any(
        row.split()[:2] == ["espeak", "gmw/en-us"] and "English (America)" in row for row in rows
    )


@pytest.mark.speech
def test_voices_counts_one_voice_in_the_singular(runner: CliRunner) -> None:
    """`voices --language de` lists the one German voice and says "1 voice"."""
    result = runner.invoke(main, ["voices", "--language", "de"], catch_exceptions=False)
    assert result.exit_code == 0
    assert len(result.stdout.splitlines()[1:]) == 1
    assert result.stderr == "1 voice\n"


@pytest.mark.speech
def test_validate_says_one_phrase_does_not_fit_in_the_singular(
    runner: CliRunner, tmp_path: Path
) -> None:
    """One phrase too long for its slot is "1 phrase does not fit its slot", not "1 phrase do not fit"."""
    plan = tmp_path / "tight.yaml"
    plan.write_text(OVERRUN_PLAN.replace("reps: 3", "reps: 2"))
    result = runner.invoke(main, ["validate", str(plan)])
    assert result.exit_code == 2
    assert result.stderr.splitlines()[0] == "Error: 1 phrase does not fit its slot:"


@pytest.mark.audio
def test_program_of_one_week_counts_one_session(
    runner: CliRunner, tiny: Path, tmp_path: Path
) -> None:
    """A program of one week ends with "1 session: ...", in the singular."""
    result = runner.invoke(
        main, ["program", str(tiny), "--weeks", "1", "-o", str(tmp_path)], catch_exceptions=False
    )
    assert result.exit_code == 0, result.stderr
    assert result.stderr == "1 session: 1 built, 0 up to date, 0 failed\n"


def test_cache_info_and_clear_count_mebibytes_as_the_limit_does(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The cache's size and its limit are both in MiB, the unit the limit is set in (256 MiB), and
    one clip is "1 clip"."""
    monkeypatch.setenv("VOICEGUIDE_CACHE_DIR", str(tmp_path))
    clip = tmp_path / "speech" / "ab" / "ab01.pcm"
    clip.parent.mkdir(parents=True)
    clip.write_bytes(bytes(3 * 1024 * 1024))  # 3 MiB, which is 3.1 MB
    info = runner.invoke(main, ["cache", "info"], catch_exceptions=False)
    assert info.stdout == f"{tmp_path / 'speech'}: 1 clip, 3.0 MiB of at most 256 MiB\n"
    cleared = runner.invoke(main, ["cache", "clear"], catch_exceptions=False)
    assert cleared.stdout == f"Removed 1 clip (3.0 MiB) from {tmp_path / 'speech'}\n"
    assert not clip.exists()


@pytest.mark.parametrize(
    "args",
    [
        ["build", "no-such-plan.yaml"],
        ["preview", "--rate", "5"],
        ["bild"],
        ["build", "--frobnicate"],
    ],
)
def test_usage_mistakes_exit_2(runner: CliRunner, args: list[str]) -> None:
    """Missing files, out-of-range options and unknown commands or options are usage errors."""
    result = runner.invoke(main, args)
    assert result.exit_code == 2
    assert result.stderr.strip() != "" and "Traceback" not in result.output


def test_python_dash_m_runs_the_cli() -> None:
    """`python -m voiceguide` is the same program as the console script."""
    result = subprocess.run(
        [sys.executable, "-m", "voiceguide", "--help"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0
    assert "Usage: voiceguide" in result.stdout
    assert result.stderr == ""


@pytest.mark.runs_ffmpeg
def test_importing_voiceguide_prints_no_warning() -> None:
    """Importing the package and its audio layer says nothing about ffmpeg."""
    code = "import voiceguide.cli.commands, voiceguide.common.externals as e; e.audio_segment(); e.pyttsx3_module()"
    result = subprocess.run(
        [sys.executable, "-W", "default", "-c", code], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0
    assert "ffmpeg" not in result.stderr.lower() and result.stdout == ""
