"""The middle stages of a build: the spoken session mixed (its samples, the same whatever file it
is written as), then mastered for the file it is written as (music under the voice, the gain to the
loudness target and the limits under the true-peak ceiling, as heard through the encoder)."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass

from voiceguide.build.settings import Progress, RenderSettings, no_progress
from voiceguide.build.speaking import Spoken
from voiceguide.output.mastering import Mastering
from voiceguide.plans.plan import Plan
from voiceguide.script.timeline import Timeline
from voiceguide.sound.loudness import speech_level_dbfs
from voiceguide.sound.mixdown import Mixdown
from voiceguide.sound.music import Music
from voiceguide.sound.ownsounds import levelled
from voiceguide.sound.truepeak import limited_clips_cache


@dataclass(frozen=True, slots=True, kw_only=True)
class Mixed:
    """A session spoken and laid out: its samples, the same whatever the file is written as. Its
    clips stay in the spoken session's store until it is closed: use it as a context manager."""

    spoken: Spoken
    mixdown: Mixdown
    speech_level_dbfs: float
    """The level beeps and music are set against."""

    @property
    def plan(self) -> Plan:
        return self.spoken.plan

    @property
    def timeline(self) -> Timeline:
        return self.spoken.timeline

    @property
    def synthesized(self) -> int:
        """Phrases the speech engine had to make."""
        return self.spoken.synthesized

    @property
    def damaged_cache_entries(self) -> int:
        """Entries of the speech cache found damaged, and made again."""
        return self.spoken.damaged_cache_entries

    def __enter__(self) -> Mixed:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.spoken.close()


def mix(spoken: Spoken, *, settings: RenderSettings) -> Mixed:
    """*spoken* laid out at *settings*' sample rate, with its beeps, at the plan's volume."""
    store, clips = spoken.store, dict(spoken.clips)
    # Beeps and music are set against speech at full volume: `volume` moves the voice against them.
    speech_level = speech_level_dbfs(store.read(number) for number in clips.values())
    beep_level = speech_level + spoken.plan.beep_level_db  # (the tones' RMS: see Mixdown)
    sounds = {
        tone: store.add(levelled(sound, rms_dbfs=beep_level, speech_level_dbfs=speech_level))
        for tone, sound in spoken.sounds.items()
    }
    mixdown = Mixdown(
        timeline=spoken.timeline,
        phrases=clips,
        store=store,
        sample_rate=settings.sample_rate,
        volume=spoken.plan.volume,
        beep_level_db=spoken.plan.beep_level_db,
        speech_level_dbfs=speech_level,
        sounds=sounds,
    )
    return Mixed(spoken=spoken, mixdown=mixdown, speech_level_dbfs=speech_level)


@dataclass(frozen=True, slots=True, kw_only=True)
class Mastered:
    """A mixed session made ready for the file *settings* ask for: the music under it, if any
    (decoded into a temporary file until this is closed), and its mastering, whose gain and limits
    every file written takes (and whose check of each file may lower them: see Mastering.check)."""

    mixed: Mixed
    music: Music | None
    mastering: Mastering

    @property
    def gain_db(self) -> float:
        return self.mastering.gain_db

    @property
    def loudness_lufs(self) -> float:
        """The loudness the session is heard at: the target, unless the ceiling keeps it quieter."""
        return self.mastering.loudness_lufs

    def samples(self, mixdown: Mixdown, start: int, end: int) -> Iterator[bytes]:
        """Frames *start* to *end* of *mixdown*, with the music under them."""
        return _under(self.music, self.mixed.timeline, mixdown, start, end)

    def __enter__(self) -> Mastered:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self.music is not None:
            self.music.__exit__(None, None, None)


def master(
    mixed: Mixed, *, settings: RenderSettings, progress: Progress = no_progress, cores: int = 1
) -> Mastered:
    """*mixed* with *settings*' music under it, at the loudness target and under the true-peak
    ceiling as heard through *settings*' encoder (measured on up to *cores* cores)."""
    mixdown = mixed.mixdown
    if settings.sample_rate != mixdown.sample_rate:
        raise ValueError(
            f"the session was mixed at {mixdown.sample_rate} Hz, not {settings.sample_rate} Hz"
        )
    music = None
    if settings.music is not None:
        music = Music(
            settings.music,
            sample_rate=settings.sample_rate,
            total_ms=mixed.timeline.total_ms,
            level_db=settings.music_level_db,
            speech_level_dbfs=mixed.speech_level_dbfs,
        )
    try:
        progress("mixing", 0, 1)
        mastering = Mastering(
            mixdown,
            target_lufs=settings.loudness_lufs,
            encoding=settings.encoding,
            cores=cores,
            music=functools.partial(_under, music, mixed.timeline, mixdown, 0, mixdown.frames)
            if music
            else None,
            limited_cache=limited_clips_cache(),
        )
        progress("mixing", 1, 1)
    except BaseException:
        if music is not None:
            music.__exit__(None, None, None)
        raise
    return Mastered(mixed=mixed, music=music, mastering=mastering)


def _under(
    music: Music | None, timeline: Timeline, mixdown: Mixdown, start: int, end: int
) -> Iterator[bytes]:
    chunks = mixdown.chunks(start, end)
    return music.under(chunks, timeline, start) if music else chunks
