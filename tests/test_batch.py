"""batch, program and the up-to-date check, through the command line with real builds of a tiny plan.

Outputs are checked on disk: which files exist, whether a file was rewritten (its bytes and its
modification time, set back to a known past time before each run), what its ID3 tags say, and,
for weekly programs, how long its holds are when the file is decoded and measured.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import audio_measure as am
import numpy as np
import pytest
from builders import QUICK, SQUEEZE, plan_yaml, write_plan
from click.testing import CliRunner, Result
from mutagen.easyid3 import EasyID3
from processes import finish, voiceguide

from voiceguide.build.session import RenderSettings
from voiceguide.cli.commands import main
from voiceguide.output.export import read_stamp
from voiceguide.script.timeline import TONE_MS, Tone

pytestmark = pytest.mark.audio

PLAN_TEXT = plan_yaml("Batch tiny", SQUEEZE, **QUICK)
GOOD1 = "name: Ann\nsettings:\n  rate: 190\n"
GOOD2 = "name: Bob\nsettings:\n  hold_scale: 1.5\n"
BAD = "name: Cy\nsettings:\n  hodl_scale: 2\n"
PROGRESSION = """\
name: Di
exercises:
  Squeeze:
    progression:
      hold: {start: 2, step: 1, max: 3.5}
"""
OLD_NS = 1_000_000_000 * 1_000_000_000
"""A modification time long past (2001), set on outputs so that a rewrite shows whatever the clock."""
HOLD_TOLERANCE_MS = 30


@pytest.fixture
def plan(tmp_path: Path) -> Path:
    return write_plan(tmp_path, PLAN_TEXT)


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def out_dir(tmp_path: Path, name: str = "out") -> Path:
    path = tmp_path / name
    path.mkdir()
    return path


def invoke(runner: CliRunner, *args: object) -> Result:
    return runner.invoke(main, [str(arg) for arg in args], catch_exceptions=False)


def age(*paths: Path) -> dict[Path, bytes]:
    """Set *paths* to a time long past; return their bytes, to check later that they were not
    rewritten."""
    for path in paths:
        os.utime(path, ns=(OLD_NS, OLD_NS))
    return {path: path.read_bytes() for path in paths}


def untouched(path: Path, contents: dict[Path, bytes]) -> bool:
    return path.stat().st_mtime_ns == OLD_NS and path.read_bytes() == contents[path]


def summary(result: Result) -> str:
    return result.stderr.strip().splitlines()[-1]


def title(path: Path) -> str:
    return EasyID3(path)["title"][0]


def first_hold_heard_ms(path: Path) -> float:
    """From the first start tone to the tone after it, in the decoded file."""
    samples = am.decode(path, sample_rate=RenderSettings().sample_rate)
    found = {
        tone: am.find_tones(samples, tone, sample_rate=RenderSettings().sample_rate)
        for tone in am.BUILT_IN_TONES
    }
    assert found[Tone.START], f"no start tone heard in {path.name}"
    start = found[Tone.START][0].onset_ms
    later = sorted(
        t.onset_ms
        for tones in found.values()
        for t in tones
        if t.onset_ms > start + TONE_MS[Tone.START]
    )
    return later[0] - start


# -- batch ----------------------------------------------------------------------------------------


def test_batch_builds_the_good_profiles_and_reports_the_bad_one(
    runner: CliRunner, plan: Path, tmp_path: Path
) -> None:
    """A bad profile among good ones: the good sessions are written, the bad one reported at its line,
    exit 2."""
    good1 = write(tmp_path / "good1.yaml", GOOD1)
    bad = write(tmp_path / "bad.yaml", BAD)
    good2 = write(tmp_path / "good2.yaml", GOOD2)
    out = out_dir(tmp_path)
    result = invoke(runner, "batch", plan, good1, bad, good2, "-o", out)
    assert result.exit_code == 2, result.output
    assert sorted(p.name for p in out.glob("*.mp3")) == ["tiny-good1.mp3", "tiny-good2.mp3"]
    lines = result.stdout.splitlines()
    assert [line.split(" (")[0] for line in lines] == [
        f"built: {out / 'tiny-good1.mp3'}",
        f"built: {out / 'tiny-good2.mp3'}",
    ]
    assert f"failed: {bad}:" in result.stderr
    assert (
        f"{bad}:3:3: settings.hodl_scale: unknown field 'hodl_scale'; did you mean 'hold_scale'?"
        in result.stderr
    )
    assert summary(result) == "3 sessions: 2 built, 0 up to date, 1 failed"
    assert title(out / "tiny-good1.mp3") == "Batch tiny, Ann"
    assert title(out / "tiny-good2.mp3") == "Batch tiny, Bob"


def test_batch_of_a_folder_takes_every_yaml_in_it(
    runner: CliRunner, plan: Path, tmp_path: Path
) -> None:
    """A folder argument stands for every .yaml profile in it; other files are left alone."""
    profiles = tmp_path / "profiles"
    write(profiles / "good1.yaml", GOOD1)
    write(profiles / "good2.yaml", GOOD2)
    write(profiles / "notes.txt", "not a profile: hodl_scale: 2\n")
    out = out_dir(tmp_path)
    result = invoke(runner, "batch", plan, profiles, "-o", out)
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.glob("*.mp3")) == ["tiny-good1.mp3", "tiny-good2.mp3"]
    assert summary(result) == "2 sessions: 2 built, 0 up to date, 0 failed"


def test_batch_again_is_up_to_date_and_force_or_a_change_rebuilds(
    runner: CliRunner, plan: Path, tmp_path: Path
) -> None:
    """Run again: nothing is rebuilt, quickly; --force rebuilds all; a changed profile rebuilds only
    its session."""
    good1 = write(tmp_path / "good1.yaml", GOOD1)
    good2 = write(tmp_path / "good2.yaml", GOOD2)
    out = out_dir(tmp_path)
    first_out, second_out = out / "tiny-good1.mp3", out / "tiny-good2.mp3"
    clock = time.perf_counter()
    assert invoke(runner, "batch", plan, good1, good2, "-o", out).exit_code == 0
    first_seconds = time.perf_counter() - clock
    contents = age(first_out, second_out)

    clock = time.perf_counter()
    again = invoke(runner, "batch", plan, good1, good2, "-o", out)
    again_seconds = time.perf_counter() - clock
    print(f"first batch {first_seconds:.2f} s, again {again_seconds:.2f} s")
    assert again.exit_code == 0, again.output
    assert summary(again) == "2 sessions: 0 built, 2 up to date, 0 failed"
    assert [line.split(" (")[0] for line in again.stdout.splitlines()] == [
        f"up to date: {first_out}",
        f"up to date: {second_out}",
    ]
    assert untouched(first_out, contents) and untouched(second_out, contents)
    assert again_seconds < first_seconds / 3

    forced = invoke(runner, "batch", plan, good1, good2, "-o", out, "--force")
    assert summary(forced) == "2 sessions: 2 built, 0 up to date, 0 failed"
    assert not untouched(first_out, contents) and not untouched(second_out, contents)

    contents = age(first_out, second_out)
    write(good2, GOOD2.replace("1.5", "1.25"))
    changed = invoke(runner, "batch", plan, good1, good2, "-o", out)
    assert summary(changed) == "2 sessions: 1 built, 1 up to date, 0 failed"
    assert changed.stdout.splitlines()[0].startswith(f"up to date: {first_out} (")
    assert changed.stdout.splitlines()[1].startswith(f"built: {second_out} (")
    assert untouched(first_out, contents)
    assert second_out.stat().st_mtime_ns != OLD_NS


def test_batch_gives_the_same_sessions_whatever_the_number_of_jobs(
    runner: CliRunner, plan: Path, tmp_path: Path
) -> None:
    """--jobs 1 (one worker, one session after the other) and --jobs 2 both build every session, the same audio."""
    good1 = write(tmp_path / "good1.yaml", GOOD1)
    good2 = write(tmp_path / "good2.yaml", GOOD2)
    one, two = out_dir(tmp_path, "one"), out_dir(tmp_path, "two")
    for jobs, out in (("1", one), ("2", two)):
        result = invoke(runner, "batch", plan, good1, good2, "-o", out, "--jobs", jobs)
        assert result.exit_code == 0, result.output
        assert summary(result) == "2 sessions: 2 built, 0 up to date, 0 failed"
        assert sorted(p.name for p in out.glob("*.mp3")) == ["tiny-good1.mp3", "tiny-good2.mp3"]
        assert [title(out / "tiny-good1.mp3"), title(out / "tiny-good2.mp3")] == [
            "Batch tiny, Ann",
            "Batch tiny, Bob",
        ]
    for name in ("tiny-good1.mp3", "tiny-good2.mp3"):
        stamp_one, stamp_two = read_stamp(one / name), read_stamp(two / name)
        assert stamp_one is not None and stamp_two is not None
        assert stamp_one.fingerprint == stamp_two.fingerprint
        assert stamp_one.length_ms == stamp_two.length_ms, (
            f"{name}: {stamp_one.length_ms} ms with --jobs 1, {stamp_two.length_ms} ms with --jobs 2"
        )
        assert np.array_equal(am.decode(one / name), am.decode(two / name)), (
            f"{name}: the audio differs"
        )


def test_batch_profiles_with_the_same_file_name_do_not_overwrite_each_other(
    runner: CliRunner, plan: Path, tmp_path: Path
) -> None:
    """Two profiles both called ann.yaml, in different folders: each gets a session of its own,
    named with its folder, holding that profile's session (its title, and its length as previewed)."""
    first = write(tmp_path / "clinic-a" / "ann.yaml", GOOD1)
    second = write(tmp_path / "clinic-b" / "ann.yaml", GOOD2)
    out = out_dir(tmp_path)
    result = invoke(runner, "batch", plan, first, second, "-o", out)
    assert result.exit_code == 0, result.output
    assert summary(result) == "2 sessions: 2 built, 0 up to date, 0 failed"
    sessions = {profile: out / f"tiny-{profile.parent.name}-ann.mp3" for profile in (first, second)}
    assert sorted(p.name for p in out.glob("*.mp3")) == [
        "tiny-clinic-a-ann.mp3",
        "tiny-clinic-b-ann.mp3",
    ]
    assert [title(sessions[first]), title(sessions[second])] == [
        "Batch tiny, Ann",
        "Batch tiny, Bob",
    ]
    lengths = {}
    for profile, session in sessions.items():
        previewed = json.loads(
            invoke(runner, "preview", plan, "--profile", profile, "--json").stdout
        )["total"]
        stamp = read_stamp(session)
        assert stamp is not None
        heard = am.duration_ms(am.decode(session))
        print(
            f"{session.name}: previewed {previewed * 1000:.0f} ms, stamped {stamp.length_ms} ms, heard {heard:.0f} ms"
        )
        assert stamp.length_ms == round(previewed * 1000)
        assert abs(heard - stamp.length_ms) <= 50, f"{session.name} decodes to {heard:.0f} ms"
        lengths[profile] = stamp.length_ms
    assert lengths[second] - lengths[first] >= 2000  # (Bob's two holds are a second longer each)


PROCESS_LOG = """\
import json, os, sys, threading

from voiceguide.sound import speechpool

speechpool.HEAD_START, speechpool.MIN_PHRASES = 2, 4  # speech helpers for any plan, where a build may use them


def log(**record):
    with open(os.environ["VOICEGUIDE_TEST_PROCESS_LOG"], "a") as file:
        file.write(json.dumps({"pid": os.getpid(), **record}) + "\\n")


def on_event(event, args):
    if event == "subprocess.Popen":
        main_thread = threading.current_thread() is threading.main_thread()
        log(event="popen", argv=[str(arg) for arg in args[1]], main_thread=main_thread)


log(event="start", ppid=os.getppid(), argv=sys.argv)
sys.addaudithook(on_event)
"""
"""A sitecustomize for every Python process of a command: it logs the process's start and every
process it starts, and lets any build use speech helpers."""


def test_batch_builds_each_session_on_one_core(plan: Path, tmp_path: Path) -> None:
    """Each session is built in a worker process of its own that starts no speech helper (where a
    build on two cores would) and levels its speech in its main thread, one ffmpeg at a time; and
    the sessions are the same with --jobs 2 as with --jobs 1."""
    site = tmp_path / "site"
    write(site / "sitecustomize.py", PROCESS_LOG)
    log = tmp_path / "processes.jsonl"
    env = {"PYTHONPATH": os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")]),
           "VOICEGUIDE_TEST_PROCESS_LOG": str(log)}  # fmt: skip
    profiles = [write(tmp_path / "good1.yaml", GOOD1), write(tmp_path / "good2.yaml", GOOD2)]
    outs = {jobs: tmp_path / f"jobs-{jobs}" / "out" for jobs in ("1", "2")}
    for jobs, out in outs.items():
        out.mkdir(parents=True)
        log.unlink(missing_ok=True)
        args = ["batch", str(plan), *map(str, profiles), "-o", str(out), "--jobs", jobs]
        batch = voiceguide(
            args, out.parent, env=env
        )  # (each with a speech cache of its own, empty)
        _, stderr = finish(batch, 240)
        assert batch.returncode == 0, stderr
        records = [json.loads(line) for line in log.read_text().splitlines()]
        started = [r for r in records if r["event"] == "start"]
        workers = {r["pid"] for r in started if r["ppid"] == batch.pid}
        assert len(workers) == len(profiles), (
            f"--jobs {jobs}: {len(workers)} workers for {len(profiles)} sessions"
        )
        helpers = [r["argv"] for r in started if r["ppid"] in workers]
        assert helpers == [], f"--jobs {jobs}: Python processes started inside a worker: {helpers}"
        elsewhere = [
            r["argv"]
            for r in records
            if r["event"] == "popen" and r["pid"] in workers and not r["main_thread"]
        ]
        assert elsewhere == [], (
            f"--jobs {jobs}: processes started outside a worker's main thread: {elsewhere}"
        )
        assert any(r["event"] == "popen" and r["pid"] in workers for r in records), (
            "no worker was seen levelling"
        )
    for name in ("tiny-good1.mp3", "tiny-good2.mp3"):
        assert np.array_equal(am.decode(outs["1"] / name), am.decode(outs["2"] / name)), (
            f"{name}: the audio differs"
        )


# -- build: up to date ----------------------------------------------------------------------------


def test_build_twice_is_up_to_date_and_a_changed_set_rebuilds(
    runner: CliRunner, plan: Path, tmp_path: Path
) -> None:
    """The second identical build says "Up to date" and leaves the file as it was; a new --set rebuilds
    it."""
    out = tmp_path / "s.mp3"
    first = invoke(runner, "build", plan, "-o", out)
    assert first.stdout.startswith(f"Wrote {out} (")
    contents = age(out)
    again = invoke(runner, "build", plan, "-o", out)
    assert again.exit_code == 0
    assert again.stdout.startswith(f"Up to date: {out} (")
    assert untouched(out, contents)

    changed = invoke(runner, "build", plan, "-o", out, "--set", "rate=190")
    assert changed.stdout.startswith(f"Wrote {out} (")
    assert not untouched(out, contents)
    contents = age(out)
    assert invoke(runner, "build", plan, "-o", out, "--set", "rate=190").stdout.startswith(
        "Up to date: "
    )
    assert untouched(out, contents)
    assert invoke(
        runner, "build", plan, "-o", out, "--set", "rate=190", "--force"
    ).stdout.startswith("Wrote ")
    assert not untouched(out, contents)


def test_renaming_the_person_rebuilds_with_the_new_name(
    runner: CliRunner, plan: Path, tmp_path: Path
) -> None:
    """A profile whose `name` changed gives a session titled with the new name, not an up-to-date old
    one."""
    profile = write(tmp_path / "ann.yaml", GOOD1)
    out = tmp_path / "s.mp3"
    assert invoke(runner, "build", plan, "--profile", profile, "-o", out).exit_code == 0
    assert title(out) == "Batch tiny, Ann"
    write(profile, GOOD1.replace("Ann", "Anna"))
    result = invoke(runner, "build", plan, "--profile", profile, "-o", out)
    assert result.exit_code == 0
    assert title(out) == "Batch tiny, Anna", result.stdout


# -- program --------------------------------------------------------------------------------------


def test_program_writes_one_session_per_week_in_order_with_growing_holds(
    runner: CliRunner, plan: Path, tmp_path: Path
) -> None:
    """program --weeks 3 writes week-01 to week-03, sorting in week order, each with that week's hold."""
    profile = write(tmp_path / "prog.yaml", PROGRESSION)
    out = out_dir(tmp_path)
    result = invoke(runner, "program", plan, "--weeks", "3", "--profile", profile, "-o", out)
    assert result.exit_code == 0, result.output
    assert summary(result) == "3 sessions: 3 built, 0 up to date, 0 failed"
    names = sorted(p.name for p in out.glob("*.mp3"))
    assert names == ["tiny-prog-week-01.mp3", "tiny-prog-week-02.mp3", "tiny-prog-week-03.mp3"]
    expected_holds_ms = [2000, 3000, 3500]
    for week, (name, hold_ms) in enumerate(zip(names, expected_holds_ms, strict=True), start=1):
        assert title(out / name) == f"Batch tiny, Di, week {week}"
        preview = invoke(runner, "preview", plan, "--profile", profile, "--week", week, "--json")
        intervals = json.loads(preview.stdout)["intervals"]
        assert [round((i["end"] - i["start"]) * 1000) for i in intervals] == [hold_ms, hold_ms]
        heard = first_hold_heard_ms(out / name)
        print(f"week {week}: first hold heard {heard:.1f} ms, planned {hold_ms} ms")
        assert abs(heard - hold_ms) <= HOLD_TOLERANCE_MS, (
            f"{name}: hold heard {heard:.1f} ms, planned {hold_ms} ms"
        )
