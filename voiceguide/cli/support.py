"""What the commands share: the options, a plan as a person's options make it, session file names,
running many builds, and the progress bar."""

from __future__ import annotations

import contextlib
import functools
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

import click

from voiceguide.cli.ending import EXIT_FAILURE, exit_code
from voiceguide.cli.output import echo
from voiceguide.common import stopping
from voiceguide.common.errors import InputError, PlanError, path_text
from voiceguide.language.catalog import catalog_codes
from voiceguide.output.formats import DEFAULT_BITRATES, EXTENSIONS
from voiceguide.plans.loader import DEFAULT_PLAN, load_plan, shipped_plan_path
from voiceguide.plans.settings import SESSION_SETTINGS
from voiceguide.plans.values import Engine, Integer

if TYPE_CHECKING:
    from voiceguide.build.batch import Outcome
    from voiceguide.build.session import Preview
    from voiceguide.plans.customize import Customized, Origin
    from voiceguide.script.timeline import Timeline

F = TypeVar("F", bound=Callable[..., Any])

DEFAULT_OUTPUT_DIR = Path("output")


existing_file = click.Path(exists=True, dir_okay=False, path_type=Path)
plan_argument = click.argument("plan", required=False, type=existing_file)


language_option = click.option(
    "--language",
    metavar="CODE",
    help=f"Speak the session in this language ({', '.join(catalog_codes())}), with a voice for it "
    "(--set language=CODE).",
)


def setting_range(name: str) -> click.IntRange:
    """The range of the whole-number setting *name*, as its option takes it."""
    kind = SESSION_SETTINGS[name].kind
    assert isinstance(kind, Integer)
    return click.IntRange(kind.least, kind.most)


def person_options(command: F) -> F:
    """The options that adjust a plan for one person, shared by every command that reads a plan."""
    options = [
        click.option(
            "--week",
            type=click.IntRange(1, 520),
            help="Make the session for this week of the progression (without it, a progression makes week 1).",
        ),
        click.option(
            "--set",
            "sets",
            multiple=True,
            metavar="PATH=VALUE",
            help='Override one value: a setting (hold_scale=1.5) or an exercise\'s ("Toe presses.reps=5"). Repeatable.',
        ),
        click.option(
            "--profile", type=existing_file, help="A person's profile (YAML) applied over the plan."
        ),
        click.option(
            "--rate",
            type=setting_range("rate"),
            help="Speech rate in words per minute (--set rate=N).",
        ),
        click.option(
            "--voice",
            help="Voice id, name or language, as `voiceguide voices` lists them, or a Piper "
            "model's path (--set voice=V).",
        ),
        click.option(
            "--engine",
            type=click.Choice([engine.value for engine in Engine]),
            help="The speech engine (--set engine=E); without it, Piper where a Piper voice for "
            "the session is installed, else espeak.",
        ),
        language_option,
    ]
    for option in options:
        command = option(command)
    return command


allow_long_option = click.option(
    "--allow-long",
    is_flag=True,
    help="Make a session longer than 3 hours (up to 12): refused by default as a likely mistake.",
)


def default_bitrates() -> str:
    """The encoder's default bitrates by the format names --format takes: "64k for mp3/m4a, 48k for
    ogg/opus"."""
    by_rate: dict[str, list[str]] = {}
    for extension, audio_format in EXTENSIONS.items():
        if audio_format in DEFAULT_BITRATES:
            by_rate.setdefault(DEFAULT_BITRATES[audio_format], []).append(extension.lstrip("."))
    return ", ".join(f"{rate} for {'/'.join(names)}" for rate, names in by_rate.items())


def render_options(command: F) -> F:
    """How the session file is written: format, quality, loudness, music, sidecars, split."""
    options = [
        allow_long_option,
        click.option(
            "--split",
            is_flag=True,
            help="One file per exercise (and intro, closing) and an M3U playlist.",
        ),
        click.option(
            "--no-sidecars",
            is_flag=True,
            help="Do not write the .vtt captions, .json timeline and .txt script.",
        ),
        click.option(
            "--music-level",
            type=click.FloatRange(-40, 0),
            default=-8.0,
            show_default=True,
            help="The music's level against speech in dB, where nobody speaks.",
        ),
        click.option(
            "--music",
            type=existing_file,
            help="Music (any format ffmpeg reads) under the whole session.",
        ),
        click.option(
            "--loudness",
            type=click.FloatRange(-36, -10),
            default=-16.0,
            show_default=True,
            help="Integrated loudness target in LUFS.",
        ),
        click.option(
            "--sample-rate", type=click.IntRange(8000, 48000), help="Output sample rate in Hz."
        ),
        click.option(
            "--bitrate", help=f"Output bitrate, like 64k (default: {default_bitrates()})."
        ),
        click.option(
            "--format",
            "audio_format",
            type=click.Choice([extension.lstrip(".") for extension in EXTENSIONS]),
            help="Output format (default: from the output's extension, else mp3).",
        ),
    ]
    for option in options:
        command = option(command)
    return command


def render_settings(output: Path, options: dict[str, Any]) -> Any:
    from voiceguide.build.session import RenderSettings
    from voiceguide.output.export import encoding_for

    encoding = encoding_for(
        output,
        name=options["audio_format"],
        bitrate=options["bitrate"],
        sample_rate=options["sample_rate"],
    )
    return RenderSettings(
        encoding=encoding,
        loudness_lufs=options["loudness"],
        music=options["music"],
        music_level_db=options["music_level"],
        sidecars=not options["no_sidecars"],
        split=options["split"],
        allow_long=options["allow_long"],
    )


def extension_for(options: dict[str, Any]) -> str:
    name = options["audio_format"]
    return {"ogg": ".ogg", "opus": ".opus", "m4a": ".m4a", "wav": ".wav"}.get(name or "", ".mp3")


def customized_plan(
    plan: Path | None,
    *,
    profile: Path | None,
    sets: tuple[str, ...],
    voice: str | None,
    rate: int | None,
    week: int | None,
    language: str | None = None,
    engine: str | None = None,
) -> Customized:
    """The plan as the options make it: plan < profile < command line (--language, --engine,
    --voice, --rate, --set)."""
    from voiceguide.language.catalog import load_catalog
    from voiceguide.plans.customize import customize
    from voiceguide.plans.profile import Layer, Located, load_profile, parse_set

    if plan is None:
        loaded = load_plan(shipped_plan_path(), display_name=f"<default plan {DEFAULT_PLAN}>")
    else:
        loaded = load_plan(plan, display_name=str(plan))
    layers = [load_profile(profile, display_name=str(profile))] if profile else []
    if language is not None:
        # An unknown language is an error that lists the known ones.
        language = load_catalog(language).code
    for name, value in (
        ("language", language),
        ("engine", engine),
        ("voice", voice),
        ("rate", rate),
    ):
        if value is not None:
            layers.append(Layer(origin=f"--{name}", settings={name: Located(value, f"--{name}")}))
    problems: list[str] = []
    for option in sets:
        try:
            layers.append(parse_set(option))
        except PlanError as error:
            problems += error.problems
    if problems:
        raise PlanError(
            problems, subject="the --set options" if len(sets) > 1 else "the --set option"
        )
    return customize(plan=loaded, layers=layers, week=week)


WEEK_ONE_NOTE = "has a progression and no --week was given: this is the session for week 1 (--week N for another week)"


def note_week_one(customized: Customized) -> None:
    """On stderr, once the command has done its work (a failure's message comes first, alone): the
    session is week 1 of a progression because no week was asked for."""
    if customized.week_one_for:
        echo(f"note: {customized.week_one_for}: {WEEK_ONE_NOTE}", err=True)


def warn_missing_translations(customized: Customized) -> None:
    """On stderr: the plan's texts that the session speaks in the plan's language for want of a
    version in the session's."""
    for line in report_missing_translations(
        customized, only_spoken=True, heading_prefix="warning: "
    ):
        echo(line, err=True)


def report_missing_translations(
    customized: Customized, *, only_spoken: bool, heading_prefix: str = ""
) -> list[str]:
    """Lines naming the plan's texts that have no version in a language: the session's own only
    (*only_spoken*), or every language the plan has texts in."""
    from voiceguide.language.catalog import language_name

    lines = []
    for code, missing in customized.missing_translations.items():
        if only_spoken and code != customized.plan.language:
            continue
        if missing:
            count = counted(len(missing), "text")
            lines.append(
                f"{heading_prefix}{count} of the plan {'have' if len(missing) > 1 else 'has'} no {language_name(code)} "
                f"({code}) version; the plan's own is spoken there:"
            )
            lines += [f"  {where}" for where in missing[:MAX_OVERRUNS_SHOWN]]
            if len(missing) > MAX_OVERRUNS_SHOWN:
                lines.append(f"  ... and {len(missing) - MAX_OVERRUNS_SHOWN} more")
    return lines


MAX_OVERRUNS_SHOWN = 10
LOUDNESS_SHORTFALL_LU = 0.3
"""How far under its target a session may be heard before the build warns."""


def report_overruns(timeline: Timeline | None, source: str) -> None:
    """Each phrase that does not fit (the first few of a long list, and how many more there are)."""
    from voiceguide.script.report import overrun_message

    overruns = timeline.overruns if timeline else ()
    for overrun in overruns[:MAX_OVERRUNS_SHOWN]:
        echo(f"warning: {overrun_message(overrun, source)}", err=True)
    if len(overruns) > MAX_OVERRUNS_SHOWN:
        more = len(overruns) - MAX_OVERRUNS_SHOWN
        echo(
            f"warning: ... and {more} more {'phrase that does' if more == 1 else 'phrases that do'} not fit",
            err=True,
        )


def warn_temporary_cache() -> None:
    """On stderr, when there is no home directory to keep the speech cache in."""
    from voiceguide.sound.speechcache import location

    found = location()
    if found.temporary:
        click.echo(
            f"warning: there is no home directory, so the speech cache is a temporary one, in {found.folder}; "
            "set VOICEGUIDE_CACHE_DIR to keep it elsewhere",
            err=True,
        )


def warn_damaged_cache(count: int) -> None:
    """On stderr, once a run: how many damaged speech cache entries were found (and made again)."""
    from voiceguide.sound.speechcache import speech_folder

    if count:
        entries = (
            "1 damaged speech cache entry was"
            if count == 1
            else f"{count} damaged speech cache entries were"
        )
        click.echo(
            f"warning: {entries} found and made again (the cache is in {speech_folder()})", err=True
        )


def report_loudness(reached: float | None, target: float) -> None:
    """A warning where the true-peak ceiling kept the session quieter than its loudness target."""
    if reached is not None and reached < target - LOUDNESS_SHORTFALL_LU:
        click.echo(
            f"warning: the session is {reached:.1f} LUFS, not the {target:g} LUFS asked for: louder, its peaks "
            "would pass -1 dBTP or the speech be limited out of shape; ask for less (--loudness)",
            err=True,
        )


def chapters_of_result(result: Any) -> list[Any]:
    from voiceguide.output.chapters import chapters_of

    return (
        chapters_of(result.timeline) if result.timeline else []
    )  # (only counted: the titles do not matter)


def counted(count: int, noun: str) -> str:
    """ "1 voice", "2 voices" (for the nouns that take an s)."""
    return f"{count} {noun}{'' if count == 1 else 's'}"


def mebibytes(size: int, *, decimals: int = 1) -> str:
    """A size in MiB, the unit the speech cache's limit is set in (256 MiB, which is 268 MB)."""
    return f"{size / 2**20:.{decimals}f} MiB"


def exercises_phrase(count: int) -> str:
    return counted(count, "exercise")


def distinct_names(profiles: list[Path]) -> dict[Path, str]:
    """A name per profile for its session file: its file name, with its folder's where two share one."""
    stems = [profile.stem for profile in profiles]
    names = {
        p: p.stem if stems.count(p.stem) == 1 else f"{p.parent.name}-{p.stem}" for p in profiles
    }
    if len(set(names.values())) < len(names):
        clashing = sorted(str(p) for p in profiles if list(names.values()).count(names[p]) > 1)
        raise InputError(
            f"these profiles would write the same session file; rename one: {', '.join(clashing)}"
        )
    return names


def output_folder(option: str | None) -> Path:
    """The folder -o names for many sessions (output/ by default, made if need be), checked."""
    from voiceguide.output.destination import check_folder

    if option is None:
        check_folder(DEFAULT_OUTPUT_DIR, create=True)
        return DEFAULT_OUTPUT_DIR
    check_folder(Path(option), shown=option)
    return Path(option)


def output_target(option: str | None) -> tuple[Path, Path | None]:
    """Where build's -o puts the session: its folder (checked) and its file, or None for the
    session's default name in that folder. `-o dir/`, or -o naming a folder, is a folder."""
    from voiceguide.output.destination import check_folder, is_folder

    if option is None or option.endswith(("/", os.sep)) or is_folder(Path(option)):
        return output_folder(option), None
    path = Path(option)
    check_folder(path.parent)
    return path.parent, path


def check_outputs(outputs: list[Path], render: dict[str, Any], *, shorter: str) -> None:
    """Every session file (and the files beside it) can be written, and no two are the same:
    refused now, before any work, rather than after the render."""
    from voiceguide.output.destination import check_files

    for output in outputs:
        check_files(
            output,
            format_option=render["audio_format"],
            split=render["split"],
            sidecars=not render["no_sidecars"],
            shorter=shorter,
        )
    repeated = sorted({path_text(output) for output in outputs if outputs.count(output) > 1})
    if repeated:
        raise InputError(
            f"two sessions would be written to {', '.join(repeated)}; rename a profile"
        )


def profile_files(paths: tuple[Path, ...]) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            found = sorted(
                p for p in path.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file()
            )
            if not found:
                raise InputError(f"the folder {path} has no profiles (.yaml files)")
            files += found
        else:
            files.append(path)
    return files


def noting_written(outputs: list[Path], settings: Any) -> contextlib.AbstractContextManager[None]:
    """A stop meanwhile names those of *outputs* whose files were replaced (see
    stopping.noting_written)."""
    from voiceguide.build.session import files_state

    return stopping.noting_written(outputs, functools.partial(files_state, split=settings.split))


def run_jobs(jobs: list[Any], *, settings: Any, force: bool, workers: int | None = None) -> None:
    with noting_written([job.output for job in jobs], settings):
        _run_jobs(jobs, settings=settings, force=force, workers=workers)


def _run_jobs(jobs: list[Any], *, settings: Any, force: bool, workers: int | None) -> None:
    from voiceguide.build.batch import Status, build_all
    from voiceguide.common.clock import length

    bar = (
        click.progressbar(length=len(jobs), label="sessions", file=sys.stderr)
        if sys.stderr.isatty()
        else None
    )

    def report(outcome: Outcome) -> None:
        if bar is not None:
            bar.update(1)

    warn_temporary_cache()
    if bar is not None:
        bar.__enter__()
    try:
        outcomes = build_all(
            jobs, settings=settings, force=force, workers=workers, on_outcome=report
        )
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)
    warn_damaged_cache(sum(outcome.damaged_cache_entries for outcome in outcomes))
    for outcome in outcomes:
        if outcome.status is Status.FAILED:
            echo(f"failed: {outcome.job.label}:", err=True)
            echo("  " + outcome.message.replace("\n", "\n  "), err=True)
        else:
            echo(
                f"{outcome.status.value}: {path_text(outcome.job.output)} ({length(outcome.total_ms)})"
            )
    counts = {status: sum(o.status is status for o in outcomes) for status in Status}
    summary = ", ".join(f"{counts[status]} {status.value}" for status in Status)
    echo(f"{counted(len(outcomes), 'session')}: {summary}", err=True)
    failed = [outcome for outcome in outcomes if outcome.status is Status.FAILED]
    if failed:
        codes = (exit_code(outcome.failure) for outcome in failed if outcome.failure)
        sys.exit(max(codes, default=EXIT_FAILURE))


class ProgressBar:
    """One progress bar on stderr across all stages, when stderr is a terminal; silent otherwise."""

    # Rough shares of a build's time, so the bar moves evenly from start to end.
    STAGES: ClassVar[dict[str, tuple[int, int]]] = {
        "speech": (0, 28),
        "timeline": (28, 30),
        "mixing": (30, 40),
        "encoding": (40, 100),
    }

    def __init__(self) -> None:
        self._bar: Any = None
        self._enabled = sys.stderr.isatty()

    def __enter__(self) -> ProgressBar:
        if self._enabled:
            self._bar = click.progressbar(
                length=100, label="speech   ", file=sys.stderr
            ).__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)

    def __call__(self, stage: str, done: int, total: int) -> None:
        if self._bar is None:
            return
        start, end = self.STAGES.get(stage, (0, 100))
        self._bar.label = f"{stage:<9}"
        position = start + (end - start) * done // max(total, 1)
        self._bar.update(max(0, position - self._bar.pos))


def showing_speaker(explanation: Sequence[Origin], previewed: Preview) -> list[Origin]:
    """*explanation* with the engine and voice that speak the session, as chosen where the plan
    named none (the table's rows say only "chosen")."""
    import dataclasses

    spoken = {"engine": previewed.engine, "voice": previewed.voice}
    rows = []
    for row in explanation:
        chosen = spoken.get(row.target)
        if chosen is not None and chosen != row.value:
            unset = SESSION_SETTINGS[row.target].unset
            # (a value named by a plan is kept, with the voice it found, as "en-us: gmw/en-us")
            if row.value == unset:
                row = dataclasses.replace(
                    row, value=f"{chosen} (chosen)", source="none named: chosen for the language"
                )
            else:
                row = dataclasses.replace(row, value=f"{row.value}: {chosen}")
        rows.append(row)
    return rows
