"""Unit tests for the plan loader: good plans become frozen objects, bad ones precise messages."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from voiceguide.common.errors import PlanError
from voiceguide.plans.loader import load_plan, load_plan_text, shipped_plan_path
from voiceguide.plans.plan import Counting, Exercise, GapKind, Plan, Step, StepKind

HOLD_DURATION_HINT = 'a duration in seconds (like 5, 2.5, "90s", "1m30s" or "1:30")'


def problems_of(text: str) -> list[str]:
    """The problems PlanError lists for *text*, loaded as plan.yaml."""
    with pytest.raises(PlanError) as caught:
        load_plan_text(text, display_name="plan.yaml")
    assert str(caught.value) == "\n".join(caught.value.problems)
    return caught.value.problems


def one_exercise(body: str, *, settings: str = "") -> str:
    """A plan of one exercise named 'a'; *body* is its fields, indented by four spaces."""
    return f"title: x\n{settings}exercises:\n  - name: a\n{body}"


def hold(step_ms: int) -> tuple[Step, ...]:
    return (Step(name="Hold", kind=StepKind.HOLD, duration_ms=step_ms),)


def work(step_ms: int) -> tuple[Step, ...]:
    return (Step(name="Go", kind=StepKind.WORK, duration_ms=step_ms),)


# -- the shipped plan --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def default_plan() -> Plan:
    return load_plan(shipped_plan_path())


def test_default_plan_header(default_plan: Plan) -> None:
    """The shipped plan's title, texts, equipment and settings are read as written."""
    assert default_plan.title == "Feet first, five exercises for lower back pain"
    assert default_plan.frequency == "2 to 3 times a day"
    assert default_plan.equipment == ("a resistance band", "a pencil")
    assert default_plan.safety == "Move gently, and stop any exercise that causes sharp pain."
    assert len(default_plan.sources) == 2
    assert (
        default_plan.sources[1] == "Spinal adjustment with these 5 exercises (acupressure article)"
    )
    assert default_plan.description is not None
    assert default_plan.description.startswith("Five gentle foot and leg exercises")
    assert "\n" not in default_plan.description and "  " not in default_plan.description
    assert default_plan.rate == 170
    assert default_plan.voice is None
    assert default_plan.rest_between_exercises_ms == 15_000
    assert default_plan.source_name == str(shipped_plan_path())


def test_default_plan_exercises(default_plan: Plan) -> None:
    """The shipped plan has its five exercises with the reps, times, gaps and sides of the YAML."""
    toe, tiptoe, ankle, pull, pencil = default_plan.exercises
    assert [e.name for e in default_plan.exercises] == [
        "Toe presses",
        "Walking on tiptoes",
        "Ankle circles",
        "Pulling the feet",
        "Lifting a pencil with your toes",
    ]
    assert (toe.reps, toe.steps, toe.gap_kind, toe.gap_ms, toe.sides) == (
        10,
        hold(3000),
        GapKind.RESET,
        3000,
        (),
    )
    assert (tiptoe.reps, tiptoe.steps, tiptoe.gap_kind, tiptoe.gap_ms) == (
        5,
        work(20_000),
        GapKind.REST,
        15_000,
    )
    assert tiptoe.counting is Counting.LAST_THREE
    # No reps and no rest given: one rep, and the default rest between work rounds.
    assert (ankle.reps, ankle.steps, ankle.sides, ankle.switch_ms) == (
        1,
        work(10_000),
        ("left leg", "right leg"),
        5000,
    )
    assert (ankle.gap_kind, ankle.gap_ms) == (GapKind.REST, 10_000)
    assert (pull.reps, pull.steps, pull.gap_ms, pull.sides) == (
        10,
        hold(5000),
        3000,
        ("left foot", "right foot"),
    )
    assert (pencil.reps, pencil.steps, pencil.gap_ms, pencil.sides) == (
        5,
        hold(10_000),
        4000,
        ("left foot", "right foot"),
    )
    for exercise in default_plan.exercises:
        assert (exercise.sets, exercise.set_rest_ms, exercise.lead_in_ms) == (1, 30_000, 5000)
        assert exercise.instructions and "\n" not in exercise.instructions
    assert [e.counting for e in (toe, ankle, pull, pencil)] == [Counting.EVERY_SECOND] * 4


def test_plan_objects_are_frozen(default_plan: Plan) -> None:
    """Plan, Exercise and Step refuse assignment, and their collections are tuples."""
    exercise = default_plan.exercises[0]
    with pytest.raises(dataclasses.FrozenInstanceError):
        default_plan.title = "changed"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        exercise.reps = 99  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        exercise.steps[0].duration_ms = 1  # type: ignore[misc]
    assert isinstance(default_plan.exercises, tuple)
    assert isinstance(default_plan.equipment, tuple)
    assert isinstance(exercise.steps, tuple)
    assert isinstance(default_plan.exercises[3].sides, tuple)
    assert default_plan.title == "Feet first, five exercises for lower back pain"


def test_minimal_plan_gets_defaults() -> None:
    """A plan with only a title and one hold gets the documented defaults."""
    plan = load_plan_text(one_exercise("    hold: 3\n"), display_name="plan.yaml")
    assert plan.source_name == "plan.yaml"
    assert plan.safety is None  # (the session says its language's standard advice)
    assert (plan.equipment, plan.sources, plan.description, plan.frequency, plan.notes) == (
        (),
        (),
        None,
        None,
        None,
    )
    assert (plan.rate, plan.voice, plan.rest_between_exercises_ms) == (170, None, 15_000)
    assert plan.exercises == (
        Exercise(
            name="a",
            instructions=None,
            steps=hold(3000),
            reps=1,
            gap_ms=3000,
            gap_kind=GapKind.RESET,
            sides=(),
            switch_ms=5000,
            sets=1,
            set_rest_ms=30_000,
            lead_in_ms=5000,
            counting=Counting.AUTO,
            countdown=3,
            announce_last=True,
            tips=(),
        ),
    )


def test_settings_are_defaults_for_exercises_and_fields_override_them() -> None:
    """Plan settings set the defaults; an exercise's own field wins over them."""
    text = (
        "title: x\n"
        "settings: {reset: 2, rest: 7, switch: 4, set_rest: 20, lead_in: 0, counting: none, rate: 120, voice: en}\n"
        "exercises:\n"
        "  - {name: a, hold: 3, sides: [l, r], sets: 2}\n"
        "  - {name: b, work: 3, reps: 2, switch: 1, set_rest: 9, lead_in: 2, counting: last-3}\n"
    )
    plan = load_plan_text(text, display_name="plan.yaml")
    a, b = plan.exercises
    assert (plan.rate, plan.voice) == (120, "en")
    assert (a.gap_kind, a.gap_ms, a.switch_ms, a.set_rest_ms, a.lead_in_ms, a.counting) == (
        GapKind.RESET,
        2000,
        4000,
        20_000,
        0,
        Counting.NONE,
    )
    assert (a.sides, a.sets) == (("l", "r"), 2)
    assert (b.gap_kind, b.gap_ms, b.switch_ms, b.set_rest_ms, b.lead_in_ms, b.counting) == (
        GapKind.REST,
        7000,
        1000,
        9000,
        2000,
        Counting.LAST_THREE,
    )


def test_single_side_text_is_a_list_of_one() -> None:
    """`sides: left foot` is read as one side."""
    plan = load_plan_text(
        one_exercise("    hold: 3\n    sides: left foot\n"), display_name="plan.yaml"
    )
    assert plan.exercises[0].sides == ("left foot",)


@pytest.mark.parametrize(
    ("written", "ms"),
    [
        ("5", 5000),
        ("2.5", 2500),
        ('"90s"', 90_000),
        ('"1m30s"', 90_000),
        ('"1:30"', 90_000),
        ("1:30", 90_000),  # unquoted, YAML 1.1 reads this as the number 90
        ('"2 min"', 120_000),
        ('"2 minutes 5 seconds"', 125_000),
        ('"1.5m"', 90_000),
        ('" 3 sec "', 3000),
        ('"0:05"', 5000),
        ('"7"', 7000),
        ('".5"', 500),
    ],
)
def test_duration_forms(written: str, ms: int) -> None:
    """Every accepted way of writing a duration gives the right milliseconds."""
    plan = load_plan_text(one_exercise(f"    hold: {written}\n"), display_name="plan.yaml")
    assert plan.exercises[0].steps == hold(ms)


@pytest.mark.parametrize(
    ("written", "found"),
    [
        ('"abc"', "the text 'abc'"),
        ('"1:5"', "the text '1:5'"),
        ('"1:60"', "the text '1:60'"),
        ('"5 hours"', "the text '5 hours'"),
        (".nan", "the number '.nan'"),
        (".inf", "the number '.inf'"),
        ("yes", "the yes/no value 'yes'"),
        ("[3]", "a list"),
        ("", "nothing (an empty value)"),
    ],
)
def test_bad_duration_is_named_with_its_place(written: str, found: str) -> None:
    """A value that is not a duration is reported at its line and column with what was found."""
    column = 10 if written == "" else 11
    assert problems_of(one_exercise(f"    hold: {written}\n")) == [
        f"plan.yaml:4:{column}: exercises[0].hold: expected {HOLD_DURATION_HINT}, found {found}"
    ]


@pytest.mark.parametrize(
    ("written", "message"),
    [
        ("0.2", "expected a duration from 0.5 s to 1 h, found 0.2 s"),
        ("-5", "expected a duration from 0.5 s to 1 h, found -5 s"),
        ('"61m"', "expected a duration from 0.5 s to 1 h, found 1 h 1 min"),
    ],
)
def test_duration_out_of_range(written: str, message: str) -> None:
    """Durations outside the allowed range name the range and the value found."""
    assert problems_of(one_exercise(f"    hold: {written}\n")) == [
        f"plan.yaml:4:11: exercises[0].hold: {message}"
    ]


def test_phases_in_both_forms() -> None:
    """Phases may be written `{name: Inhale, seconds: 4}` or `{Inhale: 4}`, and mixed."""
    text = one_exercise(
        "    reps: 4\n    phases:\n      - {name: Inhale, seconds: 4}\n      - Hold: 7\n      - {Exhale: 8s}\n"
    )
    exercise = load_plan_text(text, display_name="plan.yaml").exercises[0]
    assert exercise.steps == (
        Step(name="Inhale", kind=StepKind.STEP, duration_ms=4000),
        Step(name="Hold", kind=StepKind.STEP, duration_ms=7000),
        Step(name="Exhale", kind=StepKind.STEP, duration_ms=8000),
    )
    assert exercise.kind is StepKind.STEP
    assert exercise.rep_ms == 19_000
    # Phases flow from one rep into the next unless the plan asks for a pause.
    assert (exercise.reps, exercise.gap_kind, exercise.gap_ms) == (4, GapKind.RESET, 0)


def test_phase_problems_have_paths() -> None:
    """A bad phase is reported with its index in the phases list."""
    text = one_exercise(
        "    phases:\n      - {name: Inhale}\n      - Exhale: soon\n      - {Hold: 0.1}\n"
    )
    assert problems_of(text) == [
        "plan.yaml:5:9: exercises[0].phases[0]: missing required field 'seconds'",
        f"plan.yaml:6:17: exercises[0].phases[1].Exhale: expected {HOLD_DURATION_HINT}, found the text 'soon'",
        "plan.yaml:7:16: exercises[0].phases[2].Hold: expected a duration from 0.5 s to 1 h, found 0.1 s",
    ]


def test_empty_phases_list_is_refused() -> None:
    """`phases: []` is an error: a rep needs at least one phase."""
    assert problems_of(one_exercise("    phases: []\n")) == [
        "plan.yaml:4:13: exercises[0].phases: expected a list of at least 1 item(s), found 0"
    ]


def test_short_form_phase_name_is_validated_like_the_long_form() -> None:
    """An empty phase name is refused in `{"": 4}` just as in `{name: "", seconds: 4}`."""
    long_form = problems_of(one_exercise("    phases: [{name: '', seconds: 4}]\n"))
    assert long_form == [
        "plan.yaml:4:21: exercises[0].phases[0].name: expected some text, found the text ''"
    ]
    with pytest.raises(PlanError, match=r"exercises\[0\]\.phases\[0\]"):
        load_plan_text(one_exercise("    phases: [{'': 4}]\n"), display_name="plan.yaml")


# -- errors --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (
            "title: x\n  bad: 1\nexercises: []\n",
            "plan.yaml:2:6: YAML syntax error: mapping values are not allowed here",
        ),
        (
            "title: x\nexercises:\n\t- name: a\n",
            "plan.yaml:3:1: YAML syntax error: found character '\\t' that cannot start any token "
            "(while scanning for the next token)",
        ),
        (
            "title: x\nexercises:\n  - name: a\n    hold: 3\n     reps: 2\n",
            "plan.yaml:5:10: YAML syntax error: mapping values are not allowed here",
        ),
    ],
)
def test_yaml_syntax_error_names_its_line(text: str, problem: str) -> None:
    """A YAML syntax error is one problem naming the line and column where it was found."""
    assert problems_of(text) == [problem]


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (
            "    hold: 3\n    reps: three\n",
            "plan.yaml:5:11: exercises[0].reps: expected a whole number from 1 to 500, found the text 'three'",
        ),
        (
            "    hold: 3\n    reps: 2.0\n",
            "plan.yaml:5:11: exercises[0].reps: expected a whole number from 1 to 500, found the number '2.0'",
        ),
        (
            "    hold: 3\n    reps: true\n",
            "plan.yaml:5:11: exercises[0].reps: expected a whole number from 1 to 500, found the yes/no value 'true'",
        ),
        (
            "    hold: 3\n    reps: 0\n",
            "plan.yaml:5:11: exercises[0].reps: expected a whole number from 1 to 500, found 0",
        ),
        (
            "    hold: 3\n    sets: 51\n",
            "plan.yaml:5:11: exercises[0].sets: expected a whole number from 1 to 50, found 51",
        ),
        (
            "    hold: 3\n    instructions: [a, b]\n",
            "plan.yaml:5:19: exercises[0].instructions: expected text, found a list",
        ),
        (
            "    hold: 3\n    sides: {l: 1}\n",
            "plan.yaml:5:12: exercises[0].sides: expected a list, found a mapping (key: value pairs)",
        ),
        (
            "    hold: 3\n    counting: last3\n",
            "plan.yaml:5:15: exercises[0].counting: expected one of: auto, every-second, seconds-left, last-3, none; "
            "found the text 'last3'; did you mean 'last-3'?",
        ),
        (
            "    hold: 3\n    sides: [l, L]\n",
            "plan.yaml:5:12: exercises[0].sides: each side must have a different name",
        ),
    ],
)
def test_wrong_type_says_expected_and_found(body: str, problem: str) -> None:
    """A value of the wrong type or range names its place, what was expected and what was found."""
    assert problems_of(one_exercise(body)) == [problem]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("- a\n- b\n", "plan.yaml:1:1: expected a mapping of fields, found a list"),
        (
            "title: x\nexercises: {a: 1}\n",
            "plan.yaml:2:12: exercises: expected a list, found a mapping (key: value pairs)",
        ),
        (
            "title: x\nexercises: []\n",
            "plan.yaml:2:12: exercises: expected a list of at least 1 item(s), found 0",
        ),
        (
            "title: x\nexercises:\n  - just text\n",
            "plan.yaml:3:5: exercises[0]: expected a mapping of fields, found the text 'just text'",
        ),
        (
            "title: [x]\nexercises:\n  - {name: a, hold: 3}\n",
            "plan.yaml:1:8: title: expected text, found a list",
        ),
        (
            "title: x\nsettings: {rate: 500}\nexercises:\n  - {name: a, hold: 3}\n",
            "plan.yaml:2:18: settings.rate: expected a whole number from 60 to 400, found 500",
        ),
    ],
)
def test_wrong_container_type(text: str, problem: str) -> None:
    """Lists, mappings and texts in the wrong place are reported with their field path."""
    assert problems_of(text) == [problem]


def test_missing_required_fields() -> None:
    """A missing required field is reported at the mapping that lacks it."""
    assert problems_of("exercises:\n  - {name: a, hold: 3}\n") == [
        "plan.yaml:1:1: missing required field 'title'"
    ]
    assert problems_of("title: x\n") == ["plan.yaml:1:1: missing required field 'exercises'"]
    assert problems_of("title: x\nexercises:\n  - hold: 3\n") == [
        "plan.yaml:3:5: exercises[0]: missing required field 'name'"
    ]


def test_unknown_key_suggests_the_closest_field() -> None:
    """An unknown field names itself, suggests the likely intended one and lists the known fields."""
    known = (
        "known fields: announce_last, countdown, counting, cue, hold, instructions, lead_in, name, notes, "
        "phases, progression, reps, reset, rest, set_rest, sets, sides, switch, tips, work"
    )
    # A misspelt hold is reported once, with its correction, not again as a missing timed part.
    assert problems_of(one_exercise("    hodl: 3\n")) == [
        f"plan.yaml:4:5: exercises[0].hodl: unknown field 'hodl'; did you mean 'hold'? {known}"
    ]
    # A key that is nothing like a timed one leaves the exercise without its timed part, which is
    # also reported.
    assert problems_of(one_exercise("    zzz: 3\n")) == [
        "plan.yaml:3:5: exercises[0]: give exactly one of 'hold', 'work' or 'phases' (the timed part of a rep); "
        "found none of them",
        f"plan.yaml:4:5: exercises[0].zzz: unknown field 'zzz'; {known}",
    ]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (
            "title: x\ntitel: y\nexercises:\n  - {name: a, hold: 3}\n",
            "plan.yaml:2:1: titel: unknown field 'titel'; did you mean 'title'? known fields: description, equipment, "
            "exercises, frequency, language, notes, safety, settings, sources, title",
        ),
        (
            "title: x\nsettings:\n  countng: none\nexercises:\n  - {name: a, hold: 3}\n",
            "plan.yaml:3:3: settings.countng: unknown field 'countng'; did you mean 'counting'? "
            "known fields: announce_last, beep_level, countdown, counting, end_sound, engine, "
            "instructions, lead_in, rate, reset, rest, rest_between_exercises, round_rest, rounds, "
            "set_rest, start_sound, switch, transition, transition_sound, voice, volume",
        ),
        (
            "title: x\nzzz: 1\nexercises:\n  - {name: a, hold: 3}\n",
            "plan.yaml:2:1: zzz: unknown field 'zzz'; "
            "known fields: description, equipment, exercises, frequency, language, notes, safety, settings, "
            "sources, title",
        ),
    ],
)
def test_unknown_keys_elsewhere(text: str, problem: str) -> None:
    """Unknown fields at the top level and in settings are reported, with a suggestion only when one is
    close."""
    assert problems_of(text) == [problem]


def test_duplicate_key() -> None:
    """A field given twice is reported at the second one, naming the line of the first."""
    assert problems_of(one_exercise("    hold: 3\n    hold: 4\n")) == [
        "plan.yaml:5:5: exercises[0].hold: the field appears twice (first at line 4); keep one"
    ]
    assert problems_of("title: x\ntitle: y\nexercises:\n  - {name: a, hold: 3}\n") == [
        "plan.yaml:2:1: title: the field appears twice (first at line 1); keep one"
    ]


def test_duplicate_exercise_name_ignores_case() -> None:
    """Two exercises whose names differ only in case are reported at the second."""
    text = "title: x\nexercises:\n  - name: Squat\n    hold: 3\n  - name: squat\n    hold: 4\n"
    assert problems_of(text) == [
        "plan.yaml:5:5: exercises[1]: the name 'squat' is already used by exercises[0]; "
        "give each exercise and circuit its own name"
    ]


def test_hold_and_work_both_given() -> None:
    """An exercise with both a hold and a work interval is refused, naming both."""
    assert problems_of(one_exercise("    hold: 3\n    work: 4\n")) == [
        "plan.yaml:3:5: exercises[0]: give exactly one of 'hold', 'work' or 'phases' (the timed part of a rep); "
        "found 'hold' and 'work'"
    ]
    problems = problems_of(one_exercise("    work: 3\n    phases: [{In: 4}]\n"))
    assert problems == [
        "plan.yaml:3:5: exercises[0]: give exactly one of 'hold', 'work' or 'phases' (the timed part of a rep); "
        "found 'work' and 'phases'"
    ]


def test_reset_and_rest_both_given() -> None:
    """An exercise with both a reset and a rest between reps is refused at the rest."""
    assert problems_of(one_exercise("    hold: 3\n    reset: 4\n    rest: 2\n")) == [
        "plan.yaml:6:11: exercises[0].rest: give either 'reset' (a quiet pause) or 'rest' (an announced rest) "
        "between reps, not both"
    ]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (
            "title: x\nexercises:\n  - name: a\n    hold: !!python/name:os.system\n",
            "plan.yaml:4:11: exercises[0].hold: the YAML tag 'tag:yaml.org,2002:python/name:os.system' is not allowed "
            "in a plan; remove it",
        ),
        (
            "title: x\nexercises:\n  - !!python/object:os.system\n    name: a\n    hold: 3\n",
            "plan.yaml:3:5: exercises[0]: the YAML tag 'tag:yaml.org,2002:python/object:os.system' is not allowed "
            "in a plan; remove it",
        ),
        (
            "title: x\nexercises: !!python/object/apply:os.system [MARKER]\n",
            "plan.yaml:2:12: exercises: the YAML tag 'tag:yaml.org,2002:python/object/apply:os.system' is not allowed "
            "in a plan; remove it",
        ),
        (
            "title: !!python/object/apply:os.system [MARKER]\nexercises:\n  - {name: a, hold: 3}\n",
            "plan.yaml:1:8: title: the YAML tag 'tag:yaml.org,2002:python/object/apply:os.system' is not allowed "
            "in a plan; remove it",
        ),
    ],
    ids=["scalar", "mapping", "list-field", "text-field"],
)
def test_explicit_python_tags_are_refused_and_not_run(
    tmp_path: Path, text: str, problem: str
) -> None:
    """`!!python/...` tags are reported as not allowed, and the command they name never runs."""
    marker = tmp_path / "ran"
    command = f"'touch {marker}'"
    assert problems_of(text.replace("MARKER", command)) == [problem]
    assert not marker.exists()


def test_standard_tags_are_allowed() -> None:
    """Plain YAML tags such as !!str and !!int are accepted."""
    plan = load_plan_text(
        one_exercise("    hold: !!int 3\n    instructions: !!str 42\n"), display_name="plan.yaml"
    )
    assert plan.exercises[0].steps == hold(3000)
    assert plan.exercises[0].instructions == "42"


def test_non_utf8_bytes(tmp_path: Path) -> None:
    """Bytes that are not UTF-8 are reported with their offset and line."""
    path = tmp_path / "plan.yaml"
    path.write_bytes(b"title: x\nexercises: caf\xe9\n")
    with pytest.raises(PlanError) as caught:
        load_plan(path)
    assert caught.value.problems == [
        f"{path}: byte 23 (line 2) is not UTF-8 text. Save the file as UTF-8 in your editor."
    ]
    with pytest.raises(PlanError) as caught:
        load_plan(path, display_name="mine.yaml")
    assert caught.value.problems == [
        "mine.yaml: byte 23 (line 2) is not UTF-8 text. Save the file as UTF-8 in your editor."
    ]


def test_nul_bytes_are_refused(tmp_path: Path) -> None:
    """A file with NUL bytes is taken for a binary file."""
    path = tmp_path / "plan.yaml"
    path.write_bytes(b"title: x\x00\n")
    with pytest.raises(PlanError) as caught:
        load_plan(path, display_name="plan.yaml")
    assert caught.value.problems == [
        "plan.yaml: the file contains NUL bytes; it looks binary, not a YAML plan."
    ]


def test_utf8_bom_and_file_loading(tmp_path: Path) -> None:
    """load_plan reads a UTF-8 file (with or without a byte-order mark) and names it by its path."""
    path = tmp_path / "plan.yaml"
    path.write_bytes("\ufefftitle: Café\nexercises:\n  - {name: a, hold: 3}\n".encode())
    plan = load_plan(path)
    assert plan.title == "Café"
    assert plan.source_name == str(path)
    assert load_plan(path, display_name="shown.yaml").source_name == "shown.yaml"


@pytest.mark.parametrize("content", ["", "\n\n", "# only a comment\n"])
def test_empty_file(tmp_path: Path, content: str) -> None:
    """A file with no YAML document is reported as empty."""
    path = tmp_path / "plan.yaml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(PlanError) as caught:
        load_plan(path, display_name="plan.yaml")
    assert caught.value.problems == [
        "plan.yaml: the file is empty; a plan needs at least a title and exercises."
    ]
    assert problems_of(content) == [
        "plan.yaml: the file is empty; a plan needs at least a title and exercises."
    ]


def test_missing_and_oversized_files(tmp_path: Path) -> None:
    """A missing file and a file over the size limit are refused with a reason."""
    with pytest.raises(PlanError) as caught:
        load_plan(tmp_path / "nope.yaml", display_name="nope.yaml")
    assert caught.value.problems == ["nope.yaml: cannot read the file: No such file or directory"]
    big = tmp_path / "big.yaml"
    big.write_bytes(b"#" * 1_000_001)
    with pytest.raises(PlanError) as caught:
        load_plan(big, display_name="big.yaml")
    assert caught.value.problems == [
        "big.yaml: the file is over 1,000,000 bytes; plans are at most 1,000,000 bytes. "
        "Check that this is the plan you meant."
    ]


def test_several_problems_are_reported_at_once() -> None:
    """Problems in different exercises and fields are all listed, in file order, in one error."""
    text = (
        "title: x\n"
        "colour: blue\n"
        "exercises:\n"
        "  - name: a\n"
        "    hold: 0.2\n"
        "    reps: 0\n"
        "  - name: b\n"
        "  - name: A\n"
        "    work: 5\n"
        "    rest: soon\n"
    )
    assert problems_of(text) == [
        "plan.yaml:2:1: colour: unknown field 'colour'; known fields: description, equipment, exercises, frequency, "
        "language, notes, safety, settings, sources, title",
        "plan.yaml:5:11: exercises[0].hold: expected a duration from 0.5 s to 1 h, found 0.2 s",
        "plan.yaml:6:11: exercises[0].reps: expected a whole number from 1 to 500, found 0",
        "plan.yaml:7:5: exercises[1]: give exactly one of 'hold', 'work' or 'phases' (the timed part of a rep); "
        "found none of them",
        f"plan.yaml:10:11: exercises[2].rest: expected {HOLD_DURATION_HINT}, found the text 'soon'",
    ]
