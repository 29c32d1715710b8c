"""Stress the speech engine: many short syntheses in parallel processes on a busy machine.

Each round starts LOAD processes that only burn CPU, then PROCESSES speaking processes at once.
Each speaking process makes PHRASES distinct phrases (nothing cached) the way voiceguide does,
and more: two synthesizers at a time, in two of English, Czech and German at different rates,
taking turns phrase by phrase (so the engine switches voice and rate before every phrase), then
two new ones (a new engine, the voices listed again), and so on; mostly short phrases, now and
then a long one. It checks that every clip has sound. A round is clean when every speaking process
exits 0 in time (see PHRASE_SECONDS) with every clip sounding. Run it with scripts/stress-speech.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import signal
import subprocess
import sys
import time

PHRASE_SECONDS = 0.5
"""A speaking process still running after this long a phrase (90 s at least) has hung: the round fails."""
PHRASES_PER_PAIR = 40
"""Phrases two synthesizers make between them before two new ones take over."""
TEMPLATES = {
    "en": ("{n}", "Rep {n} of {m}.", "Hold for {n} seconds, then release."),
    "cs": ("{n}", "Opakování {n} z {m}.", "Vydržte {n} sekund a pak povolte."),
    "de": ("{n}", "Wiederholung {n} von {m}.", "Halten Sie {n} Sekunden, dann loslassen."),
}
LONG = {
    "en": "Sit on the floor with your legs stretched out in front of you, and breathe in slowly. ",
    "cs": "Posaďte se na podlahu, nohy natažené před sebou, a pomalu se nadechněte. ",
    "de": "Setzen Sie sich mit ausgestreckten Beinen auf den Boden und atmen Sie langsam ein. ",
}
RATES = (150, 180, 130, 200)
MIN_RMS = 100
"""A clip quieter than this (about -50 dBFS) has no speech in it."""


def phrase(language: str, n: int) -> str:
    """The *n*th phrase in *language*: a number, a short sentence or a longer one; every tenth is long."""
    if n % 10 == 9:
        return LONG[language] * 3 + f"Rep {n}."
    templates = TEMPLATES[language]
    return templates[n % len(templates)].format(n=n, m=n + 7)


def speak_pair(seed: int, first: int, count: int) -> tuple[int, int]:
    """*count* phrases from number *first*, by two synthesizers taking turns; (made, silent)."""
    from voiceguide.sound.speech import Synthesizer

    languages = list(TEMPLATES)
    made = silent = 0
    settings = [
        (languages[(seed + first + k) % len(languages)], RATES[(seed + first + k) % len(RATES)])
        for k in (0, 1)
    ]
    # cache=None: every phrase is synthesized, and each synthesizer lists the voices again
    with (
        Synthesizer(
            voice=None, rate=settings[0][1], sample_rate=22_050, cache=None, language=settings[0][0]
        ) as one,
        Synthesizer(
            voice=None, rate=settings[1][1], sample_rate=22_050, cache=None, language=settings[1][0]
        ) as two,
    ):
        for n in range(first, first + count):
            synthesizer, (language, _) = (one, settings[0]) if n % 2 else (two, settings[1])
            clip = synthesizer.clip(phrase(language, seed * 100_000 + n))
            made += 1
            if len(clip) == 0 or clip.rms < MIN_RMS:
                silent += 1
    return made, silent


def worker(seed: int, count: int) -> None:
    """Make *count* distinct phrases, pair of synthesizers after pair, and print what was made."""
    import faulthandler

    faulthandler.enable()  # a crash shows where it happened, on stderr
    started = time.perf_counter()
    made = silent = 0
    for first in range(0, count, PHRASES_PER_PAIR):
        pair_made, pair_silent = speak_pair(seed, first, min(PHRASES_PER_PAIR, count - first))
        made, silent = made + pair_made, silent + pair_silent
        gc.collect()  # (the pair's engine goes now, and the next pair starts a new one)
    print(
        json.dumps({"made": made, "silent": silent, "seconds": time.perf_counter() - started}),
        flush=True,
    )


def burn() -> None:
    while True:
        pass


def run_round(number: int, *, processes: int, count: int, load: int) -> bool:
    """One round; prints its line and returns whether it was clean."""
    me = [sys.executable, os.path.abspath(__file__)]
    burners = [subprocess.Popen([*me, "--burn"]) for _ in range(load)]
    started = time.monotonic()
    deadline = started + max(90.0, count * PHRASE_SECONDS)
    try:
        workers = [
            subprocess.Popen(
                [*me, "--worker", str(number * processes + index), str(count)],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for index in range(processes)
        ]
        outcomes = []
        for process in workers:
            try:
                stdout, stderr = process.communicate(timeout=max(1.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                stdout, stderr = process.communicate()
                outcomes.append(("hung", stderr))
                continue
            if process.returncode < 0:
                outcomes.append((f"killed by {signal.Signals(-process.returncode).name}", stderr))
            elif process.returncode:
                outcomes.append((f"exit {process.returncode}", stderr))
            else:
                report = json.loads(stdout.splitlines()[-1])
                if report["made"] != count or report["silent"]:
                    outcomes.append(
                        (f"{report['silent']} silent clips of {report['made']}", stderr)
                    )
                else:
                    outcomes.append(("ok", ""))
    finally:
        for burner in burners:
            burner.kill()
            burner.wait()
    seconds = time.monotonic() - started
    failures = [(what, stderr) for what, stderr in outcomes if what != "ok"]
    summary = ", ".join(what for what, _ in outcomes)
    print(
        f"round {number}: {processes} processes x {count} phrases, {load} busy: {summary} ({seconds:.1f} s)"
    )
    for what, stderr in failures:
        print(f"  {what}:\n    " + "\n    ".join(stderr.strip().splitlines()[-25:]))
    sys.stdout.flush()
    return not failures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--processes", "-p", type=int, default=3, help="speaking processes per round (3)"
    )
    parser.add_argument("--rounds", "-r", type=int, default=5, help="rounds (5)")
    parser.add_argument(
        "--phrases", "-n", type=int, default=120, help="distinct phrases per process (120)"
    )
    parser.add_argument(
        "--load",
        "-l",
        type=int,
        default=os.cpu_count() or 1,
        help="CPU-burning processes (one a core)",
    )
    parser.add_argument("--worker", nargs=2, type=int, help=argparse.SUPPRESS)
    parser.add_argument("--burn", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.burn:
        burn()
    if args.worker:
        worker(*args.worker)
        return 0
    clean = sum(
        run_round(number, processes=args.processes, count=args.phrases, load=args.load)
        for number in range(1, args.rounds + 1)
    )
    print(f"{clean} of {args.rounds} rounds clean")
    return 0 if clean == args.rounds else 1


if __name__ == "__main__":
    sys.exit(main())
