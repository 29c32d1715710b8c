"""Files beside a session: WebVTT captions, the JSON timeline, a printable script, the player page,
a playlist."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from pathlib import Path

from voiceguide.common.clock import timestamp, whole_seconds
from voiceguide.output.export import Chapter
from voiceguide.output.page import PAGE, Media, player_page
from voiceguide.plans.customize import Origin
from voiceguide.script import report
from voiceguide.script.timeline import EventKind, Timeline

SIDECARS = {".vtt": "captions", ".json": "timeline", ".txt": "script", PAGE: "player page"}
"""What is written beside a session, by extension."""


def sidecar_texts(
    audio: Path,
    timeline: Timeline,
    explanation: Sequence[Origin] = (),
    *,
    chapters: Sequence[Chapter],
    media: Sequence[Media],
    language: str,
) -> dict[Path, str]:
    """What goes into `<name>.vtt`, `<name>.json`, `<name>.txt` and `<name>.html` beside *audio*, by
    path: the page plays *media* (the session's file, or its parts), its sections *chapters*, its
    labels in *language*."""
    texts = {
        ".vtt": captions(timeline),
        ".json": report.as_json(timeline, explanation) + "\n",
        ".txt": report.table(timeline) + "\n",
        PAGE: player_page(timeline=timeline, chapters=chapters, media=media, language=language),
    }
    return {audio.with_suffix(suffix): texts[suffix] for suffix in SIDECARS}


def digest(contents: Mapping[str, bytes]) -> str:
    """A short digest of sidecars' contents, by extension: the session's stamp keeps it, so that a
    build finds out whether the sidecars beside a session are the ones written with it."""
    hashed = hashlib.sha256()
    for suffix in sorted(contents):
        hashed.update(suffix.encode() + b"\0" + hashlib.sha256(contents[suffix]).digest())
    return hashed.hexdigest()[:16]


def digest_of_texts(texts: Mapping[Path, str]) -> str:
    """The digest (see digest) of sidecars about to be written."""
    return digest({path.suffix: text.encode("utf-8") for path, text in texts.items()})


def digest_on_disk(audio: Path) -> str | None:
    """The digest (see digest) of the sidecars beside *audio*, or None where one is missing or
    unreadable."""
    try:
        return digest({suffix: audio.with_suffix(suffix).read_bytes() for suffix in SIDECARS})
    except OSError:
        return None


def captions(timeline: Timeline) -> str:
    """Every spoken cue, and the tones, as WebVTT captions at their times."""
    blocks = ["WEBVTT", f"NOTE {timeline.title}"]
    for event in timeline.events:
        if event.kind is EventKind.SILENCE:
            continue
        text = (
            event.text
            if event.kind is EventKind.SPEECH
            else f"[{event.tone.value if event.tone else ''} tone]"
        )
        blocks.append(f"{timestamp(event.start_ms)} --> {timestamp(event.end_ms)}\n{text}")
    return "\n\n".join(blocks) + "\n"


def playlist(entries: Sequence[tuple[str, int, str]]) -> str:
    """An extended M3U playlist of (file name, length in ms, title) entries."""
    lines = ["#EXTM3U"]
    for name, length_ms, title in entries:
        lines += [f"#EXTINF:{whole_seconds(length_ms)},{title}", name]
    return "\n".join(lines) + "\n"
