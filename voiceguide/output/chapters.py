"""The sections of a session, for chapters and for `--split`: the intro, each exercise (in each round
of a circuit), the closing.

Each section starts at its first cue and runs to the next section's start; the first starts at 0
and the last ends with the session, so together they cover every sample.

A file holds at most MAX_CHAPTERS chapters: beyond that, consecutive exercises share a chapter.
"""

from __future__ import annotations

from voiceguide.output.export import Chapter
from voiceguide.script.timeline import EventKind, Phase, Timeline

MAX_CHAPTERS = 255
"""An ID3 table of contents counts its entries in one byte; Ogg's CHAPTERnnn and M4A hold more."""


def chapters_of(
    timeline: Timeline, *, intro_title: str = "Introduction", outro_title: str = "Closing"
) -> list[Chapter]:
    """The sections, named by their exercise, or by *intro_title* and *outro_title* (in the session's
    language)."""
    starts: list[tuple[str, int]] = []
    for event in timeline.events:
        if event.kind is EventKind.SILENCE:
            continue
        where = event.where
        title = where.exercise or (outro_title if event.phase is Phase.OUTRO else intro_title)
        if where.exercise and where.round is not None and where.rounds and where.rounds > 1:
            title = f"{title} ({where.round}/{where.rounds})"  # (a circuit's round)
        if not starts or starts[-1][0] != title:
            starts.append((title, event.start_ms))
    chapters = []
    for index, (title, start) in enumerate(starts):
        end = starts[index + 1][1] if index + 1 < len(starts) else timeline.total_ms
        # The intro's chapter starts at 0: the lead-in silence belongs to it.
        chapters.append(Chapter(title=title, start_ms=0 if index == 0 else start, end_ms=end))
    return chapters


def at_most(chapters: list[Chapter], limit: int = MAX_CHAPTERS) -> list[Chapter]:
    """*chapters* as they are when there are at most *limit*; else the first and last (the intro
    and the closing) as they are, and the others in runs of consecutive ones, as few to a run as
    fit, each run one chapter titled by its first and last."""
    if len(chapters) <= limit:
        return chapters
    first, *middle, last = chapters
    per_run = -(-len(middle) // (limit - 2))
    grouped = [first]
    for start in range(0, len(middle), per_run):
        run = middle[start : start + per_run]
        title = run[0].title if len(run) == 1 else f"{run[0].title} \u2013 {run[-1].title}"
        grouped.append(Chapter(title=title, start_ms=run[0].start_ms, end_ms=run[-1].end_ms))
    return [*grouped, last]
