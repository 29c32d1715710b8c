"""The README's console examples: reading them, running them, comparing and rewriting their output.

Used by tests/test_readme.py (which compares) and scripts/update-readme (which rewrites); the
standard library only, so that the script needs no test tools.

An example is a ```console block. Each line starting with `$ ` is a command (a line ending in a
backslash continues on the next), and the lines under it, up to the next command, are its output.
The commands of a block run in order, through bash, in one fresh folder prepared by `prepare`: the
repository's data/ is there as `data/`, the fixtures in tests/readme/ are copied in, and profiles/
also holds the shipped profiles. What a command writes to stdout and stderr is taken together, in
the order it was written, as a terminal shows it; but stdout and stderr are not a terminal, so the
progress bar, drawn only on a terminal, does not show.

Each example starts with an empty speech cache of its own, as on a fresh install, and runs on at
most CORES cores, as on this project's machine. Both change figures: espeak-ng's clip of a phrase
can differ by a millisecond with what the same process spoke before, so the times of a session
depend on which process first spoke each of its phrases into the cache (a cold build deals them
out by the number of cores). A cache shared between examples would make an example's figures
depend on which examples, or other tests, ran before it: `preview data/hamstring-stretch.yaml`
shows a cue at 0:32.1 in a fresh cache and at 0:32.0 after `voiceguide build`.

Matching, the one rule for leaving things out:
- a line `...` alone (spaces around it allowed) matches any run of lines, none included;
- a line ending in `...` matches a line that starts with the text before the `...`.
Everything else is compared exactly, figures included. Only what cannot be seen is ignored:
spaces at the end of a line, and blank lines at the end of a command's output (the blank line
that separates one command from the next in a block).
"""

from __future__ import annotations

import difflib
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
FIXTURES = ROOT / "tests" / "readme"
PROMPT = "$ "
ELLIPSIS = "..."
COMMAND_TIMEOUT_S = 600


@dataclass(frozen=True, slots=True)
class Command:
    source: tuple[str, ...]
    """The command's README lines, `$ ` and continuations included."""
    shown: tuple[str, ...]
    """The output the README shows under it, without the blank lines that end it."""
    gap: int
    """How many blank lines follow the output in the README (kept as they are when rewriting)."""

    @property
    def text(self) -> str:
        """The command as bash gets it: continuation lines keep their backslash and newline."""
        return "\n".join([self.source[0][len(PROMPT) :], *self.source[1:]])


@dataclass(frozen=True, slots=True)
class Example:
    line: int
    """The 1-based README line of the opening ```console fence."""
    heading: str
    """The section the example is in."""
    commands: tuple[Command, ...]
    body: range = field(repr=False)
    """The 0-based indexes of the README lines between the fences."""

    @property
    def id(self) -> str:
        first = self.commands[0].text.splitlines()[0] if self.commands else "(empty)"
        more = f" (+{len(self.commands) - 1})" if len(self.commands) > 1 else ""
        return f"README.md:{self.line} $ {first}{more}"


def examples(text: str) -> list[Example]:
    """Every ```console block of the README, in order."""
    lines = text.splitlines()
    found = []
    heading = ""
    n = 0
    while n < len(lines):
        if lines[n].startswith("#"):
            heading = lines[n].lstrip("#").strip()
        if lines[n].strip() == "```console":
            end = n + 1
            while end < len(lines) and lines[end].strip() != "```":
                end += 1
            if end == len(lines):
                raise ValueError(f"README.md:{n + 1}: the ```console block is not closed")
            body = range(n + 1, end)
            found.append(
                Example(line=n + 1, heading=heading, commands=_commands(lines, body), body=body)
            )
            n = end
        n += 1
    return found


def _commands(lines: list[str], body: range) -> tuple[Command, ...]:
    block = [lines[n] for n in body]
    if block and not block[0].startswith(PROMPT):
        raise ValueError(
            f"README.md:{body.start + 1}: a ```console block starts with a command: `$ ...`"
        )
    commands = []
    n = 0
    while n < len(block):
        start = n
        while block[n].endswith("\\") and n + 1 < len(block):
            n += 1
        source = tuple(block[start : n + 1])
        n += 1
        output_start = n
        while n < len(block) and not block[n].startswith(PROMPT):
            n += 1
        output = block[output_start:n]
        shown = _without_trailing_blanks(output)
        commands.append(Command(source=source, shown=tuple(shown), gap=len(output) - len(shown)))
    return tuple(commands)


def _without_trailing_blanks(lines: list[str]) -> list[str]:
    lines = [line.rstrip() for line in lines]
    while lines and not lines[-1]:
        lines.pop()
    return lines


def is_elision(line: str) -> bool:
    return line.strip() == ELLIPSIS


def line_matches(shown: str, actual: str) -> bool:
    if shown.endswith(ELLIPSIS) and not is_elision(shown):
        return actual.startswith(shown[: -len(ELLIPSIS)])
    return shown == actual


def matches(shown: list[str] | tuple[str, ...], actual: list[str]) -> bool:
    """Whether *actual* is what *shown* shows, by the rule in the module's docstring."""

    @cache
    def rest(i: int, j: int) -> bool:
        if i == len(shown):
            return j == len(actual)
        if is_elision(shown[i]):
            return any(rest(i + 1, k) for k in range(j, len(actual) + 1))
        return j < len(actual) and line_matches(shown[i], actual[j]) and rest(i + 1, j + 1)

    return rest(0, 0)


def fold(shown: list[str] | tuple[str, ...], actual: list[str]) -> list[str]:
    """*actual* as the README would show it: what the author left out still left out.

    The shown lines are aligned with the actual ones at the least cost: a line that matches, or a
    run of lines under a `...`, costs nothing; a line added costs 1; a shown line paired with a
    similar actual line (a figure changed) a little more; and a shown line dropped costs DROPPED,
    so that the lines the author chose to show stay, even where new lines now come between them,
    rather than vanish under a `...` nearby. Matching lines are kept as the author wrote them (a
    line cut short with `...` stays cut), `...` lines stay where they are, a changed line is the
    new one (cut with `...` at about the same place if the author had cut it), and lines no longer
    printed go. So `fold(shown, actual) == shown` exactly when `matches(shown, actual)`.
    """
    n, m = len(shown), len(actual)
    inf = float("inf")
    cost = [[inf] * (m + 1) for _ in range(n + 1)]
    for j in range(m + 1):
        cost[n][j] = float(m - j)
    for i in range(n - 1, -1, -1):
        for j in range(m, -1, -1):
            if is_elision(shown[i]):
                cost[i][j] = min(cost[i + 1][j], cost[i][j + 1] if j < m else inf)
                continue
            best = DROPPED + cost[i + 1][j]  # the shown line is no longer printed
            if j < m:
                best = min(best, 1 + cost[i][j + 1])  # a line printed that the README lacks
                if line_matches(shown[i], actual[j]):
                    best = min(best, cost[i + 1][j + 1])
                else:
                    change = _change_cost(shown[i], actual[j])
                    if change is not None:
                        best = min(best, change + cost[i + 1][j + 1])
            cost[i][j] = best
    folded: list[str] = []
    i = j = 0
    while i < n or j < m:
        if i == n:
            folded.append(actual[j])
            j += 1
        elif is_elision(shown[i]):
            if j < m and cost[i][j + 1] < cost[i + 1][j]:
                j += 1  # under the `...`
            else:
                folded.append(shown[i])
                i += 1
        elif j < m and line_matches(shown[i], actual[j]) and cost[i][j] == cost[i + 1][j + 1]:
            folded.append(shown[i])
            i, j = i + 1, j + 1
        elif (
            j < m
            and (change := _change_cost(shown[i], actual[j])) is not None
            and cost[i][j] == change + cost[i + 1][j + 1]
        ):
            folded.append(_cut_like(shown[i], actual[j]))
            i, j = i + 1, j + 1
        elif j < m and cost[i][j] == 1 + cost[i][j + 1]:
            folded.append(actual[j])
            j += 1
        else:
            i += 1  # dropped
    return folded


DROPPED = 4.0
"""What dropping a line the README shows costs, against 1 for showing a new line."""
SIMILAR = 0.6
"""How alike two lines must be (difflib's ratio) to count as one line changed, not two different lines."""


def _change_cost(shown: str, actual: str) -> float | None:
    cut = shown.endswith(ELLIPSIS)
    a = shown[: -len(ELLIPSIS)] if cut else shown
    b = actual[: len(a)] if cut else actual
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    if matcher.real_quick_ratio() < SIMILAR or matcher.quick_ratio() < SIMILAR:
        return None
    ratio = matcher.ratio()
    # Dearer than a line added, so that a line shown as it is stays paired with the same line
    # printed (and new lines come in beside it), but cheaper than a line dropped.
    return None if ratio < SIMILAR else 1 + 0.5 * (1 - ratio)


def _cut_like(shown: str, actual: str) -> str:
    """*actual*, cut short with `...` near where the author cut *shown*, if they had."""
    if not shown.endswith(ELLIPSIS):
        return actual
    at = len(shown) - len(ELLIPSIS)
    if at >= len(actual):
        return actual
    if shown[at - 1 : at].isspace():  # the author cut after a space: cut after the next one
        space = actual.find(" ", at - 1)
        at = space + 1 if space >= 0 else len(actual)
    return actual if at >= len(actual) else actual[:at] + ELLIPSIS


def diff(shown: list[str] | tuple[str, ...], actual: list[str], *, name: str) -> str:
    """What would change in the README: its lines against `fold`'s."""
    return "\n".join(
        difflib.unified_diff(
            list(shown), fold(shown, actual), "README.md", f"{name} (now)", lineterm="", n=2
        )
    )


def run_example(example: Example, folder: Path) -> list[list[str]]:
    """What each command of *example* prints, run in order in a fresh sandbox under *folder*."""
    work = folder / "work"
    work.mkdir()
    prepare(work)
    env = environment(speech_cache=folder / "speech-cache")
    return [run(command, work, env) for command in example.commands]


def prepare(folder: Path) -> None:
    """The folder the README's examples run in: data/, the fixtures, and profiles/ with the shipped
    ones."""
    (folder / "data").symlink_to(ROOT / "data", target_is_directory=True)
    shutil.copytree(
        FIXTURES, folder, dirs_exist_ok=True, ignore=shutil.ignore_patterns("README.md")
    )
    for profile in sorted((ROOT / "data" / "profiles").glob("*.yaml")):
        shutil.copy(profile, folder / "profiles" / profile.name)


def environment(*, speech_cache: Path) -> dict[str, str]:
    """This interpreter's `voiceguide` first on PATH; a speech cache of the example's own; output
    unbuffered so that stdout and stderr interleave as written; a fixed locale so that `ls` sorts
    alike everywhere."""
    bin_folder = str(Path(sys.executable).parent)
    env = {
        key: value for key, value in os.environ.items() if not key.startswith(("LC_", "COLUMNS"))
    }
    env.update(
        PATH=f"{bin_folder}{os.pathsep}{env.get('PATH', '')}",
        VOICEGUIDE_CACHE_DIR=str(speech_cache),
        PYTHONUNBUFFERED="1",
        LC_ALL="C.UTF-8",
    )
    return env


CORES = 2
"""The cores the examples run on, as on this project's machine (see the module's docstring)."""


def _on_the_examples_cores() -> None:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, sorted(os.sched_getaffinity(0))[:CORES])


def run(command: Command, folder: Path, env: dict[str, str]) -> list[str]:
    """The command's output, stdout and stderr together, as lines compared by `matches`."""
    done = subprocess.run(
        ["bash", "-c", command.text],
        cwd=folder,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        timeout=COMMAND_TIMEOUT_S,
        check=False,
        preexec_fn=_on_the_examples_cores,
    )
    return _without_trailing_blanks(done.stdout.decode("utf-8", errors="replace").splitlines())


def rewritten(text: str, outputs: dict[int, list[list[str]]]) -> str:
    """The README with the output of each example in *outputs* (by its line) folded in."""
    lines = text.splitlines()
    by_line = {example.line: example for example in examples(text)}
    for line in sorted(outputs, reverse=True):  # from the end, so earlier line numbers stay valid
        example = by_line[line]
        body: list[str] = []
        for command, actual in zip(example.commands, outputs[line], strict=True):
            body += [*command.source, *fold(command.shown, actual), *[""] * command.gap]
        lines[example.body.start : example.body.stop] = body
    return "\n".join(lines) + ("\n" if text.endswith("\n") else "")


def fences(text: str) -> list[tuple[int, str, list[str]]]:
    """Every fenced block: its 1-based line, its info string and its lines."""
    lines = text.splitlines()
    found = []
    n = 0
    while n < len(lines):
        opening = re.fullmatch(r"```(\S*)\s*", lines[n])
        if opening:
            end = n + 1
            while end < len(lines) and lines[end].strip() != "```":
                end += 1
            found.append((n + 1, opening.group(1), lines[n + 1 : end]))
            n = end
        n += 1
    return found
