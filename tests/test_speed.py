"""What keeps builds quick, checked by what happens rather than by the clock: the speech cache,
lazy imports. (Times are measured by scripts/bench, not asserted here: the machines are shared.)"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from voiceguide.export import AudioFormat, Encoding
from voiceguide.externals import audio_segment, engine_identity
from voiceguide.loader import load_plan
from voiceguide.loudness import level_phrases
from voiceguide.session import RenderSettings, build_session
from voiceguide.speechcache import SpeechCache, clear, usage


@pytest.fixture
def own_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A speech cache of this test's own, empty."""
    folder = tmp_path / "cache"
    monkeypatch.setenv("VOICEGUIDE_CACHE_DIR", str(folder))
    return folder


def test_rebuild_into_another_format_spends_nothing_on_speech(own_cache: Path, tmp_path: Path, tiny: Path) -> None:
    """The second build of a plan, even into another format, takes every phrase from the cache."""
    plan = load_plan(tiny)
    first = build_session(plan=plan, output=tmp_path / "a.mp3", settings=RenderSettings())
    assert first.synthesized == first.phrases > 5
    settings = RenderSettings(encoding=Encoding(format=AudioFormat.M4A))
    second = build_session(plan=plan, output=tmp_path / "a.m4a", settings=settings)
    assert second.synthesized == 0
    assert second.total_ms == first.total_ms
    assert usage(own_cache).files == 2 * first.phrases  # each phrase as spoken, and levelled


def test_a_change_of_voice_rate_or_text_never_reuses_a_clip() -> None:
    """Cache keys differ for every change of engine, voice, rate, sample rate or text."""
    cache = SpeechCache(engine=engine_identity())
    base = {"text": "Hold.", "voice": "gmw/en", "rate": 150, "sample_rate": 22050}
    keys = {cache.key(**base)}
    for change in ({"text": "Hold!"}, {"voice": "gmw/en-us"}, {"rate": 151}, {"sample_rate": 24000}):
        keys.add(cache.key(**{**base, **change}))
    keys.add(SpeechCache(engine=engine_identity() + " other").key(**base))
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


def test_cache_clear_empties_it(own_cache: Path, tmp_path: Path, tiny: Path) -> None:
    """`voiceguide cache clear` removes every clip and says how many."""
    build_session(plan=load_plan(tiny), output=tmp_path / "a.mp3", settings=RenderSettings())
    assert usage(own_cache).files > 0
    result = subprocess.run(
        [sys.executable, "-m", "voiceguide", "cache", "clear"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0 and result.stdout.startswith("Removed ")
    assert usage(own_cache).files == 0
    assert clear(own_cache).files == 0


def test_validate_and_preview_of_a_known_plan_import_no_audio_or_speech_library(own_cache: Path, tiny: Path) -> None:
    """With the speech cached, validate and preview start neither pyttsx3, pydub nor numpy."""
    plan_file = tiny
    warm = subprocess.run(
        [sys.executable, "-m", "voiceguide", "validate", str(plan_file)], capture_output=True, check=False
    )
    assert warm.returncode == 0, warm.stderr
    code = (
        "import sys\n"
        "from voiceguide.cli import main\n"
        "for args in (['validate', sys.argv[1]], ['preview', sys.argv[1]], ['--help']):\n"
        "    try:\n"
        "        main(args, prog_name='voiceguide')\n"
        "    except SystemExit as end:\n"
        "        assert end.code == 0, end.code\n"
        "heavy = sorted({m.split('.')[0] for m in sys.modules} & {'pyttsx3', 'pydub', 'numpy', 'mutagen'})\n"
        "print('heavy:', heavy, file=sys.stderr)\n"
    )
    result = subprocess.run([sys.executable, "-c", code, str(plan_file)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert "heavy: []" in result.stderr


def test_levelling_in_groups_gives_the_same_bytes_as_in_one() -> None:
    """Phrases levelled in two or three ffmpeg processes at once come out byte for byte as in one,
    the first phrase of each group too, though ffmpeg's resampler starts a stream a little
    differently from how it goes on after silence (as levelling a phrase alone shows)."""
    segment, rate = audio_segment(), 22_050
    generator = np.random.default_rng(6)
    clips = {}
    for number in range(8):  # tones with noise that start at full level, of different lengths and levels
        seconds = np.arange(rate * (number + 2) // 8) / rate
        wave = np.sin(2 * np.pi * (150 + 40 * number) * seconds) * (0.2 + 0.1 * number)
        samples = np.clip(wave + generator.normal(0, 0.05, seconds.size), -1, 1) * 32767
        clips[f"phrase {number}"] = segment(
            data=samples.astype("<i2").tobytes(), sample_width=2, frame_rate=rate, channels=1
        )
    one = level_phrases(clips, sample_rate=rate)
    assert level_phrases(clips, sample_rate=rate, groups=2) == one
    assert level_phrases(clips, sample_rate=rate, groups=3) == one
    alone = {text: level_phrases({text: clip}, sample_rate=rate)[text] for text, clip in clips.items()}
    assert [text for text in clips if alone[text] != one[text]], "no phrase depends on where it starts: a weak test"
