"""Assemble a timeline into the session's samples, as a stream of chunks.

Phrases come levelled (see loudness.py), each tone is made once at its level relative to speech,
and every event is placed at its sample offset. Each distinct clip is kept once, in the session's
clip store on disk (see clipstore.py), and read from it as the chunks that need it are made: the
session is produced chunk by chunk, so neither a long session nor one of many phrases sits in
memory whole (and no AudioSegment is grown with `+=`, whose copies make assembly quadratic); it
can be read in parts at once (see mp3.py).
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from voiceguide.common.externals import audio_segment
from voiceguide.plans.settings import default
from voiceguide.script.timeline import EventKind, Timeline, Tone
from voiceguide.sound.clipstore import SAMPLE_WIDTH, Clips, ClipStore
from voiceguide.sound.loudness import SPEECH_RMS_DBFS
from voiceguide.sound.tones import tone

if TYPE_CHECKING:
    from pydub import AudioSegment

__all__ = ["SAMPLE_WIDTH", "Mixdown", "frame_at", "lay_out"]

CUT_FADE_MS = 30
"""A phrase cut short by an overrun fades out instead of stopping with a click."""
CHUNK_SECONDS = 10


def frame_at(ms: int, sample_rate: int) -> int:
    return ms * sample_rate // 1000


@dataclass(frozen=True, slots=True)
class _Placed:
    start: int
    """First frame."""
    clip: int
    """Which of the session's distinct clips (Mixdown.clips) is placed here."""
    frames: int
    """How much of it sounds here (up to the end of its event)."""


class Mixdown:
    """The session's samples (mono, 16-bit), ready to be streamed in chunks as often as needed."""

    def __init__(
        self,
        *,
        timeline: Timeline,
        phrases: Mapping[str, int],
        store: ClipStore,
        sample_rate: int,
        volume: float = default("volume"),
        beep_level_db: float = default("beep_level"),
        speech_level_dbfs: float = SPEECH_RMS_DBFS,
        sounds: Mapping[Tone, int] | None = None,
    ) -> None:
        """*phrases* are the numbers in *store* of each phrase's levelled samples; *volume* (0.1 to 1)
        scales speech; *beep_level_db* sets the beeps against speech. *sounds* are the numbers in
        *store* of the cues' own sounds, levelled (see ownsounds.py), sounded instead of their
        tones. The clips made here (phrases at the volume, cut short; tones) are added to *store*."""
        sounds = sounds or {}
        self.sample_rate = sample_rate
        self.frames = frame_at(timeline.total_ms, sample_rate)
        gain_db = 20 * math.log10(volume)
        beep_peak_dbfs = (
            speech_level_dbfs + beep_level_db + 3.0
        )  # a sine's peak is 3 dB over its RMS
        # Each made once, by its number in the store.
        voiced: dict[str, int] = {}
        cut: dict[tuple[int, int], int] = {}
        tones: dict[tuple[Tone, int], int] = {}
        numbers: list[int] = []  # by the clip's place here, its number in the store
        places: dict[int, int] = {}  # the reverse
        self._placed: list[_Placed] = []
        for event in timeline.events:
            if event.kind is EventKind.SILENCE:
                continue
            start = frame_at(event.start_ms, sample_rate)
            room = frame_at(event.end_ms, sample_rate) - start
            own = sounds.get(event.tone) if event.tone is not None else None
            made = event.kind is EventKind.TONE and own is None
            if own is not None:
                number = own
            elif event.kind is EventKind.TONE:
                assert event.tone is not None
                key = (event.tone, event.duration_ms)
                if key not in tones:
                    tones[key] = store.add(
                        tone(event.tone, event.duration_ms, sample_rate, beep_peak_dbfs).raw_data
                    )
                number = tones[key]
            else:
                assert event.text is not None
                if event.text not in voiced:
                    said = phrases[event.text]
                    voiced[event.text] = (
                        store.add(_gained(store.read(said), gain_db, sample_rate))
                        if gain_db
                        else said
                    )
                number = voiced[event.text]
            # A phrase or an own sound cut at the next fixed cue (a tone is made as long as it
            # sounds).
            if event.clipped_ms and not made:
                if (number, event.duration_ms) not in cut:
                    shortened = _faded_cut(store.read(number), event.duration_ms, sample_rate)
                    cut[number, event.duration_ms] = store.add(shortened)
                number = cut[number, event.duration_ms]
            place = places.setdefault(number, len(numbers))
            if place == len(numbers):
                numbers.append(number)
            self._placed.append(_Placed(start, place, min(store.frames(number), room)))
        self._clips = Clips(store, numbers)

    @property
    def clips(self) -> Clips:
        """Each distinct clip (a phrase, a phrase cut short, a tone) once, whole, in order of first
        use."""
        return self._clips

    @property
    def store(self) -> ClipStore:
        return self._clips.store

    def with_clips(self, numbers: Sequence[int]) -> Mixdown:
        """The same session with other samples for its clips (their *numbers* in the store, as many,
        each as long), at the same places."""
        clips = Clips(self.store, numbers)
        if [clips.frames(n) for n in range(len(clips))] != [
            self._clips.frames(n) for n in range(len(self._clips))
        ]:
            raise ValueError("each clip must keep its length, so that every cue keeps its sample")
        changed = copy.copy(self)
        changed._clips = clips
        return changed

    def peaks(self) -> list[int]:
        """The largest sample magnitude of each clip (16-bit steps)."""
        import audioop  # (pydub's own dependency; audioop-lts from Python 3.13)

        return [audioop.max(clip, SAMPLE_WIDTH) if clip else 0 for clip in self._clips]

    @property
    def duration_ms(self) -> int:
        return self.frames * 1000 // self.sample_rate

    def placed(self) -> Iterator[tuple[int, int, int]]:
        """Each placing of a clip, in time order: the frame it starts at, the clip (its index in
        clips) and how many of its frames sound there."""
        return ((item.start, item.clip, item.frames) for item in self._placed)

    def silences(self) -> list[tuple[int, int]]:
        """The (start, end) frame ranges where nothing sounds."""
        gaps, position = [], 0
        for item in self._placed:
            if item.start > position:
                gaps.append((position, item.start))
            position = max(position, item.start + item.frames)
        if position < self.frames:
            gaps.append((position, self.frames))
        return gaps

    def chunks(self, start_frame: int = 0, end_frame: int | None = None) -> Iterator[bytes]:
        """The samples from *start_frame* to *end_frame* (the end of the session), in chunks."""
        end_frame = self.frames if end_frame is None else end_frame
        return lay_out(
            self.placed(),
            self._clips.read,
            start_frame,
            end_frame,
            CHUNK_SECONDS * self.sample_rate,
        )


def lay_out(
    placed: Iterable[tuple[int, int, int]],
    read: Callable[[int, int, int], bytes],
    start_frame: int,
    end_frame: int,
    chunk_frames: int,
) -> Iterator[bytes]:
    """Frames *start_frame* to *end_frame* of clips *placed* in time order (first frame, clip, frames
    of it) with silence between, in chunks of *chunk_frames*; read(clip, first, last) gives a clip's
    frames from *first* to *last*."""
    upcoming = iter(placed)
    following = next(upcoming, None)
    active: list[tuple[int, int, int]] = []
    for begin in range(start_frame, end_frame, chunk_frames):
        stop = min(begin + chunk_frames, end_frame)
        while following is not None and following[0] < stop:
            active.append(following)
            following = next(upcoming, None)
        buffer = bytearray((stop - begin) * SAMPLE_WIDTH)
        for start, clip, frames in active:
            first, last = max(start, begin), min(start + frames, stop)
            if first < last:
                buffer[(first - begin) * SAMPLE_WIDTH : (last - begin) * SAMPLE_WIDTH] = read(
                    clip, first - start, last - start
                )
        active = [item for item in active if item[0] + item[2] > stop]
        yield bytes(buffer)


def _segment(data: bytes, sample_rate: int) -> AudioSegment:
    return audio_segment()(data=data, sample_width=SAMPLE_WIDTH, frame_rate=sample_rate, channels=1)


def _gained(data: bytes, gain_db: float, sample_rate: int) -> bytes:
    if not gain_db:
        return data
    gained: bytes = _segment(data, sample_rate).apply_gain(gain_db).raw_data
    return gained


def _faded_cut(data: bytes, duration_ms: int, sample_rate: int) -> bytes:
    cut: bytes = (
        _segment(data, sample_rate)[:duration_ms].fade_out(min(CUT_FADE_MS, duration_ms)).raw_data
    )
    return cut
