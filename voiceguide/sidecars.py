"""Files beside a session: WebVTT captions, the JSON timeline, a printable script, a playlist."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from voiceguide import report
from voiceguide.clock import timestamp, whole_seconds
from voiceguide.customize import Origin
from voiceguide.export import write_text
from voiceguide.timeline import EventKind, Timeline

SIDECARS = {".vtt": "captions", ".json": "timeline", ".txt": "script"}
"""What is written beside a session, by extension."""


def write_sidecars(audio: Path, timeline: Timeline, explanation: Sequence[Origin] = ()) -> list[Path]:
    """`<name>.vtt`, `<name>.json` and `<name>.txt` beside *audio*; returns their paths."""
    written = []
    texts = {
        ".vtt": captions(timeline),
        ".json": report.as_json(timeline, explanation) + "\n",
        ".txt": report.table(timeline) + "\n",
    }
    for suffix in SIDECARS:
        path, text = audio.with_suffix(suffix), texts[suffix]
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
        blocks.append(f"{timestamp(event.start_ms)} --> {timestamp(event.end_ms)}\n{text}")
    return "\n\n".join(blocks) + "\n"


def playlist(entries: Sequence[tuple[str, int, str]]) -> str:
    """An extended M3U playlist of (file name, length in ms, title) entries."""
    lines = ["#EXTM3U"]
    for name, length_ms, title in entries:
        lines += [f"#EXTINF:{whole_seconds(length_ms)},{title}", name]
    return "\n".join(lines) + "\n"
