"""scripts/intelligibility's measure: word errors counted as a listener would, and one phrase spoken by
espeak-ng and heard by pocketsphinx end to end."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import pytest

from voiceguide.build.session import RenderSettings, open_synthesizer
from voiceguide.plans.loader import load_plan, shipped_plan_path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))

# (scripts/ is no package: its modules are found on the path)
from intelligibility import (
    Heard,
    hear,
    recognizer,
    word_error_rate,
    word_errors,
    words,
)


def test_words_are_lowercase_without_punctuation_numbers_spelled_out() -> None:
    assert words("Exercise one of five: Toe presses.") == [
        "exercise", "one", "of", "five", "toe", "presses",
    ]  # fmt: skip
    assert words("Forty-five, don’t stop!") == ["forty", "five", "don't", "stop"]
    assert words("Do this 2 to 3 times") == ["do", "this", "two", "to", "three", "times"]


def test_word_errors_count_substitutions_deletions_and_insertions() -> None:
    assert word_errors(
        "Exercise one of five: Toe presses.", "exercise one of five toe presses"
    ) == (
        0,
        6,
    )
    assert word_errors("Rep two of ten.", "two or ten") == (2, 4)  # "rep" missing, "of" misheard
    assert word_errors("Go!", "i am") == (2, 1)  # one substituted, one inserted: more than 100%
    assert word_errors("Hold.", "") == (1, 1)


def test_word_error_rate_is_total_errors_over_total_words() -> None:
    heard = [
        Heard(phrase="Rep two of ten.", hypothesis="two or ten", errors=2, words=4),
        Heard(phrase="three", hypothesis="three", errors=0, words=1),
        Heard(phrase="Go!", hypothesis="i am", errors=2, words=1),
    ]
    assert word_error_rate(heard) == pytest.approx(4 / 6)
    assert word_error_rate([]) == 0.0


@pytest.mark.speech
@pytest.mark.runs_ffmpeg  # (pydub's AudioSegment is set up with the ffmpeg voiceguide finds)
def test_a_phrase_spoken_by_espeak_is_heard_by_pocketsphinx(tmp_path: Path) -> None:
    plan = dataclasses.replace(load_plan(shipped_plan_path()), engine="espeak")
    phrase = "Exercise one of five"
    with open_synthesizer(plan, RenderSettings(), cache_folder=tmp_path) as speaker:
        clip = speaker.clip(phrase)
    heard = hear(recognizer(), phrase, clip)
    assert isinstance(heard.hypothesis, str)
    assert heard.words == 4
    assert heard.errors == word_errors(phrase, heard.hypothesis)[0]
    assert 0.0 <= word_error_rate([heard]) <= 1 + len(words(heard.hypothesis)) / 4
    assert speaker.synthesized == 1  # spoken by espeak-ng now, not found in a cache
