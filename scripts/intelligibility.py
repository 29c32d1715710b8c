"""Intelligibility as a figure: how much of what each speech engine says a speech recognizer hears.

Every distinct phrase of the default session is spoken through voiceguide's own Synthesizer (as a
build speaks it: the plan's voice and rate, trimmed), resampled to 16 kHz mono 16-bit and
transcribed by pocketsphinx with the US English model its wheel ships. The word error rate is the
word errors (substitutions, deletions and insertions) over all phrases divided by their words,
both sides lowercased and without punctuation. A recognizer stands in for a listener, and a strict
one: the figure compares engines (and changes to one) rather than saying how well a person follows
them. Run it with scripts/intelligibility.
"""

from __future__ import annotations

import argparse
import dataclasses
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import jiwer
from num2words import num2words
from pocketsphinx import Decoder

from voiceguide.build.session import RenderSettings, open_synthesizer, preview
from voiceguide.common.errors import VoiceguideError
from voiceguide.plans.loader import DEFAULT_PLAN, load_plan, shipped_plan_path
from voiceguide.plans.plan import Plan
from voiceguide.sound.engines import ENGINES

if TYPE_CHECKING:
    # (at run time, pydub comes through voiceguide, wired to its ffmpeg: imported bare on a
    # system without ffmpeg, it warns)
    from pydub import AudioSegment

SAMPLE_RATE = 16_000
"""What pocketsphinx's en-us model was trained on."""


@dataclass(frozen=True, slots=True)
class Heard:
    phrase: str
    hypothesis: str
    errors: int
    words: int


def words(text: str) -> list[str]:
    """*text* lowercased, as words without punctuation ("forty-five" is two, "don't" one), a number
    spelled out as it is said (a plan's own text may hold one: "2 to 3 times a day")."""
    text = re.sub(r"\d+", lambda number: f" {num2words(int(number[0]), lang='en')} ", text)
    return re.findall(r"[a-z]+(?:'[a-z]+)*", text.lower().replace("’", "'"))


def word_errors(reference: str, hypothesis: str) -> tuple[int, int]:
    """The word errors in *hypothesis* against *reference*, and the words of *reference*."""
    expected, heard = " ".join(words(reference)), " ".join(words(hypothesis))
    if not expected:
        return len(heard.split()), 0
    result = jiwer.process_words(expected, heard)
    return result.substitutions + result.deletions + result.insertions, len(expected.split())


def word_error_rate(heard: Iterable[Heard]) -> float:
    """Total word errors over total reference words (0 for no words)."""
    errors = words_ = 0
    for one in heard:
        errors += one.errors
        words_ += one.words
    return errors / words_ if words_ else 0.0


def recognizer() -> Decoder:
    """pocketsphinx with its own US English model, quiet."""
    return Decoder(samprate=SAMPLE_RATE, loglevel="FATAL")


def transcribe(decoder: Decoder, clip: AudioSegment) -> str:
    """What *decoder* hears in *clip* (any rate, width and channels)."""
    samples = clip.set_channels(1).set_sample_width(2).set_frame_rate(SAMPLE_RATE).raw_data
    decoder.start_utt()
    decoder.process_raw(samples, full_utt=True)
    decoder.end_utt()
    hypothesis = decoder.hyp()
    return hypothesis.hypstr if hypothesis is not None else ""


def hear(decoder: Decoder, phrase: str, clip: AudioSegment) -> Heard:
    hypothesis = transcribe(decoder, clip)
    errors, count = word_errors(phrase, hypothesis)
    return Heard(phrase=phrase, hypothesis=hypothesis, errors=errors, words=count)


def measure(plan: Plan, engine: str, decoder: Decoder) -> tuple[str, list[Heard]]:
    """The voice *engine* speaks *plan* with, and each distinct phrase of *plan*'s session spoken
    by it and heard by *decoder*."""
    plan = dataclasses.replace(plan, engine=engine)
    settings = RenderSettings()
    previewed = preview(plan=plan, settings=settings)
    with open_synthesizer(plan, settings) as synthesizer:
        heard = [hear(decoder, p, synthesizer.clip(p)) for p in previewed.timeline.phrases()]
    return previewed.voice or "default", heard


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--engine",
        action="append",
        help=f"a speech engine to measure, repeatable (default: every one of {', '.join(sorted(ENGINES))} "
        "that loads)",
    )
    parser.add_argument(
        "--phrases", action="store_true", help="show each phrase and what was heard"
    )
    args = parser.parse_args(argv)
    plan = load_plan(shipped_plan_path(), display_name=f"<default plan {DEFAULT_PLAN}>")
    decoder = recognizer()
    print(f"Intelligibility of the default session ({DEFAULT_PLAN}), heard by pocketsphinx en-us")
    rows = []
    for engine in args.engine or sorted(ENGINES):
        try:
            voice, heard = measure(plan, engine, decoder)
        except (ImportError, OSError, VoiceguideError) as error:
            print(f"  {engine}: cannot be loaded, skipped ({error})")
            continue
        if args.phrases:
            print(f"\n{engine}:")
            for one in heard:
                print(f"  {one.errors:>2}/{one.words:<2} {one.phrase}")
                print(f"        heard: {one.hypothesis}")
        rows.append((engine, voice, heard))
    if not rows:
        print("no engine could be loaded")
        return 1
    print()
    print(f"  {'engine':<10} {'voice':<16} {'phrases':>7} {'words':>6} {'errors':>6} {'WER':>6}")
    for engine, voice, heard in rows:
        total = sum(one.words for one in heard)
        errors = sum(one.errors for one in heard)
        print(
            f"  {engine:<10} {voice:<16} {len(heard):>7} {total:>6} {errors:>6}"
            f" {word_error_rate(heard):>6.2f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
