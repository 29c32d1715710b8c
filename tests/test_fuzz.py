"""Fuzzing the inputs: random and mutated plans, profiles, --set options and command-line values.

Whatever goes in, a plan (or customized plan) comes out, or a PlanError whose every problem names
its file (and line and column) or its --set option; no other exception escapes, and the command
line answers with exit 0 or 2 and a message, never a traceback. The loaders and the customizer are
fuzzed in-process with many examples; the CLI, which synthesizes speech, with a few dozen.
scripts/fuzz runs the same tests with many more examples (VOICEGUIDE_FUZZ_EXAMPLES).
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from fuzz_strategies import (
    SHRINKING_PLAN,
    SMALL_PLAN,
    examples,
    mutated,
    option_arguments,
    plan_files,
    profile_files,
    random_documents,
    set_options,
)
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from voiceguide.cli.commands import main
from voiceguide.common.errors import PlanError
from voiceguide.plans.customize import Customized, customize
from voiceguide.plans.loader import load_plan, load_plan_text, shipped_plan_path
from voiceguide.plans.plan import Plan
from voiceguide.plans.profile import Layer, load_profile, parse_set

SLOW_OK = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example]
PHASES = [Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink]
"""All but the explain phase, which can take longer than the search itself and adds little to a shrunk
example."""
IN_PROCESS = settings(
    max_examples=examples(100), deadline=None, suppress_health_check=SLOW_OK, phases=PHASES
)
CLI = settings(
    max_examples=examples(30, per_example_cost=25),
    deadline=None,
    suppress_health_check=SLOW_OK,
    phases=PHASES,
)

WHOLE_FILE_PROBLEMS = (
    "the file is ",
    "byte ",
    "the file contains NUL bytes",
    "the YAML is nested too deeply",
    "the YAML holds a character that does not exist",
    "cannot read the file",
)
"""The problems that concern the whole file, and so have no line and column of their own."""
SET_DISPLAY = r"""--set (?:'.*'|".*")"""
"""How a problem names a --set option: the option as Python quotes it."""
ALL_SKIPPED = "every exercise of the plan is skipped; keep at least one"
UNSPOKEN = {"Cc", "Cf", "Co", "Cs", "Cn", "So"}

PLANS = {
    "default": load_plan(shipped_plan_path(), display_name="feet.yaml"),
    "small": load_plan_text(SMALL_PLAN, display_name="small.yaml"),
    "shrinking": load_plan_text(SHRINKING_PLAN, display_name="shrinking.yaml"),
}


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder for the files one example writes (module-scoped: Hypothesis reruns the test body)."""
    return tmp_path_factory.mktemp("fuzz")


def assert_names_file(problems: list[str], display: str) -> None:
    """Each problem is one line that starts with *display* and a line:column, or is about the whole
    file."""
    assert problems, "a PlanError with no problems"
    for problem in problems:
        assert_one_clean_line(problem)
        assert problem.startswith(f"{display}:"), f"a problem does not name {display}: {problem!r}"
        rest = problem[len(display) + 1 :]
        if not re.match(r"\d+:\d+: .", rest):
            assert rest.startswith(" ") and rest[1:].startswith(WHOLE_FILE_PROBLEMS), (
                f"a problem has no line:column and is not about the whole file: {problem!r}"
            )


def assert_one_clean_line(problem: str) -> None:
    """A problem is one line with no control characters: text from the file is quoted, never echoed
    raw (a raw ESC would drive the user's terminal, a raw newline break the report's shape)."""
    raw = sorted({c for c in problem if unicodedata.category(c) == "Cc"})
    assert not raw, f"a problem holds raw control characters {raw}: {problem!r}"


def assert_speakable(text: str) -> None:
    assert text == text.strip() and text, f"{text!r} is empty or not trimmed"
    assert not [c for c in text if unicodedata.category(c) in UNSPOKEN], (
        f"{text!r} keeps unspoken characters"
    )


def assert_plan_is_sound(plan: Plan) -> None:
    """A plan that loaded has exercises, and every text in it is speakable."""
    assert plan.exercises
    for text in (
        plan.title,
        *(e.name for e in plan.exercises),
        *(e.instructions or "x" for e in plan.exercises),
    ):
        assert_speakable(text)
    for exercise in plan.exercises:
        assert exercise.reps >= 1 and exercise.sets >= 1
        assert all(step.duration_ms >= 500 for step in exercise.steps)
        assert exercise.gap_ms >= 0 and exercise.lead_in_ms >= 0


@IN_PROCESS
@given(data=plan_files)
def test_plan_files_load_or_name_file_line_and_column(data: bytes, workdir: Path) -> None:
    """Any plan file, random or mutated, loads into a sound Plan or a PlanError naming
    file:line:column."""
    path = workdir / "plan.yaml"
    path.write_bytes(data)
    try:
        plan = load_plan(path, display_name="fuzzed plan.yaml")
    except PlanError as error:
        assert error.subject == "the plan"
        assert_names_file(error.problems, "fuzzed plan.yaml")
        return
    assert_plan_is_sound(plan)
    assert plan.source_name == "fuzzed plan.yaml"


@IN_PROCESS
@given(text=random_documents)
def test_random_documents_as_text_load_or_name_file_line_and_column(text: str) -> None:
    """A random YAML document given as text loads or is refused with every problem located."""
    try:
        plan = load_plan_text(text, display_name="doc.yaml")
    except PlanError as error:
        assert_names_file(error.problems, "doc.yaml")
        return
    assert_plan_is_sound(plan)


def _layers(profile: Path | None, options: list[str]) -> list[Layer]:
    """The profile and --set options read into layers, each PlanError checked for naming its source."""
    layers = []
    if profile is not None:
        try:
            layers.append(load_profile(profile, display_name="fuzzed profile.yaml"))
        except PlanError as error:
            assert error.subject == "the profile"
            assert_names_file(error.problems, "fuzzed profile.yaml")
            raise
    for option in options:
        try:
            layers.append(parse_set(option))
        except PlanError as error:
            for problem in error.problems:
                assert_one_clean_line(problem)
                assert problem.startswith(f"--set {option!r}: "), problem
            raise
    return layers


def _customize(plan_name: str, layers: list[Layer], week: int | None) -> None:
    """Customize; a PlanError must name the profile (file:line:column), the --set option or the plan
    file."""
    plan = PLANS[plan_name]
    try:
        customized = customize(plan=plan, layers=layers, week=week)
    except PlanError as error:
        for problem in error.problems:
            assert_one_clean_line(problem)
            assert problem == ALL_SKIPPED or re.match(
                rf"(fuzzed profile\.yaml:\d+:\d+|{SET_DISPLAY}|{re.escape(plan.source_name)}(:\d+:\d+)?): .",
                problem,
            ), f"a customization problem that names neither a file nor a --set option: {problem!r}"
        return
    assert isinstance(customized, Customized)
    assert customized.plan.exercises
    # Without a week, a progression makes week 1 and says where it is; a plan without one has no
    # week.
    assert customized.plan.week == (week or (1 if customized.week_one_for else None))


@IN_PROCESS
@given(
    profile=profile_files,
    options=st.lists(set_options, max_size=3),
    plan_name=st.sampled_from(sorted(PLANS)),
    week=st.none() | st.integers(1, 520),
)
def test_profiles_and_set_options_customize_or_name_their_source(
    profile: bytes, options: list[str], plan_name: str, week: int | None, workdir: Path
) -> None:
    """A fuzzed profile and --set options give a Customized plan or a PlanError naming the file or the
    --set."""
    path = workdir / "profile.yaml"
    path.write_bytes(profile)
    try:
        layers = _layers(path, options)
    except PlanError:
        return
    _customize(plan_name, layers, week)


@IN_PROCESS
@given(
    options=st.lists(set_options, min_size=1, max_size=4),
    plan_name=st.sampled_from(sorted(PLANS)),
    week=st.none() | st.integers(1, 60),
)
def test_set_options_alone_customize_or_name_the_option(
    options: list[str], plan_name: str, week: int | None
) -> None:
    """Random --set strings are read into layers or refused naming the option; customizing raises
    nothing else."""
    try:
        layers = _layers(None, options)
    except PlanError:
        return
    _customize(plan_name, layers, week)


# -- the command line ----------------------------------------------------------------------------

OVERRUN_SUMMARY = re.compile(
    r"^Error: (1 phrase does not fit its slot|\d+ phrases do not fit their slots):$", re.MULTILINE
)


def assert_clean_exit(result: Result, plan: Path) -> None:
    """Exit 0 or 2, no exception but SystemExit, no traceback; a failure says Error: and, for a plan
    error, names the plan file and a line."""
    detail = (
        f"exit {result.exit_code}\nstdout: {result.stdout[-2000:]}\nstderr: {result.stderr[-2000:]}"
    )
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        f"{type(result.exception).__name__}: {result.exception} escaped\n{detail}"
    )
    assert result.exit_code in (0, 2), detail
    assert "Traceback" not in result.output, detail
    if result.exit_code == 0:
        return
    stderr = result.stderr
    # Click's own usage errors print the usage line first, then "Error: ...". An overrun report of
    # `validate` lists the phrases first (test_validate_overrun_report_starts_with_error pins that).
    if not OVERRUN_SUMMARY.search(stderr):
        assert stderr.startswith("Error: ") or (
            stderr.startswith("Usage: ") and "\nError: " in stderr
        ), detail
    if stderr.startswith("Error: the plan has"):
        located = re.search(rf"^  {re.escape(str(plan))}:\d+:\d+: .", stderr, re.MULTILINE)
        whole = re.search(
            rf"^  {re.escape(str(plan))}: ({'|'.join(WHOLE_FILE_PROBLEMS)})", stderr, re.MULTILINE
        )
        assert located or whole, f"a plan error that names no line of {plan}\n{detail}"


@pytest.fixture(scope="module")
def small_plan(workdir: Path) -> Path:
    path = workdir / "small.yaml"
    path.write_text(SMALL_PLAN, encoding="utf-8")
    return path


@pytest.mark.speech
@pytest.mark.runs_ffmpeg  # (the first to measure speech in a process probes which ffmpeg to use)
@CLI
@given(command=st.sampled_from(["validate", "preview"]), arguments=option_arguments)
def test_cli_with_random_options_exits_0_or_2_with_a_message(
    command: str, arguments: list[str], small_plan: Path
) -> None:
    """validate and preview with random option values on a small valid plan: exit 0 or 2, no traceback."""
    result = CliRunner().invoke(main, [command, str(small_plan), *arguments])
    assert_clean_exit(result, small_plan)
    if result.exit_code == 0 and command == "validate" and "-h" not in arguments:
        assert result.stdout.startswith(f"{small_plan}: OK, "), result.stdout


@pytest.mark.speech
@pytest.mark.runs_ffmpeg  # (the first to measure speech in a process probes which ffmpeg to use)
@CLI
@given(
    data=st.one_of(mutated(st.just(SMALL_PLAN)), plan_files),
    command=st.sampled_from(["validate", "preview"]),
)
def test_cli_with_mutated_plan_files_exits_0_or_2_naming_file_and_line(
    data: bytes, command: str, workdir: Path
) -> None:
    """validate and preview of a mutated plan file: exit 0 or 2, and a plan error names the file and a
    line."""
    path = workdir / "mutated plan.yaml"
    path.write_bytes(data)
    result = CliRunner().invoke(main, [command, str(path)])
    assert_clean_exit(result, path)


@pytest.mark.speech
@pytest.mark.runs_ffmpeg
def test_validate_overrun_report_starts_with_error(small_plan: Path) -> None:
    """When phrases overrun (a slow --rate), validate's stderr starts with "Error:" like every other
    failure."""
    result = CliRunner().invoke(main, ["validate", str(small_plan), "--rate", "60"])
    assert result.exit_code == 2, result.output
    assert OVERRUN_SUMMARY.search(result.stderr), result.stderr
    assert result.stderr.startswith("Error: "), (
        f"stderr starts with {result.stderr.splitlines()[0]!r}"
    )
