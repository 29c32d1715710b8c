"""What the session says: which phrases, in what order, filled from the language's catalog.

The words themselves are in voiceguide/catalogs/<language>.yaml; this module only decides which
phrase is said where, and what goes in its fields.
"""

from __future__ import annotations

from typing import Any

from voiceguide.language.catalog import DEFAULT_LANGUAGE, Language, load_catalog
from voiceguide.plans.plan import Exercise, GapKind, Plan, StepKind

SESSION_PHRASES = (
    "default_safety",
    "equipment",
    "length",
    "length_short",
    "begin",
    "exercise_heading",
    "start_side",
    "reps",
    "rounds",
    "sets",
    "each_side",
    "hold_each",
    "hold_once",
    "rest_between_rounds",
    "phase",
    "get_ready",
    "hold",
    "go",
    "halfway",
    "time_left",
    "release",
    "stop",
    "relax",
    "rest",
    "next_rep",
    "next_round",
    "last_rep",
    "last_round",
    "switch",
    "next_set",
    "circuit",
    "done",
    "frequency",
    "half_second",
    "seconds_and_a_half",
    "seconds_decimal",
    "minutes_and_seconds",
    "chapter_intro",
    "chapter_closing",
)
"""The phrases of the session, and its chapter titles (shown by players, not spoken)."""

PAGE_LABELS = (
    "play",
    "pause",
    "previous",
    "next",
    "chapters",
    "next_up",
    "time_left",
    "progress",
    "rep",
    "set",
    "round",
    "side",
    "keys",
    "no_audio",
    "announce",
    "lead_in",
    "hold",
    "work",
    "reset",
    "rest",
    "switch",
    "transition",
)
"""The labels of the player page beside a session (`page_<label>` in the catalog): shown and read
by screen readers, never spoken in the session. The parts of an exercise are named by their phase
(`lead_in` for lead-in); the intro and the closing by their chapter titles."""

PHRASE_KEYS = (*SESSION_PHRASES, *(f"page_{label}" for label in PAGE_LABELS))
"""Every phrase a catalog must have (a catalog may add `<key>_<case>` variants)."""


def sentence(text: str) -> str:
    """*text* as a sentence: starting with a capital, ending with a full stop unless it has one."""
    text = text.strip()
    text = text[:1].upper() + text[1:]
    return text if text[-1:] in ".!?…" else text + "."


def rounded_length(ms: int) -> tuple[str, int]:
    """A session length as people say it: ("length", whole minutes), or ("length_short", seconds)."""
    if ms < 90_000:
        return "length_short", max(10, round(ms / 10_000) * 10)
    return "length", round(ms / 60_000)


class Wording:
    """The phrases of a session in one language. Each returns one utterance, synthesized as one clip."""

    def __init__(self, language_code: str = DEFAULT_LANGUAGE) -> None:
        self.language: Language = load_catalog(language_code)

    def _say(self, key: str, **values: Any) -> str:
        return self.language.say(key, **values)

    def about_duration(self, ms: int) -> str:
        key, amount = rounded_length(ms)
        return self._say(key, minutes=amount, seconds=amount)

    def intro(self, plan: Plan, total_ms: int) -> list[str]:
        lines = [sentence(plan.title)]
        if plan.equipment:
            lines.append(self._say("equipment", items=self.language.join(plan.equipment)))
        if plan.safety is None:
            lines.append(self._say("default_safety"))
        elif plan.safety:  # ("": the plan leaves the safety sentence out)
            lines.append(sentence(plan.safety))
        lines.append(self.about_duration(total_ms))
        lines.append(self._say("begin"))
        return lines

    def announce(
        self, exercise: Exercise, index: int, count: int, *, brief: bool = False
    ) -> list[str]:
        """The exercise, then its instructions (or, when *brief*, its short cue if it has one)."""
        if count > 1:
            heading = self._say(
                "exercise_heading", index=index, count=count, name=sentence(exercise.name)
            )
        else:
            heading = sentence(exercise.name)
        lines = [heading]
        words = exercise.cue if brief else exercise.instructions
        if words:
            lines.append(sentence(words))
        lines.append(self.summary(exercise))
        if exercise.sides:
            lines.append(sentence(self._say("start_side", side=exercise.sides[0])))
        return lines

    def summary(self, exercise: Exercise) -> str:
        """ "Ten reps, on each side. Hold each for five seconds." """
        reps, kind = exercise.reps, exercise.kind
        first = exercise.steps[0]
        if kind is StepKind.WORK and reps == 1:
            head = self.language.duration(
                first.duration_ms
            )  # ("ten seconds", not "one round of ...")
        elif kind is StepKind.WORK:
            head = self._say("rounds", reps=reps, work=first.duration_ms)
        else:
            head = self._say("reps", reps=reps)
        if exercise.sets > 1:
            head = self._say("sets", sets=exercise.sets, what=head)
        if len(exercise.sides) > 1:
            head = self._say("each_side", what=head)
        if kind is StepKind.HOLD:
            detail = self._say("hold_each" if reps > 1 else "hold_once", hold=first.duration_ms)
        elif kind is StepKind.WORK:
            resting = exercise.gap_kind is GapKind.REST and exercise.gap_ms and reps > 1
            detail = self._say("rest_between_rounds", rest=exercise.gap_ms) if resting else ""
        else:
            steps = [
                self._say("phase", name=step.name, length=step.duration_ms)
                for step in exercise.steps
            ]
            if self.language.lowercase_inside_sentence:
                # Phase names are written capitalized, as they are spoken alone; mid-sentence they
                # are not.
                steps = [steps[0], *(s[0].lower() + s[1:] for s in steps[1:])]
            detail = ", ".join(steps)
        return " ".join(sentence(part) for part in (head, detail) if part)

    def get_ready(self) -> str:
        return self._say("get_ready")

    def start_word(self, kind: StepKind, name: str) -> str:
        if kind is StepKind.HOLD:
            return self._say("hold")
        if kind is StepKind.WORK:
            return self._say("go")
        return sentence(name)

    def count(self, value: int) -> str:
        return self.language.number(value)

    def halfway(self) -> str:
        return self._say("halfway")

    def time_left(self, ms: int) -> str:
        """ "Ten seconds left.", "One minute left." """
        return sentence(self._say("time_left", left=ms))

    def end_word(self, kind: StepKind, gap_kind: GapKind) -> str:
        if gap_kind is GapKind.REST:
            return self._say("rest")
        return self._say({StepKind.HOLD: "release", StepKind.WORK: "stop"}.get(kind, "relax"))

    def next_rep(self, kind: StepKind, rep: int, reps: int, *, name_last: bool = False) -> str:
        """ "Rep two of five."; the final one, if *name_last*, "Last rep." ("Last round." in work)."""
        if name_last and rep == reps:
            return self.last_round() if kind is StepKind.WORK else self._say("last_rep")
        return self._say("next_round" if kind is StepKind.WORK else "next_rep", rep=rep, reps=reps)

    def last_round(self) -> str:
        return self._say("last_round")

    def switch(self, side: str) -> str:
        return sentence(self._say("switch", side=side))

    def circuit(self, name: str, rounds: int) -> str:
        """ "Strength circuit: three rounds." """
        return sentence(self._say("circuit", name=name[:1].upper() + name[1:], rounds=rounds))

    def next_round(self, round_number: int, rounds: int) -> str:
        """A circuit's round, as it starts."""
        return self._say("next_round", rep=round_number, reps=rounds)

    def next_set(self, set_number: int, sets: int) -> str:
        return self._say("next_set", set=set_number, sets=sets)

    def rest(self) -> str:
        return self._say("rest")

    def intro_title(self) -> str:
        """The intro's chapter title (shown by players, not spoken)."""
        return self._say("chapter_intro")

    def outro_title(self) -> str:
        return self._say("chapter_closing")

    def page_labels(self, *, audio_file: str) -> dict[str, str]:
        """The player page's labels by name (see PAGE_LABELS), with the intro and outro titles;
        *audio_file* is the name the page plays, said where it cannot be opened."""
        labels = {label: self._say(f"page_{label}", file=audio_file) for label in PAGE_LABELS}
        return {**labels, "intro": self.intro_title(), "outro": self.outro_title()}

    def outro(self, plan: Plan) -> list[str]:
        lines = [self._say("done")]
        if plan.frequency:
            lines.append(sentence(self._say("frequency", frequency=plan.frequency)))
        return lines
