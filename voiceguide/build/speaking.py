"""The first stage of a build: what is spoken and where. The plan laid out in time with every
phrase's real length, and every phrase spoken once, levelled, and kept in a clip store."""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from voiceguide.build.settings import Progress, RenderSettings, no_progress
from voiceguide.common.errors import SettingsError
from voiceguide.plans.plan import Plan
from voiceguide.script.timeline import Timeline, Tone, build_timeline
from voiceguide.sound.clipstore import ClipStore
from voiceguide.sound.engines import DEFAULT_ENGINE, load_engine
from voiceguide.sound.loudness import LEVELLING_VERSION, level_phrases
from voiceguide.sound.ownsounds import OwnSound, own_sounds, sound_lengths
from voiceguide.sound.speech import Synthesizer, choose_speaker, not_available
from voiceguide.sound.speechcache import SpeechCache
from voiceguide.sound.speechpool import speak

LEVELLED = f"levelled {LEVELLING_VERSION}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Spoken:
    """A plan spoken: its timeline, and each of its phrases levelled and kept in *store*. The store
    is a temporary file (see clipstore.py) kept until this is closed: use it as a context manager."""

    plan: Plan
    timeline: Timeline
    store: ClipStore
    clips: Mapping[str, int]
    """Each phrase of the timeline, in its order, and its clip's number in *store*."""
    synthesized: int
    """Phrases the speech engine had to make (the others came from the speech cache)."""
    damaged_cache_entries: int
    """Entries of the speech cache found damaged, and made again."""
    sounds: Mapping[Tone, OwnSound] = dataclasses.field(default_factory=dict)
    """The plan's own sounds, decoded, by the cue each sounds on (levelled in the mix)."""

    def __enter__(self) -> Spoken:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.store.close()


def speak_plan(
    *, plan: Plan, settings: RenderSettings, progress: Progress = no_progress, cores: int = 1
) -> Spoken:
    """*plan* laid out in time and spoken (on up to *cores* cores), its phrases levelled."""
    plan = with_speaker(plan)
    sounds = own_sounds(plan, sample_rate=settings.sample_rate)
    store = ClipStore()
    try:
        with open_synthesizer(plan, settings) as synthesizer:
            timeline = timed_script(
                plan=plan,
                synthesizer=synthesizer,
                progress=progress,
                helpers=cores - 1,
                settings=settings,
                sounds=sounds,
            )
            clips = levelled_phrases(
                synthesizer, timeline.phrases(), settings.sample_rate, cores, store
            )
            return Spoken(plan=plan, timeline=timeline, store=store, clips=clips,
                          synthesized=synthesizer.synthesized,
                          damaged_cache_entries=damaged(synthesizer), sounds=sounds)  # fmt: skip
    except BaseException:
        store.close()
        raise


def with_speaker(plan: Plan) -> Plan:
    """*plan* with the engine that speaks it named, and the voice where the engine was chosen for
    it (see speech.choose_speaker): what a session is made from, so that installing a neural voice
    makes its sessions out of date."""
    speaker = choose_speaker(engine=plan.engine, voice=plan.voice, language=plan.language)
    return dataclasses.replace(plan, engine=speaker.engine, voice=speaker.voice)


def open_synthesizer(
    plan: Plan, settings: RenderSettings, cache_folder: Path | None = None
) -> Synthesizer:
    """A synthesizer for *plan* with its engine (see with_speaker), and the speech cache in
    *cache_folder* (by default, the user's) keyed by the engine's identity."""
    name = plan.engine or DEFAULT_ENGINE
    engine = load_engine(name)
    if not engine.available():  # (even where its clips are cached: it is named, and missing)
        raise SettingsError(not_available(name))
    cache = SpeechCache(engine=str(engine.identity()), folder=cache_folder)
    return Synthesizer(
        voice=plan.voice,
        rate=plan.rate,
        sample_rate=settings.sample_rate,
        cache=cache,
        language=plan.language,
        engine=engine,
    )


def damaged(synthesizer: Synthesizer) -> int:
    """Entries of *synthesizer*'s speech cache found damaged so far."""
    return len(synthesizer.cache.damaged) if synthesizer.cache else 0


def timed_script(
    *,
    plan: Plan,
    settings: RenderSettings,
    synthesizer: Synthesizer,
    progress: Progress = no_progress,
    helpers: int = 0,
    sounds: Mapping[Tone, OwnSound] | None = None,
) -> Timeline:
    """The timeline, with speech lengths measured by synthesizing every phrase once (the phrases
    the speech cache lacks in up to *helpers* other processes too: see speechpool), and the plan's
    own sounds' lengths (*sounds*, decoded here if not given)."""
    if sounds is None:
        sounds = own_sounds(plan, sample_rate=settings.sample_rate)
    sound_ms = sound_lengths(sounds)
    # A first layout with a rough length per character tells which phrases there will be, so that
    # synthesis can report progress, and about how long the session is; the real layout then
    # reuses every clip.
    ms_per_character = 60_000 // (plan.rate * 6)
    rough = build_timeline(
        plan=plan, speech_ms=lambda text: ms_per_character * len(text), sound_ms=sound_ms
    )
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
        plan=plan, speech_ms=synthesizer.synthesized_ms, expected_total_ms=rough.total_ms,
        sound_ms=sound_ms,
    )  # fmt: skip
    progress("timeline", 1, 1)
    return timeline


def levelled_phrases(
    synthesizer: Synthesizer, texts: list[str], sample_rate: int, cores: int, store: ClipStore
) -> dict[str, int]:
    """Each phrase levelled (see loudness.level_phrases, on *cores* cores), from the speech cache where
    it can be, kept in *store*: its number there. One phrase is held at a time, however many there
    are."""
    cache = synthesizer.cache
    numbers: dict[str, int] = {}
    missing = []

    # (the levelled clip is keyed by its phrase's length too: where the spoken clip was dropped
    # from the cache and made again, a levelled one of the old length would not fit its slot)
    def key(text: str) -> str:
        return synthesizer.cache_key(text, variant=f"{LEVELLED} {synthesizer.frames(text)}")

    for text in texts:
        data = cache.load(key(text)) if cache is not None else None
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
            cache.store(key(text), data)
        numbers[text] = store.add(data)
    return {text: numbers[text] for text in texts}
