"""Which tests may start the speech engine or ffmpeg, and the check that they say so.

A test marked `speech` may start the speech engine (espeak-ng, through pyttsx3), one marked
`runs_ffmpeg` may run ffmpeg; `audio` (end to end) implies both, and `ffmpeg` (its outcome depends
on which ffmpeg runs) implies `runs_ffmpeg`. `scripts/test --fast` runs the tests that have none of
these marks, so a mark that is missing would let a slow test into the fast run: this plugin (which
conftest loads) fails a test, at its teardown, that started what its marks do not allow, in its own
process or in any process it started (child_site notes those).

A test without those marks has a speech cache of its own, empty, so that one which needs the
engine starts it (and fails) whatever ran before it, rather than finding the phrases it needs in the
run's cache. Which ffmpeg to use is found once a process, so a test whose only use of ffmpeg is
that probe shows it only when it is the first to ask, as in `scripts/test --fast`.
"""

from __future__ import annotations

import functools
import itertools
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Generator
from pathlib import Path
from typing import Any, TypeVar

import pytest

CHILD_SITE = Path(__file__).resolve().parent / "child_site"
sys.path.append(str(CHILD_SITE))

import startnotes  # noqa: E402  (lives in CHILD_SITE, for the processes a test starts too)

COST_MARKS = {
    startnotes.SPEECH: ("speech", "audio"),
    startnotes.FFMPEG: ("runs_ffmpeg", "ffmpeg", "audio"),
}
"""What a process started, and the marks of which any one allows it."""
NAMES = {startnotes.SPEECH: "the speech engine", startnotes.FFMPEG: "ffmpeg"}

Function = TypeVar("Function", bound=Callable[..., Any])
COSTLY = {mark for marks in COST_MARKS.values() for mark in marks}
CACHE_VARIABLE = "VOICEGUIDE_CACHE_DIR"

_folder = Path(tempfile.mkdtemp(prefix="vg-test-starts-"))
_run_cache: list[str | None] = []
"""The run's speech cache, while a test without a mark by cost has one of its own."""
_numbers = itertools.count()


def pytest_configure(config: pytest.Config) -> None:
    """From now on, this process and every Python process started from it note what they start."""
    os.environ["PYTHONPATH"] = os.pathsep.join(
        [str(CHILD_SITE), *filter(None, [os.environ.get("PYTHONPATH")])]
    )
    startnotes.watch()


def pytest_unconfigure(config: pytest.Config) -> None:
    os.environ.pop(startnotes.VARIABLE, None)
    shutil.rmtree(_folder, ignore_errors=True)


def marks_its_tests(*marks: str) -> Callable[[Function], Function]:
    """For a fixture (under @pytest.fixture) that starts what *marks* allow: each test that uses it
    has them, as the fixture is set up for the first of those tests only."""

    def decorate(function: Function) -> Function:
        function.marks_by_cost = marks  # type: ignore[attr-defined]
        return function

    return decorate


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        info = getattr(item, "_fixtureinfo", None)
        for definitions in info.name2fixturedefs.values() if info else ():
            for mark in getattr(definitions[-1].func, "marks_by_cost", ()):
                item.add_marker(mark)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Generator[None]:
    """From the test's setup (its fixtures' included), notes go to a file of its own..."""
    _begin(item)
    return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item) -> Generator[None]:
    """... until its teardown, once the processes it started are gone: its marks must allow them."""
    result = yield
    _check(item)
    return result


def _begin(item: pytest.Item) -> None:
    _wrap_pyttsx3_init()
    number = next(_numbers)
    path = _folder / f"{number}.txt"
    path.touch()
    os.environ[startnotes.VARIABLE] = str(path)
    if not _marks(item) & COSTLY:
        _run_cache.append(os.environ.get(CACHE_VARIABLE))
        os.environ[CACHE_VARIABLE] = str(_folder / f"{number}-cache")


def _check(item: pytest.Item) -> None:
    path = Path(os.environ.pop(startnotes.VARIABLE))
    if _run_cache:
        shutil.rmtree(os.environ[CACHE_VARIABLE], ignore_errors=True)
        if (cache := _run_cache.pop()) is None:
            os.environ.pop(CACHE_VARIABLE)
        else:
            os.environ[CACHE_VARIABLE] = cache
    started = set(path.read_text().split())
    marks = _marks(item)
    unmarked = [
        f"started {NAMES[what]} but is not marked "
        + " or ".join(f"@pytest.mark.{name}" for name in COST_MARKS[what])
        for what in sorted(started)
        if not marks & set(COST_MARKS[what])
    ]
    if unmarked:
        pytest.fail(f"{item.nodeid} {'; '.join(unmarked)} (see tests/cost_marks.py)", pytrace=False)


def _marks(item: pytest.Item) -> set[str]:
    return {mark.name for mark in item.iter_markers()}


def _wrap_pyttsx3_init() -> None:
    """pyttsx3.init notes the engine's start: the import that notes the first start in a process
    (see startnotes) happens only once. pyttsx3 is wrapped once some test has imported it, as
    importing it here would change what the tests see."""
    pyttsx3 = sys.modules.get("pyttsx3")
    init = getattr(pyttsx3, "init", None)
    if init is None or getattr(init, "noting", False):
        return

    @functools.wraps(init)
    def noting_init(*args: Any, **kwargs: Any) -> Any:
        startnotes.note(startnotes.SPEECH)
        return init(*args, **kwargs)

    noting_init.noting = True  # type: ignore[attr-defined]
    pyttsx3.init = noting_init  # type: ignore[union-attr]
