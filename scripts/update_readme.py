"""Re-run README.md's console examples and write what they print into it, in place.

For when behaviour changes on purpose (tests/test_readme.py fails until the README shows it). Each
example runs as the test runs it (tests/readme_examples.py): in a fresh folder, with a speech cache
of its own that starts empty. The author's `...` lines stay, and so do lines cut short with
`...` while they still match; changed lines are replaced, new ones added, vanished ones dropped.
Nothing is written if a command printed a traceback, or if the rewritten README would not match
what the commands printed. Review `git diff README.md` afterwards.

Usage: scripts/update-readme [TEXT ...]   (only the examples whose id, `README.md:LINE $ command`,
contains one of the TEXTs; all of them without)
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

import readme_examples as rx  # (it lives with the test that shares it)


def main(filters: list[str]) -> int:
    text = rx.README.read_text(encoding="utf-8")
    chosen = [e for e in rx.examples(text) if not filters or any(f in e.id for f in filters)]
    if not chosen:
        print(f"no example's id contains any of {filters}", file=sys.stderr)
        return 2
    outputs: dict[int, list[list[str]]] = {}
    with tempfile.TemporaryDirectory(prefix="vg-update-readme-") as work:
        for number, example in enumerate(chosen):
            folder = Path(work) / f"example-{number}"
            folder.mkdir()
            started = time.perf_counter()
            printed = rx.run_example(example, folder)
            for command, lines in zip(example.commands, printed, strict=True):
                if any(line.startswith("Traceback (most recent call last)") for line in lines):
                    print(
                        f"{example.id}: `{command.text}` crashed; README.md not changed:",
                        file=sys.stderr,
                    )
                    print("\n".join(lines), file=sys.stderr)
                    return 1
            same = all(
                rx.matches(c.shown, lines)
                for c, lines in zip(example.commands, printed, strict=True)
            )
            print(
                f"{example.id}: {'unchanged' if same else 'updated'} ({time.perf_counter() - started:.1f} s)"
            )
            outputs[example.line] = printed
    new = rx.rewritten(text, outputs)
    before, after = rx.examples(text), rx.examples(new)  # the same blocks, in the same order
    for old_example, new_example in zip(before, after, strict=True):
        printed = outputs.get(old_example.line)
        if printed is not None and not all(
            rx.matches(c.shown, lines)
            for c, lines in zip(new_example.commands, printed, strict=True)
        ):
            print(
                f"{old_example.id}: the rewritten example would not match; README.md not changed",
                file=sys.stderr,
            )
            return 1
    if new == text:
        print("README.md already shows what the examples print.")
        return 0
    temporary = rx.README.with_name(f".{rx.README.name}.update")
    temporary.write_text(new, encoding="utf-8")
    os.replace(temporary, rx.README)
    print("README.md updated; review it with: git diff README.md")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
