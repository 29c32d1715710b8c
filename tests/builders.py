"""Plans for tests, written as a person writes them, from the few parts that tests vary.

    plan_yaml("Batch tiny", SQUEEZE, **QUICK)

is a plan of one exercise of two short holds, with a short lead-in and no counting: a session
that builds in about a second. Values are written as they are given (a list of sides as the text
"[left arm, right arm]"), so that the YAML reads as a person would write it.
"""

from __future__ import annotations

from pathlib import Path


def exercise_yaml(name: str, instructions: str, **fields: object) -> str:
    """One exercise of a plan's list, its fields in the order given."""
    lines = [f"  - name: {name}", f"    instructions: {instructions}"]
    lines += [f"    {key}: {value}" for key, value in fields.items()]
    return "\n".join(lines) + "\n"


def plan_yaml(title: str, *exercises: str, **settings: object) -> str:
    """A plan of *exercises* (see exercise_yaml), with *settings* if any, in the order given."""
    lines = [f"title: {title}"]
    if settings:
        lines += ["settings:", *(f"  {key}: {value}" for key, value in settings.items())]
    return "\n".join([*lines, "exercises:"]) + "\n" + "".join(exercises)


def write_plan(folder: Path, text: str, name: str = "tiny.yaml") -> Path:
    """*text* written to *folder*/*name*."""
    path = folder / name
    path.write_text(text)
    return path


SQUEEZE = exercise_yaml("Squeeze", "Squeeze your hand.", reps=2, hold=2, reset=3)
"""One exercise of two short holds."""
ONE_SQUEEZE = exercise_yaml("Squeeze", "Squeeze.", reps=1, hold=2)
"""One hold of two seconds, its instruction a single word."""
QUICK = {"lead_in": 2, "counting": "none"}
"""Settings for a short session: a short lead-in, no counting."""
TINY_PLAN = plan_yaml("Tiny", SQUEEZE)
"""One exercise of two short holds: a real session in about a second."""
