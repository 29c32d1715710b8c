"""The session's level as its listener hears it: the loudness target and the true-peak ceiling held
in the file written, through its encoder.

Encoding changes both. A lossy encoder drops what it cannot afford (LAME at 64 kbps low-passes, Opus
at 48 kbps narrows its band), and K-weighting weighs the highs, so a decoded file measures up to
about half a LU under the samples it was made from, by how much of the voice lies in the highs. Its
quantization noise adds to the peaks, by a dB or two, more in places, by where a clip falls in the
encoder's frames.

- Loudness: every distinct clip (or its first second: see EXCERPT_MS) passes once through the
  encoder the file is written with (the same code, export.write_audio), apart from the others, and
  is decoded again; the share of its K-weighted energy that comes back is the share heard. The
  meter of placed clips counts each clip at its share, so the gain goes to the loudness of what is
  heard. A clip's share hardly depends on where it falls in the encoder's frames or on its level
  (within a hundredth of a dB), as long as nothing clips: it is measured at a level where nothing does.
- Peaks: a clip whose peak after the gain could pass the ceiling less the format's HEADROOM_DB is
  limited at that level, on its own (its samples stay where they were), and the gain found again
  for what the limiting took off. No headroom bounds a codec's overshoot everywhere, so the file
  written is decoded and its true peak taken; where it was heard over the ceiling, the session is
  made quieter for a tenth of a second, by what it was over and a margin, and the file written
  again (still before it replaces anything).

With music under the voice, ffmpeg's meter measures the whole session and the limiter works on it
whole; the encoder's effect on the voice's loudness is taken for its effect on the session's.
"""

from __future__ import annotations

import math
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from voiceguide.output.export import Encoding, Source, Tags, write_audio
from voiceguide.output.formats import AudioFormat
from voiceguide.sound import truepeak
from voiceguide.sound.clipstore import Clips, batches
from voiceguide.sound.loudness import integrated_loudness, placed_loudness, weighted_energy
from voiceguide.sound.mixdown import CHUNK_SECONDS, Mixdown, lay_out
from voiceguide.sound.speechcache import SpeechCache

CEILING_DBTP = -1.0
"""The highest true peak of a session file, as decoded."""
HEADROOM_DB = {
    AudioFormat.MP3: 1.5,
    AudioFormat.M4A: 1.5,
    AudioFormat.OPUS: 1.5,
    AudioFormat.WAV: 0.2,
}
"""How far under the ceiling clips are limited before encoding: about what a codec's overshoot stays
within over most of a session (for WAV, what the limiter's resampling may leave)."""
INTERSAMPLE_DB = 0.5
"""How far over a clip's highest sample its true peak is taken to reach, in deciding whether to limit
it (levelled speech at 22.05 kHz: a few tenths of a dB)."""
MARGIN_DB = 0.5
"""How much further under the ceiling than it was over a place heard over it is made quieter."""
METER_MARGIN_DB = 0.2
"""How far under the ceiling a file's true peak is held, as this module measures it: meters that
interpolate otherwise (ffmpeg's resamples to 192 kHz) read a tenth of a dB or two apart."""
CHECK_ROUNDS = 3
"""Times a file may be written again for its peaks (the last time quieter as a whole)."""
MOST_DIPPED = 0.02
"""The share of a file's length that may be made quieter in dips (see Mastering.check): a long
session whose phrases recur (a count said hundreds of times) may overshoot in many places, each
dipped for 0.12 s, which takes off hundredths of a LU; past this share, the codec overshoots the
session throughout, and it is made quieter as a whole."""
GAIN_ROUNDS = 6
TOLERANCE_LU = 0.02
MIN_SLOPE = 0.1
"""The least the heard loudness is taken to rise for a dB of gain, however hard the clips are limited."""
MOST_LIMITING_DB = 6.0
"""The most any clip is limited by to reach the target. Levelled speech has its peaks limited
already: each further dB of limiting takes most of a dB of loudness with it (at 6 dB, 4.5 LU), so
a target much louder than -16 LUFS is more distortion than loudness."""
LIMIT_STEP_DB = 0.1
"""Limits are taken on this grid, so that a small change of gain changes no limit."""
GAP_MS = 500
"""Silence between clips passing through the encoder together: more than any codec's frame and delay."""
SPREAD_MS = 50
"""How far either side of a peak over the ceiling the session is made quieter (a codec smears sound
over its frame: LAME's and AAC's last 26 and 46 ms at 22.05 kHz, Opus's 20 ms)."""
RAMP_MS = 10
"""How long a dip takes to fade in and out: short against a syllable, long enough not to click."""
EXCERPT_MS = {AudioFormat.MP3: 1000, AudioFormat.M4A: 1000}
"""How much of each clip passes through the encoder: through LAME and AAC, its share heard is that
of any second of it (within a tenth of a dB, a hundredth of a LU over a session). Opus narrows its
band in silence and widens it again over the next second or so, so that a clip's first second is
heard less of than the whole clip (by 0.15 LU over a session): through Opus, clips pass whole."""
LIMITING_BATCH_SECONDS = 120
"""Clips pass through the limiter (see truepeak.limited) this much at a time, at most (a longer clip
alone): enough for few runs of ffmpeg, and a bound on the memory they take however many clips
there are."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Dip:
    """The session made *gain_db* (negative) quieter from frame *first* to frame *last*."""

    first: int
    last: int
    gain_db: float


class Mastering:
    """A session's gain and its clips' limits for what is heard through *encoding*, and the check of
    each file written (see check). With *music*, the samples of the whole session to be measured."""

    def __init__(
        self,
        mixdown: Mixdown,
        *,
        target_lufs: float,
        encoding: Encoding,
        cores: int = 1,
        music: Callable[[], Iterator[bytes]] | None = None,
        limited_cache: SpeechCache | None = None,
    ) -> None:
        """*limited_cache* keeps the clips limited for the gain between builds (see
        truepeak.limited_clips_cache)."""
        self._limited_cache = limited_cache
        self._original = mixdown
        self._rate = mixdown.sample_rate
        self._target = target_lufs
        aim = CEILING_DBTP - HEADROOM_DB[encoding.format]
        self.limit_dbtp: float | None = aim if music else None
        """The ceiling of the limiter on the whole session (with music), in dBTP after the gain."""
        self._aims = [aim] * len(mixdown.clips)
        self._peaks = [truepeak.dbtp(peak / 32768) + INTERSAMPLE_DB for peak in mixdown.peaks()]
        self._most = aim - max(self._peaks, default=aim) + MOST_LIMITING_DB
        """The most gain there is: the loudest clip limited by MOST_LIMITING_DB under the aim."""
        self._limited: dict[tuple[int, float], int] = {}
        """The clips limited so far, by clip and limit: their numbers in the store."""
        self.mixdown = mixdown
        self.dips: list[Dip] = []
        """Where the session is made briefly quieter, for a codec's overshoot there (see check)."""
        self.rounds = 0
        self.loudness_lufs = target_lufs
        """The loudness the session is heard at: the target, unless the ceiling keeps it quieter."""
        voice = self._loudness(mixdown)
        self.gain_db = target_lufs - (
            integrated_loudness(music(), sample_rate=self._rate) if music else voice
        )
        self._shares = [1.0] * len(mixdown.clips)
        if encoding.format is not AudioFormat.WAV:
            # Measured where no clip is clipped (the share hardly depends on the level; clipping
            # changes it).
            level = min(self.gain_db, aim - max(self._peaks, default=aim))
            self._shares = heard_shares(
                mixdown.clips, sample_rate=self._rate, gain_db=level, encoding=encoding, cores=cores
            )
        if music:
            # The encoder's effect on the voice, taken for its effect on the session.
            self.gain_db -= self._loudness(mixdown, heard=True) - voice
            return
        self._settle()

    def _loudness(self, mixdown: Mixdown, *, heard: bool = False) -> float:
        """The loudness of *mixdown* before the gain; *heard*: each clip at its share heard."""
        shares = self._shares if heard else None
        return placed_loudness(
            mixdown.clips,
            mixdown.placed(),
            frames=mixdown.frames,
            sample_rate=self._rate,
            shares=shares,
        )

    def _settle(self) -> None:
        """The gain to the target for what is heard, each clip limited at its aim after that gain.

        Without limiting, the loudness moves with the gain dB for dB, and one measurement gives the
        gain. Where clips are limited, more gain is partly taken off again: the gain is then found
        by the secant method, in a few rounds, up to the gain that would limit some clip by
        MOST_LIMITING_DB under the format's aim (the session then stays quieter than the target: see
        loudness_lufs)."""
        self.gain_db = min(self.gain_db, self._most)
        limits = self._limits()
        self.mixdown = self._limit()
        tried: list[tuple[float, float]] = []  # (gain, loudness heard at it)
        for _ in range(GAIN_ROUNDS):
            gain = self.gain_db
            self.loudness_lufs = gain + self._loudness(self.mixdown, heard=True)
            tried.append((gain, self.loudness_lufs))
            slope = 1.0
            if len(tried) > 1 and tried[-2][0] != gain:
                slope = max(MIN_SLOPE, (self.loudness_lufs - tried[-2][1]) / (gain - tried[-2][0]))
            self.gain_db = min(gain + (self._target - self.loudness_lufs) / slope, self._most)
            if self._limits() == limits:  # (then the loudness moves with the gain dB for dB)
                self.loudness_lufs += self.gain_db - gain
                return
            if abs(self._target - self.loudness_lufs) <= TOLERANCE_LU or self.gain_db == gain:
                self.gain_db = gain  # (as near as it gets, with these limits)
                return
            limits = self._limits()
            self.mixdown = self._limit()
        self.loudness_lufs = self.gain_db + self._loudness(self.mixdown, heard=True)

    def _limits(self) -> list[float | None]:
        """Each clip's limit before the gain (dBFS, on a grid of LIMIT_STEP_DB), or None where its
        peak stays under its aim."""
        limits: list[float | None] = []
        for aim, peak in zip(self._aims, self._peaks, strict=True):
            limit = aim - self.gain_db
            limits.append(
                round(math.floor(limit / LIMIT_STEP_DB) * LIMIT_STEP_DB, 3)
                if peak > limit
                else None
            )
        return limits

    def _limit(self) -> Mixdown:
        """The session with each clip at its limit (see _limits), each clip limited once at each limit."""
        limits = self._limits()
        clips = self._original.clips
        wanted = [
            n
            for n, limit in enumerate(limits)
            if limit is not None and (n, limit) not in self._limited
        ]
        for batch in batches(wanted, clips.frames, LIMITING_BATCH_SECONDS * self._rate):
            ceilings = [limits[n] for n in batch]
            limited = truepeak.limited(
                [clips[n] for n in batch], ceilings, sample_rate=self._rate,
                cache=self._limited_cache,
            )  # fmt: skip
            for n, ceiling, data in zip(batch, ceilings, limited, strict=True):
                assert ceiling is not None
                self._limited[n, ceiling] = clips.store.add(data)
        return self._original.with_clips(
            [
                clips.numbers[n] if limit is None else self._limited[n, limit]
                for n, limit in enumerate(limits)
            ]
        )

    def check(self, path: Path, *, first_frame: int = 0, frames: int | None = None) -> bool:
        """Whether the file at *path* (the session's frames from *first_frame*, *frames* of them) keeps
        its true peak under the ceiling. If not, False is returned, and the file is to be written
        again from mixdown (see dipped), gain_db and limit_dbtp.

        With music, the limiter on the whole session is set lower. Without, the session is made
        quieter, briefly, where it was heard over the ceiling, by as much as it was over and a
        margin (a dip): a codec's overshoot there is noise it made of the samples in its frames,
        whose share of them hardly changes with their level, so a dip lowers it dB for dB while the
        loudness hardly moves (a dip of 1 dB over 0.1 s in a 5-minute session takes off 0.0003 LU).
        Where the dips would cover more than MOST_DIPPED of the file, or in the last of
        CHECK_ROUNDS, the whole session is made quieter by the most any was over and the margin, and
        the loudness it is heard at lowered as much. After CHECK_ROUNDS, the file written is taken
        as it is."""
        ceiling = CEILING_DBTP - METER_MARGIN_DB
        over, decoded = truepeak.file_peaks_over(path, ceiling)
        if not over or self.rounds == CHECK_ROUNDS:
            return True
        self.rounds += 1
        worst = max(level for _, level in over) - ceiling + MARGIN_DB
        if self.limit_dbtp is not None:
            self.limit_dbtp -= worst
            return False
        frames = self._original.frames - first_frame if frames is None else frames
        spread = self._rate * SPREAD_MS // 1000
        dipped = (len(self.dips) + len(over)) * (2 * spread + 2 * self._rate * RAMP_MS // 1000)
        if dipped > MOST_DIPPED * frames or self.rounds == CHECK_ROUNDS:
            self.gain_db -= worst
            self.loudness_lufs -= worst
            return False
        per_frame = decoded / max(1, frames)
        for at, level in over:
            centre = first_frame + int(at / per_frame)
            self.dips.append(
                Dip(
                    first=centre - spread, last=centre + spread, gain_db=ceiling - level - MARGIN_DB
                )
            )
        return False

    def dipped(self, chunks: Iterable[bytes], start: int) -> Iterator[bytes]:
        """*chunks* of the session's samples from frame *start*, made quieter at each of its dips
        (see check), which fade in and out over RAMP_MS."""
        import numpy as np

        if not self.dips:
            yield from chunks
            return
        ramp = max(1, self._rate * RAMP_MS // 1000)
        position = start
        for chunk in chunks:
            end = position + len(chunk) // 2
            here = [
                dip for dip in self.dips if dip.last + ramp > position and dip.first - ramp < end
            ]
            if not here:  # (most chunks: passed on as they are)
                yield chunk
                position = end
                continue
            frames = np.arange(position, end)
            gains = np.ones(len(frames))
            for dip in here:
                # 1 inside the dip's span, falling to 0 over the ramp either side of it
                depth = np.clip(1 - np.maximum(dip.first - frames, frames - dip.last) / ramp, 0, 1)
                gains *= 10 ** (dip.gain_db * depth / 20)
            yield np.round(np.frombuffer(chunk, dtype="<i2") * gains).astype("<i2").tobytes()
            position = end


def heard_shares(
    clips: Clips, *, sample_rate: int, gain_db: float, encoding: Encoding, cores: int = 1
) -> list[float]:
    """The share of each clip's K-weighted energy that comes back from *encoding* and decoding, the
    clips made *gain_db* louder as they will be in the file: of the first EXCERPT_MS of each, all
    passing through the encoder together, with silence between. The clips are read as they are
    encoded, and the decoded file as it is decoded: neither is held whole."""
    excerpt = EXCERPT_MS.get(encoding.format)
    longest = sample_rate * excerpt // 1000 if excerpt is not None else None
    lengths = [
        clips.frames(n) if longest is None else min(longest, clips.frames(n))
        for n in range(len(clips))
    ]
    gap = sample_rate * GAP_MS // 1000
    starts, position = [], gap
    for length in lengths:
        starts.append(position)
        position += length + gap
    placed = list(zip(starts, range(len(clips)), lengths, strict=True))
    ends = [start + length for start, length in zip(starts, lengths, strict=True)]
    source = Source(
        sample_rate=sample_rate,
        frames=position,
        read=lambda first, last: lay_out(
            placed, clips.read, first, last, CHUNK_SECONDS * sample_rate
        ),
        silences=[(0, gap), *zip(ends, [*starts[1:], position], strict=True)],
    )
    scale = 10 ** (round(gain_db, 2) / 10)
    shares = []
    with tempfile.TemporaryDirectory(prefix="voiceguide-") as scratch:
        path = Path(scratch) / f"clips.{encoding.format.value}"
        write_audio(source, path, encoding=encoding, tags=Tags(title="", artist="", album=""), gain_db=gain_db,
                    cores=cores)  # fmt: skip
        with truepeak.Decoded(path, sample_rate=sample_rate) as back:
            for start, end, length, number in zip(
                starts, ends, lengths, range(len(clips)), strict=True
            ):
                sent = weighted_energy(clips.read(number, 0, length), sample_rate) * scale
                window = back.samples(max(0, start - gap // 2), end + gap // 2)
                shares.append(weighted_energy(window, sample_rate) / sent if sent > 0 else 1.0)
    return shares
