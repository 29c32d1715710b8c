"""The table of settings (voiceguide/plans/settings.py) walked row by row through every consumer.

For each setting and each place a value can be written (a plan's `settings:`, a plan's exercise, a
profile's `settings:`, a profile's exercise, `--set NAME=VALUE`, `--set "EXERCISE.NAME=VALUE"`),
a real plan or profile is loaded, or the real command run, with a valid value of the setting's
kind: where the table says the setting may appear it is taken (and, for a session's settings,
becomes the session's value); everywhere else it is refused with the usual message.
"""

from __future__ import annotations

import functools
import re
import tempfile
from pathlib import Path

import click
import pytest
import yaml
from click.testing import CliRunner
from sound_files import write_chime

from voiceguide.cli.commands import main
from voiceguide.common.errors import PlanError
from voiceguide.plans.customize import customize
from voiceguide.plans.loader import load_plan_text
from voiceguide.plans.profile import load_profile, parse_set
from voiceguide.plans.settings import (
    CIRCUIT_SETTINGS,
    EXERCISE_SETTINGS,
    PLAN_EXERCISE_SETTINGS,
    PLAN_SETTINGS,
    PROGRESSIVE,
    SCALES,
    SESSION_SETTINGS,
    SETTINGS,
    Scope,
    Setting,
)
from voiceguide.plans.values import (
    Choice,
    ChoiceOrTexts,
    Count,
    Integer,
    Language,
    Number,
    Seconds,
    Sound,
    Text,
    Texts,
    Tips,
    YesNo,
)
from voiceguide.plans.yamlsource import Reader

PLAN = {
    "title": "Table walk",
    "exercises": [
        {"name": "Presses", "hold": 3, "reps": 2, "sets": 2, "sides": ["left foot", "right foot"]},
        {"name": "Marches", "work": 20},
        {"circuit": "Laps", "rounds": 2, "exercises": [{"name": "Steps", "work": 10}]},
    ],
}
"""A hold done per side in sets, a work interval and a circuit: every setting has an exercise or a
circuit it fits."""
ONE_SETTINGS = {**EXERCISE_SETTINGS, **CIRCUIT_SETTINGS}
"""What a profile's entry for one exercise or circuit, and `--set "NAME.FIELD=VALUE"`, may give."""


def example(setting: Setting) -> str:
    """A valid value of *setting*, as YAML text, that leaves every phrase room to be said."""
    kind = setting.kind
    if setting.name == "voice":
        return "en"  # (a voice is looked up: a language names one)
    if isinstance(kind, Language):
        return "de"
    if isinstance(kind, Seconds):
        return "8"
    if isinstance(kind, Count):
        return "2"
    if isinstance(kind, Integer):
        return str((kind.least + kind.most) // 2)
    if isinstance(kind, Number):
        return str((kind.least + kind.most) / 2)
    if isinstance(kind, Choice):
        return list(kind.options)[1].value
    if isinstance(kind, ChoiceOrTexts):
        return "left"
    if isinstance(kind, Texts):
        return "[Presses]"
    if isinstance(kind, YesNo):
        return "true"
    if isinstance(kind, Text):
        return "Slowly"
    if isinstance(kind, Tips):
        return "[{at: 5, say: Slowly}]"  # (given to the 20-second work interval)
    if isinstance(kind, Sound):
        return str(chime())
    raise AssertionError(f"no example for the kind {kind!r} of {setting.name!r}: add one here")


@functools.cache
def chime() -> Path:
    """A sound file (by its absolute path, which means the same file wherever it is written)."""
    return write_chime(Path(tempfile.mkdtemp(prefix="vg-table-")) / "chime.wav", length_ms=150)


def example_value(setting: Setting) -> object:
    """The example as the setting's own kind reads it."""
    text = example(setting)
    reader = Reader("<example>")
    value = setting.kind.read(reader.parse(text.encode()))
    reader.raise_if_problems()
    return value


def yaml_value(setting: Setting) -> object:
    return yaml.safe_load(example(setting))


def target(setting: Setting) -> str:
    """The exercise a setting of one exercise is given to, or the circuit one of a circuit's is."""
    if setting.name in CIRCUIT_SETTINGS and setting.name not in EXERCISE_SETTINGS:
        return "Laps"
    return "Marches" if setting.name in ("work", "tips") else "Presses"


ROWS = [pytest.param(setting, id=f"{setting.name}-{setting.scope.name}") for setting in SETTINGS]


def plan_with(
    *,
    settings: dict[str, object] | None = None,
    exercise: dict[str, object] | None = None,
    to: str = "Presses",
) -> str:
    exercises = [dict(each) for each in PLAN["exercises"]]  # type: ignore[attr-defined]
    plan = {**PLAN, "exercises": exercises}
    if settings:
        plan["settings"] = settings
    for each in exercises:
        if each.get("name", each.get("circuit")) == to and exercise:
            each.update(exercise)
    return yaml.safe_dump(plan, sort_keys=False, allow_unicode=True)


def refused_as_unknown(call: object, name: str) -> None:
    with pytest.raises(PlanError) as raised:
        call()  # type: ignore[operator]
    assert any(f"unknown field {name!r}" in problem for problem in raised.value.problems), (
        raised.value.problems
    )


@pytest.mark.parametrize("setting", ROWS)
def test_a_plans_settings_take_what_the_table_allows_there(setting: Setting) -> None:
    text = plan_with(settings={setting.name: yaml_value(setting)})
    if setting.name not in PLAN_SETTINGS:
        refused_as_unknown(lambda: load_plan_text(text), setting.name)
        return
    if PLAN_SETTINGS[setting.name] is not setting:
        return  # (another setting of the same name is given here, walked on its own)
    plan = load_plan_text(text)
    if setting.scope & Scope.SESSION:
        assert getattr(plan, setting.field) == example_value(setting)
    else:  # the default of every exercise that does not give its own
        marches = plan.exercises[1]
        if hasattr(marches, setting.field):
            assert getattr(marches, setting.field) == example_value(setting)


@pytest.mark.parametrize("setting", ROWS)
def test_a_plans_exercises_take_what_the_table_allows_there(setting: Setting) -> None:
    to = target(setting) if setting.name in EXERCISE_SETTINGS else "Presses"
    text = plan_with(exercise={setting.name: yaml_value(setting)}, to=to)
    if setting.name not in PLAN_EXERCISE_SETTINGS:
        refused_as_unknown(lambda: load_plan_text(text), setting.name)
        return
    if PLAN_EXERCISE_SETTINGS[setting.name] is not setting:
        return  # (another setting of the same name is given here, walked on its own)
    plan = load_plan_text(text)
    if not setting.kind.translatable:
        [exercise] = [each for each in plan.exercises if each.name == to]
        if hasattr(exercise, setting.field) and not isinstance(setting.kind, ChoiceOrTexts):
            assert getattr(exercise, setting.field) == example_value(setting)


@pytest.mark.parametrize("setting", ROWS)
def test_a_plans_circuits_take_what_the_table_allows_there(setting: Setting) -> None:
    text = plan_with(exercise={setting.name: yaml_value(setting)}, to="Laps")
    if setting.name not in CIRCUIT_SETTINGS:
        refused_as_unknown(lambda: load_plan_text(text), setting.name)
        return
    if CIRCUIT_SETTINGS[setting.name] is not setting:
        return  # (another setting of the same name is given here, walked on its own)
    [circuit] = load_plan_text(text).circuits
    assert getattr(circuit, setting.field) == example_value(setting)


def write_profile(tmp_path: Path, profile: dict[str, object]) -> Path:
    path = tmp_path / "person.yaml"
    path.write_text(yaml.safe_dump(profile, sort_keys=False))
    return path


@pytest.mark.parametrize("setting", ROWS)
def test_a_profiles_settings_take_what_the_table_allows_there(
    setting: Setting, tmp_path: Path
) -> None:
    path = write_profile(tmp_path, {"settings": {setting.name: yaml_value(setting)}})
    if setting.name not in SESSION_SETTINGS:
        refused_as_unknown(lambda: load_profile(path), setting.name)
        return
    if SESSION_SETTINGS[setting.name] is not setting:
        return  # (another setting of the same name is given here, walked on its own)
    customized = customize(plan=load_plan_text(plan_with()), layers=[load_profile(path)])
    if setting.scope & Scope.SESSION:
        assert getattr(customized.plan, setting.field) == example_value(setting)
        [row] = [row for row in customized.explanation if row.target == setting.name]
        assert row.source.startswith(f"{path}:2:")  # (where --explain says it came from)


@pytest.mark.parametrize("setting", ROWS)
def test_a_profiles_exercises_take_what_the_table_allows_there(
    setting: Setting, tmp_path: Path
) -> None:
    overrides = {target(setting): {setting.name: yaml_value(setting)}}
    path = write_profile(tmp_path, {"exercises": overrides})
    if setting.name not in ONE_SETTINGS:
        refused_as_unknown(lambda: load_profile(path), setting.name)
        return
    if ONE_SETTINGS[setting.name] is not setting:
        return  # (another setting of the same name is given here, walked on its own)
    customized = customize(plan=load_plan_text(plan_with()), layers=[load_profile(path)])
    if setting.name in CIRCUIT_SETTINGS:
        [circuit] = customized.plan.circuits
        assert getattr(circuit, setting.field) == example_value(setting)


@pytest.fixture(scope="module")
def plan_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("table") / "walk.yaml"
    path.write_text(plan_with())
    return path


def validate(plan_file: Path, *options: str) -> click.testing.Result:
    return CliRunner().invoke(main, ["validate", str(plan_file), *options])


@pytest.mark.speech  # validate speaks every phrase to measure it
@pytest.mark.runs_ffmpeg
@pytest.mark.parametrize("setting", ROWS)
def test_set_takes_the_settings_the_table_allows_for_the_session(
    setting: Setting, plan_file: Path
) -> None:
    option = f"{setting.name}={example(setting)}"
    if SESSION_SETTINGS.get(setting.name, setting) is not setting:
        return  # (another setting of the same name is given here, walked on its own)
    result = validate(plan_file, "--set", option)
    if setting.name in SESSION_SETTINGS:
        assert result.exit_code == 0, result.output
        assert f"{plan_file}: OK, " in result.output
    else:
        assert result.exit_code == 2
        assert f"--set {option!r}: {setting.name!r} belongs to one exercise" in result.output
        with pytest.raises(PlanError) as parse_error:
            parse_set(option)
        assert "belongs to one exercise" in parse_error.value.problems[0]


@pytest.mark.speech  # validate speaks every phrase to measure it
@pytest.mark.runs_ffmpeg
@pytest.mark.parametrize("setting", ROWS)
def test_set_takes_the_fields_the_table_allows_for_one_exercise(
    setting: Setting, plan_file: Path
) -> None:
    option = f"{target(setting)}.{setting.name}={example(setting)}"
    if ONE_SETTINGS.get(setting.name, setting) is not setting:
        return  # (another setting of the same name is given here, walked on its own)
    result = validate(plan_file, "--set", option)
    if setting.name in ONE_SETTINGS:
        assert result.exit_code == 0, result.output
    else:
        assert result.exit_code == 2
        assert f"'{target(setting)}.{setting.name}' is neither a setting (" in result.output


@pytest.mark.speech  # validate speaks every phrase to measure it
@pytest.mark.runs_ffmpeg
def test_the_rate_option_takes_the_range_of_the_rate_setting(plan_file: Path) -> None:
    kind = SESSION_SETTINGS["rate"].kind
    assert isinstance(kind, Integer)
    [rate] = [p for p in main.commands["validate"].params if p.name == "rate"]
    assert isinstance(rate.type, click.IntRange)
    assert (rate.type.min, rate.type.max) == (kind.least, kind.most)
    assert validate(plan_file, "--rate", str(kind.most + 1)).exit_code == 2
    assert validate(plan_file, "--rate", str(kind.most)).exit_code == 0


@pytest.mark.parametrize("setting", ROWS)
def test_each_default_is_a_value_of_its_own_kind(setting: Setting) -> None:
    """A default is what the setting's kind would read (durations in ms); None where unset."""
    kind, value = setting.kind, setting.default
    if isinstance(kind, Seconds):
        assert value is None or kind.least_ms <= value <= kind.most_ms  # type: ignore[operator]
    elif isinstance(kind, (Count, Integer, Number)):
        assert value is None or kind.least <= value <= kind.most  # type: ignore[operator]
    elif isinstance(kind, Choice):
        assert value is None or isinstance(value, kind.options)


def test_what_scales_and_progresses_is_a_duration_or_a_count() -> None:
    assert set(SCALES) == {"hold_scale", "work_scale", "rest_scale"}
    for setting in SETTINGS:
        if setting.scaled_by:
            assert isinstance(setting.kind, Seconds), setting.name
            assert setting.scaled_by in SESSION_SETTINGS, setting.name
        if setting.progresses:
            assert setting.scope & Scope.EXERCISE and isinstance(setting.kind, (Count, Seconds))
    assert PROGRESSIVE == ("reps", "sets", "hold", "work", "rest", "reset", "set_rest")


def test_a_setting_is_declared_once_for_each_scope() -> None:
    """Two rows may share a name only where they mean different things in different places (the
    session's `instructions` and an exercise's)."""
    for scope in Scope:
        names = [setting.name for setting in SETTINGS if setting.scope & scope]
        assert len(names) == len(set(names)), scope


def test_the_set_message_lists_the_tables_settings_in_its_order() -> None:
    with pytest.raises(PlanError) as raised:
        parse_set("zzzz=1")
    settings = ", ".join(SESSION_SETTINGS)
    fields = ", ".join(EXERCISE_SETTINGS)
    assert raised.value.problems == [
        f"--set 'zzzz=1': 'zzzz' is neither a setting ({settings}) "
        f"nor EXERCISE.FIELD with a field of {fields}, nor CIRCUIT.FIELD with a field of "
        f"{', '.join(CIRCUIT_SETTINGS)}"
    ]


def test_the_readme_lists_what_a_profile_can_give_as_the_table_does() -> None:
    """The README's paragraph on a profile's settings names the table's settings for the session
    (the language has its own section), for one exercise and for one circuit, in the order messages
    list them."""
    readme = (Path(__file__).parents[1] / "README.md").read_text()
    paragraph = readme[readme.index("Settings a profile (or `--set`) can give") :]
    paragraph = paragraph[: paragraph.index("\n\n")]
    session, one = paragraph.split("For one exercise:")
    one, circuit = one.split("For one circuit")

    def named(text: str, among: dict[str, Setting]) -> list[str]:
        return [name for name in re.findall(r"`([a-z_]+)`", text) if name in among]

    settings = [name for name in SESSION_SETTINGS if name != "language"]
    assert sorted(named(session, SESSION_SETTINGS)) == sorted(settings)
    assert named(one, EXERCISE_SETTINGS) == list(EXERCISE_SETTINGS)
    assert named(circuit, CIRCUIT_SETTINGS) == list(CIRCUIT_SETTINGS)
