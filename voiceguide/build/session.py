"""The pipeline: plan -> timed script -> speech and tones -> one buffer -> session file.

Keyword-only functions with one settings object; progress reaches the caller through a callback,
so the CLI draws a bar and library users can do as they like. Nothing here prints.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import glob
import hashlib
import json
import os
import stat
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from voiceguide import __version__
from voiceguide.common.clock import duration
from voiceguide.common.errors import SettingsError
from voiceguide.output.chapters import at_most, chapters_of
from voiceguide.output.destination import PLAYLIST, part_name
from voiceguide.output.export import (
    Chapter,
    Encoding,
    Retake,
    Source,
    Stamp,
    Tags,
    read_stamp,
    write_audio,
)
from voiceguide.output.mastering import Mastering
from voiceguide.output.replacing import FileSet, remove_stale_temporaries
from voiceguide.output.sidecars import (
    SIDECARS,
    digest_of_texts,
    digest_on_disk,
    playlist,
    sidecar_texts,
)
from voiceguide.plans.customize import Origin
from voiceguide.plans.plan import Plan
from voiceguide.script.timeline import Timeline, build_timeline, shortest_length_ms
from voiceguide.script.wording import Wording
from voiceguide.sound.clipstore import ClipStore
from voiceguide.sound.engines import DEFAULT_ENGINE, load_engine
from voiceguide.sound.loudness import (
    LEVELLING_VERSION,
    TARGET_LUFS,
    level_phrases,
    speech_level_dbfs,
)
from voiceguide.sound.mixdown import Mixdown, frame_at
from voiceguide.sound.music import DEFAULT_LEVEL_DB as DEFAULT_MUSIC_LEVEL_DB
from voiceguide.sound.music import Music
from voiceguide.sound.speech import Synthesizer
from voiceguide.sound.speechcache import SpeechCache
from voiceguide.sound.speechpool import speak

Progress = Callable[[str, int, int], None]
"""Called as progress(stage, done, total) while a session is made."""


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
    engine: str = DEFAULT_ENGINE
    """The speech engine that speaks (see sound.engines)."""


LONG_SESSION_MS = 3 * 3_600_000
"""Longer sessions are refused unless asked for: a plan that long is more likely a mistake."""
MAX_SESSION_MS = 12 * 3_600_000


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


def _no_progress(stage: str, done: int, total: int) -> None:
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class Preview:
    timeline: Timeline
    damaged_cache_entries: int = 0
    """Entries of the speech cache found damaged, and made again."""


def open_synthesizer(
    plan: Plan, settings: RenderSettings, cache_folder: Path | None = None
) -> Synthesizer:
    """A synthesizer for *plan* with the settings' engine, and the speech cache in *cache_folder*
    (by default, the user's) keyed by the engine's identity."""
    engine = load_engine(settings.engine)
    cache = SpeechCache(engine=str(engine.identity()), folder=cache_folder)
    return Synthesizer(
        voice=plan.voice,
        rate=plan.rate,
        sample_rate=settings.sample_rate,
        cache=cache,
        language=plan.language,
        engine=engine,
    )


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


def timed_script(
    *,
    plan: Plan,
    settings: RenderSettings,
    synthesizer: Synthesizer,
    progress: Progress = _no_progress,
    helpers: int = 0,
) -> Timeline:
    """The timeline, with speech lengths measured by synthesizing every phrase once (the phrases
    the speech cache lacks in up to *helpers* other processes too: see speechpool)."""
    # A first layout with a rough length per character tells which phrases there will be, so that
    # synthesis can report progress, and about how long the session is; the real layout then
    # reuses every clip.
    ms_per_character = 60_000 // (plan.rate * 6)
    rough = build_timeline(plan=plan, speech_ms=lambda text: ms_per_character * len(text))
    phrases = rough.phrases()
    missing = [phrase for phrase in phrases if not synthesizer.cached(phrase)]
    # (the cache's folder is passed on: without a home, a helper's temporary folder is another)
    cache_folder = synthesizer.cache.root if synthesizer.cache else None
    speak(
        synthesizer,
        missing,
        recipe=functools.partial(open_synthesizer, plan, settings, cache_folder),
        helpers=helpers,
        progress=lambda done: progress("speech", done, len(phrases)),
    )
    for phrase in phrases:
        synthesizer.synthesized_ms(phrase)  # found in the cache now (without reading it)
    progress("speech", len(phrases), len(phrases))
    progress("timeline", 0, 1)
    timeline = build_timeline(
        plan=plan, speech_ms=synthesizer.synthesized_ms, expected_total_ms=rough.total_ms
    )
    progress("timeline", 1, 1)
    return timeline


def preview(*, plan: Plan, settings: RenderSettings, cores: int | None = None) -> Preview:
    """The timed script without rendering audio (speech is synthesized only to be measured)."""
    check_length(plan, settings)
    with open_synthesizer(plan, settings) as synthesizer:
        timeline = timed_script(
            plan=plan, synthesizer=synthesizer, helpers=_cores(cores) - 1, settings=settings
        )
        return Preview(timeline=timeline, damaged_cache_entries=_damaged(synthesizer))


def _damaged(synthesizer: Synthesizer) -> int:
    return len(synthesizer.cache.damaged) if synthesizer.cache else 0


def _cores(cores: int | None) -> int:
    """*cores*, or else the number of cores this process may run on."""
    return max(1, cores) if cores is not None else available_cores()


def available_cores() -> int:
    """The cores this process may run on (fewer than the machine's when it is pinned or limited)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def fingerprint(plan: Plan, settings: RenderSettings, person: str | None = None) -> str:
    """A digest of everything a session file is made from: the effective plan (after profile,
    options and week), the person it is for, the render settings (and the music's content) and the
    voiceguide version."""
    content = {
        "person": person,
        "plan": dataclasses.asdict(dataclasses.replace(plan, source_name="")),
        # (the default engine is left out, so that its sessions' fingerprints do not depend on
        # whether an engine can be chosen)
        "settings": {
            k: v
            for k, v in dataclasses.asdict(settings).items()
            if k != "allow_long" and not (k == "engine" and v == DEFAULT_ENGINE)
        },
        "music": _file_digest(settings.music) if settings.music else None,
        "version": __version__,
    }
    return hashlib.sha256(json.dumps(content, sort_keys=True, default=str).encode()).hexdigest()


def check_output(path: Path) -> None:
    """Refuse an existing output that is not a regular file (a FIFO would block, a device never end
    or be replaced) before any work is done."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return  # (nothing there yet; a folder that does not exist is reported when writing)
    if not stat.S_ISREG(mode):
        raise SettingsError(
            f"cannot write {path}: {_not_regular(mode)}; choose another output file"
        )


def _not_regular(mode: int) -> str:
    kind = (
        "a folder"
        if stat.S_ISDIR(mode)
        else "a FIFO"
        if stat.S_ISFIFO(mode)
        else "a device or socket"
    )
    return f"it is not a regular file but {kind}"


def _file_digest(path: Path) -> str:
    mode = path.stat().st_mode
    if not stat.S_ISREG(mode):
        # A device or FIFO may never end (/dev/zero) or block: music is a file of a known length.
        raise SettingsError(f"cannot use {path} as music: {_not_regular(mode)}")
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while block := file.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def up_to_date(
    output: Path, *, plan: Plan, settings: RenderSettings, person: str | None = None
) -> Stamp | None:
    """The stamp of the session at *output* if it need not be built again: it is whole, was made
    from the same plan, settings, person and version, and has beside it the sidecars it was written
    with. (The parts of a split are always built again.)"""
    made_from = fingerprint(
        plan, settings, person
    )  # (first: it refuses music that is not a regular file)
    if settings.split:
        return None
    existing = read_stamp(output)
    if existing is None or existing.fingerprint != made_from:
        return None
    if settings.sidecars and (
        existing.sidecars is None or existing.sidecars != digest_on_disk(output)
    ):
        return None
    return existing


def session_title(plan: Plan, person: str | None) -> str:
    parts = [
        plan.title,
        *([person] if person else []),
        *([f"week {plan.week}"] if plan.week else []),
    ]
    return ", ".join(parts)


def build_session(
    *,
    plan: Plan,
    output: Path,
    settings: RenderSettings,
    person: str | None = None,
    explanation: Sequence[Origin] = (),
    force: bool = False,
    progress: Progress = _no_progress,
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
    existing = up_to_date(output, plan=plan, settings=settings, person=person)
    if existing is not None and not force:
        return BuildResult(path=output, total_ms=existing.length_ms, timeline=None, up_to_date=True)
    with mix_session(plan=plan, settings=settings, progress=progress, cores=cores) as mixed:
        loudness = write_session(
            mixed,
            output,
            settings=settings,
            person=person,
            explanation=explanation,
            progress=progress,
            cores=cores,
        )
    timeline = mixed.timeline
    return BuildResult(
        path=output, total_ms=timeline.total_ms, timeline=timeline, synthesized=mixed.synthesized,
        loudness_lufs=loudness, damaged_cache_entries=mixed.damaged_cache_entries,
    )  # fmt: skip


@dataclass(frozen=True, slots=True, kw_only=True)
class Mixed:
    """A session spoken and laid out: its samples, the same whatever the file is written as. Its
    clips are kept in a temporary file (see clipstore.py) until it is closed (or dropped): use it as
    a context manager."""

    plan: Plan
    timeline: Timeline
    mixdown: Mixdown
    speech_level_dbfs: float
    """The level beeps and music are set against."""
    synthesized: int
    """Phrases the speech engine had to make."""
    damaged_cache_entries: int
    """Entries of the speech cache found damaged, and made again."""

    def __enter__(self) -> Mixed:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.mixdown.store.close()


def mix_session(
    *,
    plan: Plan,
    settings: RenderSettings,
    progress: Progress = _no_progress,
    cores: int | None = None,
) -> Mixed:
    """*plan* spoken (on up to *cores* cores), levelled and laid out at *settings*' sample rate."""
    cores = _cores(cores)
    store = ClipStore()
    try:
        with open_synthesizer(plan, settings) as synthesizer:
            timeline = timed_script(
                plan=plan,
                synthesizer=synthesizer,
                progress=progress,
                helpers=cores - 1,
                settings=settings,
            )
            phrases = levelled_phrases(
                synthesizer, timeline.phrases(), settings.sample_rate, cores, store
            )
            damaged = _damaged(synthesizer)
        # Beeps and music are set against speech at full volume: `volume` moves the voice against
        # them.
        speech_level = speech_level_dbfs(store.read(number) for number in phrases.values())
        mixdown = Mixdown(
            timeline=timeline,
            phrases=phrases,
            store=store,
            sample_rate=settings.sample_rate,
            volume=plan.volume,
            beep_level_db=plan.beep_level_db,
            speech_level_dbfs=speech_level,
        )
    except BaseException:
        store.close()
        raise
    return Mixed(plan=plan, timeline=timeline, mixdown=mixdown, speech_level_dbfs=speech_level,
                 synthesized=synthesizer.synthesized, damaged_cache_entries=damaged)  # fmt: skip


def write_session(
    mixed: Mixed,
    output: Path,
    *,
    settings: RenderSettings,
    person: str | None = None,
    explanation: Sequence[Origin] = (),
    progress: Progress = _no_progress,
    cores: int | None = None,
) -> float:
    """Write *mixed* into *output* as *settings* say (format, loudness, music, split, sidecars), at
    the loudness target and under the true-peak ceiling as heard (see mastering.py); return the
    loudness it is heard at (the target, unless the ceiling kept it quieter)."""
    plan, timeline, mixdown = mixed.plan, mixed.timeline, mixed.mixdown
    if settings.sample_rate != mixdown.sample_rate:
        raise ValueError(
            f"the session was mixed at {mixdown.sample_rate} Hz, not {settings.sample_rate} Hz"
        )
    cores = _cores(cores)
    with contextlib.ExitStack() as stack:
        music = None
        if settings.music is not None:
            music = stack.enter_context(
                Music(
                    settings.music,
                    sample_rate=settings.sample_rate,
                    total_ms=timeline.total_ms,
                    level_db=settings.music_level_db,
                    speech_level_dbfs=mixed.speech_level_dbfs,
                )
            )

        def samples(mix: Mixdown, start: int, end: int) -> Iterator[bytes]:
            chunks = mix.chunks(start, end)
            return music.under(chunks, timeline, start) if music else chunks

        progress("mixing", 0, 1)
        mastering = Mastering(
            mixdown,
            target_lufs=settings.loudness_lufs,
            encoding=settings.encoding,
            cores=cores,
            music=functools.partial(samples, mixdown, 0, mixdown.frames) if music else None,
        )
        progress("mixing", 1, 1)

        def write(start: int, end: int, path: Path, **arguments: Any) -> None:
            """Frames *start* to *end* of the session into *path*, its peaks checked (see
            Mastering.check)."""

            def source() -> Source:
                mix = mastering.mixdown
                whole = Source(
                    sample_rate=settings.sample_rate,
                    frames=mix.frames,
                    read=lambda first, last: mastering.dipped(samples(mix, first, last), first),
                    silences=[] if music else mix.silences(),  # (music fills them)
                )
                return whole if (start, end) == (0, mix.frames) else whole.part(start, end)

            def check(written: Path) -> Retake | None:
                if mastering.check(written, first_frame=start, frames=end - start):
                    return None
                return Retake(
                    source=source(), gain_db=mastering.gain_db, limit_dbtp=mastering.limit_dbtp
                )

            write_audio(source(), path, encoding=settings.encoding, gain_db=mastering.gain_db,
                        limit_dbtp=mastering.limit_dbtp, cores=cores, check=check, **arguments)  # fmt: skip

        sidecars = sidecar_texts(output, timeline, explanation) if settings.sidecars else {}
        tags = Tags(
            title=session_title(plan, person),
            artist="voiceguide",
            album=plan.title,
            comment=f"Made with voiceguide {__version__} from {Path(plan.source_name).name}",
            length_ms=timeline.total_ms,
            fingerprint=fingerprint(plan, settings, person),
            sidecars=digest_of_texts(sidecars) if sidecars else None,
        )
        wording = Wording(plan.language)
        chapters = chapters_of(
            timeline, intro_title=wording.intro_title(), outro_title=wording.outro_title()
        )
        # Everything is written before anything is replaced: a build replaces all its files or none.
        with FileSet() as files:
            stale: list[Path] = []
            if settings.split:
                stale = _write_split(functools.partial(write, files=files), settings.sample_rate, output, chapters,
                                     tags, files)  # fmt: skip
            else:
                write(
                    0,
                    mixdown.frames,
                    output,
                    tags=tags,
                    chapters=at_most(chapters),
                    progress=lambda done, total: progress("encoding", done, total),
                    files=files,
                )
            for path, text in sidecars.items():
                files.write_text(path, text)
            files.commit(remove=stale)
    return mastering.loudness_lufs


LEVELLED = f"levelled {LEVELLING_VERSION}"


def levelled_phrases(
    synthesizer: Synthesizer, texts: list[str], sample_rate: int, cores: int, store: ClipStore
) -> dict[str, int]:
    """Each phrase levelled (see loudness.level_phrases, on *cores* cores), from the speech cache where
    it can be, kept in *store*: its number there. One phrase is held at a time, however many there
    are."""
    cache = synthesizer.cache
    numbers: dict[str, int] = {}
    missing = []
    for text in texts:
        data = (
            cache.load(synthesizer.cache_key(text, variant=LEVELLED)) if cache is not None else None
        )
        if data:
            numbers[text] = store.add(data)
        else:
            missing.append(text)
    clips = (synthesizer.clip(text).raw_data for text in missing)
    sizes = [synthesizer.synthesized_ms(text) for text in missing]
    for text, data in zip(
        missing,
        level_phrases(clips, sizes=sizes, sample_rate=sample_rate, groups=cores),
        strict=True,
    ):
        if cache is not None:
            cache.store(synthesizer.cache_key(text, variant=LEVELLED), data)
        numbers[text] = store.add(data)
    return {text: numbers[text] for text in texts}


def _write_split(
    write: Callable[..., None],
    rate: int,
    output: Path,
    chapters: Sequence[Chapter],
    tags: Tags,
    files: FileSet,
) -> list[Path]:
    """One file per section, numbered in order, and an M3U playlist of them named like *output*, into
    *files*: write(start, end, path, tags=...) writes the session's frames *start* to *end*. Returns
    the parts an earlier split left that this one does not replace (another number of sections, or
    other titles), to be removed when the new parts are put in place."""
    entries, names = [], set()
    for number, chapter in enumerate(chapters, start=1):
        name = part_name(output, number, chapter.title)
        part_tags = dataclasses.replace(
            tags, title=f"{number:02d} {chapter.title}", track=f"{number}/{len(chapters)}",
            length_ms=chapter.end_ms - chapter.start_ms, fingerprint=None,
        )  # fmt: skip
        write(
            frame_at(chapter.start_ms, rate),
            frame_at(chapter.end_ms, rate),
            output.with_name(name),
            tags=part_tags,
        )
        entries.append((name, chapter.end_ms - chapter.start_ms, f"{number:02d} {chapter.title}"))
        names.add(name)
    files.write_text(output.with_suffix(PLAYLIST), playlist(entries))
    earlier = {path for pattern in _parts_patterns(output) for path in output.parent.glob(pattern)}
    return sorted(path for path in earlier if path.name not in names)


def remove_leftovers(output: Path, *, split: bool) -> None:
    """Remove the temporary files that builds of *output* killed outright left beside it."""
    remove_stale_temporaries(output.parent, _file_patterns(output, split=split))


def files_state(output: Path, *, split: bool) -> frozenset[tuple[str, int, int]]:
    """Which files a build of *output* writes are there now, and which inode and modification time
    each has: a build that replaced any of them changes it."""
    found = set()
    for pattern in _file_patterns(output, split=split):
        for path in output.parent.glob(pattern):
            with contextlib.suppress(OSError):
                status = path.stat()
                found.add((path.name, status.st_ino, status.st_mtime_ns))
    return frozenset(found)


def _file_patterns(output: Path, *, split: bool) -> list[str]:
    """Glob patterns of the files a build of *output* writes beside it: the session (or its parts and
    playlist) and the sidecars."""
    stem = glob.escape(output.stem)
    session = (
        [*_parts_patterns(output), f"{stem}{PLAYLIST}"] if split else [glob.escape(output.name)]
    )
    return [*session, *(stem + suffix for suffix in SIDECARS)]


def _parts_patterns(output: Path) -> list[str]:
    """Glob patterns of the parts a split of *output* writes (see destination.part_name)."""
    stem, suffix = glob.escape(output.stem), glob.escape(output.suffix)
    return [f"{stem}-[0-9][0-9]-*{suffix}", f"{stem}-[0-9][0-9]{suffix}"]
