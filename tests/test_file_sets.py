"""A session and the files beside it are one unit: a build replaces all of them or none, and a
session is up to date only with the sidecars it was written with beside it.

Real builds of a tiny plan through the command line. Where a fault is needed, the disk is made full
for one file only (writing it raises ENOSPC, as a full disk does), after the others were written.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from builders import ONE_SQUEEZE, QUICK, exercise_yaml, plan_yaml
from click.testing import CliRunner, Result

import voiceguide.output.export
from voiceguide.cli.commands import main

pytestmark = pytest.mark.audio

PLAN_TEXT = plan_yaml("Units", ONE_SQUEEZE, exercise_yaml("Lift", "Lift.", reps=1, hold=2), **QUICK)
SIDECARS = (".html", ".json", ".txt", ".vtt")


def invoke(*args: object) -> Result:
    return CliRunner().invoke(main, [str(arg) for arg in args])


def contents(folder: Path) -> dict[str, bytes]:
    """Every file in *folder*, by name, with its bytes."""
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir())}


@pytest.fixture
def plan(tmp_path: Path) -> Path:
    path = tmp_path / "units.yaml"
    path.write_text(PLAN_TEXT)
    return path


@pytest.fixture
def out(tmp_path: Path) -> Path:
    folder = tmp_path / "out"
    folder.mkdir()
    return folder / "session.mp3"


def disk_full_for(monkeypatch: pytest.MonkeyPatch, fails: Callable[[Path], bool]) -> None:
    """Writing a file whose temporary name *fails* accepts raises ENOSPC, as on a full disk."""
    for method in ("write_bytes", "write_text"):
        original = getattr(Path, method)

        def write(
            self: Path, *args: object, _original: Callable[..., int] = original, **kwargs: object
        ) -> int:
            if fails(self):
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(self))
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(Path, method, write)


def test_a_sidecar_that_cannot_be_written_leaves_the_session_and_every_sidecar_as_they_were(
    plan: Path, out: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert invoke("build", plan, "-o", out).exit_code == 0
    before = contents(out.parent)
    assert sorted(before) == [
        "session.html",
        "session.json",
        "session.mp3",
        "session.txt",
        "session.vtt",
    ]
    disk_full_for(monkeypatch, lambda path: ".session.vtt." in path.name)

    result = invoke("build", plan, "-o", out, "--set", "rate=190")

    assert result.exit_code == 1, result.output
    assert "session.vtt: the disk is full" in result.stderr
    assert "Traceback" not in result.output
    assert contents(out.parent) == before, (
        "a file of the session was replaced, or a temporary file left"
    )


@pytest.mark.parametrize("damage", ["removed", "changed"])
def test_a_session_whose_sidecar_is_missing_or_changed_is_built_again(
    plan: Path, out: Path, damage: str
) -> None:
    assert invoke("build", plan, "-o", out).exit_code == 0
    written = contents(out.parent)
    assert invoke("build", plan, "-o", out).stdout.startswith("Up to date: ")
    captions = out.with_suffix(".vtt")
    if damage == "removed":
        captions.unlink()
    else:
        captions.write_text("WEBVTT\n\nedited by hand\n")

    again = invoke("build", plan, "-o", out)

    assert again.exit_code == 0, again.output
    assert again.stdout.startswith("Wrote "), again.stdout
    assert captions.read_bytes() == written["session.vtt"]
    assert invoke("build", plan, "-o", out).stdout.startswith("Up to date: ")


def test_batch_checks_the_sidecars_as_build_does(plan: Path, tmp_path: Path) -> None:
    profiles = tmp_path / "people"
    profiles.mkdir()
    for name in ("ann", "bob"):
        (profiles / f"{name}.yaml").write_text(f"name: {name.title()}\n")
    out = tmp_path / "sessions"
    out.mkdir()
    first = invoke("batch", plan, profiles, "-o", out, "--jobs", "1")
    assert first.exit_code == 0, first.output
    (out / "units-bob.json").unlink()

    again = invoke("batch", plan, profiles, "-o", out, "--jobs", "1")

    assert again.exit_code == 0, again.output
    assert (out / "units-bob.json").is_file()
    lines = again.stdout.splitlines()
    assert any("units-ann" in line and "up to date" in line.lower() for line in lines), again.stdout
    assert not any("units-bob" in line and "up to date" in line.lower() for line in lines), (
        again.stdout
    )


def test_a_split_that_fails_halfway_leaves_every_part_and_the_playlist_as_they_were(
    plan: Path, out: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert invoke("build", plan, "-o", out, "--split").exit_code == 0
    before = contents(out.parent)
    parts = [name for name in before if name.endswith(".mp3")]
    assert len(parts) == 4, parts  # intro, two exercises, closing
    encode = voiceguide.output.export._encode_mp3
    calls = []

    def third_part_fails(*args: object, **kwargs: object) -> None:
        calls.append(1)
        if len(calls) == 3:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        encode(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(voiceguide.output.export, "_encode_mp3", third_part_fails)

    result = invoke("build", plan, "-o", out, "--split", "--set", "rate=190")

    assert result.exit_code == 1, result.output
    assert "the disk is full" in result.stderr
    assert contents(out.parent) == before, "some parts were replaced, or a temporary file left"


def test_a_split_removes_the_parts_an_earlier_split_left(plan: Path, out: Path) -> None:
    assert invoke("build", plan, "-o", out, "--split").exit_code == 0
    assert len(list(out.parent.glob("session-*.mp3"))) == 4
    plan.write_text(PLAN_TEXT.split("  - name: Lift")[0])

    result = invoke("build", plan, "-o", out, "--split")

    assert result.exit_code == 0, result.output
    parts = sorted(path.name for path in out.parent.glob("session-*.mp3"))
    assert len(parts) == 3, parts
    listed = [
        line
        for line in out.with_suffix(".m3u").read_text().splitlines()
        if not line.startswith("#")
    ]
    assert listed == parts
    assert sorted(path.name for path in out.parent.iterdir() if path.suffix in SIDECARS) == [
        f"session{suffix}" for suffix in SIDECARS
    ]
