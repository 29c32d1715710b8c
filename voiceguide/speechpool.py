"""Speak a cold build's new phrases on every core: a share of them in helper processes.

espeak-ng is one engine per process and makes one phrase at a time, so the only way to make
phrases on more than one core is more processes. The phrases the speech cache lacks are dealt out
in a fixed way: espeak's clip of a phrase can differ by a millisecond with what it spoke before
(see batch), so a plan's cold build always gives each process the same phrases, whatever the
timing. Each helper speaks its share with a synthesizer of its own and writes the clips to the
shared speech cache (whose writes are atomic), while this process speaks its own share. The caller
then reads every clip from the cache, as on any warm build; a clip the cache could not keep (or a
helper that died) is simply made again there.

A helper takes about HELPER_START_SECONDS to start, so it is used only for enough phrases to pay
for that, and this process takes the first phrases for itself meanwhile. A helper is a plain
`python -c` running _helper_main (not multiprocessing, which would run the caller's own script
again in it). An error in a helper reaches the caller as the same VoiceguideError. Ctrl-C is this
process's to handle: helpers start with SIGINT blocked, and are stopped with SIGTERM when this
process stops early for any reason; each works in a temporary folder made and removed here, so
that nothing of theirs is left behind however they end.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import signal
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from typing import IO, TYPE_CHECKING

from voiceguide.errors import SpeechError, VoiceguideError

if TYPE_CHECKING:
    from voiceguide.speech import Synthesizer

HELPER_START_SECONDS = 0.3
"""About how long a helper takes to be ready to speak (a new Python, its imports, the engine)."""
PHRASE_SECONDS = 0.008
"""About how long one phrase takes to make (synthesis, reading and trimming its clip)."""
HEAD_START = round(HELPER_START_SECONDS / PHRASE_SECONDS)
"""Phrases this process makes while its helpers start, before the rest is dealt out."""
MIN_PHRASES = 2 * HEAD_START
"""Fewer new phrases than this are made sooner by this process alone."""
STOP_SECONDS = 5
HELPER = "from voiceguide.speechpool import _helper_main; _helper_main()"


def shares(phrases: Sequence[str], helpers: int) -> list[list[str]]:
    """*phrases* dealt out to this process (the first share) and up to *helpers* helpers: the
    first HEAD_START to this process, the rest in turn. No helpers for fewer than MIN_PHRASES."""
    if helpers < 1 or len(phrases) < MIN_PHRASES or not hasattr(signal, "pthread_sigmask"):
        return [list(phrases)]
    head, rest = list(phrases[:HEAD_START]), phrases[HEAD_START:]
    dealt = [list(rest[index :: helpers + 1]) for index in range(helpers + 1)]
    return [head + dealt[0], *dealt[1:]]


def speak(
    synthesizer: Synthesizer,
    phrases: Sequence[str],
    *,
    recipe: Callable[[], Synthesizer],
    helpers: int,
    progress: Callable[[int], None] = lambda done: None,
) -> None:
    """Make every phrase of *phrases* (which the speech cache lacks): this process's share with
    *synthesizer*, the others in up to *helpers* processes, each with a synthesizer made by
    *recipe* (picklable) that writes to the same speech cache. *progress* is told about how many
    are done. The helpers' phrases count in `synthesizer.synthesized`."""
    own, *others = shares(phrases, helpers)
    others = [share for share in others if share]
    with _started(recipe, others) as running:
        for done, phrase in enumerate(own, start=1):
            synthesizer.duration_ms(phrase)
            progress(done * len(phrases) // len(own))  # (the helpers keep about the same pace)
        for process in running:
            synthesizer.synthesized += _result(process)
    progress(len(phrases))


@contextlib.contextmanager
def _started(recipe: Callable[[], Synthesizer], shares: list[list[str]]) -> Iterator[list[subprocess.Popen[bytes]]]:
    """One helper process per share, speaking it; stopped on the way out if still running. Each
    gets a temporary folder made and removed here, so that nothing it makes there outlives it."""
    processes: list[subprocess.Popen[bytes]] = []
    with contextlib.ExitStack() as folders:
        try:
            for share in shares:
                temporary = folders.enter_context(tempfile.TemporaryDirectory(prefix="voiceguide-helper-"))
                request = os.path.join(temporary, "request.pickle")  # (a file: a pipe could make us wait)
                with open(request, "wb") as file:
                    pickle.dump((recipe, share), file)
                # Blocked here while it starts, SIGINT stays blocked in the helper (a mask survives
                # fork and exec), and SIGTERM until it handles it; one that comes here meanwhile is
                # delivered once unblocked. Its temporary files go in its folder, whatever makes them.
                blocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
                try:
                    processes.append(
                        subprocess.Popen(
                            [sys.executable, "-c", HELPER, request],
                            stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE,
                            env={**os.environ, "TMPDIR": temporary},
                        )
                    )
                finally:
                    signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
            yield processes
        finally:
            for process in processes:
                if process.poll() is None:
                    process.terminate()  # SIGTERM: the helper unwinds (see _helper_main) and exits
            for process in processes:
                try:
                    process.wait(STOP_SECONDS)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
                if process.stdout is not None:
                    process.stdout.close()


def _result(process: subprocess.Popen[bytes]) -> int:
    """How many phrases a helper made; its error, raised here, if it failed."""
    assert process.stdout is not None
    answer = process.stdout.read()
    process.wait()
    if not answer:
        return 0  # the helper died without a word: the caller makes whatever it left undone
    outcome = pickle.loads(answer)
    if isinstance(outcome, BaseException):
        raise outcome
    made: int = outcome
    return made


def _helper_main() -> None:
    """A helper process: read what to speak from the file named by its argument, speak it into the
    speech cache, and write back (pickled, on what was stdout) how many phrases were made, or the
    error that stopped it.

    It ends with os._exit once everything is cleaned up: the engine's objects, torn down with the
    interpreter, can complain on stderr (which is the user's)."""

    def stop(signum: int, frame: object) -> None:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # (one is enough: another would cut the unwinding short)
        raise SystemExit(130)

    signal.signal(signal.SIGTERM, stop)
    answer: IO[bytes] = os.fdopen(os.dup(1), "wb")
    with open(os.devnull, "wb") as nowhere:  # whatever the engine prints goes nowhere
        os.dup2(nowhere.fileno(), 1)
    status = 0
    outcome: int | VoiceguideError
    try:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})  # (blocked while it started: see _started)
        with open(sys.argv[1], "rb") as file:
            recipe, phrases = pickle.load(file)
        with recipe() as synthesizer:
            for phrase in phrases:
                synthesizer.clip(phrase)
            outcome = synthesizer.synthesized
    except SystemExit as end:  # stopped: nobody waits for an answer
        status = end.code if isinstance(end.code, int) else 1
    except VoiceguideError as error:
        outcome = error
    except Exception as error:  # a failure of the speech engine all the same, without a traceback
        outcome = SpeechError(f"speaking in a helper process failed: {type(error).__name__}: {error}")
    if not status:
        with contextlib.suppress(OSError):
            answer.write(pickle.dumps(outcome))
            answer.close()
    sys.stderr.flush()
    os._exit(status)
