"""Default output names, and progressions built without --week, through the command line with real
builds of a tiny plan.

A session's default name is made of what it is made from, as it ends up after plan, profile and
options: the plan, the profile, the language (when it is not the plan's own) and the week. So the
same session gets the same name however its language or week was chosen, and a second build of it
is up to date rather than a different file or an overwritten one.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import mutagen
import pytest
from builders import ONE_SQUEEZE, QUICK, plan_yaml
from click.testing import CliRunner, Result
from mutagen.easyid3 import EasyID3

from voiceguide.cli.commands import main

pytestmark = pytest.mark.audio

PLAN_TEXT = plan_yaml("Names", ONE_SQUEEZE, **QUICK)
PROGRESSION = """\
name: Di
exercises:
  Squeeze:
    progression:
      hold: {start: 3, step: 1, max: 5}
"""
WEEK_NOTE = "has a progression and no --week was given: this is the session for week 1 (--week N for another week)"


@pytest.fixture
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh working folder holding the plan (names.yaml); sessions go to its output/."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "names.yaml").write_text(PLAN_TEXT)
    return tmp_path


def invoke(*args: object) -> Result:
    return CliRunner().invoke(main, [str(arg) for arg in args], catch_exceptions=False)


def written(result: Result) -> str:
    """The file a build names on stdout ("Wrote X (...)" or "Up to date: X (...)")."""
    assert result.exit_code == 0, result.output
    line = result.stdout.splitlines()[0]
    return line.removeprefix("Wrote ").removeprefix("Up to date: ").split(" (")[0]


def test_the_language_is_in_the_name_however_it_was_chosen(here: Path) -> None:
    """--language cs, --set language=cs and a profile's `language: cs` all name the session -cs:
    the second and third are the same session as the first (up to date), not a replacement of the
    English one; the plan's own language adds nothing to the name."""
    (here / "czech.yaml").write_text("language: cs\n")
    first = invoke("build", "names.yaml", "--language", "cs")
    assert written(first) == "output/names-cs.mp3"
    again = invoke("build", "names.yaml", "--set", "language=cs")
    assert again.stdout.startswith("Up to date: output/names-cs.mp3 ("), again.output
    with_profile = invoke("build", "names.yaml", "--profile", "czech.yaml")
    assert written(with_profile) == "output/names-czech-cs.mp3"
    english = invoke("build", "names.yaml", "--language", "en")
    assert written(english) == "output/names.mp3"
    assert sorted(p.name for p in (here / "output").glob("*.mp3")) == [
        "names-cs.mp3",
        "names-czech-cs.mp3",
        "names.mp3",
    ]
    assert EasyID3(here / "output" / "names.mp3")["title"] == ["Names"]


def test_batch_and_program_name_the_language_as_build_does(here: Path) -> None:
    """batch and program put the session's language in the name, as build does, whether it comes
    from --language, --set or the profile."""
    (here / "people").mkdir()
    (here / "people" / "ann.yaml").write_text("name: Ann\n")
    (here / "people" / "eva.yaml").write_text("name: Eva\nlanguage: de\n")
    batch = invoke("batch", "names.yaml", "people", "--set", "language=cs")
    assert batch.exit_code == 0, batch.output
    assert sorted(p.name for p in (here / "output").glob("*.mp3")) == [
        "names-ann-cs.mp3",
        "names-eva-cs.mp3",
    ]
    by_profile = invoke("batch", "names.yaml", "people/eva.yaml")
    assert by_profile.stdout.startswith("built: output/names-eva-de.mp3 ("), by_profile.output
    (here / "prog.yaml").write_text(PROGRESSION)
    program = invoke(
        "program", "names.yaml", "--weeks", "1", "--profile", "prog.yaml", "--language", "cs"
    )
    assert program.stdout.startswith("built: output/names-prog-cs-week-01.mp3 ("), program.output
    same = invoke(
        "build", "names.yaml", "--profile", "prog.yaml", "--set", "language=cs", "--week", "1"
    )
    assert same.stdout.startswith("Up to date: output/names-prog-cs-week-01.mp3 ("), same.output


def _hold_ms(result: Result) -> list[int]:
    assert result.exit_code == 0, result.output
    return [round((i["end"] - i["start"]) * 1000) for i in json.loads(result.stdout)["intervals"]]


def test_preview_without_week_shows_week_one_and_says_so(here: Path) -> None:
    """A progression previewed without --week is week 1 (its start value), with a note on stderr;
    with --week 1 the script is the same and there is no note."""
    (here / "prog.yaml").write_text(PROGRESSION)
    without = invoke("preview", "names.yaml", "--profile", "prog.yaml", "--json")
    assert _hold_ms(without) == [3000]
    assert without.stderr == f"note: prog.yaml:3:3: {WEEK_NOTE}\n"
    week_one = invoke("preview", "names.yaml", "--profile", "prog.yaml", "--json", "--week", "1")
    assert week_one.stdout == without.stdout and week_one.stderr == ""
    plain = invoke("preview", "names.yaml", "--json")
    assert _hold_ms(plain) == [2000] and plain.stderr == ""


def test_progression_in_the_plan_without_week_is_week_one_too(here: Path) -> None:
    """The same for a progression in the plan itself: the note names the plan."""
    (here / "grows.yaml").write_text(
        PLAN_TEXT.replace("    hold: 2\n", "    hold: 2\n    progression:\n      reps: {step: 1}\n")
    )
    result = invoke("preview", "grows.yaml", "--json")
    assert result.stderr == f"note: grows.yaml: {WEEK_NOTE}\n"
    assert len(_hold_ms(result)) == 1
    assert len(_hold_ms(invoke("preview", "grows.yaml", "--json", "--week", "3"))) == 3


def test_build_without_week_writes_week_one_under_its_name(here: Path) -> None:
    """build of a progression without --week writes the week-1 session as -week-01, titled week 1,
    and says so; build --week 1 then finds it up to date."""
    (here / "prog.yaml").write_text(PROGRESSION)
    result = invoke("build", "names.yaml", "--profile", "prog.yaml")
    assert written(result) == "output/names-prog-week-01.mp3"
    assert result.stderr == f"note: prog.yaml:3:3: {WEEK_NOTE}\n"
    assert EasyID3(here / "output" / "names-prog-week-01.mp3")["title"] == ["Names, Di, week 1"]
    again = invoke("build", "names.yaml", "--profile", "prog.yaml", "--week", "1")
    assert again.stdout.startswith("Up to date: output/names-prog-week-01.mp3 ("), again.output


def test_batch_without_week_builds_week_one_of_a_progression(here: Path) -> None:
    """batch over a folder without --week: the progression's profile gets week 1 (named and titled
    so, with a note), the others their plain session."""
    (here / "people").mkdir()
    (here / "people" / "ann.yaml").write_text("name: Ann\n")
    (here / "people" / "prog.yaml").write_text(PROGRESSION)
    result = invoke("batch", "names.yaml", "people")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0].startswith("built: output/names-ann.mp3 (")
    assert result.stdout.splitlines()[1].startswith("built: output/names-prog-week-01.mp3 (")
    assert f"note: people/prog.yaml:3:3: {WEEK_NOTE}\n" in result.stderr
    assert EasyID3(here / "output" / "names-prog-week-01.mp3")["title"] == ["Names, Di, week 1"]
    preview = invoke("preview", "names.yaml", "--profile", "people/prog.yaml", "--json")
    assert _hold_ms(preview) == [3000]


# -- file names that are not UTF-8 -----------------------------------------------------------------

BAD_NAME = os.fsdecode(b"bad\xff")
"""A file name with a byte that is not UTF-8, as Python holds it (a surrogate escape)."""


@pytest.mark.parametrize("extension", ["mp3", "m4a", "ogg", "wav"])
def test_a_plan_whose_name_is_not_utf8_builds_in_every_format(here: Path, extension: str) -> None:
    """A plan named bad\\xff.yaml builds: the session keeps the plan's bytes in its file name, and
    messages, tags and sidecars show the odd byte as \\xff."""
    (here / f"{BAD_NAME}.yaml").write_text(PLAN_TEXT)
    result = invoke("build", f"{BAD_NAME}.yaml", "--format", extension)
    assert written(result) == f"output/bad\\xff.{extension}"
    session = here / "output" / f"{BAD_NAME}.{extension}"
    assert os.fsencode(session.name) == f"bad\xff.{extension}".encode("latin-1")
    tags = mutagen.File(session).tags
    assert tags is not None
    texts = [
        str(text)
        for value in tags.values()
        for text in (value if isinstance(value, list) else [value])
    ]
    assert any("from bad\\xff.yaml" in text for text in texts), texts
    timeline = json.loads(session.with_suffix(".json").read_text(encoding="utf-8"))
    assert timeline["title"] == "Names"
    assert invoke("validate", f"{BAD_NAME}.yaml").stdout.startswith("bad\\xff.yaml: OK, ")


def test_a_profile_and_output_whose_names_are_not_utf8(here: Path) -> None:
    """A profile and an -o with a byte that is not UTF-8: built, named in messages with \\xff."""
    (here / f"{BAD_NAME}-person.yaml").write_text("name: Zed\nsettings:\n  hold_scale: nope\n")
    (here / "people").mkdir()
    (here / "people" / f"{BAD_NAME}.yaml").write_text("name: Zed\n")
    result = invoke("batch", "names.yaml", "people", f"{BAD_NAME}-person.yaml")
    assert result.exit_code == 2, result.output
    assert result.stdout.startswith("built: output/names-bad\\xff.mp3 (")
    assert (
        "failed: bad\\xff-person.yaml:\n  the profile has a problem:\n    bad\\xff-person.yaml:3:15: "
        in result.stderr
    )
    out = invoke("build", "names.yaml", "-o", f"{BAD_NAME}.mp3")
    assert written(out) == "bad\\xff.mp3"
    assert (here / f"{BAD_NAME}.mp3").stat().st_size > 1000
