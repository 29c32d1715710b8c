"""Where a session goes is checked before any work, the same way by build, batch and program: a
folder that is missing, a file, not writable or not enterable, names too long for the file system,
`-o dir/`, and an extension that does not match --format. Each is a usage error (exit 2) naming the
file and what to do, with nothing written and nothing synthesized: the speech cache stays empty.

Permission checks run the command in a subprocess; as root, without the capabilities that let
root write and enter any folder, so that they test what an ordinary user meets.
"""

from __future__ import annotations

import ctypes
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from builders import ONE_SQUEEZE, QUICK, plan_yaml
from click.testing import CliRunner, Result

from voiceguide.cli.commands import main

PLAN_TEXT = plan_yaml("Out", ONE_SQUEEZE, **QUICK)
NAME_MAX = 255


@pytest.fixture
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh working folder holding the plan (out.yaml), with a speech cache of its own that
    starts empty: a check made before any work leaves it so."""
    work = tmp_path / "work"
    work.mkdir()
    (work / "out.yaml").write_text(PLAN_TEXT)
    monkeypatch.chdir(work)
    monkeypatch.setenv("VOICEGUIDE_CACHE_DIR", str(tmp_path / "cache"))
    return work


def nothing_synthesized(here: Path) -> bool:
    cache = here.parent / "cache"
    return not cache.exists() or not [p for p in cache.rglob("*") if p.is_file()]


def invoke(*args: object) -> Result:
    return CliRunner().invoke(main, [str(arg) for arg in args])


def refused(result: Result, message: str) -> None:
    """Exit 2, stderr exactly "Error: <message>", nothing on stdout, no traceback."""
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    assert result.exit_code == 2, result.output
    assert result.stderr == f"Error: {message}\n"
    assert result.stdout == ""


def files_in(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


# -- a folder that is not there, or not a folder -------------------------------------------------

MISSING = (
    "the folder missing does not exist; create it (mkdir -p missing) or choose another with -o"
)


@pytest.mark.parametrize(
    "args",
    [
        ["build", "out.yaml", "-o", "missing/x.mp3"],
        ["batch", "out.yaml", "person.yaml", "-o", "missing"],
        ["program", "out.yaml", "--weeks", "2", "-o", "missing"],
    ],
    ids=["build", "batch", "program"],
)
def test_a_missing_folder_is_refused_alike_by_every_command(here: Path, args: list[str]) -> None:
    """build -o missing/x.mp3, batch -o missing and program -o missing: the same exit 2 and message."""
    (here / "person.yaml").write_text("name: P\n")
    refused(invoke(*args), MISSING)
    assert not (here / "missing").exists() and nothing_synthesized(here)


@pytest.mark.audio
def test_dash_o_with_a_slash_means_a_folder(here: Path) -> None:
    """-o newdir/ names a folder: refused when it does not exist (never a file named newdir); when
    it does, the session goes in it under its default name, as with -o newdir."""
    refused(
        invoke("build", "out.yaml", "-o", "newdir/"),
        "the folder newdir/ does not exist; create it (mkdir -p newdir/) or choose another with -o",
    )
    assert not (here / "newdir").exists() and nothing_synthesized(here)
    (here / "newdir").mkdir()
    result = invoke("build", "out.yaml", "-o", "newdir/")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Wrote newdir/out.mp3 (")
    again = invoke("build", "out.yaml", "-o", "newdir")
    assert again.stdout.startswith("Up to date: newdir/out.mp3 ("), again.output
    assert files_in(here / "newdir") == ["out.html", "out.json", "out.mp3", "out.txt", "out.vtt"]


def test_output_under_a_file_is_refused(here: Path) -> None:
    """-o blocker/x.mp3 where blocker is a file."""
    (here / "blocker").write_text("a file")
    refused(
        invoke("build", "out.yaml", "-o", "blocker/x.mp3"),
        "blocker is a file, not a folder; choose a folder with -o",
    )
    assert (here / "blocker").read_text() == "a file" and nothing_synthesized(here)


def test_default_output_folder_that_is_a_file_is_refused(here: Path) -> None:
    """Without -o, ./output being a file is refused before any work, and left as it was."""
    (here / "output").write_text("notes")
    refused(
        invoke("build", "out.yaml"),
        "output is a file, not a folder; move it away, or choose where to write with -o",
    )
    refused(
        invoke("batch", "out.yaml", "out.yaml"),
        "output is a file, not a folder; move it away, or choose where to write with -o",
    )
    assert (here / "output").read_text() == "notes" and nothing_synthesized(here)


def test_a_folder_name_longer_than_the_file_system_allows_is_refused(here: Path) -> None:
    """A folder name over 255 bytes cannot exist: refused before any work, for build and batch."""
    folder = "d" * 256
    message = (
        f"the folder name {folder} is 256 bytes long, more than the {NAME_MAX} bytes a name may have; "
        "choose a shorter one with -o"
    )
    refused(invoke("build", "out.yaml", "-o", f"{folder}/x.mp3"), message)
    refused(invoke("batch", "out.yaml", "out.yaml", "-o", folder), message)
    assert nothing_synthesized(here)


# -- names ---------------------------------------------------------------------------------------


@pytest.mark.audio
def test_a_250_character_name_builds_with_every_file_beside_it(here: Path) -> None:
    """250 characters and .mp3 (254 bytes) is a legal name: the temporary file voiceguide writes
    first is named shorter, and the session and its sidecars (.html: 255 bytes) are all written."""
    name = "n" * 250
    result = invoke("build", "out.yaml", "-o", f"{name}.mp3")
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in here.glob("n*")) == [
        f"{name}.{ext}" for ext in ("html", "json", "mp3", "txt", "vtt")
    ]
    assert [p.name for p in here.iterdir() if p.name.endswith(".part")] == []


def test_a_name_whose_sidecar_would_be_too_long_is_refused(here: Path) -> None:
    """251 characters and .mp3 fits, but its timeline, .json, would be 256 bytes: refused before
    any work, naming which file and what to do."""
    name = "n" * 251
    refused(
        invoke("build", "out.yaml", "-o", f"{name}.mp3"),
        f"the timeline beside the session would be named {name}.json, 256 bytes long, more than the "
        f"{NAME_MAX} bytes a name may have; choose a shorter name with -o, or leave out the files "
        "beside it with --no-sidecars",
    )
    assert nothing_synthesized(here)


def test_a_default_name_too_long_says_what_to_shorten(here: Path) -> None:
    """A plan (or profile) whose file name makes a default name too long: refused, suggesting -o."""
    plan = here / f"{'p' * 240}.yaml"
    plan.write_text(PLAN_TEXT)
    (here / "people").mkdir()
    profile = here / "people" / f"{'q' * 20}.yaml"
    profile.write_text("name: Q\n")
    name = f"{'p' * 240}-{'q' * 20}.mp3"
    result = invoke("batch", plan.name, "people")
    refused(
        result,
        f"the session's file name would be {name}, 265 bytes long, more than the {NAME_MAX} bytes a name may "
        "have; give the plan or profile a shorter file name",
    )
    assert nothing_synthesized(here)


@pytest.mark.audio
def test_split_part_names_are_shortened_to_fit(here: Path) -> None:
    """--split names each part after the output and its section; a long output name leaves the
    section's part shorter rather than making a name the file system refuses."""
    name = "s" * 240
    result = invoke("build", "out.yaml", "-o", f"{name}.mp3", "--split", "--no-sidecars")
    assert result.exit_code == 0, result.output
    written = sorted(p.name for p in here.glob("s*"))
    assert len(written) == 4 and f"{name}.m3u" in written, written
    assert all(len(n.encode()) <= NAME_MAX for n in written), written
    assert [n[:244] for n in written if n.endswith(".mp3")] == [
        f"{name}-01-",
        f"{name}-02-",
        f"{name}-03-",
    ]


# -- formats -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--format", "ogg", "-o", "x.mp3"],
            "x.mp3: --format ogg writes Ogg Opus, whose files end in .ogg or .opus; name the output x.ogg, "
            "or leave out --format to write MP3 as the name says",
        ),
        (
            ["--format", "wav", "-o", "x.m4a"],
            "x.m4a: --format wav writes WAV, whose files end in .wav; name the output x.wav, "
            "or leave out --format to write M4A as the name says",
        ),
        (
            ["-o", "x.mp4"],
            "x.mp4: voiceguide writes .mp3, .m4a, .ogg, .opus or .wav files; end the name with one of those",
        ),
        (
            ["-o", "x"],
            "x has no extension; end the name with .mp3, .m4a, .ogg, .opus or .wav, or write x/ for a folder",
        ),
    ],
    ids=["ogg-as-mp3", "wav-as-m4a", "unknown", "none"],
)
def test_an_extension_that_is_not_the_format_is_refused(
    here: Path, args: list[str], message: str
) -> None:
    """--format ogg -o x.mp3 would write Ogg into a file named .mp3: refused, saying which to change."""
    refused(invoke("build", "out.yaml", *args), message)
    assert files_in(here) == ["out.yaml"] and nothing_synthesized(here)


@pytest.mark.audio
def test_a_matching_extension_and_format_build(here: Path) -> None:
    """--format opus -o x.ogg agree (Ogg Opus): built."""
    result = invoke("build", "out.yaml", "--format", "opus", "-o", "x.ogg", "--no-sidecars")
    assert result.exit_code == 0, result.output
    assert (here / "x.ogg").read_bytes()[:4] == b"OggS"


# -- what is there already -----------------------------------------------------------------------


def test_output_that_is_not_a_regular_file_is_refused(here: Path) -> None:
    """-o naming a pipe (or a device, such as /dev/null) would have voiceguide read from it to see
    whether it is up to date, and then rename its file over it: refused."""
    os.mkfifo(here / "pipe.mp3")
    refused(
        invoke("build", "out.yaml", "-o", "pipe.mp3"),
        "pipe.mp3 is not a regular file; voiceguide replaces the file it writes, so name a file (or a folder) with -o",
    )
    assert (here / "pipe.mp3").is_fifo() and nothing_synthesized(here)


def test_a_sidecar_name_taken_by_a_folder_is_refused(here: Path) -> None:
    """session.vtt being a folder would fail once the session is rendered: refused before."""
    (here / "session.vtt").mkdir()
    refused(
        invoke("build", "out.yaml", "-o", "session.mp3"),
        "session.vtt is a folder, where the session's captions would be written; "
        "move it away, choose another name with -o, or leave out the files beside it with --no-sidecars",
    )
    assert nothing_synthesized(here)


# -- permissions (a subprocess, as an ordinary user) ---------------------------------------------

CAP_DAC_OVERRIDE = 1
CAP_DAC_READ_SEARCH = 2
PR_CAPBSET_DROP = 24


def _as_ordinary_user() -> None:
    """In the child, before exec: root without the capabilities that ignore folder permissions."""
    libc = ctypes.CDLL(None, use_errno=True)
    for capability in (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH):
        if libc.prctl(PR_CAPBSET_DROP, capability, 0, 0, 0) != 0:
            raise OSError(
                ctypes.get_errno(), "cannot drop root's capability to ignore folder permissions"
            )


def run(here: Path, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "voiceguide", *args],
        cwd=cwd or here,
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=_as_ordinary_user if os.geteuid() == 0 else None,
    )


@pytest.fixture
def locked(here: Path) -> Iterator[dict[str, Path]]:
    """A read-only folder and one that may not be entered; their permissions restored at the end."""
    folders = {"read-only": here / "read-only", "no-entry": here / "no-entry"}
    for folder in folders.values():
        folder.mkdir()
    (folders["read-only"] / "out.yaml").write_text(PLAN_TEXT)
    folders["read-only"].chmod(0o555)
    folders["no-entry"].chmod(0o666)
    yield folders
    for folder in folders.values():
        folder.chmod(0o755)


def test_no_dash_o_in_a_read_only_folder_is_refused(here: Path, locked: dict[str, Path]) -> None:
    """Run where output/ cannot be made: exit 2 saying where to write instead, before any work."""
    result = run(here, "build", "out.yaml", cwd=locked["read-only"])
    assert "Traceback" not in result.stderr
    assert result.returncode == 2, result.stderr
    assert result.stderr == (
        f"Error: cannot make the folder output in {locked['read-only']}: Permission denied; "
        "run voiceguide from a folder you can write in, or choose where to write with -o\n"
    )
    assert nothing_synthesized(here)


@pytest.mark.parametrize("command", ["build", "batch"])
def test_a_folder_that_cannot_be_written_or_entered_is_refused(
    here: Path, locked: dict[str, Path], command: str
) -> None:
    """-o into a read-only folder, or into one that may not be entered: exit 2 before any work."""
    for name in ("read-only", "no-entry"):
        target = ["-o", f"{name}/x.mp3"] if command == "build" else ["out.yaml", "-o", name]
        result = run(here, command, "out.yaml", *target)
        assert "Traceback" not in result.stderr
        assert result.returncode == 2, result.stderr
        assert result.stderr == (
            f"Error: cannot write in {name}: Permission denied; choose a folder you can write in with -o\n"
        )
    assert nothing_synthesized(here)


def test_two_profiles_that_would_write_one_file_are_refused(here: Path) -> None:
    """Profile a-de.yaml and profile a.yaml in German both make out-a-de.mp3: refused before any
    work rather than one overwriting the other."""
    (here / "people").mkdir()
    (here / "people" / "a-de.yaml").write_text("name: A\n")
    (here / "people" / "a.yaml").write_text("name: A\nlanguage: de\n")
    refused(
        invoke("batch", "out.yaml", "people"),
        "two sessions would be written to output/out-a-de.mp3; rename a profile",
    )
    assert nothing_synthesized(here)
