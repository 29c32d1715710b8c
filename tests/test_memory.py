"""A build's memory is bounded by what it needs at once, not by the size of its plan: each distinct
clip is kept in a temporary file (clipstore.py) and read from it when it is needed, and that file
(like those the clips are levelled in) leaves nothing behind, however the build ends."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from processes import assert_all_gone, finish, voiceguide, wait_for
from test_limits import many_exercises

pytestmark = pytest.mark.audio

PEAK = r"""
import json, resource, sys
from click.testing import CliRunner
from voiceguide.cli.commands import main
result = CliRunner().invoke(main, sys.argv[1:])
print(json.dumps({"exit": result.exit_code, "stderr": result.stderr[-500:],
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""
"""Runs a command in a fresh process, and says its peak resident memory."""
FEW, MANY = 5, 50
GROWTH_MB = 20
"""How much more a build of MANY tiny exercises may take than one of FEW: their clips (10 MB more)
are not held, and what is (the timeline, each clip's place and figures) is a few kB an exercise.
A build that held its clips in memory takes over 50 MB more, and more with every exercise."""


def peak_mb(exercises: int, tmp_path: Path) -> float:
    plan = tmp_path / f"many-{exercises}.yaml"
    plan.write_text(many_exercises(exercises))
    output = tmp_path / f"many-{exercises}.mp3"
    command = [sys.executable, "-c", PEAK, "build", str(plan), "-o", str(output), "--no-sidecars"]
    done = subprocess.run(command, capture_output=True, text=True, check=True, timeout=300)
    figures = json.loads(done.stdout.splitlines()[-1])
    assert figures["exit"] == 0, figures["stderr"]
    return float(figures["peak_mb"])


def test_a_plan_of_many_exercises_takes_about_the_memory_of_a_few(tmp_path: Path) -> None:
    """`voiceguide build` of 50 tiny exercises (a session of 7 minutes, 107 distinct phrases) peaks
    within GROWTH_MB of a build of 5 (1 minute, 17 phrases)."""
    few, many = peak_mb(FEW, tmp_path), peak_mb(MANY, tmp_path)
    print(f"peak memory: {few:.0f} MB for {FEW} exercises, {many:.0f} MB for {MANY}")
    assert many - few <= GROWTH_MB, f"{few:.0f} MB for {FEW} exercises, {many:.0f} MB for {MANY}"


# -- the temporary files of the clips -------------------------------------------------------------


def holds_a_clip_file(pid: int, tmp: Path) -> bool:
    """Whether process *pid* holds open a temporary file in *tmp* (one without a name, as the clip
    store's is) of at least 100 kB: the session's clips, or phrases being levelled."""
    try:
        descriptors = list(Path(f"/proc/{pid}/fd").iterdir())
    except OSError:
        return False
    for descriptor in descriptors:
        try:
            target = os.readlink(descriptor)
            size = descriptor.stat().st_size
        except OSError:
            continue  # (closed meanwhile)
        if target.startswith(f"{tmp}/") and target.endswith(" (deleted)") and size >= 100_000:
            return True
    return False


def assert_nothing_left(tmp: Path) -> None:
    assert_all_gone(tmp)
    assert sorted(str(p.relative_to(tmp)) for p in tmp.rglob("*")) == []


def test_the_clip_files_leave_nothing_behind_after_a_build(tmp_path: Path, tiny: Path) -> None:
    """A build that succeeds leaves nothing in its temporary folder."""
    process = voiceguide(["build", str(tiny), "-o", str(tmp_path / "s.mp3")], tmp_path)
    _, stderr = finish(process, 120)
    assert process.returncode == 0, stderr
    assert_nothing_left(tmp_path / "tmp")


def test_the_clip_files_leave_nothing_behind_after_a_failure(tmp_path: Path, tiny: Path) -> None:
    """A build that fails once its clips are kept (music that is not audio is found out as the
    session is written) leaves nothing in its temporary folder."""
    music = tmp_path / "notes.txt"
    music.write_text("not audio\n")
    process = voiceguide(
        ["build", str(tiny), "-o", str(tmp_path / "s.mp3"), "--music", str(music)], tmp_path
    )
    _, stderr = finish(process, 120)
    assert process.returncode == 2, stderr
    assert f"cannot use {music} as music" in stderr, stderr
    assert_nothing_left(tmp_path / "tmp")


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_the_clip_files_leave_nothing_behind_after_a_stop(
    tmp_path: Path, signum: signal.Signals
) -> None:
    """Ctrl-C (to the command's group, as a terminal sends it) or SIGTERM while the build holds its
    clips in the temporary folder: it stops with 128 + the signal, and leaves nothing there."""
    plan = tmp_path / "many.yaml"
    plan.write_text(many_exercises(20))
    process = voiceguide(
        ["build", str(plan), "-o", str(tmp_path / "s.mp3")], tmp_path, new_session=True
    )
    tmp = tmp_path / "tmp"
    wait_for("file of clips", lambda: holds_a_clip_file(process.pid, tmp), process, seconds=120)
    if signum == signal.SIGINT:
        os.killpg(process.pid, signum)
    else:
        process.send_signal(signum)
    started = time.monotonic()
    _, stderr = finish(process, 30)
    assert process.returncode == 128 + signum, stderr
    assert time.monotonic() - started < 10
    assert_nothing_left(tmp)
