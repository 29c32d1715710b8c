"""A second speech engine, registered here, builds a real session through the normal build path:
the speech cache keeps its clips apart from espeak's, and every phrase is heard where the
timeline puts it."""

from __future__ import annotations

import dataclasses
import math
import struct
import zlib
from pathlib import Path

import audio_measure as am
import numpy as np
import pytest

from voiceguide.build.existing import fingerprint
from voiceguide.build.session import RenderSettings, build_session, with_speaker
from voiceguide.common.errors import SettingsError
from voiceguide.plans.loader import load_plan, shipped_plan_path
from voiceguide.plans.values import Engine
from voiceguide.script.timeline import EventKind
from voiceguide.sound.engines import (
    ENGINES,
    EngineIdentity,
    Speech,
    VoiceInfo,
    engine_names,
    load_engine,
    register,
)
from voiceguide.sound.speech import Synthesizer
from voiceguide.sound.speechcache import SpeechCache, speech_folder

pytestmark = pytest.mark.audio

ENGINE_RATE = 16_000
"""Not the session's rate: the synthesizer resamples what the engine gives."""
PADDING_MS = 120
"""Silence the tone engine puts around each phrase, as espeak does: the synthesizer trims it."""
MS_PER_CHARACTER = 30
"""At 150 words a minute; the tone engine speaks faster at a higher rate, as a voice does."""


def frequency_of(text: str) -> float:
    """Each phrase's own pitch, well away from the cue tones (523 and 880 Hz)."""
    return 200.0 + 10 * (zlib.crc32(text.encode()) % 20)


def spoken_ms(text: str, rate: int) -> int:
    return len(text) * MS_PER_CHARACTER * 150 // rate


class ToneEngine:
    """A speech engine that speaks each phrase as a sine of its own pitch, as long as the phrase
    is (per character, at the rate), padded with silence."""

    costs = None
    voices_are_files = False

    def available(self) -> bool:
        return True

    def voice_at(self, path: str) -> VoiceInfo | None:
        return None

    def voice_key(self, voice: str | None) -> str:
        return voice or "default"

    def identity(self) -> EngineIdentity:
        return EngineIdentity("tone", "1", "sines")

    def voices(self) -> list[VoiceInfo]:
        return [VoiceInfo("tone/en", "Tone", ("en",), None)]

    def speak(self, text: str, *, voice: str | None, rate: int) -> Speech:
        assert voice in (None, "tone/en")
        frames = spoken_ms(text, rate) * ENGINE_RATE // 1000
        padding = bytes(PADDING_MS * ENGINE_RATE // 1000 * 2)
        step = 2 * math.pi * frequency_of(text) / ENGINE_RATE
        sine = struct.pack(
            f"<{frames}h", *(round(12_000 * math.sin(step * n)) for n in range(frames))
        )
        return Speech(data=padding + sine + padding, sample_width=2, frame_rate=ENGINE_RATE)

    def close(self) -> None:
        pass


register("tone", ToneEngine)


@pytest.fixture
def own_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A speech cache of this test's own, empty."""
    folder = tmp_path / "cache"
    monkeypatch.setenv("VOICEGUIDE_CACHE_DIR", str(folder))
    return folder


def test_a_second_engine_speaks_a_real_session_at_its_times(
    own_cache: Path, tmp_path: Path, tiny: Path
) -> None:
    """A session spoken by the tone engine: each phrase lasts what the engine made of it (its
    padding trimmed, resampled to the session's rate), and is heard at its own pitch where the
    timeline puts it; a rebuild takes every phrase from the cache."""
    plan = dataclasses.replace(load_plan(tiny), engine="tone")
    settings = RenderSettings()
    result = build_session(plan=plan, output=tmp_path / "tone.mp3", settings=settings, cores=1)
    assert result.timeline is not None
    assert result.synthesized == result.phrases > 3
    speech = [event for event in result.timeline.events if event.kind is EventKind.SPEECH]
    for event in speech:
        assert event.text is not None
        made_ms = event.duration_ms + event.clipped_ms
        assert abs(made_ms - spoken_ms(event.text, plan.rate)) <= 2, event
    samples = am.decode(result.path, sample_rate=settings.sample_rate)
    assert abs(am.duration_ms(samples, settings.sample_rate) - result.total_ms) <= 60
    heard = 0
    for event in speech:
        if event.duration_ms < 120:
            continue
        heard += 1
        assert event.text is not None
        track = am.tone_track(samples, frequency_of(event.text), sample_rate=settings.sample_rate)
        inside = (track.times_ms >= event.start_ms + 20) & (
            track.times_ms + am.TONE_WINDOW_MS <= event.end_ms - 20
        )
        assert np.median(track.purity[inside]) > 0.8, event
        # (silence, or another sound, just before the phrase: it starts where the timeline says)
        before = (track.times_ms + am.TONE_WINDOW_MS <= event.start_ms - 10) & (
            track.times_ms >= event.start_ms - 60
        )
        assert not np.any(track.purity[before] > 0.8), event
    assert heard >= 3

    again = build_session(
        plan=plan, output=tmp_path / "again.mp3", settings=settings, cores=1, force=True
    )
    assert again.synthesized == 0
    assert again.timeline == result.timeline


def test_the_cache_keeps_each_engines_clips_apart(
    own_cache: Path, tmp_path: Path, tiny: Path
) -> None:
    """The same phrase at the same voice and rate is keyed apart for each engine: a build with
    espeak after one with the tone engine makes every phrase anew, and each keeps its own clips and
    voice list."""
    key = {"text": "Hold.", "voice": "default", "rate": 150, "sample_rate": 22_050}
    espeak = str(load_engine("espeak").identity())
    tone = str(load_engine("tone").identity())
    assert espeak.startswith("espeak | pyttsx3 ") and tone == "tone | 1 | sines"
    assert SpeechCache(engine=espeak).key(**key) != SpeechCache(engine=tone).key(**key)

    plan = load_plan(tiny)
    toned = build_session(
        plan=dataclasses.replace(plan, engine="tone"), output=tmp_path / "tone.mp3",
        settings=RenderSettings(), cores=1,
    )  # fmt: skip
    spoken = build_session(
        plan=plan, output=tmp_path / "espeak.mp3", settings=RenderSettings(), cores=1
    )
    # (a phrase too long for its slot is tried again shorter: synthesized, then not placed)
    assert toned.synthesized >= toned.phrases and spoken.synthesized >= spoken.phrases
    assert spoken.total_ms != toned.total_ms
    assert len(list(speech_folder(own_cache).glob("voices-*"))) == 2
    assert len(list(speech_folder(own_cache).glob("*/*.pcm"))) == (
        toned.synthesized + toned.phrases + spoken.synthesized + spoken.phrases
    )  # each phrase as spoken, and each one placed levelled


def test_the_engine_is_chosen_by_name() -> None:
    """Unknown engines are refused with those there are; the engine is part of what a session is
    made from (its fingerprint), as chosen for a plan that names none."""
    assert {"espeak", "tone"} <= set(engine_names())
    with pytest.raises(SettingsError, match="there is no speech engine 'nope'; voiceguide has"):
        load_engine("nope")
    plan = load_plan(shipped_plan_path())
    chosen = with_speaker(plan)
    assert chosen.engine == "espeak"  # (the tests' VOICEGUIDE_ENGINE: see conftest.py)
    default = fingerprint(chosen, RenderSettings())
    assert fingerprint(dataclasses.replace(plan, engine="espeak"), RenderSettings()) == default
    assert fingerprint(dataclasses.replace(plan, engine="tone"), RenderSettings()) != default


def test_the_engines_plans_can_name_are_the_engines_there_are() -> None:
    """plans.values.Engine (what `engine:` and --engine accept) names each engine of ENGINES."""
    assert {engine.value for engine in Engine} == set(ENGINES)


class DriftingEngine(ToneEngine):
    """The tone engine, each phrase 10 ms longer every time it is spoken again (as espeak-ng's may
    come out a few ms longer or shorter)."""

    def __init__(self) -> None:
        self.spoken: dict[str, int] = {}

    def speak(self, text: str, *, voice: str | None, rate: int) -> Speech:
        again = self.spoken.get(text, 0)
        self.spoken[text] = again + 1
        return ToneEngine().speak(text + " " * again, voice=voice, rate=rate)


def test_a_phrase_dropped_from_the_cache_and_spoken_again_keeps_its_length(
    own_cache: Path,
) -> None:
    """A phrase laid out in time, then dropped from the speech cache (by another build trimming it)
    and spoken again longer, keeps the length it was laid out with; and its levelled clip, kept
    from the earlier synthesis, is not taken for the longer one a new build makes."""
    from voiceguide.build.speaking import levelled_phrases
    from voiceguide.sound.clipstore import ClipStore

    engine = DriftingEngine()
    text = "Hold still."

    def synthesizer() -> Synthesizer:
        cache = SpeechCache(engine=str(engine.identity()), folder=own_cache)
        return Synthesizer(voice=None, rate=150, sample_rate=22_050, cache=cache, engine=engine)

    def drop_spoken_clip(samples: bytes) -> None:
        """Remove the cache's entry of the spoken clip (its file ends with its samples), leaving the
        levelled one."""
        [entry] = [
            p for p in speech_folder(own_cache).glob("*/*.pcm") if p.read_bytes().endswith(samples)
        ]
        entry.unlink()

    with synthesizer() as first, ClipStore() as store:
        measured = first.frames(text)
        levelled_phrases(first, [text], 22_050, 1, store)
        drop_spoken_clip(first.clip(text).raw_data)
        assert first.clip(text).frame_count() == measured  # (spoken again, fitted)
        assert engine.spoken[text] == 2
        drop_spoken_clip(first.clip(text).raw_data)

    with synthesizer() as second, ClipStore() as store:
        longer = second.frames(text)  # (a new build: spoken a third time, longer)
        assert longer > measured
        [number] = levelled_phrases(second, [text], 22_050, 1, store).values()
        assert len(store.read(number)) == 2 * longer
