"""Hostile and nonsensical input: YAML attacks, files that are not plans, values no session can have.

Each is refused through `voiceguide validate` (or build) with exit 2 and a message of the usual
shape: "Error: the plan has a problem:", then the file, line and column, the field, what was
expected and what was found, never a traceback; attacks are refused fast, in bounded memory, and
nothing in the file is ever executed.
"""

from __future__ import annotations

import json
import os
import re
import resource
import subprocess
import sys
import time
import tracemalloc
import unicodedata
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from cost_marks import marks_its_tests

from voiceguide.cli.commands import main
from voiceguide.common.errors import PlanError
from voiceguide.plans.loader import load_plan, load_plan_text

ONE_EXERCISE = "title: Hostile\nexercises:\n  - name: Squeeze\n"
"""A plan header whose one exercise's further fields start on line 4, column 5 (values at column 11+)."""
DURATION_HINT = 'a duration in seconds (like 5, 2.5, "90s", "1m30s" or "1:30")'
UNSPOKEN = {"Cc", "Cf", "Co", "Cs", "Cn", "So"}

EXPANSION_BOUND_S = 60
"""What an input that is refused without being expanded takes at most, on a loaded machine: an
expanded bomb or a rendered 13-hour session would take hours, so this separates the two without
being a speed target (those are scripts/bench's)."""


@pytest.fixture
def write(tmp_path: Path) -> Callable[..., Path]:
    """Write a plan (text or bytes) into the test's folder and return its path."""

    def write_plan(content: str | bytes, name: str = "plan.yaml") -> Path:
        path = tmp_path / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
        return path

    return write_plan


def assert_no_traceback(result: Result) -> None:
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        f"{type(result.exception).__name__}: {result.exception} escaped; stderr: {result.stderr[-1000:]}"
    )
    assert "Traceback" not in result.output


def assert_refused(
    result: Result, *expected: str | re.Pattern[str], subject: str = "the plan"
) -> list[str]:
    """Exit 2, nothing on stdout, and stderr is "Error: <subject> has ... problem(s):" followed by the
    *expected* problem lines (each exactly, or a compiled pattern matching one line fully)."""
    assert_no_traceback(result)
    assert result.exit_code == 2, f"exit {result.exit_code}: {result.output[-2000:]}"
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert re.fullmatch(rf"Error: {subject} has (a problem|\d+ problems):", lines[0]), lines[0]
    problems = lines[1:]
    assert all(line.startswith("  ") for line in problems), result.stderr
    for wanted in expected:
        if isinstance(wanted, re.Pattern):
            assert any(wanted.fullmatch(line) for line in problems), (
                f"no line matches {wanted.pattern}:\n{result.stderr}"
            )
        else:
            assert wanted in problems, f"{wanted!r} not among:\n{result.stderr}"
    return problems


def validate(runner: CliRunner, plan: Path, *options: str) -> Result:
    return runner.invoke(main, ["validate", str(plan), *options])


def run_limited(
    args: list[str], *, seconds: float, memory_bytes: int = 1 << 30
) -> subprocess.CompletedProcess[str]:
    """`python -m voiceguide ARGS` in a process limited to *memory_bytes* of address space; fails
    the test if it has not finished within *seconds*."""

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))

    try:
        return subprocess.run(
            [sys.executable, "-m", "voiceguide", *args],
            capture_output=True,
            text=True,
            timeout=seconds,
            preexec_fn=limit,
            check=False,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"voiceguide {' '.join(args)} was still running after {seconds} s")


# -- alias and merge bombs -----------------------------------------------------------------------


def billion_laughs(levels: int = 9, width: int = 9) -> str:
    """The classic alias bomb: each level a list of *width* aliases of the level below."""
    lines = ["a0: &a0 [" + ", ".join(['"lol"'] * width) + "]"]
    for level in range(1, levels + 1):
        lines.append(f"a{level}: &a{level} [" + ", ".join([f"*a{level - 1}"] * width) + "]")
    lines += ["title: Laughs", f"exercises: *a{levels}"]
    return "\n".join(lines) + "\n"


def merge_bomb(levels: int, width: int = 9) -> str:
    """An alias bomb through merge keys (<<): each level merges *width* copies of the level below."""
    lines = ["a0: &a0 {reps: 1}"]
    for level in range(1, levels + 1):
        lines.append(f"a{level}: &a{level} {{<<: [" + ", ".join([f"*a{level - 1}"] * width) + "]}")
    lines += [
        "title: Merges",
        "exercises:",
        "  - name: Squeeze",
        "    hold: 3",
        f"    <<: *a{levels}",
    ]
    return "\n".join(lines) + "\n"


def test_billion_laughs_is_refused_fast(runner: CliRunner, write: Callable[..., Path]) -> None:
    """A 9-level alias bomb (9**9 values if expanded) is refused without being expanded, each problem
    located."""
    plan = write(billion_laughs())
    started = time.perf_counter()
    result = validate(runner, plan)
    elapsed = time.perf_counter() - started
    problems = assert_refused(
        result,
        re.compile(
            rf"  {re.escape(str(plan))}:\d+:\d+: exercises\[0\]: expected a mapping of fields, found a list"
        ),
    )
    assert elapsed < EXPANSION_BOUND_S, f"took {elapsed:.1f} s"
    assert len(problems) < 100, f"{len(problems)} problems for one bomb"
    assert all(re.match(rf"  {re.escape(str(plan))}:\d+:\d+: ", line) for line in problems), (
        result.stderr
    )


def test_billion_laughs_stays_in_bounded_memory(tmp_path: Path) -> None:
    """Loading the alias bomb allocates less than 50 MB at its peak (it is never expanded)."""
    path = tmp_path / "bomb.yaml"
    path.write_text(billion_laughs(levels=10))
    tracemalloc.start()
    try:
        with pytest.raises(PlanError):
            load_plan(path, display_name="bomb.yaml")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 50 * 2**20, f"peak {peak / 2**20:.0f} MB"


def test_aliases_expanding_past_the_value_cap_are_refused(
    runner: CliRunner, write: Callable[..., Path]
) -> None:
    """60,000 aliases of one exercise (all the loader would walk) stop at the 50,000-value cap,
    located."""
    items = "\n".join(["  - *e"] * 60_000)
    plan = write(
        f"title: Many\nexercises:\n  - &e {{name: Squeeze, hold: 3, reps: 2, reset: 3}}\n{items}\n"
    )
    started = time.perf_counter()
    result = validate(runner, plan)
    elapsed = time.perf_counter() - started
    assert_refused(
        result,
        f"  {plan}:3:3: exercises: the document expands to more than 50,000 values (aliases?)",
    )
    assert elapsed < EXPANSION_BOUND_S, f"took {elapsed:.1f} s"


def test_merge_key_bomb_is_refused_fast_and_briefly(
    runner: CliRunner, write: Callable[..., Path]
) -> None:
    """Merge keys (<<) expanding to 59,049 copies of a field are refused, unexpanded, in a short
    report."""
    plan = write(merge_bomb(levels=5))
    started = time.perf_counter()
    result = validate(runner, plan)
    elapsed = time.perf_counter() - started
    problems = assert_refused(result)
    assert len(problems) <= 100, f"{len(problems)} problem lines for one merge bomb: {problems[:3]}"
    assert elapsed < EXPANSION_BOUND_S, f"took {elapsed:.1f} s"


def test_nine_level_merge_key_bomb_is_refused_in_bounded_time_and_memory(tmp_path: Path) -> None:
    """A 9-level merge-key bomb (9**9 merged fields) is refused with exit 2, unexpanded, within 1 GB."""
    plan = tmp_path / "merges.yaml"
    plan.write_text(merge_bomb(levels=9))
    result = run_limited(["validate", str(plan)], seconds=EXPANSION_BOUND_S)
    assert "Traceback" not in result.stderr, result.stderr[-1500:]
    assert result.returncode == 2, result.stderr[-1500:]
    assert result.stderr.startswith("Error: the plan has")


@pytest.mark.parametrize(
    "merge",
    [
        "<<: 1",
        "<<: [1, 2]",
        "<<: [{reps: 2}, oops]",
        "<<: !!python/object/apply:os.system ['echo merged']",
    ],
    ids=["scalar", "list-of-scalars", "mixed-list", "python-tag"],
)
def test_merge_key_of_a_non_mapping_is_a_located_problem(
    runner: CliRunner, write: Callable[..., Path], merge: str
) -> None:
    """`<<:` with something other than mappings is reported at its line, not a ConstructorError
    traceback."""
    plan = write(f"{ONE_EXERCISE}    hold: 3\n    {merge}\n")
    problems = assert_refused(validate(runner, plan))
    assert all(re.match(rf"  {re.escape(str(plan))}:[345]:\d+: ", line) for line in problems), (
        problems
    )


# -- files that are not plans --------------------------------------------------------------------


def test_file_over_the_size_cap(runner: CliRunner, write: Callable[..., Path]) -> None:
    """A plan file over 1,000,000 bytes is refused by its size, before it is parsed."""
    text = ONE_EXERCISE + "    hold: 3\n"
    plan = write(text + "#" * (1_000_001 - len(text) - 1) + "\n")
    assert plan.stat().st_size == 1_000_001
    assert_refused(
        validate(runner, plan),
        f"  {plan}: the file is over 1,000,000 bytes; plans are at most 1,000,000 bytes. "
        "Check that this is the plan you meant.",
    )


def test_endless_device_is_bounded_by_the_size_cap() -> None:
    """/dev/zero as the plan (a file whose size says 0) is refused by the size cap, not read until
    memory runs out."""
    result = run_limited(["validate", "/dev/zero"], seconds=20)
    assert "Traceback" not in result.stderr and "MemoryError" not in result.stderr, result.stderr[
        -800:
    ]
    assert result.returncode == 2, result.stderr[-800:]
    assert result.stderr.startswith("Error: the plan has a problem:\n  /dev/zero: "), result.stderr


def test_non_utf8_bytes_name_byte_and_line(runner: CliRunner, write: Callable[..., Path]) -> None:
    """Latin-1 text is refused with the byte offset and line of the first bad byte, and what to do."""
    plan = write(b"title: Hostile\nexercises:\n  - name: Caf\xe9\n    hold: 3\n")
    assert_refused(
        validate(runner, plan),
        f"  {plan}: byte 39 (line 3) is not UTF-8 text. Save the file as UTF-8 in your editor.",
    )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            b"\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00>\x00",
            "the file contains NUL bytes; it looks binary, not a YAML plan.",
        ),
        (
            b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
            "byte 0 (line 1) is not UTF-8 text. Save the file as UTF-8 in your editor.",
        ),
        (
            b"title: x\x00\nexercises: []\n",
            "the file contains NUL bytes; it looks binary, not a YAML plan.",
        ),
    ],
    ids=["elf", "png", "nul-in-text"],
)
def test_binary_file_is_refused_as_a_whole(
    runner: CliRunner, write: Callable[..., Path], content: bytes, message: str
) -> None:
    """A binary file (an executable, an image, text with a NUL) is refused as a whole with a plain
    reason."""
    plan = write(content, name="plan.bin")
    assert_refused(validate(runner, plan), f"  {plan}: {message}")


DEEP = 10_000


@pytest.mark.parametrize(
    "nested",
    [
        "[" * DEEP + "]" * DEEP,
        "{a: " * DEEP + "1" + "}" * DEEP,
        "\n" + "- " * DEEP + "x",
        "\n" + "".join(f"{'  ' * i}k:\n" for i in range(700)),
    ],
    ids=["flow-lists", "flow-mappings", "block-lists", "block-mappings"],
)
def test_deep_nesting_is_refused_without_recursion_error(
    runner: CliRunner, write: Callable[..., Path], nested: str
) -> None:
    """Lists or mappings nested thousands deep are refused as too deep, with no RecursionError, in
    seconds."""
    plan = write(f"title: Deep\nexercises: {nested}\n")
    started = time.perf_counter()
    result = validate(runner, plan)
    elapsed = time.perf_counter() - started
    assert_refused(result, f"  {plan}: the YAML is nested too deeply to be a plan.")
    assert elapsed < EXPANSION_BOUND_S, f"took {elapsed:.1f} s"


def test_deep_nesting_in_a_profile_is_refused(
    runner: CliRunner, write: Callable[..., Path]
) -> None:
    """A profile nested 10,000 deep is refused as too deep, naming the profile."""
    plan = write(ONE_EXERCISE + "    hold: 3\n")
    profile = write("settings: " + "[" * DEEP + "]" * DEEP + "\n", name="profile.yaml")
    result = validate(runner, plan, "--profile", str(profile))
    assert_refused(
        result, f"  {profile}: the YAML is nested too deeply to be a plan.", subject="the profile"
    )


def test_deep_nesting_in_a_set_value_is_refused(
    runner: CliRunner, write: Callable[..., Path]
) -> None:
    """--set rate=[[[...]]] nested 1,000 deep is a --set problem (exit 2), not a RecursionError."""
    plan = write(ONE_EXERCISE + "    hold: 3\n")
    option = "rate=" + "[" * 1000 + "]" * 1000
    result = validate(runner, plan, "--set", option)
    problems = assert_refused(result, subject="the --set option")
    assert problems[0].startswith(f"  --set {option!r}: "), problems


# -- YAML tags that would run code ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "tag"),
    [
        (
            "title: !!python/object/apply:os.system ['touch {marker}']",
            "python/object/apply:os.system",
        ),
        ("title: !!python/object/new:os.system ['touch {marker}']", "python/object/new:os.system"),
        ("title: !!python/name:os.system", "python/name:os.system"),
        ("title: !!python/module:os", "python/module:os"),
    ],
    ids=["apply", "new", "name", "module"],
)
def test_python_tags_are_refused_and_never_run(
    runner: CliRunner, write: Callable[..., Path], tmp_path: Path, field: str, tag: str
) -> None:
    """A !!python/... tag is refused at its line with what to do, and the command in it never runs."""
    marker = tmp_path / "executed"
    plan = write(field.format(marker=marker) + "\nexercises:\n  - name: Squeeze\n    hold: 3\n")
    assert_refused(
        validate(runner, plan),
        f"  {plan}:1:8: title: the YAML tag 'tag:yaml.org,2002:{tag}' is not allowed in a plan; remove it",
    )
    assert not marker.exists()


def test_python_tags_in_unknown_fields_keys_profiles_and_sets_never_run(
    runner: CliRunner, write: Callable[..., Path], tmp_path: Path
) -> None:
    """Tags hidden in an unknown field, a key, a profile and a --set are refused and never constructed."""
    marker = tmp_path / "executed"
    apply = f"!!python/object/apply:os.system ['touch {marker}']"
    plan = write(f"{ONE_EXERCISE}    hold: 3\n    extra: {apply}\n    ? {apply}\n    : 1\n")
    assert_refused(
        validate(runner, plan),
        re.compile(rf"  {re.escape(str(plan))}:5:5: exercises\[0\]\.extra: .*"),
    )
    profile = write(f"settings:\n  rate: {apply}\n", name="profile.yaml")
    clean = write(ONE_EXERCISE + "    hold: 3\n", name="clean.yaml")
    assert_refused(
        validate(runner, clean, "--profile", str(profile)),
        re.compile(
            rf"  {re.escape(str(profile))}:2:9: settings\.rate: the YAML tag "
            r"'tag:yaml\.org,2002:python/object/apply:os\.system' is not allowed in a (plan|profile); remove it"
        ),
        subject="the profile",
    )
    assert_refused(validate(runner, clean, "--set", f"voice={apply}"), subject="the --set option")
    assert not marker.exists()


# -- nonsense values -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "where", "message"),
    [
        ("hold: 0", "4:11", "exercises[0].hold: expected a duration from 0.5 s to 1 h, found 0 s"),
        (
            "hold: -5",
            "4:11",
            "exercises[0].hold: expected a duration from 0.5 s to 1 h, found -5 s",
        ),
        (
            "hold: .nan",
            "4:11",
            f"exercises[0].hold: expected {DURATION_HINT}, found the number '.nan'",
        ),
        (
            "hold: .inf",
            "4:11",
            f"exercises[0].hold: expected {DURATION_HINT}, found the number '.inf'",
        ),
        (
            "hold: -.inf",
            "4:11",
            f"exercises[0].hold: expected {DURATION_HINT}, found the number '-.inf'",
        ),
        (
            "hold: 1.0e+306",
            "4:11",
            f"exercises[0].hold: expected {DURATION_HINT}, found the number '1.0e+306'",
        ),
        (
            "hold: '-1e308'",
            "4:11",
            f"exercises[0].hold: expected {DURATION_HINT}, found the text '-1e308'",
        ),
        (
            "hold: '-3s'",
            "4:11",
            f"exercises[0].hold: expected {DURATION_HINT}, found the text '-3s'",
        ),
        (
            "hold: 3\n    reset: -1",
            "5:12",
            "exercises[0].reset: expected a duration from 0 s to 10 min, found -1 s",
        ),
        (
            "work: 3\n    rest: .NaN",
            "5:11",
            f"exercises[0].rest: expected {DURATION_HINT}, found the number '.NaN'",
        ),
        (
            "hold: 3\n    reps: 1000000",
            "5:11",
            "exercises[0].reps: expected a whole number from 1 to 500, found 1000000",
        ),
        (
            "hold: 3\n    reps: 0",
            "5:11",
            "exercises[0].reps: expected a whole number from 1 to 500, found 0",
        ),
        (
            "hold: 3\n    sets: .nan",
            "5:11",
            "exercises[0].sets: expected a whole number from 1 to 50, found the number '.nan'",
        ),
        (
            "hold: 3\n    reps: 2.5",
            "5:11",
            "exercises[0].reps: expected a whole number from 1 to 500, found the number '2.5'",
        ),
        (
            "hold: 7200",
            "4:11",
            "exercises[0].hold: expected a duration from 0.5 s to 1 h, found 2 h",
        ),
    ],
    ids=[
        "zero",
        "negative",
        "nan",
        "inf",
        "minus-inf",
        "milliseconds-past-float",
        "milliseconds-past-float-text",
        "negative-text",
        "negative-reset",
        "nan-rest",
        "million-reps",
        "zero-reps",
        "nan-sets",
        "fraction-reps",
        "two-hour-hold",
    ],
)
def test_nonsense_durations_and_counts_are_located(
    runner: CliRunner, write: Callable[..., Path], fields: str, where: str, message: str
) -> None:
    """Zero, negative, NaN and infinite durations and absurd counts: file:line:column, field, expected,
    found."""
    plan = write(f"{ONE_EXERCISE}    {fields}\n")
    assert_refused(validate(runner, plan), f"  {plan}:{where}: {message}")


@pytest.mark.parametrize(
    "value",
    ["0b_", "0x_", "-0b_", "1" * 5000, "!!float abc", "!!int abc", "!!bool maybe"],
    ids=[
        "binary-underscore",
        "hex-underscore",
        "negative-binary",
        "5000-digits",
        "float-tag",
        "int-tag",
        "bool-tag",
    ],
)
def test_numbers_yaml_cannot_convert_are_located_problems(
    runner: CliRunner, write: Callable[..., Path], value: str
) -> None:
    """Values that look like numbers to YAML but do not convert (0b_, 5000 digits, !!float abc) are
    located problems."""
    plan = write(f"{ONE_EXERCISE}    hold: 3\n    reps: {value}\n")
    assert_refused(
        validate(runner, plan),
        re.compile(rf"  {re.escape(str(plan))}:5:11: exercises\[0\]\.reps: .*"),
    )


@pytest.mark.parametrize("escape", ["\\U00110000", "\\UFFFFFFFF"], ids=["past-unicode", "huge"])
def test_escapes_outside_unicode_are_located_problems(
    runner: CliRunner, write: Callable[..., Path], escape: str
) -> None:
    """A double-quoted escape of no Unicode character ("\\U00110000") is a located problem, in a plan
    and a --set."""
    plan = write(f'title: "Bad {escape} title"\nexercises:\n  - name: Squeeze\n    hold: 3\n')
    # The YAML library reports no position for such an escape: the whole file is named.
    assert_refused(validate(runner, plan), re.compile(rf"  {re.escape(str(plan))}(:1:\d+)?: .*"))
    clean = write(ONE_EXERCISE + "    hold: 3\n", name="clean.yaml")
    result = validate(runner, clean, "--set", f'voice="{escape}"')
    assert_no_traceback(result)
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("Error: the --set option has a problem:"), result.stderr


def test_raw_control_character_is_located_on_one_line(
    runner: CliRunner, write: Callable[..., Path]
) -> None:
    """A raw control character (not allowed in YAML) is reported on one line with file:line:column."""
    plan = write(f"{ONE_EXERCISE}    hold: 3\n    instructions: Bell\x07here\n")
    problems = assert_refused(validate(runner, plan))
    assert problems == [problems[0]], f"one problem, on one line: {problems}"
    assert problems[0].startswith(f"  {plan}:5:23: "), problems
    assert "<unicode string>" not in problems[0]


def test_field_names_never_reach_the_terminal_raw(
    runner: CliRunner, write: Callable[..., Path]
) -> None:
    """An unknown field named with escape sequences or a newline is reported quoted, with no raw
    control characters."""
    plan = write(
        '"\\e[2J\\e[31mtitle": x\ntitle: x\nexercises:\n  - name: a\n    hold: 3\n    "re\\nps": 2\n'
    )
    result = validate(runner, plan)
    problems = assert_refused(result)
    assert len(problems) == 2, problems
    raw = sorted({c for c in result.stderr if unicodedata.category(c) == "Cc" and c != "\n"})
    assert not raw, f"raw control characters {raw} in: {result.stderr!r}"


@pytest.mark.speech
def test_long_session_needs_allow_long(runner: CliRunner, write: Callable[..., Path]) -> None:
    """A 4-hour session is refused with what to do (--allow-long), and accepted with it."""
    plan = write(
        "title: Long\nsettings:\n  counting: none\nexercises:\n  - name: Sit\n    reps: 4\n    hold: 3600\n"
    )
    result = validate(runner, plan)
    assert_no_traceback(result)
    assert result.exit_code == 2
    assert result.stderr == (
        "Error: the session would last at least 4 h 14 s, more than 3 h; check the reps, sets and durations, "
        "or pass --allow-long if you mean it (up to 12 h)\n"
    )
    allowed = validate(runner, plan, "--allow-long")
    assert allowed.exit_code == 0, allowed.stderr
    assert allowed.stdout.startswith(f"{plan}: OK, 1 exercise, 4 h ")


def test_session_over_twelve_hours_is_refused_even_with_allow_long(
    runner: CliRunner, write: Callable[..., Path], tmp_path: Path
) -> None:
    """13 hours is refused with --allow-long too, and build refuses it before writing anything."""
    plan = write(
        "title: Longer\nsettings:\n  counting: none\nexercises:\n  - name: Sit\n    reps: 13\n    hold: 3600\n"
    )
    result = validate(runner, plan, "--allow-long")
    assert_no_traceback(result)
    assert result.exit_code == 2
    assert result.stderr == (
        "Error: the session would last at least 13 h 41 s, more than 12 h; the most voiceguide makes is 12 h\n"
    )
    out = tmp_path / "long.mp3"
    started = time.perf_counter()
    built = runner.invoke(main, ["build", str(plan), "-o", str(out), "--allow-long"])
    assert built.exit_code == 2 and "more than 12 h" in built.stderr
    assert time.perf_counter() - started < EXPANSION_BOUND_S and list(tmp_path.glob("long*")) == []


def test_set_options_cannot_make_a_session_absurdly_long(
    runner: CliRunner, write: Callable[..., Path]
) -> None:
    """--set reps and hold_scale pushing a short plan past 3 h are refused like a long plan."""
    plan = write(ONE_EXERCISE + "    hold: 3000\n    counting: none\n")
    result = validate(runner, plan, "--set", "Squeeze.reps=5", "--set", "hold_scale=2")
    assert_no_traceback(result)
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: the session would last at least ")
    assert "--allow-long" in result.stderr


@pytest.mark.parametrize(
    ("plan_text", "where", "message"),
    [
        (
            "title: ''\nexercises:\n  - name: a\n    hold: 3\n",
            "1:8",
            "title: expected some text, found the text ''",
        ),
        (
            "title:\nexercises:\n  - name: a\n    hold: 3\n",
            "1:7",
            "title: expected text, found nothing (an empty value)",
        ),
        (
            "title: x\nexercises:\n  - name: ''\n    hold: 3\n",
            "3:11",
            "exercises[0].name: expected some text, found the text ''",
        ),
        (
            'title: x\nexercises:\n  - name: "  \\t "\n    hold: 3\n',
            "3:11",
            "exercises[0].name: expected some text, found the text '  \\t '",
        ),
        (
            'title: x\nexercises:\n  - name: "\U0001f525\U0001f525"\n    hold: 3\n',
            "3:11",
            "exercises[0].name: expected words that can be spoken (not only symbols or control characters), "
            "found the text '\U0001f525\U0001f525'",
        ),
        (
            'title: x\nexercises:\n  - name: "\\x07\\u200b"\n    hold: 3\n',
            "3:11",
            "exercises[0].name: expected words that can be spoken (not only symbols or control characters), "
            "found the text '\\x07\\u200b'",
        ),
        (
            f"{ONE_EXERCISE}    hold: 3\n    instructions: ''\n",
            "5:19",
            "exercises[0].instructions: expected some text, found the text ''",
        ),
        (
            f"{ONE_EXERCISE}    hold: 3\n    cue:\n",
            "5:9",
            "exercises[0].cue: expected text, found nothing (an empty value)",
        ),
    ],
    ids=[
        "empty-title",
        "null-title",
        "empty-name",
        "blank-name",
        "emoji-name",
        "control-name",
        "empty-instructions",
        "null-cue",
    ],
)
def test_empty_texts_are_located(
    runner: CliRunner, write: Callable[..., Path], plan_text: str, where: str, message: str
) -> None:
    """Empty, blank, emoji-only and control-only texts are refused where they are, saying what is
    missing."""
    plan = write(plan_text)
    assert_refused(validate(runner, plan), f"  {plan}:{where}: {message}")


@pytest.mark.parametrize(
    ("field", "length", "where", "limit"),
    [
        ("title", 201, "1:8", 200),
        ("name", 101, "3:11", 100),
        ("instructions", 4001, "5:19", 4000),
        ("cue", 201, "5:10", 200),
    ],
)
def test_enormous_texts_are_refused_with_their_limit(
    runner: CliRunner, write: Callable[..., Path], field: str, length: int, where: str, limit: int
) -> None:
    """A title, name, instructions or cue over its limit is refused with its length and the limit."""
    long_text = ("word " * length)[:length]
    if field == "title":
        text = f"title: {long_text}\nexercises:\n  - name: a\n    hold: 3\n"
        path = "title"
    elif field == "name":
        text = f"title: x\nexercises:\n  - name: {long_text}\n    hold: 3\n"
        path = "exercises[0].name"
    else:
        text = f"{ONE_EXERCISE}    hold: 3\n    {field}: {long_text}\n"
        path = f"exercises[0].{field}"
    plan = write(text)
    assert_refused(
        validate(runner, plan),
        f"  {plan}:{where}: {path}: the text is {length} characters long; at most {limit} are allowed",
    )


HOSTILE_TEXT_PLAN = """\
title: "\\e[31mRed\\e[0m title \\U0001F525"
settings:
  counting: none
  lead_in: 2
exercises:
  - name: "Squeeze\\x07 \\U0001F4AA\\u202e"
    instructions: "Breathe\\x1b[2J in \\U0001F44D\\U0001F3FD and\\u2028out \\x85slowly \\uD800\\uDFFF."
    cue: "\\U0001F525 Squeeze \\ufeff"
    hold: 2
"""


@pytest.mark.speech
def test_control_characters_and_emoji_are_accepted_and_never_spoken(
    runner: CliRunner, write: Callable[..., Path]
) -> None:
    """Control characters, escapes, lone surrogates and emoji in names and texts validate, and are
    never spoken."""
    plan = write(HOSTILE_TEXT_PLAN)
    result = validate(runner, plan)
    assert result.exit_code == 0, result.output
    preview = runner.invoke(main, ["preview", str(plan), "--json"])
    assert_no_traceback(preview)
    assert preview.exit_code == 0, preview.stderr
    events = json.loads(preview.stdout)["events"]
    texts = [event["text"] for event in events if event["kind"] == "speech"]
    assert any("Squeeze" in text for text in texts) and any("slowly" in text for text in texts), (
        texts
    )
    for text in texts + [event["exercise"] for event in events if event["exercise"]]:
        kept = [f"U+{ord(c):04X}" for c in text if unicodedata.category(c) in UNSPOKEN]
        assert not kept, f"{text!r} keeps {kept}"
        assert text == " ".join(text.split()), f"{text!r} has unfolded white space"
    table = runner.invoke(main, ["preview", str(plan)])
    assert "\x1b" not in table.output and "\x07" not in table.output


def test_invisible_format_characters_inside_a_word_are_removed_not_spaced() -> None:
    """A soft hyphen or zero-width space inside a word (pasted text) disappears; it does not split the
    word."""
    plan = load_plan_text(
        'title: x\nexercises:\n  - name: "Toe\\u00adpresses"\n    instructions: "Stretch gen\\u200btly."\n    hold: 3\n'
    )
    assert plan.exercises[0].name == "Toepresses"
    assert plan.exercises[0].instructions == "Stretch gently."


def test_progression_past_zero_names_the_plan_file_and_line(
    runner: CliRunner, write: Callable[..., Path]
) -> None:
    """--week far enough that a plan's shrinking progression goes below zero names the plan file and line."""
    plan = write(
        f"{ONE_EXERCISE}    reps: 2\n    hold: 5\n    reset: 3\n    progression:\n      hold: {{step: -1}}\n"
    )
    result = validate(runner, plan, "--week", "10")
    problems = assert_refused(
        result, subject=re.escape("the customization (profile, --set, --week)")
    )
    assert re.match(rf"  {re.escape(str(plan))}: in week 10, ", problems[0]), problems
    assert "Squeeze.hold would be -4 s" in problems[0]


def test_empty_sides_for_an_exercise_without_sides_is_a_set_problem(
    runner: CliRunner, write: Callable[..., Path]
) -> None:
    """--set "Squeeze.sides=[]" on an exercise done without sides is a problem naming the --set, not an IndexError."""
    plan = write(ONE_EXERCISE + "    hold: 3\n")
    result = validate(runner, plan, "--set", "Squeeze.sides=[]")
    problems = assert_refused(
        result, subject=r"the (customization \(profile, --set, --week\)|--set option)"
    )
    assert problems[0].startswith("  --set 'Squeeze.sides=[]': "), problems


# -- unsafe names as file names ------------------------------------------------------------------

UNSAFE_NAMES_PLAN = """\
title: Names
settings:
  counting: none
  lead_in: 1
  rest_between_exercises: 6
exercises:
  - name: ../../escape
    hold: 1
  - name: '..\\..\\windows\\system32'
    hold: 1
  - name: 'a/b:c*d?e"f<g>h|i'
    hold: 1
  - name: .hidden
    hold: 1
  - name: "/etc/passwd"
    hold: 1
  - name: "CON"
    hold: 1
"""


def _tree(folder: Path) -> set[Path]:
    return set(folder.rglob("*"))


@pytest.fixture(scope="module")
@marks_its_tests("audio")
def split_build(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Result, Path, set[Path], set[Path]]:
    """UNSAFE_NAMES_PLAN built with --split into out/: the result, the folder, and the files before and
    after."""
    root = tmp_path_factory.mktemp("split")
    plan = root / "names.yaml"
    plan.write_text(UNSAFE_NAMES_PLAN)
    out = root / "out"
    out.mkdir()
    watched = root.parent
    before = _tree(watched)
    cwd = os.getcwd()
    os.chdir(out)  # a relative "../" in a name would land next to out/ or above it
    try:
        result = CliRunner().invoke(main, ["build", str(plan), "--split", "-o", "session.mp3"])
    finally:
        os.chdir(cwd)
    return result, out, before, _tree(watched)


@pytest.mark.audio
def test_split_writes_only_inside_the_output_folder_with_safe_names(
    split_build: tuple[Result, Path, set[Path], set[Path]],
) -> None:
    """Exercise names with slashes, .., backslashes and reserved words give files inside the folder
    with safe names."""
    result, out, before, after = split_build
    assert_no_traceback(result)
    assert result.exit_code == 0, result.stderr
    new = after - before
    assert new, "nothing was written"
    outside = sorted(str(path) for path in new if out not in path.parents)
    assert not outside, f"files written outside {out}: {outside}"
    names = sorted(path.name for path in new)
    for name in names:
        assert re.fullmatch(
            r"session(-\d\d-[a-z0-9]+(-[a-z0-9]+)*)?\.(mp3|m3u|vtt|json|txt|html)", name
        ), name
    parts = [name for name in names if name.endswith(".mp3")]
    assert len(parts) == 8, names  # introduction, six exercises, closing
    playlist = (out / "session.m3u").read_text().splitlines()
    entries = [line for line in playlist if line and not line.startswith("#")]
    assert sorted(entries) == parts


def test_split_reports_the_files_it_wrote(
    split_build: tuple[Result, Path, set[Path], set[Path]],
) -> None:
    """After --split, the "Wrote" line names a file that exists (the playlist), not an MP3 that was
    never written."""
    result, out, _, _ = split_build
    wrote = result.stdout.split(" (")[0].removeprefix("Wrote ")
    assert (out / wrote).exists(), (
        f"stdout says {result.stdout.strip()!r}, but {wrote} does not exist"
    )
