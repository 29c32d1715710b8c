"""Builds asked for from the page: one per profile at a time, a bounded number at once, the rest
waiting in a queue that the page shows.

Each session is built in a worker process of its own (common/workers.py), as `batch` builds them:
espeak-ng keeps state between phrases, so a session must not depend on what this process spoke
before (its previews). The worker writes its progress to a small file that the page's polling reads.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from voiceguide.build.session import RenderSettings, build_session
from voiceguide.common.errors import InputError, VoiceguideError
from voiceguide.common.workers import Pool, WorkerCrashed
from voiceguide.plans.customize import Origin
from voiceguide.plans.plan import Plan

STAGES = {"speech": (0, 28), "timeline": (28, 30), "mixing": (30, 40), "encoding": (40, 100)}
"""Rough shares of a build's time, so that its progress moves evenly from start to end."""
MAX_WAITING = 20
"""Builds that may wait at once; more are refused until some are done."""
KEPT_DONE = 50
"""Finished builds the page still lists."""


class State(StrEnum):
    WAITING = "waiting"
    BUILDING = "building"
    DONE = "done"
    FAILED = "failed"


@dataclass(frozen=True, slots=True, kw_only=True)
class Session:
    """One session file to make: the effective plan and where it goes."""

    label: str
    """"week 3", or the plan's title."""
    plan: Plan
    output: Path
    person: str | None
    explanation: tuple[Origin, ...]


@dataclass(eq=False)
class Build:
    id: int
    profile: str
    """The profile it is for: one build of a profile at a time."""
    title: str
    sessions: tuple[Session, ...]
    settings: RenderSettings
    state: State = State.WAITING
    done: int = 0
    """Sessions finished."""
    stage: str = ""
    percent: int = 0
    message: str = ""
    outputs: list[Path] = field(default_factory=list)
    progress_file: Path | None = None
    finished_at: float | None = None
    leftovers: tuple[Path, ...] = ()
    """Files kept for the build alone (its uploaded music), removed once it is done."""

    def progress(self) -> int:
        """Percent of the whole build: the sessions done, and the one under way."""
        current = self.percent
        if self.progress_file is not None:
            try:
                stage, done, total = self.progress_file.read_text().split()
                start, end = STAGES.get(stage, (0, 100))
                current = start + (end - start) * int(done) // max(int(total), 1)
                self.stage = stage
            except (OSError, ValueError):
                pass  # (not written yet, or being written)
        whole = len(self.sessions)
        if self.state is State.DONE:
            return 100
        return min(99, (100 * self.done + current) // max(whole, 1))


class Builds:
    """The queue, and the threads that build what it holds (at most *at_once* at a time)."""

    def __init__(self, *, at_once: int, work_folder: Path) -> None:
        self.at_once = max(1, at_once)
        self._work_folder = work_folder
        self._lock = threading.Lock()
        self._waiting: deque[Build] = deque()
        self._running: list[Build] = []
        self._finished: deque[Build] = deque(maxlen=KEPT_DONE)
        self._ids = itertools.count(1)
        self._closed = False

    def add(
        self,
        *,
        profile: str,
        title: str,
        sessions: tuple[Session, ...],
        settings: RenderSettings,
        leftovers: tuple[Path, ...] = (),
    ) -> Build:
        """Queue a build; InputError when one of *profile* is already waiting or under way, or the
        queue is full."""
        with self._lock:
            busy = next((b for b in (*self._running, *self._waiting) if b.profile == profile), None)
            if busy is not None:
                raise InputError(
                    f"a build of {profile!r} is already {busy.state.value}; wait for it to finish"
                )
            if len(self._waiting) >= MAX_WAITING:
                raise InputError(
                    f"{MAX_WAITING} builds are already waiting; try again when some are done"
                )
            build = Build(
                id=next(self._ids), profile=profile, title=title, sessions=sessions,
                settings=settings, leftovers=leftovers,
            )  # fmt: skip
            self._waiting.append(build)
            self._start_waiting()
            return build

    def find(self, build_id: int) -> Build | None:
        with self._lock:
            return next((b for b in self.every() if b.id == build_id), None)

    def every(self) -> list[Build]:
        """Under way first, then waiting in order, then the finished, newest first."""
        return [*self._running, *self._waiting, *reversed(self._finished)]

    def snapshot(self) -> list[Build]:
        with self._lock:
            return self.every()

    def position(self, build: Build) -> int | None:
        """Its place in the queue (1 next), while it waits."""
        with self._lock:
            return next((n for n, b in enumerate(self._waiting, start=1) if b is build), None)

    def close(self) -> None:
        """No more builds start; those waiting are dropped, with what they kept."""
        with self._lock:
            self._closed = True
            for build in self._waiting:
                for leftover in build.leftovers:
                    leftover.unlink(missing_ok=True)
            self._waiting.clear()

    def _start_waiting(self) -> None:
        while self._waiting and len(self._running) < self.at_once and not self._closed:
            build = self._waiting.popleft()
            build.state = State.BUILDING
            self._running.append(build)
            threading.Thread(target=self._run, args=(build,), name=f"build {build.id}",
                             daemon=True).start()  # fmt: skip

    def _run(self, build: Build) -> None:
        try:
            for session in build.sessions:
                self._build_one(build, session)
                build.done += 1
                build.outputs.append(session.output)
            build.state = State.DONE
        except VoiceguideError as error:
            build.state, build.message = State.FAILED, error.report()
        except WorkerCrashed as error:
            build.state, build.message = State.FAILED, str(error)
        except Exception as error:  # (said on the page, never a traceback)
            build.state, build.message = State.FAILED, f"{type(error).__name__}: {error}"
        finally:
            build.finished_at = time.time()
            for leftover in (build.progress_file, *build.leftovers):
                if leftover is not None:
                    leftover.unlink(missing_ok=True)
            with self._lock:
                self._running.remove(build)
                self._finished.append(build)
                self._start_waiting()

    def _build_one(self, build: Build, session: Session) -> None:
        self._work_folder.mkdir(parents=True, exist_ok=True)
        build.progress_file = self._work_folder / f"build-{build.id}.progress"
        build.progress_file.unlink(missing_ok=True)
        build.stage = "speech"
        with Pool[int](kind="serve") as pool:
            pool.start(build_in_worker, session, build.settings, str(build.progress_file),
                       label=build.id)  # fmt: skip
            while True:
                ended = pool.ended()
                if ended:
                    result = pool.answer(ended[0][1])
                    break
        if result is None:
            raise VoiceguideError(
                f"the process building {session.output.name} ended without a word"
            )


def build_in_worker(session: Session, settings: RenderSettings, progress_file: str) -> int:
    """In a worker process: one session, its progress written to *progress_file*; its length."""
    path = Path(progress_file)
    last = [""]

    def progress(stage: str, done: int, total: int) -> None:
        start, end = STAGES.get(stage, (0, 100))
        line = f"{stage} {done} {total}"
        percent = f"{stage} {start + (end - start) * done // max(total, 1)}"
        if percent != last[0]:
            last[0] = percent
            temporary = path.with_suffix(".tmp")
            temporary.write_text(line)
            temporary.replace(path)  # (whole: the page never reads half a line)

    result = build_session(
        plan=session.plan,
        output=session.output,
        settings=settings,
        person=session.person,
        explanation=session.explanation,
        force=False,
        progress=progress,
    )
    return result.total_ms
