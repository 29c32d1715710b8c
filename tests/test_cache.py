"""The speech cache as a user's disk leaves it: damaged entries, no home directory, a cache that
cannot be read or cleared. Each command runs as a user runs it (`python -m voiceguide` in a fresh
process, with real speech and a real MP3), and the session made over a damaged cache is measured
against a clean build of the same plan.

Checks of permissions run in a user namespace as a user id without a passwd entry
(`unshare -U --map-user=54321`): inside it, nothing bypasses a folder's mode as root would, so a
folder that cannot be read or changed really cannot be.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from audio_measure import decode
from builders import TINY_PLAN, write_plan
from cost_marks import marks_its_tests

from voiceguide.sound.engines import load_engine
from voiceguide.sound.speech import _voices_name
from voiceguide.sound.speechcache import SpeechCache

NO_PASSWD_ENTRY = 54321
USER_WITHOUT_PASSWD_ENTRY = [
    "unshare",
    "-U",
    f"--map-user={NO_PASSWD_ENTRY}",
    f"--map-group={NO_PASSWD_ENTRY}",
]
CACHE_VARIABLES = ("VOICEGUIDE_CACHE_DIR", "XDG_CACHE_HOME", "HOME")


def voiceguide(
    args: list[str],
    cwd: Path,
    *,
    cache: Path | None,
    as_other_user: bool = False,
    home: bool = True,
) -> subprocess.CompletedProcess[str]:
    """`python -m voiceguide ARGS` in *cwd*, with *cache* as its speech cache (None: none named),
    optionally as a user id without a passwd entry, and without HOME."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in CACHE_VARIABLES or (key == "HOME" and home)
    }
    env["TMPDIR"] = str(cwd / "tmp")
    (cwd / "tmp").mkdir(exist_ok=True)
    if cache is not None:
        env["VOICEGUIDE_CACHE_DIR"] = str(cache)
    command = [
        *(USER_WITHOUT_PASSWD_ENTRY if as_other_user else []),
        sys.executable,
        "-m",
        "voiceguide",
        *args,
    ]
    return subprocess.run(
        command, capture_output=True, text=True, cwd=cwd, env=env, timeout=120, check=False
    )


def cache_files(cache: Path) -> list[Path]:
    return sorted(cache.glob("speech/*/*.pcm"))


def damage(path: Path, how: str) -> None:
    data = path.read_bytes()
    noise = random.Random(path.name).randbytes
    damaged = {
        "empty": b"",
        "truncated": data[: len(data) // 2],
        "odd-length": data[:-1],
        "garbage": noise(len(data)),
        "noise-in-the-samples": data[: len(data) // 2] + noise(len(data) - len(data) // 2),
    }[how]
    path.write_bytes(damaged)


@pytest.fixture(scope="module")
@marks_its_tests("audio")
def clean(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A tiny plan (in its folder), and its session built from an empty speech cache."""
    folder = tmp_path_factory.mktemp("clean")
    plan = write_plan(folder, TINY_PLAN)
    built = voiceguide(["build", str(plan), "-o", "clean.mp3"], folder, cache=folder / "cache")
    assert built.returncode == 0, built.stderr
    assert built.stderr == ""
    return plan, folder / "clean.mp3"


def assert_same_session(session: Path, clean: Path) -> None:
    """The same timeline (every event at the same time, for as long) and the same decoded length."""
    assert json.loads(session.with_suffix(".json").read_text()) == json.loads(
        clean.with_suffix(".json").read_text()
    )
    assert len(decode(session)) == len(decode(clean))


@pytest.mark.audio
@pytest.mark.parametrize(
    "how", ["empty", "truncated", "odd-length", "garbage", "noise-in-the-samples"]
)
def test_damaged_clips_are_made_again_and_reported(
    how: str, clean: tuple[Path, Path], tmp_path: Path
) -> None:
    """Every cached clip damaged (as a crash or a full disk can leave them): the rebuild exits 0, says
    once how many entries were damaged and where the cache is, and makes the same session as a clean
    build; the next build finds the cache whole again."""
    plan, clean_session = clean
    cache = tmp_path / "cache"
    shutil.copytree(clean_session.parent / "cache", cache)
    damaged = cache_files(cache)
    assert len(damaged) > 10
    for path in damaged:
        damage(path, how)
    result = voiceguide(["build", str(plan), "-o", "session.mp3"], tmp_path, cache=cache)
    assert "Traceback" not in result.stderr, result.stderr[-2000:]
    assert result.returncode == 0, result.stderr
    assert result.stderr == (
        f"warning: {len(damaged)} damaged speech cache entries were found and made again "
        f"(the cache is in {cache / 'speech'})\n"
    )
    assert_same_session(tmp_path / "session.mp3", clean_session)
    again = voiceguide(["build", str(plan), "-o", "again.mp3"], tmp_path, cache=cache)
    assert again.returncode == 0 and again.stderr == "", again.stderr
    assert_same_session(tmp_path / "again.mp3", clean_session)


@pytest.mark.audio
def test_preview_and_validate_remeasure_emptied_clips(
    clean: tuple[Path, Path], tmp_path: Path
) -> None:
    """Emptied clips are neither silence nor missing phrases to preview and validate: they are made
    again, the times are those of a clean build, and the damage is reported."""
    plan, clean_session = clean
    cache = tmp_path / "cache"
    shutil.copytree(clean_session.parent / "cache", cache)
    clean_preview = voiceguide(["preview", str(plan), "--json"], tmp_path, cache=cache)
    clean_validate = voiceguide(["validate", str(plan)], tmp_path, cache=cache)
    for path in cache_files(cache):
        damage(path, "empty")
    preview = voiceguide(["preview", str(plan), "--json"], tmp_path, cache=cache)
    assert preview.returncode == 0, preview.stderr
    assert preview.stdout == clean_preview.stdout
    assert (
        preview.stderr.startswith("warning: ") and "damaged speech cache entries" in preview.stderr
    )
    for path in cache_files(cache):
        damage(path, "truncated")
    validate = voiceguide(["validate", str(plan)], tmp_path, cache=cache)
    assert validate.returncode == 0, validate.stderr
    assert "damaged speech cache entries" in validate.stderr
    assert validate.stdout == clean_validate.stdout


VOICE_LISTS = {
    "garbage": None,
    "not-a-list": {"voices": []},
    "empty": [],
    "a-number-for-an-id": [{"id": 5, "name": "English", "languages": ["en"], "gender": None}],
    "text-for-the-languages": [
        {"id": "gmw/en", "name": "English", "languages": "en", "gender": None}
    ],
}


@pytest.mark.audio
@pytest.mark.parametrize("how", VOICE_LISTS)
def test_a_damaged_voice_list_is_listed_again(
    how: str, clean: tuple[Path, Path], tmp_path: Path
) -> None:
    """A cached voice list that is not one (garbage, or a well-kept entry of the wrong shape) is
    listed again from the engine, reported, and the session is the same as a clean build's."""
    plan, clean_session = clean
    cache = tmp_path / "cache"
    shutil.copytree(clean_session.parent / "cache", cache)
    voices = sorted((cache / "speech").glob("voices-*"))
    assert len(voices) == 1
    if VOICE_LISTS[how] is None:
        voices[0].write_bytes(random.Random(1).randbytes(voices[0].stat().st_size))
    else:
        store = SpeechCache(engine=str(load_engine().identity()), folder=cache)
        store.store_json(_voices_name(store), VOICE_LISTS[how])
    result = voiceguide(["build", str(plan), "-o", "session.mp3"], tmp_path, cache=cache)
    assert "Traceback" not in result.stderr, result.stderr[-2000:]
    assert result.returncode == 0, result.stderr
    assert result.stderr.startswith("warning: 1 damaged speech cache entry was found"), (
        result.stderr
    )
    assert_same_session(tmp_path / "session.mp3", clean_session)


def test_an_entry_in_another_format_is_a_miss(tmp_path: Path) -> None:
    """Raw samples where an entry should be (as an older voiceguide wrote them) read as no entry."""
    cache = SpeechCache(engine="test", folder=tmp_path)
    key = cache.key(text="Hold.", voice="v", rate=150, sample_rate=22_050)
    cache.store(key, bytes(range(200)))
    assert cache.frames(key) == 100 and cache.load(key) == bytes(range(200))
    cache._path(key).write_bytes(bytes(range(200)))
    assert cache.frames(key) is None and cache.load(key) is None
    assert not cache._path(key).exists()


@pytest.mark.audio
@pytest.mark.parametrize("command", ["build", "preview", "validate", "cache info"])
def test_no_home_directory_uses_a_temporary_cache(
    command: str, clean: tuple[Path, Path], tmp_path: Path
) -> None:
    """HOME unset and a user id without a passwd entry (a container run with `-u N`): every command
    works, with a speech cache in the temporary folder, and says so."""
    plan, _ = clean
    args = {"build": ["build", str(plan), "-o", "s.mp3"], "cache info": ["cache", "info"]}.get(
        command, [command, str(plan)]
    )
    result = voiceguide(args, tmp_path, cache=None, as_other_user=True, home=False)
    assert "Traceback" not in result.stderr, result.stderr[-2000:]
    assert result.returncode == 0, result.stderr
    temporary = tmp_path / "tmp" / f"voiceguide-cache-{NO_PASSWD_ENTRY}"
    assert result.stderr.startswith(
        f"warning: there is no home directory, so the speech cache is a temporary one, in {temporary}; "
        "set VOICEGUIDE_CACHE_DIR to keep it elsewhere\n"
    ), result.stderr
    if command == "cache info":
        assert result.stdout.startswith(f"{temporary / 'speech'}: 0 clips"), result.stdout
    else:
        assert len(cache_files(temporary)) > 5


def test_cache_clear_that_removes_nothing_says_so(clean: tuple[Path, Path], tmp_path: Path) -> None:
    """`cache clear` on a cache whose folders the user may not change: exit 1, how many clips it could
    not remove and why; it does not claim to have removed them."""
    _, clean_session = clean
    cache = tmp_path / "cache"
    shutil.copytree(clean_session.parent / "cache", cache)
    before = cache_files(cache)
    folders = [cache / "speech", *(cache / "speech").iterdir()]
    for folder in folders:
        if folder.is_dir():
            folder.chmod(0o555)
    try:
        result = voiceguide(["cache", "clear"], tmp_path, cache=cache, as_other_user=True)
    finally:
        for folder in folders:
            if folder.is_dir():
                folder.chmod(0o755)
    assert "Traceback" not in result.stderr, result.stderr[-2000:]
    assert result.returncode == 1, result.stderr
    assert result.stdout == ""
    assert result.stderr.startswith(
        f"Error: could not remove {len(before)} of {len(before)} clips from {cache / 'speech'}: "
    ), result.stderr
    assert "Permission denied" in result.stderr
    assert cache_files(cache) == before


@pytest.mark.parametrize("command", ["info", "clear"])
def test_a_cache_in_a_folder_that_cannot_be_read_is_an_input_error(
    command: str, tmp_path: Path
) -> None:
    """VOICEGUIDE_CACHE_DIR inside a folder the user may not read: `cache info` and `cache clear`
    exit 2 naming the folder and the variable, no traceback."""
    locked = tmp_path / "locked"
    (locked / "cache" / "speech").mkdir(parents=True)
    locked.chmod(0)
    try:
        result = voiceguide(
            ["cache", command], tmp_path, cache=locked / "cache", as_other_user=True
        )
    finally:
        locked.chmod(0o755)
    assert "Traceback" not in result.stderr, result.stderr[-2000:]
    assert result.returncode == 2, result.stderr
    assert result.stderr == (
        f"Error: cannot read the speech cache in {locked / 'cache' / 'speech'}: Permission denied; "
        "VOICEGUIDE_CACHE_DIR names it: name a folder you may use, or unset it\n"
    )
