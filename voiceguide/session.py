"""The pipeline: plan -> timed script -> speech and tones -> one buffer -> session file.

Keyword-only functions with one settings object; progress reaches the caller through a callback,
so the CLI draws a bar and library users can do as they like. Nothing here prints.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from voiceguide import __version__
from voiceguide.export import Tags, write_mp3
from voiceguide.mixdown import mix
from voiceguide.plan import Plan
from voiceguide.speech import Synthesizer
from voiceguide.timeline import Timeline, build_timeline

Progress = Callable[[str, int, int], None]
"""Called as progress(stage, done, total) while a session is made."""


@dataclass(frozen=True, slots=True, kw_only=True)
class RenderSettings:
    """How a session sounds, beyond what the plan says."""

    voice: str | None = None
    """Overrides the plan's voice when given."""
    rate: int | None = None
    """Overrides the plan's speech rate (words per minute) when given."""
    sample_rate: int = 22_050
    """espeak-ng speaks at 22.05 kHz; speech needs no more, and no resampling is cheapest."""
    bitrate: str = "64k"


@dataclass(frozen=True, slots=True, kw_only=True)
class BuildResult:
    path: Path
    timeline: Timeline
    phrases: int
    """Distinct phrases spoken in the session."""
    stage_seconds: dict[str, float] = field(default_factory=dict)


def _no_progress(stage: str, done: int, total: int) -> None:
    pass


def open_synthesizer(plan: Plan, settings: RenderSettings) -> Synthesizer:
    return Synthesizer(
        voice=settings.voice or plan.voice,
        rate=settings.rate or plan.rate,
        sample_rate=settings.sample_rate,
    )


def timed_script(*, plan: Plan, synthesizer: Synthesizer, progress: Progress = _no_progress) -> Timeline:
    """The timeline, with speech lengths measured by synthesizing every phrase once."""
    # A first layout with a rough length per character tells which phrases there will be, so that
    # synthesis can report progress, and about how long the session is; the real layout then
    # reuses every clip.
    ms_per_character = 60_000 // (plan.rate * 6)
    rough = build_timeline(plan=plan, speech_ms=lambda text: ms_per_character * len(text))
    phrases = rough.phrases()
    for done, phrase in enumerate(phrases, start=1):
        synthesizer.clip(phrase)
        progress("speech", done, len(phrases))
    return build_timeline(plan=plan, speech_ms=synthesizer.duration_ms, expected_total_ms=rough.total_ms)


def preview(*, plan: Plan, settings: RenderSettings) -> Timeline:
    """The timed script without rendering audio (speech is synthesized only to be measured)."""
    with open_synthesizer(plan, settings) as synthesizer:
        return timed_script(plan=plan, synthesizer=synthesizer)


def build_session(
    *, plan: Plan, output: Path, settings: RenderSettings, progress: Progress = _no_progress
) -> BuildResult:
    """Render *plan* into an MP3 at *output*; an existing file is replaced only on success."""
    seconds: dict[str, float] = {}
    clock = time.perf_counter()
    with open_synthesizer(plan, settings) as synthesizer:
        timeline = timed_script(plan=plan, synthesizer=synthesizer, progress=progress)
        seconds["speech"] = time.perf_counter() - clock

        clock = time.perf_counter()
        progress("mixing", 0, 1)
        audio = mix(timeline=timeline, speech=synthesizer.clip, sample_rate=settings.sample_rate)
        progress("mixing", 1, 1)
        seconds["assembly"] = time.perf_counter() - clock

        clock = time.perf_counter()
        progress("encoding", 0, 1)
        tags = Tags(
            title=plan.title,
            artist="voiceguide",
            album=plan.title,
            comment=f"Made with voiceguide {__version__} from {Path(plan.source_name).name}",
        )
        write_mp3(
            audio,
            output,
            tags=tags,
            bitrate=settings.bitrate,
            progress=lambda done, total: progress("encoding", done, total),
        )
        seconds["encoding"] = time.perf_counter() - clock
        return BuildResult(path=output, timeline=timeline, phrases=len(timeline.phrases()), stage_seconds=seconds)
