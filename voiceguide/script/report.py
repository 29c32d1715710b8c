"""Readable views of a timeline: the preview table, its JSON form, and overrun warnings."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from voiceguide.common.clock import clock, in_seconds, length, seconds
from voiceguide.plans.customize import Origin
from voiceguide.script.timeline import Event, EventKind, Overrun, Timeline, Where


def _where(where: Where) -> str:
    parts = [
        f"round {where.round}/{where.rounds}" if where.round is not None else "",
        f"set {where.set}" if where.set is not None else "",
        where.side or "",
        f"rep {where.rep}" if where.rep is not None else "",
    ]
    return ", ".join(p for p in parts if p)


def table(timeline: Timeline) -> str:
    """The spoken script and its cues, one row each; silences are the gaps between rows."""
    rows = [f"{timeline.title}: {length(timeline.total_ms)}", ""]
    width = max(8, len(clock(timeline.total_ms)))  # (hours widen it)
    phases = max([9, *(len(event.phase.value) for event in timeline.events)])  # ("transition")
    rows.append(f"{'time':>{width}}  {'phase':<{phases}} {'part':<22} what")
    exercise: str | None = None
    for event in timeline.events:
        if event.kind is EventKind.SILENCE:
            continue
        if event.where.exercise != exercise and event.where.exercise is not None:
            exercise = event.where.exercise
            rows.append(f"{'':>{width}}  --- {exercise} ---")
        rows.append(
            f"{clock(event.start_ms):>{width}}  {event.phase.value:<{phases}} {_where(event.where):<22} {_what(event)}"
        )
    rows.append("")
    rows.append(
        f"Total: {clock(timeline.total_ms)} ({length(timeline.total_ms)}), {len(timeline.intervals)} timed intervals"
    )
    return "\n".join(rows)


def _what(event: Event) -> str:
    if event.kind is EventKind.TONE:
        return f"[{event.tone.value if event.tone else ''} tone]"
    cut = f"  (cut short by {seconds(event.clipped_ms)})" if event.clipped_ms else ""
    return f'"{event.text}"{cut}'


def effective_values(explanation: Sequence[Origin], *, explain: bool) -> str:
    """The values the session is made with; with *explain*, where each one comes from."""
    width = max(len(row.target) for row in explanation)
    value_width = max(len(row.value) for row in explanation)
    rows = ["Effective values" + (" (plan < profile < command line):" if explain else ":")]
    for row in explanation:
        origin = f"  {row.source}" if explain else ""
        rows.append(f"  {row.target:<{width}}  {row.value:<{value_width}}{origin}".rstrip())
    return "\n".join(rows)


def as_json(timeline: Timeline, explanation: Sequence[Origin] = ()) -> str:
    data = as_dict(timeline)
    if explanation:
        data["effective"] = [
            {"target": r.target, "value": r.value, "source": r.source} for r in explanation
        ]
    return json.dumps(data, indent=2, ensure_ascii=False)


def as_dict(timeline: Timeline) -> dict[str, Any]:
    return {
        "title": timeline.title,
        "total": in_seconds(timeline.total_ms),
        "events": [_event_dict(event) for event in timeline.events],
        "intervals": [
            {
                "start": in_seconds(i.start_ms),
                "end": in_seconds(i.end_ms),
                "phase": i.phase.value,
                "name": i.name,
                **_where_dict(i.where),
            }
            for i in timeline.intervals
        ],
        "overruns": [
            {
                "at": in_seconds(o.at_ms),
                "text": o.text,
                "needed": in_seconds(o.needed_ms),
                "available": in_seconds(o.available_ms),
                "over": in_seconds(o.over_ms),
                "phase": o.phase.value,
                **_where_dict(o.where),
            }
            for o in timeline.overruns
        ],
    }


def _event_dict(event: Event) -> dict[str, Any]:
    data: dict[str, Any] = {
        "start": in_seconds(event.start_ms),
        "end": in_seconds(event.end_ms),
        "kind": event.kind.value,
    }
    if event.text is not None:
        data["text"] = event.text
    if event.tone is not None:
        data["tone"] = event.tone.value
    if event.clipped_ms:
        data["clipped"] = in_seconds(event.clipped_ms)
    data["phase"] = event.phase.value
    data.update(_where_dict(event.where))
    return data


def _where_dict(where: Where) -> dict[str, Any]:
    data: dict[str, Any] = {"exercise": where.exercise}
    for key in ("round", "rounds", "set", "side", "rep"):
        value = getattr(where, key)
        if value is not None:
            data[key] = value
    return data


def overrun_message(overrun: Overrun, source: str) -> str:
    place = ", ".join(p for p in (overrun.where.exercise, _where(overrun.where)) if p)
    room = f"has {seconds(overrun.available_ms)}" if overrun.available_ms else "has no room left"
    return (
        f"{source}: at {clock(overrun.at_ms)}, {place + ' ' if place else ''}({overrun.phase.value}): "
        f'"{overrun.text}" needs {seconds(overrun.needed_ms)} but {room}; it overruns by '
        f"{seconds(overrun.over_ms)}. Lengthen the {overrun.phase.value}, shorten the text or speak faster."
    )
