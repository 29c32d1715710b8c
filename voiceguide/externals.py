"""Find the two native tools voiceguide stands on: libespeak-ng (for pyttsx3) and ffmpeg (for pydub).

A system install is used when there is one. Otherwise the copies shipped in the `espeakng-loader`
and `imageio-ffmpeg` wheels are, so that `pip install` alone gives a working tool. Both libraries
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
import sys
import warnings
from collections.abc import Iterator
from types import ModuleType
from typing import TYPE_CHECKING

from voiceguide.errors import AudioError, SpeechError

if TYPE_CHECKING:
    from pydub import AudioSegment


@functools.cache
def ffmpeg_path() -> str:
    """The ffmpeg to run: the one on PATH, else the one bundled with imageio-ffmpeg."""
    found = shutil.which("ffmpeg")
    if found:
        return found
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
def audio_segment() -> type[AudioSegment]:
    """pydub's AudioSegment, wired to our ffmpeg (pydub only looks on PATH, and warns if absent)."""
    path = ffmpeg_path()
    # (pydub's import runs bare `except:` clauses, which would swallow a Ctrl-C)
    with warnings.catch_warnings(), signals_held():
        warnings.filterwarnings("ignore", message="Couldn't find ffmpeg", category=RuntimeWarning)
        warnings.filterwarnings("ignore", message="Couldn't find ffprobe", category=RuntimeWarning)
        warnings.filterwarnings("ignore", message="'audioop' is deprecated", category=DeprecationWarning)
        from pydub import AudioSegment
    AudioSegment.converter = path
    segment_class: type[AudioSegment] = AudioSegment
    return segment_class


@contextlib.contextmanager
def signals_held() -> Iterator[None]:
    """Ctrl-C (SIGINT) and SIGTERM held back meanwhile, and delivered as it ends: for the short
    stretches in which the libraries would lose the exception they raise, or raise it half-way
    through something (see speech.py)."""
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
def engine_identity() -> str:
    """What names the speech engine in the speech cache's keys, found without starting it: a new
    pyttsx3 or espeak-ng means new clips."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        parts = [driver_name(), f"pyttsx3 {version('pyttsx3')}"]
    except PackageNotFoundError:
        parts = [driver_name(), "pyttsx3 ?"]
    if sys.platform.startswith("linux"):
        try:
            library = _make_espeak_loadable()
        except OSError as error:
            raise SpeechError(f"the speech engine's library could not be loaded: {error}") from None
        library.espeak_Info.restype = ctypes.c_char_p
        library.espeak_Info.argtypes = [ctypes.c_void_p]
        parts.append(f"espeak-ng {library.espeak_Info(None).decode(errors='replace')}")
    else:
        parts.append(platform.platform())
    return " | ".join(parts)


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
        return ctypes.CDLL("libespeak-ng.so.1")  # the system's own; pyttsx3 finds it and its data itself
    except OSError:
        pass
    try:
        import espeakng_loader
    except ImportError:
        raise SpeechError(
            "libespeak-ng was not found on this system and the espeakng-loader package is not "
            "installed. Reinstall voiceguide (pip install .) so that its dependencies are present."
        ) from None
    # Loaded globally under its soname, so pyttsx3's own LoadLibrary("libespeak-ng.so.1") finds
    # this copy; espeak-ng reads its data from $ESPEAK_DATA_PATH/espeak-ng-data.
    library = ctypes.CDLL(espeakng_loader.get_library_path(), mode=ctypes.RTLD_GLOBAL)
    os.environ["ESPEAK_DATA_PATH"] = os.path.dirname(espeakng_loader.get_data_path())
    return library
