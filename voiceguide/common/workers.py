"""Worker processes: each a plain `python -c` that runs one function on one request and answers on
its stdout (not multiprocessing, which would run the caller's own script again in it). A Pool holds
the workers of one task (batch's builds, the speech helpers of one build) under one policy:
started where a stop finds them, answered as they end, and all stopped when the task ends,
whether it is done, failed or stopped.

A worker is stopped like the command it works for (see stopping): by Ctrl-C, SIGTERM or SIGHUP,
whether they reach it from a terminal or from the caller. It starts with those blocked, so that one
cannot kill it before it handles it; it ends with os._exit once it has cleaned up, as the engine's
objects, torn down with the interpreter, can complain on stderr (which is the user's). Its TMPDIR is
a folder made for it, removed once it has ended however it ended, so nothing of its own outlives
it; and it stops by itself if its caller dies (its stdin, a pipe only the caller holds, ends).
"""

from __future__ import annotations

import contextlib
import importlib
import os
import pickle
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from multiprocessing.connection import wait
from types import TracebackType
from typing import IO, Any, Generic, NoReturn, TypeVar

from voiceguide.common import stopping
from voiceguide.common.errors import VoiceguideError

STOP_SECONDS = 5
"""How long stopped workers get to unwind before they are killed."""
_MAIN = "from voiceguide.common.workers import _serve; _serve()"

T = TypeVar("T")


class WorkerCrashed(Exception):
    """A worker failed with an error other than a VoiceguideError; its message says what it was."""


@dataclass(frozen=True, slots=True)
class Worker:
    process: subprocess.Popen[bytes]
    folder: str
    """Its temporary folder (its TMPDIR), which holds its request."""

    @property
    def stop_signal(self) -> int | None:
        """The stop signal that ended it, if one did."""
        code = self.process.returncode
        for signum in stopping.STOP_SIGNALS:
            if code in (-signum, 128 + signum):
                return signum
        return None


class Pool(Generic[T]):
    """The workers of one task, each started with a label of the caller's (what it works on).

    Used as a context manager: however the block ends (done, an error, a stop), the workers still
    in the pool are stopped (see _stop) and their folders removed. A worker is in the pool from its
    start until its answer is read: a stop that comes while one starts finds it there, and so does
    one that comes while it is answered.
    """

    def __init__(self, *, kind: str = "worker") -> None:
        self._kind = kind
        """What its workers are called in their folders' names ("voiceguide-helper-...")."""
        self._workers: dict[Worker, T] = {}

    def __enter__(self) -> Pool[T]:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.stop()

    def __len__(self) -> int:
        """How many workers are in the pool: running, or ended and not yet answered."""
        return len(self._workers)

    def start(self, function: Callable[..., Any], *args: Any, label: T) -> None:
        """A worker running *function*(*args*) (a module's function, and picklable arguments)."""
        with stopping.deferred():  # (a stop that comes meanwhile finds the worker in the pool)
            worker = _start(function, *args, kind=self._kind)
            self._workers[worker] = label

    def ended(self) -> list[tuple[T, Worker]]:
        """The workers that have ended (each has answered, or will say nothing), with their labels,
        once at least one has; each is to be answered (see answer)."""
        by_pipe: dict[int, Worker] = {}
        for worker in self._workers:
            assert worker.process.stdout is not None
            by_pipe[worker.process.stdout.fileno()] = worker
        ready = [by_pipe[pipe] for pipe in wait(list(by_pipe)) if isinstance(pipe, int)]
        return [(self._workers[worker], worker) for worker in ready]

    def answer(self, worker: Worker) -> Any:
        """What *worker*'s function returned, once it has ended; None if it ended without a word
        (killed, or it ended its process itself). Its VoiceguideError is raised as it is; another
        error as WorkerCrashed. A worker that a stop signal ended means that the task is being
        stopped (a terminal's Ctrl-C reaches every process of it, and the worker may be the first to
        know): stopping.Interrupted is raised, the worker left in the pool."""
        try:
            result = _answer(worker)
        except Exception:
            del self._workers[worker]
            raise
        if result is None and worker.stop_signal is not None:
            raise stopping.Interrupted(worker.stop_signal)
        del self._workers[worker]
        return result

    def stop(self) -> list[T]:
        """Stop every worker in the pool (see _stop) and empty it; the labels of those stopped."""
        workers, self._workers = self._workers, {}
        _stop(list(workers))
        return list(workers.values())


def name_of(function: Callable[..., Any]) -> str:
    return f"{function.__module__}:{function.__qualname__}"


def _start(function: Callable[..., Any], *args: Any, kind: str = "worker") -> Worker:
    """A worker running *function*(*args*) (a module's function, and picklable arguments)."""
    folder = tempfile.mkdtemp(prefix=f"voiceguide-{kind}-")
    try:
        request = os.path.join(folder, "request.pickle")  # (a file: a pipe could make us wait)
        with open(request, "wb") as file:
            pickle.dump(args, file)
        with stopping.blocked():
            process = subprocess.Popen(
                [sys.executable, "-c", _MAIN, name_of(function), request],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                env={**os.environ, "TMPDIR": folder},
            )
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return Worker(process, folder)


def _answer(worker: Worker) -> Any:
    """What the worker's function returned, once it has ended (and its folder is removed); None if
    it ended without a word (stopped, or killed). Its VoiceguideError is raised as it is; another
    error as WorkerCrashed."""
    assert worker.process.stdout is not None
    try:
        text = worker.process.stdout.read()
        worker.process.wait()
    finally:
        _release(worker)
    if not text:
        return None
    failed, outcome = pickle.loads(text)
    if failed:
        raise outcome if isinstance(outcome, VoiceguideError) else WorkerCrashed(outcome)
    return outcome


def _stop(workers: Sequence[Worker], seconds: float = STOP_SECONDS) -> None:
    """End *workers*: SIGTERM to those still running (each unwinds, removing what it began), SIGKILL
    to any still running *seconds* later; then remove their folders. No stop signal cuts it short."""
    with stopping.deferred():
        for worker in workers:
            if worker.process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    worker.process.terminate()
        deadline = time.monotonic() + seconds
        for worker in workers:
            try:
                worker.process.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                worker.process.kill()
                worker.process.wait()
            _release(worker)


def _release(worker: Worker) -> None:
    for pipe in (worker.process.stdin, worker.process.stdout):
        if pipe is not None:
            with contextlib.suppress(OSError):
                pipe.close()
    shutil.rmtree(worker.folder, ignore_errors=True)


def _serve() -> NoReturn:
    """A worker: stop signals handled (they were blocked while it started), the request read from
    the file its last argument names, the function run, and its outcome written back pickled on
    what was stdout: (False, what it returned), or (True, the error). A stopped worker answers
    nothing."""
    folder = os.path.dirname(sys.argv[-1])
    answer_file: IO[bytes] = os.fdopen(os.dup(1), "wb")
    with open(os.devnull, "wb") as nowhere:  # whatever the engine prints goes nowhere
        os.dup2(nowhere.fileno(), 1)
    status = 0
    outcome: tuple[bool, Any] = (True, "no outcome")
    with stopping.handled(on_stop=_silenced) as stop:
        try:
            stopping.unblock()
            _watch_caller()
            with open(sys.argv[-1], "rb") as file:
                args = pickle.load(file)
            module, _, name = sys.argv[-2].partition(":")
            outcome = (False, getattr(importlib.import_module(module), name)(*args))
        except KeyboardInterrupt as interrupt:
            status = 128 + stopping.signal_of(interrupt)
        except VoiceguideError as error:
            outcome = (True, error)
        except Exception as error:  # told to the caller, without a traceback on the user's stderr
            outcome = (True, f"{type(error).__name__}: {error}")
        for signum in stopping.STOP_SIGNALS:  # (done: nothing may stop the answer half-written)
            signal.signal(signum, signal.SIG_IGN)
        if stop.signum is not None:
            status = 128 + stop.signum  # (stopped while it failed otherwise: nobody waits for it)
    for signum in (
        stopping.STOP_SIGNALS
    ):  # (handled() put back Python's own: a Ctrl-C now would print a traceback)
        signal.signal(signum, signal.SIG_IGN)
    if not status:
        try:
            data = pickle.dumps(outcome)
        except Exception as error:  # (an error that cannot be pickled is told by its message)
            data = pickle.dumps((True, f"{type(outcome[1]).__name__}: {outcome[1]} ({error})"))
        with contextlib.suppress(OSError):
            answer_file.write(data)
            answer_file.close()
    shutil.rmtree(folder, ignore_errors=True)  # (its caller does too, unless it is gone)
    sys.stderr.flush()
    os._exit(status)


def _silenced() -> None:
    """A stopped worker says nothing more: the command it works for says that it was stopped, and
    what the worker's unwinding could print (the speech engine's complaints about a phrase cut
    short, say) would only be noise on the user's stderr."""
    with open(os.devnull, "wb") as nowhere:
        os.dup2(nowhere.fileno(), 2)


def _watch_caller() -> None:
    """Stop this worker, as SIGTERM would, when its caller ends without stopping it (killed
    outright): its stdin, which only the caller writes to, then ends."""

    def watch() -> None:
        with contextlib.suppress(OSError):
            while os.read(0, 1 << 10):
                pass
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="caller watch", daemon=True).start()
