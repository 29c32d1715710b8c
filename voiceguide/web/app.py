"""The web application: the page (rendered here, from the settings table), and the requests its
script makes: check and preview the form, save the profile, build, the queue, the files built.

Every value goes through the command line's own checks (checking.py); every mistake is a 4xx
answer with a message, said beside its field where it has one; nothing a request holds reaches a
traceback or outside the folders (folders.py).
"""

from __future__ import annotations

import functools
import ipaddress
import secrets
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask, Response, abort, jsonify, render_template, request, send_from_directory
from werkzeug.datastructures import FileStorage
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from voiceguide import __version__
from voiceguide.build.naming import session_name
from voiceguide.build.session import RenderSettings
from voiceguide.common.errors import InputError, PlanError, VoiceguideError, path_text
from voiceguide.common.replacing import replace_whole
from voiceguide.plans.customize import Customized, customize
from voiceguide.plans.plan import Plan
from voiceguide.plans.profile import load_profile
from voiceguide.plans.yamlsource import MAX_FILE_BYTES
from voiceguide.web.building import Build, Builds, Session, State
from voiceguide.web.checking import Checked, Previewer, check, read_plan
from voiceguide.web.document import Document
from voiceguide.web.folders import (
    Folders,
    checked_name,
    inside,
    plan_files,
    plan_path,
    profile_path,
    yaml_files,
)
from voiceguide.web.form import FormField, Group, every_field, groups_for

MAX_MUSIC_BYTES = 100 * 2**20
"""The largest music file the page takes (an hour of 192 kbit/s MP3 is 86 MB)."""
MUSIC_SUFFIXES = (".mp3", ".m4a", ".aac", ".ogg", ".opus", ".wav", ".flac")
MAX_WEEKS = 104
MAX_WEEK = 520
SIDECAR_SUFFIXES = (".mp3", ".html", ".vtt", ".json", ".txt", ".m3u")
"""The files of a session the page offers, those there are (the player page where it is made)."""
HEADER = "X-Voiceguide"
"""Sent by the page's script with every change: a page of another site cannot send it (browsers
ask first, and this server never says yes), so it cannot make this one save or build."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Opened:
    """A plan and a profile, as the page shows them."""

    plan_name: str
    plan_path: Path
    plan: Plan
    profile_name: str
    profile_path: Path
    document: Document
    groups: tuple[Group, ...]
    fields: dict[str, FormField]


def create_app(folders: Folders, *, builds_at_once: int = 1) -> Flask:
    app = Flask(__name__)
    app.config.update(
        MAX_CONTENT_LENGTH=MAX_MUSIC_BYTES + 2**20,
        MAX_FORM_MEMORY_SIZE=2 * MAX_FILE_BYTES,
        MAX_FORM_PARTS=20_000,
    )
    builds = Builds(at_once=builds_at_once, work_folder=folders.output / ".voiceguide-serve")
    previewer = Previewer()
    app.extensions["voiceguide.builds"] = builds
    app.extensions["voiceguide.previewer"] = previewer

    def opened(plan_value: object, profile_value: object, *, defaults: bool = False) -> Opened:
        """The plan and profile named; with *defaults*, the first plan and a new profile where
        none is named (the page's first opening)."""
        names = plan_files(folders)
        if not names:
            raise InputError(
                f"there are no plans (.yaml files) in {', '.join(map(str, folders.plans))}"
            )
        plan_name = checked_name(plan_value or (next(iter(names)) if defaults else ""), what="plan")
        path = plan_path(folders, plan_name)
        plan = read_plan(path)
        own = customize(plan=plan)
        groups = groups_for(plan, own)
        profile_name = checked_name(
            profile_value or ("new-person" if defaults else ""), what="profile"
        )
        profile = profile_path(folders, profile_name)
        return Opened(
            plan_name=plan_name, plan_path=path, plan=plan, profile_name=profile_name,
            profile_path=profile, document=Document.read(profile), groups=groups,
            fields=every_field(groups),
        )  # fmt: skip

    def from_form() -> tuple[Opened, Checked, int | None]:
        """The plan and profile the form names, its values applied and checked; the week."""
        form = request.form
        found = opened(form.get("plan"), form.get("profile"))
        field_errors: dict[str, list[str]] = {}
        voice, voice_field = form.get("settings.voice", ""), found.fields.get("settings.voice")
        if (
            voice_field
            and voice.strip() != found.document.shown(voice_field).strip()
            and (any(sign in voice for sign in ("/", "\\")) or voice.strip().endswith(".onnx"))
        ):  # (a profile written by hand may name a voice's file; the page's users may not)
            field_errors["settings.voice"] = [
                "the page takes an installed voice (the list offers them), not a file's path"
            ]
        for field_id, field in found.fields.items():
            if field_id in form and field_id not in field_errors:
                try:
                    found.document.change(field, form[field_id])
                except InputError as error:
                    field_errors.setdefault(field_id, []).append(str(error))
        week = _number(form.get("week"), "week", 1, MAX_WEEK, field_errors)
        checked = check(
            plan=found.plan, document=found.document, fields=found.fields,
            file_name=found.profile_path.name, week=week,
        )  # fmt: skip
        for field_id, messages in field_errors.items():
            checked.errors.setdefault(field_id, []).extend(messages)
        return found, checked, week

    def answer_checked(found: Opened, checked: Checked, status: int = 200) -> Response:
        effective = {}
        if checked.customized is not None:
            rows = {row.target: row for row in checked.customized.explanation}
            for field_id, field in found.fields.items():
                row = rows.get(field.target or "")
                if row is not None:
                    effective[field_id] = {"value": row.value, "source": row.source}
        body: dict[str, Any] = {
            "ok": checked.ok,
            "errors": checked.errors,
            "problems": checked.general,
            "effective": effective,
            "profile": found.document.text(),
        }
        return _json(body, status)

    @app.before_request
    def refuse_other_sites() -> None:
        if not _own_host(request.host):
            abort(
                403,
                description=f"this page answers to this machine's address or name, not "
                f"{request.host[:100]!r}: open it at the address voiceguide serve printed",
            )
        if request.method == "POST" and request.headers.get(HEADER) != "1":
            abort(403, description=f"a change needs the page's own header ({HEADER}); use the page")

    @app.get("/")
    def page() -> Any:
        found = opened(request.args.get("plan"), request.args.get("profile"), defaults=True)
        return render_template(
            "page.html",
            found=found,
            values=found.document.values(found.fields),
            plans=sorted(plan_files(folders)),
            profiles=sorted(yaml_files(folders.profiles)),
            exists=found.profile_path.exists(),
            can_upload=folders.uploads is not None,
            suggestions={"settings.voice": previewer.voices()},
            version=__version__,
            max_music_mb=MAX_MUSIC_BYTES // 2**20,
            max_weeks=MAX_WEEKS,
        )

    @app.post("/api/check")
    def check_form() -> Response:
        """The form's values checked, the effective values and, when all is well, the timed
        script and the session's length (speech measured, no audio made)."""
        found, checked, week = from_form()
        response = answer_checked(found, checked)
        if checked.ok and checked.customized is not None:
            body = response.get_json()
            try:
                shown = previewer(
                    checked.customized,
                    key=(str(found.plan_path), found.plan_path.stat().st_mtime_ns,
                         found.document.text(), week),
                )  # fmt: skip
            except VoiceguideError as error:
                body["ok"] = False
                field = next((f"settings.{name}" for name in ("voice", "engine")
                              if f"no {name} " in error.report()), None)  # fmt: skip
                if field:
                    body["errors"].setdefault(field, []).append(error.report())
                else:
                    body["problems"].append(error.report())
                return _json(body, 200)
            body["preview"] = {
                "table": shown.table, "effective": shown.effective, "total": shown.total,
                "total_ms": shown.total_ms, "overruns": list(shown.overruns),
                "speaker": shown.speaker,
            }  # fmt: skip
            return _json(body, 200)
        return response

    @app.post("/api/save")
    def save() -> Response:
        found, checked, _ = from_form()
        if not checked.ok:
            return answer_checked(found, checked, 422)
        _write_profile(found)
        body = answer_checked(found, checked).get_json()
        body["saved"] = found.profile_path.name
        return _json(body, 200)

    @app.post("/api/build")
    def build() -> Response:
        found, checked, week = from_form()
        weeks = _number(request.form.get("weeks"), "weeks", 1, MAX_WEEKS, checked.errors)
        if request.form.get("program") and weeks is None and "weeks" not in checked.errors:
            checked.errors["weeks"] = [f"how many weeks? A whole number from 1 to {MAX_WEEKS}"]
        if not checked.ok or checked.customized is None or checked.errors:
            return answer_checked(found, checked, 422)
        music_upload = _music_upload()
        _write_profile(found)
        layer = load_profile(found.profile_path, display_name=found.profile_path.name)
        made: list[Customized] = (
            [customize(plan=found.plan, layers=[layer], week=n) for n in range(1, weeks + 1)]
            if weeks
            else [customize(plan=found.plan, layers=[layer], week=week)]
        )
        folders.output.mkdir(parents=True, exist_ok=True)
        sessions = tuple(
            Session(
                label=f"week {c.plan.week}" if weeks else c.plan.title,
                plan=c.plan,
                output=folders.output
                / f"{session_name(found.plan_path, found.profile_name, c)}.mp3",
                person=c.person,
                explanation=c.explanation,
            )
            for c in made
        )
        title = f"{found.plan_name}, {found.profile_name}" + (
            f", weeks 1 to {weeks}" if weeks else (f", week {week}" if week else "")
        )
        music = _saved_music(music_upload, found.profile_name) if music_upload else None
        try:
            queued = builds.add(
                profile=found.profile_name, title=title, sessions=sessions,
                settings=RenderSettings(music=music), leftovers=(music,) if music else (),
            )  # fmt: skip
        except InputError:
            if music is not None:
                music.unlink(missing_ok=True)
            raise
        return _json({"ok": True, "build": _build_json(builds, queued)}, 202)

    @app.get("/api/builds")
    def queue() -> Response:
        return _json(
            {
                "at_once": builds.at_once,
                "builds": [_build_json(builds, b) for b in builds.snapshot()],
            }
        )

    @app.post("/api/plans")
    def upload_plan() -> Response:
        """A plan file, checked as `validate` checks it, added to the plans folder."""
        request.max_content_length = MAX_FILE_BYTES + 64 * 2**10
        if folders.uploads is None:
            raise InputError(
                "this page shows the shipped plans only: start it with --plans FOLDER to add plans"
            )
        upload = request.files.get("plan")
        if upload is None or not upload.filename:
            raise InputError("choose a plan file (.yaml) to add")
        name = checked_name(Path(upload.filename).name, what="plan")
        raw = upload.stream.read(MAX_FILE_BYTES + 1)
        if len(raw) > MAX_FILE_BYTES:
            raise InputError(f"the plan is over {MAX_FILE_BYTES:,} bytes; plans are smaller")
        target = inside(folders.uploads, name)
        if name in plan_files(folders):
            raise InputError(f"there is a plan {name!r} already; rename the file")
        from voiceguide.plans.loader import load_plan_text

        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise InputError(f"{name}.yaml is not UTF-8 text; save it as UTF-8") from None
        load_plan_text(text, display_name=f"{name}.yaml")
        folders.uploads.mkdir(parents=True, exist_ok=True)
        replace_whole(target, raw)
        return _json({"ok": True, "plan": name}, 201)

    @app.get("/sessions/<path:name>")
    def session_file(name: str) -> Response:
        if (
            "/" in name
            or "\\" in name
            or name.startswith(".")
            or Path(name).suffix not in (*SIDECAR_SUFFIXES,)
        ):
            abort(404, description="no such session file")
        return send_from_directory(folders.output.resolve(), name, max_age=0)

    @app.errorhandler(PlanError)
    def plan_error(error: PlanError) -> Response:
        return _error(error.report(), 422, problems=error.problems)

    @app.errorhandler(InputError)
    def input_error(error: InputError) -> Response:
        return _error(error.report(), 400)

    @app.errorhandler(VoiceguideError)
    def failure(error: VoiceguideError) -> Response:
        return _error(error.report(), 500 if not isinstance(error, InputError) else 400)

    @app.errorhandler(RequestEntityTooLarge)
    def too_large(error: RequestEntityTooLarge) -> Response:
        limit = request.max_content_length or MAX_MUSIC_BYTES
        return _error(f"the upload is too large: at most {limit // 2**10:,} KiB", 413)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Response:
        return _error(error.description or error.name, error.code or 400)

    @app.errorhandler(Exception)
    def unexpected(error: Exception) -> Response:
        app.logger.exception("unexpected error")
        return _error(f"something went wrong: {type(error).__name__}: {error}", 500)

    def _write_profile(found: Opened) -> None:
        text = found.document.text() or "{}\n"
        found.profile_path.parent.mkdir(parents=True, exist_ok=True)
        replace_whole(found.profile_path, text.encode("utf-8"))

    def _music_upload() -> FileStorage | None:
        """The music sent with a build, if any, checked before anything is saved."""
        upload = request.files.get("music")
        if upload is None or not upload.filename:
            return None
        if Path(upload.filename).suffix.lower() not in MUSIC_SUFFIXES:
            raise InputError(f"music is an audio file: {', '.join(MUSIC_SUFFIXES)}")
        return upload

    def _saved_music(upload: FileStorage, profile: str) -> Path:
        """Kept for its build (and removed once the build is done)."""
        folder = folders.output / ".voiceguide-serve" / "music"
        folder.mkdir(parents=True, exist_ok=True)
        suffix = Path(upload.filename or "").suffix.lower()
        target = inside(folder, f"{secrets.token_hex(8)}", suffix)
        upload.save(target)
        return target

    return app


def _own_host(host: str) -> bool:
    """Whether *host* (the request's Host, with its port) names this machine: an address, or
    localhost, or the machine's own name. A page of another site whose name was pointed at this
    machine (DNS rebinding) names that site, and is refused."""
    name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    name = name.strip("[]").rstrip(".").casefold()
    try:
        ipaddress.ip_address(name)
        return True
    except ValueError:
        pass
    return name in _own_names()


@functools.cache
def _own_names() -> frozenset[str]:
    names = {"localhost", socket.gethostname(), socket.getfqdn()}
    names |= {f"{socket.gethostname()}.local"}
    return frozenset(n.casefold() for n in names if n)


def _number(
    value: object, name: str, least: int, most: int, errors: dict[str, list[str]]
) -> int | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    text = str(value).strip()
    if not text.isdigit() or not least <= int(text[:12]) <= most:
        errors.setdefault(name, []).append(
            f"expected a whole number from {least} to {most}, found {text[:20]!r}"
        )
        return None
    return int(text)


def _build_json(builds: Builds, build: Build) -> dict[str, Any]:
    percent = build.progress()  # (first: it reads the stage the worker is at)
    files = []
    if build.state is State.DONE:
        for output in build.outputs:
            for suffix in SIDECAR_SUFFIXES:
                candidate = output.with_suffix(suffix)
                if candidate.is_file():
                    files.append({"name": candidate.name, "url": f"sessions/{candidate.name}"})
    return {
        "id": build.id,
        "profile": build.profile,
        "title": build.title,
        "state": build.state.value,
        "position": builds.position(build),
        "sessions": len(build.sessions),
        "done": build.done,
        "stage": build.stage,
        "percent": percent,
        "message": build.message,
        "files": files,
        "outputs": [path_text(p.name) for p in build.outputs],
    }


def _json(body: dict[str, Any], status: int = 200) -> Response:
    response = jsonify(body)
    response.status_code = status
    return response


def _error(message: str, status: int, **extra: Any) -> Response:
    if request.path.startswith("/api/"):
        return _json({"ok": False, "error": message, **extra}, status)
    html = render_template("error.html", message=message, status=status)
    return Response(html, status=status, mimetype="text/html")
