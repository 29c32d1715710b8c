"""The values plans, profiles and --set options share, each validated the same way everywhere.

`read_value(key, field)` turns the YAML value of a known key into its typed value (durations in
integer ms), or records a problem on the field and returns None.
"""

from __future__ import annotations

from collections.abc import Callable

from voiceguide.plans.plan import PROGRESSIVE_FIELDS, Counting, Instructions, Progression
from voiceguide.plans.yamlsource import Field

MAX_REPS = 500
MAX_SETS = 50
MAX_SLOT_MS = 600_000
MAX_TIMED_MS = 3_600_000
MIN_TIMED_MS = 500

DURATION_KEYS = (
    "lead_in",
    "reset",
    "rest",
    "switch",
    "set_rest",
    "rest_between_exercises",
    "hold",
    "work",
)
COUNT_KEYS = {"reps": MAX_REPS, "sets": MAX_SETS}


def _duration(key: str) -> Callable[[Field], int | None]:
    if key in ("hold", "work"):
        return lambda field: field.seconds(minimum_ms=MIN_TIMED_MS, maximum_ms=MAX_TIMED_MS)
    return lambda field: field.seconds(minimum_ms=0, maximum_ms=MAX_SLOT_MS)


def _count(most: int) -> Callable[[Field], int | None]:
    return lambda field: field.integer(minimum=1, maximum=most)


def _language(field: Field) -> str | None:
    """A language voiceguide has phrases for, as its code ("de"); a region ("de-AT") is dropped."""
    from voiceguide.language.catalog import available_languages, catalog_codes, language_code

    text = field.text(max_length=40)
    if text is None:
        return None
    code = language_code(text)
    if code not in catalog_codes():
        field.problem(
            f"voiceguide has no phrases in the language {text!r}; it speaks {available_languages()}"
        )
        return None
    return code


def _choice(options: type[Counting] | type[Instructions]) -> Callable[[Field], object]:
    def read(field: Field) -> object:
        choice = field.choice(option.value for option in options)
        return None if choice is None else options(choice)

    return read


READERS: dict[str, Callable[[Field], object]] = {
    **{key: _duration(key) for key in DURATION_KEYS},
    **{key: _count(most) for key, most in COUNT_KEYS.items()},
    "voice": lambda field: field.text(max_length=100),
    "language": _language,
    "rate": lambda field: field.integer(minimum=60, maximum=400),
    "volume": lambda field: field.number(minimum=0.1, maximum=1.0),
    "beep_level": lambda field: field.number(minimum=-30.0, maximum=6.0),
    "counting": _choice(Counting),
    "instructions": _choice(Instructions),
    "cue": lambda field: field.text(max_length=200),
}


def read_value(key: str, field: Field) -> object:
    """The typed value of *key*, or None (with a problem recorded on *field*)."""
    return READERS[key](field)


def read_progressions(field: Field) -> tuple[tuple[str, Progression], ...] | None:
    """`progression: {hold: {step: 1, max: 10}, reps: {start: 5, step: 1, max: 10}}`"""
    fields = field.mapping(optional=PROGRESSIVE_FIELDS)
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
    is_count = key in COUNT_KEYS
    unit = 1 if is_count else 1000
    step = fields["step"].number(minimum=-1000.0, maximum=1000.0)
    values: dict[str, object] = {
        name: read_value(key, fields[name]) for name in ("start", "max", "min") if name in fields
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
