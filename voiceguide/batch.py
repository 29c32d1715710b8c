"""Many sessions at once: one per profile or per week, built in parallel across the cores.

A session already written from the same plan, options and version is skipped (unless forced), and
one that fails does not stop the others: every job ends as built, up to date or failed.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from voiceguide.customize import Origin
from voiceguide.errors import VoiceguideError
from voiceguide.export import read_stamp
from voiceguide.plan import Plan
from voiceguide.session import RenderSettings, build_session, fingerprint


class Status(StrEnum):
    BUILT = "built"
    UP_TO_DATE = "up to date"
    FAILED = "failed"


@dataclass(frozen=True, slots=True, kw_only=True)
class Job:
    label: str
    """What the job is called in messages: the profile's file, or the week."""
    output: Path
    plan: Plan | None = None
    """The effective plan; None when it could not be made (see *error*)."""
    person: str | None = None
    explanation: tuple[Origin, ...] = ()
    error: VoiceguideError | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Outcome:
    job: Job
    status: Status
    total_ms: int = 0
    message: str = ""
    exit_code: int = 0
    damaged_cache_entries: int = 0


def build_all(
    jobs: Sequence[Job],
    *,
    settings: RenderSettings,
    force: bool = False,
    workers: int | None = None,
    on_outcome: Callable[[Outcome], None] = lambda outcome: None,
) -> list[Outcome]:
    """Build every job (in parallel, at most *workers* at a time); outcomes in the order of *jobs*."""
    outcomes: dict[int, Outcome] = {}
    pending: list[tuple[int, Job]] = []
    for index, job in enumerate(jobs):
        outcome = _settled_without_building(job, settings, force)
        if outcome is None:
            pending.append((index, job))
        else:
            outcomes[index] = outcome
            on_outcome(outcome)
    if pending:
        workers = max(1, min(workers or os.cpu_count() or 1, len(pending)))
        # Each session gets a fresh process: espeak-ng keeps state between phrases that changes
        # their length by milliseconds, so a session must not depend on what was built before it.
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(
            max_workers=workers, mp_context=context, max_tasks_per_child=1, initializer=_quiet_on_interrupt
        ) as pool:
            with _interrupts_blocked():
                running: dict[Future[tuple[int, bool, int]], tuple[int, Job]] = {
                    pool.submit(_build, job, settings, force): (index, job) for index, job in pending
                }
            try:
                while running:
                    done, _ = wait(running, return_when=FIRST_COMPLETED)
                    for future in done:
                        index, job = running.pop(future)
                        outcomes[index] = _outcome(job, future)
                        on_outcome(outcomes[index])
            except BaseException:
                for future in running:
                    future.cancel()
                for process in list(getattr(pool, "_processes", {}).values()):
                    if process.is_alive():
                        process.terminate()  # SIGTERM: the worker cleans up and exits
                raise
    return [outcomes[index] for index in range(len(jobs))]


@contextlib.contextmanager
def _interrupts_blocked() -> Iterator[None]:
    """SIGINT and SIGTERM blocked in this thread meanwhile, and so in the workers started meanwhile
    and in the pool's thread that starts their successors (a signal mask passes to new threads and
    survives fork and exec): a worker still starting, before _quiet_on_interrupt, would print a
    traceback for Ctrl-C, and die of SIGTERM leaving what it had begun (Python's probe file in the
    temporary folder, say). A worker unblocks SIGTERM when it starts a build (see _build), where
    the SystemExit it raises is the build's outcome; a signal that comes here meanwhile is delivered
    once unblocked."""
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    blocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, blocked)


def _quiet_on_interrupt() -> None:
    """A worker leaves the terminal's process group, so Ctrl-C reaches only the parent, which then
    stops the workers with SIGTERM: raised here as SystemExit, it unwinds the build (removing its
    temporary files) without the traceback multiprocessing prints for KeyboardInterrupt. Only the
    first: another (the pool sends one to every worker when one of them dies) would cut the
    unwinding short."""
    os.setpgrp()

    def stop(signum: int, frame: object) -> None:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        raise SystemExit(130)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)


def _settled_without_building(job: Job, settings: RenderSettings, force: bool) -> Outcome | None:
    if job.error is not None or job.plan is None:
        error = job.error or VoiceguideError("no plan")
        return Outcome(job=job, status=Status.FAILED, message=error.report(), exit_code=error.exit_code)
    stamp = None if force or settings.split else read_stamp(job.output)
    if stamp is not None and stamp.fingerprint == fingerprint(job.plan, settings, job.person):
        return Outcome(job=job, status=Status.UP_TO_DATE, total_ms=stamp.length_ms)
    return None


def _build(job: Job, settings: RenderSettings, force: bool) -> tuple[int, bool, int]:
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})  # (see _interrupts_blocked)
    assert job.plan is not None
    # One core per session: the sessions already fill the cores, and helpers or parallel levelling
    # within each would only make them take turns.
    result = build_session(
        plan=job.plan,
        output=job.output,
        settings=settings,
        person=job.person,
        explanation=job.explanation,
        force=force,
        cores=1,
    )
    return result.total_ms, result.up_to_date, result.damaged_cache_entries


def _outcome(job: Job, future: Future[tuple[int, bool, int]]) -> Outcome:
    try:
        total_ms, up_to_date, damaged = future.result()
    except VoiceguideError as error:
        return Outcome(job=job, status=Status.FAILED, message=error.report(), exit_code=error.exit_code)
    except Exception as error:  # a worker that died is one failed session, not a failed batch
        return Outcome(job=job, status=Status.FAILED, message=f"{type(error).__name__}: {error}", exit_code=1)
    status = Status.UP_TO_DATE if up_to_date else Status.BUILT
    return Outcome(job=job, status=status, total_ms=total_ms, damaged_cache_entries=damaged)
