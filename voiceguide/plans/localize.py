"""The plan's own texts in the session's language: its translations where it has them, else its own.

A plan gives each spoken text in its language and, optionally, in others (`name: {en: ..., de:
...}`); the loader keeps the others in `Plan.translations`. Exercises are matched to profiles by
their names in the plan's language, so translating comes last, after customizing.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

from voiceguide.plans.plan import Exercise, Plan, Step, StepKind


def spoken_texts(plan: Plan) -> Iterator[tuple[str, str, str]]:
    """(where, scope, text) for every text of the plan that the session speaks; the scope is where
    its translations are (see Plan.translations)."""
    yield "title", "", plan.title
    if plan.safety:
        yield "safety", "", plan.safety
    if plan.frequency:
        yield "frequency", "", plan.frequency
    for index, item in enumerate(plan.equipment):
        yield f"equipment[{index}]", "", item
    for circuit in plan.circuits:
        yield f"circuit {circuit.name!r} name", "", circuit.name
    for exercise in plan.exercises:
        where, scope = f"exercise {exercise.name!r}", exercise.name
        yield f"{where} name", "", exercise.name
        if exercise.instructions:
            yield f"{where} instructions", scope, exercise.instructions
        if exercise.cue:
            yield f"{where} cue", scope, exercise.cue
        for side in exercise.sides:
            yield f"{where} side", scope, side
        for step in exercise.steps:
            if step.kind is StepKind.STEP:
                yield f"{where} phase", scope, step.name
        for tip in exercise.tips:
            yield f"{where} tip", scope, tip.say


def _version(plan: Plan, scope: str, text: str, language: str) -> str | None:
    return plan.translations.get(scope, {}).get(text, {}).get(language)


def missing_translations(plan: Plan, language: str) -> list[str]:
    """Where the plan has no *language* version of a spoken text (empty for its own language)."""
    if language == plan.language:
        return []
    return [
        f"{where}: {text!r}"
        for where, scope, text in spoken_texts(plan)
        if _version(plan, scope, text, language) is None
    ]


def translation_languages(plan: Plan) -> list[str]:
    """The languages the plan gives any of its texts in, besides its own."""
    return sorted(
        {
            code
            for texts in plan.translations.values()
            for versions in texts.values()
            for code in versions
        }
    )


def localized(plan: Plan, language: str) -> Plan:
    """*plan* to be spoken in *language*: each text in that language where the plan has it."""
    if language == plan.language:
        return plan

    def say(text: str, scope: str = "") -> str:
        return _version(plan, scope, text, language) or text

    def exercise(original: Exercise) -> Exercise:
        scope = original.name

        def optional(text: str | None) -> str | None:
            return None if text is None else say(text, scope)

        def step(original: Step) -> Step:
            return (
                replace(original, name=say(original.name, scope))
                if original.kind is StepKind.STEP
                else original
            )

        return replace(
            original,
            name=say(original.name),
            circuit=None if original.circuit is None else say(original.circuit),
            instructions=optional(original.instructions),
            cue=optional(original.cue),
            sides=tuple(say(side, scope) for side in original.sides),
            steps=tuple(step(s) for s in original.steps),
            tips=tuple(replace(tip, say=say(tip.say, scope)) for tip in original.tips),
        )

    return replace(
        plan,
        language=language,
        title=say(plan.title),
        safety=say(plan.safety) if plan.safety else plan.safety,
        frequency=None if plan.frequency is None else say(plan.frequency),
        equipment=tuple(say(item) for item in plan.equipment),
        exercises=tuple(exercise(e) for e in plan.exercises),
        circuits=tuple(replace(c, name=say(c.name)) for c in plan.circuits),
    )
