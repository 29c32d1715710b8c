"""Where a session is written, checked before any work is done on it.

A build writes its session (or, split, a file per section and a playlist) and the files beside it
(captions, timeline, script), each under a temporary name in the same folder first (see export).
What would make one of those writes fail after the whole render is found here, while the user can
still choose another name: a folder that is missing, is a file, or cannot be written or entered;
a name longer than the file system takes; an extension that is not the format; a name taken by a
folder or a device. Every command that writes sessions checks its outputs here first.
"""

from __future__ import annotations

import os
import re
import stat
import tempfile
import unicodedata
from collections.abc import Iterator
from pathlib import Path

from voiceguide.common.errors import InputError, path_text
from voiceguide.common.replacing import fit_name, name_max
from voiceguide.output.formats import EXTENSIONS, FORMAT_NAMES, AudioFormat
from voiceguide.output.sidecars import SIDECARS

PLAYLIST = ".m3u"
FORMAT_LABELS = {
    AudioFormat.MP3: "MP3",
    AudioFormat.M4A: "M4A",
    AudioFormat.OPUS: "Ogg Opus",
    AudioFormat.WAV: "WAV",
}
KNOWN_EXTENSIONS = ".mp3, .m4a, .ogg, .opus or .wav"
NO_SIDECARS = "leave out the files beside it with --no-sidecars"


class OutputError(InputError):
    """The output (its folder or its name) cannot be written as given."""


def check_folder(folder: Path, *, shown: str | None = None, create: bool = False) -> None:
    """Sessions can be written in *folder* (shown to the user as *shown*): it is a folder (made
    here, if *create*), and a file can be made in it."""
    shown = path_text(shown if shown is not None else folder)
    limit = name_max(_nearest_existing(folder))
    for part in folder.parts:
        if len(os.fsencode(part)) > limit:
            raise OutputError(
                f"the folder name {path_text(part)} is {len(os.fsencode(part))} bytes long, more than the {limit} "
                "bytes a name may have; choose a shorter one with -o"
            )
    if create:
        try:
            folder.mkdir(exist_ok=True)
        except FileExistsError:
            pass  # (a file of that name: said below)
        except OSError as error:
            raise OutputError(
                f"cannot make the folder {shown} in {path_text(Path.cwd())}: {error.strerror or error}; run "
                "voiceguide from a folder you can write in, or choose where to write with -o"
            ) from None
    try:
        info = os.stat(folder)
    except FileNotFoundError:
        raise OutputError(
            f"the folder {shown} does not exist; create it (mkdir -p {shown}) or choose another with -o"
        ) from None
    except NotADirectoryError:
        blocker = next((p for p in _ancestors(folder) if _exists(p) and not is_folder(p)), folder)
        raise OutputError(
            f"{path_text(blocker)} is a file, not a folder; choose a folder with -o"
        ) from None
    except OSError as error:
        raise OutputError(
            f"cannot use the folder {shown}: {error.strerror or error}; choose another with -o"
        ) from None
    if not stat.S_ISDIR(info.st_mode):
        if create:
            raise OutputError(
                f"{shown} is a file, not a folder; move it away, or choose where to write with -o"
            )
        raise OutputError(f"{shown} is a file, not a folder; choose a folder with -o")
    _try_writing_in(folder, shown)


def check_files(
    output: Path, *, format_option: str | None, split: bool, sidecars: bool, shorter: str
) -> None:
    """Every file a build of *output* writes can be written under its name: *output* is a file (or
    nothing yet), its extension is the format's (*format_option*, as --format gives it), and each
    name fits the file system; *shorter* says how to get shorter names."""
    _check_extension(output, format_option)
    limit = name_max(output.parent)
    for path, what in _written(output, split=split, sidecars=sidecars):
        beside = what in SIDECARS.values()
        size = len(os.fsencode(path.name))
        if size > limit:
            raise OutputError(
                f"{_LEAD_INS.get(what, f'the {what} beside the session would be named')} {path_text(path.name)}, "
                f"{size} bytes long, more than the {limit} bytes a name may have; {shorter}"
                + (f", or {NO_SIDECARS}" if beside else "")
            )
        try:
            info = os.stat(path)
        except OSError:
            continue  # (nothing there yet: it is made in a folder already found writable)
        if stat.S_ISDIR(info.st_mode):
            whose = f"the session's {what}" if beside else f"the {what}"
            fix = (
                f"choose another name with -o, or {NO_SIDECARS}"
                if beside
                else "or choose another name"
            )
            raise OutputError(
                f"{path_text(path)} is a folder, where {whose} would be written; move it away, {fix}"
            )
        if not stat.S_ISREG(info.st_mode):
            raise OutputError(
                f"{path_text(path)} is not a regular file; voiceguide replaces the file it writes, so name a file "
                "(or a folder) with -o"
            )


def part_name(output: Path, number: int, title: str) -> str:
    """The file name of section *number* of a split session: `<output>-NN-<title>.<ext>`, its title
    shortened (or left out) so that the name fits the folder."""
    limit = name_max(output.parent)
    base = f"{output.stem}-{number:02d}"
    slug = fit_name(_slug(title), limit - len(os.fsencode(base + output.suffix)) - 1)
    return f"{base}-{slug}{output.suffix}" if slug else f"{base}{output.suffix}"


def _check_extension(output: Path, format_option: str | None) -> None:
    suffix = output.suffix.lower()
    named = EXTENSIONS.get(suffix)
    if format_option is not None:
        chosen = FORMAT_NAMES[format_option.lower()]
        if named is not chosen:
            endings = " or ".join(ext for ext, fmt in EXTENSIONS.items() if fmt is chosen)
            fix = f"name the output {path_text(output.with_suffix('.' + format_option.lower()))}"
            if named is not None:
                fix += f", or leave out --format to write {FORMAT_LABELS[named]} as the name says"
            raise OutputError(
                f"{path_text(output)}: --format {format_option} writes {FORMAT_LABELS[chosen]}, whose files end in "
                f"{endings}; {fix}"
            )
    elif not suffix:
        shown = path_text(output)
        raise OutputError(
            f"{shown} has no extension; end the name with {KNOWN_EXTENSIONS}, or write {shown}/ for a folder"
        )
    elif named is None:
        raise OutputError(
            f"{path_text(output)}: voiceguide writes {KNOWN_EXTENSIONS} files; end the name with one of those"
        )


_LEAD_INS = {
    "session": "the session's file name would be",
    "parts": "the files of --split would be named like",
    "playlist": "the playlist of --split would be named",
}


def _written(output: Path, *, split: bool, sidecars: bool) -> Iterator[tuple[Path, str]]:
    """The files a build of *output* writes, with what each is; for a split session, the shortest
    name a part can have (part_name shortens its title to fit)."""
    if split:
        yield output.with_name(f"{output.stem}-99{output.suffix}"), "parts"
        yield output.with_suffix(PLAYLIST), "playlist"
    else:
        yield output, "session"
    if sidecars:
        for suffix, what in SIDECARS.items():
            yield output.with_suffix(suffix), what


def _try_writing_in(folder: Path, shown: str) -> None:
    """Make and remove a file in *folder*: the only sure test that it can be written and entered
    (permissions, read-only file systems, root's privileges and ACLs all have their say)."""
    try:
        handle, name = tempfile.mkstemp(dir=folder, prefix=".voiceguide-check-", suffix=".part")
    except OSError as error:
        raise OutputError(
            f"cannot write in {shown}: {error.strerror or error}; choose a folder you can write in with -o"
        ) from None
    os.close(handle)
    os.unlink(name)


def _slug(title: str) -> str:
    """A title as a safe file-name part: letters, digits and single dashes."""
    # Accents dropped ("Přitahování" is "pritahovani"), other letters kept ("Füße" is "fuße").
    plain = "".join(
        c for c in unicodedata.normalize("NFKD", title.casefold()) if not unicodedata.combining(c)
    )
    return re.sub(r"[\W_]+", "-", plain).strip("-")[:40] or "part"


def _ancestors(folder: Path) -> list[Path]:
    return [*reversed(folder.parents), folder]


def _nearest_existing(folder: Path) -> Path:
    return next((p for p in reversed(_ancestors(folder)) if _exists(p)), Path("."))


def _exists(path: Path) -> bool:
    try:
        os.stat(path)
    except (OSError, ValueError):
        return False
    return True


def is_folder(path: Path) -> bool:
    try:
        return stat.S_ISDIR(os.stat(path).st_mode)
    except (OSError, ValueError):
        return False
