"""The command line: parse options, build the inputs, call the core, turn errors into exit codes."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

import click

from voiceguide import __version__
from voiceguide.errors import PlanError, VoiceguideError
from voiceguide.loader import DEFAULT_PLAN, load_plan, shipped_plan_path

if TYPE_CHECKING:
    from voiceguide.batch import Outcome
    from voiceguide.customize import Customized
    from voiceguide.timeline import Timeline

F = TypeVar("F", bound=Callable[..., Any])

DEFAULT_OUTPUT_DIR = Path("output")
EXIT_INTERRUPTED = 130


class Failure(click.ClickException):
    """A failure of the machinery (speech engine, ffmpeg, the disk) on its way out."""

    exit_code = 1


class InputFailure(Failure):
    """A mistake in the input (plan, profile, option, file) on its way out."""

    exit_code = 2


def failure(message: str, exit_code: int) -> Failure:
    return InputFailure(message) if exit_code == InputFailure.exit_code else Failure(message)


def reports_errors(command: F) -> F:
    """Users see a message and an exit code for every failure, never a traceback."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except VoiceguideError as error:
            raise failure(error.report(), error.exit_code) from None
        except KeyboardInterrupt:
            click.echo("\nInterrupted; no session file was changed.", err=True)
            sys.exit(EXIT_INTERRUPTED)

    return wrapper  # type: ignore[return-value]


existing_file = click.Path(exists=True, dir_okay=False, path_type=Path)
plan_argument = click.argument("plan", required=False, type=existing_file)


def person_options(command: F) -> F:
    """The options that adjust a plan for one person, shared by every command that reads a plan."""
    options = [
        click.option("--week", type=click.IntRange(1, 520), help="Make the session for this week of the progression."),
        click.option(
            "--set",
            "sets",
            multiple=True,
            metavar="PATH=VALUE",
            help='Override one value: a setting (hold_scale=1.5) or an exercise\'s ("Toe presses.reps=5"). Repeatable.',
        ),
        click.option("--profile", type=existing_file, help="A person's profile (YAML) applied over the plan."),
        click.option("--rate", type=click.IntRange(60, 400), help="Speech rate in words per minute (--set rate=N)."),
        click.option("--voice", help="Voice id, name or language, as `voiceguide voices` lists them (--set voice=V)."),
    ]
    for option in options:
        command = option(command)
    return command


allow_long_option = click.option(
    "--allow-long",
    is_flag=True,
    help="Make a session longer than 3 hours (up to 12): refused by default as a likely mistake.",
)


def render_options(command: F) -> F:
    """How the session file is written: format, quality, loudness, music, sidecars, split."""
    options = [
        allow_long_option,
        click.option("--split", is_flag=True, help="One file per exercise (and intro, closing) and an M3U playlist."),
        click.option(
            "--no-sidecars", is_flag=True, help="Do not write the .vtt captions, .json timeline and .txt script."
        ),
        click.option(
            "--music-level",
            type=click.FloatRange(-40, 0),
            default=-8.0,
            show_default=True,
            help="The music's level against speech in dB, where nobody speaks.",
        ),
        click.option("--music", type=existing_file, help="Music (any format ffmpeg reads) under the whole session."),
        click.option(
            "--loudness",
            type=click.FloatRange(-36, -10),
            default=-16.0,
            show_default=True,
            help="Integrated loudness target in LUFS.",
        ),
        click.option("--sample-rate", type=click.IntRange(8000, 48000), help="Output sample rate in Hz."),
        click.option("--bitrate", help="Output bitrate, like 64k (default: 64k for mp3/m4a, 32k for opus)."),
        click.option(
            "--format",
            "audio_format",
            type=click.Choice(["mp3", "m4a", "ogg", "opus", "wav"]),
            help="Output format (default: from the output's extension, else mp3).",
        ),
    ]
    for option in options:
        command = option(command)
    return command


def _render_settings(output: Path, options: dict[str, Any]) -> Any:
    from voiceguide.export import encoding_for
    from voiceguide.session import RenderSettings

    encoding = encoding_for(
        output, name=options["audio_format"], bitrate=options["bitrate"], sample_rate=options["sample_rate"]
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


def _extension(options: dict[str, Any]) -> str:
    name = options["audio_format"]
    return {"ogg": ".ogg", "opus": ".opus", "m4a": ".m4a", "wav": ".wav"}.get(name or "", ".mp3")


def _plan_name(plan: Path | None) -> str:
    return Path(plan.name if plan else DEFAULT_PLAN).stem


def _customized(
    plan: Path | None,
    *,
    profile: Path | None,
    sets: tuple[str, ...],
    voice: str | None,
    rate: int | None,
    week: int | None,
) -> Customized:
    """The plan as the options make it: plan < profile < command line (--voice, --rate, --set)."""
    from voiceguide.customize import customize
    from voiceguide.profile import Layer, Located, load_profile, parse_set

    if plan is None:
        loaded = load_plan(shipped_plan_path(), display_name=f"<default plan {DEFAULT_PLAN}>")
    else:
        loaded = load_plan(plan, display_name=str(plan))
    layers = [load_profile(profile, display_name=str(profile))] if profile else []
    for name, value in (("voice", voice), ("rate", rate)):
        if value is not None:
            layers.append(Layer(origin=f"--{name}", settings={name: Located(value, f"--{name}")}))
    problems: list[str] = []
    for option in sets:
        try:
            layers.append(parse_set(option))
        except PlanError as error:
            problems += error.problems
    if problems:
        raise PlanError(problems, subject="the --set options" if len(sets) > 1 else "the --set option")
    return customize(plan=loaded, layers=layers, week=week)


def _session_name(plan: Path | None, profile: Path | None, week: int | None) -> str:
    name = _plan_name(plan) + (f"-{profile.stem}" if profile else "")
    return name + (f"-week-{week:02d}" if week else "")


MAX_OVERRUNS_SHOWN = 10


def _report_overruns(timeline: Timeline | None, source: str) -> None:
    """Each phrase that does not fit (the first few of a long list, and how many more there are)."""
    from voiceguide.report import overrun_message

    overruns = timeline.overruns if timeline else ()
    for overrun in overruns[:MAX_OVERRUNS_SHOWN]:
        click.echo(f"warning: {overrun_message(overrun, source)}", err=True)
    if len(overruns) > MAX_OVERRUNS_SHOWN:
        click.echo(f"warning: ... and {len(overruns) - MAX_OVERRUNS_SHOWN} more phrases that do not fit", err=True)


def chapters_of_result(result: Any) -> list[Any]:
    from voiceguide.chapters import chapters_of

    return chapters_of(result.timeline) if result.timeline else []


def _exercises(count: int) -> str:
    return f"{count} exercise{'s' if count != 1 else ''}"


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="voiceguide")
def main() -> None:
    """Turn an exercise plan written in YAML into a voice-guided MP3 session.

    \b
    Examples:
      voiceguide build                          # the default plan into output/
      voiceguide build --profile data/profiles/older-patient.yaml
      voiceguide preview data/tabata.yaml       # the timed script, no audio
      voiceguide validate my-plan.yaml          # check a plan you wrote
    """


@main.command()
@plan_argument
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Where to write the MP3 (default: output/)."
)
@person_options
@render_options
@click.option("--force", is_flag=True, help="Rebuild even if the file is up to date.")
@reports_errors
def build(
    plan: Path | None,
    output: Path | None,
    profile: Path | None,
    sets: tuple[str, ...],
    voice: str | None,
    rate: int | None,
    week: int | None,
    force: bool,
    **render: Any,
) -> None:
    """Render PLAN into a session file (the default plan if none is given).

    The file goes to output/<plan>[-<profile>][-week-NN].mp3 unless -o says otherwise, with
    chapters, and captions (.vtt), the timeline (.json) and a printable script (.txt) beside it. An
    existing file is replaced only once the new session is complete, and not at all if it was made
    from the same plan, profile, options and voiceguide version (--force rebuilds it).

    \b
    Examples:
      voiceguide build
      voiceguide build data/breathing-4-7-8.yaml -o breathing.m4a --rate 130
      voiceguide build --profile data/profiles/older-patient.yaml --set hold_scale=1.5
      voiceguide build --profile data/profiles/progression.yaml --week 3
      voiceguide build --music calm.mp3 --music-level -10 --split
    """
    from voiceguide.report import clock, length
    from voiceguide.session import build_session

    customized = _customized(plan, profile=profile, sets=sets, voice=voice, rate=rate, week=week)
    if output is None:
        DEFAULT_OUTPUT_DIR.mkdir(exist_ok=True)
        output = DEFAULT_OUTPUT_DIR / f"{_session_name(plan, profile, week)}{_extension(render)}"
    with _ProgressBar() as progress:
        result = build_session(
            plan=customized.plan,
            output=output,
            settings=_render_settings(output, render),
            person=customized.person,
            explanation=customized.explanation,
            force=force,
            progress=progress,
        )
    _report_overruns(result.timeline, customized.plan.source_name)
    total = f"{clock(result.total_ms)}, {length(result.total_ms)}; {_exercises(len(customized.plan.exercises))}"
    if result.up_to_date:
        click.echo(f"Up to date: {output} ({total}); nothing changed since it was written (--force rebuilds)")
    elif render["split"]:
        parts = len(chapters_of_result(result))
        click.echo(f"Wrote {output.with_suffix('.m3u')} ({total}; a playlist of {parts} files beside it)")
    else:
        click.echo(f"Wrote {output} ({total})")


@main.command()
@plan_argument
@click.option("--json", "as_json", is_flag=True, help="Print the timeline as JSON instead of a table.")
@click.option("--explain", is_flag=True, help="Say where each effective value comes from (plan, profile, option).")
@person_options
@allow_long_option
@reports_errors
def preview(
    plan: Path | None,
    as_json: bool,
    explain: bool,
    allow_long: bool,
    profile: Path | None,
    sets: tuple[str, ...],
    voice: str | None,
    rate: int | None,
    week: int | None,
) -> None:
    """Show PLAN's effective values, its timed script and total length, without rendering audio.

    Speech is synthesized only to measure it, so the times are those of the real session.
    Phrases that do not fit their slot are reported on stderr.

    \b
    Examples:
      voiceguide preview data/feet-for-back-pain.yaml
      voiceguide preview --profile data/profiles/left-side-rehab.yaml --explain
      voiceguide preview my-plan.yaml --json > timeline.json
    """
    from voiceguide import report
    from voiceguide.session import RenderSettings
    from voiceguide.session import preview as preview_timeline

    customized = _customized(plan, profile=profile, sets=sets, voice=voice, rate=rate, week=week)
    timeline = preview_timeline(plan=customized.plan, settings=RenderSettings(allow_long=allow_long))
    if as_json:
        click.echo(report.as_json(timeline, customized.explanation))
    else:
        click.echo(report.effective_values(customized.explanation, explain=explain))
        click.echo()
        click.echo(report.table(timeline))
    _report_overruns(timeline, customized.plan.source_name)


@main.command()
@plan_argument
@person_options
@allow_long_option
@reports_errors
def validate(
    plan: Path | None,
    allow_long: bool,
    profile: Path | None,
    sets: tuple[str, ...],
    voice: str | None,
    rate: int | None,
    week: int | None,
) -> None:
    """Check PLAN (and a profile and options, if given): fields, voice, and that every phrase fits.

    Prints each problem with its file, line and field. Exits 0 when all is good, 2 when not.

    \b
    Examples:
      voiceguide validate my-plan.yaml
      voiceguide validate --profile data/profiles/older-patient.yaml
    """
    from voiceguide.report import length
    from voiceguide.session import RenderSettings
    from voiceguide.session import preview as preview_timeline

    customized = _customized(plan, profile=profile, sets=sets, voice=voice, rate=rate, week=week)
    timeline = preview_timeline(plan=customized.plan, settings=RenderSettings(allow_long=allow_long))
    source = customized.plan.source_name
    if timeline.overruns:
        from voiceguide.report import overrun_message

        count = len(timeline.overruns)
        lines = [overrun_message(overrun, source) for overrun in timeline.overruns[:MAX_OVERRUNS_SHOWN]]
        if count > MAX_OVERRUNS_SHOWN:
            lines.append(f"... and {count - MAX_OVERRUNS_SHOWN} more")
        heading = f"{count} phrase{'s' if count > 1 else ''} do not fit their slots:"
        raise InputFailure("\n".join([heading, *(f"  {line}" for line in lines)]))
    click.echo(f"{source}: OK, {_exercises(len(customized.plan.exercises))}, {length(timeline.total_ms)}")


@main.command()
@click.argument("plan", type=existing_file)
@click.option("--weeks", type=click.IntRange(1, 104), required=True, help="How many weeks to make sessions for.")
@click.option(
    "-o", "--output-dir", type=click.Path(file_okay=False, path_type=Path), help="Folder for the sessions (output/)."
)
@click.option("--profile", type=existing_file, help="A person's profile (YAML) applied over the plan.")
@click.option("--set", "sets", multiple=True, metavar="PATH=VALUE", help="Override one value (see build).")
@render_options
@click.option("--force", is_flag=True, help="Rebuild sessions that are up to date.")
@reports_errors
def program(
    plan: Path,
    weeks: int,
    output_dir: Path | None,
    profile: Path | None,
    sets: tuple[str, ...],
    force: bool,
    **render: Any,
) -> None:
    """Make one session per week of PLAN's progression, named so they sort in order.

    \b
    Example:
      voiceguide program data/feet-for-back-pain.yaml --weeks 6 --profile data/profiles/progression.yaml
      (writes output/feet-for-back-pain-progression-week-01.mp3 ... -week-06.mp3)
    """
    from voiceguide.batch import Job

    folder = _output_folder(output_dir)
    jobs = []
    for week in range(1, weeks + 1):
        customized = _customized(plan, profile=profile, sets=sets, voice=None, rate=None, week=week)
        output = folder / f"{_session_name(plan, profile, week)}{_extension(render)}"
        jobs.append(
            Job(
                label=f"week {week}",
                output=output,
                plan=customized.plan,
                person=customized.person,
                explanation=customized.explanation,
            )
        )
    _run_jobs(jobs, settings=_render_settings(folder / f"x{_extension(render)}", render), force=force)


@main.command()
@click.argument("plan", type=existing_file)
@click.argument("profiles", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option(
    "-o", "--output-dir", type=click.Path(file_okay=False, path_type=Path), help="Folder for the sessions (output/)."
)
@click.option("--week", type=click.IntRange(1, 520), help="Make every session for this week of its progression.")
@click.option("--set", "sets", multiple=True, metavar="PATH=VALUE", help="Override one value for everyone.")
@click.option("--jobs", type=click.IntRange(1, 64), help="Sessions built at once (default: one per core).")
@render_options
@click.option("--force", is_flag=True, help="Rebuild sessions that are up to date.")
@reports_errors
def batch(
    plan: Path,
    profiles: tuple[Path, ...],
    output_dir: Path | None,
    week: int | None,
    sets: tuple[str, ...],
    jobs: int | None,
    force: bool,
    **render: Any,
) -> None:
    """Build one session of PLAN per profile (files, or folders of .yaml files), in parallel.

    A bad profile is reported and the others are still built; the exit code is then 2 (or 1 if a
    build itself failed). Sessions that are up to date are not rebuilt.

    \b
    Example:
      voiceguide batch data/feet-for-back-pain.yaml data/profiles/
    """
    from voiceguide.batch import Job

    folder = _output_folder(output_dir)
    files = _profile_files(profiles)
    names = _distinct_names(files)
    work = []
    for profile in files:
        output = (
            folder / f"{_plan_name(plan)}-{names[profile]}{f'-week-{week:02d}' if week else ''}{_extension(render)}"
        )
        try:
            customized = _customized(plan, profile=profile, sets=sets, voice=None, rate=None, week=week)
        except PlanError as error:
            if error.subject == "the plan":
                raise  # the plan itself is wrong: no profile can be built
            work.append(Job(label=str(profile), output=output, error=error))
            continue
        work.append(
            Job(
                label=str(profile),
                output=output,
                plan=customized.plan,
                person=customized.person,
                explanation=customized.explanation,
            )
        )
    _run_jobs(work, settings=_render_settings(folder / f"x{_extension(render)}", render), force=force, workers=jobs)


def _distinct_names(profiles: list[Path]) -> dict[Path, str]:
    """A name per profile for its session file: its file name, with its folder's where two share one."""
    stems = [profile.stem for profile in profiles]
    names = {p: p.stem if stems.count(p.stem) == 1 else f"{p.parent.name}-{p.stem}" for p in profiles}
    if len(set(names.values())) < len(names):
        clashing = sorted(str(p) for p in profiles if list(names.values()).count(names[p]) > 1)
        raise InputFailure(f"these profiles would write the same session file; rename one: {', '.join(clashing)}")
    return names


def _output_folder(output_dir: Path | None) -> Path:
    folder = output_dir or DEFAULT_OUTPUT_DIR
    if output_dir is None:
        folder.mkdir(exist_ok=True)
    elif not folder.is_dir():
        raise InputFailure(f"the output folder {folder} does not exist")
    return folder


def _profile_files(paths: tuple[Path, ...]) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())
            if not found:
                raise InputFailure(f"the folder {path} has no profiles (.yaml files)")
            files += found
        else:
            files.append(path)
    return files


def _run_jobs(jobs: list[Any], *, settings: Any, force: bool, workers: int | None = None) -> None:
    from voiceguide.batch import Status, build_all
    from voiceguide.report import length

    bar = click.progressbar(length=len(jobs), label="sessions", file=sys.stderr) if sys.stderr.isatty() else None

    def report(outcome: Outcome) -> None:
        if bar is not None:
            bar.update(1)

    if bar is not None:
        bar.__enter__()
    try:
        outcomes = build_all(jobs, settings=settings, force=force, workers=workers, on_outcome=report)
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)
    for outcome in outcomes:
        if outcome.status is Status.FAILED:
            click.echo(f"failed: {outcome.job.label}:", err=True)
            click.echo("  " + outcome.message.replace("\n", "\n  "), err=True)
        else:
            click.echo(f"{outcome.status.value}: {outcome.job.output} ({length(outcome.total_ms)})")
    counts = {status: sum(o.status is status for o in outcomes) for status in Status}
    summary = ", ".join(f"{counts[status]} {status.value}" for status in Status)
    click.echo(f"{len(outcomes)} sessions: {summary}", err=True)
    failed = [outcome for outcome in outcomes if outcome.status is Status.FAILED]
    if failed:
        sys.exit(max(outcome.exit_code for outcome in failed))


@main.command()
@reports_errors
def voices() -> None:
    """List the installed voices, for --voice or a plan's settings.voice.

    \b
    Example:
      voiceguide voices | grep -i english
    """
    from voiceguide.speech import list_voices

    found = list_voices()
    click.echo(f"{'id':<28} {'name':<40} {'languages':<16} gender")
    for voice in sorted(found, key=lambda v: v.id):
        click.echo(f"{voice.id:<28} {voice.name:<40} {', '.join(voice.languages):<16} {voice.gender or ''}")
    click.echo(f"{len(found)} voices", err=True)


@main.group()
def cache() -> None:
    """The speech cache: every phrase spoken once, kept between runs so rebuilds are quick.

    \b
    Examples:
      voiceguide cache info
      voiceguide cache clear
    """


@cache.command("info")
@reports_errors
def cache_info() -> None:
    """Where the speech cache is and how much it holds.

    \b
    Example:
      voiceguide cache info
    """
    from voiceguide.speechcache import MAX_BYTES, usage

    found = usage()
    click.echo(f"{found.folder}: {found.files} clips, {found.bytes / 1e6:.1f} MB of at most {MAX_BYTES / 1e6:.0f} MB")


@cache.command("clear")
@reports_errors
def cache_clear() -> None:
    """Remove every cached clip; the next build synthesizes its speech again.

    \b
    Example:
      voiceguide cache clear
    """
    from voiceguide.speechcache import clear

    removed = clear()
    click.echo(f"Removed {removed.files} clips ({removed.bytes / 1e6:.1f} MB) from {removed.folder}")


class _ProgressBar:
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

    def __enter__(self) -> _ProgressBar:
        if self._enabled:
            self._bar = click.progressbar(length=100, label="speech   ", file=sys.stderr).__enter__()
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
