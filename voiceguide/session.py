"""The pipeline: plan -> timed script -> speech and tones -> one buffer -> session file.

Keyword-only functions with one settings object; progress reaches the caller through a callback,
so the CLI draws a bar and library users can do as they like. Nothing here prints.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from voiceguide import __version__
from voiceguide.export import Tags, read_stamp, write_mp3
from voiceguide.mixdown import mix
from voiceguide.plan import Plan
from voiceguide.speech import Synthesizer
from voiceguide.timeline import Timeline, build_timeline

Progress = Callable[[str, int, int], None]
"""Called as progress(stage, done, total) while a session is made."""


@dataclass(frozen=True, slots=True, kw_only=True)
class RenderSettings:
    """How a session is encoded, beyond what the (customized) plan says."""

    sample_rate: int = 22_050
    """espeak-ng speaks at 22.05 kHz; speech needs no more, and no resampling is cheapest."""
    bitrate: str = "64k"


@dataclass(frozen=True, slots=True, kw_only=True)
class BuildResult:
    path: Path
    total_ms: int
    timeline: Timeline | None
    """None when the file was already up to date and nothing was built."""
    up_to_date: bool = False
    stage_seconds: dict[str, float] = field(default_factory=dict)

    @property
    def phrases(self) -> int:
        """Distinct phrases spoken in the session (0 when nothing was built)."""
        return len(self.timeline.phrases()) if self.timeline else 0


def _no_progress(stage: str, done: int, total: int) -> None:
    pass


def open_synthesizer(plan: Plan, settings: RenderSettings) -> Synthesizer:
    return Synthesizer(voice=plan.voice, rate=plan.rate, sample_rate=settings.sample_rate)


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


def fingerprint(plan: Plan, settings: RenderSettings) -> str:
    """A digest of everything a session file is made from: the effective plan (after profile,
    options and week), the render settings and the voiceguide version."""
    content = {
        "plan": dataclasses.asdict(dataclasses.replace(plan, source_name="")),
        "settings": dataclasses.asdict(settings),
        "version": __version__,
    }
    return hashlib.sha256(json.dumps(content, sort_keys=True, default=str).encode()).hexdigest()


def session_title(plan: Plan, person: str | None) -> str:
    parts = [plan.title, *([person] if person else []), *([f"week {plan.week}"] if plan.week else [])]
    return ", ".join(parts)


def build_session(
    *,
    plan: Plan,
    output: Path,
    settings: RenderSettings,
    person: str | None = None,
    force: bool = False,
    progress: Progress = _no_progress,
) -> BuildResult:
    """Render *plan* into an MP3 at *output*; an existing file is replaced only on success.

    A file made from the same plan, options and version is left as it is unless *force*.
    """
    stamp = fingerprint(plan, settings)
    if not force:
        existing = read_stamp(output)
        if existing is not None and existing.fingerprint == stamp:
            return BuildResult(path=output, total_ms=existing.length_ms, timeline=None, up_to_date=True)
    seconds: dict[str, float] = {}
    clock = time.perf_counter()
    with open_synthesizer(plan, settings) as synthesizer:
        timeline = timed_script(plan=plan, synthesizer=synthesizer, progress=progress)
        seconds["speech"] = time.perf_counter() - clock

        clock = time.perf_counter()
        progress("mixing", 0, 1)
        audio = mix(
            timeline=timeline,
            speech=synthesizer.clip,
            sample_rate=settings.sample_rate,
            volume=plan.volume,
            beep_level_dbfs=plan.beep_level_db,
        )
        progress("mixing", 1, 1)
        seconds["assembly"] = time.perf_counter() - clock

    clock = time.perf_counter()
    progress("encoding", 0, 1)
    tags = Tags(
        title=session_title(plan, person),
        artist="voiceguide",
        album=plan.title,
        comment=f"Made with voiceguide {__version__} from {Path(plan.source_name).name}",
        length_ms=timeline.total_ms,
        fingerprint=stamp,
    )
    write_mp3(
        audio,
        output,
        tags=tags,
        bitrate=settings.bitrate,
        progress=lambda done, total: progress("encoding", done, total),
    )
    seconds["encoding"] = time.perf_counter() - clock
    return BuildResult(path=output, total_ms=timeline.total_ms, timeline=timeline, stage_seconds=seconds)
