"""The default plan built in each shipped language with the real engine and ffmpeg, then decoded.

Each language's session is built once, through `voiceguide build --language X`, and every check
is made on what was written: the MP3 decoded back to samples, and the sidecars beside it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import audio_measure as am
import numpy as np
import pytest
from mutagen.easyid3 import EasyID3
from mutagen.mp3 import MP3

from voiceguide.cli.support import customized_plan
from voiceguide.language.catalog import catalog_codes
from voiceguide.plans.plan import Plan
from voiceguide.plans.settings import default
from voiceguide.script.timeline import Tone
from voiceguide.script.wording import sentence
from voiceguide.sound.speech import Synthesizer

pytestmark = pytest.mark.audio

RATE = 22_050
"""The session's sample rate (the default), at which it is decoded: nothing is resampled."""
LENGTH_TOLERANCE_MS = 50
TONE_TOLERANCE_MS = 30
SPEECH_DBFS = -40.0
VOICES = {"cs": "zlw/cs", "de": "gmw/de", "en": "gmw/en", "es": "roa/es", "fr": "roa/fr"}
"""espeak-ng's voice for each language voiceguide has phrases in."""


@dataclass(frozen=True, slots=True)
class LanguageSession:
    """The default plan built in one language, decoded, with its sidecars read."""

    code: str
    plan: Plan
    """The plan as it is spoken in that language."""
    output: Path
    stdout: str
    timeline: dict[str, Any]
    """The .json sidecar: the timeline the session was mixed from."""
    samples: np.ndarray


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, str]]:
    """`voiceguide build --language X -o <tmp>/X.mp3` of the default plan for every language, run as
    the command a user types, two at a time (one per core): the output file and what it printed."""
    folder = tmp_path_factory.mktemp("languages")
    pending = list(catalog_codes())
    running: list[tuple[str, subprocess.Popen[str]]] = []
    done: dict[str, tuple[Path, str]] = {}
    try:
        while pending or running:
            while pending and len(running) < min(2, os.cpu_count() or 1):
                code = pending.pop(0)
                command = [sys.executable, "-m", "voiceguide", "build", "--language", code]
                command += ["-o", str(folder / f"{code}.mp3")]
                process = subprocess.Popen(
                    command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
                )
                running.append((code, process))
            code, process = running.pop(0)
            stdout, stderr = process.communicate()
            assert process.returncode == 0, f"build --language {code} failed: {stderr}"
            done[code] = (folder / f"{code}.mp3", stdout)
    finally:
        for _, process in running:  # (only when a build failed: the others are not waited for)
            process.kill()
            process.communicate()
    return done


@pytest.fixture(scope="module", params=catalog_codes())
def session(request: pytest.FixtureRequest, builds: dict[str, tuple[Path, str]]) -> LanguageSession:
    """One language's session, decoded at its own rate, with its timeline read from the .json sidecar."""
    code: str = request.param
    output, stdout = builds[code]
    plan = customized_plan(
        None, profile=None, sets=(), voice=None, rate=None, week=None, language=code
    ).plan
    timeline = json.loads(output.with_suffix(".json").read_text(encoding="utf-8"))
    return LanguageSession(
        code=code,
        plan=plan,
        output=output,
        stdout=stdout,
        timeline=timeline,
        samples=am.decode(output, sample_rate=RATE),
    )


def _ms(seconds: float) -> int:
    return round(seconds * 1000)


def _speech(session: LanguageSession, phase: str | None = None) -> list[dict[str, Any]]:
    events = session.timeline["events"]
    return [e for e in events if e["kind"] == "speech" and (phase is None or e["phase"] == phase)]


def test_decoded_length_matches_the_timeline(session: LanguageSession) -> None:
    """The decoded session lasts as long as its timeline says, within 50 ms, and build said where it
    wrote it."""
    planned = _ms(session.timeline["total"])
    decoded = am.duration_ms(session.samples, RATE)
    assert planned > 10 * 60_000, (
        f"{session.code}: the default plan should last minutes, not {planned} ms"
    )
    assert abs(decoded - planned) <= LENGTH_TOLERANCE_MS, (
        f"{session.code}: decoded {decoded:.1f} ms, timeline {planned} ms: off by {decoded - planned:+.1f} ms"
    )
    assert session.stdout.startswith(f"Wrote {session.output} (")
    assert "5 exercises" in session.stdout


def test_start_tones_sound_where_the_timeline_puts_them(session: LanguageSession) -> None:
    """As many start tones are heard as the timeline has, each within 30 ms of its time."""
    planned = [
        _ms(e["start"])
        for e in session.timeline["events"]
        if e["kind"] == "tone" and e["tone"] == "start"
    ]
    heard = [t.onset_ms for t in am.find_tones(session.samples, Tone.START, sample_rate=RATE)]
    assert len(planned) > 40
    assert len(heard) == len(planned), (
        f"{session.code}: {len(planned)} start tones planned, {len(heard)} heard"
    )
    errors = [found - at for found, at in zip(sorted(heard), planned, strict=True)]
    worst = max(errors, key=abs)
    assert abs(worst) <= TONE_TOLERANCE_MS, (
        f"{session.code}: a start tone is heard {worst:+.1f} ms from its time"
    )


def test_the_intro_is_heard(session: LanguageSession) -> None:
    """Every phrase of the introduction, its title first, is clearly heard (above -40 dBFS over the
    middle half of its time)."""
    intro = _speech(session, "intro")
    assert [e["text"] for e in intro][:1] == [sentence(session.plan.title)]
    assert len(intro) >= 4
    for event in intro:
        start, end = _ms(event["start"]), _ms(event["end"])
        level = am.level_dbfs(
            session.samples, start + (end - start) / 4, end - (end - start) / 4, RATE
        )
        assert level > SPEECH_DBFS, (
            f"{session.code}: {event['text']!r} at {start} ms is at {level:.1f} dBFS"
        )


def test_the_sidecars_and_tags_carry_the_title_in_the_language(session: LanguageSession) -> None:
    """The .txt script opens with the plan's title in the session's language, the .vtt captions have
    it, and so do the MP3's title and album tags."""
    title = session.plan.title
    script = session.output.with_suffix(".txt").read_text(encoding="utf-8")
    assert script.startswith(f"{title}: ")
    assert f'"{sentence(title)}"' in script
    captions = session.output.with_suffix(".vtt").read_text(encoding="utf-8")
    assert captions.startswith(f"WEBVTT\n\nNOTE {title}\n")
    assert f"\n{sentence(title)}\n" in captions
    assert session.timeline["title"] == title
    tags = MP3(session.output, ID3=EasyID3).tags
    assert tags is not None and tags.get("title") == [title] and tags.get("album") == [title]


def _longest_instructions(code: str) -> list[str]:
    """The two longest instructions of the default plan in *code*, as the session says them."""
    plan = customized_plan(
        None, profile=None, sets=(), voice=None, rate=None, week=None, language=code
    ).plan
    return sorted((sentence(e.instructions) for e in plan.exercises if e.instructions), key=len)[
        -2:
    ]


@pytest.fixture(scope="module")
def lengths_by_voice() -> dict[tuple[str, str], int]:
    """How long each shipped voice takes to say each language's two longest exercise instructions
    (synthesized afresh, without the speech cache the sessions were built with)."""
    texts = {code: _longest_instructions(code) for code in catalog_codes()}
    lengths = {}
    for voice in VOICES.values():
        with Synthesizer(voice=voice, rate=default("rate"), sample_rate=RATE) as synthesizer:
            for phrases in texts.values():
                for text in phrases:
                    lengths[(voice, text)] = synthesizer.synthesized_ms(text)
    return lengths


def test_the_session_is_spoken_by_a_voice_of_its_language(
    session: LanguageSession, lengths_by_voice: dict[tuple[str, str], int]
) -> None:
    """The instructions in the session last as long as the language's own espeak-ng voice takes to
    say them (within 30 ms on average), and clearly not as long as any other language's voice takes:
    each voice reads a text by its own language's rules, so the lengths tell the voice."""
    announced = {e["text"]: _ms(e["end"]) - _ms(e["start"]) for e in _speech(session, "announce")}
    texts = _longest_instructions(session.code)
    assert len(texts) == 2 and all(text in announced for text in texts)
    off_by = {
        code: sum(abs(announced[text] - lengths_by_voice[(voice, text)]) for text in texts)
        / len(texts)
        for code, voice in VOICES.items()
    }
    print(f"{session.code}: mean difference per phrase from each voice: {off_by}")
    own = off_by[session.code]
    closest_other = min(value for code, value in off_by.items() if code != session.code)
    assert own <= 30, (
        f"{session.code}: the session's phrases differ from {VOICES[session.code]}'s by {own:.0f} ms"
    )
    assert closest_other >= 4 * max(own, 25), (
        f"{session.code}: another voice is about as close: {off_by}"
    )
