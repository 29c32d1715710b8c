"""How voiceguide's processes stop: Ctrl-C (SIGINT), SIGTERM and SIGHUP all unwind the work in
hand alike, removing whatever it had begun, and the process then ends with 128 + the signal's
number (130, 143, 129).

- handled(): while a command (or a worker) runs, the first of these signals raises Interrupted
  wherever the process is. Later ones are ignored, so that they cannot cut the unwinding, and the
  clean-up in it, short; only if the unwinding is still going GRACE_SECONDS later does the next
  one end the process at once.
- deferred(): a short step that no signal may cut in the middle (a session and its sidecars put
  in place); one that comes meanwhile takes effect when it ends.
- blocked(): child processes started meanwhile begin with these signals blocked (a signal mask
  survives fork and exec), so that none can kill one before it has set up its own handling.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from collections.abc import Callable, Hashable, Iterator, Sequence
from pathlib import Path

STOP_SIGNALS: tuple[signal.Signals, ...] = tuple(
    getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name)
)
GRACE_SECONDS = 15
"""How long the unwinding may take before another stop signal ends the process outright (it
stops worker processes within workers.STOP_SECONDS, so this is only for one that is stuck)."""


class Interrupted(KeyboardInterrupt):
    """The work was stopped by a signal. A KeyboardInterrupt, so that every stop signal unwinds the
    work as Ctrl-C does."""

    def __init__(self, signum: int, written: Sequence[Path] = ()) -> None:
        super().__init__(signum)
        self.signum = signum
        self.written = tuple(written)
        """The session files replaced before the stop (see noting_written)."""


def signal_of(interrupt: KeyboardInterrupt) -> int:
    """The signal behind *interrupt*: a plain KeyboardInterrupt is Ctrl-C's."""
    return interrupt.signum if isinstance(interrupt, Interrupted) else signal.SIGINT


class Stop:
    """What handled() has seen: the first stop signal, if one came, and when."""

    def __init__(self) -> None:
        self.signum: int | None = None
        self.since = 0.0


@contextlib.contextmanager
def handled(on_stop: Callable[[], None] = lambda: None) -> Iterator[Stop]:
    """Stop signals handled as the module says, meanwhile (in the main thread; elsewhere as they
    were), *on_stop* called at the first. The handlers stay once a signal has come: the process is
    on its way out, and one more signal must not reach Python's default handler, which prints a
    traceback."""
    stop = Stop()
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return

    def on_signal(signum: int, frame: object) -> None:
        if stop.signum is None:
            stop.signum, stop.since = signum, time.monotonic()
            on_stop()
            raise Interrupted(signum)
        if time.monotonic() - stop.since > GRACE_SECONDS:
            os._exit(128 + stop.signum)

    previous = {signum: signal.signal(signum, on_signal) for signum in STOP_SIGNALS}
    try:
        yield stop
    finally:
        if stop.signum is None:
            for signum, handler in previous.items():
                signal.signal(signum, handler if handler is not None else signal.SIG_DFL)


@contextlib.contextmanager
def deferred() -> Iterator[None]:
    """Meanwhile no stop signal takes effect: the first that comes is raised again at the end, for
    whatever handles it then (in the main thread; elsewhere signals are not handled anyway)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    previous = {
        signum: signal.signal(signum, lambda signum, frame: caught.append(signum))
        for signum in STOP_SIGNALS
    }
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler if handler is not None else signal.SIG_DFL)
        if caught:
            signal.raise_signal(caught[0])


@contextlib.contextmanager
def blocked() -> Iterator[None]:
    """Stop signals blocked in this thread meanwhile, and so in the processes it starts meanwhile
    until they unblock them (see unblock); one that comes meanwhile is delivered here at the end."""
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    before = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, before)


def unblock() -> None:
    """In a child process started in blocked(), once it handles stop signals: any that came while it
    started are delivered now."""
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)


@contextlib.contextmanager
def noting_written(outputs: Sequence[Path], state: Callable[[Path], Hashable]) -> Iterator[None]:
    """An interrupt that comes meanwhile comes out as Interrupted naming those of *outputs* whose
    *state* (the identity of the files written for it) changed meanwhile."""
    before = {output: state(output) for output in outputs}
    try:
        yield
    except KeyboardInterrupt as interrupt:
        with deferred():  # (so that a second signal cannot cut this short)
            written = [output for output in outputs if state(output) != before[output]]
        raise Interrupted(signal_of(interrupt), written) from None
