"""The loudness of the files voiceguide writes: every shipped plan in every language and format.

Each session is built with the command line, as a user builds it, and the file it writes is decoded
and measured with ffmpeg's EBU R128 meter (integrated loudness, and the true peak at four times the
sample rate). It prints one row per plan and language, then the worst integrated deviation from the
target and the worst true peak of each format. Run it with scripts/loudness-matrix; --help for
options.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from voiceguide.common.externals import ffmpeg_path

DATA = Path(__file__).resolve().parent.parent / "data"
PLANS = ("feet-for-back-pain", "breathing-4-7-8", "hamstring-stretch", "pelvic-floor", "tabata")
LANGUAGES = ("en", "de", "cs", "es", "fr")
FORMATS = ("mp3", "m4a", "opus", "wav")
CEILING_DBTP = -1.0
TOLERANCE_LU = 0.3


def measure(path: Path) -> tuple[float, float]:
    """(integrated loudness in LUFS, true peak in dBTP) of the file at *path*, by ffmpeg's ebur128."""
    result = subprocess.run(
        [ffmpeg_path(), "-hide_banner", "-nostdin", "-nostats", "-i", str(path),
         "-af", "ebur128=peak=true:framelog=verbose", "-f", "null", "-"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    integrated = re.findall(r"I:\s+(-?\d+(?:\.\d+)?) LUFS", result.stderr)
    peak = re.findall(r"Peak:\s+(-?\d+(?:\.\d+)?|-inf) dBFS", result.stderr)
    if result.returncode != 0 or not integrated or not peak:
        sys.exit(f"ffmpeg could not measure {path}: {result.stderr[-500:]}")
    return float(integrated[-1]), float(peak[-1])


def build(plan: str, language: str, audio_format: str, target: float, output: Path) -> float:
    """Build one session with the command line into *output*; the seconds it took. (It runs in the
    output's folder, so that the voiceguide it runs is the installed one, or PYTHONPATH's.)"""
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "voiceguide", "build", str(DATA / f"{plan}.yaml"), "--language", language,
         "--format", audio_format, "--loudness", str(target), "-o", str(output), "--no-sidecars", "--force"],
        capture_output=True, text=True, check=False, cwd=output.parent,
    )  # fmt: skip
    if result.returncode != 0:
        sys.exit(
            f"voiceguide build failed for {plan} in {language} as {audio_format}:\n{result.stderr}"
        )
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--plans", nargs="+", default=PLANS, metavar="PLAN")
    parser.add_argument("--languages", nargs="+", default=LANGUAGES, metavar="CODE")
    parser.add_argument("--formats", nargs="+", default=FORMATS, metavar="FORMAT")
    parser.add_argument(
        "--loudness", type=float, default=-16.0, help="the target, LUFS (default -16)"
    )
    arguments = parser.parse_args()
    target = arguments.loudness
    print(f"integrated LUFS / true peak dBTP of each file; target {target:g} LUFS (within {TOLERANCE_LU} LU), "
          f"ceiling {CEILING_DBTP:g} dBTP; * outside")  # fmt: skip
    print(
        f"{'plan':<20} {'lang':<4}"
        + "".join(f"{name:>16}" for name in arguments.formats)
        + f"{'build s':>9}"
    )
    figures: dict[str, list[tuple[float, float, str]]] = {name: [] for name in arguments.formats}
    with tempfile.TemporaryDirectory(prefix="voiceguide-loudness-") as scratch:
        for plan in arguments.plans:
            for language in arguments.languages:
                cells, seconds = [], 0.0
                for audio_format in arguments.formats:
                    output = Path(scratch) / f"{plan}-{language}.{audio_format}"
                    seconds += build(plan, language, audio_format, target, output)
                    integrated, peak = measure(output)
                    output.unlink()
                    figures[audio_format].append((integrated, peak, f"{plan} {language}"))
                    bad = abs(integrated - target) > TOLERANCE_LU or peak > CEILING_DBTP
                    cells.append(f"{integrated:6.1f} /{peak:5.1f}{'*' if bad else ' '}")
                print(f"{plan:<20} {language:<4}" + "".join(f"{cell:>16}" for cell in cells) + f"{seconds:>9.1f}",
                      flush=True)  # fmt: skip
    print()
    print("worst per format:")
    for audio_format, rows in figures.items():
        deviation = max(rows, key=lambda row: abs(row[0] - target))
        peak = max(rows, key=lambda row: row[1])
        print(f"  {audio_format:<5} integrated {deviation[0] - target:+.1f} LU ({deviation[2]}), "
              f"true peak {peak[1]:.1f} dBTP ({peak[2]})")  # fmt: skip


if __name__ == "__main__":
    main()
