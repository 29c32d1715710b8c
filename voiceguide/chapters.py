"""The sections of a session, for chapters and for `--split`: the intro, each exercise, the closing.

Each section starts at its first cue and runs to the next section's start; the first starts at 0
and the last ends with the session, so together they cover every sample.
"""

from __future__ import annotations

from voiceguide.export import Chapter
from voiceguide.timeline import EventKind, Phase, Timeline

INTRO_TITLE = "Introduction"
OUTRO_TITLE = "Closing"


def chapters_of(timeline: Timeline) -> list[Chapter]:
    starts: list[tuple[str, int]] = []
    for event in timeline.events:
        if event.kind is EventKind.SILENCE:
            continue
        title = event.where.exercise or (OUTRO_TITLE if event.phase is Phase.OUTRO else INTRO_TITLE)
        if not starts or starts[-1][0] != title:
            starts.append((title, event.start_ms))
    chapters = []
    for index, (title, start) in enumerate(starts):
        end = starts[index + 1][1] if index + 1 < len(starts) else timeline.total_ms
        # The intro's chapter starts at 0: the lead-in silence belongs to it.
        chapters.append(Chapter(title=title, start_ms=0 if index == 0 else start, end_ms=end))
    return chapters
