"""Find the two native tools voiceguide stands on: libespeak-ng (for pyttsx3) and ffmpeg.

A system install is used when there is one (an ffmpeg for what it can do: see FfmpegNeed).
Otherwise the copies shipped in the `espeakng-loader` and `imageio-ffmpeg` wheels are, so that
`pip install` alone gives a working tool. Both libraries
are imported only through this module, and only when a command needs them, so that `--help`,
`validate` and `preview` stay quick.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import os
import platform
import shutil
import signal
import subprocess
import sys
import warnings
from collections.abc import Iterator
from enum import Enum
from types import ModuleType
from typing import TYPE_CHECKING

from voiceguide.common.errors import AudioError, SettingsError, SpeechError

if TYPE_CHECKING:
    from pydub import AudioSegment


FFMPEG_VARIABLE = "VOICEGUIDE_FFMPEG"
"""Names the ffmpeg to use for everything: a path, or "bundled" for imageio-ffmpeg's copy."""

PROBE_TIMEOUT_SECONDS = 20


class FfmpegNeed(Enum):
    """What voiceguide asks of an ffmpeg, each with the output options that try it on a moment of
    silence. Distributions ship older ffmpegs than the bundled one (Ubuntu 22.04 has 4.4, Debian 12
    5.1): a system ffmpeg is used for every need it meets, and the bundled one for the rest."""

    BASICS = ("-af", "aresample=88200,volume=1dB,aformat=sample_fmts=dbl,afade=t=in:d=0.01,"
              "ebur128=framelog=verbose:peak=true")  # fmt: skip
    LIMITER = (
        "-af",
        "alimiter=limit=0.5:attack=2:release=40:level=false:latency=true",
    )  # latency: ffmpeg 5.0
    MP3 = ("-c:a", "libmp3lame")
    AAC = ("-c:a", "aac", "-aac_coder", "fast")
    OPUS = ("-c:a", "libopus")
    WAV = ("-c:a", "pcm_s16le")


def ffmpeg_path(*needs: FfmpegNeed) -> str:
    """The ffmpeg to run for *needs* (and the basics): the one $VOICEGUIDE_FFMPEG names; else the
    one on PATH if it meets them; else the one bundled with imageio-ffmpeg."""
    chosen = os.environ.get(FFMPEG_VARIABLE, "").strip()
    if chosen:
        return _bundled_ffmpeg() if chosen == "bundled" else _named_ffmpeg(chosen)
    system = _system_ffmpeg()
    if system is not None and {FfmpegNeed.BASICS, *needs} <= _needs_met(system):
        return system
    return _bundled_ffmpeg()


def ffmpeg_paths_clear() -> None:
    """Forget every ffmpeg found so far (for tests that change PATH or the environment)."""
    for cached in (_system_ffmpeg, _bundled_ffmpeg, _named_ffmpeg, _needs_met, audio_segment):
        cached.cache_clear()


@functools.cache
def _system_ffmpeg() -> str | None:
    return shutil.which("ffmpeg")


@functools.cache
def _named_ffmpeg(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise SettingsError(
            f"{FFMPEG_VARIABLE} names {name!r}, which is not an ffmpeg that can be run. "
            f'Give the path of an ffmpeg executable, or "bundled", or unset {FFMPEG_VARIABLE}.'
        )
    return found


@functools.cache
def _bundled_ffmpeg() -> str:
    try:
        import imageio_ffmpeg
    except ImportError:
        raise AudioError(
            "ffmpeg was not found on PATH and the imageio-ffmpeg package is not installed. "
            "Reinstall voiceguide (pip install .) so that its dependencies are present."
        ) from None
    try:
        return str(imageio_ffmpeg.get_ffmpeg_exe())
    except RuntimeError as error:
        raise AudioError(f"imageio-ffmpeg has no ffmpeg for this platform: {error}") from None


@functools.cache
def _needs_met(ffmpeg: str) -> frozenset[FfmpegNeed]:
    """The needs *ffmpeg* meets, tried once per process: all in one run, which a current ffmpeg
    passes, and one by one only when that fails. An ffmpeg that fails the basics is not used."""
    needs = list(FfmpegNeed)
    if _passes(ffmpeg, needs):
        return frozenset(needs)
    if not _passes(ffmpeg, [FfmpegNeed.BASICS]):
        return frozenset()
    return frozenset(need for need in needs if _passes(ffmpeg, [need]))


def _passes(ffmpeg: str, needs: list[FfmpegNeed]) -> bool:
    outputs = [arg for need in needs for arg in ("-map", "0:a", *need.value, "-f", "null", "-")]
    command = [ffmpeg, "-hide_banner", "-loglevel", "error", "-f", "s16le", "-ar", "22050", "-ac", "1",
               "-i", "pipe:0", *outputs]  # fmt: skip
    try:
        result = subprocess.run(
            command,
            input=bytes(4410),
            capture_output=True,
            timeout=PROBE_TIMEOUT_SECONDS,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return False
    return result.returncode == 0


@functools.cache
def audio_segment() -> type[AudioSegment]:
    """pydub's AudioSegment, wired to our ffmpeg (pydub only looks on PATH, and warns if absent)."""
    path = ffmpeg_path()
    # (pydub's import runs bare `except:` clauses, which would swallow a Ctrl-C)
    with warnings.catch_warnings(), signals_held():
        warnings.filterwarnings("ignore", message="Couldn't find ffmpeg", category=RuntimeWarning)
        warnings.filterwarnings("ignore", message="Couldn't find ffprobe", category=RuntimeWarning)
        warnings.filterwarnings(
            "ignore", message="'audioop' is deprecated", category=DeprecationWarning
        )
        from pydub import AudioSegment
    AudioSegment.converter = path
    segment_class: type[AudioSegment] = AudioSegment
    return segment_class


@contextlib.contextmanager
def signals_held() -> Iterator[None]:
    """Ctrl-C (SIGINT) and SIGTERM held back meanwhile, and delivered as it ends: for the short
    stretches in which the libraries would lose the exception they raise, or raise it half-way
    through something (see sound/engines/espeak.py)."""
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, ())
    try:
        # (a Ctrl-C that came just before is raised as this call returns: the `finally` unblocks it)
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)


def driver_name() -> str:
    """pyttsx3's driver on this platform."""
    return {"darwin": "nsss", "win32": "sapi5"}.get(sys.platform, "espeak")


@functools.cache
def pyttsx3_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("pyttsx3")
    except PackageNotFoundError:
        return "?"


@functools.cache
def native_speech_version() -> str:
    """What speaks under pyttsx3, found without starting it: libespeak-ng's version on Linux
    ("espeak-ng 1.52.0"), elsewhere the platform, whose own speech pyttsx3 drives."""
    if not sys.platform.startswith("linux"):
        return platform.platform()
    try:
        library = _make_espeak_loadable()
    except OSError as error:
        raise SpeechError(f"the speech engine's library could not be loaded: {error}") from None
    library.espeak_Info.restype = ctypes.c_char_p
    library.espeak_Info.argtypes = [ctypes.c_void_p]
    return f"espeak-ng {library.espeak_Info(None).decode(errors='replace')}"


@functools.cache
def pyttsx3_module() -> ModuleType:
    """pyttsx3, after making sure its espeak driver will find a libespeak-ng."""
    if sys.platform.startswith("linux"):
        _make_espeak_loadable()
    try:
        import pyttsx3
    except ImportError as error:
        raise SpeechError(f"the speech engine could not be loaded: {error}") from None
    module: ModuleType = pyttsx3
    return module


@functools.cache
def _make_espeak_loadable() -> ctypes.CDLL:
    """The libespeak-ng pyttsx3 will use: the system's, else the wheel's, loaded so pyttsx3 finds it."""
    try:
        return ctypes.CDLL(
            "libespeak-ng.so.1"
        )  # the system's own; pyttsx3 finds it and its data itself
    except OSError:
        pass
    try:
        import espeakng_loader
    except ImportError:
        raise SpeechError(
            "libespeak-ng was not found on this system and the espeakng-loader package is not "
            "installed. Reinstall voiceguide (pip install .) so that its dependencies are present."
        ) from None
    # Loaded under its soname, so pyttsx3's own LoadLibrary("libespeak-ng.so.1") finds this copy;
    # espeak-ng reads its data from $ESPEAK_DATA_PATH/espeak-ng-data. Not RTLD_GLOBAL: its symbols
    # would then take the place of the espeak-ng that Piper's phonemizer has built in, and Piper
    # would crash in a process that has spoken with espeak.
    library = ctypes.CDLL(espeakng_loader.get_library_path())
    os.environ["ESPEAK_DATA_PATH"] = os.path.dirname(espeakng_loader.get_data_path())
    return library
