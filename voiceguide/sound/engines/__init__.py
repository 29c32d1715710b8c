"""Speech engines: what turns a phrase into samples, behind one small protocol.

An engine does three things (SpeechEngine): it speaks a phrase at a voice and a rate into samples,
at whatever sample rate and width it makes them (Speech); it lists its voices with the languages
each speaks (VoiceInfo); and it names itself for the speech cache's keys without starting
(EngineIdentity: its name, its version, and what its voices' data is). `close` releases what it
holds. Everything else works the same for any engine, through these alone: the speech cache and
its keys (speechcache), converting each phrase to the session's sample rate and trimming its
silences (speech.Synthesizer), levelling (loudness) and the helper processes that speak a cold
build's phrases on every core (speechpool). The engine only ever sees one phrase at a time.

Adding an engine takes one module in this folder with a class that has these methods (and takes
no arguments), and one line in ENGINES naming it (and its name in plans.values.Engine, for plans to name it).
The module is imported only when its engine is first loaded, so an engine's libraries cost
nothing to the commands that do not speak. An engine that keeps state between phrases must not
let it change what a phrase sounds like, or the cache would keep clips that differ from one run
to the next.

register() adds an engine at run time (a plug-in, a test); it is known to this process only, so a
session spoken by it is best built on one core: speech helpers and batch's workers are new
processes, which know the engines in ENGINES.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from voiceguide.common.errors import SettingsError


@dataclass(frozen=True, slots=True)
class VoiceInfo:
    id: str
    name: str
    languages: tuple[str, ...]
    gender: str | None
    quality: str | None = None
    """As the voice declares it (Piper's "x_low" to "high")."""
    licence: str | None = None
    """The licence of the voice's data, where it declares one."""


@dataclass(frozen=True, slots=True)
class Speech:
    """A phrase as an engine made it: its samples, interleaved if it has more than one channel.
    The synthesizer converts it to the session's mono 16-bit samples and trims its silences."""

    data: bytes
    sample_width: int
    """Bytes per sample: 2 for 16-bit."""
    frame_rate: int
    channels: int = 1


@dataclass(frozen=True, slots=True)
class EngineIdentity:
    """What names an engine in the speech cache's keys: whatever changes how it speaks a phrase."""

    name: str
    """The engine's name, first in every key, so that no two engines share a clip."""
    version: str
    """Its software's version."""
    voice_data: str
    """What its voices are made from (the espeak-ng data's version, a voice model's digest)."""

    def __str__(self) -> str:
        return f"{self.name} | {self.version} | {self.voice_data}"


@dataclass(frozen=True, slots=True)
class EngineCosts:
    """What an engine costs in time, to know when helper processes pay (see speechpool)."""

    start_seconds: float
    """About how long a new process takes to speak its first phrase (imports, loading a model)."""
    phrase_seconds: float
    """About how long a phrase takes to make, on one core."""
    threaded: bool = False
    """Whether it spreads each phrase over every core itself: then helper processes would only take
    turns with it, and none are started."""


class SpeechEngine(Protocol):
    costs: EngineCosts | None
    """Its costs where they are not espeak-ng's (speechpool's constants are), else None."""
    voices_are_files: bool
    """Whether listing its voices only reads files (Piper's configs): then they are listed anew
    each time rather than kept in the speech cache, so that a voice installed is seen at once."""

    def available(self) -> bool:
        """Whether it can speak here (its libraries installed), found without starting it."""
        ...

    def identity(self) -> EngineIdentity:
        """The engine's identity, found without starting it (a warm build never starts it)."""
        ...

    def voices(self) -> list[VoiceInfo]:
        """The voices it has, each with the languages it speaks."""
        ...

    def voice_at(self, path: str) -> VoiceInfo | None:
        """The voice whose files *path* names (a Piper model), which `voices` need not list; None
        if it names none."""
        ...

    def voice_key(self, voice: str | None) -> str:
        """What names the voice whose id is *voice* (None: the default) in the speech cache's keys:
        its id, and where its data is a file of its own (a Piper model), a digest of its content."""
        ...

    def speak(self, text: str, *, voice: str | None, rate: int) -> Speech:
        """*text* (never empty) spoken by the voice whose id is *voice* (None: the engine's default)
        at *rate* words a minute; SpeechError if it cannot be."""
        ...

    def close(self) -> None:
        """Release what it holds (files, processes); it is not used again."""
        ...


DEFAULT_ENGINE = "espeak"
"""The engine that speaks when a plan names none and no neural engine has a voice for it."""

ENGINES: dict[str, str] = {
    "espeak": "voiceguide.sound.engines.espeak:EspeakEngine",
    "piper": "voiceguide.sound.engines.piper:PiperEngine",
}
"""The engines voiceguide has, each as "module:class" (imported when it is first loaded)."""

NEURAL_ENGINES = ("piper",)
"""The engines a plan that names none is spoken by, in this order, where one is installed with a
voice for the plan's voice or language: a natural voice wherever there is one."""

ENGINE_VARIABLE = "VOICEGUIDE_ENGINE"
"""The environment variable naming the engine for the plans that name none (instead of choosing)."""

_registered: dict[str, Callable[[], SpeechEngine]] = {}


def register(name: str, factory: Callable[[], SpeechEngine]) -> None:
    """Make *factory* the engine called *name* in this process (see the module's docstring)."""
    _registered[name] = factory


def engine_names() -> list[str]:
    return sorted({*ENGINES, *_registered})


def load_engine(name: str = DEFAULT_ENGINE) -> SpeechEngine:
    """A new engine of the kind called *name* (it starts only when it first speaks or lists
    voices); SettingsError if there is none."""
    factory = _registered.get(name)
    if factory is None:
        if name not in ENGINES:
            raise SettingsError(
                f"there is no speech engine {name!r}; voiceguide has {', '.join(engine_names())}"
            )
        module, _, attribute = ENGINES[name].partition(":")
        factory = getattr(importlib.import_module(module), attribute)
    return factory()
