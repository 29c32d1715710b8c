"""What the commands print.

Output goes through `echo`, and is flushed before a command returns (see ending.reports_errors), so
that a stdout that cannot take it fails there rather than in the interpreter's last flush (a
traceback, exit 120). Either way the files written by then are complete: sessions are renamed into
place only when done. How a command then ends is ending.py's to say.
"""

from __future__ import annotations

import sys

import click


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
    """Deliver what is still buffered; StreamFailure if it cannot be."""
    for stream, err in ((sys.stdout, False), (sys.stderr, True)):
        try:
            stream.flush()
        except OSError as error:
            raise StreamFailure(error, err=err) from None
        except ValueError:
            pass  # (closed)
