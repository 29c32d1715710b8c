"""Which ffmpeg runs: a system ffmpeg for each need it meets, the bundled one for the rest.

These use real ffmpegs: the bundled one, and 4.2.2 (older than Ubuntu 22.04's 4.4) standing in
for a distribution's own, put first on PATH as a system install would be.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from audio_measure import decode
from click.testing import CliRunner
from old_ffmpeg import old_ffmpeg_folder

from voiceguide.cli.commands import main
from voiceguide.common.externals import FFMPEG_VARIABLE, FfmpegNeed, ffmpeg_path, ffmpeg_paths_clear


@pytest.fixture
def fresh_lookup(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No ffmpeg chosen by the environment, and every ffmpeg looked up anew, before and after."""
    monkeypatch.delenv(FFMPEG_VARIABLE, raising=False)
    ffmpeg_paths_clear()
    yield
    ffmpeg_paths_clear()


@pytest.fixture
def bundled() -> str:
    import imageio_ffmpeg

    return str(imageio_ffmpeg.get_ffmpeg_exe())


@pytest.fixture
def old_system_ffmpeg(monkeypatch: pytest.MonkeyPatch, fresh_lookup: None) -> str:
    """ffmpeg 4.2.2 first on PATH, as the system's."""
    folder = old_ffmpeg_folder()
    monkeypatch.setenv("PATH", f"{folder}{os.pathsep}{os.environ['PATH']}")
    return str(folder / "ffmpeg")


@pytest.mark.runs_ffmpeg
def test_an_old_system_ffmpeg_does_all_but_the_phrase_limiter(
    old_system_ffmpeg: str, bundled: str
) -> None:
    """ffmpeg 4.2.2 has no latency compensation in its limiter (5.0 has): the bundled one limits, it
    does the rest."""
    assert ffmpeg_path() == old_system_ffmpeg
    for need in (FfmpegNeed.MP3, FfmpegNeed.AAC, FfmpegNeed.OPUS, FfmpegNeed.WAV):
        assert ffmpeg_path(need) == old_system_ffmpeg, need
    assert ffmpeg_path(FfmpegNeed.LIMITER) == bundled
    assert ffmpeg_path(FfmpegNeed.OPUS, FfmpegNeed.LIMITER) == bundled


@pytest.mark.runs_ffmpeg
def test_the_bundled_ffmpeg_meets_every_need(
    bundled: str, monkeypatch: pytest.MonkeyPatch, fresh_lookup: None
) -> None:
    """With no ffmpeg on PATH, every need goes to the bundled one, which meets them all."""
    monkeypatch.setenv("PATH", "")
    assert {ffmpeg_path(need) for need in FfmpegNeed} == {bundled}
    assert ffmpeg_path(*FfmpegNeed) == bundled


@pytest.mark.runs_ffmpeg
def test_a_broken_system_ffmpeg_is_not_used(
    tmp_path: Path, bundled: str, monkeypatch: pytest.MonkeyPatch, fresh_lookup: None
) -> None:
    """An ffmpeg on PATH that fails even the basics (a broken install) is passed over for the bundled
    one."""
    broken = tmp_path / "ffmpeg"
    broken.write_text("#!/bin/sh\necho 'error while loading shared libraries' >&2\nexit 127\n")
    broken.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    assert ffmpeg_path() == bundled


@pytest.mark.runs_ffmpeg
def test_voiceguide_ffmpeg_chooses_one_for_everything(
    old_system_ffmpeg: str, bundled: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """VOICEGUIDE_FFMPEG=bundled passes over the system's; a path is used for every need, asked no
    questions."""
    monkeypatch.setenv(FFMPEG_VARIABLE, "bundled")
    assert {ffmpeg_path(need) for need in FfmpegNeed} == {bundled}
    monkeypatch.setenv(FFMPEG_VARIABLE, old_system_ffmpeg)
    assert {ffmpeg_path(need) for need in FfmpegNeed} == {old_system_ffmpeg}


@pytest.mark.speech
def test_voiceguide_ffmpeg_naming_nothing_runnable_is_a_clear_error(
    tiny: Path,
    tmp_path: Path,
    runner: CliRunner,
    monkeypatch: pytest.MonkeyPatch,
    fresh_lookup: None,
) -> None:
    """A VOICEGUIDE_FFMPEG that names no program: exit 2, saying what to set instead; nothing written."""
    monkeypatch.setenv(
        "VOICEGUIDE_CACHE_DIR", str(tmp_path / "cache")
    )  # (a cold build needs ffmpeg)
    monkeypatch.setenv(FFMPEG_VARIABLE, "/nowhere/ffmpeg")
    out = tmp_path / "session.m4a"
    result = runner.invoke(main, ["build", str(tiny), "-o", str(out)])
    assert result.exit_code == 2, result.output
    assert result.stderr == (
        "Error: VOICEGUIDE_FFMPEG names '/nowhere/ffmpeg', which is not an ffmpeg that can be run. "
        'Give the path of an ffmpeg executable, or "bundled", or unset VOICEGUIDE_FFMPEG.\n'
    )
    assert list(tmp_path.glob("session*")) == []


@pytest.mark.audio
def test_an_old_system_ffmpeg_makes_every_format_with_music(
    old_system_ffmpeg: str,
    bundled: str,
    tiny: Path,
    tmp_path: Path,
    runner: CliRunner,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With ffmpeg 4.2.2 as the system's, a cold build with music (its meter, its fades) makes every
    format, each decoding to the session's length. Decoded as a player does, by the bundled ffmpeg:
    ffmpeg 4.2 and 5.1 keep an M4A's padding after the last frame (up to 46 ms at 22.05 kHz), which
    the file says to drop."""
    monkeypatch.setenv("VOICEGUIDE_CACHE_DIR", str(tmp_path / "cache"))
    music = tmp_path / "music.wav"
    subprocess.run(
        [
            old_system_ffmpeg,
            "-v",
            "error",
            "-f",
            "lavfi",
            "-i",
            "sine=f=220:r=22050",
            "-t",
            "3",
            str(music),
        ],
        check=True,
    )
    for extension in ("mp3", "m4a", "ogg", "wav"):
        out = tmp_path / f"session.{extension}"
        result = runner.invoke(main, ["build", str(tiny), "-o", str(out), "--music", str(music)])
        assert result.exit_code == 0, result.output
        total_ms = json.loads(out.with_suffix(".json").read_text())["total"] * 1000
        decoded_ms = len(decode(out, sample_rate=22_050, ffmpeg=bundled)) / 22.05
        assert abs(decoded_ms - total_ms) < 30, (extension, decoded_ms, total_ms)
