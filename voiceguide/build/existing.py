"""What a build finds at its output before it starts: whether the session there is up to date
(its fingerprint), the temporary files a build killed outright left, and which of its files are
there. `build` and `batch` both ask up_to_date, so that they skip the same sessions."""

from __future__ import annotations

import contextlib
import dataclasses
import glob
import hashlib
import json
import stat
from pathlib import Path

from voiceguide import __version__
from voiceguide.build.settings import RenderSettings, not_regular
from voiceguide.build.speaking import with_speaker
from voiceguide.common.errors import SettingsError
from voiceguide.common.replacing import remove_stale_temporaries
from voiceguide.output.destination import PLAYLIST
from voiceguide.output.export import Stamp, read_stamp
from voiceguide.output.sidecars import SIDECARS, digest_on_disk
from voiceguide.plans.plan import Plan
from voiceguide.sound.ownsounds import SOUNDS, content_digest


def fingerprint(plan: Plan, settings: RenderSettings, person: str | None = None) -> str:
    """A digest of everything a session file is made from: the effective plan (after profile,
    options and week, with its engine and voice chosen: see speaking.with_speaker; its own sounds
    by their content), the person it is for, the render settings (and the music's content) and the
    voiceguide version."""
    plan = with_speaker(plan)
    made_from = dataclasses.asdict(dataclasses.replace(plan, source_name=""))
    for name in SOUNDS:
        sound = getattr(plan, name)
        # (a plan without sounds is made from what it was before there were any)
        if sound is None:
            del made_from[name]
        else:
            made_from[name] = content_digest(sound)
    content = {
        "person": person,
        "plan": made_from,
        "settings": {k: v for k, v in dataclasses.asdict(settings).items() if k != "allow_long"},
        "music": _file_digest(settings.music) if settings.music else None,
        "version": __version__,
    }
    return hashlib.sha256(json.dumps(content, sort_keys=True, default=str).encode()).hexdigest()


def _file_digest(path: Path) -> str:
    mode = path.stat().st_mode
    if not stat.S_ISREG(mode):
        # A device or FIFO may never end (/dev/zero) or block: music is a file of a known length.
        raise SettingsError(f"cannot use {path} as music: {not_regular(mode)}")
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while block := file.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def up_to_date(
    output: Path, *, plan: Plan, settings: RenderSettings, person: str | None = None
) -> Stamp | None:
    """The stamp of the session at *output* if it need not be built again: it is whole, was made
    from the same plan, settings, person and version, and has beside it the sidecars it was written
    with. (The parts of a split are always built again.)"""
    made_from = fingerprint(plan, settings, person)  # (first: it refuses music that is no file)
    if settings.split:
        return None
    existing = read_stamp(output)
    if existing is None or existing.fingerprint != made_from:
        return None
    if settings.sidecars and (
        existing.sidecars is None or existing.sidecars != digest_on_disk(output)
    ):
        return None
    return existing


def remove_leftovers(output: Path, *, split: bool) -> None:
    """Remove the temporary files that builds of *output* killed outright left beside it."""
    remove_stale_temporaries(output.parent, _file_patterns(output, split=split))


def files_state(output: Path, *, split: bool) -> frozenset[tuple[str, int, int]]:
    """Which files a build of *output* writes are there now, and which inode and modification time
    each has: a build that replaced any of them changes it."""
    found = set()
    for pattern in _file_patterns(output, split=split):
        for path in output.parent.glob(pattern):
            with contextlib.suppress(OSError):
                status = path.stat()
                found.add((path.name, status.st_ino, status.st_mtime_ns))
    return frozenset(found)


def earlier_parts(output: Path) -> set[Path]:
    """The parts a split of *output* wrote before, there now."""
    return {path for pattern in _parts_patterns(output) for path in output.parent.glob(pattern)}


def _file_patterns(output: Path, *, split: bool) -> list[str]:
    """Glob patterns of the files a build of *output* writes beside it: the session (or its parts and
    playlist) and the sidecars."""
    stem = glob.escape(output.stem)
    session = (
        [*_parts_patterns(output), f"{stem}{PLAYLIST}"] if split else [glob.escape(output.name)]
    )
    return [*session, *(stem + suffix for suffix in SIDECARS)]


def _parts_patterns(output: Path) -> list[str]:
    """Glob patterns of the parts a split of *output* writes (see destination.part_name)."""
    stem, suffix = glob.escape(output.stem), glob.escape(output.suffix)
    return [f"{stem}-[0-9][0-9]-*{suffix}", f"{stem}-[0-9][0-9]{suffix}"]
