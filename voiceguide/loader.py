"""Read a plan file and validate it, once, into a frozen `Plan`.

Every problem names the file, line and column, the field path, what was expected and what was found.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path

from voiceguide.plan import Counting, Exercise, GapKind, Plan, Step, StepKind
from voiceguide.yamlsource import Field, Reader

DEFAULT_SAFETY = "Move gently, and stop any exercise that causes sharp pain."

SETTINGS_DEFAULTS_MS = {
    "lead_in": 5_000,
    "reset": 3_000,
    "rest": 10_000,
    "switch": 5_000,
    "set_rest": 30_000,
    "rest_between_exercises": 15_000,
}
DEFAULT_RATE = 150
MAX_REPS = 500
MAX_SETS = 50

PLAN_FIELDS = ["title", "exercises"]
PLAN_OPTIONAL = ["description", "frequency", "equipment", "safety", "sources", "notes", "settings"]
SETTINGS_FIELDS = ["voice", "rate", "counting", *SETTINGS_DEFAULTS_MS]
EXERCISE_FIELDS = ["name"]
EXERCISE_OPTIONAL = [
    "instructions",
    "reps",
    "hold",
    "work",
    "phases",
    "reset",
    "rest",
    "sides",
    "switch",
    "sets",
    "set_rest",
    "lead_in",
    "counting",
    "notes",
]
TIMED_KEYS = ("hold", "work", "phases")


def load_plan(path: Path, *, display_name: str | None = None) -> Plan:
    """Read and validate the plan at *path*; raise PlanError listing every problem."""
    reader, root = Reader.open(path, display_name=display_name)
    return plan_from_yaml(reader, root)


def load_plan_text(text: str, *, display_name: str = "<plan>") -> Plan:
    """Validate a plan given as YAML text (for tests and embedding)."""
    reader = Reader(display_name)
    return plan_from_yaml(reader, reader.parse(text.encode("utf-8")))


def plan_from_yaml(reader: Reader, root: Field) -> Plan:
    fields = root.mapping(required=PLAN_FIELDS, optional=PLAN_OPTIONAL)
    if fields is None:
        reader.raise_if_problems()
        raise AssertionError("unreachable: a failed mapping always records a problem")
    settings = _settings(fields.get("settings"))
    exercises: list[Exercise] = []
    items = fields["exercises"].sequence(min_items=1) if "exercises" in fields else None
    first_index: dict[str, int] = {}
    for index, item in enumerate(items or []):
        exercise = _exercise(item, settings)
        if exercise is None:
            continue
        # Profiles and overrides address exercises by name, so a name must say which one it is.
        folded = exercise.name.casefold()
        if folded in first_index:
            item.problem(
                f"the exercise name {exercise.name!r} is already used by exercises[{first_index[folded]}]; "
                "give each exercise its own name"
            )
        first_index.setdefault(folded, index)
        exercises.append(exercise)

    title = fields["title"].text(max_length=200) if "title" in fields else None
    plan_texts = {key: _optional_text(fields, key) for key in ("description", "frequency", "safety", "notes")}
    equipment = fields["equipment"].text_list() if "equipment" in fields else ()
    sources = fields["sources"].text_list() if "sources" in fields else ()
    rest_between_exercises_ms = settings.durations_ms["rest_between_exercises"]
    reader.raise_if_problems()
    # Every None below stands for a problem, and problems were raised just above.
    assert title is not None and equipment is not None and sources is not None
    assert settings.rate is not None and rest_between_exercises_ms is not None
    return Plan(
        title=title,
        description=plan_texts["description"],
        frequency=plan_texts["frequency"],
        equipment=equipment,
        safety=plan_texts["safety"] or DEFAULT_SAFETY,
        sources=sources,
        notes=plan_texts["notes"],
        voice=settings.voice,
        rate=settings.rate,
        rest_between_exercises_ms=rest_between_exercises_ms,
        exercises=tuple(exercises),
        source_name=reader.display_name,
    )


def _optional_text(fields: dict[str, Field], key: str, max_length: int = 4000) -> str | None:
    return fields[key].text(max_length=max_length) if key in fields else None


@dataclass
class _Settings:
    """The plan's `settings`, as far as they are valid (None where a value was a problem)."""

    durations_ms: dict[str, int | None] = field(default_factory=lambda: dict(SETTINGS_DEFAULTS_MS))
    """Defaults for the per-exercise durations, under the same names as the exercise fields."""
    voice: str | None = None
    rate: int | None = DEFAULT_RATE
    counting: Counting | None = Counting.EVERY_SECOND


def _settings(settings_field: Field | None) -> _Settings:
    settings = _Settings()
    if settings_field is None:
        return settings
    fields = settings_field.mapping(optional=SETTINGS_FIELDS) or {}
    for key in SETTINGS_DEFAULTS_MS:
        if key in fields:
            settings.durations_ms[key] = fields[key].seconds(maximum_ms=600_000)
    if "voice" in fields:
        settings.voice = fields["voice"].text(max_length=100)
    if "rate" in fields:
        settings.rate = fields["rate"].integer(minimum=60, maximum=400)
    if "counting" in fields:
        settings.counting = _counting(fields["counting"])
    return settings


def _counting(field: Field) -> Counting | None:
    choice = field.choice(c.value for c in Counting)
    return Counting(choice) if choice else None


def _exercise(field: Field, settings: _Settings) -> Exercise | None:
    fields = field.mapping(required=EXERCISE_FIELDS, optional=EXERCISE_OPTIONAL)
    if fields is None:
        return None
    name = fields["name"].text(max_length=100) if "name" in fields else None
    timed = [key for key in TIMED_KEYS if key in fields]
    steps: tuple[Step, ...] | None = None
    if len(timed) == 1:
        steps = _steps(fields[timed[0]], timed[0])
    elif timed or not any(_close_to_timed_key(key) for key in field.mapping_keys()):
        # (a misspelt 'hold' or 'work' is already reported, with its correction)
        found = " and ".join(repr(k) for k in timed) if timed else "none of them"
        field.problem(f"give exactly one of 'hold', 'work' or 'phases' (the timed part of a rep); found {found}")
    timed_key = timed[0] if len(timed) == 1 else None

    if "reset" in fields and "rest" in fields:
        fields["rest"].problem(
            "give either 'reset' (a quiet pause) or 'rest' (an announced rest) between reps, not both"
        )
    if "rest" in fields:
        gap_kind, gap_ms = GapKind.REST, fields["rest"].seconds(maximum_ms=600_000)
    elif "reset" in fields:
        gap_kind, gap_ms = GapKind.RESET, fields["reset"].seconds(maximum_ms=600_000)
    elif timed_key == "work":
        gap_kind, gap_ms = GapKind.REST, settings.durations_ms["rest"]
    elif timed_key == "hold":
        gap_kind, gap_ms = GapKind.RESET, settings.durations_ms["reset"]
    else:  # phases flow from one rep into the next unless the plan asks for a pause
        gap_kind, gap_ms = GapKind.RESET, 0

    sides: tuple[str, ...] | None = ()
    if "sides" in fields:
        sides = fields["sides"].text_list()
        if sides is not None and len({side.casefold() for side in sides}) != len(sides):
            fields["sides"].problem("each side must have a different name")

    def seconds(key: str, minimum_ms: int = 0) -> int | None:
        if key in fields:
            return fields[key].seconds(minimum_ms=minimum_ms, maximum_ms=600_000)
        return settings.durations_ms[key]

    def count(key: str, maximum: int) -> int | None:
        return fields[key].integer(minimum=1, maximum=maximum) if key in fields else 1

    counting = _counting(fields["counting"]) if "counting" in fields else settings.counting
    instructions = _optional_text(fields, "instructions")
    reps, sets = count("reps", MAX_REPS), count("sets", MAX_SETS)
    switch_ms, set_rest_ms, lead_in_ms = seconds("switch"), seconds("set_rest"), seconds("lead_in")
    if (
        name is None
        or steps is None
        or reps is None
        or sets is None
        or gap_ms is None
        or sides is None
        or switch_ms is None
        or set_rest_ms is None
        or lead_in_ms is None
        or counting is None
    ):
        return None  # each None is a problem already reported
    return Exercise(
        name=name,
        instructions=instructions,
        steps=steps,
        reps=reps,
        gap_ms=gap_ms,
        gap_kind=gap_kind,
        sides=sides,
        switch_ms=switch_ms,
        sets=sets,
        set_rest_ms=set_rest_ms,
        lead_in_ms=lead_in_ms,
        counting=counting,
    )


def _close_to_timed_key(key: str) -> bool:
    known = key in EXERCISE_FIELDS or key in EXERCISE_OPTIONAL
    return not known and bool(difflib.get_close_matches(key, TIMED_KEYS, n=1, cutoff=0.6))


def _steps(field: Field, key: str) -> tuple[Step, ...] | None:
    if key != "phases":
        duration = field.seconds(minimum_ms=500)
        if duration is None:
            return None
        kind = StepKind.HOLD if key == "hold" else StepKind.WORK
        return (Step(name="Hold" if key == "hold" else "Go", kind=kind, duration_ms=duration),)
    items = field.sequence(min_items=1)
    if items is None:
        return None
    steps = [_phase(item) for item in items]
    if any(step is None for step in steps):
        return None
    return tuple(step for step in steps if step is not None)


def _phase(field: Field) -> Step | None:
    """A phase is `{name: Inhale, seconds: 4}` or, for short, `{Inhale: 4}`."""
    keys = field.mapping_keys()
    if len(keys) == 1 and keys[0] not in ("name", "seconds"):
        fields = field.mapping(optional=keys)
        if not fields:
            return None
        name = field.key_field(keys[0]).text(max_length=100)
        duration = fields[keys[0]].seconds(minimum_ms=500)
        return None if name is None or duration is None else Step(name=name, kind=StepKind.STEP, duration_ms=duration)
    if len(keys) > 1 and "name" not in keys and "seconds" not in keys:
        field.problem(
            f"a phase is one name and its seconds, like `- Inhale: 4`, one per list item; found {len(keys)} "
            f"names ({', '.join(keys)}): put each on its own line starting with '- '"
        )
        return None
    fields = field.mapping(required=["name", "seconds"])
    if fields is None or len(fields) != 2:
        return None
    name = fields["name"].text(max_length=100)
    duration = fields["seconds"].seconds(minimum_ms=500)
    if name is None or duration is None:
        return None
    return Step(name=name, kind=StepKind.STEP, duration_ms=duration)


DEFAULT_PLAN = "feet-for-back-pain.yaml"


def shipped_plan_path(name: str = DEFAULT_PLAN) -> Path:
    """A plan shipped with voiceguide (installed as voiceguide.data, or data/ in a source tree)."""
    try:
        from importlib.resources import files

        candidate = Path(str(files("voiceguide.data").joinpath(name)))
        if candidate.is_file():
            return candidate
    except (ModuleNotFoundError, TypeError):
        pass
    return Path(__file__).resolve().parent.parent / "data" / name
