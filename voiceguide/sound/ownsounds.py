"""A cue's own sound: an audio file (any format ffmpeg reads) sounded where a built-in tone would be.

A sound is decoded once to the session's samples (mono), its leading silence trimmed so that its
onset lands exactly on its cue, and its trailing silence so that what follows it follows the sound;
it must hold sound and last at most MAX_MS. The timeline takes its length (see
script/timeline.build_timeline). In the mix it is levelled as the tones are: its RMS at
`beep_level` against the speech's RMS, its peaks limited to PEAK_OVER_SPEECH_DB over the speech's
RMS so that it leaves the session's gain the room speech does (see output/mastering.py).

Decoded and levelled sounds are kept in the speech cache, keyed by the file's content: `preview` of
a sound it knows runs no ffmpeg, and a changed file is decoded again.
"""

from __future__ import annotations

import hashlib
import math
import os
import stat
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from voiceguide.common.clock import duration, seconds
from voiceguide.common.errors import AudioError, SettingsError
from voiceguide.common.externals import FfmpegNeed, ffmpeg_path
from voiceguide.plans.plan import Plan
from voiceguide.plans.values import SoundFile
from voiceguide.script.timeline import Tone
from voiceguide.sound.speechcache import SpeechCache
from voiceguide.sound.truepeak import dbtp, limiter, true_peak

if TYPE_CHECKING:
    import numpy as np

SOUNDS = {"start_sound": Tone.START, "end_sound": Tone.END, "transition_sound": Tone.TRANSITION}
"""Each plan field naming a sound, and the cue it sounds on."""
MAX_MS = 5_000
"""The longest sound a cue may have (after its silences are trimmed): a cue is a moment, and a
longer sound would run into the speech that follows it."""
MAX_FILE_BYTES = 100 * 1024 * 1024
"""Far more than five seconds of audio take in any format: a bigger file is not a cue's sound."""
DECODED_SECONDS = 60
"""At most this much of a file is decoded: enough for a long silence before a sound of MAX_MS."""
ONSET_DB = -40.0
"""A sound starts at its first sample this far under its peak (what is before is not heard, or is a
codec's noise before the attack)."""
END_DB = -60.0
"""And ends after its last sample this far under its peak."""
SILENT_DBFS = -70.0
"""A file whose peak is under this holds no sound worth levelling (its noise would be raised)."""
PEAK_OVER_SPEECH_DB = 12.0
"""How far over the speech's RMS a sound's true peak may reach once levelled (speech reaches 9 dB:
see loudness.SPEECH_CREST_DB); a sharper attack is limited to it."""
DECODED_PEAK = 0.5
"""Decoded samples are kept at this peak (-6 dBFS), whatever the file's level: levelling sets it."""
LEVEL_ROUNDS = 2
"""Rounds of levelling and limiting, as speech has (loudness.level_phrases). A sound whose peaks
stand further over its RMS than the limit leaves room for (a click: 19 dB) ends under the level
asked: each further round takes little more of it, and squashes its attack more."""
LIMIT_PAD_MS = 500
"""Silence around a sound passing through the limiter, for its look-ahead and its resampling."""
NAME_AUDIO = "name an audio file (WAV, MP3, Ogg, FLAC, ...)"
OWN_SOUND_VERSION = 1
"""Part of the cache key of decoded and levelled sounds: raise it whenever either changes."""


@dataclass(frozen=True, slots=True)
class OwnSound:
    """A sound file decoded: its samples (mono 16-bit at *sample_rate*) from its onset to its end."""

    file: SoundFile
    samples: bytes
    sample_rate: int

    @property
    def frames(self) -> int:
        return len(self.samples) // 2

    @property
    def length_ms(self) -> int:
        """Its length, rounded up to the millisecond (so that its last sample sounds)."""
        return -(-self.frames * 1000 // self.sample_rate)


def sounds_cache() -> SpeechCache:
    return SpeechCache(engine=f"own sound {OWN_SOUND_VERSION}")


def own_sounds(
    plan: Plan, *, sample_rate: int, cache: SpeechCache | None = None
) -> dict[Tone, OwnSound]:
    """The sounds *plan* names, decoded, by the cue each sounds on; SettingsError naming the setting
    where a file cannot be one."""
    cache = cache or sounds_cache()
    found = {}
    for name, tone in SOUNDS.items():
        file = getattr(plan, name)
        if file is not None:
            found[tone] = own_sound(file, sample_rate=sample_rate, cache=cache)
    return found


def sound_lengths(sounds: Mapping[Tone, OwnSound]) -> dict[Tone, int]:
    return {tone: sound.length_ms for tone, sound in sounds.items()}


def own_sound(file: SoundFile, *, sample_rate: int, cache: SpeechCache) -> OwnSound:
    """*file* decoded at *sample_rate* and trimmed (from *cache* if it has it), or SettingsError."""
    key = cache.key(text=content_digest(file), voice="decoded", rate=0, sample_rate=sample_rate)
    samples = cache.load(key)
    if not samples:
        samples = _decoded(file, sample_rate)
        cache.store(key, samples)
    return OwnSound(file=file, samples=samples, sample_rate=sample_rate)


def content_digest(file: SoundFile) -> str:
    """A digest of what *file* holds (what a session made with it depends on), or SettingsError
    saying why it cannot be read."""
    try:
        mode = file.path.stat().st_mode
        if not stat.S_ISREG(mode):
            kind = "a folder" if stat.S_ISDIR(mode) else "not a regular file"
            raise _problem(file, f"{file} is {kind}; {NAME_AUDIO}")
        if file.path.stat().st_size > MAX_FILE_BYTES:
            raise _problem(
                file,
                f"{file} is over {MAX_FILE_BYTES // (1024 * 1024)} MB, far more than a sound of at most "
                f"{duration(MAX_MS)}; name a short sound",
            )
        digest = hashlib.sha256()
        with file.path.open("rb") as opened:
            while block := opened.read(1 << 20):
                digest.update(block)
    except FileNotFoundError:
        raise _problem(file, f"there is no file {file}{_relative_hint(file)}") from None
    except OSError as error:
        raise _problem(file, f"cannot read {file}: {error.strerror or error}") from None
    return digest.hexdigest()


def _relative_hint(file: SoundFile) -> str:
    return (
        "; check the path (a relative path is taken from the folder of the plan or profile that "
        "names it, or from the current folder for --set)"
    )


def _problem(file: SoundFile, what: str) -> SettingsError:
    return SettingsError(f"{file.where}: {what}")


def _decoded(file: SoundFile, sample_rate: int) -> bytes:
    """The first audio stream of *file*, mono at *sample_rate*, from its onset to its end, at
    DECODED_PEAK; SettingsError where it is no sound for a cue."""
    import numpy as np

    command = [ffmpeg_path(), "-hide_banner", "-loglevel", "error", "-nostdin",
               "-i", os.fsdecode(file.path), "-map", "0:a:0", "-t", str(DECODED_SECONDS),
               "-ac", "1", "-ar", str(sample_rate), "-f", "f32le", "-"]  # fmt: skip
    try:
        result = subprocess.run(command, capture_output=True, check=False)
    except OSError as error:
        raise AudioError(f"cannot run ffmpeg: {error.strerror or error}") from None
    if result.returncode != 0:
        errors = result.stderr.decode(errors="replace").strip()
        if "matches no streams" in errors:
            raise _problem(file, f"{file} holds no audio; {NAME_AUDIO}")
        last = (errors.splitlines() or ["no details"])[-1]
        raise _problem(file, f"ffmpeg cannot read {file} as audio ({last}); {NAME_AUDIO}")
    samples = np.frombuffer(result.stdout, dtype="<f4").astype(np.float64)
    samples = samples[np.isfinite(samples)]
    peak = float(np.abs(samples).max(initial=0.0))
    if not samples.size or dbtp(peak) < SILENT_DBFS:
        what = "holds no sound" if not samples.size else "is silent"
        raise _problem(file, f"{file} {what}; name a file that sounds")
    loud = np.flatnonzero(np.abs(samples) >= peak * 10 ** (ONSET_DB / 20))
    heard = np.flatnonzero(np.abs(samples) >= peak * 10 ** (END_DB / 20))
    sound = samples[loud[0] : heard[-1] + 1]
    length_ms = len(sound) * 1000 // sample_rate
    if length_ms > MAX_MS:
        raise _problem(
            file,
            f"{file} lasts {seconds(length_ms)} without its silences; a cue's sound may last at most "
            f"{duration(MAX_MS)}: cut it shorter (ffmpeg -i IN -t 2 OUT cuts it to 2 s) or name "
            "another",
        )
    return _pcm(sound * (DECODED_PEAK / peak))


def _pcm(samples: np.ndarray) -> bytes:
    import numpy as np

    return bytes(np.clip(np.round(samples * 32768), -32768, 32767).astype("<i2").tobytes())


def levelled(
    sound: OwnSound, *, rms_dbfs: float, speech_level_dbfs: float, cache: SpeechCache | None = None
) -> bytes:
    """*sound*'s samples at *rms_dbfs* (RMS, as the tones are set), their true peak limited to
    PEAK_OVER_SPEECH_DB over *speech_level_dbfs*; as long as *sound*. From *cache* where it has
    them."""
    cache = cache or sounds_cache()
    ceiling = min(speech_level_dbfs + PEAK_OVER_SPEECH_DB, -1.0)
    key = cache.key(
        text=hashlib.sha256(sound.samples).hexdigest(),
        voice=f"levelled {rms_dbfs:.2f} dBFS, peaks {ceiling:.2f} dBTP",
        rate=0,
        sample_rate=sound.sample_rate,
    )
    kept = cache.load(key)
    if kept is not None and len(kept) == len(sound.samples):
        return kept
    data = _levelled(sound, rms_dbfs=rms_dbfs, ceiling_dbtp=ceiling)
    cache.store(key, data)
    return data


def _levelled(sound: OwnSound, *, rms_dbfs: float, ceiling_dbtp: float) -> bytes:
    import numpy as np

    samples = np.frombuffer(sound.samples, dtype="<i2").astype(np.float64) / 32768
    # As speech is (loudness.level_phrases): limiting takes off some of the RMS, levelling again
    # puts back some of the peaks; after the rounds, the limit comes last.
    for _ in range(LEVEL_ROUNDS):
        samples = samples * 10 ** ((rms_dbfs - _rms_dbfs(samples)) / 20)
        if dbtp(true_peak(samples)) <= ceiling_dbtp:
            break
        samples = _limited(samples, ceiling_dbtp, sound.sample_rate)
    return _pcm(samples)


def _rms_dbfs(samples: np.ndarray) -> float:
    import numpy as np

    return 20 * math.log10(max(float(np.sqrt(np.mean(np.square(samples)))), 1e-9))


def _limited(samples: np.ndarray, ceiling_dbtp: float, sample_rate: int) -> np.ndarray:
    """*samples* through the clip limiter (truepeak.limiter) at *ceiling_dbtp*, in floats (nothing
    clips before the limiter), every sample where it was."""
    import numpy as np

    pad = np.zeros(sample_rate * LIMIT_PAD_MS // 1000)
    raw = ["-f", "f32le", "-ar", str(sample_rate), "-ac", "1"]
    command = [ffmpeg_path(FfmpegNeed.LIMITER), "-hide_banner", "-loglevel", "error", *raw,
               "-i", "pipe:0", "-af", limiter(ceiling_dbtp, sample_rate), *raw, "-"]  # fmt: skip
    source = np.concatenate([pad, samples, pad]).astype("<f4").tobytes()
    result = subprocess.run(command, input=source, capture_output=True, check=False)
    if result.returncode != 0 or len(result.stdout) != len(source):
        errors = result.stderr.decode(errors="replace").strip()
        raise AudioError(f"ffmpeg could not limit a sound's peaks: {errors or 'no details'}")
    out = np.frombuffer(result.stdout, dtype="<f4").astype(np.float64)
    return out[len(pad) : len(pad) + len(samples)]
