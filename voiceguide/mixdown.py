"""Assemble a timeline into the session's samples, as a stream of chunks.

Phrases come levelled (see loudness.py), each tone is made once at its level relative to speech,
and every event is placed at its sample offset. The session is produced chunk by chunk,
so a long session never sits in memory whole (and no AudioSegment is grown with `+=`, whose copies
make assembly quadratic); it can be read in parts at once (see mp3.py).
"""

from __future__ import annotations

import copy
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from voiceguide.externals import audio_segment
from voiceguide.loudness import SPEECH_RMS_DBFS
from voiceguide.timeline import EventKind, Timeline, Tone
from voiceguide.tones import tone

if TYPE_CHECKING:
    from pydub import AudioSegment

SAMPLE_WIDTH = 2
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
    data: bytes | memoryview
    """A view into the phrase's or tone's one copy: a phrase said a thousand times is not copied."""


class Mixdown:
    """The session's samples (mono, 16-bit), ready to be streamed in chunks as often as needed."""

    def __init__(
        self,
        *,
        timeline: Timeline,
        phrases: Mapping[str, bytes],
        sample_rate: int,
        volume: float = 1.0,
        beep_level_db: float = -3.0,
        speech_level_dbfs: float = SPEECH_RMS_DBFS,
    ) -> None:
        """*phrases* are the levelled samples of each phrase; *volume* (0.1 to 1) scales speech;
        *beep_level_db* sets the beeps against speech."""
        self.sample_rate = sample_rate
        self.frames = frame_at(timeline.total_ms, sample_rate)
        gain_db = 20 * math.log10(volume)
        beep_peak_dbfs = speech_level_dbfs + beep_level_db + 3.0  # a sine's peak is 3 dB over its RMS
        voiced: dict[str, bytes] = {}
        tones: dict[tuple[Tone, int], bytes] = {}  # each made once, like the phrases
        self._clips: list[bytes] = []
        numbers: dict[int, int] = {}  # a clip's number, by the identity of its one copy
        self._placed: list[_Placed] = []
        for event in timeline.events:
            if event.kind is EventKind.SILENCE:
                continue
            start = frame_at(event.start_ms, sample_rate)
            room = (frame_at(event.end_ms, sample_rate) - start) * SAMPLE_WIDTH
            if event.kind is EventKind.TONE:
                assert event.tone is not None
                key = (event.tone, event.duration_ms)
                data = tones.get(key, b"")
                if not data:
                    data = tones[key] = tone(event.tone, event.duration_ms, sample_rate, beep_peak_dbfs).raw_data
            else:
                assert event.text is not None
                data = voiced.get(event.text, b"")
                if not data:
                    data = voiced[event.text] = _gained(phrases[event.text], gain_db, sample_rate)
                if event.clipped_ms:
                    data = _faded_cut(data, event.duration_ms, sample_rate)
            number = numbers.setdefault(id(data), len(self._clips))
            if number == len(self._clips):
                self._clips.append(data)
            self._placed.append(_Placed(start, number, memoryview(data)[:room]))

    @property
    def clips(self) -> Sequence[bytes]:
        """Each distinct clip (a phrase, a phrase cut short, a tone) once, whole, in order of first use."""
        return self._clips

    def with_clips(self, clips: Sequence[bytes]) -> Mixdown:
        """The same session with other samples for its clips (as many, each as long), at the same places."""
        if [len(clip) for clip in clips] != [len(clip) for clip in self._clips]:
            raise ValueError("each clip must keep its length, so that every cue keeps its sample")
        changed = copy.copy(self)
        changed._clips = list(clips)
        changed._placed = [
            _Placed(item.start, item.clip, memoryview(changed._clips[item.clip])[: len(item.data)])
            for item in self._placed
        ]
        return changed

    def peaks(self) -> list[int]:
        """The largest sample magnitude of each clip (16-bit steps)."""
        import audioop  # (pydub's own dependency; audioop-lts from Python 3.13)

        return [audioop.max(clip, SAMPLE_WIDTH) if clip else 0 for clip in self._clips]

    @property
    def duration_ms(self) -> int:
        return self.frames * 1000 // self.sample_rate

    def placed(self) -> Iterator[tuple[int, bytes | memoryview]]:
        """Each clip (phrase or tone) with the frame it starts at, in time order."""
        return ((item.start, item.data) for item in self._placed)

    def silences(self) -> list[tuple[int, int]]:
        """The (start, end) frame ranges where nothing sounds."""
        gaps, position = [], 0
        for item in self._placed:
            if item.start > position:
                gaps.append((position, item.start))
            position = max(position, item.start + len(item.data) // SAMPLE_WIDTH)
        if position < self.frames:
            gaps.append((position, self.frames))
        return gaps

    def chunks(self, start_frame: int = 0, end_frame: int | None = None) -> Iterator[bytes]:
        """The samples from *start_frame* to *end_frame* (the end of the session), in chunks."""
        end_frame = self.frames if end_frame is None else end_frame
        size = CHUNK_SECONDS * self.sample_rate
        placed = iter(self._placed)
        upcoming = next(placed, None)
        active: list[_Placed] = []
        for begin in range(start_frame, end_frame, size):
            stop = min(begin + size, end_frame)
            while upcoming is not None and upcoming.start < stop:
                active.append(upcoming)
                upcoming = next(placed, None)
            buffer = bytearray((stop - begin) * SAMPLE_WIDTH)
            for item in active:
                first = max(item.start, begin)
                last = min(item.start + len(item.data) // SAMPLE_WIDTH, stop)
                if first < last:
                    source = (first - item.start) * SAMPLE_WIDTH
                    buffer[(first - begin) * SAMPLE_WIDTH : (last - begin) * SAMPLE_WIDTH] = item.data[
                        source : source + (last - first) * SAMPLE_WIDTH
                    ]
            active = [item for item in active if item.start + len(item.data) // SAMPLE_WIDTH > stop]
            yield bytes(buffer)


def _segment(data: bytes, sample_rate: int) -> AudioSegment:
    return audio_segment()(data=data, sample_width=SAMPLE_WIDTH, frame_rate=sample_rate, channels=1)


def _gained(data: bytes, gain_db: float, sample_rate: int) -> bytes:
    if not gain_db:
        return data
    gained: bytes = _segment(data, sample_rate).apply_gain(gain_db).raw_data
    return gained


def _faded_cut(data: bytes, duration_ms: int, sample_rate: int) -> bytes:
    cut: bytes = _segment(data, sample_rate)[:duration_ms].fade_out(min(CUT_FADE_MS, duration_ms)).raw_data
    return cut
