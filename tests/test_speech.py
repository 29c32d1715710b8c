"""The speech engine for real: pyttsx3 driving espeak-ng, measured on the clips it gives back."""

from __future__ import annotations

import gc
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import audio_measure as am
import numpy as np
import pytest

from voiceguide.common.errors import SettingsError
from voiceguide.common.externals import audio_segment
from voiceguide.sound.speech import (
    EDGE_FADE_MS,
    SILENCE_THRESHOLD_DBFS,
    Synthesizer,
    VoiceInfo,
    _leading_silence_ms,
    list_voices,
    resolve_voice,
)

pytestmark = pytest.mark.audio

RATE = 150
SAMPLE_RATE = 22_050
PHRASES = [
    "Get ready.",
    "three",
    "two",
    "one",
    "Hold.",
    "Release.",
    "Go!",
    "Rep two of ten.",
    "Stand on your tiptoes and walk on them.",
    "Feet first, five exercises for lower back pain.",
    "Sit on the floor with your legs stretched out in front of you. Tie one end of the band to the bed "
    "and put the other around your toes. Move back until the band is stretched.",
]
LONG_PHRASE = "Feet first, five exercises for lower back pain."
EDGE_SLACK_MS = EDGE_FADE_MS + 3
"""A trimmed clip fades in and out over EDGE_FADE_MS; a few ms more is all the quiet it may keep."""
SAME_VOICE_MS = 10
"""Two syntheses of one phrase by one voice differ by a millisecond or so; this is the slack."""
DIFFERENT_VOICE_MS = 50


@pytest.fixture(autouse=True)
def _no_engine_left_from_an_earlier_test() -> None:
    """Start every test without synthesizers (and so the engine) kept alive by an earlier test.

    pytest keeps the last failure's traceback in sys.last_traceback; its frames hold that test's
    synthesizers, and with them the process's one engine and the voice it was last set to.
    """
    for name in ("last_exc", "last_type", "last_value", "last_traceback"):
        if hasattr(sys, name):
            delattr(sys, name)
    gc.collect()


def samples_of(clip) -> np.ndarray:
    return np.frombuffer(clip.raw_data, dtype="<i2").astype(np.float32) / 32768.0


FRESH_CLIP = """
import sys
from voiceguide.sound.speech import Synthesizer
voice, rate, sample_rate, text = sys.argv[1] or None, int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
with Synthesizer(voice=voice, rate=rate, sample_rate=sample_rate) as synthesizer:
    length = len(synthesizer.clip(text))
print(f"clip-ms={length}", flush=True)
"""


def fresh_clip_ms(voice: str | None, *, rate: int = RATE, text: str = LONG_PHRASE) -> int:
    """How long *text* lasts when spoken by a new Python process with the real engine.

    The engine keeps its voice and rate from one Synthesizer to the next in a process, so a
    measurement meant to show what a voice or rate sounds like starts from a fresh process.
    """
    command = [sys.executable, "-c", FRESH_CLIP, voice or "", str(rate), str(SAMPLE_RATE), text]
    result = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stdout.splitlines() if line.startswith("clip-ms=")]
    assert len(lines) == 1, result.stdout
    return int(lines[0].removeprefix("clip-ms="))


def test_synthesis_keeps_stdout_clean(capfd: pytest.CaptureFixture[str]) -> None:
    """Synthesizing prints nothing on stdout, at the Python level or on file descriptor 1."""
    with Synthesizer(voice=None, rate=RATE, sample_rate=SAMPLE_RATE) as synthesizer:
        # Longest first: the phrases that take longest to make are the likeliest to print late.
        for phrase in sorted(PHRASES, key=len, reverse=True):
            synthesizer.clip(phrase)
            # (a late print, from whatever thread, lands meanwhile)
            time.sleep(0.05)
    captured = capfd.readouterr()
    assert captured.out == "", f"stdout got {captured.out[:300]!r}"
    assert "Audio saved" not in captured.err


def test_clips_are_trimmed_mono_16_bit_at_the_session_rate() -> None:
    """Clips start and end with sound: no leading or trailing silence beyond the few ms of edge fade."""
    with Synthesizer(voice=None, rate=RATE, sample_rate=SAMPLE_RATE) as synthesizer:
        for phrase in PHRASES:
            clip = synthesizer.clip(phrase)
            assert (clip.channels, clip.sample_width, clip.frame_rate) == (1, 2, SAMPLE_RATE), (
                phrase
            )
            levels = am.frame_levels(samples_of(clip), 1.0, SAMPLE_RATE)
            loud = np.flatnonzero(levels > SILENCE_THRESHOLD_DBFS)
            assert len(loud), f"{phrase!r} is silent"
            leading, trailing = int(loud[0]), int(len(levels) - 1 - loud[-1])
            assert leading <= EDGE_SLACK_MS and trailing <= EDGE_SLACK_MS, (
                f"{phrase!r} ({len(clip)} ms) has {leading} ms of silence before and {trailing} ms after it"
            )


def test_trimming_finds_the_edges_pydub_finds() -> None:
    """The quick search for a clip's leading silence gives what pydub's detect_leading_silence gives
    (1 ms steps), from either end, at any rate, for levels on both sides of the threshold."""
    segment = audio_segment()  # (pydub imported as voiceguide imports it)
    from pydub.silence import detect_leading_silence

    generator = np.random.default_rng(6)
    threshold = round(32768 * 10 ** (SILENCE_THRESHOLD_DBFS / 20))  # the loudest silent RMS, about
    wrong = []
    for _ in range(400):
        rate = int(generator.choice([8_000, 11_025, 16_000, 22_050, 24_000, 44_100]))
        frames = int(generator.integers(0, 2_000))
        quiet = int(generator.integers(0, frames + 1))
        peak = int(
            generator.choice([0, threshold - 2, threshold, threshold + 2, 2 * threshold, 20_000])
        )
        samples = np.concatenate(
            [np.zeros(quiet), generator.integers(-peak, peak + 1, frames - quiet)]
        )
        clip = segment(
            data=samples.astype("<i2").tobytes(), sample_width=2, frame_rate=rate, channels=1
        )
        for side in (clip, clip.reverse()):
            expected = detect_leading_silence(
                side, silence_threshold=SILENCE_THRESHOLD_DBFS, chunk_size=1
            )
            found = _leading_silence_ms(side.raw_data, rate, len(side))
            if found != expected:
                wrong.append(
                    f"{frames} frames at {rate} Hz, {quiet} silent, peak {peak}: {found} ms, not {expected}"
                )
    assert not wrong, wrong[:5]


def test_each_distinct_phrase_is_synthesized_once() -> None:
    """Asking again for a phrase, its clip or its length reuses the first synthesis."""
    with Synthesizer(voice=None, rate=RATE, sample_rate=SAMPLE_RATE) as synthesizer:
        first = {phrase: synthesizer.clip(phrase) for phrase in PHRASES}
        assert synthesizer.synthesized == len(PHRASES)
        for phrase in PHRASES * 2:
            assert synthesizer.clip(phrase) is first[phrase]
            assert synthesizer.synthesized_ms(phrase) >= len(first[phrase])
        assert synthesizer.synthesized == len(PHRASES)
        synthesizer.clip("A phrase not asked for before.")
        assert synthesizer.synthesized == len(PHRASES) + 1


def test_unknown_voice_is_refused_with_a_suggestion() -> None:
    """A misspelt voice raises SettingsError naming the voice meant and how to list the voices."""
    with pytest.raises(SettingsError) as raised:
        Synthesizer(voice="English (Amerca)", rate=RATE, sample_rate=SAMPLE_RATE)
    message = str(raised.value)
    assert "'English (Amerca)'" in message
    assert "Did you mean" in message and "'English (America)'" in message
    assert "voiceguide voices" in message
    with pytest.raises(SettingsError, match="no voice 'qqqqqq'"):
        Synthesizer(voice="qqqqqq", rate=RATE, sample_rate=SAMPLE_RATE)


def test_every_installed_voice_can_be_chosen_by_its_id_and_its_name() -> None:
    """Each voice `voiceguide voices` lists is found again by its id and by its name."""
    voices = list_voices()
    assert len(voices) > 10
    wrong = []
    for voice in voices:
        for key in (voice.id, voice.name):
            try:
                found: VoiceInfo | str = resolve_voice(key, voices)
            except SettingsError as error:
                found = str(error)
            if found != voice:
                wrong.append(f"{key!r} -> {found}")
    assert not wrong, f"{len(wrong)} lookups do not find their voice: {wrong[:4]}"


def test_a_voice_is_found_by_id_name_or_language() -> None:
    """The full id, the id's last part, the name (any case) and a language all select the voice."""
    voices = list_voices()
    for key in ("gmw/en-us", "en-us", "English (America)", "english (AMERICA)"):
        assert resolve_voice(key, voices).id == "gmw/en-us", key
    # "fr-fr" is only a language: the French voice's id is roa/fr.
    assert resolve_voice("fr-fr", voices).id == "roa/fr"


def test_choosing_a_voice_changes_the_audio() -> None:
    """A voice chosen by name, id or language speaks the phrase unlike the default voice."""
    default = fresh_clip_ms(None)
    chosen = {
        key: fresh_clip_ms(key) for key in ("English (America)", "gmw/en-us", "en-us", "fr-fr")
    }
    lengths = f"default voice {default} ms; " + ", ".join(
        f"{key}: {ms} ms" for key, ms in chosen.items()
    )
    assert all(abs(ms - default) >= DIFFERENT_VOICE_MS for ms in chosen.values()), lengths
    assert abs(chosen["fr-fr"] - chosen["English (America)"]) >= DIFFERENT_VOICE_MS, lengths


def test_a_slower_rate_gives_a_longer_clip() -> None:
    """At 100 words a minute a phrase lasts well over 1.5 times as long as at 200."""
    slow, fast = fresh_clip_ms(None, rate=100), fresh_clip_ms(None, rate=200)
    assert slow > 1.5 * fast, f"{slow} ms at 100 wpm, {fast} ms at 200 wpm"


# The engine is one per process (espeak-ng initializes once; pyttsx3.init hands out the live engine
# again), so what one Synthesizer sets can reach the next. The two tests below check, in this
# process, that a Synthesizer gets the voice and rate it asks for whatever came before it.


def test_default_voice_stays_default_while_another_voice_is_in_use() -> None:
    """A synthesizer with no voice speaks as the default voice even while another one uses a voice of
    its own."""
    default = fresh_clip_ms(None)
    with Synthesizer(voice="English (America)", rate=RATE, sample_rate=SAMPLE_RATE) as american:
        american_ms = len(american.clip(LONG_PHRASE))
        with Synthesizer(voice=None, rate=RATE, sample_rate=SAMPLE_RATE) as plain:
            plain_ms = len(plain.clip(LONG_PHRASE))
    assert abs(plain_ms - default) <= SAME_VOICE_MS, (
        f"with no voice chosen the phrase lasts {plain_ms} ms; in the default voice it lasts {default} ms "
        f"(a fresh process), and {american_ms} ms in English (America), in use by another synthesizer"
    )


def test_each_synthesizer_speaks_at_its_own_rate_in_one_process() -> None:
    """Synthesizers made one after another in one process each speak at the rate they were given."""
    expected = {rate: fresh_clip_ms(None, rate=rate) for rate in (100, 200)}
    heard: dict[int, list[int]] = {100: [], 200: []}
    for _ in range(3):
        for rate in (200, 100):
            with Synthesizer(voice=None, rate=rate, sample_rate=SAMPLE_RATE) as synthesizer:
                heard[rate].append(len(synthesizer.clip(LONG_PHRASE)))
    wrong = [
        rate
        for rate, lengths in heard.items()
        if any(abs(n - expected[rate]) > SAME_VOICE_MS for n in lengths)
    ]
    assert not wrong, (
        f"the phrase lasts {expected[100]} ms at 100 wpm and {expected[200]} ms at 200 wpm in a fresh process; "
        f"in this one, synthesizers asked for 100 wpm gave {heard[100]} ms and for 200 wpm gave {heard[200]} ms"
    )


# -- the engine under stress: what once crashed a test run ---------------------------------------

GUARDED_SYNTH = """
import ctypes, mmap
from voiceguide.sound.speech import Synthesizer
with Synthesizer(voice=None, rate=150, sample_rate=22050) as synthesizer:
    synthesizer.clip("Get ready.")  # the engine, started as voiceguide starts it
    from pyttsx3.drivers import _espeak
    # The phrase ends where its page ends; the next page may not be read at all.
    page = mmap.PAGESIZE
    memory = mmap.mmap(-1, 2 * page)
    start = ctypes.addressof(ctypes.c_char.from_buffer(memory))
    if ctypes.CDLL(None).mprotect(ctypes.c_void_p(start + page), ctypes.c_size_t(page), 0) != 0:
        raise OSError("mprotect failed")
    text = b"Hold.\\0"
    ctypes.memmove(start + page - len(text), text, len(text))
    phrase = (ctypes.c_char * (len(text) - 1)).from_address(start + page - len(text))
    status = _espeak.Synth(phrase, flags=_espeak.ENDPAUSE | _espeak.CHARS_UTF8)  # as pyttsx3's driver calls it
    print(f"status={status}", flush=True)
"""


def test_the_engine_reads_a_phrase_no_further_than_its_end() -> None:
    """espeak-ng, as voiceguide starts it, reads a phrase up to its end and not beyond.

    (Started asynchronously, espeak copies ten times the phrase's length, whatever follows it in
    memory: a phrase that ends near the end of mapped memory crashed the process.)"""
    result = subprocess.run(
        [sys.executable, "-c", GUARDED_SYNTH],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, f"exit {result.returncode}: {result.stderr[-800:]}"
    assert result.stdout.strip() == "status=0", result.stdout


ESPEAK_STARTED_ELSEWHERE = """
from voiceguide.common.errors import SpeechError
from voiceguide.common.externals import pyttsx3_module
from voiceguide.sound.speech import Synthesizer
engine = pyttsx3_module().init("espeak")  # pyttsx3 used directly first: espeak-ng started its own way
try:
    with Synthesizer(voice=None, rate=150, sample_rate=22050) as synthesizer:
        synthesizer.clip("Hold.")
except SpeechError as error:
    print(error)
"""


def test_an_engine_started_by_pyttsx3_before_voiceguide_is_refused_clearly() -> None:
    """In a process where pyttsx3 started espeak-ng before voiceguide did (asynchronously, as it
    does), synthesis stops with a SpeechError that says so, rather than misbehaving."""
    result = subprocess.run(
        [sys.executable, "-c", ESPEAK_STARTED_ELSEWHERE],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-800:]
    assert "espeak-ng was started in this process before voiceguide started it" in result.stdout, (
        result.stdout
    )


class Interrupt(BaseException):
    """What the signal handlers below raise: like KeyboardInterrupt, but pytest's own is left alone."""


def interrupt(signum: int, frame: object) -> None:
    raise Interrupt


@pytest.mark.parametrize(
    "signum", [signal.SIGINT, signal.SIGALRM], ids=["ctrl-c", "another-signal"]
)
def test_a_signal_during_synthesis_interrupts_the_phrase_cleanly(
    signum: signal.Signals, capfd: pytest.CaptureFixture[str]
) -> None:
    """A Ctrl-C that comes while espeak speaks, or another signal whose handler raises, interrupts
    the phrase: the handler's exception reaches the caller (none is lost in the engine's
    callbacks), nothing is printed, and the next phrase is spoken as usual."""
    long_text = " ".join([PHRASES[-1]] * 3)
    previous = signal.signal(signum, interrupt)
    attempts = 10
    outcomes = {"interrupted": 0, "too late": 0, "lost": 0}
    try:
        with Synthesizer(voice=None, rate=RATE, sample_rate=SAMPLE_RATE) as synthesizer:
            synthesizer.clip("Get ready.")  # (the engine started)
            started = time.perf_counter()
            synthesizer.clip(long_text)
            took = time.perf_counter() - started
            for attempt in range(attempts):
                # the signal at a point spread over the making of a phrase, sent to this thread as a
                # terminal does
                delay = took * (attempt + 0.5) / attempts * 0.8
                timer = threading.Timer(delay, signal.pthread_kill, (threading.get_ident(), signum))
                outcome = "interrupted"
                try:
                    timer.start()
                    started = time.perf_counter()
                    synthesizer.clip(f"{long_text} {attempt}")
                    took = min(took, time.perf_counter() - started)  # (the machine's load changes)
                    outcome = "too late"
                    timer.join()
                    time.sleep(0.01)  # (a signal that came after the phrase is raised by now)
                    outcome = "lost"
                except Interrupt:
                    pass
                outcomes[outcome] += 1
            after = synthesizer.clip("Release.")
    finally:
        signal.signal(signum, previous)
    assert outcomes["lost"] == 0, f"{outcomes} (attempts over {took:.3f} s)"
    assert outcomes["interrupted"] >= 3, f"{outcomes} (attempts over {took:.3f} s)"
    assert len(after) > 200
    captured = capfd.readouterr()
    assert (captured.out, captured.err) == ("", ""), captured


def test_many_phrases_in_parallel_processes_all_come_out() -> None:
    """Three processes making 100 distinct phrases each at once (uncached; two synthesizers in each
    taking turns, so voice and rate change before every phrase, then two new ones with a new
    engine): every process ends well and every clip has sound (see scripts/stress_speech.py)."""
    script = Path(__file__).parent.parent / "scripts" / "stress_speech.py"
    command = [
        sys.executable,
        str(script),
        "--rounds",
        "1",
        "--processes",
        "3",
        "--phrases",
        "100",
        "--load",
        "0",
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=240, check=False)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert result.stdout.endswith("\n1 of 1 rounds clean\n"), result.stdout
    assert "ok, ok, ok" in result.stdout, result.stdout
