"""Running voiceguide as a real command in a process of its own, signalling it, and checking that
it and everything it started are gone, with nothing left behind.

Each command runs with a temporary folder (cwd/tmp) and a speech cache (cwd/cache) of its own, so
that whatever it leaves in either is seen, and every process it starts (workers, speech helpers)
inherits a TMPDIR inside cwd/tmp: that is how its processes are found, whatever process group they
are in.
"""

from __future__ import annotations

import contextlib
import os
import resource
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

STARTED: list[subprocess.Popen[str]] = []
"""Every command started here, for the conftest fixture that ends them after each test."""

STOP_SECONDS = 10
"""How long a stopped command and its processes may take to be gone (generous: the machine is busy)."""

WITH_HELPERS = """\
import sys
from voiceguide.sound import speechpool
speechpool.HEAD_START, speechpool.MIN_PHRASES = 2, 4  # speech helpers for any plan
from voiceguide.cli.commands import main
main(sys.argv[1:], prog_name="voiceguide")
"""


def voiceguide(
    args: list[str],
    cwd: Path,
    *,
    file_size_limit: int | None = None,
    new_session: bool = False,
    helpers: bool = False,
    env: dict[str, str] | None = None,
) -> subprocess.Popen[str]:
    """`python -m voiceguide ARGS` with its own temporary folder (cwd/tmp) and speech cache (cwd/cache,
    empty at first, so speech is really synthesized), optionally with a file size limit, in a
    session (and process group) of its own as a terminal would start it, and with speech helpers
    (see speechpool) however few the phrases."""

    def limit() -> None:
        if file_size_limit is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (file_size_limit, file_size_limit))

    (cwd / "tmp").mkdir(exist_ok=True)
    process = subprocess.Popen(
        [sys.executable, *(["-c", WITH_HELPERS] if helpers else ["-m", "voiceguide"]), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=cwd,
        env={
            **os.environ,
            "TMPDIR": str(cwd / "tmp"),
            "VOICEGUIDE_CACHE_DIR": str(cwd / "cache"),
            **(env or {}),
        },
        preexec_fn=limit,
        start_new_session=new_session,
    )
    STARTED.append(process)
    return process


def end_all_started() -> None:
    """Whatever a test started is gone (killed if need be, its pipes closed)."""
    while STARTED:
        process = STARTED.pop()
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                if os.getpgid(process.pid) == process.pid:
                    os.killpg(process.pid, signal.SIGKILL)
                else:
                    process.kill()
        process.communicate()


def finish(process: subprocess.Popen[str], seconds: float) -> tuple[str, str]:
    """stdout and stderr of *process* once it ends; fails the test if it takes over *seconds*."""
    try:
        return process.communicate(timeout=seconds)
    except subprocess.TimeoutExpired:
        pytest.fail(f"{process.args} did not end within {seconds} s")


def wait_for(
    condition: str, check: Callable[[], bool], process: subprocess.Popen[str], seconds: float = 60
) -> None:
    """Wait until *check*() is true (while *process* still runs), or fail naming *condition*."""
    deadline = time.monotonic() + seconds
    while not check():
        if process.poll() is not None:
            _, stderr = process.communicate()
            pytest.fail(
                f"the command ended (exit {process.returncode}) before a {condition} appeared: {stderr}"
            )
        if time.monotonic() > deadline:
            pytest.fail(f"no {condition} within {seconds} s")
        time.sleep(0.02)


def phrase_spoken(tmp: Path) -> Callable[[], bool]:
    """Whether the speech engine has written a phrase, in *tmp* or in a worker's folder inside it."""
    return lambda: any(tmp.rglob("voiceguide-speech-*/*.wav"))


def assert_group_gone(pgid: int, seconds: float = 5) -> None:
    """No process of the group (workers, ffmpeg) outlives the command."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)
    os.killpg(pgid, signal.SIGKILL)
    pytest.fail(f"processes of the stopped command were still running {seconds} s after it ended")


def processes_using(tmp: Path) -> list[str]:
    """The processes (pid and command) whose TMPDIR is *tmp* or inside it, in any process group."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            environ = (entry / "environ").read_bytes().split(b"\0")
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue  # gone meanwhile, or not ours
        if any(
            var == f"TMPDIR={tmp}".encode() or var.startswith(f"TMPDIR={tmp}/".encode())
            for var in environ
        ):
            found.append(f"{entry.name}: {command[:150]}")
    return found


def assert_all_gone(tmp: Path, seconds: float = STOP_SECONDS) -> None:
    """No process the command started is left (they all inherit a TMPDIR in *tmp*), even one that
    left the command's process group; any still there *seconds* later is killed and the test fails."""
    deadline = time.monotonic() + seconds
    while (left := processes_using(tmp)) and time.monotonic() < deadline:
        time.sleep(0.05)
    for line in left:
        with contextlib.suppress(ProcessLookupError, ValueError):
            os.kill(int(line.split(":")[0]), signal.SIGKILL)
    assert not left, f"processes still running {seconds} s after the command ended: {left}"
