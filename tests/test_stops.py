"""Stopping a command: Ctrl-C (SIGINT to the whole process group, as a terminal sends it), once or
again and again; SIGTERM and SIGHUP (what `timeout`, systemd, `docker stop` and CI cancellation
send), to the command's group or to the command alone; and a kill that gives it no chance at all.

After each, the command has exited with 128 + the signal's number (130, 143, 129) and one line
saying which session files it wrote, no process it started is left (in its group or out of it),
its temporary folder is empty, no `.part` file is left beside the sessions or in the speech cache,
and every session file that was there before is byte for byte as it was, unless the line names it.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest
from builders import QUICK, SQUEEZE, plan_yaml
from processes import (
    STOP_SECONDS,
    assert_all_gone,
    assert_group_gone,
    finish,
    phrase_spoken,
    voiceguide,
    wait_for,
)

from voiceguide.output.export import read_stamp
from voiceguide.plans.loader import shipped_plan_path

pytestmark = pytest.mark.audio

DATA = Path(__file__).resolve().parent.parent / "data"
PLAN = shipped_plan_path()
"""The shipped plan: a session takes several seconds to build, so a stop always comes mid-build."""
SHORT_PLAN = DATA / "hamstring-stretch.yaml"
"""A shipped plan that builds in a few seconds."""
OLD = b"a session written earlier, which must survive"
OLD_SIDECAR = '{"old": true}\n'
FAST_PROFILE = "name: Fast\nsettings:\n  rate: 180\n"
TINY_PLAN = plan_yaml("Stops tiny", SQUEEZE, **QUICK)
WORDS = {
    signal.SIGINT: "Interrupted",
    signal.SIGTERM: "Stopped by SIGTERM",
    signal.SIGHUP: "Stopped by SIGHUP",
}


@dataclass(frozen=True, slots=True)
class Stopped:
    returncode: int
    stdout: str
    stderr: str
    took: float
    """Seconds from the first signal to the command's end."""


def stop(
    process: subprocess.Popen[str],
    signals: Sequence[tuple[float, signal.Signals]],
    *,
    to_group: bool = True,
) -> Stopped:
    """Send each (seconds after the first, signal) to *process*'s group (or to it alone) while it
    runs, and wait (boundedly) for it to end."""
    first = time.monotonic()
    for at, signum in signals:
        while time.monotonic() < first + at and process.poll() is None:
            time.sleep(0.01)
        if process.poll() is not None:
            break
        if to_group:
            os.killpg(process.pid, signum)
        else:
            process.send_signal(signum)
    stdout, stderr = finish(process, 30)
    return Stopped(process.returncode, stdout, stderr, time.monotonic() - first)


def previous_sessions(out: Path, names: Sequence[str]) -> dict[Path, bytes]:
    """A session file (and its timeline sidecar) for each name, as an earlier run left them."""
    out.mkdir(exist_ok=True)
    for name in names:
        (out / name).write_bytes(OLD)
        (out / name).with_suffix(".json").write_text(OLD_SIDECAR)
    return {out / name: OLD for name in names}


def message(signum: signal.Signals, written: Sequence[Path] = ()) -> str:
    if not written:
        return f"{WORDS[signum]}; no session file was changed."
    names = [str(path) for path in written]
    listed = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"
    verb = "was" if len(names) == 1 else "were"
    return f"{WORDS[signum]}; {listed} {verb} written, no other session file was changed."


def assert_stopped(
    run: Stopped,
    process: subprocess.Popen[str],
    signum: signal.Signals,
    tmp_path: Path,
    previous: dict[Path, bytes],
    written: Sequence[Path] = (),
) -> None:
    """Exit 128 + *signum* promptly with the one-line message; nothing left running or lying about;
    the previous sessions intact but those named as *written*."""
    assert run.returncode == 128 + signum, run.stderr
    assert run.stderr.strip() == message(signum, written), run.stderr
    assert run.took < STOP_SECONDS, f"took {run.took:.1f} s to stop"
    assert_group_gone(process.pid)
    assert_all_gone(tmp_path / "tmp")
    for path, content in previous.items():
        if path in written:
            assert path.read_bytes() != content and read_stamp(path) is not None, (
                f"{path} is not a new session"
            )
        else:
            assert path.read_bytes() == content, f"{path} was changed"
            assert path.with_suffix(".json").read_text() == OLD_SIDECAR, (
                f"{path}'s timeline was changed"
            )
    out = next(iter(previous)).parent
    allowed = {p.name for p in previous} | {p.with_suffix(".json").name for p in previous}
    allowed |= {p.with_suffix(suffix).name for p in written for suffix in (".vtt", ".txt", ".html")}
    assert sorted(p.name for p in out.iterdir() if p.name not in allowed) == []
    assert sorted(p.name for p in (tmp_path / "tmp").iterdir()) == []
    assert sorted(p.name for p in (tmp_path / "cache").rglob("*.part")) == []


def four_profiles(tmp_path: Path) -> tuple[list[str], list[str]]:
    """The shipped profiles without a progression (which would add a note on stderr about its week)
    and two more, and the session file each is built into."""
    shipped = sorted(
        p for p in (DATA / "profiles").glob("*.yaml") if "progression" not in p.read_text()
    )
    profiles = []
    for name in ("fast", "quick"):
        profiles.append(tmp_path / f"{name}.yaml")
        profiles[-1].write_text(FAST_PROFILE)
    profiles = [*shipped, *profiles]
    return [str(p) for p in profiles], [f"{PLAN.stem}-{p.stem}.mp3" for p in profiles]


# -- Ctrl-C, however often ------------------------------------------------------------------------

AGAIN_AND_AGAIN = [(0.1 * n, signal.SIGINT) for n in range(100)]


@pytest.mark.parametrize(
    ("command", "when", "signals"),
    [
        ("batch", "starting", [(0, signal.SIGINT), (0.5, signal.SIGINT)]),
        ("batch", "speaking", [(0, signal.SIGINT), (0.2, signal.SIGINT)]),
        ("batch", "speaking", [(0, signal.SIGINT), (1.5, signal.SIGINT)]),
        ("batch", "speaking", AGAIN_AND_AGAIN),
        ("program", "starting", [(0, signal.SIGINT), (1.5, signal.SIGINT)]),
        ("program", "speaking", [(0, signal.SIGINT), (1.5, signal.SIGINT)]),
    ],
    ids=[
        "batch-twice-while-starting",
        "batch-twice-quickly",
        "batch-twice",
        "batch-again-and-again",
        "program-twice-while-starting",
        "program-twice",
    ],
)
def test_ctrl_c_ends_batch_and_program_at_once_however_often_it_comes(
    command: str, when: str, signals: list[tuple[float, signal.Signals]], tmp_path: Path
) -> None:
    """Ctrl-C once the command runs (a second after it starts, or once speech is made), and again
    0.2 to 1.5 s later or every 0.1 s: every process ends promptly with exit 130, nothing changed."""
    out = tmp_path / "out"
    if command == "batch":
        profiles, names = four_profiles(tmp_path)
        args = ["batch", str(PLAN), *profiles, "-o", str(out), "--jobs", "2"]
    else:
        names = [f"{PLAN.stem}-progression-week-{week:02d}.mp3" for week in (1, 2, 3)]
        args = [
            "program",
            str(PLAN),
            "--weeks",
            "3",
            "--profile",
            str(DATA / "profiles" / "progression.yaml"),
        ]
        args += ["-o", str(out)]
    previous = previous_sessions(out, names)
    process = voiceguide(args, tmp_path, new_session=True)
    if when == "starting":
        time.sleep(1)
    else:
        wait_for("phrase", phrase_spoken(tmp_path / "tmp"), process)
    run = stop(process, signals)
    assert run.stdout == ""
    assert_stopped(run, process, signal.SIGINT, tmp_path, previous)


def test_ctrl_c_in_batch_builds_no_further_session_and_names_those_it_wrote(tmp_path: Path) -> None:
    """Ctrl-C once the first of three sessions (one at a time) is written: the others stay as they
    were, none is built after it, and the message names the one that was written."""
    plan = tmp_path / "tiny.yaml"
    plan.write_text(TINY_PLAN)
    profiles = []
    for name, rate in (("a", 150), ("b", 160), ("c", 170)):
        profiles.append(tmp_path / f"{name}.yaml")
        profiles[-1].write_text(f"name: {name.upper()}\nsettings:\n  rate: {rate}\n")
    out = tmp_path / "out"
    previous = previous_sessions(out, ["tiny-a.mp3", "tiny-b.mp3", "tiny-c.mp3"])
    args = ["batch", str(plan), *map(str, profiles), "-o", str(out), "--jobs", "1"]
    process = voiceguide(args, tmp_path, new_session=True)
    first = out / "tiny-a.mp3"
    wait_for("new first session", lambda: first.read_bytes() != OLD, process)
    run = stop(process, [(0, signal.SIGINT)])
    assert_stopped(run, process, signal.SIGINT, tmp_path, previous, written=[first])
    time.sleep(1)  # (nothing may go on writing once the command has ended)
    assert (out / "tiny-b.mp3").read_bytes() == OLD and (out / "tiny-c.mp3").read_bytes() == OLD


# -- SIGTERM and SIGHUP ---------------------------------------------------------------------------


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP], ids=["sigterm", "sighup"])
@pytest.mark.parametrize("to_group", [True, False], ids=["to-the-group", "to-the-command-alone"])
def test_sigterm_and_sighup_stop_a_batch_as_ctrl_c_does(
    signum: signal.Signals, to_group: bool, tmp_path: Path
) -> None:
    """SIGTERM or SIGHUP during a batch, to its group (systemd, a closed terminal) or to it alone
    (`timeout`, `docker stop`): exit 143 or 129 with the message, every worker stopped, nothing
    left."""
    names = [f"{PLAN.stem}-older-patient.mp3", f"{PLAN.stem}-left-side-rehab.mp3"]
    out = tmp_path / "out"
    previous = previous_sessions(out, names)
    profiles = [
        str(DATA / "profiles" / name) for name in ("older-patient.yaml", "left-side-rehab.yaml")
    ]
    process = voiceguide(
        ["batch", str(PLAN), *profiles, "-o", str(out), "--jobs", "2"], tmp_path, new_session=True
    )
    wait_for("phrase", phrase_spoken(tmp_path / "tmp"), process)
    run = stop(process, [(0, signum)], to_group=to_group)
    assert_stopped(run, process, signum, tmp_path, previous)


@pytest.mark.parametrize(
    ("signum", "to_group", "stage"),
    [
        (signal.SIGTERM, False, "speech"),
        (signal.SIGHUP, True, "speech"),
        (signal.SIGTERM, True, "encoding"),
        (signal.SIGHUP, False, "encoding"),
    ],
    ids=[
        "sigterm-to-the-command-during-speech",
        "sighup-to-the-group-during-speech",
        "sigterm-to-the-group-during-encoding",
        "sighup-to-the-command-during-encoding",
    ],
)
def test_sigterm_and_sighup_stop_a_build_as_ctrl_c_does(
    signum: signal.Signals, to_group: bool, stage: str, tmp_path: Path
) -> None:
    """SIGTERM or SIGHUP while a build speaks (with a speech helper) or encodes: exit 143 or 129 with
    the message, the helper stopped, the previous session intact, nothing left."""
    out = tmp_path / "out"
    previous = previous_sessions(out, ["session.mp3"])
    if stage == "encoding":
        # The run's speech cache, which holds the shipped plan's phrases once a test has built it:
        # the build comes to its encoding without speaking them again (or speaks what is missing).
        shutil.copytree(os.environ["VOICEGUIDE_CACHE_DIR"], tmp_path / "cache")
    process = voiceguide(
        ["build", "-o", str(out / "session.mp3")], tmp_path, new_session=True, helpers=True
    )
    if (
        stage == "speech"
    ):  # once the helper's engine has started (in the temporary folder it is given)
        wait_for(
            "helper",
            lambda: any((tmp_path / "tmp").glob("voiceguide-helper-*/voiceguide-speech-*")),
            process,
        )
    else:
        wait_for(".part file", lambda: any(out.glob(".session.mp3.*.part")), process)
        time.sleep(0.3)
    run = stop(process, [(0, signum)], to_group=to_group)
    assert run.stdout == ""
    assert_stopped(run, process, signum, tmp_path, previous)


# -- killed outright ------------------------------------------------------------------------------


def test_a_killed_builds_temporary_files_are_removed_by_the_next_build(tmp_path: Path) -> None:
    """A build killed outright (SIGKILL) leaves its .part file; the next build of that output removes
    it, and the sidecars' that were left with it, but not the one a build still running holds, nor
    another output's."""
    out = tmp_path / "out"
    previous_sessions(out, ["session.mp3"])
    process = voiceguide(
        ["build", str(SHORT_PLAN), "-o", str(out / "session.mp3")], tmp_path, new_session=True
    )
    wait_for(".part file", lambda: any(out.glob(".session.mp3.*.part")), process)
    os.killpg(process.pid, signal.SIGKILL)
    finish(process, 30)
    left = sorted(p.name for p in out.glob(".*.part"))
    assert len(left) == 1, left
    stale_sidecar = out / ".session.json.abcd1234.part"
    stale_sidecar.write_text("left by a build killed while writing its timeline")
    other = out / ".another.mp3.abcd1234.part"
    other.write_bytes(b"another output's")
    live = out / ".session.mp3.live5678.part"
    with live.open("wb") as held:
        fcntl.flock(held, fcntl.LOCK_EX)  # as a build still writing it holds it
        plan = tmp_path / "tiny.yaml"
        plan.write_text(TINY_PLAN)
        again = voiceguide(["build", str(plan), "-o", str(out / "session.mp3")], tmp_path)
        stdout, stderr = finish(again, 120)
        assert again.returncode == 0, stderr
        assert sorted(p.name for p in out.glob(".*.part")) == [other.name, live.name]
    stamp = read_stamp(out / "session.mp3")
    assert stamp is not None and stdout.startswith(f"Wrote {out / 'session.mp3'} (")


def test_batch_workers_stop_when_the_batch_is_killed(tmp_path: Path) -> None:
    """A batch killed outright (SIGKILL to it alone, so that it cannot stop its workers): the workers
    notice, stop within seconds, and leave the previous sessions and no temporary file."""
    names = [f"{PLAN.stem}-older-patient.mp3", f"{PLAN.stem}-left-side-rehab.mp3"]
    out = tmp_path / "out"
    previous = previous_sessions(out, names)
    profiles = [
        str(DATA / "profiles" / name) for name in ("older-patient.yaml", "left-side-rehab.yaml")
    ]
    process = voiceguide(
        ["batch", str(PLAN), *profiles, "-o", str(out), "--jobs", "2"], tmp_path, new_session=True
    )
    wait_for("phrase", phrase_spoken(tmp_path / "tmp"), process)
    process.kill()
    finish(process, 30)
    assert_all_gone(tmp_path / "tmp")
    assert {path: path.read_bytes() for path in previous} == previous
    assert sorted(p.name for p in out.glob(".*")) == []
    assert sorted(str(p.relative_to(tmp_path)) for p in (tmp_path / "tmp").rglob("*")) == []
