"""Every console example in README.md, run for real and compared with the output the README shows.

How examples are read, run and compared (and the one rule for leaving lines out, `...`) is in
tests/readme_examples.py. A change of behaviour fails here until the README shows it: when the
change is meant, `scripts/update-readme` rewrites the README's output in place, and its diff is
reviewed. Each example has a speech cache of its own, not the test run's (tests/conftest.py): with a
shared one, an example's figures would depend on what ran before it (see tests/readme_examples.py).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from readme_examples import (
    PROMPT,
    README,
    Command,
    Example,
    diff,
    environment,
    examples,
    fences,
    fold,
    matches,
    rewritten,
    run,
    run_example,
)

TEXT = README.read_text(encoding="utf-8")
EXAMPLES = examples(TEXT)

RECORDED = {
    "scripts/bench": "its figures are timings, which vary from run to run, and it takes minutes",
    "scripts/memory": "its figures are memory peaks, which vary from run to run, and it builds plans of 500 exercises",
    "scripts/bench --engines": "its figures are timings, which vary from run to run, and it builds 18 sessions",
    "scripts/intelligibility": (
        "it takes a minute an engine, and its figure depends on the espeak-ng and pocketsphinx installed"
    ),
    'scripts/test tests/test_end_to_end.py -rP | grep -E "worst|decoded"': (
        "it runs the end-to-end tests, which the suite runs anyway and which hold these figures within their tolerances"
    ),
}
"""The commands the README shows with one run's output rather than as a compared example, and why."""


@pytest.mark.audio
@pytest.mark.parametrize("example", EXAMPLES, ids=lambda example: example.id)
def test_readme_example_prints_what_the_readme_shows(example: Example, tmp_path: Path) -> None:
    """Each command of the example, run in order in a fresh folder, prints what the README shows."""
    problems = []
    for command, actual in zip(example.commands, run_example(example, tmp_path), strict=True):
        if not matches(command.shown, actual):
            problems.append(
                f"$ {command.text}\n{diff(command.shown, actual, name=f'$ {command.text}')}"
            )
    if problems:
        pytest.fail(
            f"README.md:{example.line} ({example.heading}): the output is not what the README shows:\n\n"
            + "\n\n".join(problems)
            + "\n\nIf the new output is right, run scripts/update-readme and review the README's diff.",
            pytrace=False,
        )


def test_the_readme_has_examples_and_each_runs_something() -> None:
    """The parser finds the README's examples (so an empty list cannot pass for a tested README)."""
    assert len(EXAMPLES) >= 8
    assert all(example.commands for example in EXAMPLES)
    assert any(
        c.text.startswith("voiceguide validate") for example in EXAMPLES for c in example.commands
    )


def preceding_paragraph(line: int) -> str:
    """The paragraph just above the fence at 1-based *line*."""
    lines = TEXT.splitlines()[: line - 1]
    while lines and not lines[-1].strip():
        lines.pop()
    paragraph: list[str] = []
    while lines and lines[-1].strip():
        paragraph.insert(0, lines.pop())
    return " ".join(paragraph)


def test_every_other_command_shown_is_a_recording_introduced_as_one() -> None:
    """A command shown outside a console block is one of RECORDED, in a ```text block that the
    sentence above it introduces as one run's output; nothing else escapes comparison."""
    seen = set()
    for line, info, body in fences(TEXT):
        if info == "console":
            continue
        shown = [text[len(PROMPT) :] for text in body if text.startswith(PROMPT)]
        if not shown:
            continue
        assert info == "text", (
            f"README.md:{line}: a command in a ```{info} block: make it ```console to test it"
        )
        assert len(shown) == 1 and shown[0] in RECORDED, (
            f"README.md:{line}: {shown} is neither tested nor RECORDED"
        )
        assert "one run's output" in preceding_paragraph(line), (
            f"README.md:{line}: say it is one run's output"
        )
        seen.add(shown[0])
    assert seen == set(RECORDED)


def test_bench_recording_names_the_machine_it_ran_on() -> None:
    """The bench's recorded output starts with the machine it measured (cores, Python)."""
    (body,) = [body for _, _, body in fences(TEXT) if body and body[0] == f"{PROMPT}scripts/bench"]
    assert re.fullmatch(r"voiceguide benchmark on \d+ cores?, Python 3\.\d+\.\d+", body[1])


# The rules of comparison and rewriting, on made-up output.


def test_an_elision_line_matches_any_run_of_lines_none_included() -> None:
    shown = ["first", "  ...", "last"]
    assert matches(shown, ["first", "last"])
    assert matches(shown, ["first", "a", "b", "last"])
    assert not matches(shown, ["first", "a", "b"])
    assert not matches(shown, ["first", "a", "last", "more"])


def test_a_line_ending_in_an_ellipsis_matches_a_line_starting_with_its_text() -> None:
    shown = ["known fields: counting, hold, ..."]
    assert matches(shown, ["known fields: counting, hold, reps"])
    assert not matches(shown, ["known fields: counting, cue, hold, reps"])
    assert not matches(["a", "b"], ["a", "c"])


def test_nothing_else_is_fuzzy() -> None:
    """Figures count: one digit more or less is a difference; order and repeated lines count too."""
    assert not matches(["Wrote a.mp3 (12:07.6)"], ["Wrote a.mp3 (12:07.7)"])
    assert not matches(["a", "b"], ["b", "a"])
    assert not matches(["a"], ["a", "a"])
    assert not matches(["a"], [])


def test_fold_keeps_what_the_author_left_out_and_changes_the_figures() -> None:
    shown = [
        "Effective values:",
        "  rate   150",
        "  ...",
        "  hold   30 s",
        "  ...",
        "Total: 4 min 52 s",
    ]
    actual = [
        "Effective values:",
        "  rate   150",
        "  volume 1",
        "  hold   25 s",
        "  reset  10 s",
        "Total: 4 min 40 s",
    ]
    assert fold(shown, actual) == [
        "Effective values:",
        "  rate   150",
        "  ...",
        "  hold   25 s",
        "  ...",
        "Total: 4 min 40 s",
    ]
    assert fold(shown, [*actual[:-1], "Total: 4 min 52 s"]) != shown  # the hold still changed
    assert matches(fold(shown, actual), actual)


def test_fold_keeps_the_lines_shown_where_new_lines_come_between_them() -> None:
    shown = ["a: 1", "...", "b: 2", "c: 3", "d: 4"]
    actual = ["a: 1", "x", "b: 2", "new: 9", "c: 3", "new: 10", "new: 11", "d: 4"]
    assert fold(shown, actual) == [
        "a: 1",
        "...",
        "b: 2",
        "new: 9",
        "c: 3",
        "new: 10",
        "new: 11",
        "d: 4",
    ]


def test_fold_cuts_a_changed_long_line_where_the_author_cut_it() -> None:
    shown = ["my-plan.yaml:4:5: unknown field 'hodl'; known fields: counting, hold, ..."]
    actual = [
        "my-plan.yaml:4:5: unknown field 'hodl'; known fields: counting, cue, hold, instructions, name"
    ]
    assert fold(shown, actual) == [
        "my-plan.yaml:4:5: unknown field 'hodl'; known fields: counting, cue, hold, ..."
    ]


def test_fold_adds_new_lines_and_drops_lines_no_longer_printed() -> None:
    assert fold(["Wrote a.mp3"], ["warning: too tight", "Wrote a.mp3"]) == [
        "warning: too tight",
        "Wrote a.mp3",
    ]
    assert fold(["built: x", "built: y", "2 sessions"], ["built: x", "1 session"]) == [
        "built: x",
        "1 session",
    ]
    assert fold([], ["Wrote b.mp3 (2:04.5)"]) == ["Wrote b.mp3 (2:04.5)"]


LINES = st.lists(
    st.sampled_from(["a", "b", "ab 1", "ab 2", "abc 12", "...", "  ...", "ab ...", "a..."]),
    max_size=7,
)


@given(shown=LINES, actual=LINES)
def test_fold_gives_what_matches_and_changes_nothing_that_matched(
    shown: list[str], actual: list[str]
) -> None:
    """What scripts/update-readme writes always matches the output, and it rewrites an example
    exactly when the test fails on it."""
    folded = fold(shown, actual)
    assert matches(folded, actual)
    assert (folded == shown) == matches(shown, actual)


def test_rewritten_keeps_commands_separators_and_everything_outside_the_examples() -> None:
    text = (
        "# Title\n\nSome text.\n\n```console\n$ voiceguide build \\\n    --rate 130\nWrote a.mp3 (1:00.0)\n\n"
        "$ ls -1\na.mp3\n```\n\nMore text, with ```console in it.\n"
    )
    (example,) = examples(text)
    assert [c.text for c in example.commands] == ["voiceguide build \\\n    --rate 130", "ls -1"]
    assert example.commands[0] == Command(
        source=("$ voiceguide build \\", "    --rate 130"), shown=("Wrote a.mp3 (1:00.0)",), gap=1
    )
    new = rewritten(text, {example.line: [["Wrote a.mp3 (0:60.0)"], ["a.mp3", "a.vtt"]]})
    assert new == text.replace("(1:00.0)", "(0:60.0)").replace("a.mp3\n```", "a.mp3\na.vtt\n```")
    assert rewritten(text, {example.line: [["Wrote a.mp3 (1:00.0)"], ["a.mp3"]]}) == text


def test_commands_run_through_a_shell_with_stdout_and_stderr_in_the_order_written(
    tmp_path: Path,
) -> None:
    """What the test compares is what a terminal shows: both streams, interleaved as written."""
    command = Command(source=("$ echo out; echo err >&2; echo out2 | tr a-z A-Z",), shown=(), gap=0)
    assert run(command, tmp_path, environment(speech_cache=tmp_path)) == ["out", "err", "OUT2"]
