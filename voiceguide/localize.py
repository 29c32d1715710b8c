"""The plan's own texts in the session's language: its translations where it has them, else its own.

A plan gives each spoken text in its language and, optionally, in others (`name: {en: ..., de: ...}`);
the loader keeps the others in `Plan.translations`. Exercises are matched to profiles by their names
in the plan's language, so translating comes last, after customizing.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

from voiceguide.plan import Exercise, Plan, Step, StepKind


def spoken_texts(plan: Plan) -> Iterator[tuple[str, str]]:
    """(where, text) for every text of the plan that the session speaks."""
    yield "title", plan.title
    if plan.safety:
        yield "safety", plan.safety
    if plan.frequency:
        yield "frequency", plan.frequency
    for index, item in enumerate(plan.equipment):
        yield f"equipment[{index}]", item
    for exercise in plan.exercises:
        where = f"exercise {exercise.name!r}"
        yield f"{where} name", exercise.name
        if exercise.instructions:
            yield f"{where} instructions", exercise.instructions
        if exercise.cue:
            yield f"{where} cue", exercise.cue
        for side in exercise.sides:
            yield f"{where} side", side
        for step in exercise.steps:
            if step.kind is StepKind.STEP:
                yield f"{where} phase", step.name


def missing_translations(plan: Plan, language: str) -> list[str]:
    """Where the plan has no *language* version of a spoken text (empty for its own language)."""
    if language == plan.language:
        return []
    return [
        f"{where}: {text!r}" for where, text in spoken_texts(plan) if language not in plan.translations.get(text, {})
    ]


def translation_languages(plan: Plan) -> list[str]:
    """The languages the plan gives any of its texts in, besides its own."""
    return sorted({code for versions in plan.translations.values() for code in versions})


def localized(plan: Plan, language: str) -> Plan:
    """*plan* to be spoken in *language*: each text in that language where the plan has it."""
    if language == plan.language:
        return plan

    def say(text: str) -> str:
        return plan.translations.get(text, {}).get(language, text)

    def optional(text: str | None) -> str | None:
        return None if text is None else say(text)

    def step(original: Step) -> Step:
        return replace(original, name=say(original.name)) if original.kind is StepKind.STEP else original

    def exercise(original: Exercise) -> Exercise:
        return replace(
            original,
            name=say(original.name),
            instructions=optional(original.instructions),
            cue=optional(original.cue),
            sides=tuple(say(side) for side in original.sides),
            steps=tuple(step(s) for s in original.steps),
        )

    return replace(
        plan,
        language=language,
        title=say(plan.title),
        safety=optional(plan.safety),
        frequency=optional(plan.frequency),
        equipment=tuple(say(item) for item in plan.equipment),
        exercises=tuple(exercise(e) for e in plan.exercises),
    )
