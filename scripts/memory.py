"""Peak memory of `voiceguide preview` and `voiceguide build` against the number of exercises.

Each plan has N tiny exercises (one 1-second hold, no counting, short names), so that the figures
show what a session holds per exercise rather than per minute of audio. Every command runs in a
fresh process; the speech cache is shared between sizes (a warm build measures the session, not
the engine). Peak memory is the process's own maximum resident set, from getrusage. Run it with
scripts/memory [SIZE ...] (default 5 100 500: a few, and up to the most a plan may have).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

DEFAULT_SIZES = (5, 100, 500)

# Runs one command in this fresh process and reports its peak memory as JSON.
CHILD = r"""
import json, resource, sys
from click.testing import CliRunner
from voiceguide.cli.commands import main
result = CliRunner().invoke(main, sys.argv[1:])
print(json.dumps({"exit": result.exit_code, "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "error": result.stderr[-300:] if result.exit_code else ""}))
"""


def plan_text(exercises: int) -> str:
    """A plan of *exercises* tiny exercises."""
    lines = ["title: Many", "settings:", "  lead_in: 0", "  rest_between_exercises: 1", "  counting: none",
             "exercises:"]  # fmt: skip
    for number in range(1, exercises + 1):
        lines += [f"  - name: E{number}", "    hold: 1"]
    return "\n".join(lines) + "\n"


def run(*args: str, cache: Path) -> dict[str, object]:
    environment = dict(os.environ, VOICEGUIDE_CACHE_DIR=str(cache))
    done = subprocess.run(
        [sys.executable, "-c", CHILD, *args],
        capture_output=True,
        text=True,
        env=environment,
        check=True,
    )
    return json.loads(done.stdout.splitlines()[-1])  # type: ignore[no-any-return]


def main() -> None:
    sizes = [int(size) for size in sys.argv[1:]] or list(DEFAULT_SIZES)
    print(
        f"{'exercises':>9} {'preview MB':>10} {'build MB':>9}   (peak resident memory, one process each)"
    )
    with tempfile.TemporaryDirectory(prefix="vg-memory-") as folder:
        cache = Path(folder) / "cache"
        for size in sizes:
            plan = Path(folder) / f"plan-{size}.yaml"
            plan.write_text(plan_text(size))
            output = str(Path(folder) / f"session-{size}.mp3")
            preview = run("preview", str(plan), cache=cache)
            build = run("build", str(plan), "-o", output, "--force", "--no-sidecars", cache=cache)
            for name, figures in (("preview", preview), ("build", build)):
                if figures["exit"] != 0:
                    print(f"{size:>9} {name} exited {figures['exit']}: {figures['error']}")
            print(f"{size:>9} {preview['peak_mb']:>10.0f} {build['peak_mb']:>9.0f}", flush=True)


if __name__ == "__main__":
    main()
