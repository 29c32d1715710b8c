"""The sections of a session, for chapters and for `--split`: the intro, each exercise, the closing.

Each section starts at its first cue and runs to the next section's start; the first starts at 0
and the last ends with the session, so together they cover every sample.
"""

from __future__ import annotations

from voiceguide.export import Chapter
from voiceguide.timeline import EventKind, Phase, Timeline


def chapters_of(
    timeline: Timeline, *, intro_title: str = "Introduction", outro_title: str = "Closing"
) -> list[Chapter]:
    """The sections, named by their exercise, or by *intro_title* and *outro_title* (in the session's language)."""
    starts: list[tuple[str, int]] = []
    for event in timeline.events:
        if event.kind is EventKind.SILENCE:
            continue
        title = event.where.exercise or (outro_title if event.phase is Phase.OUTRO else intro_title)
        if not starts or starts[-1][0] != title:
            starts.append((title, event.start_ms))
    chapters = []
    for index, (title, start) in enumerate(starts):
        end = starts[index + 1][1] if index + 1 < len(starts) else timeline.total_ms
        # The intro's chapter starts at 0: the lead-in silence belongs to it.
        chapters.append(Chapter(title=title, start_ms=0 if index == 0 else start, end_ms=end))
    return chapters
