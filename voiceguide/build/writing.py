"""The last stage of a build: a mastered session written as its files (the session, or its parts
and their playlist, and the sidecars), all put in place together or none."""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from voiceguide import __version__
from voiceguide.build.existing import earlier_parts, fingerprint
from voiceguide.build.mixing import Mastered
from voiceguide.build.settings import Progress, RenderSettings, no_progress
from voiceguide.common.replacing import FileSet
from voiceguide.output.chapters import at_most, chapters_of
from voiceguide.output.destination import PLAYLIST, part_name
from voiceguide.output.export import Chapter, Retake, Source, Tags, write_audio
from voiceguide.output.page import Media
from voiceguide.output.sidecars import digest_of_texts, playlist, sidecar_texts
from voiceguide.plans.customize import Origin
from voiceguide.plans.plan import Plan
from voiceguide.script.wording import Wording
from voiceguide.sound.mixdown import frame_at


@dataclass(frozen=True, slots=True, kw_only=True)
class Written:
    """The files a build put in place."""

    paths: tuple[Path, ...]
    """The session (or its parts and playlist), then the sidecars."""
    loudness_lufs: float
    """The loudness the session is heard at: the target, unless the true-peak ceiling kept it
    quieter (see mastering.py)."""


def write(
    mastered: Mastered,
    output: Path,
    *,
    settings: RenderSettings,
    person: str | None = None,
    explanation: Sequence[Origin] = (),
    progress: Progress = no_progress,
    cores: int = 1,
) -> Written:
    """*mastered* written into *output* as *settings* say (format, split, sidecars), each file's
    peaks checked as heard; an existing file is replaced only when every file is written."""
    plan, timeline = mastered.mixed.plan, mastered.mixed.timeline
    mastering = mastered.mastering

    def write_part(start: int, end: int, path: Path, **arguments: Any) -> None:
        """Frames *start* to *end* of the session into *path*, its peaks checked (see
        Mastering.check)."""

        def source() -> Source:
            mix = mastering.mixdown
            whole = Source(
                sample_rate=settings.sample_rate,
                frames=mix.frames,
                read=lambda first, last: mastering.dipped(
                    mastered.samples(mix, first, last), first
                ),
                silences=[] if mastered.music else mix.silences(),  # (music fills them)
            )
            return whole if (start, end) == (0, mix.frames) else whole.part(start, end)

        def check(written: Path) -> Retake | None:
            if mastering.check(written, first_frame=start, frames=end - start):
                return None
            return Retake(
                source=source(), gain_db=mastering.gain_db, limit_dbtp=mastering.limit_dbtp
            )

        write_audio(source(), path, encoding=settings.encoding, gain_db=mastering.gain_db,
                    limit_dbtp=mastering.limit_dbtp, cores=cores, check=check, **arguments)  # fmt: skip

    wording = Wording(plan.language)
    chapters = chapters_of(
        timeline, intro_title=wording.intro_title(), outro_title=wording.outro_title()
    )
    media = (
        [
            Media(name=part_name(output, number, chapter.title), start_ms=chapter.start_ms)
            for number, chapter in enumerate(chapters, start=1)
        ]
        if settings.split
        else [Media(name=output.name, start_ms=0)]
    )
    sidecars = (
        sidecar_texts(output, timeline, explanation, chapters=chapters, media=media,
                      language=plan.language)
        if settings.sidecars
        else {}
    )  # fmt: skip
    tags = Tags(
        title=session_title(plan, person),
        artist="voiceguide",
        album=plan.title,
        comment=f"Made with voiceguide {__version__} from {Path(plan.source_name).name}",
        length_ms=timeline.total_ms,
        fingerprint=fingerprint(plan, settings, person),
        sidecars=digest_of_texts(sidecars) if sidecars else None,
    )
    # Everything is written before anything is replaced: a build replaces all its files or none.
    with FileSet() as files:
        stale: list[Path] = []
        if settings.split:
            sessions, stale = _write_split(functools.partial(write_part, files=files),
                                           settings.sample_rate, output, chapters, tags, files)  # fmt: skip
        else:
            write_part(
                0,
                mastering.mixdown.frames,
                output,
                tags=tags,
                chapters=at_most(chapters),
                progress=lambda done, total: progress("encoding", done, total),
                files=files,
            )
            sessions = [output]
        for path, text in sidecars.items():
            files.write_text(path, text)
        files.commit(remove=stale)
    return Written(paths=(*sessions, *sidecars), loudness_lufs=mastering.loudness_lufs)


def session_title(plan: Plan, person: str | None) -> str:
    parts = [
        plan.title,
        *([person] if person else []),
        *([f"week {plan.week}"] if plan.week else []),
    ]
    return ", ".join(parts)


def _write_split(
    write: Callable[..., None],
    rate: int,
    output: Path,
    chapters: Sequence[Chapter],
    tags: Tags,
    files: FileSet,
) -> tuple[list[Path], list[Path]]:
    """One file per section, numbered in order, and an M3U playlist of them named like *output*, into
    *files*: write(start, end, path, tags=...) writes the session's frames *start* to *end*. Returns
    the files written (the parts, then the playlist), and the parts an earlier split left that this
    one does not replace (another number of sections, or other titles), to be removed when the new
    parts are put in place."""
    entries, written = [], []
    for number, chapter in enumerate(chapters, start=1):
        name = part_name(output, number, chapter.title)
        part_tags = dataclasses.replace(
            tags, title=f"{number:02d} {chapter.title}", track=f"{number}/{len(chapters)}",
            length_ms=chapter.end_ms - chapter.start_ms, fingerprint=None,
        )  # fmt: skip
        write(
            frame_at(chapter.start_ms, rate),
            frame_at(chapter.end_ms, rate),
            output.with_name(name),
            tags=part_tags,
        )
        entries.append((name, chapter.end_ms - chapter.start_ms, f"{number:02d} {chapter.title}"))
        written.append(output.with_name(name))
    files.write_text(output.with_suffix(PLAYLIST), playlist(entries))
    names = {path.name for path in written}
    stale = sorted(path for path in earlier_parts(output) if path.name not in names)
    return [*written, output.with_suffix(PLAYLIST)], stale
