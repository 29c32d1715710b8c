"""MP3 on every core: LAME (through lameenc) encodes parts of a session at once, and the parts join
into one gapless stream behind a LAME Info tag.

ffmpeg encodes MP3 with the same LAME on one core, and hands every 26 ms frame between threads on
the way. Here each part has an encoder of its own in a thread (lameenc lets go of the GIL), and the
parts are joined frame to frame:

- A fresh LAME stream owes nothing to earlier frames (its bit reservoir starts empty), so parts can
  follow one another in one file.
- LAME makes exactly ceil((n + 1152) / F) frames of F samples from n samples: 576 of priming, 576
  of look-ahead and the padding to a whole frame. A part that ends at sample S - 1152, where S is a
  multiple of F, so fills S / F frames, and the next part starts at S: every sample decodes where
  it belongs. The 1152 samples left out, and the ends of the parts, lie in silence (see cut_points),
  so nothing audible changes at a join.
- One Info tag at the front tells decoders the frame count, the priming (576) and the last part's
  padding, which gapless players and ffmpeg trim, as they do for a file ffmpeg writes.
"""

from __future__ import annotations

import contextlib
import struct
import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from voiceguide.common.errors import AudioError

ENCODER_DELAY = 576
"""Samples of priming LAME puts before the first sample (decoders add 529 of their own)."""
LOOKAHEAD = 576
"""Samples LAME reads past the last frame it makes (its MDCT's overlap)."""
QUALITY = 3
"""LAME's own default, which ffmpeg keeps: lameenc would otherwise use 2, half again as slow."""
JOIN_SILENCE_MS = 100
"""Silence each join keeps on both sides, beyond the samples left out, so that no frame near it
holds sound."""
SHORTEST_PART_SECONDS = 20
"""Shorter sessions are not worth more than one encoder."""
CRC_ROW = 1024
"""Bytes per row when numpy takes the CRC of many rows at once (see crc16)."""

_RATES = {3: (44_100, 48_000, 32_000), 2: (22_050, 24_000, 16_000), 0: (11_025, 12_000, 8_000)}
"""Sample rates by MPEG version bits (3: MPEG-1, 2: MPEG-2, 0: MPEG-2.5), by rate index."""
_BITRATES = {
    3: (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
    2: (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
}
_INFO_TAG_BYTES = 156
"""From "Info" to the end of the LAME extension."""


Reader = Callable[[int, int], Iterator[bytes]]
"""reader(start, end): a session's mono 16-bit samples from *start* to *end*, in chunks."""


class EncodingStopped(Exception):
    """Another part failed, or the run was interrupted: this part gives up."""


@dataclass(frozen=True, slots=True)
class Layout:
    """MPEG audio layer III frames at one sample rate and bitrate (mono, CBR)."""

    sample_rate: int
    kbps: int

    @property
    def version(self) -> int:
        return next(version for version, rates in _RATES.items() if self.sample_rate in rates)

    @property
    def samples_per_frame(self) -> int:
        return 1152 if self.version == 3 else 576

    @property
    def side_info_bytes(self) -> int:
        return 17 if self.version == 3 else 9

    @property
    def supported(self) -> bool:
        """Whether MPEG has frames of this rate and bitrate (LAME would pick another bitrate)."""
        return (
            any(self.sample_rate in rates for rates in _RATES.values())
            and self.kbps in _BITRATES[3 if self.version == 3 else 2]
        )

    def frame_bytes(self, kbps: int) -> float:
        return self.samples_per_frame // 8 * kbps * 1000 / self.sample_rate

    def frames_for(self, samples: int) -> int:
        """Frames LAME makes of *samples* samples."""
        return -(-(samples + ENCODER_DELAY + LOOKAHEAD) // self.samples_per_frame)

    def info_frame(
        self,
        *,
        frames: int,
        audio_bytes: int,
        music_crc: int,
        padding: int,
        encoder: str = "LAME3.100",
    ) -> bytes:
        """The LAME Info tag (a frame of silence to a decoder) for a CBR stream of *frames* frames
        of *audio_bytes* bytes, with *padding* samples to trim at its end."""
        version = self.version
        table = _BITRATES[3 if version == 3 else 2]
        offset = 4 + self.side_info_bytes
        # The stream's own bitrate where the tag fits in its frame, else the next that fits.
        index = next(
            i
            for i, kbps in enumerate(table)
            if kbps >= self.kbps and int(self.frame_bytes(kbps)) >= offset + _INFO_TAG_BYTES
        )
        size = int(self.frame_bytes(table[index]))
        header = struct.pack(
            ">BBBB",
            0xFF,
            0xE0 | version << 3 | 0b011,
            index << 4 | _RATES[version].index(self.sample_rate) << 2,
            0xC0,
        )
        total = size + audio_bytes
        # Seek table: for CBR, bytes grow with time.
        toc = bytes(min(255, 256 * i // 100) for i in range(100))
        tag = b"".join(
            (
                b"Info",
                struct.pack(">III", 0x0F, frames, total),  # flags: frames, bytes, TOC, quality
                toc,
                struct.pack(">I", 0),  # quality: not a VBR setting
                encoder.encode("ascii")[:9].ljust(9, b"\0"),
                bytes([0x01, 0]),  # tag revision 0, CBR; lowpass unknown
                bytes(4 + 2 + 2 + 1),  # peak, radio and audiophile gain, flags: none
                bytes([min(255, self.kbps)]),
                (ENCODER_DELAY << 12 | padding).to_bytes(3, "big"),
                bytes(1 + 1 + 2),  # misc, MP3 gain, preset: none
                struct.pack(">IH", total, music_crc),
            )
        )
        frame = bytearray(size)
        frame[:4] = header
        frame[offset : offset + len(tag)] = tag
        # The tag's own CRC, of the frame up to it, as LAME takes it.
        tag_end = offset + len(tag)
        frame[tag_end : tag_end + 2] = struct.pack(">H", crc16(bytes(frame[:tag_end])))
        assert len(tag) + 2 == _INFO_TAG_BYTES
        return bytes(frame)


def cut_points(
    silences: Sequence[tuple[int, int]], total: int, parts: int, layout: Layout
) -> list[int]:
    """Where to start each part after the first: frame-aligned samples in *silences* ((start, end)
    sample ranges with no sound) near equal shares of *total*, with the samples left out and
    JOIN_SILENCE_MS on either side silent. Fewer where silences are few."""
    frame = layout.samples_per_frame
    margin = layout.sample_rate * JOIN_SILENCE_MS // 1000
    spans = []
    for start, end in silences:
        low = -(-(start + ENCODER_DELAY + LOOKAHEAD + margin) // frame) * frame
        high = (end - margin) // frame * frame
        if 0 < low <= high < total:
            spans.append((low, high))
    cuts: list[int] = []
    for share in range(1, parts):
        target = total * share // parts
        candidates = [min(max(round(target / frame) * frame, low), high) for low, high in spans]
        best = min(candidates, key=lambda cut: abs(cut - target), default=None)
        shortest = layout.sample_rate * SHORTEST_PART_SECONDS
        if (
            best is not None
            and best - (cuts[-1] if cuts else 0) >= shortest
            and total - best >= shortest
        ):
            cuts.append(best)
    return cuts


def encode(
    read: Reader,
    total: int,
    sink: BinaryIO,
    *,
    layout: Layout,
    cuts: Sequence[int],
    scale: float,
    scratch: Path,
    progress: Callable[[int], None] | None = None,
) -> None:
    """Write the MP3 of the session's *total* samples into *sink* (after whatever it holds): the
    Info tag, then the parts from *cuts* encoded at once. *read(start, end)* gives the session's
    mono 16-bit samples in that range, which are multiplied by *scale*."""
    starts = [0, *cuts]
    ends = [cut - ENCODER_DELAY - LOOKAHEAD for cut in cuts] + [total]
    lengths = [end - start for start, end in zip(starts, ends, strict=True)]
    frames = [layout.frames_for(length) for length in lengths]
    stop = threading.Event()
    done = [0] * len(starts)
    tag_at = sink.tell()
    sink.write(bytes(len(layout.info_frame(frames=0, audio_bytes=0, music_crc=0, padding=0))))
    with contextlib.ExitStack() as stack:
        outputs = [sink] + [
            stack.enter_context(tempfile.TemporaryFile(dir=scratch, prefix=".voiceguide-part-"))
            for _ in cuts
        ]
        pool = stack.enter_context(ThreadPoolExecutor(max_workers=len(starts)))
        futures = [
            pool.submit(_encode_part, read, start, end, scale, layout, output, stop, done, number)
            for number, (start, end, output) in enumerate(zip(starts, ends, outputs, strict=True))
        ]
        try:
            _wait_reporting(futures, done, progress)
        except BaseException:
            stop.set()
            raise
        results = [future.result() for future in futures]
        for (size, _), length, expected in zip(results, lengths, frames, strict=True):
            if round(size / layout.frame_bytes(layout.kbps)) != expected:
                raise AudioError(
                    f"LAME made {size} bytes of MP3 of {length} samples, not the {expected} frames voiceguide "
                    "joins parts by; reinstall voiceguide so that its own lameenc is used"
                )
        music_crc = 0
        for output, (size, crc) in zip(outputs, results, strict=True):
            music_crc = crc16_advance(music_crc, size) ^ crc
            if output is not sink:
                output.seek(0)
                while block := output.read(1 << 20):
                    sink.write(block)
    end_of_file = sink.tell()
    sink.seek(tag_at)
    sink.write(
        layout.info_frame(
            frames=sum(frames),
            audio_bytes=sum(size for size, _ in results),
            music_crc=music_crc,
            padding=frames[-1] * layout.samples_per_frame - ENCODER_DELAY - lengths[-1],
        )
    )
    sink.seek(end_of_file)


def _wait_reporting(
    futures: list[Future[tuple[int, int]]], done: list[int], progress: Callable[[int], None] | None
) -> None:
    if progress:
        progress(0)
    pending = set(futures)
    while pending:
        finished, pending = wait(pending, timeout=0.1, return_when=FIRST_EXCEPTION)
        for future in finished:
            future.result()  # the first error, as it is
        if progress:
            progress(sum(done))


def _encode_part(
    read: Reader,
    start: int,
    end: int,
    scale: float,
    layout: Layout,
    output: BinaryIO,
    stop: threading.Event,
    done: list[int],
    number: int,
) -> tuple[int, int]:
    """Encode samples *start* to *end* into *output*; return the bytes written and their CRC-16."""
    import lameenc

    encoder = lameenc.Encoder()
    encoder.set_channels(1)
    encoder.set_in_sample_rate(layout.sample_rate)
    encoder.set_out_sample_rate(layout.sample_rate)  # LAME would resample for a low bitrate
    encoder.set_bit_rate(layout.kbps)
    encoder.set_quality(QUALITY)
    size = crc = 0
    pending = bytearray()

    def emit(data: bytes, final: bool = False) -> None:
        nonlocal size, crc
        pending.extend(data)
        if len(pending) >= 1 << 20 or final:
            output.write(pending)
            crc = crc16(bytes(pending), crc)
            size += len(pending)
            pending.clear()

    for chunk in read(start, end):
        if stop.is_set():
            raise EncodingStopped
        emit(bytes(encoder.encode(_scaled(chunk, scale))))
        done[number] += len(chunk)
    emit(bytes(encoder.flush()), final=True)
    return size, crc


def _scaled(chunk: bytes, scale: float) -> bytes:
    import numpy as np

    if scale == 1.0:
        return chunk
    samples = np.frombuffer(chunk, dtype="<i2").astype(np.float32) * np.float32(scale)
    scaled: bytes = np.clip(np.rint(samples), -32768, 32767).astype("<i2").tobytes()
    return scaled


# CRC-16/ARC (reflected polynomial 0x8005), as the LAME tag takes it of the audio and of itself.
def _table() -> list[int]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = crc >> 1 ^ 0xA001 if crc & 1 else crc >> 1
        table.append(crc)
    return table


_CRC_TABLE = _table()


def crc16(data: bytes, crc: int = 0) -> int:
    """CRC-16/ARC of *data*, continuing from *crc*.

    Byte by byte in Python this takes seconds for a session, so the bytes are cut into rows that
    numpy takes a byte of each at a time; the rows' CRCs are then joined (crc16_advance)."""
    if len(data) < 4 * CRC_ROW:
        state = crc
        for byte in data:
            state = _CRC_TABLE[(state ^ byte) & 0xFF] ^ state >> 8
        return state
    import numpy as np

    head = -len(data) % CRC_ROW
    # Leading zero bytes leave a CRC that starts at 0 where it was.
    rows = np.concatenate([np.zeros(head, np.uint8), np.frombuffer(data, np.uint8)]).reshape(
        -1, CRC_ROW
    )
    table = np.array(_CRC_TABLE, dtype=np.uint16)
    states = np.zeros(len(rows), dtype=np.uint16)
    for column in rows.T:
        states = table[(states ^ column) & 0xFF] ^ (states >> 8)
    low, high = _advance_tables(CRC_ROW)
    state = 0
    for row in states.tolist():
        state = low[state & 0xFF] ^ high[state >> 8] ^ row
    return crc16_advance(crc, len(data)) ^ state


def crc16_advance(crc: int, count: int) -> int:
    """The CRC *crc* after *count* zero bytes more (so crc(a + b) = advance(crc(a), len(b)) ^ crc(b))."""
    return _apply(_zero_bytes(count), crc)


def _zero_bytes(count: int) -> list[int]:
    """What *count* zero bytes do to a CRC state: the images of its 16 bits (a GF(2) matrix)."""
    result = [1 << bit for bit in range(16)]
    step = [_CRC_TABLE[1 << bit & 0xFF] ^ (1 << bit) >> 8 for bit in range(16)]
    while count:
        if count & 1:
            result = [_apply(step, image) for image in result]
        step = [_apply(step, image) for image in step]
        count >>= 1
    return result


def _apply(matrix: list[int], state: int) -> int:
    out = 0
    for bit in range(16):
        if state >> bit & 1:
            out ^= matrix[bit]
    return out


def _advance_tables(count: int) -> tuple[list[int], list[int]]:
    matrix = _zero_bytes(count)
    return [_apply(matrix, byte) for byte in range(256)], [
        _apply(matrix, byte << 8) for byte in range(256)
    ]
