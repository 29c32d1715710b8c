"""One session from plan to files, as an outline over its stages: spoken (speaking.py), mixed and
mastered (mixing.py), written (writing.py), each handing the next a frozen object. Before any work,
the plan and output are checked (settings.py) and a session already up to date is left as it is
(existing.py).

Keyword-only functions with one settings object; progress reaches the caller through a callback,
so the CLI draws a bar and library users can do as they like. Nothing here prints.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from voiceguide.build.existing import files_state, remove_leftovers, up_to_date
from voiceguide.build.mixing import Mixed, master, mix
from voiceguide.build.settings import (
    Progress,
    RenderSettings,
    available_cores,
    check_length,
    check_output,
    cores_for,
    no_progress,
)
from voiceguide.build.speaking import (
    damaged,
    levelled_phrases,
    open_synthesizer,
    speak_plan,
    timed_script,
    with_speaker,
)
from voiceguide.build.writing import write
from voiceguide.plans.customize import Origin
from voiceguide.plans.plan import Plan
from voiceguide.script.timeline import Timeline
from voiceguide.sound.engines import DEFAULT_ENGINE
from voiceguide.sound.ownsounds import own_sounds

__all__ = [
    "BuildResult",
    "Mixed",
    "Preview",
    "Progress",
    "RenderSettings",
    "available_cores",
    "build_session",
    "files_state",
    "levelled_phrases",
    "mix_session",
    "open_synthesizer",
    "preview",
    "remove_leftovers",
    "timed_script",
    "up_to_date",
    "with_speaker",
    "write_session",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class BuildResult:
    path: Path
    total_ms: int
    timeline: Timeline | None
    """None when the file was already up to date and nothing was built."""
    up_to_date: bool = False
    synthesized: int = 0
    """Phrases the speech engine had to make (the others came from the speech cache)."""
    loudness_lufs: float | None = None
    """The loudness the session is heard at: the target, unless keeping its true peak under the
    ceiling kept it quieter (see mastering.py); None when nothing was built."""
    damaged_cache_entries: int = 0
    """Entries of the speech cache found damaged, and made again."""

    @property
    def phrases(self) -> int:
        """Distinct phrases spoken in the session (0 when nothing was built)."""
        return len(self.timeline.phrases()) if self.timeline else 0


def build_session(
    *,
    plan: Plan,
    output: Path,
    settings: RenderSettings,
    person: str | None = None,
    explanation: Sequence[Origin] = (),
    force: bool = False,
    progress: Progress = no_progress,
    cores: int | None = None,
) -> BuildResult:
    """Render *plan* into *output* (and its sidecars); an existing file is replaced only on success.

    A file made from the same plan, options and version is left as it is unless *force*. The build
    uses up to *cores* cores (all this process may run on, by default) for speech, levelling and
    MP3 encoding.
    """
    check_length(plan, settings)
    check_output(output)
    remove_leftovers(output, split=settings.split)
    plan = with_speaker(plan)  # (once, for the up-to-date check and every stage)
    existing = up_to_date(output, plan=plan, settings=settings, person=person)
    if existing is not None and not force:
        return BuildResult(path=output, total_ms=existing.length_ms, timeline=None, up_to_date=True)
    cores = cores_for(cores)
    with speak_plan(plan=plan, settings=settings, progress=progress, cores=cores) as spoken:
        mixed = mix(spoken, settings=settings)
        with master(mixed, settings=settings, progress=progress, cores=cores) as mastered:
            written = write(mastered, output, settings=settings, person=person,
                            explanation=explanation, progress=progress, cores=cores)  # fmt: skip
    return BuildResult(
        path=output, total_ms=spoken.timeline.total_ms, timeline=spoken.timeline,
        synthesized=spoken.synthesized, loudness_lufs=written.loudness_lufs,
        damaged_cache_entries=spoken.damaged_cache_entries,
    )  # fmt: skip


@dataclass(frozen=True, slots=True, kw_only=True)
class Preview:
    timeline: Timeline
    engine: str
    """The speech engine that speaks the session."""
    voice: str | None
    """Its voice's id; None for the engine's default."""
    damaged_cache_entries: int = 0
    """Entries of the speech cache found damaged, and made again."""


def preview(*, plan: Plan, settings: RenderSettings, cores: int | None = None) -> Preview:
    """The timed script without rendering audio (speech is synthesized only to be measured)."""
    check_length(plan, settings)
    plan = with_speaker(plan)
    sounds = own_sounds(plan, sample_rate=settings.sample_rate)  # (checked before any speech)
    with open_synthesizer(plan, settings) as synthesizer:
        timeline = timed_script(
            plan=plan, synthesizer=synthesizer, helpers=cores_for(cores) - 1, settings=settings,
            sounds=sounds,
        )  # fmt: skip
        voice = synthesizer.voice
        return Preview(
            timeline=timeline, engine=plan.engine or DEFAULT_ENGINE,
            voice=voice.id if voice else None, damaged_cache_entries=damaged(synthesizer),
        )  # fmt: skip


def mix_session(
    *,
    plan: Plan,
    settings: RenderSettings,
    progress: Progress = no_progress,
    cores: int | None = None,
) -> Mixed:
    """*plan* spoken (on up to *cores* cores), levelled and laid out at *settings*' sample rate, to
    be written once or in several formats (see write_session). Close it when done."""
    spoken = speak_plan(plan=plan, settings=settings, progress=progress, cores=cores_for(cores))
    try:
        return mix(spoken, settings=settings)
    except BaseException:
        spoken.close()
        raise


def write_session(
    mixed: Mixed,
    output: Path,
    *,
    settings: RenderSettings,
    person: str | None = None,
    explanation: Sequence[Origin] = (),
    progress: Progress = no_progress,
    cores: int | None = None,
) -> float:
    """Write *mixed* into *output* as *settings* say (format, loudness, music, split, sidecars), at
    the loudness target and under the true-peak ceiling as heard (see mastering.py); return the
    loudness it is heard at (the target, unless the ceiling kept it quieter)."""
    cores = cores_for(cores)
    with master(mixed, settings=settings, progress=progress, cores=cores) as mastered:
        written = write(mastered, output, settings=settings, person=person,
                        explanation=explanation, progress=progress, cores=cores)  # fmt: skip
    return written.loudness_lufs
