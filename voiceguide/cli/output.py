"""What the commands print, and how they end when it cannot be printed.

Output goes through `echo`, and is flushed before a command returns, so that a stdout that cannot
take it fails here rather than in the interpreter's last flush (a traceback, exit 120). A reader
that has gone (`voiceguide preview | head`) ends the command quietly with 141, what a shell reports
for a command stopped by a closed pipe; a full device is a failure said in one line (exit 1).
Either way the files written by then are complete: sessions are renamed into place only when done.
The click classes apply the same to click's own output (help, version, error messages).
"""

from __future__ import annotations

import contextlib
import errno
import io
import os
import sys
from collections.abc import Iterator
from typing import Any, NoReturn, TextIO

import click

EXIT_PIPE_CLOSED = 141
"""128 + SIGPIPE: the command's reader stopped reading."""


class StreamFailure(Exception):
    """stdout or stderr could not be written."""

    def __init__(self, error: OSError, *, err: bool) -> None:
        super().__init__(error)
        self.error = error
        self.err = err


def echo(message: str = "", *, err: bool = False) -> None:
    """Print a line of the command's output (stdout) or a message (stderr)."""
    try:
        click.echo(message, err=err)
    except OSError as error:
        raise StreamFailure(error, err=err) from None


def flush_output() -> None:
    """Deliver what is still buffered, or end as `stream_failed` says."""
    for stream, err in ((sys.stdout, False), (sys.stderr, True)):
        try:
            stream.flush()
        except OSError as error:
            stream_failed(StreamFailure(error, err=err))
        except ValueError:
            pass  # (closed)


def stream_failed(failure: StreamFailure) -> NoReturn:
    """End the command: quietly when its reader has gone, else with one line on stderr."""
    _discard(sys.stderr if failure.err else sys.stdout)
    if failure.error.errno == errno.EPIPE:
        sys.exit(EXIT_PIPE_CLOSED)
    if not failure.err:
        with contextlib.suppress(OSError, ValueError):
            sys.stderr.write(
                f"Error: cannot write to standard output: {failure.error.strerror or failure.error}\n"
            )
            sys.stderr.flush()
    sys.exit(1)


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
