"""Less repetition: a plan of one exercise named as the plan does not say its name twice, and a
plan can leave the safety sentence out (`safety: false`). Laid out with the fake speech measure;
the plans are read from YAML as a user writes them."""

from __future__ import annotations

from pathlib import Path

from builders import write_plan
from test_timeline import words

from voiceguide.language.catalog import load_catalog
from voiceguide.plans.loader import load_plan
from voiceguide.script.timeline import EventKind, Phase, Timeline, build_timeline


def said(timeline: Timeline, phase: Phase) -> list[str]:
    return [
        e.text or "" for e in timeline.events if e.kind is EventKind.SPEECH and e.phase is phase
    ]


def lay_out(folder: Path, text: str) -> Timeline:
    return build_timeline(plan=load_plan(write_plan(folder, text)), speech_ms=words)


ONE = """\
title: Box breathing
exercises:
  - name: {name}
    instructions: Breathe in, hold, breathe out and hold, four seconds each.
    hold: 4
"""


def test_one_exercise_named_as_the_plan_is_not_named_again(tmp_path: Path) -> None:
    """The intro says the title; the announcement goes on from the instructions. An exercise of
    another name is still named."""
    same = lay_out(tmp_path, ONE.format(name="Box breathing."))
    assert said(same, Phase.INTRO)[0] == "Box breathing."
    announced = said(same, Phase.ANNOUNCE)
    assert announced[0].startswith("Breathe in, hold")
    assert not any("Box breathing" in text for text in announced)
    other = lay_out(tmp_path, ONE.format(name="Square breathing"))
    assert said(other, Phase.ANNOUNCE)[0] == "Square breathing."


SAFETY = """\
title: Quick stretch
safety: {safety}
exercises:
  - {{name: Reach, hold: 5}}
"""


def test_a_plan_can_leave_the_safety_sentence_out_or_change_it(tmp_path: Path) -> None:
    left_out = said(lay_out(tmp_path, SAFETY.format(safety="false")), Phase.INTRO)
    changed = said(lay_out(tmp_path, SAFETY.format(safety="Stop if it hurts.")), Phase.INTRO)
    quoted = said(lay_out(tmp_path, SAFETY.format(safety='"false"')), Phase.INTRO)
    standard = load_catalog("en").say("default_safety")
    assert standard not in left_out and len(left_out) == 3  # title, length, "Let's begin."
    assert changed[1] == "Stop if it hurts." and standard not in changed
    assert quoted[1] == "False."  # (a text, as written: quoted, it is no yes/no)
