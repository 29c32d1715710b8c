"""Speech: each distinct phrase synthesized once with pyttsx3, trimmed, as a pydub clip.

pyttsx3 2.99 on Linux has traps this module works around. At their root: pyttsx3 starts espeak-ng
in its asynchronous "retrieval" mode, so every espeak call is queued on espeak's own thread, while
pyttsx3 treats them as done when they return.
- `runAndWait` returns while the phrase is still being synthesized, and its driver then writes the
  file and prints "Audio saved to ..." from espeak's thread. We wait for espeak (`Synchronize`)
  with stdout captured, and then read the WAV only once its header and data agree.
- `setProperty` is queued behind the next `runAndWait`, whose stop() then cancels it (and, about
  one time in a hundred, the phrase after it, which comes out empty) because espeak is "busy"
  applying it. We set voice and rate on the driver directly and wait for espeak before queueing
  the phrase; an empty result is still synthesized again, as a last guard.
- `init` returns the engine already alive in the process, with whatever voice and rate it was
  last given; so both are set before every phrase, the default voice included.
- queued `save_to_file` calls keep only the last file: one phrase per `runAndWait`.
- espeak pads every phrase with silence (about 235 ms at the end): clips are trimmed both ends.
- it asserts on empty text, and keeps the old voice for a name it does not know: voices are
  resolved against the engine's own list first, and the switch is checked.
- both waits poll coarsely: pyttsx3's loop looks every 10 ms, and espeak's `Synchronize` every
  20 ms, for phrases that take a few ms to make; most of a phrase's time went in those sleeps. We
  wait for the same conditions, looking every half millisecond.
"""

from __future__ import annotations

import contextlib
import dataclasses
import difflib
import errno
import hashlib
import io
import math
import sys
import tempfile
import threading
import time
import types
import wave
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from voiceguide.errors import SettingsError, SpeechError
from voiceguide.externals import audio_segment, driver_name, pyttsx3_module
from voiceguide.language import DEFAULT_LANGUAGE, catalog_codes
from voiceguide.language import language as catalog
from voiceguide.speechcache import SpeechCache

if TYPE_CHECKING:
    from pydub import AudioSegment

SILENCE_THRESHOLD_DBFS = -50.0
FILE_WAIT_SECONDS = 0.5
SYNTHESIS_ATTEMPTS = 4
ENGINE_TIMEOUT_SECONDS = 30
EDGE_FADE_MS = 4  # a trimmed clip starts and ends at a zero crossing's worth of fade: no clicks
POLL_SECONDS = 0.0005
"""How often the engine is asked whether it is done (see the module's docstring)."""


@dataclass(frozen=True, slots=True)
class VoiceInfo:
    id: str
    name: str
    languages: tuple[str, ...]
    gender: str | None


def _engine() -> Any:
    pyttsx3 = pyttsx3_module()
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            return pyttsx3.init(driver_name())
    except Exception as error:  # the drivers raise anything from OSError to RuntimeError
        raise SpeechError(f"the speech engine could not start: {error}") from None


def list_voices() -> list[VoiceInfo]:
    """The voices the speech engine has, as `voiceguide voices` shows them."""
    engine = _engine()
    voices = []
    for voice in engine.getProperty("voices"):
        languages = tuple(
            lang.decode(errors="replace") if isinstance(lang, bytes) else str(lang) for lang in (voice.languages or ())
        )
        voices.append(
            VoiceInfo(id=str(voice.id), name=str(voice.name).strip(), languages=languages, gender=voice.gender)
        )
    return voices


def resolve_voice(requested: str, voices: list[VoiceInfo]) -> VoiceInfo:
    """Find a voice by id ("gmw/en-us"), the id's last part ("en-us"), name or language."""
    wanted = requested.casefold().strip()
    for matches in (
        lambda v: v.id.casefold() == wanted,
        lambda v: v.id.casefold().rsplit("/", 1)[-1] == wanted,
        lambda v: v.name.casefold() == wanted,
        lambda v: wanted in (lang.casefold() for lang in v.languages),
    ):
        found = [voice for voice in voices if matches(voice)]
        if found:
            return found[0]
    names = [v.name for v in voices] + [v.id.rsplit("/", 1)[-1] for v in voices]
    close = difflib.get_close_matches(requested, names, n=3)
    hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    raise SettingsError(f"there is no voice {requested!r}.{hint} Run `voiceguide voices` to see the installed voices.")


def speaks(voice: VoiceInfo, language: str) -> bool:
    """Whether *voice* speaks *language* ("de"), in any region of it."""
    wanted = language.casefold()
    codes = [lang.casefold().replace("_", "-") for lang in voice.languages]
    codes.append(voice.id.casefold().rsplit("/", 1)[-1])
    return any(code == wanted or code.startswith(wanted + "-") for code in codes)


def voice_for_language(language: str, voices: list[VoiceInfo]) -> VoiceInfo | None:
    """The voice to speak *language* with when none is chosen: one for the language itself (espeak's
    "de", "gmw/en") before one for a region of it ("en-029"); None if no voice speaks it."""
    wanted = language.casefold()
    for exact in (
        lambda v: wanted in (lang.casefold() for lang in v.languages),
        lambda v: v.id.casefold().rsplit("/", 1)[-1] == wanted,
    ):
        found = [voice for voice in voices if exact(voice)]
        if found:
            return found[0]
    return next((voice for voice in voices if speaks(voice, language)), None)


def installed_voices(cache: SpeechCache | None = None) -> list[VoiceInfo]:
    """The engine's voices; from the cache when it has them, so that no engine has to start."""
    if cache is not None:
        listed = cache.load_json(_voices_name(cache), _voice_list)
        if listed is not None:
            return listed
    voices = list_voices()
    if cache is not None:
        cache.store_json(_voices_name(cache), [dataclasses.asdict(voice) for voice in voices])
    return voices


def _voice_list(listed: object) -> list[VoiceInfo]:
    """The voices of a cached voice list; TypeError if it is not one (the cache then lists them again)."""

    def text(value: object) -> str:
        if not isinstance(value, str):
            raise TypeError(value)
        return value

    if not isinstance(listed, list) or not listed or not all(isinstance(voice, dict) for voice in listed):
        raise TypeError(listed)
    voices = []
    for voice in listed:
        if not isinstance(voice["languages"], list):
            raise TypeError(voice)
        gender = None if voice["gender"] is None else text(voice["gender"])
        voices.append(VoiceInfo(text(voice["id"]), text(voice["name"]), tuple(map(text, voice["languages"])), gender))
    return voices


def _voices_name(cache: SpeechCache) -> str:
    return "voices-" + hashlib.sha256(cache.engine.encode()).hexdigest()[:16]


class Synthesizer:
    """Turns phrases into trimmed clips at the session's sample rate, each phrase once.

    Clips come from the speech cache when it has them; the engine starts only for a phrase it has
    not got, so a rebuild or a preview of a known plan never starts it.
    """

    def __init__(
        self,
        *,
        voice: str | None,
        rate: int,
        sample_rate: int,
        cache: SpeechCache | None = None,
        language: str | None = None,
    ) -> None:
        """*voice* as `voiceguide voices` names it; without one, a voice for *language* (or, with
        neither, the engine's default)."""
        self._rate = rate
        self._sample_rate = sample_rate
        self._cache = cache
        self._voice = resolve_voice(voice, installed_voices(cache)) if voice else None
        if self._voice is None and language is not None:
            self._voice = _default_voice(language, installed_voices(cache))
        self._clips: dict[str, AudioSegment] = {}
        self._durations: dict[str, int] = {}
        self._engine: Any = None
        self._workdir: tempfile.TemporaryDirectory[str] | None = None
        self._espeak: Any = None
        self._default_voice: str | None = None
        self.synthesized = 0
        """How many phrases went through the engine (each distinct phrase once, none cached)."""

    def __enter__(self) -> Synthesizer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._workdir is not None:
            self._workdir.cleanup()
        if self._cache is not None and self._cache.stored:
            self._cache.trim()

    @property
    def cache(self) -> SpeechCache | None:
        return self._cache

    def _key(self, text: str, variant: str = "") -> str:
        assert self._cache is not None
        voice = (self._voice.id if self._voice else "default") + variant
        return self._cache.key(text=text, voice=voice, rate=self._rate, sample_rate=self._sample_rate)

    def cache_key(self, text: str, *, variant: str) -> str:
        """A key for something made from this phrase's clip (its levelled form, say)."""
        return self._key(text, f"|{variant}")

    def cached(self, text: str) -> bool:
        """Whether this phrase's clip is at hand already (in the speech cache, or made here)."""
        return text in self._clips or (self._cache is not None and self._cache.frames(self._key(text)) is not None)

    def duration_ms(self, text: str) -> int:
        known = self._durations.get(text)
        if known is not None:
            return known  # (a layout asks for every event's phrase, thousands of times)
        frames = None
        if text not in self._clips and self._cache is not None:
            frames = self._cache.frames(self._key(text))
        if frames is None:
            frames = int(self.clip(text).frame_count())
        self._durations[text] = -(-frames * 1000 // self._sample_rate)
        return self._durations[text]

    def clip(self, text: str) -> AudioSegment:
        cached = self._clips.get(text)
        if cached is None:
            data = self._cache.load(self._key(text)) if self._cache is not None else None
            if data:
                cached = audio_segment()(data=data, sample_width=2, frame_rate=self._sample_rate, channels=1)
            else:
                cached = self._synthesize(text)
                if self._cache is not None:
                    self._cache.store(self._key(text), cached.raw_data)
            if self._cache is None or not self._cache.frames(self._key(text)):
                self._clips[text] = cached  # (with the clip on disk, memory stays flat however long the plan)
        return cached

    def _start_engine(self) -> None:
        if self._engine is not None:
            return
        self._engine = _engine()
        self._workdir = tempfile.TemporaryDirectory(prefix="voiceguide-speech-")
        if driver_name() == "espeak":
            import pyttsx3.drivers._espeak as espeak_binding  # loaded by init() above

            self._espeak = espeak_binding
            self._default_voice = getattr(type(self._engine.proxy._driver), "_defaultVoice", None)

    def _synthesize(self, text: str) -> AudioSegment:
        if not text.strip():
            raise SpeechError("cannot speak an empty phrase")
        self._start_engine()
        assert self._workdir is not None
        self.synthesized += 1
        for attempt in range(1, SYNTHESIS_ATTEMPTS + 1):
            path = Path(self._workdir.name) / f"{self.synthesized}-{attempt}.wav"
            self._run_engine(text, path)
            clip = _read_complete_wav(path)
            if clip is not None:
                clip = clip.set_channels(1).set_sample_width(2).set_frame_rate(self._sample_rate)
                return _trim(clip)
        raise SpeechError(f"the speech engine produced no audio for {text!r} in {SYNTHESIS_ATTEMPTS} attempts")

    def _run_engine(self, text: str, path: Path) -> None:
        engine = self._engine
        self._apply_voice_and_rate()
        engine.save_to_file(text, str(path))
        # The driver writes the file in a callback from espeak: an error there (a full disk) is
        # only printed, and leaves runAndWait waiting for ever. Catch it, and end the wait.
        failures: list[BaseException | None] = []
        timed_out = threading.Event()

        def on_callback_error(unraisable: Any) -> None:
            failures.append(unraisable.exc_value)
            self._end_loop()

        def on_timeout() -> None:
            timed_out.set()
            self._end_loop()

        watchdog = threading.Timer(ENGINE_TIMEOUT_SECONDS, on_timeout)
        watchdog.daemon = True  # (a Ctrl-C before the `try` below must not leave it keeping the process alive)
        previous_hook, sys.unraisablehook = sys.unraisablehook, on_callback_error
        watchdog.start()
        try:
            with contextlib.redirect_stdout(io.StringIO()), _polling_often(self._espeak is not None):
                try:
                    engine.runAndWait()
                    if self._espeak is not None:
                        self._synchronize()
                except BaseException:  # Ctrl-C (or a helper's SIGTERM) mid-phrase
                    self._settle()
                    raise
        except Exception as error:
            raise SpeechError(f"the speech engine failed on {text!r}: {error}") from None
        finally:
            watchdog.cancel()
            sys.unraisablehook = previous_hook
        if failures:
            reason = str(failures[0])
            full = any(f"[Errno {code}]" in reason for code in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG))
            hint = "; the disk is full: free some space and try again" if full else ""
            raise SpeechError(f"the speech engine could not write the audio for {text!r}: {reason}{hint}")
        if timed_out.is_set():
            raise SpeechError(f"the speech engine did not finish {text!r} within {ENGINE_TIMEOUT_SECONDS} s")

    def _end_loop(self) -> None:
        end_loop = getattr(self._engine.proxy._driver, "endLoop", None)
        if end_loop is not None:
            end_loop()

    def _apply_voice_and_rate(self) -> None:
        voice_id = self._voice.id if self._voice else self._default_voice
        if self._espeak is None:
            if voice_id:
                self._engine.setProperty("voice", voice_id)
            self._engine.setProperty("rate", self._rate)
            return
        driver = self._engine.proxy._driver
        if voice_id:
            driver.setProperty("voice", voice_id)
        driver.setProperty("rate", self._rate)
        self._synchronize()
        if voice_id and str(driver.getProperty("voice")).casefold() != voice_id.casefold():
            raise SpeechError(
                f"the speech engine did not switch to the voice {voice_id!r} (it uses {driver.getProperty('voice')!r})"
            )

    def _settle(self) -> None:
        """Stop espeak and wait for it (a second at most), while stdout is still captured:
        interrupted mid-phrase, its thread would otherwise finish the phrase and print "Audio
        saved" on our stdout."""
        if self._espeak is not None:
            self._espeak.Cancel()
            deadline = time.monotonic() + 1
            while self._espeak.IsPlaying() and time.monotonic() < deadline:
                time.sleep(POLL_SECONDS)

    def _synchronize(self) -> None:
        """espeak's Synchronize (wait while its queue is busy), looking every POLL_SECONDS, not 20 ms."""
        while self._espeak.IsPlaying():
            time.sleep(POLL_SECONDS)


@contextlib.contextmanager
def _polling_often(espeak: bool) -> Iterator[None]:
    """pyttsx3's espeak loop (runAndWait) looking every POLL_SECONDS, not every 10 ms, meanwhile."""
    if not espeak:
        yield
        return
    import pyttsx3.drivers.espeak as driver_module  # loaded with the engine

    clock = driver_module.time
    driver_module.time = types.SimpleNamespace(sleep=lambda seconds: time.sleep(min(seconds, POLL_SECONDS)))
    try:
        yield
    finally:
        driver_module.time = clock


def spoken_languages(voices: list[VoiceInfo]) -> str:
    """ "cs (čeština), de (Deutsch), ...": the languages voiceguide has phrases in that *voices* speak."""
    codes = [code for code in catalog_codes() if any(speaks(voice, code) for voice in voices)]
    return ", ".join(f"{code} ({catalog(code).name})" for code in codes)


def _default_voice(language: str, voices: list[VoiceInfo]) -> VoiceInfo | None:
    found = voice_for_language(language, voices)
    if found is None and language != DEFAULT_LANGUAGE:
        raise SettingsError(
            f"no installed voice speaks {catalog(language).name} ({language}); the voices installed speak "
            f"{spoken_languages(voices) or 'none of the languages voiceguide has phrases in'}. "
            "Choose one of those with --language, or name a voice with --voice (see `voiceguide voices`)."
        )
    # (English falls back to the engine's default voice, for engines that name languages otherwise)
    return found


class _WaveReader(wave.Wave_read):
    """wave's reader, safe to interrupt as it is made: a Ctrl-C before its __init__ sets
    _i_opened_the_file made its __del__ fail, and Python print the failure on stderr."""

    _i_opened_the_file = None


def _read_complete_wav(path: Path) -> AudioSegment | None:
    """The WAV at *path* once it is completely written; None if none with audio appears in time.

    The header's frame count is patched in when the writer closes the file, so a non-zero count
    with all its frames present means the file is complete. About one run in a hundred, espeak
    cancels a phrase before it starts and pyttsx3 writes an empty file; the caller retries then.
    """
    deadline = time.monotonic() + FILE_WAIT_SECONDS
    while time.monotonic() < deadline:
        try:
            with _WaveReader(str(path)) as wav:
                expected = wav.getnframes() * wav.getsampwidth() * wav.getnchannels()
                frames = wav.readframes(wav.getnframes())
                if expected > 0 and len(frames) == expected:
                    return audio_segment()(
                        data=frames,
                        sample_width=wav.getsampwidth(),
                        frame_rate=wav.getframerate(),
                        channels=wav.getnchannels(),
                    )
        except (OSError, EOFError, wave.Error):
            pass
        time.sleep(0.005)
    return None


def _trim(clip: AudioSegment) -> AudioSegment:
    import audioop  # (pydub's own dependency; audioop-lts from Python 3.13)

    start = _leading_silence_ms(clip.raw_data, clip.frame_rate, len(clip))
    end = len(clip) - _leading_silence_ms(audioop.reverse(clip.raw_data, 2), clip.frame_rate, len(clip))
    if end <= start:
        raise SpeechError("the speech engine produced only silence")
    return clip[start:end].fade_in(EDGE_FADE_MS).fade_out(EDGE_FADE_MS)


def _leading_silence_ms(data: bytes, frame_rate: int, length_ms: int) -> int:
    """What pydub's detect_leading_silence(chunk_size=1, silence_threshold=SILENCE_THRESHOLD_DBFS)
    gives for a mono 16-bit clip of *length_ms* (pydub's rounding of its length): the first
    millisecond as loud as the threshold. The same steps on the bytes, without making a segment of
    every millisecond, which took most of the trimming's time."""
    import audioop

    position = 0
    while position < length_ms:
        first = int(position * (frame_rate / 1000.0)) * 2
        last = int(min(position + 1, length_ms) * (frame_rate / 1000.0)) * 2
        chunk = data[first:last]
        chunk += bytes(last - first - len(chunk))  # (pydub pads a chunk past the end with silence)
        rms = audioop.rms(chunk, 2)
        if rms and 20 * math.log10(rms / 32768) >= SILENCE_THRESHOLD_DBFS:
            break
        position += 1
    return position
