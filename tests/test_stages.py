"""Each stage of a build on its own (see build/session.py): a real tiny plan spoken by the real
engine, mixed, mastered and written by the real ffmpeg, each stage's object checked as it comes out.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import pytest
from audio_measure import decode

from voiceguide.build import batch, existing
from voiceguide.build.batch import Job, Status, build_all
from voiceguide.build.existing import up_to_date
from voiceguide.build.mixing import Mastered, Mixed, master, mix
from voiceguide.build.session import build_session
from voiceguide.build.settings import RenderSettings
from voiceguide.build.speaking import Spoken, speak_plan, with_speaker
from voiceguide.build.writing import Written, write
from voiceguide.common.errors import AudioError
from voiceguide.output.destination import PLAYLIST
from voiceguide.output.export import read_stamp
from voiceguide.plans.loader import load_plan
from voiceguide.plans.plan import Plan
from voiceguide.script.timeline import EventKind
from voiceguide.sound.mixdown import frame_at

pytestmark = pytest.mark.audio

RATE = 22_050
SETTINGS = RenderSettings()


@pytest.fixture
def plan(tiny: Path) -> Plan:
    return load_plan(tiny)


@pytest.fixture
def spoken(plan: Plan) -> Iterator[Spoken]:
    with speak_plan(plan=plan, settings=SETTINGS) as spoken:
        yield spoken


@pytest.fixture
def mastered(spoken: Spoken) -> Iterator[Mastered]:
    with master(mix(spoken, settings=SETTINGS), settings=SETTINGS) as mastered:
        yield mastered


def test_speak_plan_lays_out_the_plan_with_every_phrase_spoken_once(plan: Plan) -> None:
    """speak_plan: a timeline of the plan, and one clip in the store for each distinct phrase, in
    order, that fills its cue; the store closes with the Spoken."""
    stages: list[str] = []
    with speak_plan(
        plan=plan, settings=SETTINGS, progress=lambda stage, done, total: stages.append(stage)
    ) as spoken:
        assert spoken.plan == with_speaker(plan)  # (its engine named: see speaking.py)
        assert list(spoken.clips) == spoken.timeline.phrases()
        assert len(set(spoken.clips.values())) == len(spoken.clips)
        for event in spoken.timeline.events:
            if event.kind is EventKind.SPEECH:
                assert event.text is not None
                clip_ms = spoken.store.frames(spoken.clips[event.text]) * 1000 // RATE
                assert 100 < clip_ms <= event.duration_ms + 1, event
        assert spoken.damaged_cache_entries == 0
        assert spoken.timeline.total_ms > 10_000
    assert stages[0] == "speech" and stages[-1] == "timeline"
    with pytest.raises(AudioError):  # (closed with it)
        spoken.store.read(0)


def test_mix_lays_every_clip_at_its_place(spoken: Spoken) -> None:
    """mix: as many frames as the timeline lasts, speech where it speaks and silence where it does
    not, at a speech level a levelled voice has."""
    mixed = mix(spoken, settings=SETTINGS)
    assert isinstance(mixed, Mixed)
    assert mixed.timeline is spoken.timeline and mixed.plan is spoken.plan
    assert mixed.mixdown.sample_rate == RATE
    assert mixed.mixdown.frames == frame_at(spoken.timeline.total_ms, RATE)
    assert -40 < mixed.speech_level_dbfs < -6
    first = next(e for e in spoken.timeline.events if e.kind is EventKind.SPEECH)
    spoken_bytes = b"".join(
        mixed.mixdown.chunks(frame_at(first.start_ms, RATE), frame_at(first.end_ms, RATE))
    )
    assert any(spoken_bytes)
    silent = [(start, end) for start, end in mixed.mixdown.silences() if end - start > RATE // 10]
    assert silent, "a session has pauses"
    start, end = silent[0]
    assert not any(b"".join(mixed.mixdown.chunks(start, end)))


def test_master_sets_the_gain_for_the_loudness_target(spoken: Spoken) -> None:
    """master: without music, a gain that brings the session to the target as heard through the
    encoder (a tiny session may stay a little under it, for its peaks)."""
    mixed = mix(spoken, settings=SETTINGS)
    stages: list[str] = []
    progress = lambda stage, done, total: stages.append(stage)  # noqa: E731
    with master(mixed, settings=SETTINGS, progress=progress) as mastered:
        assert mastered.mixed is mixed and mastered.music is None
        assert math.isfinite(mastered.gain_db)
        assert SETTINGS.loudness_lufs - 1.5 <= mastered.loudness_lufs <= SETTINGS.loudness_lufs
        assert mastered.mastering.mixdown.frames == mixed.mixdown.frames
    assert stages == ["mixing", "mixing"]


def test_master_refuses_a_mix_at_another_rate(spoken: Spoken) -> None:
    """master: a mix made at one sample rate is not written at another."""
    mixed = mix(spoken, settings=SETTINGS)
    with pytest.raises(ValueError, match="22050 Hz, not 44100 Hz"):
        master(mixed, settings=RenderSettings(sample_rate=44_100))


def test_write_puts_the_session_and_its_sidecars_in_place(
    mastered: Mastered, tmp_path: Path
) -> None:
    """write: the session (as long as the timeline, stamped with it) and its four sidecars, and
    nothing else, at the loudness the mastering reached."""
    output = tmp_path / "out" / "session.mp3"
    output.parent.mkdir()
    written = write(mastered, output, settings=SETTINGS)
    assert isinstance(written, Written)
    assert written.paths == tuple(
        output.with_suffix(s) for s in (".mp3", ".vtt", ".json", ".txt", ".html")
    )
    assert sorted(p.name for p in output.parent.iterdir()) == sorted(p.name for p in written.paths)
    assert written.loudness_lufs == mastered.loudness_lufs
    total_ms = mastered.mixed.timeline.total_ms
    stamp = read_stamp(output)
    assert stamp is not None and stamp.length_ms == total_ms
    samples = decode(output, RATE)
    assert abs(len(samples) * 1000 // RATE - total_ms) <= 60  # (an MP3 frame and the encoder delay)
    assert output.with_suffix(".vtt").read_text().startswith("WEBVTT")


def test_write_split_puts_each_section_in_a_file_of_its_own(
    mastered: Mastered, tmp_path: Path
) -> None:
    """write with split: the parts in order (intro, the exercise, closing), then the playlist, whose
    lengths add up to the session's."""
    output = tmp_path / "session.mp3"
    settings = RenderSettings(split=True, sidecars=False)
    written = write(mastered, output, settings=settings)
    *parts, playlist = written.paths
    assert playlist == output.with_suffix(PLAYLIST)
    assert [p.name[:10] for p in parts] == ["session-01", "session-02", "session-03"]
    assert all(p.exists() for p in written.paths) and not output.exists()
    lengths = [len(decode(part, RATE)) * 1000 // RATE for part in parts]
    assert abs(sum(lengths) - mastered.mixed.timeline.total_ms) <= 60 * len(parts)


def test_build_and_batch_ask_the_same_up_to_date_check(plan: Plan, tmp_path: Path) -> None:
    """existing.up_to_date is the one check: a session build_session wrote is up to date for it,
    then for batch, which builds nothing; other settings make it out of date for both."""
    assert batch.up_to_date is existing.up_to_date
    output = tmp_path / "session.mp3"
    built = build_session(plan=plan, output=output, settings=SETTINGS)
    assert not built.up_to_date
    stamp = up_to_date(output, plan=plan, settings=SETTINGS)
    assert stamp is not None and stamp.length_ms == built.total_ms
    again = build_session(plan=plan, output=output, settings=SETTINGS)
    assert again.up_to_date and again.timeline is None

    [outcome] = build_all([Job(label="tiny", output=output, plan=plan)], settings=SETTINGS)
    assert outcome.status is Status.UP_TO_DATE and outcome.total_ms == built.total_ms
    louder = RenderSettings(loudness_lufs=-14.0)
    assert up_to_date(output, plan=plan, settings=louder) is None
    output.with_suffix(".vtt").write_text("WEBVTT\n")  # (a sidecar changed since)
    assert up_to_date(output, plan=plan, settings=SETTINGS) is None
