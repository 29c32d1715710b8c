"""docs/serve.png: `voiceguide serve` over a copy of the shipped profiles, the shipped plan opened
for the older patient, one value changed (so the preview shows its source), then the page as a
desktop browser shows it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1]
OUTPUT = ROOT / "docs" / "serve.png"
VIEWPORT = {"width": 1200, "height": 760}


def main() -> None:
    chromium = (
        os.environ.get("VOICEGUIDE_CHROMIUM")
        or shutil.which("chromium")
        or shutil.which("chromium-browser")
    )
    if not chromium:
        sys.exit("no Chromium: apt-get install chromium, or name one in VOICEGUIDE_CHROMIUM")
    with tempfile.TemporaryDirectory() as folder:
        profiles = Path(folder) / "profiles"
        shutil.copytree(ROOT / "data" / "profiles", profiles)
        server = subprocess.Popen(
            [sys.executable, "-m", "voiceguide", "serve", "--port", "0", "--no-browser",
             "--profiles", str(profiles), "-o", str(Path(folder) / "output")],
            stdout=subprocess.PIPE, text=True, cwd=folder,
        )  # fmt: skip
        try:
            assert server.stdout is not None
            line = server.stdout.readline()
            address = line[line.index("http://") :].strip()
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=chromium)
                page = browser.new_page(viewport=VIEWPORT)
                page.goto(f"{address}?plan=feet-for-back-pain&profile=older-patient")
                page.fill('[name="exercise.0.hold"]', "4")
                page.wait_for_function(
                    "document.getElementById('profile').dataset.state === 'checked'"
                    " && document.getElementById('total').dataset.ms",
                    timeout=600_000,
                )
                page.evaluate("window.scrollTo(0, 0)")
                page.locator("fieldset.exercise").first.scroll_into_view_if_needed()
                page.screenshot(path=str(OUTPUT))
                browser.close()
        finally:
            server.terminate()
            server.wait()
    print(f"wrote {OUTPUT.relative_to(ROOT)} ({OUTPUT.stat().st_size:,} bytes)")


if __name__ == "__main__":
    main()
