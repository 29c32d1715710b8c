"""`voiceguide serve` over real HTTP: the command started in a process of its own on a free port
(waitress, as a user runs it), then asked what the page asks: the form, its checks and preview,
saving a profile, building; and hostile input (wrong types, huge values, path names, oversized
uploads, another site's requests) answered with a 4xx and a message, never a 5xx.
"""

from __future__ import annotations

import http.client
import io
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import wave
from collections.abc import Iterator
from pathlib import Path

import audio_measure as am
import numpy as np
import pytest
from builders import QUICK, exercise_yaml, plan_yaml, write_plan
from click.testing import CliRunner
from cost_marks import marks_its_tests
from fuzz_strategies import examples
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from serving import Server, form_values, start_server, stop_server, wait_for_build

from voiceguide.build.session import RenderSettings, preview
from voiceguide.cli.commands import main
from voiceguide.plans.customize import customize
from voiceguide.plans.loader import load_plan
from voiceguide.plans.profile import load_profile
from voiceguide.plans.settings import CIRCUIT_SETTINGS, EXERCISE_SETTINGS, SESSION_SETTINGS
from voiceguide.plans.values import Counting
from voiceguide.plans.yamlsource import MAX_FILE_BYTES
from voiceguide.script.timeline import Tone

SHIPPED_PROFILES = Path(__file__).resolve().parents[1] / "data" / "profiles"
SHIPPED_PLAN = Path(__file__).resolve().parents[1] / "data" / "feet-for-back-pain.yaml"
FUZZED_FIELDS = [
    "settings.rate", "settings.voice", "settings.language", "settings.sides", "settings.only",
    "settings.hold_scale", "settings.transition", "settings.rounds", "exercise.0.reps",
    "exercise.0.hold", "exercise.0.sides", "exercise.0.skip", "exercise.1.sides", "exercise.1.work",
    "exercise.0.progression.reps.step", "exercise.0.progression.hold.max", "exercise.1.cue",
    "name", "notes", "week", "nonsense", "exercise.9.reps",
]  # fmt: skip
PLAN = plan_yaml(
    "Hands",
    exercise_yaml("Squeeze", "Squeeze your hand.", reps=2, hold=2, reset=3),
    exercise_yaml("Wave", "Wave.", work=3, sides="[left arm, right arm]"),
    **QUICK,
)
"""Two exercises: holds, and work on each side."""
CIRCUIT_PLAN = """\
title: Rounds
settings:
  lead_in: 2
  counting: none
exercises:
  - circuit: Strength
    rounds: 2
    round_rest: 5
    exercises:
      - name: Squats
        instructions: Squat.
        work: 2
      - name: Push-ups
        instructions: Push.
        work: 2
"""
"""A circuit of two exercises, done twice."""
HAND_EDITED = """\
# Anna: after the operation on her right wrist.
name: Anna
exercises:
  squeeze:          # (as she calls it)
    hold: 3         # she cannot hold longer yet
settings:
  # slower speech
  rate: 150
  lead_in: 4
"""
"""A profile as a person writes one: comments, its own order, an exercise in another case."""


@pytest.fixture(scope="module")
@marks_its_tests("speech", "runs_ffmpeg")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One server for the module, over the plans above; its previews speak (to measure phrases,
    which ffmpeg trims)."""
    folder = tmp_path_factory.mktemp("serve")
    (folder / "plans").mkdir()
    write_plan(folder / "plans", PLAN, "hands.yaml")
    write_plan(folder / "plans", CIRCUIT_PLAN, "rounds.yaml")
    started = start_server(folder)
    yield started
    stop_server(started)


def form(**values: str) -> dict[str, str]:
    return {"plan": "hands", "profile": "tester", **values}


# -- the page ---------------------------------------------------------------------------------


def test_the_page_has_a_field_for_every_setting_of_the_table(server: Server) -> None:
    """Generated from settings.py: every session setting, every exercise's field that applies to
    it, and the plan's own values beside them."""
    answer = server.get("/?plan=hands&profile=tester")
    assert answer.status == 200
    page = answer.text
    for name in SESSION_SETTINGS:
        assert f'name="settings.{name}"' in page, name
    for key in EXERCISE_SETTINGS:
        if key in CIRCUIT_SETTINGS and key not in ("skip",):
            continue
        if key in ("work", "switch"):  # (Squeeze is held, on no sides)
            assert f'name="exercise.0.{key}"' not in page
            assert f'name="exercise.1.{key}"' in page
        elif key == "hold":
            assert 'name="exercise.0.hold"' in page
            assert 'name="exercise.1.hold"' not in page
        else:
            assert f'name="exercise.0.{key}"' in page, key
    assert 'name="exercise.0.progression.hold.step"' in page
    assert "plan: 2 s" in page  # (Squeeze's hold, beside its field)


def test_a_circuit_has_its_own_fields_and_their_effective_values(server: Server) -> None:
    page = server.get("/?plan=rounds&profile=tester").text
    assert "Circuit: Strength" in page
    for key in (*CIRCUIT_SETTINGS, "skip"):
        assert f'name="circuit.0.{key}"' in page
    answer = server.post(
        "/api/check", form(plan="rounds", **{"circuit.0.rounds": "3", "circuit.0.round_rest": "x"})
    )
    assert answer.json["errors"]["circuit.0.round_rest"] == [
        'expected a duration in seconds (like 5, 2.5, "90s", "1m30s" or "1:30"), found the text \'x\''
    ]
    fewer = server.post("/api/check", form(plan="rounds", **{"circuit.0.rounds": "1"})).json
    more = server.post("/api/check", form(plan="rounds", **{"circuit.0.rounds": "3"})).json
    assert more["effective"]["circuit.0.rounds"] == {"value": "3", "source": "tester.yaml:3:13"}
    assert "Strength: three rounds." in more["preview"]["table"]
    assert more["preview"]["total_ms"] > fewer["preview"]["total_ms"]
    assert "exercises:\n  Strength:\n    rounds: 3\n" in more["profile"]
    skipped = server.post("/api/check", form(plan="rounds", **{"circuit.0.skip": "true"})).json
    assert skipped["problems"] == [
        "rounds.yaml: every exercise of the plan is skipped (by `only` or `skip`); keep at least one"
    ]


def test_a_post_from_another_site_is_refused(server: Server) -> None:
    """Without the page's own header (which another site's page cannot send), nothing is changed."""
    answer = server.post("/api/save", form(**{"settings.rate": "150"}), header=False)
    assert answer.status == 403
    assert "header" in answer.json["error"]
    assert not (server.profiles / "tester.yaml").exists()


def test_a_page_named_for_another_site_is_refused(server: Server) -> None:
    """A site whose name was pointed at this machine (DNS rebinding) gets nothing."""
    refused = server.request("GET", "/?plan=hands", headers={"Host": "evil.example:80"})
    assert refused.status == 403
    assert "open it at the address voiceguide serve printed" in refused.text
    port = urllib.parse.urlsplit(server.address).port
    for host in (f"localhost:{port}", f"127.0.0.1:{port}", f"[::1]:{port}"):
        assert server.request("GET", "/?plan=hands", headers={"Host": host}).status == 200


# -- checks and preview -------------------------------------------------------------------------


@pytest.mark.runs_ffmpeg
def test_the_preview_is_the_command_lines(
    server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The effective values with their sources, and the session's length as `preview` gives it for
    the same profile (with the server's speech cache: espeak-ng's phrases differ by milliseconds
    from one synthesis to another, so two caches may make two lengths)."""
    answer = server.post("/api/check", form(**{"exercise.0.reps": "3", "settings.rate": "150"}))
    assert answer.status == 200, answer.text
    body = answer.json
    assert body["ok"], body
    assert body["effective"]["exercise.0.reps"] == {"value": "3", "source": "tester.yaml:5:11"}
    assert body["effective"]["settings.rate"]["value"] == "150"
    assert body["effective"]["exercise.1.work"] == {"value": "3 s", "source": "plan"}
    profile = tmp_path / "tester.yaml"
    profile.write_text(body["profile"])
    plan = load_plan(server.plans / "hands.yaml", display_name="hands.yaml")
    customized = customize(plan=plan, layers=[load_profile(profile, display_name="tester.yaml")])
    monkeypatch.setenv("VOICEGUIDE_CACHE_DIR", str(server.folder / "cache"))
    expected = preview(plan=customized.plan, settings=RenderSettings()).timeline
    assert body["preview"]["total_ms"] == expected.total_ms
    assert "Squeeze" in body["preview"]["table"]
    assert "tester.yaml" in body["preview"]["effective"]
    assert not (server.profiles / "tester.yaml").exists()  # (checked, not saved)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("settings.rate", "fast", "expected a whole number from 60 to 400, found the text 'fast'"),
        ("settings.rate", "1" * 40, "expected a whole number from 60 to 400, found 1111"),
        ("settings.rate", "[1, 2]", "expected a whole number from 60 to 400, found the text"),
        ("settings.volume", "nan", "expected a number from 0.1 to 1"),
        ("settings.counting", "loud", f"expected one of: {', '.join(c.value for c in Counting)}"),
        ("settings.language", "klingon", "voiceguide has no phrases in the language 'klingon'"),
        ("settings.hold_scale", "1e308", "expected a number from 0.1 to 10"),
        ("exercise.0.hold", "-5", "expected a duration from 0.5 s to 1 h"),
        ("exercise.0.hold", "9" * 400, "expected a duration"),
        ("exercise.0.reps", "10000000000000000000000", "expected a whole number from 1 to 500"),
        ("exercise.0.skip", "maybe", "expected true or false"),
        ("exercise.1.sides", "middle arm", "'Wave' has no side 'middle arm'"),
        ("exercise.0.progression.hold.step", "2", "missing required field"),
        ("settings.voice", "x" * 5000, "at most 4000 characters"),
        ("settings.only", "Nothing", "there is no exercise 'Nothing' in the plan"),
        (
            "settings.voice",
            "../../etc/passwd",
            "an installed voice (the list offers them), not a file's path",
        ),
        ("week", "-3", "expected a whole number from 1 to 520"),
        ("week", "99999999999999999999", "expected a whole number from 1 to 520"),
    ],
)
def test_a_wrong_value_is_said_beside_its_field(
    server: Server, field: str, value: str, message: str
) -> None:
    """Checked by the command line's own readers, the message is the field's; the profile is not
    saved."""
    if field.endswith("progression.hold.step"):
        # (a step without the rest is fine: a start alone is not)
        field, value, message = (
            "exercise.0.progression.hold.start",
            "2",
            "missing required field 'step'",
        )
    answer = server.post("/api/check", form(**{field: value}))
    assert answer.status == 200, answer.text
    body = answer.json
    assert not body["ok"]
    errors = body["errors"].get(field, [])
    assert any(message in error for error in errors), body
    saved = server.post("/api/save", form(**{field: value}))
    assert saved.status == 422
    assert not (server.profiles / "tester.yaml").exists()


def test_a_voice_not_installed_is_said_beside_the_voice_field(server: Server) -> None:
    """Found out by the preview (a profile may name a voice of another machine, so it is saved)."""
    answer = server.post("/api/check", form(**{"settings.voice": "nonexistent-voice"}))
    assert answer.status == 200
    assert not answer.json["ok"]
    assert "there is no voice 'nonexistent-voice'" in answer.json["errors"]["settings.voice"][0]
    page = server.get("/?plan=hands&profile=tester").text
    assert '<option value="gmw/en">' in page  # (the installed voices, offered in the voice field)


def test_a_session_too_long_is_said_not_built(server: Server) -> None:
    answer = server.post(
        "/api/check", form(**{"exercise.0.reps": "500", "exercise.0.hold": "59:00"})
    )
    assert answer.status == 200
    assert not answer.json["ok"]
    assert any("more than 3 h" in problem for problem in answer.json["problems"]), answer.json


# -- profiles are files -------------------------------------------------------------------------


def test_a_saved_profile_is_the_one_the_command_line_reads(
    server: Server, runner: CliRunner, tmp_path: Path
) -> None:
    answer = server.post(
        "/api/save",
        form(profile="bea", **{"name": "Bea", "exercise.0.reps": "4", "settings.sides": "left"}),
    )
    assert answer.status == 200, answer.text
    saved = server.profiles / "bea.yaml"
    assert (
        saved.read_text()
        == "name: Bea\nsettings:\n  sides: left\nexercises:\n  Squeeze:\n    reps: 4\n"
    )
    result = runner.invoke(
        main,
        ["preview", str(server.plans / "hands.yaml"), "--profile", str(saved), "--explain"],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.stderr
    assert "Squeeze.reps" in result.stdout and f"{saved}:6:11" in result.stdout


def test_a_hand_edited_profile_keeps_its_comments_and_order(server: Server) -> None:
    """The page's whole form sent back with one value changed changes that one line alone."""
    path = server.profiles / "anna.yaml"
    path.write_text(HAND_EDITED)
    page = server.get("/?plan=hands&profile=anna").text
    values = form_values(page)
    assert values["settings.rate"] == "150" and values["exercise.0.hold"] == "3"
    values["settings.rate"] = "130"
    answer = server.post("/api/save", values)
    assert answer.status == 200, answer.text
    assert path.read_text() == HAND_EDITED.replace("rate: 150", "rate: 130")
    values["exercise.0.hold"] = ""  # (emptied: the plan's own again)
    values["settings.counting"] = "last-3"
    assert server.post("/api/save", values).status == 200
    assert path.read_text() == (
        "# Anna: after the operation on her right wrist.\n"
        "name: Anna\n"
        "settings:\n"
        "  # slower speech\n"
        "  rate: 130\n"
        "  lead_in: 4\n"
        "  counting: last-3\n"
    )


@pytest.mark.parametrize("shipped", sorted(SHIPPED_PROFILES.glob("*.yaml")), ids=lambda p: p.name)
def test_a_shipped_profile_sent_back_unchanged_is_written_unchanged(
    server: Server, shipped: Path
) -> None:
    """The shipped plan's whole form, as the page shows it for each shipped profile, saved as it
    is: the file is byte for byte what it was (comments, alignment, flow mappings)."""
    shutil.copy(SHIPPED_PLAN, server.plans / "feet.yaml")
    path = server.profiles / shipped.name
    shutil.copy(shipped, path)
    values = form_values(server.get(f"/?plan=feet&profile={shipped.stem}").text)
    assert values["profile"] == shipped.stem
    answer = server.post("/api/save", values)
    assert answer.status == 200, answer.text
    assert path.read_bytes() == shipped.read_bytes()


def test_values_are_written_as_the_command_line_reads_them(server: Server) -> None:
    """A text that YAML would read as something else is quoted; 1:30 stays a duration."""
    values = {"settings.voice": "yes", "exercise.0.hold": "1:30", "exercise.1.cue": "Wave: now"}
    answer = server.post("/api/save", form(profile="quoted", **values))
    assert answer.status == 200, answer.text
    layer = load_profile(server.profiles / "quoted.yaml")
    assert layer.settings["voice"].value == "yes"
    squeeze, wave = layer.exercises
    assert squeeze.values["hold"].value == 90_000
    assert wave.values["cue"].value == "Wave: now"


# -- names and sizes ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    ["../../etc/passwd", "/etc/passwd", "..", ".hidden", "a/b", "a\\b", "x" * 300, "nul\x00l", ""],
)
def test_a_name_never_reaches_outside_its_folder(server: Server, name: str) -> None:
    before = sorted(server.folder.parent.iterdir())
    for fields in ({"profile": name}, {"plan": name}):
        answer = server.post("/api/save", {**form(), **fields, "settings.rate": "150"})
        assert 400 <= answer.status < 500, answer.text
        assert "error" in answer.json
        if name:  # (the page opens the first plan, or a new profile, when none is named)
            query = urllib.parse.urlencode({**form(), **fields})
            page = server.get(f"/?{query}")
            assert 400 <= page.status < 500 and 'class="problem"' in page.text
    assert sorted(server.folder.parent.iterdir()) == before
    assert not list(server.profiles.glob("*passwd*"))


def test_a_profile_that_links_outside_its_folder_is_neither_read_nor_written(
    server: Server, tmp_path: Path
) -> None:
    outside = tmp_path / "secret.yaml"
    outside.write_text("secret: [1, 2\n")
    (server.profiles / "linked.yaml").symlink_to(outside)
    page = server.get("/?plan=hands&profile=linked")
    assert page.status == 400 and "secret" not in page.text
    saved = server.post("/api/save", form(profile="linked", **{"settings.rate": "150"}))
    assert saved.status == 400
    assert "is not a file in" in saved.json["error"]
    assert outside.read_text() == "secret: [1, 2\n"
    assert (server.profiles / "linked.yaml").is_symlink()


@pytest.mark.parametrize(
    "path",
    ["/sessions/../../etc/passwd", "/sessions/..%2F..%2Fetc%2Fpasswd", "/sessions/.voiceguide-serve",
     "/sessions/%2Fetc%2Fpasswd", "/sessions/x.yaml", "/nothing", "/static/../app.py"],
)  # fmt: skip
def test_no_file_outside_the_sessions_is_served(server: Server, path: str) -> None:
    answer = server.get(path)
    assert answer.status == 404, answer.text
    assert b"root:" not in answer.body


def test_an_oversized_plan_upload_is_refused(server: Server) -> None:
    big = b"title: x\n" + b"#" * (MAX_FILE_BYTES + 200_000)
    answer = server.post("/api/plans", {}, {"plan": ("big.yaml", big)})
    assert answer.status == 413
    assert "too large" in answer.json["error"]
    assert not (server.plans / "big.yaml").exists()


def test_a_body_larger_than_any_upload_is_refused_before_it_is_read(server: Server) -> None:
    host, port = urllib.parse.urlsplit(server.address).netloc.split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    connection.putrequest("POST", "/api/build")
    connection.putheader("X-Voiceguide", "1")
    connection.putheader("Content-Type", "multipart/form-data; boundary=x")
    connection.putheader("Content-Length", str(2**31))
    connection.endheaders()
    connection.send(b"--x\r\n")
    answer = connection.getresponse()
    assert answer.status == 413
    assert b"exceeds" in answer.read()


def test_a_plan_upload_is_checked_as_validate_checks_it(server: Server) -> None:
    bad = server.post("/api/plans", {}, {"plan": ("broken.yaml", b"title: x\nexercises: 5\n")})
    assert bad.status == 422
    assert "broken.yaml:2:12: exercises: expected a list" in bad.json["error"]
    assert not (server.plans / "broken.yaml").exists()
    binary = server.post("/api/plans", {}, {"plan": ("bin.yaml", b"\xff\xfe\x00")})
    assert binary.status == 400
    good = server.post("/api/plans", {}, {"plan": ("second.yaml", PLAN.encode())})
    assert good.status == 201, good.text
    assert (server.plans / "second.yaml").read_text() == PLAN
    again = server.post("/api/plans", {}, {"plan": ("second.yaml", PLAN.encode())})
    assert again.status == 400 and "already" in again.json["error"]
    sneaky = server.post("/api/plans", {}, {"plan": ("../../sneaky.yaml", PLAN.encode())})
    assert sneaky.status == 201  # (its name only: in the plans folder)
    assert (server.plans / "sneaky.yaml").exists()
    assert not (server.folder.parent / "sneaky.yaml").exists()


@settings(
    max_examples=examples(40),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    fields=st.dictionaries(
        st.sampled_from(FUZZED_FIELDS),
        st.one_of(
            st.text(max_size=60),
            st.sampled_from(
                [
                    "-1",
                    "0",
                    "1e999",
                    "nan",
                    "[",
                    "{a: 1}",
                    "*x",
                    "&a [*a]",
                    "!!python/object:os.system x",
                    "\x00",
                    "1:99:99",
                    "9" * 30,
                    "yes",
                    "null",
                    "~",
                    "| \n x",
                ]
            ),
        ),
        max_size=4,
    ),
    endpoint=st.sampled_from(["/api/check", "/api/save"]),
)
def test_any_values_get_an_answer_never_a_server_error(
    server: Server, fields: dict[str, str], endpoint: str
) -> None:
    """Whatever the form holds, the answer is a JSON verdict: fine, or what is wrong and where."""
    answer = server.post(endpoint, form(profile="fuzzed", **fields))
    assert answer.status in (200, 400, 422), answer.text
    body = answer.json
    assert body["ok"] or body.get("errors") or body.get("problems") or body.get("error"), body
    if answer.status == 200 and endpoint == "/api/save":
        load_profile(server.profiles / "fuzzed.yaml")  # (what it saved, the command line reads)


def test_a_music_upload_that_is_not_audio_is_refused(server: Server) -> None:
    answer = server.post("/api/build", form(profile="music"), {"music": ("x.exe", b"MZ")})
    assert answer.status == 400
    assert "music is an audio file" in answer.json["error"]


# -- the command ----------------------------------------------------------------------------------


def test_serve_without_its_extra_says_how_to_install_it(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "flask", None)
    result = runner.invoke(main, ["serve", "--no-browser"])
    assert result.exit_code == 2
    assert "pip install 'voiceguide[serve]'" in result.stderr
    assert "Traceback" not in result.stderr


def test_serve_on_a_port_in_use_says_so(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "voiceguide", "serve", "--no-browser", "--port", str(port),
             "--profiles", str(tmp_path / "p"), "-o", str(tmp_path / "o")],
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
    assert result.returncode == 2
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.speech  # (the server asks the engines for their voices as it starts)
def test_serve_opens_the_page_in_the_browser(tmp_path: Path) -> None:
    """In the browser $BROWSER names (here a script that notes the address it is given)."""
    noted = tmp_path / "opened.txt"
    script = tmp_path / "browser.sh"
    script.write_text(f'#!/bin/sh\necho "$1" > {noted}\n')
    script.chmod(0o755)
    started = start_server(tmp_path, browser=True, env={"BROWSER": f"{script} %s"})
    try:
        deadline = time.monotonic() + 30
        while not (noted.exists() and noted.read_text().strip()) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert noted.read_text().strip() == started.address
    finally:
        stop_server(started)


@pytest.mark.speech
def test_serve_stops_on_sigterm(tmp_path: Path) -> None:
    started = start_server(tmp_path)
    assert started.get("/api/builds").status == 200
    started.process.send_signal(signal.SIGTERM)
    stdout, stderr = started.process.communicate(timeout=30)
    assert started.process.returncode == 0  # (the usual end of serving)
    assert stdout.rstrip().endswith("voiceguide serve: stopped")
    assert "Traceback" not in stderr


# -- building -------------------------------------------------------------------------------------


@pytest.mark.audio
def test_builds_are_queued_one_per_profile_and_the_session_is_as_the_form_asked(
    server: Server,
) -> None:
    """A build per profile at a time, the next waiting in the queue; the session downloaded and
    decoded holds for the length the form gave."""
    first = server.post("/api/build", form(profile="carl", **{"exercise.0.hold": "3"}))
    assert first.status == 202, first.text
    again = server.post("/api/build", form(profile="carl"))
    assert again.status == 400
    assert "a build of 'carl' is already" in again.json["error"]
    second = server.post("/api/build", form(profile="dora", **{"settings.rate": "150"}))
    assert second.status == 202
    waiting = second.json["build"]
    assert waiting["state"] == "waiting" and waiting["position"] == 1
    built = wait_for_build(server, first.json["build"]["id"])
    assert built["state"] == "done", built["message"]
    names = [file["name"] for file in built["files"]]
    assert "hands-carl.mp3" in names and "hands-carl.vtt" in names and "hands-carl.json" in names
    download = server.get("/sessions/hands-carl.mp3")
    assert download.status == 200 and download.headers["Content-Type"] == "audio/mpeg"
    mp3 = server.folder / "downloaded.mp3"
    mp3.write_bytes(download.body)
    rate = RenderSettings().sample_rate
    samples = am.decode(mp3, sample_rate=rate)
    starts = am.find_tones(samples, Tone.START, sample_rate=rate)
    ends = am.find_tones(samples, Tone.END, sample_rate=rate)
    holds = [
        min(e.onset_ms for e in ends if e.onset_ms > s.onset_ms) - s.onset_ms for s in starts[:2]
    ]
    assert holds == pytest.approx([3000, 3000], abs=30), holds
    assert wait_for_build(server, waiting["id"])["state"] == "done"


@pytest.mark.audio
def test_the_weeks_of_a_progression_are_built_as_program_builds_them(server: Server) -> None:
    values = {"exercise.0.progression.hold.start": "2", "exercise.0.progression.hold.step": "1",
              "exercise.1.skip": "true"}  # fmt: skip
    no_weeks = server.post("/api/build", form(profile="emil", program="1", **values))
    assert no_weeks.status == 422
    assert no_weeks.json["errors"]["weeks"] == ["how many weeks? A whole number from 1 to 104"]
    answer = server.post("/api/build", form(profile="emil", program="1", weeks="2", **values))
    assert answer.status == 202, answer.text
    built = wait_for_build(server, answer.json["build"]["id"])
    assert built["state"] == "done", built["message"]
    assert built["outputs"] == ["hands-emil-week-01.mp3", "hands-emil-week-02.mp3"]
    rate = RenderSettings().sample_rate
    for name, hold_ms in zip(built["outputs"], (2000, 3000), strict=True):
        samples = am.decode(server.output / name, sample_rate=rate)
        starts = am.find_tones(samples, Tone.START, sample_rate=rate)
        ends = am.find_tones(samples, Tone.END, sample_rate=rate)
        first = min(e.onset_ms for e in ends if e.onset_ms > starts[0].onset_ms)
        assert first - starts[0].onset_ms == pytest.approx(hold_ms, abs=30), name


@pytest.mark.audio
def test_music_sent_with_a_build_plays_under_the_session(server: Server) -> None:
    rate = 22_050
    noise = (np.random.default_rng(1).uniform(-0.3, 0.3, rate * 5) * 32767).astype("<i2")
    music = io.BytesIO()
    with wave.open(music, "wb") as file:
        file.setnchannels(1)
        file.setsampwidth(2)
        file.setframerate(rate)
        file.writeframes(noise.tobytes())
    fields = form(profile="fiona", **{"exercise.1.skip": "true"})
    answer = server.post("/api/build", fields, {"music": ("rain.wav", music.getvalue())})
    assert answer.status == 202, answer.text
    built = wait_for_build(server, answer.json["build"]["id"])
    assert built["state"] == "done", built["message"]
    samples = am.decode(server.output / "hands-fiona.mp3", sample_rate=rate)
    length_ms = am.duration_ms(samples, rate)
    quietest = min(
        am.level_dbfs(samples, start, start + 500, rate)
        for start in range(0, int(length_ms) - 500, 250)
    )
    assert quietest > -60, quietest  # (music everywhere: a session alone is silent between cues)
    assert not list((server.output / ".voiceguide-serve" / "music").iterdir())
