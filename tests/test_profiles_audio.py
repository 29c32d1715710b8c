"""Customized sessions built with the real engine and ffmpeg, decoded and measured.

A tiny plan of three exercises (one of them per side) is built as the plan says and as a profile or
--set option changes it; the decoded audio shows whether the change is really in what is heard.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import audio_measure as am
import numpy as np
import pytest
from builders import SQUEEZE, exercise_yaml, plan_yaml
from click.testing import CliRunner
from mutagen.easyid3 import EasyID3

from voiceguide.build.session import BuildResult, RenderSettings, build_session
from voiceguide.cli.commands import main
from voiceguide.plans.customize import customize
from voiceguide.plans.loader import load_plan
from voiceguide.plans.profile import Layer, load_profile, parse_set
from voiceguide.script.timeline import TONE_MS, EventKind, Timeline, Tone

pytestmark = pytest.mark.audio

SETTINGS = RenderSettings()
RATE = SETTINGS.sample_rate
HOLD_TOLERANCE_MS = 30
TONE_TOLERANCE_MS = 30
LENGTH_TOLERANCE_MS = 50

PLAN_TEXT = plan_yaml(
    "Tiny holds",
    SQUEEZE,
    exercise_yaml(
        "Press",
        "Push the wall with your palm.",
        reps=2,
        hold=2,
        reset=3,
        sides="[left arm, right arm]",
        switch=3,
    ),
    exercise_yaml("Stretch", "Reach up high.", hold=3),
    rate=180,
    lead_in=2,
    rest_between_exercises=4,
    counting="none",
)
LEFT_PROFILE = "name: Lefty\nsettings:\n  sides: left\n"


@dataclass(frozen=True, slots=True)
class Built:
    result: BuildResult
    samples: np.ndarray
    """The MP3 decoded to mono samples at the session's rate."""

    @property
    def timeline(self) -> Timeline:
        assert self.result.timeline is not None
        return self.result.timeline


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("profiles-audio")
    (path / "tiny.yaml").write_text(PLAN_TEXT)
    (path / "lefty.yaml").write_text(LEFT_PROFILE)
    return path


def build(folder: Path, name: str, *layers: Layer) -> Built:
    """The tiny plan customized by *layers*, built into *name*.mp3 and decoded."""
    customized = customize(plan=load_plan(folder / "tiny.yaml"), layers=list(layers))
    result = build_session(
        plan=customized.plan,
        output=folder / f"{name}.mp3",
        settings=SETTINGS,
        person=customized.person,
    )
    assert result.timeline is not None and not result.timeline.overruns, result.timeline
    return Built(result=result, samples=am.decode(result.path, sample_rate=RATE))


@pytest.fixture(scope="module")
def plain(folder: Path) -> Built:
    """The tiny plan as written."""
    return build(folder, "plain")


def heard_holds(built: Built) -> list[float]:
    """For every interval of the timeline, from its start tone to the next tone, as heard (ms)."""
    tones = {
        tone: am.find_tones(built.samples, tone, sample_rate=RATE) for tone in am.BUILT_IN_TONES
    }
    starts = [t.onset_ms for t in tones[Tone.START]]
    every = sorted(t.onset_ms for found in tones.values() for t in found)
    lengths = []
    for interval in built.timeline.intervals:
        start = am.nearest(starts, interval.start_ms)
        assert start is not None and abs(start - interval.start_ms) <= TONE_TOLERANCE_MS, (
            f"no start tone heard within {TONE_TOLERANCE_MS} ms of {interval.start_ms} ms ({interval.where})"
        )
        later = [onset for onset in every if onset > start + TONE_MS[Tone.START] / 2]
        assert later, f"no tone heard after the start tone at {start:.0f} ms"
        lengths.append(later[0] - start)
    return lengths


def spoken(timeline: Timeline) -> list[str]:
    return [e.text for e in timeline.events if e.kind is EventKind.SPEECH and e.text]


def test_hold_scale_makes_every_hold_longer_by_that_factor(plain: Built, folder: Path) -> None:
    """With --set hold_scale=1.5 every hold heard lasts 1.5 times the same hold without it, within 30
    ms."""
    scaled = build(folder, "scaled", parse_set("hold_scale=1.5"))
    before, after = heard_holds(plain), heard_holds(scaled)
    assert len(before) == len(after) == 7
    planned = [i.end_ms - i.start_ms for i in scaled.timeline.intervals]
    assert planned == [3000, 3000, 3000, 3000, 3000, 3000, 4500]
    errors = [b - 1.5 * a for a, b in zip(before, after, strict=True)]
    worst = max(errors, key=abs)
    print(
        f"holds heard {[round(a) for a in before]} ms and {[round(b) for b in after]} ms; worst {worst:+.1f} ms"
    )
    assert abs(worst) <= HOLD_TOLERANCE_MS, (
        f"heard {before} and then {after} ms: not 1.5 times within 30 ms"
    )
    for length, plan_ms in zip(after, planned, strict=True):
        assert abs(length - plan_ms) <= HOLD_TOLERANCE_MS


def test_skipped_exercise_is_absent(plain: Built, folder: Path) -> None:
    """A skipped exercise's name and instructions are never said, and the audio is as long as the
    shorter timeline."""
    said = spoken(plain.timeline)
    assert "Push the wall with your palm." in said and any(
        re.search(r"\bPress\b", text) for text in said
    )
    skipped = build(folder, "skipped", parse_set("skip=[Press]"))
    said = spoken(skipped.timeline)
    assert "Push the wall with your palm." not in said
    assert [text for text in said if re.search(r"\bPress\b", text)] == []
    assert {e.where.exercise for e in skipped.timeline.events} == {None, "Squeeze", "Stretch"}
    assert skipped.timeline.total_ms < plain.timeline.total_ms - 20_000
    decoded = am.duration_ms(skipped.samples, RATE)
    print(f"skipped: decoded {decoded:.1f} ms, timeline {skipped.timeline.total_ms} ms")
    assert abs(decoded - skipped.timeline.total_ms) <= LENGTH_TOLERANCE_MS


def test_left_only_profile_has_no_right_side(plain: Built, folder: Path) -> None:
    """A profile with `sides: left` gives no right-side cue, and as many start tones as left-side
    intervals."""
    assert any(e.where.side == "right arm" for e in plain.timeline.events)
    assert "Switch to the right arm." in spoken(plain.timeline)
    lefty = build(folder, "lefty", load_profile(folder / "lefty.yaml"))
    events = lefty.timeline.events
    assert [e for e in events if e.where.side and "right" in e.where.side] == []
    assert [
        text for text in spoken(lefty.timeline) if re.search(r"\bright\b", text, re.IGNORECASE)
    ] == []
    assert "Start with the left arm." in spoken(lefty.timeline)
    intervals = lefty.timeline.intervals
    assert len(intervals) == 5 and len(plain.timeline.intervals) == 7
    heard = am.find_tones(lefty.samples, Tone.START, sample_rate=RATE)
    print(f"left only: {len(heard)} start tones heard for {len(intervals)} intervals")
    assert len(heard) == len(intervals)
    assert len(am.find_tones(plain.samples, Tone.START, sample_rate=RATE)) == len(
        plain.timeline.intervals
    )


@pytest.mark.parametrize(
    ("week", "title"),
    [(None, "Tiny holds, Lefty"), (2, "Tiny holds, Lefty, week 2")],
    ids=["no week", "week 2"],
)
def test_build_with_profile_names_the_person_and_week_in_the_title(
    folder: Path, tmp_path: Path, week: int | None, title: str
) -> None:
    """`build PLAN --profile P -o OUT` writes an MP3 whose ID3 title names the person and the week
    given."""
    out = tmp_path / "session.mp3"
    args = [
        "build",
        str(folder / "tiny.yaml"),
        "--profile",
        str(folder / "lefty.yaml"),
        "-o",
        str(out),
    ]
    result = CliRunner().invoke(
        main, [*args, *(["--week", str(week)] if week else [])], catch_exceptions=False
    )
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith(f"Wrote {out} (")
    tags = EasyID3(out)
    assert tags["title"] == [title]
    assert tags["album"] == ["Tiny holds"]
