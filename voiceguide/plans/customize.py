"""Apply a person's layers (profile, --set options) and a week of progression to a plan.

Pure: a plan and layers in, the effective plan and where each of its values came from out.
Precedence is plan < profile < command line: layers apply in order, and within a layer the
settings for every exercise come before those for one exercise. Progression then gives the value
for the week (week 1 when a progression is given and no week: the plan as prescribed for the
start), and the scales (hold_scale, work_scale, rest_scale) multiply last.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from voiceguide.common.clock import duration
from voiceguide.common.errors import PlanError
from voiceguide.plans.localize import localized, missing_translations, translation_languages
from voiceguide.plans.plan import (
    Circuit,
    Counting,
    Exercise,
    GapKind,
    Plan,
    Progression,
    Step,
    StepKind,
    rep_part,
)
from voiceguide.plans.profile import ExerciseOverrides, Layer, Located
from voiceguide.plans.settings import (
    CIRCUIT_SETTINGS,
    EXERCISE_SETTINGS,
    SCALES,
    SESSION_SETTINGS,
    Scope,
    Setting,
)
from voiceguide.plans.values import Count, Seconds, SideChoice, tip_past_end

PLAN = "plan"

SESSION_FIELDS = {
    name: setting.field
    for name, setting in SESSION_SETTINGS.items()
    if setting.scope & Scope.SESSION
}
"""Settings of the whole session, by the `Plan` field each is."""
CHOOSING = ("sides", "only", "skip")
"""Settings for every exercise that choose what is done rather than set a value."""
EVERY_EXERCISE_KEYS = tuple(
    name
    for name, setting in SESSION_SETTINGS.items()
    if setting.scope & Scope.EVERY_EXERCISE and name not in (*SCALES, *CHOOSING, *CIRCUIT_SETTINGS)
)
"""Settings that apply to every exercise (reset and rest to those whose reps are separated so)."""
EXERCISE_FIELDS = {
    name: setting.field
    for name, setting in EXERCISE_SETTINGS.items()
    if name not in ("hold", "work", "rest", "reset", "skip")
}
"""An exercise's settings that are one field of `Exercise` each (the timed part of a rep, the
pause between reps and skipping are not)."""
EXPLAINED = (
    "reps", "sets", "timed", "gap", "sides", "switch", "set_rest", "lead_in", "counting",
    "countdown", "announce_last",
)  # fmt: skip
"""The order `preview` lists an exercise's values in; the timed part and the pause between reps
under their own names, and any other explained setting after these."""
EXPLAINED_AFTER = tuple(
    key for key in EXERCISE_FIELDS if EXERCISE_SETTINGS[key].explained and key not in EXPLAINED
)


@dataclass(frozen=True, slots=True)
class Origin:
    """One effective value and where it came from, for `preview --explain`."""

    target: str
    value: str
    source: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Customized:
    plan: Plan
    explanation: tuple[Origin, ...]
    person: str | None
    """The name the profile gives, if any."""
    missing_translations: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """By language (the session's and each the plan has texts in): the texts the plan does not give in
    it."""
    plan_language: str = "en"
    """The language the plan is written in (its `language:`), which the session may not speak."""
    week_one_for: str | None = None
    """Where the progression is (plan or profile) that made this week 1, when no week was asked for."""


@dataclass
class _Value:
    # Any: one slot holds whichever type its field has (ms, count, choice, names); the field
    # readers in values.py and profile.py have already checked it.
    value: Any
    source: str = PLAN
    layer: int = 0
    """0 for the plan, then 1, 2, ... for each layer in order: a progression gives way to a value
    set in a later layer than its own."""


@dataclass
class _ExerciseState:
    exercise: Exercise
    values: dict[str, _Value]
    progressions: dict[str, tuple[Progression, str, int]] = field(default_factory=dict)
    skipped: _Value = field(default_factory=lambda: _Value(False))

    @property
    def timed_key(self) -> str:
        return {StepKind.HOLD: "hold", StepKind.WORK: "work"}.get(self.exercise.kind, "phases")


@dataclass
class _CircuitState:
    circuit: Circuit
    values: dict[str, _Value]
    exercises: list[_ExerciseState]

    @property
    def done(self) -> bool:
        """Whether any of its exercises is done (a circuit of skipped exercises is left out)."""
        return any(not state.skipped.value for state in self.exercises)


def customize(*, plan: Plan, layers: Sequence[Layer] = (), week: int | None = None) -> Customized:
    """The plan as this person gets it: raise PlanError naming every override that does not fit."""
    problems: list[str] = []
    session = {key: _Value(getattr(plan, attr)) for key, attr in SESSION_FIELDS.items()}
    scales = {key: _Value(SESSION_SETTINGS[key].default) for key in SCALES}
    states = [_state(exercise) for exercise in plan.exercises]
    circuits = [
        _CircuitState(
            circuit=circuit,
            values={
                key: _Value(getattr(circuit, setting.field))
                for key, setting in CIRCUIT_SETTINGS.items()
            },
            exercises=[state for state in states if state.exercise.circuit == circuit.name],
        )
        for circuit in plan.circuits
    ]
    by_name: dict[str, _ExerciseState | _CircuitState] = {
        state.exercise.name.casefold(): state for state in states
    }
    by_name |= {state.circuit.name.casefold(): state for state in circuits}
    person = None
    for number, layer in enumerate(layers, start=1):
        person = layer.name or person
        for key, located in layer.settings.items():
            if key in SESSION_FIELDS:
                session[key] = _Value(located.value, located.where, number)
            elif key in scales:
                scales[key] = _Value(located.value, located.where, number)
            elif key in CIRCUIT_SETTINGS:
                for circuit in circuits:
                    circuit.values[key] = _Value(located.value, located.where, number)
            elif key in EVERY_EXERCISE_KEYS:
                for state in states:
                    if key not in ("rest", "reset") or state.values["gap_kind"].value == GapKind(
                        key
                    ):
                        _set(state, key, located, number, problems)
            elif key == "sides":
                for state in states:
                    if state.exercise.sides:
                        _choose_sides(state, located, number, problems, strict=False)
            else:  # only, skip
                names = located.value if isinstance(located.value, tuple) else ()
                chosen = [
                    state
                    for name in names
                    for state in _exercises_of(_find(by_name, name, located.where, problems))
                ]
                chosen_ids = {id(state) for state in chosen}
                for state in states:
                    if id(state) in chosen_ids:
                        state.skipped = _Value(key == "skip", located.where, number)
                    elif (
                        key == "only"
                    ):  # a later `only` replaces an earlier one: it says what is done
                        state.skipped = _Value(True, located.where, number)
        for overrides in layer.exercises:
            found = _find(by_name, overrides.name, overrides.where, problems)
            if isinstance(found, _CircuitState):
                _set_circuit(found, overrides, number, problems)
                continue
            if found is None:
                continue
            for key, located in overrides.values.items():
                if key not in EXERCISE_SETTINGS:
                    problems.append(
                        f"{located.where}: {found.exercise.name!r} is an exercise, and {key!r} belongs "
                        f"to a circuit; {_circuits_are(circuits)}"
                    )
                    continue
                if key == "skip":
                    found.skipped = _Value(located.value, located.where, number)
                elif key == "sides":
                    _choose_sides(found, located, number, problems, strict=True)
                else:
                    _set(found, key, located, number, problems)
            for key, progression in overrides.progressions:
                if key in ("hold", "work") and found.timed_key != key:
                    problems.append(
                        f"{overrides.where}: {found.exercise.name!r} is timed with {found.timed_key!r}, "
                        f"so it has no {key!r} to progress"
                    )
                    continue
                found.progressions[key] = (progression, overrides.where, number)

    week_one_for = None
    if week is None:
        week_one_for = next(
            (_place(s, plan.source_name) for s in states if s.progressions and not s.skipped.value),
            None,
        )
        week = 1 if week_one_for else None
    if week is not None:
        for state in states:
            _progress(state, week, problems, plan.source_name)
    exercises = [_exercise(state, scales) for state in states if not state.skipped.value]
    if not problems:
        kept = (state for state in states if not state.skipped.value)
        for state, exercise in zip(kept, exercises, strict=True):
            problems += _tips_past_end(state, exercise, scales)
    effective_circuits = tuple(
        replace(
            state.circuit,
            **{
                setting.field: _times(state.values[key].value, scales, setting.scaled_by)
                for key, setting in CIRCUIT_SETTINGS.items()
            },
        )
        for state in circuits
        if state.done
    )
    if not exercises and not problems:
        problems.append(
            f"{plan.source_name}: every exercise of the plan is skipped (by `only` or `skip`); keep at least one"
        )
    if problems:
        raise PlanError(problems, subject="the customization (profile, --set, --week)")
    values = {
        attr: _times(session[key].value, scales, SESSION_SETTINGS[key].scaled_by)
        for key, attr in SESSION_FIELDS.items()
    }
    language = values.pop("language")
    effective = replace(
        plan, exercises=tuple(exercises), circuits=effective_circuits, week=week, **values
    )
    missing = {
        code: tuple(missing_translations(effective, code))
        for code in sorted({language, *translation_languages(plan)} - {plan.language})
    }
    return Customized(
        plan=localized(effective, language),
        explanation=tuple(_explain(session, scales, states, circuits)),
        person=person,
        missing_translations=missing,
        plan_language=plan.language,
        week_one_for=week_one_for,
    )


def _place(state: _ExerciseState, plan_name: str) -> str:
    """Where the first of an exercise's progressions is given."""
    source = next(iter(state.progressions.values()))[1]
    return plan_name if source == PLAN else source


def _state(exercise: Exercise) -> _ExerciseState:
    values = {key: _Value(getattr(exercise, attr)) for key, attr in EXERCISE_FIELDS.items()}
    values["gap"] = _Value(exercise.gap_ms)
    values["gap_kind"] = _Value(exercise.gap_kind)
    if exercise.kind is not StepKind.STEP:
        values[exercise.kind.value] = _Value(exercise.steps[0].duration_ms)
    progressions = {key: (progression, PLAN, 0) for key, progression in exercise.progressions}
    return _ExerciseState(exercise=exercise, values=values, progressions=progressions)


def _find(
    by_name: dict[str, _ExerciseState | _CircuitState], name: str, where: str, problems: list[str]
) -> _ExerciseState | _CircuitState | None:
    found = by_name.get(name.casefold())
    if found is None:
        exercises = [s.exercise.name for s in by_name.values() if isinstance(s, _ExerciseState)]
        circuits = [s.circuit.name for s in by_name.values() if isinstance(s, _CircuitState)]
        close = difflib.get_close_matches(name, [*exercises, *circuits], n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        what = "exercise or circuit" if circuits else "exercise"
        listed = f"; its circuits are: {', '.join(circuits)}" if circuits else ""
        problems.append(
            f"{where}: there is no {what} {name!r} in the plan.{hint} Its exercises are: "
            f"{', '.join(exercises)}{listed}"
        )
    return found


def _exercises_of(found: _ExerciseState | _CircuitState | None) -> list[_ExerciseState]:
    """What choosing *found* by name chooses: the exercise, or every exercise of the circuit."""
    if isinstance(found, _CircuitState):
        return found.exercises
    return [] if found is None else [found]


def _circuits_are(circuits: list[_CircuitState]) -> str:
    names = [state.circuit.name for state in circuits]
    return (
        f"the plan's circuits are: {', '.join(names)}"
        if names
        else "the plan has no circuits (a plan's `circuit:` entry makes one)"
    )


def _set_circuit(
    state: _CircuitState, overrides: ExerciseOverrides, layer: int, problems: list[str]
) -> None:
    """A profile's or --set's values for one circuit: its rounds and rest, or skipping it whole."""
    for key, located in overrides.values.items():
        if located.value is None:
            continue  # (a value with a problem, already reported where it was read)
        if key == "skip":
            for exercise in state.exercises:
                exercise.skipped = _Value(located.value, located.where, layer)
        elif key in CIRCUIT_SETTINGS:
            state.values[key] = _Value(located.value, located.where, layer)
        else:
            problems.append(
                f"{located.where}: {state.circuit.name!r} is a circuit: it takes "
                f"{', '.join(CIRCUIT_SETTINGS)} and skip; give {key!r} to its exercises "
                f"({', '.join(e.exercise.name for e in state.exercises)})"
            )
    if overrides.progressions:
        problems.append(
            f"{overrides.where}: {state.circuit.name!r} is a circuit, and a progression belongs to "
            "one of its exercises"
        )


def _set(
    state: _ExerciseState, key: str, located: Located, layer: int, problems: list[str]
) -> None:
    if located.value is None:
        return  # a value with a problem, already reported where it was read
    if key in ("hold", "work") and state.timed_key != key:
        problems.append(
            f"{located.where}: {state.exercise.name!r} is timed with {state.timed_key!r}, so it has no {key!r} to set"
        )
        return
    if key in ("rest", "reset"):
        state.values["gap"] = _Value(located.value, located.where, layer)
        state.values["gap_kind"] = _Value(GapKind(key), located.where, layer)
        return
    state.values[key] = _Value(located.value, located.where, layer)


def _words(side: str) -> list[str]:
    return re.findall(r"[a-z]+", side.casefold())


def _choose_sides(
    state: _ExerciseState, located: Located, layer: int, problems: list[str], *, strict: bool
) -> None:
    sides: tuple[str, ...] = state.exercise.sides
    choice = located.value
    chosen: list[str]
    if isinstance(choice, tuple):  # named sides, in the order wanted
        by_name = {side.casefold(): side for side in sides}
        unknown = [name for name in choice if name.casefold() not in by_name]
        if unknown or not sides or not choice:
            named = unknown[0] if unknown else choice[0] if choice else None
            what = f"no side {named!r}" if named else "no sides to choose from an empty list"
            problems.append(
                f"{located.where}: {state.exercise.name!r} has {what}; "
                f"its sides are: {', '.join(sides) or 'none (it is not done per side)'}"
            )
            return
        chosen = [by_name[name.casefold()] for name in choice]
    elif isinstance(choice, SideChoice):
        left = [side for side in sides if "left" in _words(side)]
        right = [side for side in sides if "right" in _words(side)]
        chosen = {
            SideChoice.BOTH: list(sides),
            SideChoice.LEFT: left,
            SideChoice.RIGHT: right,
            SideChoice.LEFT_FIRST: left + [side for side in sides if side not in left],
            SideChoice.RIGHT_FIRST: right + [side for side in sides if side not in right],
        }[choice]
        if choice is not SideChoice.BOTH and (not (left or right) or not chosen):
            if strict:
                problems.append(
                    f"{located.where}: {state.exercise.name!r} has no {choice.value.split('-')[0]} side; "
                    f"its sides are: {', '.join(sides) or 'none (it is not done per side)'}"
                )
            return
    else:
        return
    state.values["sides"] = _Value(tuple(chosen), located.where, layer)


def _progress(state: _ExerciseState, week: int, problems: list[str], plan_name: str) -> None:
    for key, (progression, source, layer) in state.progressions.items():
        value_key = "gap" if key in ("rest", "reset") else key
        current = state.values.get(value_key)
        if current is None or not isinstance(current.value, int) or current.layer > layer:
            continue  # (a value set on a later layer than the progression's wins over it)
        value = progression.at_week(current.value, week)
        kind = EXERCISE_SETTINGS[key].kind
        assert isinstance(kind, (Count, Seconds))  # (what progresses is a count or a duration)
        if value < kind.least:
            shown = kind.shown(value)
            where = plan_name if source == PLAN else source
            problems.append(
                f"{where}: in week {week}, {state.exercise.name}.{key} would be {shown}; "
                "give the progression a 'min' it cannot go below"
            )
            continue
        base = current.source if progression.start is None else source
        state.values[value_key] = _Value(
            value, f"{base}, week {week} by the progression in {source}", layer
        )


def _times(value: Any, scales: dict[str, _Value], scale: str | None) -> Any:
    """*value* multiplied by the scale named *scale*, if any (a duration in ms stays whole)."""
    if scale is None or value is None:
        return value
    return round(int(value) * float(scales[scale].value))


def _gap_setting(state: _ExerciseState) -> Setting:
    """The setting of the pause between an exercise's reps: its rest or its reset."""
    return EXERCISE_SETTINGS[str(state.values["gap_kind"].value)]


def _step_scale(kind: StepKind) -> str | None:
    # A phase is held, so it is scaled as a hold.
    return EXERCISE_SETTINGS["work" if kind is StepKind.WORK else "hold"].scaled_by


def _exercise(state: _ExerciseState, scales: dict[str, _Value]) -> Exercise:
    exercise, values = state.exercise, state.values

    def scaled(step: Step) -> Step:
        duration = (
            values[step.kind.value].value if step.kind is not StepKind.STEP else step.duration_ms
        )
        return replace(step, duration_ms=_times(duration, scales, _step_scale(step.kind)))

    return replace(
        exercise,
        steps=tuple(scaled(step) for step in exercise.steps),
        gap_ms=_times(values["gap"].value, scales, _gap_setting(state).scaled_by),
        gap_kind=values["gap_kind"].value,
        progressions=(),
        **{
            attr: _times(values[key].value, scales, EXERCISE_SETTINGS[key].scaled_by)
            for key, attr in EXERCISE_FIELDS.items()
        },
    )


def _tips_past_end(
    state: _ExerciseState, exercise: Exercise, scales: dict[str, _Value]
) -> list[str]:
    """A tip said at or after the end of the rep it is said in, once this person's values shortened
    the rep (the plan's own values were checked when it was read)."""
    problems = []
    for tip in exercise.tips:
        wrong = tip_past_end(tip, exercise.rep_ms, rep_part(exercise.kind))
        if wrong is None:
            continue
        timed = state.timed_key
        if timed == "phases":
            scale = scales[_step_scale(StepKind.STEP) or ""]
            source = f"plan x {scale.value:g} (hold_scale, {scale.source})"
        else:
            setting = EXERCISE_SETTINGS[timed]
            value = state.values[timed]
            if setting.scaled_by:
                value = _scaled(value, scales[setting.scaled_by], setting.scaled_by)
            source = value.source
        problems.append(
            f"{tip.where}: {wrong} in this session ({source}); give {exercise.name!r} other tips "
            f"(`tips:` in the profile), or this one an `at` before {duration(exercise.rep_ms)}"
        )
    return problems


def _counting_shown(exercise: Exercise) -> str:
    """The exercise's counting; for `auto`, what it is in each timed part of a rep."""
    if exercise.counting is not Counting.AUTO:
        return exercise.counting.value
    chosen: dict[Counting, list[str]] = {}
    for index, step in enumerate(exercise.steps):
        chosen.setdefault(exercise.step_counting(index), []).append(step.name)
    if len(chosen) == 1:
        return f"auto: {next(iter(chosen)).value}"
    return "auto: " + ", ".join(f"{c.value} ({', '.join(names)})" for c, names in chosen.items())


def _shown(setting: Setting, value: Any) -> str:
    return setting.unset if value is None else setting.kind.shown(value)


def _explain(
    session: dict[str, _Value],
    scales: dict[str, _Value],
    states: list[_ExerciseState],
    circuits: list[_CircuitState],
) -> list[Origin]:
    rows = []
    for key, value in session.items():
        setting = SESSION_SETTINGS[key]
        if value.value is None and not setting.listed_unset:
            continue
        if setting.scaled_by:
            value = _scaled(value, scales[setting.scaled_by], setting.scaled_by)
        rows.append(Origin(key, _shown(setting, value.value), value.source))
    rows += [
        Origin(key, _shown(SESSION_SETTINGS[key], v.value), v.source) for key, v in scales.items()
    ]
    explained_circuits: set[str] = set()
    for state in states:
        name, values = state.exercise.name, state.values
        circuit = next((c for c in circuits if any(s is state for s in c.exercises)), None)
        if circuit is not None and circuit.circuit.name not in explained_circuits and circuit.done:
            explained_circuits.add(circuit.circuit.name)
            for key, setting in CIRCUIT_SETTINGS.items():
                value = circuit.values[key]
                if setting.scaled_by:
                    value = _scaled(value, scales[setting.scaled_by], setting.scaled_by)
                rows.append(
                    Origin(
                        f"{circuit.circuit.name}.{key}", _shown(setting, value.value), value.source
                    )
                )
        if state.skipped.value:
            rows.append(Origin(name, "skipped", state.skipped.source))
            continue
        shown = {
            "reps": True,
            "sets": True,
            "timed": True,
            "gap": values["reps"].value > 1,
            "sides": bool(state.exercise.sides),
            "switch": len(values["sides"].value) > 1,
            "set_rest": values["sets"].value > 1,
            "countdown": values["counting"].value is not Counting.NONE,
            "announce_last": values["reps"].value > 1,
        }
        keys = [key for key in EXPLAINED if shown.get(key, True)]
        keys += EXPLAINED_AFTER
        for key in keys:
            if key == "timed" and state.timed_key == "phases":
                scale_name = _step_scale(StepKind.STEP) or ""
                scale = scales[scale_name]
                steps = [
                    f"{s.name} {duration(round(s.duration_ms * scale.value))}"
                    for s in state.exercise.steps
                ]
                source = (
                    PLAN
                    if scale.value == 1
                    else f"plan x {scale.value:g} ({scale_name}, {scale.source})"
                )
                rows.append(Origin(f"{name}.phases", ", ".join(steps), source))
                continue
            key = state.timed_key if key == "timed" else key
            setting = _gap_setting(state) if key == "gap" else EXERCISE_SETTINGS[key]
            value = values[key]
            if setting.scaled_by:
                value = _scaled(value, scales[setting.scaled_by], setting.scaled_by)
            label = setting.name if key == "gap" else key
            text = _shown(setting, value.value)
            if key == "counting":  # (`auto` says what it chose for this exercise's intervals)
                text = _counting_shown(_exercise(state, scales))
            rows.append(Origin(f"{name}.{label}", text, value.source))
    return rows


def _scaled(value: _Value, scale: _Value, scale_name: str) -> _Value:
    if scale.value == 1 or value.value is None:
        return value
    return _Value(
        round(value.value * scale.value),
        f"{value.source} x {scale.value:g} ({scale_name}, {scale.source})",
    )
