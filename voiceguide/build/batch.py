"""Many sessions at once: one per profile or per week, built in parallel across the cores.

A session already written from the same plan, options and version is skipped (unless forced), and
one that fails does not stop the others: every job ends as built, up to date or failed. Each
session is built in a worker process of its own, in a pool (see workers), started only when a core
is free for it, so that a stop finds every build that has begun and none that has not.
"""

from __future__ import annotations

import os
import signal
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from voiceguide.build.existing import files_state, remove_leftovers, up_to_date
from voiceguide.build.session import build_session
from voiceguide.build.settings import RenderSettings
from voiceguide.common import stopping
from voiceguide.common.errors import VoiceguideError
from voiceguide.common.workers import Pool, Worker, WorkerCrashed
from voiceguide.plans.customize import Origin
from voiceguide.plans.plan import Plan


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
    failure: VoiceguideError | None = None
    """Why the job failed (an InputError, or a failure of the machinery)."""
    damaged_cache_entries: int = 0

    @property
    def message(self) -> str:
        return self.failure.report() if self.failure else ""


def build_all(
    jobs: Sequence[Job],
    *,
    settings: RenderSettings,
    force: bool = False,
    workers: int | None = None,
    on_outcome: Callable[[Outcome], None] = lambda outcome: None,
) -> list[Outcome]:
    """Build every job (in parallel, at most *workers* at a time); outcomes in the order of *jobs*.

    Stopped (Ctrl-C, SIGTERM, SIGHUP), it starts no other build, stops those running (each leaves
    the session it was replacing as it was) and raises stopping.Interrupted naming the sessions
    that were written before."""
    outputs = [job.output for job in jobs]
    with stopping.noting_written(outputs, lambda output: files_state(output, split=settings.split)):
        return _build_all(
            jobs, settings=settings, force=force, workers=workers, on_outcome=on_outcome
        )


def _build_all(
    jobs: Sequence[Job],
    *,
    settings: RenderSettings,
    force: bool,
    workers: int | None,
    on_outcome: Callable[[Outcome], None],
) -> list[Outcome]:
    outcomes: dict[int, Outcome] = {}
    pending: deque[tuple[int, Job]] = deque()
    for index, job in enumerate(jobs):
        outcome = _settled_without_building(job, settings, force)
        if outcome is None:
            pending.append((index, job))
        else:
            outcomes[index] = outcome
            on_outcome(outcome)
    at_once = max(1, min(workers or os.cpu_count() or 1, len(pending)))
    with Pool[tuple[int, Job]]() as pool:
        try:
            while pending or pool:
                while pending and len(pool) < at_once:
                    index, job = pending.popleft()
                    # Each session gets a fresh process: espeak-ng keeps state between phrases that
                    # changes their length by milliseconds, so a session must not depend on what was
                    # built before it.
                    pool.start(_build, job, settings, force, label=(index, job))
                for (index, job), worker in pool.ended():
                    outcomes[index] = _outcome(pool, job, worker)
                    on_outcome(outcomes[index])
        except BaseException:
            for _, job in pool.stop():  # (what a worker killed outright had begun)
                remove_leftovers(job.output, split=settings.split)
            raise
    return [outcomes[index] for index in range(len(jobs))]


def _settled_without_building(job: Job, settings: RenderSettings, force: bool) -> Outcome | None:
    if job.error is not None or job.plan is None:
        error = job.error or VoiceguideError("no plan")
        return Outcome(job=job, status=Status.FAILED, failure=error)
    stamp = (
        None
        if force
        else up_to_date(job.output, plan=job.plan, settings=settings, person=job.person)
    )
    if stamp is not None:
        return Outcome(job=job, status=Status.UP_TO_DATE, total_ms=stamp.length_ms)
    return None


def _build(job: Job, settings: RenderSettings, force: bool) -> tuple[int, bool, int]:
    """In a worker process: one session."""
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


def _outcome(pool: Pool[tuple[int, Job]], job: Job, worker: Worker) -> Outcome:
    """How *worker*, which has ended, built *job*."""
    try:
        result = pool.answer(worker)
    except VoiceguideError as error:
        return Outcome(job=job, status=Status.FAILED, failure=error)
    except WorkerCrashed as error:  # a worker's bug is one failed session, not a failed batch
        return Outcome(job=job, status=Status.FAILED, failure=VoiceguideError(str(error)))
    if result is None:
        code = worker.process.returncode
        how = (
            f"was killed by {signal.Signals(-code).name}"
            if code < 0
            else f"ended with exit code {code}"
        )
        failure = VoiceguideError(f"the process building it {how}")
        return Outcome(job=job, status=Status.FAILED, failure=failure)
    total_ms, up_to_date, damaged = result
    status = Status.UP_TO_DATE if up_to_date else Status.BUILT
    return Outcome(job=job, status=status, total_ms=total_ms, damaged_cache_entries=damaged)
