"""The worker pool that batch's builds and the speech helpers share: answers, errors and stops."""

from __future__ import annotations

import glob
import math
import os
import signal
import tempfile
import time
from pathlib import Path

import pytest

from voiceguide.common.errors import PlanError, SettingsError
from voiceguide.common.stopping import Interrupted
from voiceguide.common.workers import Pool, WorkerCrashed
from voiceguide.plans.loader import load_plan
from voiceguide.sound.engines import load_engine


def test_workers_answer_with_their_results_and_errors() -> None:
    """Each worker's return value, its VoiceguideError as it is, another error as WorkerCrashed, and
    nothing from one that ended its process itself; the pool is empty once all are answered."""
    found: dict[str, object] = {}
    with Pool[str]() as pool:
        pool.start(math.factorial, 5, label="factorial")
        pool.start(load_engine, "nope", label="settings error")
        pool.start(math.sqrt, -1, label="crash")
        pool.start(os._exit, 3, label="exit")
        while pool:
            for label, worker in pool.ended():
                try:
                    found[label] = pool.answer(worker)
                except (SettingsError, WorkerCrashed) as error:
                    found[label] = error
    assert found["factorial"] == 120
    assert isinstance(found["settings error"], SettingsError)
    assert str(found["settings error"]).startswith("there is no speech engine 'nope'")
    assert isinstance(found["crash"], WorkerCrashed) and "math domain error" in str(found["crash"])
    assert found["exit"] is None
    assert len(pool) == 0


def test_a_worker_stopped_by_a_signal_stops_the_task() -> None:
    """A worker ended by a stop signal raises Interrupted when it is answered and stays in the
    pool, so that stopping the pool names it with those still running; their folders are removed."""
    with Pool[str](kind="pooltest") as pool:
        pool.start(time.sleep, 60, label="running")
        pool.start(signal.raise_signal, signal.SIGTERM, label="stopped")
        ended = pool.ended()
        assert [label for label, _ in ended] == ["stopped"]
        with pytest.raises(Interrupted) as interrupted:
            pool.answer(ended[0][1])
        assert interrupted.value.signum == signal.SIGTERM
        assert len(pool) == 2
        started = time.monotonic()
        assert sorted(pool.stop()) == ["running", "stopped"]
        assert time.monotonic() - started < 5  # (the sleeper unwound at SIGTERM, not killed)
    assert len(pool) == 0
    assert not glob.glob(os.path.join(tempfile.gettempdir(), "voiceguide-pooltest-*"))


def test_a_plan_error_in_a_worker_reaches_the_caller_as_it_was_raised(tmp_path: Path) -> None:
    """A plan error holds a list of problems: it crosses the pipe as that list, not as the
    characters of its message."""
    plan = tmp_path / "plan.yaml"
    plan.write_text("title: T\nexercises:\n  - name: A\n    reps: many\n    sets: few\n")
    with Pool[str]() as pool:
        pool.start(load_plan, plan, label="plan")
        [(_, worker)] = list(pool.ended())
        with pytest.raises(PlanError) as raised:
            pool.answer(worker)
    raised_here = load_plan_error(plan)
    assert len(raised_here.problems) == 3
    assert raised.value.problems == raised_here.problems
    assert raised.value.report() == raised_here.report()


def load_plan_error(plan: Path) -> PlanError:
    with pytest.raises(PlanError) as raised:
        load_plan(plan)
    return raised.value
