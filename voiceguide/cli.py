"""The command line: parse options, build the inputs, call the core, turn errors into exit codes."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import click

from voiceguide import __version__
from voiceguide.errors import PlanError, VoiceguideError
from voiceguide.loader import DEFAULT_PLAN, load_plan, shipped_plan_path
from voiceguide.plan import Plan

F = TypeVar("F", bound=Callable[..., Any])

DEFAULT_OUTPUT_DIR = Path("output")
EXIT_INTERRUPTED = 130


class Failure(click.ClickException):
    """A failure of the machinery (speech engine, ffmpeg, the disk) on its way out."""

    exit_code = 1


class InputFailure(Failure):
    """A mistake in the input (plan, option, file) on its way out."""

    exit_code = 2


def failure(message: str, exit_code: int) -> Failure:
    return InputFailure(message) if exit_code == InputFailure.exit_code else Failure(message)


def reports_errors(command: F) -> F:
    """Users see a message and an exit code for every failure, never a traceback."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except PlanError as error:
            count = len(error.problems)
            heading = "the plan has a problem:" if count == 1 else f"the plan has {count} problems:"
            raise failure("\n".join([heading, *(f"  {p}" for p in error.problems)]), error.exit_code) from None
        except VoiceguideError as error:
            raise failure(str(error), error.exit_code) from None
        except KeyboardInterrupt:
            click.echo("\nInterrupted; nothing was written.", err=True)
            sys.exit(EXIT_INTERRUPTED)

    return wrapper  # type: ignore[return-value]


plan_argument = click.argument("plan", required=False, type=click.Path(exists=True, dir_okay=False, path_type=Path))


def voice_options(command: F) -> F:
    command = click.option(
        "--rate", type=click.IntRange(60, 400), help="Speech rate in words per minute (plan's, else 150)."
    )(command)
    command = click.option("--voice", help="Voice id, name or language, as `voiceguide voices` lists them.")(command)
    return command


def _load(plan_path: Path | None) -> Plan:
    if plan_path is None:
        return load_plan(shipped_plan_path(), display_name=f"<default plan {DEFAULT_PLAN}>")
    return load_plan(plan_path, display_name=str(plan_path))


def _exercises(plan: Plan) -> str:
    count = len(plan.exercises)
    return f"{count} exercise{'s' if count != 1 else ''}"


def _settings(voice: str | None, rate: int | None) -> Any:
    from voiceguide.session import RenderSettings

    return RenderSettings(voice=voice, rate=rate)


def _warn_overruns(timeline: Any, source: str) -> None:
    from voiceguide.report import overrun_message

    for overrun in timeline.overruns:
        click.echo(f"warning: {overrun_message(overrun, source)}", err=True)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="voiceguide")
def main() -> None:
    """Turn an exercise plan written in YAML into a voice-guided MP3 session.

    \b
    Examples:
      voiceguide build                          # the default plan into output/
      voiceguide preview data/tabata.yaml       # the timed script, no audio
      voiceguide validate my-plan.yaml          # check a plan you wrote
    """


@main.command()
@plan_argument
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the MP3 (default: output/<plan name>.mp3).",
)
@voice_options
@reports_errors
def build(plan: Path | None, output: Path | None, voice: str | None, rate: int | None) -> None:
    """Render PLAN into an MP3 session (the default plan if none is given).

    An existing file at the output path is replaced only once the new session is complete.

    \b
    Examples:
      voiceguide build
      voiceguide build data/breathing-4-7-8.yaml -o breathing.mp3 --rate 130
    """
    from voiceguide.report import clock, length
    from voiceguide.session import build_session

    loaded = _load(plan)
    if output is None:
        DEFAULT_OUTPUT_DIR.mkdir(exist_ok=True)
        output = DEFAULT_OUTPUT_DIR / f"{Path(plan.name if plan else DEFAULT_PLAN).stem}.mp3"
    with _ProgressBar() as progress:
        result = build_session(plan=loaded, output=output, settings=_settings(voice, rate), progress=progress)
    _warn_overruns(result.timeline, loaded.source_name)
    total = result.timeline.total_ms
    click.echo(f"Wrote {output} ({clock(total)}, {length(total)}; {_exercises(loaded)})")


@main.command()
@plan_argument
@click.option("--json", "as_json", is_flag=True, help="Print the timeline as JSON instead of a table.")
@voice_options
@reports_errors
def preview(plan: Path | None, as_json: bool, voice: str | None, rate: int | None) -> None:
    """Show PLAN's timed script and total length without rendering audio.

    Speech is synthesized only to measure it, so the times are those of the real session.
    Phrases that do not fit their slot are reported on stderr.

    \b
    Examples:
      voiceguide preview data/feet-for-back-pain.yaml
      voiceguide preview my-plan.yaml --json > timeline.json
    """
    from voiceguide import report
    from voiceguide.session import preview as preview_timeline

    loaded = _load(plan)
    timeline = preview_timeline(plan=loaded, settings=_settings(voice, rate))
    click.echo(report.as_json(timeline) if as_json else report.table(timeline))
    _warn_overruns(timeline, loaded.source_name)


@main.command()
@plan_argument
@voice_options
@reports_errors
def validate(plan: Path | None, voice: str | None, rate: int | None) -> None:
    """Check PLAN: its fields, its voice, and that every phrase fits its slot.

    Prints each problem with its file, line and field. Exits 0 when the plan is good, 2 when not.

    \b
    Example:
      voiceguide validate my-plan.yaml
    """
    from voiceguide.report import length, overrun_message
    from voiceguide.session import preview as preview_timeline

    loaded = _load(plan)
    timeline = preview_timeline(plan=loaded, settings=_settings(voice, rate))
    if timeline.overruns:
        for overrun in timeline.overruns:
            click.echo(overrun_message(overrun, loaded.source_name), err=True)
        count = len(timeline.overruns)
        raise InputFailure(f"{count} phrase{'s' if count > 1 else ''} do not fit their slots")
    click.echo(f"{loaded.source_name}: OK, {_exercises(loaded)}, {length(timeline.total_ms)}")


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


class _ProgressBar:
    """One progress bar on stderr across all stages, when stderr is a terminal; silent otherwise."""

    # Rough shares of a build's time, so the bar moves evenly from start to end.
    STAGES: ClassVar[dict[str, tuple[int, int]]] = {"speech": (0, 30), "mixing": (30, 40), "encoding": (40, 100)}

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
