"""cli/ending.py: how each way a command can end becomes its exit code, in one place."""

from __future__ import annotations

import errno
import os
import signal
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from voiceguide.cli.commands import main
from voiceguide.cli.ending import EXIT_FAILURE, EXIT_INPUT, EXIT_PIPE_CLOSED, exit_code, said
from voiceguide.cli.output import StreamFailure
from voiceguide.common.errors import (
    AudioError,
    CacheError,
    InputError,
    PlanError,
    SettingsError,
    SpeechError,
    VoiceguideError,
)
from voiceguide.common.stopping import Interrupted
from voiceguide.output.destination import OutputError
from voiceguide.plans.loader import shipped_plan_path


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (PlanError(["exercises: missing"]), EXIT_INPUT),
        (SettingsError("no such voice"), EXIT_INPUT),
        (OutputError("cannot write in /x"), EXIT_INPUT),
        (InputError("no profiles"), EXIT_INPUT),
        (click.UsageError("no such option"), EXIT_INPUT),
        (SpeechError("espeak-ng failed"), EXIT_FAILURE),
        (AudioError("ffmpeg failed"), EXIT_FAILURE),
        (CacheError("cannot read the cache"), EXIT_FAILURE),
        (VoiceguideError("a worker crashed"), EXIT_FAILURE),
        (KeyboardInterrupt(), 130),
        (Interrupted(signal.SIGINT), 130),
        (Interrupted(signal.SIGTERM), 143),
        (Interrupted(signal.SIGHUP), 129),
        (StreamFailure(OSError(errno.EPIPE, os.strerror(errno.EPIPE)), err=False), 141),
        (StreamFailure(OSError(errno.ENOSPC, os.strerror(errno.ENOSPC)), err=False), EXIT_FAILURE),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, BaseException) else str(value),
)
def test_exit_code_of_each_kind_of_end(error: BaseException, code: int) -> None:
    """Input mistakes 2, failures 1, a stop 128 + its signal, a closed pipe 141."""
    assert exit_code(error) == code
    assert EXIT_PIPE_CLOSED == 141


def test_said_is_the_report_click_prints() -> None:
    """A VoiceguideError leaves through click with its whole report and its exit code."""
    error = PlanError(["a: one", "b: two"])
    saying = said(error)
    assert saying.format_message() == "the plan has 2 problems:\n  a: one\n  b: two"
    assert saying.exit_code == 2
    assert said(AudioError("ffmpeg failed")).exit_code == 1


def test_an_input_error_raised_by_a_command_exits_2_with_its_message(tmp_path: Path) -> None:
    """`voiceguide batch` over a folder without profiles: the InputError the command raises is said
    as "Error: ..." on stderr, exit 2, no traceback."""
    (tmp_path / "empty").mkdir()
    plan = str(shipped_plan_path())
    result = CliRunner().invoke(main, ["batch", plan, str(tmp_path / "empty"), "-o", str(tmp_path)])
    assert result.exit_code == 2, result.output
    assert (
        result.stderr == f"Error: the folder {tmp_path / 'empty'} has no profiles (.yaml files)\n"
    )
    assert result.stdout == ""
