"""How a session is rendered beyond what its plan says, and what a build refuses before any work:
a session of absurd length, an output that is not a regular file."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from voiceguide.common.clock import duration
from voiceguide.common.errors import SettingsError
from voiceguide.output.export import Encoding
from voiceguide.plans.plan import Plan
from voiceguide.script.timeline import shortest_length_ms
from voiceguide.sound.loudness import TARGET_LUFS
from voiceguide.sound.music import DEFAULT_LEVEL_DB as DEFAULT_MUSIC_LEVEL_DB

Progress = Callable[[str, int, int], None]
"""Called as progress(stage, done, total) while a session is made."""


def no_progress(stage: str, done: int, total: int) -> None:
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class RenderSettings:
    """How a session is rendered and written, beyond what the (customized) plan says."""

    sample_rate: int = 22_050
    """espeak-ng speaks at 22.05 kHz; speech needs no more, and no resampling is cheapest."""
    encoding: Encoding = field(default_factory=Encoding)
    loudness_lufs: float = TARGET_LUFS
    music: Path | None = None
    music_level_db: float = DEFAULT_MUSIC_LEVEL_DB
    sidecars: bool = True
    """Captions (.vtt), the timeline (.json) and the script (.txt) beside the session."""
    split: bool = False
    """One file per section (intro, each exercise, closing) and an M3U playlist."""
    allow_long: bool = False
    """Make sessions longer than LONG_SESSION_MS (up to MAX_SESSION_MS)."""


LONG_SESSION_MS = 3 * 3_600_000
"""Longer sessions are refused unless asked for: a plan that long is more likely a mistake."""
MAX_SESSION_MS = 12 * 3_600_000


def check_length(plan: Plan, settings: RenderSettings) -> None:
    """Refuse a session of absurd length before any work is done on it."""
    shortest = shortest_length_ms(plan)
    limit = MAX_SESSION_MS if settings.allow_long else LONG_SESSION_MS
    if shortest > limit:
        hint = (
            f"the most voiceguide makes is {duration(MAX_SESSION_MS)}"
            if settings.allow_long
            else "check the reps, sets and durations, or pass --allow-long if you mean it "
            f"(up to {duration(MAX_SESSION_MS)})"
        )
        raise SettingsError(
            f"the session would last at least {duration(shortest)}, more than {duration(limit)}; {hint}"
        )


def check_output(path: Path) -> None:
    """Refuse an existing output that is not a regular file (a FIFO would block, a device never end
    or be replaced) before any work is done."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return  # (nothing there yet; a folder that does not exist is reported when writing)
    if not stat.S_ISREG(mode):
        raise SettingsError(f"cannot write {path}: {not_regular(mode)}; choose another output file")


def not_regular(mode: int) -> str:
    kind = (
        "a folder"
        if stat.S_ISDIR(mode)
        else "a FIFO"
        if stat.S_ISFIFO(mode)
        else "a device or socket"
    )
    return f"it is not a regular file but {kind}"


def cores_for(cores: int | None) -> int:
    """*cores*, or else the number of cores this process may run on."""
    return max(1, cores) if cores is not None else available_cores()


def available_cores() -> int:
    """The cores this process may run on (fewer than the machine's when it is pinned or limited)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1
