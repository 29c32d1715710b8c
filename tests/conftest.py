"""Shared fixtures.

`default_session`: the shipped plan built ONCE per test run with the real engine (espeak-ng through
pyttsx3, ffmpeg), decoded back to samples with the same ffmpeg. Building takes a few seconds, so
every end-to-end test reads this one session instead of making its own.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cost_marks
import numpy as np
import pytest
from audio_measure import decode
from builders import TINY_PLAN, write_plan
from click.testing import CliRunner
from cost_marks import marks_its_tests
from processes import end_all_started

from voiceguide.build.session import BuildResult, RenderSettings, build_session
from voiceguide.plans.loader import load_plan, shipped_plan_path
from voiceguide.plans.plan import Plan
from voiceguide.sound.engines import ENGINE_VARIABLE


def pytest_configure(config: pytest.Config) -> None:
    """The whole run (its subprocesses too) uses a speech cache of its own, empty at the start:
    tests never read the user's cache, and the first build of each phrase is a real synthesis.
    Tests are marked by what they start, and fail if they start what their marks do not allow (see
    cost_marks.py)."""
    os.environ["VOICEGUIDE_CACHE_DIR"] = tempfile.mkdtemp(prefix="vg-test-speech-cache-")
    # The test extra installs a Piper voice, which plans that name no engine would be spoken by;
    # the tests are of espeak's sessions unless they say otherwise, as the README's first command
    # makes them (it installs no Piper). Tests of Piper and of the choice name it or unset this.
    os.environ[ENGINE_VARIABLE] = "espeak"
    config.pluginmanager.register(cost_marks, "cost_marks")


def pytest_unconfigure(config: pytest.Config) -> None:
    shutil.rmtree(os.environ.pop("VOICEGUIDE_CACHE_DIR", ""), ignore_errors=True)


@pytest.fixture
def runner() -> CliRunner:
    """click's runner for invoking the CLI in-process, stdout and stderr kept apart."""
    return CliRunner()


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    """TINY_PLAN written to a file."""
    return write_plan(tmp_path, TINY_PLAN)


@dataclass(frozen=True, slots=True)
class BuiltSession:
    """A session built from a plan and decoded back from its MP3."""

    plan: Plan
    settings: RenderSettings
    result: BuildResult
    """What build_session returned: the file's path and the timeline it was mixed from."""
    samples: np.ndarray
    """The MP3 decoded to mono float32 in [-1, 1) at `sample_rate`."""
    sample_rate: int


@pytest.fixture(scope="session")
@marks_its_tests("audio")
def default_session(tmp_path_factory: pytest.TempPathFactory) -> BuiltSession:
    """The shipped plan (feet-for-back-pain.yaml) built with default settings and decoded."""
    plan = load_plan(shipped_plan_path())
    settings = RenderSettings()
    output = Path(tmp_path_factory.mktemp("default-session")) / "session.mp3"
    result = build_session(plan=plan, output=output, settings=settings)
    # Decoded at the session's own rate, so that nothing is resampled between mixing and measuring.
    samples = decode(result.path, sample_rate=settings.sample_rate)
    return BuiltSession(
        plan=plan,
        settings=settings,
        result=result,
        samples=samples,
        sample_rate=settings.sample_rate,
    )


@pytest.fixture(scope="session")
@marks_its_tests("audio")
def piper_default_session(tmp_path_factory: pytest.TempPathFactory) -> BuiltSession:
    """The shipped plan spoken by Piper (the test extra's voice package), built and decoded."""
    plan = dataclasses.replace(load_plan(shipped_plan_path()), engine="piper")
    settings = RenderSettings()
    output = Path(tmp_path_factory.mktemp("piper-default-session")) / "session.mp3"
    result = build_session(plan=plan, output=output, settings=settings)
    samples = decode(result.path, sample_rate=settings.sample_rate)
    return BuiltSession(
        plan=plan, settings=settings, result=result, samples=samples,
        sample_rate=settings.sample_rate,
    )  # fmt: skip


@pytest.fixture(scope="session", params=["espeak", "piper"])
def each_engine_session(request: pytest.FixtureRequest) -> BuiltSession:
    """The default session spoken by each engine: espeak-ng, and Piper's neural voice (the test
    extra's en_US-joe-medium); a test that takes it checks its guarantee for both."""
    fixture = "default_session" if request.param == "espeak" else "piper_default_session"
    built: BuiltSession = request.getfixturevalue(fixture)
    return built


@pytest.fixture(autouse=True)
def no_stray_processes() -> Iterator[None]:
    """Whatever a test started as a command (see processes.py) is gone once the test ends."""
    yield
    end_all_started()
