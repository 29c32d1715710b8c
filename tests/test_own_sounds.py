"""A plan's own sounds (start_sound, end_sound, transition_sound): audio files sounded where the
tones would be. The layout with given sound lengths; reading the settings from plans, profiles and
--set; real sessions built with sounds ffmpeg encoded as Ogg, MP3 and WAV, decoded and measured;
and the files that cannot be a cue's sound, through the command line."""

from __future__ import annotations

import dataclasses
from itertools import pairwise
from pathlib import Path

import audio_measure as am
import numpy as np
import pytest
from builders import exercise_yaml, plan_yaml, write_plan
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st
from sound_files import encoded, write_chime
from test_timeline import BASE_PLAN, make_exercise, words, work
from test_timeline_properties import (
    PROPERTY_SETTINGS,
    expected_intervals,
    measure_from,
    plans,
    speech_lengths,
)

from voiceguide.build.existing import up_to_date
from voiceguide.build.session import RenderSettings, build_session
from voiceguide.cli.commands import main
from voiceguide.plans.customize import customize
from voiceguide.plans.loader import load_plan
from voiceguide.plans.plan import Counting, Plan
from voiceguide.plans.profile import load_profile, parse_set
from voiceguide.plans.values import SoundFile
from voiceguide.script.timeline import (
    AFTER_TONE_MS,
    END_TONE_MS,
    START_TONE_MS,
    TONE_MS,
    EventKind,
    Timeline,
    Tone,
    build_timeline,
)
from voiceguide.sound.clipstore import ClipStore
from voiceguide.sound.mixdown import CUT_FADE_MS, Mixdown, frame_at
from voiceguide.sound.ownsounds import MAX_MS

SOUND_MS = {Tone.START: 700, Tone.END: 900, Tone.TRANSITION: 1_300}


def two_exercises(**plan_fields: object) -> object:
    exercises = (
        make_exercise(name="A", steps=work(6_000), reps=2, gap_ms=8_000, counting=Counting.NONE),
        make_exercise(name="B", steps=work(6_000), counting=Counting.NONE),
    )
    return dataclasses.replace(BASE_PLAN, exercises=exercises, **plan_fields)


def tones(timeline: Timeline) -> list[tuple[Tone, int, int]]:
    return [
        (e.tone, e.start_ms, e.end_ms)
        for e in timeline.events
        if e.kind is EventKind.TONE and e.tone is not None
    ]


def test_each_sound_lasts_its_length_and_the_start_word_follows_it() -> None:
    """A start sound of 0.7 s: "Go" comes after it and the tone's gap; the end of each exercise
    sounds the transition sound, the end of a rep the end sound; every interval still exact."""
    timeline = build_timeline(plan=two_exercises(), speech_ms=words, sound_ms=SOUND_MS)
    found = tones(timeline)
    assert [tone for tone, _, _ in found] == [
        Tone.START, Tone.END, Tone.START, Tone.TRANSITION, Tone.START, Tone.TRANSITION,
    ]  # fmt: skip
    for tone, start, end in found:
        assert end - start == SOUND_MS[tone]
    for tone, _, end in found:
        if tone is Tone.START:
            [word] = [e for e in timeline.events if e.start_ms >= end and e.text == "Go!"][:1]
            assert word.start_ms == end + AFTER_TONE_MS
    assert [i.end_ms - i.start_ms for i in timeline.intervals] == [6_000] * 3
    starts = [start for tone, start, _ in found if tone is Tone.START]
    ends = [start for tone, start, _ in found if tone is not Tone.START]
    assert [end - start for start, end in zip(starts, ends, strict=True)] == [6_000] * 3


def test_without_a_transition_sound_an_exercise_ends_on_the_end_sound() -> None:
    lengths = {Tone.START: 700, Tone.END: 900}
    timeline = build_timeline(plan=two_exercises(), speech_ms=words, sound_ms=lengths)
    assert Tone.TRANSITION not in {tone for tone, _, _ in tones(timeline)}
    assert all(end - start == lengths[tone] for tone, start, end in tones(timeline))


def test_without_sounds_the_layout_is_the_tones_one() -> None:
    plain = build_timeline(plan=two_exercises(), speech_ms=words)
    assert build_timeline(plan=two_exercises(), speech_ms=words, sound_ms={}) == plain
    assert {end - start for _, start, end in tones(plain)} == {START_TONE_MS, END_TONE_MS}


def test_a_sound_too_long_for_its_place_is_cut_at_the_next_cue_which_stays() -> None:
    """A 2.5 s start sound in a hold counted every second is cut at the first count, at 1 s; the
    count and the end keep their places, and the start word that no longer fits is reported."""
    plan = dataclasses.replace(
        BASE_PLAN,
        exercises=(make_exercise(name="A", steps=work(5_000), counting=Counting.EVERY_SECOND),),
    )
    plain = build_timeline(plan=plan, speech_ms=words)
    timeline = build_timeline(plan=plan, speech_ms=words, sound_ms={Tone.START: 2_500})
    [start] = [e for e in timeline.events if e.tone is Tone.START]
    assert (start.duration_ms, start.clipped_ms) == (1_000, 1_500)
    counts = [(e.start_ms, e.text) for e in timeline.events if e.text in ("four", "one")]
    assert counts == [(e.start_ms, e.text) for e in plain.events if e.text in ("four", "one")]
    assert [o.text for o in timeline.overruns] == ["Go!"]


def test_a_fixed_transition_lasts_its_length_from_the_transition_sound() -> None:
    plan = two_exercises(transition_ms=10_000)
    timeline = build_timeline(plan=plan, speech_ms=words, sound_ms=SOUND_MS)
    found = tones(timeline)
    [(_, ended, _)] = [t for t in found if t[0] is Tone.TRANSITION][:1]
    following = next(start for tone, start, _ in found if tone is Tone.START and start > ended)
    assert following - ended == 10_000


@pytest.mark.runs_ffmpeg  # (pydub, which cuts a clip with a fade, is wired to voiceguide's ffmpeg)
def test_in_the_mix_a_sound_cut_at_the_next_cue_fades_out_there() -> None:
    """A 2.5 s start sound where the first count comes at 1 s: it sounds whole up to the fade and
    nothing of it after the cut (the speech here is silence, so that only the sound is heard)."""
    plan = dataclasses.replace(
        BASE_PLAN,
        exercises=(make_exercise(name="A", steps=work(5_000), counting=Counting.EVERY_SECOND),),
    )
    timeline = build_timeline(plan=plan, speech_ms=words, sound_ms={Tone.START: 2_500})
    rate = 22_050
    with ClipStore() as store:
        phrases = {
            text: store.add(bytes(2 * rate * words(text) // 1000)) for text in timeline.phrases()
        }
        sound = store.add(np.full(rate * 5 // 2, 8_000, dtype="<i2").tobytes())
        mixdown = Mixdown(
            timeline=timeline, phrases=phrases, store=store, sample_rate=rate,
            sounds={Tone.START: sound},
        )  # fmt: skip
        samples = np.frombuffer(b"".join(mixdown.chunks()), dtype="<i2")
    [start] = [e for e in timeline.events if e.tone is Tone.START]
    first, cut = frame_at(start.start_ms, rate), frame_at(start.end_ms, rate)
    assert (start.duration_ms, start.clipped_ms) == (1_000, 1_500)
    assert np.all(samples[first : cut - CUT_FADE_MS * rate // 1000] == 8_000)
    assert abs(int(samples[cut - 1])) < 8_000 // 10
    assert not samples[cut : cut + rate].any()
    assert not samples[:first].any()


@PROPERTY_SETTINGS
@given(
    plan=plans(),
    lengths=speech_lengths,
    sound_ms=st.dictionaries(st.sampled_from(list(Tone)), st.integers(1, MAX_MS)),
    transition=st.none() | st.integers(1_000, 20_000),
)
def test_sounds_of_any_length_keep_every_timed_part_exact(
    plan: Plan, lengths: list[int], sound_ms: dict[Tone, int], transition: int | None
) -> None:
    """Over generated plans and sound lengths: events contiguous, every interval as long as its
    step, every rep opened by a start sound, every sound as long as it is (or cut), and the
    transition sound, if any, exactly where each exercise ends (in each round of a circuit)."""
    plan = dataclasses.replace(plan, transition_ms=transition)
    timeline = build_timeline(plan=plan, speech_ms=measure_from(lengths), sound_ms=sound_ms)
    for previous, event in pairwise(timeline.events):
        assert event.start_ms == previous.end_ms
    expected = expected_intervals(plan)
    assert [i.end_ms - i.start_ms for i in timeline.intervals] == [
        want.step.duration_ms for want in expected
    ]
    lengths_ms = {**TONE_MS, **sound_ms}
    found = [e for e in timeline.events if e.kind is EventKind.TONE and e.tone is not None]
    for event in found:
        assert event.duration_ms + event.clipped_ms == lengths_ms[event.tone]
    starts = {e.start_ms for e in found if e.tone is Tone.START}
    assert starts == {
        i.start_ms for i, want in zip(timeline.intervals, expected, strict=True) if want.first
    }
    # (an exercise ends where the next interval is another exercise's, or another round's)
    turns = [(i.where.exercise, i.where.round, i.end_ms) for i in timeline.intervals]
    exercise_ends = [
        end for (name, round_, end), following in zip(turns, [*turns[1:], None], strict=True)
        if following is None or following[:2] != (name, round_)
    ]  # fmt: skip
    transitions = [e.start_ms for e in found if e.tone is Tone.TRANSITION]
    assert transitions == (exercise_ends if Tone.TRANSITION in sound_ms else [])


# -- the settings, where they are written -------------------------------------------------------


def test_a_relative_path_is_taken_from_the_folder_of_the_file_naming_it(tmp_path: Path) -> None:
    plans, people = tmp_path / "plans", tmp_path / "people"
    plans.mkdir()
    people.mkdir()
    plan = load_plan(
        write_plan(plans, plan_yaml("P", exercise_yaml("A", "Go.", work=5), start_sound="bell.ogg"))
    )
    assert plan.start_sound == SoundFile(plans / "bell.ogg", "")
    assert plan.start_sound.where == f"{plans / 'tiny.yaml'}:3:16: settings.start_sound"
    (people / "p.yaml").write_text("settings:\n  end_sound: sub/gong.wav\n")
    (people / "abs.yaml").write_text(f"settings:\n  end_sound: {tmp_path / 'x.wav'}\n")
    layers = [load_profile(people / "p.yaml"), parse_set("transition_sound=ding.mp3")]
    customized = customize(plan=plan, layers=layers)
    assert customized.plan.end_sound == SoundFile(people / "sub" / "gong.wav", "")
    assert customized.plan.transition_sound == SoundFile(Path("ding.mp3"), "")
    assert (
        customized.plan.transition_sound.where
        == "--set 'transition_sound=ding.mp3': transition_sound"
    )
    assert load_profile(people / "abs.yaml").settings["end_sound"].value == SoundFile(
        tmp_path / "x.wav", ""
    )
    explained = {row.target: (row.value, row.source) for row in customized.explanation}
    assert explained["start_sound"] == (str(plans / "bell.ogg"), "plan")
    assert explained["end_sound"][1] == f"{people / 'p.yaml'}:2:14"


def test_without_sounds_the_effective_values_are_listed_as_before(tmp_path: Path) -> None:
    """No row for a sound not given: the effective values (in preview and in the timeline beside a
    session) of a session without sounds stay as they were."""
    plan = load_plan(write_plan(tmp_path, plan_yaml("P", exercise_yaml("A", "Go.", work=5))))
    targets = [row.target for row in customize(plan=plan).explanation]
    assert not [target for target in targets if target.endswith("_sound")]
    layers = [parse_set("end_sound=gong.wav")]
    targets = [row.target for row in customize(plan=plan, layers=layers).explanation]
    assert [target for target in targets if target.endswith("_sound")] == ["end_sound"]


# -- real sessions ----------------------------------------------------------------------------

FREQUENCIES = {Tone.START: 1_320.0, Tone.END: 990.0, Tone.TRANSITION: 1_760.0}
"""Each sound its own pitch, so that the decoded file tells which sounded where."""


@pytest.fixture(scope="module")
def sounds(tmp_path_factory: pytest.TempPathFactory) -> dict[Tone, Path]:
    """A chime for each cue, each after 200 ms of silence: the start one as Ogg Vorbis, the end
    one as MP3, the transition one as WAV."""
    folder = tmp_path_factory.mktemp("sounds")
    made = {}
    for tone, suffix in ((Tone.START, ".ogg"), (Tone.END, ".mp3"), (Tone.TRANSITION, ".wav")):
        wav = write_chime(folder / f"{tone.value}.wav", frequency=FREQUENCIES[tone], length_ms=500)
        made[tone] = wav if suffix == ".wav" else encoded(wav, suffix)
    return made


def sounds_plan(folder: Path, sounds: dict[Tone, Path], **settings: object) -> Path:
    exercises = [
        exercise_yaml("Squeeze", "Squeeze your hand.", reps=2, hold=4, reset=4),
        exercise_yaml("March", "March on the spot.", work=5),
    ]
    return write_plan(
        folder,
        plan_yaml(
            "Sounds",
            *exercises,
            lead_in=4,
            counting="last-3",
            rest_between_exercises=6,
            start_sound=sounds[Tone.START].name,
            end_sound=sounds[Tone.END].name,
            transition_sound=sounds[Tone.TRANSITION].name,
            **settings,
        ),
        name="sounds.yaml",
    )


@pytest.mark.audio
@pytest.mark.ffmpeg  # (which ffmpeg decodes the Ogg and MP3 sounds, and limits their peaks)
def test_each_sound_starts_on_its_cue_at_the_beep_level(
    sounds: dict[Tone, Path], tmp_path: Path
) -> None:
    """Decoded: each sound's onset on its cue within 3 ms (its 200 ms of silence trimmed), its pitch
    the one of its file, its RMS at beep_level against the speech's within 1 dB, the start word
    after it, every hold and work interval exact from its start sound to its end; the file at the
    loudness target under the true-peak ceiling. A changed sound file makes it out of date."""
    for path in sounds.values():
        (tmp_path / path.name).write_bytes(path.read_bytes())
    plan = load_plan(sounds_plan(tmp_path, sounds))
    settings = RenderSettings()
    result = build_session(plan=plan, output=tmp_path / "session.mp3", settings=settings)
    assert result.timeline is not None
    timeline = result.timeline
    samples = am.decode(tmp_path / "session.mp3")
    speech = np.concatenate(
        [samples[am.index_at(e.start_ms) : am.index_at(e.end_ms)] for e in timeline.events
         if e.kind is EventKind.SPEECH]
    )  # fmt: skip
    speech_dbfs = am.to_dbfs(np.sqrt(np.mean(np.square(speech, dtype=np.float64))))
    found = [e for e in timeline.events if e.kind is EventKind.TONE]
    assert [e.tone for e in found] == [
        Tone.START, Tone.END, Tone.START, Tone.TRANSITION, Tone.START, Tone.TRANSITION
    ]  # fmt: skip
    onset_errors, level_errors = [], []
    for event in found:
        assert event.tone is not None
        onset = am.speech_onset_ms(samples, event.start_ms, before_ms=100, threshold_dbfs=-45)
        assert onset is not None and abs(onset - event.start_ms) <= 3, (event, onset)
        level = am.level_dbfs(samples, event.start_ms, event.end_ms)
        assert abs(level - (speech_dbfs + plan.beep_level_db)) <= 1.0, (event, level, speech_dbfs)
        onset_errors.append(onset - event.start_ms)
        level_errors.append(level - (speech_dbfs + plan.beep_level_db))
        middle = samples[am.index_at(event.start_ms + 50) : am.index_at(event.start_ms + 80)]
        purity = am.tone_track(middle, FREQUENCIES[event.tone]).purity
        assert purity.max() > 0.8, event
        # ~ 500 ms of chime, its decay trimmed where it falls 60 dB under its peak
        assert 450 <= event.duration_ms <= 510
    for event in found:
        if event.tone is Tone.START:
            word = next(e for e in timeline.events if e.start_ms > event.start_ms and e.text)
            assert word.start_ms >= event.end_ms
            assert am.speech_onset_ms(samples, word.start_ms, before_ms=0) is not None
    heard = {
        tone: [f.onset_ms for f in am.find_tones(samples, tone)] for tone in (Tone.START, Tone.END)
    }
    assert heard == {Tone.START: [], Tone.END: []}  # (no built-in tone is left)
    for interval, start in zip(
        timeline.intervals, [e for e in found if e.tone is Tone.START], strict=True
    ):
        assert interval.start_ms == start.start_ms
        end = next(e for e in found if e.start_ms >= interval.end_ms)
        assert end.start_ms == interval.end_ms
    loudness, peak = am.ebur128(tmp_path / "session.mp3")
    print(
        f"{len(found)} own sounds; worst onset error {max(onset_errors, key=abs):+.2f} ms, "
        f"worst level against beep_level {max(level_errors, key=abs):+.2f} dB; "
        f"{loudness} LUFS, {peak} dBTP"
    )
    assert abs(loudness - settings.loudness_lufs) <= 0.3
    assert peak <= -1.0

    assert up_to_date(tmp_path / "session.mp3", plan=plan, settings=settings) is not None
    write_chime(tmp_path / sounds[Tone.TRANSITION].name, frequency=1_500.0, length_ms=500)
    assert up_to_date(tmp_path / "session.mp3", plan=plan, settings=settings) is None


@pytest.mark.audio
@pytest.mark.ffmpeg  # (which ffmpeg limits the sound's peaks)
def test_a_sharp_loud_sound_is_held_under_the_ceiling(tmp_path: Path) -> None:
    """A click of white noise at the loudest beep level: the session still reaches its loudness
    target with its true peak under the ceiling."""
    rng = np.random.default_rng(7)
    rate = 44_100
    click = rng.standard_normal(rate // 10) * np.exp(-np.arange(rate // 10) / (rate * 0.01))
    path = tmp_path / "click.wav"
    import wave

    with wave.open(str(path), "wb") as file:
        file.setnchannels(1)
        file.setsampwidth(2)
        file.setframerate(rate)
        file.writeframes(np.round(click / np.abs(click).max() * 30_000).astype("<i2").tobytes())
    plan = load_plan(
        write_plan(
            tmp_path,
            plan_yaml(
                "Clicks",
                exercise_yaml("Squeeze", "Squeeze.", reps=3, hold=2, reset=3),
                start_sound="click.wav",
                end_sound="click.wav",
                beep_level=6,
                lead_in=2,
            ),
        )
    )
    result = build_session(plan=plan, output=tmp_path / "clicks.mp3", settings=RenderSettings())
    assert result.timeline is not None
    assert [e.tone for e in result.timeline.events if e.kind is EventKind.TONE] == [
        Tone.START, Tone.END, Tone.START, Tone.END, Tone.START, Tone.END
    ]  # fmt: skip
    loudness, peak = am.ebur128(tmp_path / "clicks.mp3")
    print(f"clicks at beep_level 6: {loudness} LUFS, {peak} dBTP")
    assert abs(loudness - RenderSettings().loudness_lufs) <= 0.3
    assert peak <= -1.0


# -- files that cannot be a cue's sound -------------------------------------------------------


def validate(plan: Path, *options: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["validate", str(plan), "--engine", "espeak", *options])
    return result.exit_code, result.output


def test_a_missing_sound_is_named_where_it_was_written(tmp_path: Path) -> None:
    plan = write_plan(
        tmp_path, plan_yaml("P", exercise_yaml("A", "Go.", work=5), start_sound="bell.ogg")
    )
    code, output = validate(plan)
    assert code == 2
    assert (
        f"{plan}:3:16: settings.start_sound: there is no file {tmp_path / 'bell.ogg'}; " in output
    )
    assert "a relative path is taken from the folder of the plan or profile" in output
    code, output = validate(plan, "--set", f"start_sound={tmp_path}")
    assert code == 2
    assert (
        f"--set 'start_sound={tmp_path}': start_sound: {tmp_path} is a folder; name an audio file"
        in output
    )


@pytest.mark.ffmpeg  # (which ffmpeg reads the files, and says what it cannot)
def test_what_is_not_a_sound_is_refused_with_what_to_do(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("ding\n")
    write_chime(tmp_path / "silent.wav", level_dbfs=-200)
    write_chime(tmp_path / "long.wav", length_ms=MAX_MS + 2_000, frequency=300)
    write_chime(tmp_path / "empty.wav", length_ms=0, lead_ms=0)
    plan = write_plan(tmp_path, plan_yaml("P", exercise_yaml("A", "Go.", work=5)))
    expected = {
        # (an ffmpeg that takes text for a picture, as 4.2 does, finds no audio in it)
        "notes.txt": ("ffmpeg cannot read {} as audio (", "{} holds no audio; name an audio file"),
        "silent.wav": "{} is silent; name a file that sounds",
        "empty.wav": "{} holds no sound; name a file that sounds",
        "long.wav": "{} lasts 7.0 s without its silences; a cue's sound may last at most 5 s: "
        "cut it shorter",
    }
    for name, messages in expected.items():
        path = tmp_path / name
        code, output = validate(plan, "--set", f"end_sound={path}")
        assert code == 2, output
        assert any(
            f"--set 'end_sound={path}': end_sound: {message.format(path)}" in output
            for message in ((messages,) if isinstance(messages, str) else messages)
        ), output
        assert "Traceback" not in output
