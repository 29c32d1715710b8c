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
for that, and this process takes the first phrases for itself meanwhile. The helpers are a pool of
worker processes (see workers), as batch's builds are: an error in one reaches the caller as the
same VoiceguideError, and a stop (Ctrl-C, SIGTERM, SIGHUP) or any error here stops them all,
leaving nothing of theirs behind.
"""

from __future__ import annotations

import signal
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from voiceguide.common.errors import SpeechError
from voiceguide.common.workers import Pool, Worker, WorkerCrashed, name_of

if TYPE_CHECKING:
    from voiceguide.sound.engines import EngineCosts
    from voiceguide.sound.speech import Synthesizer

HELPER_START_SECONDS = 0.3
"""About how long a helper takes to be ready to speak with espeak-ng (a new Python, its imports,
the engine); other engines say their own (EngineCosts)."""
PHRASE_SECONDS = 0.008
"""About how long one phrase takes to make with espeak-ng (synthesis, reading and trimming it)."""
HEAD_START = round(HELPER_START_SECONDS / PHRASE_SECONDS)
"""Phrases this process makes while its helpers start, before the rest is dealt out."""
MIN_PHRASES = 2 * HEAD_START
"""Fewer new phrases than this are made sooner by this process alone."""


def shares(
    phrases: Sequence[str], helpers: int, costs: EngineCosts | None = None
) -> list[list[str]]:
    """*phrases* dealt out to this process (the first share) and up to *helpers* helpers: the
    first HEAD_START to this process, the rest in turn. No helpers for fewer than MIN_PHRASES.
    (An engine whose *costs* differ from espeak-ng's has a head start and a least of its own, and
    one that spreads a phrase over every core itself has no helpers.)"""
    head_start, least = HEAD_START, MIN_PHRASES
    if costs is not None and costs.threaded:
        return [list(phrases)]
    if costs is not None:
        head_start = max(1, round(costs.start_seconds / costs.phrase_seconds))
        least = 2 * head_start
    if helpers < 1 or len(phrases) < least or not hasattr(signal, "pthread_sigmask"):
        return [list(phrases)]
    head, rest = list(phrases[:head_start]), phrases[head_start:]
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
    own, *others = shares(phrases, helpers, synthesizer.engine_costs)
    with Pool[int](kind="helper") as pool:
        for number, share in enumerate(others, start=1):
            if share:
                pool.start(_speak, recipe, share, label=number)
        for done, phrase in enumerate(own, start=1):
            synthesizer.synthesized_ms(phrase)
            progress(done * len(phrases) // len(own))  # (the helpers keep about the same pace)
        while pool:
            for _, helper in pool.ended():
                synthesizer.synthesized += _made(pool, helper)
    progress(len(phrases))


def _made(pool: Pool[int], helper: Worker) -> int:
    """How many phrases a helper made; its error, raised here, if it failed. One that ended without
    a word (killed, say) made none: the caller makes whatever it left undone."""
    try:
        made: int | None = pool.answer(helper)
    except WorkerCrashed as crash:  # a failure of the speech engine all the same
        raise SpeechError(f"speaking in a helper process failed: {crash}") from None
    return made or 0


def _speak(recipe: Callable[[], Synthesizer], phrases: list[str]) -> int:
    """In a helper process: speak *phrases* into the speech cache; how many were made."""
    with recipe() as synthesizer:
        for phrase in phrases:
            synthesizer.clip(phrase)
        return synthesizer.synthesized


HELPER = name_of(_speak)
"""What a helper process is told to run (in its command line)."""
