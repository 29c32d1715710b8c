"""The command line: each command parses its options, builds the inputs and calls the core
(what the commands share is in support.py; how they end, in ending.py)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from voiceguide import __version__
from voiceguide.build.naming import plan_name, session_name
from voiceguide.cli.ending import Group, reports_errors
from voiceguide.cli.output import echo, flush_output
from voiceguide.cli.support import (
    MAX_OVERRUNS_SHOWN,
    ProgressBar,
    allow_long_option,
    chapters_of_result,
    check_outputs,
    counted,
    customized_plan,
    distinct_names,
    exercises_phrase,
    existing_file,
    extension_for,
    language_option,
    mebibytes,
    note_week_one,
    noting_written,
    output_folder,
    output_target,
    person_options,
    plan_argument,
    profile_files,
    render_options,
    render_settings,
    report_loudness,
    report_missing_translations,
    report_overruns,
    run_jobs,
    showing_speaker,
    warn_damaged_cache,
    warn_missing_translations,
    warn_temporary_cache,
)
from voiceguide.common.errors import CacheError, InputError, PlanError, path_text
from voiceguide.plans.values import Engine

if TYPE_CHECKING:
    from voiceguide.plans.customize import Customized


@click.group(
    cls=Group, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100}
)
@click.version_option(__version__, prog_name="voiceguide")
def main() -> None:
    """Turn an exercise plan written in YAML into a voice-guided MP3 session.

    \b
    Examples:
      voiceguide build                          # the default plan into output/
      voiceguide build --profile data/profiles/older-patient.yaml
      voiceguide preview data/tabata.yaml       # the timed script, no audio
      voiceguide validate my-plan.yaml          # check a plan you wrote
      voiceguide open output/feet-for-back-pain.mp3   # its player page, in a browser
    """


@main.command()
@plan_argument
@click.option(
    "-o",
    "--output",
    "output_option",
    type=click.Path(path_type=str),
    help="The file to write (its extension is its format), or a folder for it (default: output/).",
)
@person_options
@render_options
@click.option("--force", is_flag=True, help="Rebuild even if the file is up to date.")
@reports_errors
def build(
    plan: Path | None,
    output_option: str | None,
    profile: Path | None,
    sets: tuple[str, ...],
    voice: str | None,
    engine: str | None,
    rate: int | None,
    week: int | None,
    language: str | None,
    force: bool,
    **render: Any,
) -> None:
    """Render PLAN into a session file (the default plan if none is given).

    The file goes to output/<plan>[-<profile>][-<language>][-week-NN].mp3 unless -o says otherwise, with
    chapters, and captions (.vtt), the timeline (.json) and a printable script (.txt) beside it. The
    language is named when it is not the plan's own, however it was chosen; the week with --week, or
    week 1 of a progression when no --week is given. An existing file is replaced only once the new
    session is complete, and not at all if it was made from the same plan, profile, options and
    voiceguide version (--force rebuilds it).

    \b
    Examples:
      voiceguide build
      voiceguide build data/breathing-4-7-8.yaml -o breathing.m4a --rate 130
      voiceguide build --profile data/profiles/older-patient.yaml --set hold_scale=1.5
      voiceguide build --profile data/profiles/progression.yaml --week 3
      voiceguide build --language de
      voiceguide build --music calm.mp3 --music-level -10 --split
    """
    from voiceguide.build.session import build_session
    from voiceguide.common.clock import clock, length

    customized = customized_plan(
        plan,
        profile=profile,
        sets=sets,
        voice=voice,
        engine=engine,
        rate=rate,
        week=week,
        language=language,
    )
    folder, path = output_target(output_option)
    warn_missing_translations(customized)
    name = f"{session_name(plan, profile.stem if profile else None, customized)}{extension_for(render)}"
    output = path or folder / name
    check_outputs([output], render, shorter="choose a shorter name with -o")
    warn_temporary_cache()
    settings = render_settings(output, render)
    with noting_written([output], settings), ProgressBar() as progress:
        result = build_session(
            plan=customized.plan,
            output=output,
            settings=settings,
            person=customized.person,
            explanation=customized.explanation,
            force=force,
            progress=progress,
        )
    warn_damaged_cache(result.damaged_cache_entries)
    report_overruns(result.timeline, customized.plan.source_name)
    report_loudness(result.loudness_lufs, render["loudness"])
    total = f"{clock(result.total_ms)}, {length(result.total_ms)}; {exercises_phrase(len(customized.plan.exercises))}"
    if result.up_to_date:
        echo(
            f"Up to date: {path_text(output)} ({total}); nothing changed since it was written (--force rebuilds)"
        )
    elif render["split"]:
        parts = len(chapters_of_result(result))
        echo(
            f"Wrote {path_text(output.with_suffix('.m3u'))} ({total}; a playlist of {parts} files beside it)"
        )
    else:
        echo(f"Wrote {path_text(output)} ({total})")
    note_week_one(customized)


@main.command()
@plan_argument
@click.option(
    "--json", "as_json", is_flag=True, help="Print the timeline as JSON instead of a table."
)
@click.option(
    "--explain",
    is_flag=True,
    help="Say where each effective value comes from (plan, profile, option).",
)
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
    engine: str | None,
    rate: int | None,
    week: int | None,
    language: str | None,
) -> None:
    """Show PLAN's effective values, its timed script and total length, without rendering audio.

    Speech is synthesized only to measure it, so the times are those of the real session.
    Phrases that do not fit their slot are reported on stderr.

    \b
    Examples:
      voiceguide preview data/feet-for-back-pain.yaml
      voiceguide preview --profile data/profiles/left-side-rehab.yaml --explain
      voiceguide preview my-plan.yaml --json > timeline.json
      voiceguide preview --language cs
    """
    from voiceguide.build.session import RenderSettings
    from voiceguide.build.session import preview as preview_timeline
    from voiceguide.script import report

    customized = customized_plan(
        plan,
        profile=profile,
        sets=sets,
        voice=voice,
        engine=engine,
        rate=rate,
        week=week,
        language=language,
    )
    warn_missing_translations(customized)
    warn_temporary_cache()
    previewed = preview_timeline(
        plan=customized.plan, settings=RenderSettings(allow_long=allow_long)
    )
    warn_damaged_cache(previewed.damaged_cache_entries)
    timeline = previewed.timeline
    explanation = showing_speaker(customized.explanation, previewed)
    if as_json:
        echo(report.as_json(timeline, explanation))
    else:
        echo(report.effective_values(explanation, explain=explain))
        echo()
        echo(report.table(timeline))
    report_overruns(timeline, customized.plan.source_name)
    note_week_one(customized)


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
    engine: str | None,
    rate: int | None,
    week: int | None,
    language: str | None,
) -> None:
    """Check PLAN (and a profile and options, if given): fields, voice, and that every phrase fits.

    Prints each problem with its file, line and field. Exits 0 when all is good, 2 when not. It
    also lists the plan's texts that have no version in a language the plan is written in (or in
    --language), which are then spoken in the plan's own language.

    \b
    Examples:
      voiceguide validate my-plan.yaml
      voiceguide validate --profile data/profiles/older-patient.yaml
      voiceguide validate --language cs
    """
    from voiceguide.build.session import RenderSettings
    from voiceguide.build.session import preview as preview_timeline
    from voiceguide.common.clock import length

    customized = customized_plan(
        plan,
        profile=profile,
        sets=sets,
        voice=voice,
        engine=engine,
        rate=rate,
        week=week,
        language=language,
    )
    for line in report_missing_translations(customized, only_spoken=False):
        echo(line)
    warn_temporary_cache()
    previewed = preview_timeline(
        plan=customized.plan, settings=RenderSettings(allow_long=allow_long)
    )
    warn_damaged_cache(previewed.damaged_cache_entries)
    timeline = previewed.timeline
    source = customized.plan.source_name
    if timeline.overruns:
        from voiceguide.script.report import overrun_message

        count = len(timeline.overruns)
        lines = [
            overrun_message(overrun, source) for overrun in timeline.overruns[:MAX_OVERRUNS_SHOWN]
        ]
        if count > MAX_OVERRUNS_SHOWN:
            lines.append(f"... and {count - MAX_OVERRUNS_SHOWN} more")
        heading = f"{counted(count, 'phrase')} {'does not fit its slot' if count == 1 else 'do not fit their slots'}:"
        raise InputError("\n".join([heading, *(f"  {line}" for line in lines)]))
    echo(
        f"{source}: OK, {exercises_phrase(len(customized.plan.exercises))}, {length(timeline.total_ms)}"
    )
    note_week_one(customized)


@main.command()
@click.argument("plan", type=existing_file)
@click.option(
    "--weeks",
    type=click.IntRange(1, 104),
    required=True,
    help="How many weeks to make sessions for.",
)
@click.option(
    "-o",
    "--output-dir",
    type=click.Path(path_type=str),
    help="Folder for the sessions (default: output/).",
)
@click.option(
    "--profile", type=existing_file, help="A person's profile (YAML) applied over the plan."
)
@click.option(
    "--set", "sets", multiple=True, metavar="PATH=VALUE", help="Override one value (see build)."
)
@language_option
@render_options
@click.option("--force", is_flag=True, help="Rebuild sessions that are up to date.")
@reports_errors
def program(
    plan: Path,
    weeks: int,
    output_dir: str | None,
    profile: Path | None,
    sets: tuple[str, ...],
    language: str | None,
    force: bool,
    **render: Any,
) -> None:
    """Make one session per week of PLAN's progression, named so they sort in order.

    \b
    Example:
      voiceguide program data/feet-for-back-pain.yaml --weeks 6 --profile data/profiles/progression.yaml
      (writes output/feet-for-back-pain-progression-week-01.mp3 ... -week-06.mp3)
    """
    from voiceguide.build.batch import Job

    folder = output_folder(output_dir)
    jobs = []
    for week in range(1, weeks + 1):
        customized = customized_plan(
            plan, profile=profile, sets=sets, voice=None, rate=None, week=week, language=language
        )
        output = (
            folder
            / f"{session_name(plan, profile.stem if profile else None, customized)}{extension_for(render)}"
        )
        jobs.append(
            Job(
                label=f"week {week}",
                output=output,
                plan=customized.plan,
                person=customized.person,
                explanation=customized.explanation,
            )
        )
    check_outputs(
        [job.output for job in jobs], render, shorter="give the plan or profile a shorter file name"
    )
    run_jobs(
        jobs, settings=render_settings(folder / f"x{extension_for(render)}", render), force=force
    )


@main.command()
@click.argument("plan", type=existing_file)
@click.argument("profiles", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option(
    "-o",
    "--output-dir",
    type=click.Path(path_type=str),
    help="Folder for the sessions (default: output/).",
)
@click.option(
    "--week",
    type=click.IntRange(1, 520),
    help="Make every session for this week of its progression (without it, week 1 where there is one).",
)
@click.option(
    "--set", "sets", multiple=True, metavar="PATH=VALUE", help="Override one value for everyone."
)
@language_option
@click.option(
    "--jobs", type=click.IntRange(1, 64), help="Sessions built at once (default: one per core)."
)
@render_options
@click.option("--force", is_flag=True, help="Rebuild sessions that are up to date.")
@reports_errors
def batch(
    plan: Path,
    profiles: tuple[Path, ...],
    output_dir: str | None,
    week: int | None,
    sets: tuple[str, ...],
    language: str | None,
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
    from voiceguide.build.batch import Job

    folder = output_folder(output_dir)
    files = profile_files(profiles)
    names = distinct_names(files)
    work = []
    made: list[Customized] = []
    for profile in files:
        try:
            customized = customized_plan(
                plan,
                profile=profile,
                sets=sets,
                voice=None,
                rate=None,
                week=week,
                language=language,
            )
        except PlanError as error:
            if error.subject == "the plan":
                raise  # the plan itself is wrong: no profile can be built
            output = (
                folder / f"{plan_name(plan)}-{names[profile]}{extension_for(render)}"
            )  # (named, never built)
            work.append(Job(label=path_text(profile), output=output, error=error))
            continue
        output = folder / f"{session_name(plan, names[profile], customized)}{extension_for(render)}"
        made.append(customized)
        work.append(
            Job(
                label=path_text(profile),
                output=output,
                plan=customized.plan,
                person=customized.person,
                explanation=customized.explanation,
            )
        )
    to_build = [job.output for job in work if job.plan is not None]
    check_outputs(to_build, render, shorter="give the plan or profile a shorter file name")
    for customized in made:
        note_week_one(customized)
    run_jobs(
        work,
        settings=render_settings(folder / f"x{extension_for(render)}", render),
        force=force,
        workers=jobs,
    )


@main.command()
@click.option(
    "--language", metavar="CODE", help="Only the voices that speak this language (de, cs, ...)."
)
@click.option(
    "--engine",
    type=click.Choice([engine.value for engine in Engine]),
    help="Only this engine's voices.",
)
@reports_errors
def voices(language: str | None, engine: str | None) -> None:
    """List the installed voices of every speech engine, for --voice or a plan's `voice:`.

    Each with its engine, the languages it speaks, and its quality and the licence of its data where
    the voice declares them. A session that names no engine is spoken by Piper where a Piper voice
    for its language is installed, else by espeak.

    \b
    Examples:
      voiceguide voices
      voiceguide voices --language de
      voiceguide voices --engine piper
    """
    from voiceguide.sound.speech import every_voice, speaks, spoken_languages

    found, missing = every_voice([engine] if engine else None)
    if language is not None:
        code = language.strip().replace("_", "-").casefold()
        everything, found = found, [(name, v) for name, v in found if speaks(v, code)]
        if not found:
            raise InputError(
                f"no installed voice speaks {language!r}; of the languages voiceguide has phrases "
                f"in, the voices speak {spoken_languages([v for _, v in everything]) or 'none'}"
            )
    rows = [("engine", "id", "name", "languages", "quality", "licence", "gender")]
    rows += [
        (name, v.id, v.name, ", ".join(v.languages), v.quality or "", v.licence or "",
         v.gender or "")
        for name, v in sorted(found, key=lambda found: (found[0], found[1].id))
    ]  # fmt: skip
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    for row in rows:
        echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
    echo(counted(len(found), "voice"), err=True)
    for reason in missing:
        echo(f"note: {reason}", err=True)


@main.command("open")
@click.argument("session", type=click.Path(path_type=Path))
@reports_errors
def open_page(session: Path) -> None:
    """Open a session's player page in the default web browser.

    The page (SESSION's name ending in .html, written beside it by build) plays the session and
    shows the exercise, the part, what is said, the time left and what comes next; it needs no
    network, and works opened from the files on a phone too. The browser is the system's default,
    or the one the BROWSER environment variable names.

    \b
    Examples:
      voiceguide open output/feet-for-back-pain.mp3
      voiceguide open session.html
    """
    import webbrowser

    from voiceguide.common.errors import VoiceguideError
    from voiceguide.output.page import page_of

    page = page_of(session)
    if not webbrowser.open(page.resolve().as_uri()):
        raise VoiceguideError(
            f"no web browser could be started to open {path_text(page)}; open that file in one, "
            "or name a browser in the BROWSER environment variable"
        )
    echo(f"Opened {path_text(page)}")


SERVE_EXTRA = "pip install 'voiceguide[serve]'"
"""What installs what `serve` needs (in a source tree: pip install -e '.[serve]')."""


@main.command()
@click.option(
    "--plans",
    "plans_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="A folder of plans to choose from, where uploaded plans go too (default: the shipped plans).",
)
@click.option(
    "--profiles",
    "profiles_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("profiles"),
    show_default=True,
    help="The folder of people's profiles: the page reads and writes them there (made if need be).",
)
@click.option(
    "-o",
    "--output-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("output"),
    show_default=True,
    help="Folder for the sessions built.",
)
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="The address to listen on: 0.0.0.0 for every machine of the local network.",
)
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8765,
    show_default=True,
    help="The port to listen on (0: a free one, which it prints).",
)
@click.option(
    "--builds",
    type=click.IntRange(1, 16),
    default=1,
    show_default=True,
    help="Sessions built at once; more wait in a queue the page shows.",
)
@click.option("--no-browser", is_flag=True, help="Do not open the page in a browser.")
@reports_errors
def serve(
    plans_dir: Path | None,
    profiles_dir: Path,
    output_dir: Path,
    host: str,
    port: int,
    builds: int,
    no_browser: bool,
) -> None:
    """A web page to tailor a plan for a person and build the session, without writing YAML.

    Pick a plan, open or create a person's profile, change its values in a form (checked as the
    command line checks them), see the timed script and the session's length change, build, play
    and download the session, or the weeks of a progression. The profiles it saves are ordinary
    profile files in --profiles, which the command line reads too. It needs the serve extra:
    pip install 'voiceguide[serve]'.

    \b
    Examples:
      voiceguide serve --profiles clinic/profiles
      voiceguide serve --plans my-plans --profiles clinic/profiles --host 0.0.0.0 --port 8080
    """
    missing = [m for m in ("flask", "waitress", "ruamel.yaml") if not _installed(m)]
    if missing:
        raise InputError(
            f"voiceguide serve needs {', '.join(missing)}, which are not installed: {SERVE_EXTRA} "
            "(in a source tree: pip install -e '.[serve]')"
        )
    from voiceguide.output.destination import check_folder
    from voiceguide.plans.loader import shipped_plan_path
    from voiceguide.web.folders import Folders
    from voiceguide.web.server import serve as serve_page

    for folder in (profiles_dir, output_dir):
        check_folder(folder, create=True)
    if plans_dir is not None:
        check_folder(plans_dir)
    shipped = shipped_plan_path().parent
    folders = Folders(
        plans=(plans_dir,) if plans_dir is not None else (shipped,),
        uploads=plans_dir,
        profiles=profiles_dir,
        output=output_dir,
    )
    serve_page(
        folders=folders,
        host=host,
        port=port,
        open_browser=not no_browser,
        builds_at_once=builds,
        say=_said_now,
    )


def _said_now(line: str) -> None:
    """A line printed at once: the address is read while the server runs."""
    echo(line)
    flush_output()


def _installed(module: str) -> bool:
    import importlib.util

    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


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
    from voiceguide.sound.speechcache import MAX_BYTES, usage

    warn_temporary_cache()
    found = usage()
    limit = mebibytes(MAX_BYTES, decimals=0)
    echo(
        f"{path_text(found.folder)}: {counted(found.files, 'clip')}, {mebibytes(found.bytes)} of at most {limit}"
    )


@cache.command("clear")
@reports_errors
def cache_clear() -> None:
    """Remove every cached clip; the next build synthesizes its speech again.

    Exits 1, saying how many it could not remove and why, if some of them could not be.

    \b
    Example:
      voiceguide cache clear
    """
    from voiceguide.sound.speechcache import clear

    warn_temporary_cache()
    cleared = clear()
    removed = f"{counted(cleared.files, 'clip')} ({mebibytes(cleared.bytes)})"
    folder = path_text(cleared.folder)
    if cleared.failed:
        total = cleared.files + cleared.failed
        done = f"; removed {removed}" if cleared.files else ""
        raise CacheError(
            f"could not remove {cleared.failed} of {counted(total, 'clip')} from {folder}: "
            f"{cleared.reason}{done}. Check that you may change that folder (its owner and permissions)."
        )
    echo(f"Removed {removed} from {folder}")
