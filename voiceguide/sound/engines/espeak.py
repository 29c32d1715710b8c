"""The espeak engine: pyttsx3 driving espeak-ng (on macOS and Windows, the platform's own speech).

Each phrase is written by pyttsx3 to a WAV file in a folder of the engine's own, and read back.
espeak-ng is started in its synchronous mode, each phrase made on the calling thread (see
pyttsx3_internals, the one place that touches pyttsx3's private names). What that takes here, and
the traps left:
- with the phrase made on this thread, a signal's exception would be raised in the middle of it:
  in the driver's callback, where it cannot go through espeak (Python hands it to
  sys.unraisablehook), or half-way through writing the WAV. Ctrl-C (SIGINT) and SIGTERM (how
  helpers and batch workers are stopped) are held back while a phrase is made, and delivered as
  soon as it is; whatever else is raised in the callback is kept from sys.unraisablehook and
  raised once the phrase is done.
- the driver prints "Audio saved to ..." for every file: stdout is captured meanwhile.
- `pyttsx3.init` returns the engine already alive in the process, with whatever voice and rate it
  was last given (by another EspeakEngine, say): so both are set before every phrase, the default
  voice included (the voice espeak-ng started with in this process). The voice is checked once the
  phrase is made, as espeak keeps the old voice for a name it does not know.
- queued `save_to_file` calls keep only the last file: one phrase per `runAndWait`.
- espeak asserts on empty text (the synthesizer never asks for one).
- espeak calls the driver through a ctypes callback that must outlive every call to it. The last
  one registered is kept alive (in the binding, and the driver's `destroy`, which would drop it,
  fails), and a new engine's driver replaces it only between phrases, on this same thread.
"""

from __future__ import annotations

import contextlib
import io
import sys
import tempfile
import time
import wave
from pathlib import Path
from typing import Any

from voiceguide.common.errors import SpeechError, is_disk_full
from voiceguide.common.externals import (
    driver_name,
    native_speech_version,
    pyttsx3_module,
    pyttsx3_version,
    signals_held,
)
from voiceguide.sound.engines import EngineIdentity, Speech, VoiceInfo
from voiceguide.sound.engines.pyttsx3_internals import finish_each_phrase, started_synchronously

FILE_WAIT_SECONDS = 0.5
PACE = 1.13
"""How much faster than its rate espeak-ng speaks a phrase: its rate counts the pauses a text
has between its sentences and around it, which a trimmed clip leaves out. Measured on the default
session's 62 phrases, each trimmed of its silences, as the words they hold over the seconds they
last: 138, 172 and 255 words a minute at its rates 120, 150 and 220, 1.15 times the rate within 2%
from 100 to 260 (6% at 80 and 300). A rate is given to espeak-ng divided by this, so that `rate:
120` means about 120 words a minute, as it does for Piper; 1.13 rather than 1.15 (2% apart) makes
the default 170 espeak-ng's rate 150, which the sessions made before were spoken at."""
SLOWEST = 80
"""espeak-ng's slowest rate (its espeakRATE_MINIMUM): about 97 words a minute, the slowest it says."""
LICENCE = "GPL-3.0+"
"""espeak-ng's voices and its data are GPL-3.0 or later (what it speaks is the user's)."""

_default_voice: str | None = None
"""The voice espeak-ng started with in this process, which it speaks with when given none."""


class EspeakEngine:
    costs = None  # (speechpool's constants are espeak-ng's)
    voices_are_files = False  # (listing them starts espeak-ng)

    def __init__(self) -> None:
        self._engine: Any = None
        self._workdir: tempfile.TemporaryDirectory[str] | None = None
        self._phrases = 0

    def available(self) -> bool:
        return True  # (a dependency, with espeak-ng's library from espeakng-loader)

    def identity(self) -> EngineIdentity:
        """A new pyttsx3 or espeak-ng, or a new pace, means new clips."""
        pace = f", pace {PACE}" if driver_name() == "espeak" else ""
        return EngineIdentity(
            driver_name(), f"pyttsx3 {pyttsx3_version()}{pace}", native_speech_version()
        )

    def voices(self) -> list[VoiceInfo]:
        voices = []
        for voice in self._started().getProperty("voices"):
            languages = tuple(
                lang.decode(errors="replace") if isinstance(lang, bytes) else str(lang)
                for lang in (voice.languages or ())
            )
            voices.append(
                VoiceInfo(
                    id=str(voice.id),
                    name=str(voice.name).strip(),
                    languages=languages,
                    gender=voice.gender,
                    licence=LICENCE if driver_name() == "espeak" else None,
                )
            )
        return voices

    def voice_at(self, path: str) -> VoiceInfo | None:
        return None

    def voice_key(self, voice: str | None) -> str:
        return voice or "default"  # (its data's version is in the identity)

    def speak(self, text: str, *, voice: str | None, rate: int) -> Speech:
        engine = self._started()
        if self._workdir is None:
            self._workdir = tempfile.TemporaryDirectory(prefix="voiceguide-speech-")
        self._phrases += 1
        path = Path(self._workdir.name) / f"{self._phrases}.wav"
        voice_id = voice or _default_voice
        if voice_id:
            engine.setProperty("voice", voice_id)
        engine.setProperty("rate", _native_rate(rate))
        engine.save_to_file(text, str(path))
        raised: list[BaseException | None] = []  # in the engine's callbacks
        previous_hook, sys.unraisablehook = (
            sys.unraisablehook,
            lambda unraisable: raised.append(unraisable.exc_value),
        )
        try:
            with contextlib.redirect_stdout(io.StringIO()), signals_held():
                engine.runAndWait()
        except Exception as error:
            raise SpeechError(_failure(text, error)) from None
        finally:
            sys.unraisablehook = previous_hook
        if raised:
            if isinstance(raised[0], BaseException) and not isinstance(raised[0], Exception):
                raise raised[0]  # a Ctrl-C, a SystemExit: as if raised here
            raise SpeechError(_failure(text, raised[0]))
        if voice_id and driver_name() == "espeak":
            used = str(engine.getProperty("voice"))
            if used.casefold() != voice_id.casefold():
                raise SpeechError(
                    f"the speech engine did not switch to the voice {voice_id!r} (it uses {used!r})"
                )
        speech = _read_complete_wav(path)
        if speech is None:
            raise SpeechError(f"the speech engine produced no audio for {text!r}")
        return speech

    def close(self) -> None:
        if self._workdir is not None:
            self._workdir.cleanup()

    def _started(self) -> Any:
        """The process's pyttsx3 engine, started as the module's docstring says."""
        global _default_voice
        if self._engine is not None:
            return self._engine
        pyttsx3 = pyttsx3_module()
        espeak = driver_name() == "espeak"
        try:
            with (
                contextlib.redirect_stdout(io.StringIO()),
                started_synchronously() if espeak else contextlib.nullcontext(),
            ):
                engine = pyttsx3.init(driver_name())
        except SpeechError:
            raise
        except Exception as error:  # the drivers raise anything from OSError to RuntimeError
            raise SpeechError(f"the speech engine could not start: {error}") from None
        if espeak:
            finish_each_phrase(engine)
            if _default_voice is None:  # (espeak-ng has just started: nothing has changed it)
                _default_voice = str(engine.getProperty("voice"))
        self._engine = engine
        return engine


def _native_rate(rate: int) -> int:
    """The rate to give the driver for *rate* words a minute (see PACE). The other platforms'
    drivers take words a minute as they are."""
    if driver_name() != "espeak":
        return rate
    return max(SLOWEST, round(rate / PACE))


def _failure(text: str, error: BaseException | None) -> str:
    """What to say when the engine failed on *text* with *error*, a full disk named as such."""
    reason = str(error)
    cause: BaseException | None = error
    while cause is not None and not is_disk_full(cause):
        cause = cause.__cause__ or cause.__context__
    if cause is None:
        return f"the speech engine failed on {text!r}: {reason}"
    return (
        f"the speech engine could not write the audio for {text!r}: {reason}; "
        "the disk is full: free some space and try again"
    )


class _WaveReader(wave.Wave_read):
    """wave's reader, safe to interrupt as it is made: a Ctrl-C before its __init__ sets
    _i_opened_the_file made its __del__ fail, and Python print the failure on stderr."""

    _i_opened_the_file = None


def _read_complete_wav(path: Path) -> Speech | None:
    """The WAV at *path* once it is completely written; None if none with audio appears in time.

    The header's frame count is patched in when the writer closes the file, so a non-zero count
    with all its frames present means the file is complete. With espeak it is complete when
    `runAndWait` returns; the other platforms' drivers are given a moment.
    """
    deadline = time.monotonic() + FILE_WAIT_SECONDS
    while time.monotonic() < deadline:
        try:
            with _WaveReader(str(path)) as wav:
                expected = wav.getnframes() * wav.getsampwidth() * wav.getnchannels()
                frames = wav.readframes(wav.getnframes())
                if expected > 0 and len(frames) == expected:
                    return Speech(
                        data=frames,
                        sample_width=wav.getsampwidth(),
                        frame_rate=wav.getframerate(),
                        channels=wav.getnchannels(),
                    )
        except (OSError, EOFError, wave.Error):
            pass
        time.sleep(0.005)
    return None
