"""An ffmpeg older than any voiceguide supports on purpose, for testing on what distributions ship.

Ubuntu 22.04 ships ffmpeg 4.4 and Debian 12 5.1; neither can be installed beside the other here.
imageio-ffmpeg 0.4.5's wheel carries a static ffmpeg 4.2.2, older than both: what voiceguide does
with it, it does with them. The wheel is fetched from PyPI once and unpacked into the virtual
environment. Run as a script, this prints the folder holding it as `ffmpeg`, for a PATH.
"""

from __future__ import annotations

import platform
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

WHEEL = "imageio-ffmpeg==0.4.5"
BINARY = "imageio_ffmpeg/binaries/ffmpeg-linux64-v4.2.2"
VERSION = "4.2.2"
FOLDER = Path(sys.prefix) / "test-tools" / f"ffmpeg-{VERSION}"


def old_ffmpeg_folder() -> Path:
    """A folder with ffmpeg 4.2.2 in it, named `ffmpeg`, fetched on first use."""
    executable = FOLDER / "ffmpeg"
    if executable.exists():
        return FOLDER
    if sys.platform != "linux" or platform.machine() != "x86_64":
        raise RuntimeError(
            f"{WHEEL} has an ffmpeg for x86_64 Linux only, not {sys.platform} {platform.machine()}"
        )
    with tempfile.TemporaryDirectory() as download:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check", "--no-deps",
             "--only-binary=:all:", "--platform", "manylinux2010_x86_64", WHEEL, "-d", download],
            check=True,
        )  # fmt: skip
        (wheel,) = Path(download).glob("*.whl")
        FOLDER.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(wheel) as archive:
            partial = FOLDER / "ffmpeg.part"
            partial.write_bytes(archive.read(BINARY))
            partial.chmod(0o755)
            partial.replace(executable)
    return FOLDER


if __name__ == "__main__":
    print(old_ffmpeg_folder())
