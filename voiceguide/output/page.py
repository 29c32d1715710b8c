"""The player page beside a session (`<name>.html`): one self-contained file, its style and script
inline, that plays the session's own audio file beside it and shows what is being done, what is
said, how long is left and what comes next.

The page is driven by the session's timeline, embedded as the JSON sidecar has it, and by the
audio element's current time: it keeps no clock of its own. Its labels come from the session's
language catalog. It fetches nothing: it works opened from the file system, offline.
"""

from __future__ import annotations

import html
import json
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import quote

from voiceguide.common.clock import in_seconds
from voiceguide.common.errors import InputError, path_text
from voiceguide.output.export import Chapter
from voiceguide.script import report
from voiceguide.script.timeline import Timeline
from voiceguide.script.wording import Wording

PAGE = ".html"
"""The page's extension: `<name>.html` beside `<name>.mp3`."""


def page_of(session: Path) -> Path:
    """The player page beside *session* (its audio file, a split session's playlist, or the page
    itself); an InputError saying what to do where there is none."""
    page = session.with_suffix(PAGE)
    if page.is_file():
        return page
    if not session.exists():
        raise InputError(
            f"{path_text(session)} does not exist; name a session that voiceguide build wrote, "
            "as output/feet-for-back-pain.mp3"
        )
    raise InputError(
        f"there is no player page beside {path_text(session)} ({path_text(page.name)} is missing); "
        "voiceguide build writes it with the session unless given --no-sidecars: build the "
        "session again without that option"
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class Media:
    """An audio file the page plays: the session, or one part of a split session."""

    name: str
    """Its file name, beside the page (the page refers to it by this relative name)."""
    start_ms: int
    """Where in the session it starts."""


def player_page(
    *, timeline: Timeline, chapters: Sequence[Chapter], media: Sequence[Media], language: str
) -> str:
    """The page's HTML for *timeline*, playing *media* (in order), its sections *chapters*, its
    labels in *language*."""
    labels = Wording(language).page_labels(audio_file=path_text(media[0].name))
    page = {
        "chapters": [
            {"title": c.title, "start": in_seconds(c.start_ms), "end": in_seconds(c.end_ms)}
            for c in chapters
        ],
        "media": [{"src": _url(m.name), "start": in_seconds(m.start_ms)} for m in media],
        "labels": labels,
    }
    fields = {
        "lang": language,
        "title": timeline.title,
        "first_media": _url(media[0].name),
        **{f"label:{name}": text for name, text in labels.items()},
    }
    inserted = {
        "STYLE": _asset("player.css"),
        "TIMELINE": _script_json(report.as_dict(timeline)),
        "PAGE": _script_json(page),
        "SCRIPT": _asset("player.js"),
    }

    def fill(found: re.Match[str]) -> str:
        field, part = found.groups()
        return html.escape(fields[field], quote=True) if field else inserted[part]

    # One pass: what is filled in (a plan's texts among it) is never read for markers again.
    return _MARKERS.sub(fill, _asset("player.html"))


_MARKERS = re.compile(r"\{\{([a-z_:]+)\}\}|/\*(STYLE|TIMELINE|PAGE|SCRIPT)\*/")
"""The template's fields ({{title}}, escaped as HTML) and parts (/*SCRIPT*/, inserted as they are)."""


def _url(name: str) -> str:
    """A file name as a relative URL: every byte but letters, digits and "-._~" percent-encoded
    (a "#" or "?" in a name is not a fragment or a query; a name that is not UTF-8 keeps its
    bytes)."""
    return quote(os.fsencode(name), safe="")


def _asset(name: str) -> str:
    return resources.files("voiceguide.output").joinpath(name).read_text(encoding="utf-8")


def _script_json(data: Any) -> str:
    """*data* as JSON that can sit inside a <script> element: a "<" (only ever in a string) is
    escaped, so that no text of a plan can close the element."""
    return json.dumps(data, ensure_ascii=False).replace("<", "\\u003c")
