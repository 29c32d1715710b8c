"""Headless Chromium for the tests of pages (the player page, `voiceguide serve`): the system's
own, driven by Playwright (whose own browser download is not used). scripts/test installs Debian's
chromium where there is none; a missing browser fails the test, saying so, rather than skipping it."""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator
from typing import Any

import pytest

CHROMIUM_VARIABLE = "VOICEGUIDE_CHROMIUM"
"""Names another Chromium than the one on PATH."""


def chromium_path() -> str:
    found = os.environ.get(CHROMIUM_VARIABLE) or shutil.which("chromium")
    found = found or shutil.which("chromium-browser")
    if not found:
        pytest.fail(
            "no Chromium to test the page in: scripts/test installs Debian's chromium "
            f"(apt-get install chromium), or name one in {CHROMIUM_VARIABLE}"
        )
    return found


@contextlib.contextmanager
def headless_chromium() -> Iterator[Any]:
    """A launched browser (Playwright's Browser), closed at the end."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium_path())
        try:
            yield launched
        finally:
            launched.close()
