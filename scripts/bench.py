"""Benchmark: build generated sessions of about 15, 60 and 240 minutes and compare with ffmpeg.

For each size it prints the wall time of `voiceguide build` in a fresh process with an empty
speech cache (cold) and again with the cache filled (warm), the peak memory of the build, the
time of each stage, and the ratio to ffmpeg alone encoding the same audio with the same settings,
measured in the same run. Then the scaling from 15 to 240 minutes, and batch throughput on one
core against all of them. Run it with scripts/bench. scripts/bench --engines instead builds the
default session with each speech engine, cold and warm (see engines).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from voiceguide.build.session import available_cores
from voiceguide.common.externals import ffmpeg_path
from voiceguide.plans.loader import shipped_plan_path
from voiceguide.sound.engines import ENGINE_VARIABLE, ENGINES, load_engine

SIZES_MINUTES = (15, 60, 240)
TARGET_RATIO = 1.5
TARGET_SCALING = 17.0
TARGET_MEMORY_MB = 200
MEMORY_AT_MINUTES = 60
ENGINE_ROUNDS = 3
SPOKEN_BY_ESPEAK = {ENGINE_VARIABLE: "espeak"}
"""The sessions of sizes and batches are espeak-ng's, as they were before Piper (installed here
for --engines) would speak them; --engines names the engine of each build."""

# Runs one build in this fresh process and reports its stages and its peak memory as JSON.
CHILD = r"""
import json, resource, sys, time
started = time.perf_counter()
stages = {}
import dataclasses
from pathlib import Path
from voiceguide.plans.loader import load_plan
from voiceguide.build.session import RenderSettings, build_session
plan = load_plan(Path(sys.argv[1]))
engine, cores = (sys.argv[3], int(sys.argv[4])) if len(sys.argv) > 3 else (None, None)
if engine:
    plan = dataclasses.replace(plan, engine=engine)
stages["load"] = time.perf_counter() - started
marks = {}
def progress(stage, done, total):
    marks.setdefault(stage, time.perf_counter())
    marks[stage + " end"] = time.perf_counter()
clock = time.perf_counter()
result = build_session(
    plan=plan, output=Path(sys.argv[2]), settings=RenderSettings(allow_long=True), force=True,
    progress=progress, cores=cores,
)
end = time.perf_counter()
stages["speech"] = marks["timeline"] - clock
stages["timeline"] = marks["timeline end"] - marks["timeline"]
stages["assembly"] = marks["encoding"] - marks["timeline end"]
stages["encoding"] = end - marks["encoding"]
print(json.dumps({
    "seconds": end - started, "stages": stages, "total_ms": result.total_ms,
    "phrases": result.phrases,
    "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    "ffmpeg_peak_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
}))
"""


def plan_text(minutes: int) -> str:
    """A plan of about *minutes*: blocks of held reps, timed rounds and per-side work, each block
    with its own exercise names (new phrases to speak), as real plans have."""
    lines = ["title: Benchmark session", "settings:", "  rest_between_exercises: 10", "exercises:"]
    block_seconds = 205  # about what one block of three exercises lasts, announcements included
    for block in range(max(1, round(minutes * 60 / block_seconds))):
        lines += [
            f"  - name: Calf raises, block {block + 1}",
            "    instructions: Rise onto your toes and hold, then lower slowly.",
            "    reps: 6", "    hold: 4", "    reset: 3",
            f"  - name: Marching, block {block + 1}",
            "    work: 20", "    rest: 10", "    reps: 2", "    counting: last-3",
            f"  - name: Side stretch, block {block + 1}",
            "    hold: 15", "    sides: [left side, right side]", "    switch: 5", "    counting: last-3",
        ]  # fmt: skip
    return "\n".join(lines) + "\n"


def build(
    plan: Path, output: Path, cache: Path, engine: str | None = None, cores: int | None = None
) -> dict:
    environment = dict(os.environ, VOICEGUIDE_CACHE_DIR=str(cache), **SPOKEN_BY_ESPEAK)
    started = time.perf_counter()
    chosen = [engine or "", str(cores or available_cores())] if engine else []
    result = subprocess.run(
        [sys.executable, "-c", CHILD, str(plan), str(output), *chosen],
        env=environment,
        capture_output=True,
        text=True,
    )
    wall = time.perf_counter() - started
    if result.returncode != 0:
        sys.exit(f"build failed:\n{result.stderr}")
    report = json.loads(result.stdout.strip().splitlines()[-1])
    report["wall"] = wall
    return report


def ffmpeg_alone(pcm: Path, work: Path) -> float:
    """Seconds ffmpeg takes to encode the session's own samples (*pcm*) with the same settings."""
    started = time.perf_counter()
    subprocess.run(encode_alone(pcm, work / "alone.mp3"), check=True)
    return time.perf_counter() - started


def decoded(session: Path, work: Path) -> Path:
    pcm = work / f"{session.stem}.pcm"
    subprocess.run(
        [
            ffmpeg_path(),
            "-v",
            "error",
            "-y",
            "-i",
            str(session),
            "-f",
            "s16le",
            "-ac",
            "1",
            "-ar",
            "22050",
            str(pcm),
        ],
        check=True,
    )
    return pcm


def encode_alone(pcm: Path, output: Path) -> list[str]:
    return [ffmpeg_path(), "-v", "error", "-y", "-f", "s16le", "-ar", "22050", "-ac", "1", "-i", str(pcm),
            "-c:a", "libmp3lame", "-b:a", "64k", "-ar", "22050", "-f", "mp3", str(output)]  # fmt: skip


def machine_throughput(pcm: Path, work: Path, cores: int) -> float:
    """How much more ffmpeg alone encodes of *pcm* with every core than on one (pinned): what
    independent jobs gain from the cores on this machine, to set batch's figure against (a shared
    machine's virtual CPUs need not give twice the work of one)."""
    started = time.perf_counter()
    subprocess.run(encode_alone(pcm, work / "one.mp3"), check=True, preexec_fn=one_cpu())
    one = time.perf_counter() - started
    started = time.perf_counter()
    running = [subprocess.Popen(encode_alone(pcm, work / f"many-{n}.mp3")) for n in range(cores)]
    if any(process.wait() for process in running):
        sys.exit("ffmpeg failed")
    return cores * one / (time.perf_counter() - started)


def one_cpu() -> Callable[[], None] | None:
    """Something to run in a child before it starts that keeps it, and whatever it starts, on one CPU;
    None where that cannot be done (no sched_setaffinity outside Linux)."""
    if not hasattr(os, "sched_setaffinity"):
        return None
    cpu = min(os.sched_getaffinity(0))
    return lambda: os.sched_setaffinity(0, {cpu})


def batch_throughput(work: Path, plan: Path) -> tuple[float, float, int, bool]:
    """Seconds for a batch of 4 sessions on one core and on all of them, the number of cores, and
    whether the one-core run was really pinned to one CPU. `--jobs 1` alone is not one core: its
    ffmpeg encoder would run on another, so the one-core run and all its children are pinned."""
    profiles = work / "profiles"
    profiles.mkdir()
    for number in range(4):
        (profiles / f"person-{number}.yaml").write_text(
            f"name: Person {number}\nsettings:\n  rate: {140 + number}\n"
        )
    cores = available_cores()
    pin = one_cpu()
    times = []
    for jobs, preexec in ((1, pin), (cores, None)):
        cache = Path(tempfile.mkdtemp(dir=work))
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "voiceguide", "batch", str(plan), str(profiles), "-o", str(work),
             "--jobs", str(jobs), "--force", "--no-sidecars"],
            env=dict(os.environ, VOICEGUIDE_CACHE_DIR=str(cache), **SPOKEN_BY_ESPEAK),
            check=True, capture_output=True,
            preexec_fn=preexec,
        )  # fmt: skip
        times.append(time.perf_counter() - started)
    return times[0], times[1], cores, pin is not None


def engines(work: Path, rounds: int = ENGINE_ROUNDS) -> None:
    """The default session built by each engine: cold (an empty speech cache) on every core and on
    one (cores=1: no speech helpers, levelling in one ffmpeg), and warm; medians of *rounds*, the
    engines taking turns within each round. (Piper starts no helpers at all: its onnxruntime uses
    every core in one process, whatever cores says.)"""
    plan = shipped_plan_path()
    names = [name for name in ENGINES if load_engine(name).available()]
    cores = available_cores()
    times: dict[tuple[str, str], list[float]] = {}
    phrases = 0
    for round_ in range(rounds):
        for name in names:
            cache = work / f"engine-cache-{name}-{round_}"
            output = work / f"engine-{name}.mp3"
            for kind, used in (("cold", cores), ("warm", cores)):
                report = build(plan, output, cache, engine=name, cores=used)
                times.setdefault((name, kind), []).append(report["wall"])
            cold_one = build(plan, output, work / f"engine-one-{name}-{round_}", name, cores=1)
            times.setdefault((name, "cold1"), []).append(cold_one["wall"])
            phrases = report["phrases"]
    print(
        f"The default session ({phrases} phrases) by each engine, medians of {rounds} runs "
        "taking turns (s):"
    )
    print(
        f"  {'engine':<8} {'cold':>6} {'cold, one core':>14} {'warm':>6} {'every core gains':>16}"
    )
    for name in names:
        cold, one, warm = (statistics.median(times[name, k]) for k in ("cold", "cold1", "warm"))
        print(f"  {name:<8} {cold:>6.2f} {one:>14.2f} {warm:>6.2f} {one / cold:>15.2f}x")
    if len(names) > 1:
        first, *others = names
        for name in others:
            ratio = statistics.median(times[name, "warm"]) / statistics.median(times[first, "warm"])
            print(f"  a warm build with {name} takes {ratio:.2f}x the time of one with {first}")


def main() -> None:
    print(f"voiceguide benchmark on {available_cores()} cores, Python {sys.version.split()[0]}")
    print()
    if sys.argv[1:] == ["--engines"]:
        with tempfile.TemporaryDirectory(prefix="voiceguide-bench-") as scratch:
            engines(Path(scratch))
        return
    header = f"{'session':>9} {'cold s':>7} {'warm s':>7} {'ffmpeg s':>8} {'cold/ff':>7} {'warm/ff':>7} {'peak MB':>7}"
    print(header + "   stages of the cold build (s): load, speech, timeline, assembly, encoding")
    results = {}
    samples: dict[int, Path] = {}
    with tempfile.TemporaryDirectory(prefix="voiceguide-bench-") as scratch:
        work = Path(scratch)
        for minutes in SIZES_MINUTES:
            plan = work / f"plan-{minutes}.yaml"
            plan.write_text(plan_text(minutes))
            cache = work / f"cache-{minutes}"
            output = work / f"session-{minutes}.mp3"
            cold = build(plan, output, cache)
            warm = build(plan, output, cache)
            samples[minutes] = decoded(output, work)
            alone = ffmpeg_alone(samples[minutes], work)
            results[minutes] = (cold, warm, alone)
            stages = ", ".join(
                f"{cold['stages'][name]:.2f}"
                for name in ("load", "speech", "timeline", "assembly", "encoding")
            )
            print(
                f"{cold['total_ms'] / 60000:>7.1f} m {cold['wall']:>7.2f} {warm['wall']:>7.2f} {alone:>8.2f} "
                f"{cold['wall'] / alone:>7.2f} {warm['wall'] / alone:>7.2f} {cold['peak_mb']:>7.0f}   {stages}"
            )
        first, last = SIZES_MINUTES[0], SIZES_MINUTES[-1]
        scaling = results[last][0]["wall"] / results[first][0]["wall"]
        length_ratio = results[last][0]["total_ms"] / results[first][0]["total_ms"]
        one, many, cores, pinned = batch_throughput(work, work / f"plan-{first}.yaml")
        reference = machine_throughput(samples[first], work, cores)
    print()
    ratio = results[first][0]["wall"] / results[first][2]
    memory = results[MEMORY_AT_MINUTES][0]["peak_mb"]
    print(
        f"{first}-minute build, cold, against ffmpeg alone: {ratio:.2f}x (target at most {TARGET_RATIO}x)"
    )
    print(
        f"{last}-minute build against the {first}-minute one: {scaling:.1f}x the time "
        f"for {length_ratio:.1f}x the length (target at most {TARGET_SCALING:g}x)"
    )
    print(
        f"peak memory of the {MEMORY_AT_MINUTES}-minute build: {memory:.0f} MB (target at most {TARGET_MEMORY_MB} MB)"
    )
    how = (
        "1 core (pinned)"
        if pinned
        else "1 job (not pinned: this system cannot pin a process to one CPU)"
    )
    print(
        f"batch of 4 {first}-minute sessions, cold: {one:.1f} s on {how}, {many:.1f} s on {cores} cores "
        f"(--jobs {cores}): {one / many:.2f}x the throughput"
    )
    print(
        f"  for reference, ffmpeg alone encoding {cores} of them at once: "
        f"{reference:.2f}x the throughput of one (pinned)"
    )


if __name__ == "__main__":
    main()
