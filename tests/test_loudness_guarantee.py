"""The loudness target and the true-peak ceiling hold in the file a listener gets, each file decoded
and measured with ffmpeg's EBU R128 meter: integrated loudness within TOLERANCE_LU of the target,
true peak at most CEILING_DBTP.

Every shipped plan is measured in every language as MP3 (the default format); every other format is
measured for every plan in Czech (the language that needs the most gain) and for every language in
the default plan, so that each plan, each language and each format meet each other; and another
target is measured in every format. Each plan is shortened to its first exercise, done once (one
rep, one set, at half its length), with the plan's own introduction and closing: the mastering
(mastering.py) works per file on whatever session it is given, and this keeps each plan's own
phrases, pace and counting in each language at a cost the suite can afford. scripts/loudness-matrix
measures every whole shipped session in every language and format.

A session is mixed once and written in each of its formats, as build_session does (the mix does not
depend on the format: see session.mix_session). Sessions are made one per core at once, so all of
them are made by the first test that asks for its figures.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from audio_measure import ebur128

from voiceguide.build.session import RenderSettings, available_cores, mix_session, write_session
from voiceguide.language.catalog import catalog_codes
from voiceguide.output.export import AudioFormat, Encoding
from voiceguide.plans.customize import customize
from voiceguide.plans.loader import DEFAULT_PLAN, load_plan
from voiceguide.plans.plan import Plan
from voiceguide.plans.profile import Layer, Located, parse_set

pytestmark = pytest.mark.audio

ROOT = Path(__file__).parent.parent
PLANS = sorted(path.stem for path in (ROOT / "data").glob("*.yaml"))
LANGUAGES = catalog_codes()
DEFAULT = Path(DEFAULT_PLAN).stem
LOUDEST_LANGUAGE = "cs"
DEFAULT_TARGET = RenderSettings().loudness_lufs
OTHER_TARGET = -20.0
TOLERANCE_LU = 0.3
CEILING_DBTP = -1.0

Job = tuple[str, str, float]
"""(plan, language, target)."""
Figures = dict[AudioFormat, tuple[float, float]]
"""(integrated LUFS, true peak dBTP) of each format's file."""


def jobs() -> dict[Job, tuple[AudioFormat, ...]]:
    """Every plan in every language as MP3; every format for every plan in Czech and for every
    language of the default plan; and every format at the other target."""
    every = tuple(AudioFormat)
    chosen: dict[Job, tuple[AudioFormat, ...]] = {}
    for name in PLANS:
        for language in LANGUAGES:
            chosen[name, language, DEFAULT_TARGET] = (
                every if language == LOUDEST_LANGUAGE or name == DEFAULT else (AudioFormat.MP3,)
            )
    chosen[DEFAULT, LOUDEST_LANGUAGE, OTHER_TARGET] = every
    return chosen


JOBS = jobs()


def shortened(name: str, language: str) -> Plan:
    """The shipped plan *name* in *language*, as `--language` and `--set` make it: its first
    exercise only, one rep of one set, holds, work and rests at half their length."""
    loaded = load_plan(ROOT / "data" / f"{name}.yaml")
    first = loaded.exercises[0].name
    layers = [Layer(origin="--language", settings={"language": Located(language, "--language")})]
    options = (f"only=[{first}]", f"{first}.reps=1", f"{first}.sets=1", "hold_scale=0.5", "work_scale=0.5",
               "rest_scale=0.5")  # fmt: skip
    layers += [parse_set(option) for option in options]
    return customize(plan=loaded, layers=layers).plan


@pytest.fixture(scope="module")
def measured(tmp_path_factory: pytest.TempPathFactory) -> dict[Job, Figures]:
    """Each job's session written in each of its formats and measured."""
    speaking = threading.Lock()  # (one speech engine at a time in a process)

    def run(job: Job) -> Figures:
        name, language, target = job
        folder = tmp_path_factory.mktemp(f"{name}-{language}")
        with speaking:
            mixed = mix_session(plan=shortened(name, language), settings=RenderSettings(), cores=1)
        figures = {}
        with mixed:
            for audio_format in JOBS[job]:
                path = folder / f"session.{audio_format.value}"
                settings = RenderSettings(
                    encoding=Encoding(format=audio_format), loudness_lufs=target, sidecars=False
                )
                write_session(mixed, path, settings=settings, cores=1)
                figures[audio_format] = ebur128(path)
        return figures

    with ThreadPoolExecutor(max_workers=available_cores()) as pool:
        return dict(zip(JOBS, pool.map(run, JOBS), strict=True))


def outside(figures: Figures, target: float) -> list[str]:
    """The formats whose file misses the target or passes the ceiling, each with its figures."""
    return [
        f"{audio_format.value}: {integrated} LUFS, {peak} dBTP"
        for audio_format, (integrated, peak) in figures.items()
        if abs(integrated - target) > TOLERANCE_LU or peak > CEILING_DBTP
    ]


def shown(figures: Figures) -> str:
    return ", ".join(
        f"{audio_format.value} {i} LUFS {p} dBTP" for audio_format, (i, p) in figures.items()
    )


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("name", PLANS)
def test_every_plan_in_every_language_is_heard_at_the_target_under_the_ceiling(
    name: str, language: str, measured: dict[Job, Figures]
) -> None:
    """At the default target (-16 LUFS), the session's files (MP3; and M4A, Opus and WAV for every
    plan in Czech and every language of the default plan) measure within 0.3 LU of it, their true
    peak at most -1 dBTP."""
    figures = measured[name, language, DEFAULT_TARGET]
    print(f"{name} {language}: {shown(figures)}")
    assert not outside(figures, DEFAULT_TARGET)


def test_another_target_is_heard_as_asked_for(measured: dict[Job, Figures]) -> None:
    """At -20 LUFS (`--loudness -20`) too, the default plan's files in Czech in every format measure
    within 0.3 LU of it, their true peak at most -1 dBTP."""
    figures = measured[DEFAULT, LOUDEST_LANGUAGE, OTHER_TARGET]
    print(f"{OTHER_TARGET:g} LUFS, {DEFAULT} {LOUDEST_LANGUAGE}: {shown(figures)}")
    assert not outside(figures, OTHER_TARGET)
