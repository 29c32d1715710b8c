"""What keeps builds quick, checked by what happens rather than by the clock: the speech cache,
lazy imports, speech helpers and levelling on every core. (Times are measured by scripts/bench, not
asserted here: the machines are shared.)"""

from __future__ import annotations

import dataclasses
import functools
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import audio_measure as am
import numpy as np
import pytest

from voiceguide.build.session import RenderSettings, build_session, open_synthesizer
from voiceguide.common.errors import SettingsError
from voiceguide.output.export import AudioFormat, Encoding
from voiceguide.plans.loader import load_plan, shipped_plan_path
from voiceguide.sound import speechpool
from voiceguide.sound.engines import EngineCosts, load_engine
from voiceguide.sound.loudness import level_phrases
from voiceguide.sound.speechcache import SpeechCache, clear, usage


@pytest.fixture
def own_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A speech cache of this test's own, empty."""
    folder = tmp_path / "cache"
    monkeypatch.setenv("VOICEGUIDE_CACHE_DIR", str(folder))
    return folder


@pytest.mark.audio
def test_rebuild_into_another_format_spends_nothing_on_speech(
    own_cache: Path, tmp_path: Path, tiny: Path
) -> None:
    """The second build of a plan, even into another format, takes every phrase from the cache."""
    plan = load_plan(tiny)
    first = build_session(plan=plan, output=tmp_path / "a.mp3", settings=RenderSettings())
    assert first.synthesized == first.phrases > 5
    settings = RenderSettings(encoding=Encoding(format=AudioFormat.M4A))
    second = build_session(plan=plan, output=tmp_path / "a.m4a", settings=settings)
    assert second.synthesized == 0
    assert second.total_ms == first.total_ms
    # (each phrase as spoken, and levelled; and any clip limited for each format's gain)
    assert usage(own_cache).files >= 2 * first.phrases


@pytest.mark.audio
def test_a_warm_build_limits_no_clip_again_and_sounds_the_same(
    own_cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The clips limited for the session's gain are kept: a rebuild passes none through the
    limiter, and its file decodes to the same samples as the first."""
    from voiceguide.sound import loudness

    runs: list[int] = []
    original = loudness.through_ffmpeg

    def counted(clips: list[bytes], **options: object) -> object:
        if "alimiter" in str(options.get("filters")) and options.get("lead"):
            runs.append(len(clips))
        return original(clips, **options)  # type: ignore[arg-type]

    monkeypatch.setattr(loudness, "through_ffmpeg", counted)
    plan = load_plan(shipped_plan_path())
    first = build_session(plan=plan, output=tmp_path / "a.mp3", settings=RenderSettings())
    assert sum(runs) > 50  # (most of the default session's clips are limited for its gain)
    runs.clear()
    again = build_session(
        plan=plan, output=tmp_path / "b.mp3", settings=RenderSettings(), force=True
    )
    assert again.synthesized == 0 and runs == []
    assert np.array_equal(am.decode(first.path), am.decode(again.path))


def test_a_change_of_voice_rate_or_text_never_reuses_a_clip() -> None:
    """Cache keys differ for every change of engine, voice, rate, sample rate or text."""
    cache = SpeechCache(engine=str(load_engine().identity()))
    base = {"text": "Hold.", "voice": "gmw/en", "rate": 150, "sample_rate": 22050}
    keys = {cache.key(**base)}
    for change in (
        {"text": "Hold!"},
        {"voice": "gmw/en-us"},
        {"rate": 151},
        {"sample_rate": 24000},
    ):
        keys.add(cache.key(**{**base, **change}))
    keys.add(SpeechCache(engine=str(load_engine().identity()) + " other").key(**base))
    assert len(keys) == 6


def test_the_cache_keeps_to_its_size(tmp_path: Path) -> None:
    """Past its size, the cache drops the least recently used clips first."""
    cache = SpeechCache(engine="test", folder=tmp_path, max_bytes=10_000)
    keys = [cache.key(text=str(n), voice="v", rate=150, sample_rate=22050) for n in range(6)]
    for index, key in enumerate(keys):
        cache.store(key, bytes(3_000))
        os.utime(cache._path(key), (1_000 + index, 1_000 + index))
    cache.load(keys[0])  # used again: now the most recent
    cache.trim()
    kept = [key for key in keys if cache.frames(key) is not None]
    assert usage(tmp_path).bytes <= 9_000
    assert keys[0] in kept and keys[1] not in kept and keys[-1] in kept


@pytest.mark.audio
def test_cache_clear_empties_it(own_cache: Path, tmp_path: Path, tiny: Path) -> None:
    """`voiceguide cache clear` removes every clip and says how many."""
    build_session(plan=load_plan(tiny), output=tmp_path / "a.mp3", settings=RenderSettings())
    assert usage(own_cache).files > 0
    result = subprocess.run(
        [sys.executable, "-m", "voiceguide", "cache", "clear"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0 and result.stdout.startswith("Removed ")
    assert usage(own_cache).files == 0
    assert clear(own_cache).files == 0


@pytest.mark.audio
def test_validate_and_preview_of_a_known_plan_import_no_audio_or_speech_library(
    own_cache: Path, tiny: Path
) -> None:
    """With the speech cached, validate and preview start neither pyttsx3, pydub nor numpy."""
    plan_file = tiny
    warm = subprocess.run(
        [sys.executable, "-m", "voiceguide", "validate", str(plan_file)],
        capture_output=True,
        check=False,
    )
    assert warm.returncode == 0, warm.stderr
    code = (
        "import sys\n"
        "from voiceguide.cli.commands import main\n"
        "for args in (['validate', sys.argv[1]], ['preview', sys.argv[1]], ['--help']):\n"
        "    try:\n"
        "        main(args, prog_name='voiceguide')\n"
        "    except SystemExit as end:\n"
        "        assert end.code == 0, end.code\n"
        "heavy = sorted({m.split('.')[0] for m in sys.modules} & {'pyttsx3', 'pydub', 'numpy', 'mutagen'})\n"
        "print('heavy:', heavy, file=sys.stderr)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(plan_file)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "heavy: []" in result.stderr


@pytest.mark.runs_ffmpeg
def test_levelling_in_groups_gives_the_same_bytes_as_in_one() -> None:
    """Phrases levelled in two or three ffmpeg processes at once come out byte for byte as in one,
    the first phrase of each group too, though ffmpeg's resampler starts a stream a little
    differently from how it goes on after silence (as levelling a phrase alone shows)."""
    rate = 22_050
    generator = np.random.default_rng(6)
    clips = []
    for number in range(
        8
    ):  # tones with noise that start at full level, of different lengths and levels
        seconds = np.arange(rate * (number + 2) // 8) / rate
        wave = np.sin(2 * np.pi * (150 + 40 * number) * seconds) * (0.2 + 0.1 * number)
        samples = np.clip(wave + generator.normal(0, 0.05, seconds.size), -1, 1) * 32767
        clips.append(samples.astype("<i2").tobytes())

    def levelled(phrases: list[bytes], groups: int = 1) -> list[bytes]:
        sizes = [len(phrase) for phrase in phrases]
        return list(level_phrases(phrases, sizes=sizes, sample_rate=rate, groups=groups))

    one = levelled(clips)
    assert len(one) == len(clips)
    assert levelled(clips, groups=2) == one
    assert levelled(clips, groups=3) == one
    alone = [levelled([clip])[0] for clip in clips]
    assert [n for n in range(len(clips)) if alone[n] != one[n]], (
        "no phrase depends on where it starts: a weak test"
    )


@pytest.fixture
def helpers_for_any_plan(
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[list[subprocess.Popen[bytes]]]:
    """Speech helpers started for as few as 4 new phrases (this process making the first 2), and
    the helper processes started meanwhile, to check that each has ended."""
    monkeypatch.setattr(speechpool, "HEAD_START", 2)
    monkeypatch.setattr(speechpool, "MIN_PHRASES", 4)
    started: list[subprocess.Popen[bytes]] = []
    real_popen = subprocess.Popen

    def popen(command: list[str], *args: object, **kwargs: object) -> subprocess.Popen[bytes]:
        process: subprocess.Popen[bytes] = real_popen(command, *args, **kwargs)  # type: ignore[call-overload]
        if speechpool.HELPER in command:
            started.append(process)
        return process

    monkeypatch.setattr(subprocess, "Popen", popen)
    yield started
    assert all(process.poll() is not None for process in started), (
        "a speech helper is still running"
    )


@pytest.mark.audio
def test_a_cold_build_with_a_helper_speaks_every_phrase_once(
    own_cache: Path, tmp_path: Path, tiny: Path, helpers_for_any_plan: list[subprocess.Popen[bytes]]
) -> None:
    """With two cores, a helper makes a share of the new phrases into the cache; every phrase is made
    once (counted with the helper's), and a rebuild finds them all in the cache."""
    plan = load_plan(tiny)
    first = build_session(plan=plan, output=tmp_path / "a.mp3", settings=RenderSettings(), cores=2)
    assert len(helpers_for_any_plan) == 1
    assert first.synthesized == first.phrases > 5
    assert usage(own_cache).files == 2 * first.phrases
    again = build_session(plan=plan, output=tmp_path / "b.mp3", settings=RenderSettings(), cores=2)
    assert again.synthesized == 0 and again.total_ms == first.total_ms
    assert len(helpers_for_any_plan) == 1  # (nothing was missing: no helper)


@pytest.mark.audio
def test_one_core_starts_no_helper(
    own_cache: Path, tmp_path: Path, tiny: Path, helpers_for_any_plan: list[subprocess.Popen[bytes]]
) -> None:
    """A build given one core (as batch gives each of its sessions) speaks in its own process only."""
    result = build_session(
        plan=load_plan(tiny), output=tmp_path / "a.mp3", settings=RenderSettings(), cores=1
    )
    assert result.synthesized == result.phrases > 5
    assert helpers_for_any_plan == []


@pytest.mark.speech
def test_a_helpers_error_reaches_the_caller_as_it_is(
    own_cache: Path, tiny: Path, helpers_for_any_plan: list[subprocess.Popen[bytes]]
) -> None:
    """An error in a helper (here: a voice it cannot find) is raised in the caller, same class and
    message."""
    plan = load_plan(tiny)
    unknown = dataclasses.replace(plan, voice="Englsh (Amerca)")
    with pytest.raises(SettingsError) as in_this_process:
        open_synthesizer(unknown, RenderSettings())
    phrases = [f"Phrase number {number}." for number in range(6)]
    with (
        open_synthesizer(plan, RenderSettings()) as synthesizer,
        pytest.raises(SettingsError) as in_a_helper,
    ):
        speechpool.speak(
            synthesizer,
            phrases,
            recipe=functools.partial(open_synthesizer, unknown, RenderSettings()),
            helpers=1,
        )
    assert str(in_a_helper.value) == str(in_this_process.value)
    assert len(helpers_for_any_plan) == 1


@pytest.mark.speech
def test_a_helper_that_dies_leaves_its_phrases_to_the_caller(
    own_cache: Path, tmp_path: Path, tiny: Path, helpers_for_any_plan: list[subprocess.Popen[bytes]]
) -> None:
    """A helper that ends without a word (killed, crashed) is no error: its share is made by the
    caller."""
    plan = load_plan(tiny)
    phrases = [f"Phrase number {number}." for number in range(6)]
    with open_synthesizer(plan, RenderSettings()) as synthesizer:
        speechpool.speak(synthesizer, phrases, recipe=functools.partial(os._exit, 3), helpers=1)
        own = speechpool.shares(phrases, 1)[0]
        assert synthesizer.synthesized == len(own) < len(phrases)
        assert [
            phrase for phrase in phrases if not synthesizer.cached(phrase)
        ] == speechpool.shares(phrases, 1)[1]
    assert helpers_for_any_plan[0].returncode == 3


def test_helpers_are_dealt_phrases_by_what_the_engine_costs() -> None:
    """espeak-ng's phrases go to helpers from MIN_PHRASES on; an engine slower to a phrase gets them
    sooner, after a head start of its own; one that spreads a phrase over every core itself gets
    none."""
    phrases = [f"Phrase number {number}." for number in range(40)]
    assert len(speechpool.shares(phrases, 1)) == 1  # (fewer than espeak-ng's MIN_PHRASES)
    slow = EngineCosts(start_seconds=1.0, phrase_seconds=0.2)
    own, helper = speechpool.shares(phrases, 1, slow)
    assert own[:5] == phrases[:5] and sorted(own + helper) == sorted(phrases)
    assert len(speechpool.shares(phrases[:9], 1, slow)) == 1
    threaded = dataclasses.replace(slow, threaded=True)
    assert speechpool.shares(phrases, 3, threaded) == [phrases]
