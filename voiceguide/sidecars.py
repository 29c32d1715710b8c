"""Files beside a session: WebVTT captions, the JSON timeline, a printable script, a playlist."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from voiceguide import report
from voiceguide.customize import Origin
from voiceguide.export import write_text
from voiceguide.timeline import EventKind, Timeline

SUFFIXES = (".vtt", ".json", ".txt")


def write_sidecars(audio: Path, timeline: Timeline, explanation: Sequence[Origin] = ()) -> list[Path]:
    """`<name>.vtt`, `<name>.json` and `<name>.txt` beside *audio*; returns their paths."""
    written = []
    texts = (captions(timeline), report.as_json(timeline, explanation) + "\n", report.table(timeline) + "\n")
    for suffix, text in zip(SUFFIXES, texts, strict=True):
        path = audio.with_suffix(suffix)
        write_text(path, text)
        written.append(path)
    return written


def captions(timeline: Timeline) -> str:
    """Every spoken cue, and the tones, as WebVTT captions at their times."""
    blocks = ["WEBVTT", f"NOTE {timeline.title}"]
    for event in timeline.events:
        if event.kind is EventKind.SILENCE:
            continue
        text = event.text if event.kind is EventKind.SPEECH else f"[{event.tone.value if event.tone else ''} tone]"
        blocks.append(f"{_timestamp(event.start_ms)} --> {_timestamp(event.end_ms)}\n{text}")
    return "\n\n".join(blocks) + "\n"


def _timestamp(ms: int) -> str:
    hours, rest = divmod(ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    return f"{hours:02d}:{minutes:02d}:{rest // 1000:02d}.{rest % 1000:03d}"


def playlist(entries: Sequence[tuple[str, int, str]]) -> str:
    """An extended M3U playlist of (file name, length in ms, title) entries."""
    lines = ["#EXTM3U"]
    for name, length_ms, title in entries:
        lines += [f"#EXTINF:{round(length_ms / 1000)},{title}", name]
    return "\n".join(lines) + "\n"
