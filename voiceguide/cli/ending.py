"""How a command ends: the one place where what went wrong becomes a message and an exit code.

    0    done
    1    a failure of the machinery (the speech engine, ffmpeg, the disk): a VoiceguideError
    2    a mistake in the input (a plan, profile, option or file): an InputError, or click's own
         usage errors (an unknown option, a missing file), which click says and ends itself
    130  stopped by Ctrl-C (SIGINT), 143 by SIGTERM, 129 by SIGHUP: 128 + the signal
    141  the reader of the output has gone (a closed pipe): 128 + SIGPIPE, quietly

Messages go to stderr as "Error: ..." (through click, as click's own are), never as a traceback.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import io
import os
import signal
import sys
from collections.abc import Callable, Iterator
from typing import Any, NoReturn, TextIO, TypeVar

import click

from voiceguide.cli.output import StreamFailure, flush_output
from voiceguide.common import stopping
from voiceguide.common.errors import InputError, VoiceguideError

F = TypeVar("F", bound=Callable[..., Any])

EXIT_FAILURE = 1
EXIT_INPUT = 2
"""As click's UsageError and BadParameter."""
EXIT_PIPE_CLOSED = 141
"""128 + SIGPIPE: the command's reader stopped reading."""


def exit_code(error: BaseException) -> int:
    """The exit code of a command that *error* ended."""
    if isinstance(error, KeyboardInterrupt):
        return 128 + stopping.signal_of(error)
    if isinstance(error, StreamFailure):
        return EXIT_PIPE_CLOSED if error.error.errno == errno.EPIPE else EXIT_FAILURE
    if isinstance(error, InputError | click.UsageError):
        return EXIT_INPUT
    return EXIT_FAILURE


def reports_errors(command: F) -> F:
    """Users see a message and an exit code for every failure, never a traceback; what the command
    printed is delivered before it ends (see output.py); and Ctrl-C, SIGTERM and SIGHUP stop the
    command alike (see stopping), with a line saying what was written."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with stopping.handled() as stop:
            try:
                result = command(*args, **kwargs)
                flush_output()
            except VoiceguideError as error:
                if stop.signum is None:
                    raise said(error) from None
                # What failed was stopped by the same signal (ffmpeg, say, by Ctrl-C in a terminal).
                interrupted(stopping.Interrupted(stop.signum))
            except StreamFailure as broken:
                stream_failed(broken)
            except KeyboardInterrupt as interrupt:
                interrupted(interrupt)
            except SystemExit:
                _flushed()
                raise
            return result

    return wrapper  # type: ignore[return-value]


def said(error: VoiceguideError) -> click.ClickException:
    """*error* as click says it ("Error: ..." on stderr) and ends the command with its code."""
    saying = click.ClickException(error.report())
    # (click declares the code on the class, and exits with the instance's)
    saying.exit_code = exit_code(error)  # type: ignore[misc]
    return saying


STOPPED_BY: dict[int, str] = {signal.SIGINT: "Interrupted", signal.SIGTERM: "Stopped by SIGTERM"}
if hasattr(signal, "SIGHUP"):
    STOPPED_BY[signal.SIGHUP] = "Stopped by SIGHUP"


def interrupted(interrupt: KeyboardInterrupt) -> NoReturn:
    """Say that the command was stopped, and which session files it wrote before; exit 128 + the
    signal."""
    signum = stopping.signal_of(interrupt)
    written = [str(path) for path in getattr(interrupt, "written", ())]
    if not written:
        what = "no session file was changed"
    else:
        listed = written[0] if len(written) == 1 else f"{', '.join(written[:-1])} and {written[-1]}"
        what = f"{listed} {'was' if len(written) == 1 else 'were'} written, no other session file was changed"
    with contextlib.suppress(OSError):  # (after SIGHUP, the terminal may be gone)
        click.echo(f"\n{STOPPED_BY.get(signum, f'Stopped by signal {signum}')}; {what}.", err=True)
    # Ignored from now on: Python's own handlers are taken down as the interpreter ends, and another
    # Ctrl-C then would end the process by the signal rather than with this exit code.
    for each in stopping.STOP_SIGNALS:
        signal.signal(each, signal.SIG_IGN)
    sys.exit(exit_code(interrupt))


def stream_failed(failure: StreamFailure) -> NoReturn:
    """End the command: quietly when its reader has gone, else with one line on stderr."""
    _discard(sys.stderr if failure.err else sys.stdout)
    if failure.error.errno != errno.EPIPE and not failure.err:
        with contextlib.suppress(OSError, ValueError):
            sys.stderr.write(
                f"Error: cannot write to standard output: {failure.error.strerror or failure.error}\n"
            )
            sys.stderr.flush()
    sys.exit(exit_code(failure))


def _flushed() -> None:
    """What is still buffered delivered, or the command ended as stream_failed says."""
    try:
        flush_output()
    except StreamFailure as broken:
        stream_failed(broken)


def _discard(stream: TextIO) -> None:
    """Send what the stream still holds, and anything later, nowhere: the interpreter's last flush
    would otherwise fail again."""
    try:
        descriptor = stream.fileno()
    except (OSError, ValueError, io.UnsupportedOperation):
        return  # (not a real file: a test runner's buffer)
    nowhere = os.open(os.devnull, os.O_WRONLY)
    os.dup2(nowhere, descriptor)
    os.close(nowhere)


@contextlib.contextmanager
def _click_output() -> Iterator[None]:
    """Click prints help and the version while it reads the command line: to stdout."""
    try:
        yield
    except OSError as error:
        stream_failed(StreamFailure(error, err=False))


class Command(click.Command):
    def make_context(self, *args: Any, **kwargs: Any) -> click.Context:
        with _click_output():
            return super().make_context(*args, **kwargs)


class Group(click.Group):
    """The commands' group: click's own output (help, version, usage errors, the messages `said`
    gives it) ends as the commands' does when it cannot be printed."""

    command_class = Command
    group_class = type  # (subgroups are of this class too)

    def make_context(self, *args: Any, **kwargs: Any) -> click.Context:
        with _click_output():
            return super().make_context(*args, **kwargs)

    def main(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().main(*args, **kwargs)
        except OSError as error:
            # Click printing an error message last, to a stderr that cannot take it: nothing more
            # can be said.
            if error.errno not in (errno.EPIPE, errno.ENOSPC):
                raise
            stream_failed(StreamFailure(error, err=True))
