"""What the session says, in English: every fixed phrase and how numbers and durations are read.

Numbers are spelled out here rather than left to the speech engine, which reads some digit forms
oddly. Keeping every phrase in this one module is what lets other languages replace it wholesale.
"""

from __future__ import annotations

from num2words import num2words

from voiceguide.plan import Exercise, GapKind, Plan, StepKind


def number(value: int | float) -> str:
    return str(num2words(value, lang="en"))


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    word = singular if count == 1 else (plural_form or singular + "s")
    return f"{number(count)} {word}"


def duration(ms: int) -> str:
    """ "three seconds", "two and a half seconds", "one minute thirty seconds"."""
    minutes, rest_ms = divmod(ms, 60_000)
    parts = [plural(minutes, "minute")] if minutes else []
    if rest_ms or not minutes:
        seconds = rest_ms / 1000
        if seconds == int(seconds):
            parts.append(plural(int(seconds), "second"))
        elif seconds * 2 == int(seconds * 2):
            whole = int(seconds)
            parts.append(f"{number(whole)} and a half seconds" if whole else "half a second")
        else:
            parts.append(f"{number(round(seconds, 1))} seconds")
    return " ".join(parts)


def about_duration(ms: int) -> str:
    """A session length rounded the way people say it: "about twelve minutes"."""
    if ms < 90_000:
        return f"about {plural(max(10, round(ms / 10_000) * 10), 'second')}"
    return f"about {plural(round(ms / 60_000), 'minute')}"


def join_list(items: tuple[str, ...] | list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def sentence(text: str) -> str:
    text = text.strip()
    return text if text[-1:] in ".!?" else text + "."


class English:
    """The phrases of a session. Each returns one utterance, synthesized as one clip."""

    def intro(self, plan: Plan, total_ms: int) -> list[str]:
        lines = [sentence(plan.title)]
        if plan.equipment:
            lines.append(f"You will need {join_list(plan.equipment)}.")
        lines.append(sentence(plan.safety))
        lines.append(f"This session takes {about_duration(total_ms)}.")
        lines.append("Let's begin.")
        return lines

    def announce(self, exercise: Exercise, index: int, count: int, *, brief: bool = False) -> list[str]:
        """The exercise, then its instructions (or, when *brief*, its short cue if it has one)."""
        heading = f"Exercise {number(index)} of {number(count)}: " if count > 1 else ""
        lines = [heading + sentence(exercise.name)]
        words = exercise.cue if brief else exercise.instructions
        if words:
            lines.append(sentence(words))
        lines.append(self.summary(exercise))
        if exercise.sides:
            lines.append(f"Start with the {exercise.sides[0]}.")
        return lines

    def summary(self, exercise: Exercise) -> str:
        """ "Ten reps, on each side. Hold each for five seconds." """
        reps, kind = exercise.reps, exercise.kind
        first = exercise.steps[0]
        if kind is StepKind.WORK:
            head = f"{plural(reps, 'round')} of {duration(first.duration_ms)}"
        else:
            head = plural(reps, "rep")
        if exercise.sets > 1:
            head = f"{plural(exercise.sets, 'set')} of {head}"
        if len(exercise.sides) > 1:
            head += ", on each side"
        if kind is StepKind.HOLD:
            detail = f"Hold {'each ' if reps > 1 else ''}for {duration(first.duration_ms)}."
        elif kind is StepKind.WORK:
            resting = exercise.gap_kind is GapKind.REST and exercise.gap_ms and reps > 1
            detail = f"Rest {duration(exercise.gap_ms)} between rounds." if resting else ""
        else:
            steps = [f"{step.name} for {duration(step.duration_ms)}" for step in exercise.steps]
            # Phase names are written capitalized, as they are spoken alone; mid-sentence they are not.
            detail = sentence(", ".join([steps[0], *(s[0].lower() + s[1:] for s in steps[1:])]))
        return f"{head[0].upper()}{head[1:]}. {detail}".strip()

    def get_ready(self) -> str:
        return "Get ready."

    def start_word(self, kind: StepKind, name: str) -> str:
        return {StepKind.HOLD: "Hold.", StepKind.WORK: "Go!"}.get(kind, sentence(name))

    def count(self, value: int) -> str:
        return number(value)

    def halfway(self) -> str:
        return "Halfway."

    def end_word(self, kind: StepKind, gap_kind: GapKind) -> str:
        if gap_kind is GapKind.REST:
            return "Rest."
        return {StepKind.HOLD: "Release.", StepKind.WORK: "Stop."}.get(kind, "Relax.")

    def next_rep(self, kind: StepKind, rep: int, reps: int) -> str:
        word = "Round" if kind is StepKind.WORK else "Rep"
        return f"{word} {number(rep)} of {number(reps)}."

    def switch(self, side: str) -> str:
        return f"Switch to the {side}."

    def next_set(self, set_number: int, sets: int) -> str:
        return f"Next: set {number(set_number)} of {number(sets)}."

    def rest(self) -> str:
        return "Rest."

    def next_up(self, name: str) -> str:
        return f"Next up: {sentence(name)}"

    def outro(self, plan: Plan) -> list[str]:
        lines = ["Well done. That is the end of the session."]
        if plan.frequency:
            lines.append(f"Do this routine {sentence(plan.frequency)}")
        return lines
