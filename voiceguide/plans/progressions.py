"""An exercise's `progression`: how each of its values grows (or shrinks) from week to week."""

from __future__ import annotations

from voiceguide.plans.plan import Progression
from voiceguide.plans.settings import EXERCISE_SETTINGS, PROGRESSIVE
from voiceguide.plans.values import Count
from voiceguide.plans.yamlsource import Field


def read_progressions(field: Field) -> tuple[tuple[str, Progression], ...] | None:
    """`progression: {hold: {step: 1, max: 10}, reps: {start: 5, step: 1, max: 10}}`"""
    fields = field.mapping(optional=PROGRESSIVE)
    if fields is None:
        return None
    progressions = [(key, _progression(key, value)) for key, value in fields.items()]
    if any(progression is None for _, progression in progressions):
        return None
    return tuple((key, progression) for key, progression in progressions if progression is not None)


def _progression(key: str, field: Field) -> Progression | None:
    fields = field.mapping(required=["step"], optional=["start", "max", "min"])
    if fields is None or "step" not in fields:
        return None
    kind = EXERCISE_SETTINGS[key].kind
    is_count = isinstance(kind, Count)
    unit = 1 if is_count else 1000
    step = fields["step"].number(minimum=-1000.0, maximum=1000.0)
    values: dict[str, object] = {
        name: kind.read(fields[name]) for name in ("start", "max", "min") if name in fields
    }
    if "max" in fields and "min" in fields:
        fields["min"].problem("give 'max' (for a step up) or 'min' (for a step down), not both")
        return None
    if step is None or any(value is None for value in values.values()):
        return None
    if is_count and step != int(step):
        fields["step"].expected("a whole number of reps or sets a week")
        return None
    limit_key: str | None = "max" if "max" in fields else "min" if "min" in fields else None
    if (limit_key == "max" and step < 0) or (limit_key == "min" and step > 0):
        fields[limit_key].problem(
            f"a step of {step:g} never reaches a '{limit_key}'; use '{'min' if step < 0 else 'max'}'"
        )
        return None
    start = values.get("start")
    limit = values[limit_key] if limit_key else None
    return Progression(
        start=start if isinstance(start, int) else None,
        step=round(step * unit),
        limit=limit if isinstance(limit, int) else None,
    )
