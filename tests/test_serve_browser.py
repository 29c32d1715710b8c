"""`voiceguide serve` in a real browser: headless Chromium (Debian's `chromium`, which scripts/test
installs where it is missing, or the one VOICEGUIDE_CHROMIUM names) driven by Playwright, as the
session player's page is tested. A person fills in the form, sees the preview change, is told of a
wrong value beside its field, builds, plays the session in the page and downloads it; the
download, decoded, holds for exactly what the form asked.

Screenshots of the page (phone and desktop sizes) are left in the test's folder to look at.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import audio_measure as am
import pytest
from browsers import headless_chromium
from builders import QUICK, exercise_yaml, plan_yaml, write_plan
from serving import Server, start_server, stop_server

from voiceguide.build.session import RenderSettings
from voiceguide.script.timeline import Tone

"""Names the Chromium to test with; else `chromium` (Debian's) or `chromium-browser` on PATH."""
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
PLAN = plan_yaml(
    "Hands",
    exercise_yaml("Squeeze", "Squeeze your hand.", reps=2, hold=2, reset=3),
    exercise_yaml("Wave", "Wave.", work=3, sides="[left arm, right arm]"),
    **QUICK,
)
WAIT_MS = 300_000
"""For a preview or a build on a busy machine."""


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Headless Chromium, started once for this file."""
    with headless_chromium() as launched:
        yield launched


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    (tmp_path / "plans").mkdir()
    write_plan(tmp_path / "plans", PLAN, "hands.yaml")
    started = start_server(tmp_path)
    yield started
    stop_server(started)


def total_ms(page: Any) -> int:
    return int(page.get_attribute("#total", "data-ms") or -1)


def checked(page: Any) -> None:
    """Wait until the page's last change has been checked (and previewed, if it was right)."""
    page.wait_for_function("document.getElementById('profile').dataset.state === 'checked'",
                           timeout=WAIT_MS)  # fmt: skip


def field(page: Any, field_id: str) -> Any:
    return page.locator(f'[name="{field_id}"]')


@pytest.mark.audio
def test_a_person_tailors_builds_plays_and_downloads_a_session(
    browser: Any, server: Server, tmp_path: Path
) -> None:
    context = browser.new_context(viewport=DESKTOP, accept_downloads=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{server.address}?plan=hands&profile=eva")
    page.wait_for_function("document.getElementById('total').dataset.ms", timeout=WAIT_MS)
    planned = total_ms(page)
    assert page.locator("#p-exercise\\.0\\.hold").text_content() == "plan: 2 s"

    # A wrong value: said beside its field, the preview waits for it.
    field(page, "settings.rate").fill("fast")
    checked(page)
    problem = page.locator('[data-error-for="settings.rate"]')
    assert "expected a whole number from 60 to 400" in (problem.text_content() or "")
    assert field(page, "settings.rate").get_attribute("aria-invalid") == "true"
    field(page, "settings.rate").fill("")

    # The person's values: the preview follows, with where each value comes from.
    page.locator('[name="name"]').fill("Eva")
    field(page, "exercise.0.hold").fill("4")
    field(page, "exercise.0.reps").fill("3")
    field(page, "exercise.1.skip").select_option("true")
    checked(page)
    assert page.locator('[data-error-for="settings.rate"]').text_content() == ""
    effective = page.locator('[data-effective-for="exercise.0.hold"]').text_content() or ""
    assert effective.startswith("now: 4 s (eva.yaml:"), effective
    changed = total_ms(page)
    assert changed != planned
    script = page.locator("#script").text_content() or ""
    assert "--- Squeeze ---" in script and "--- Wave ---" not in script
    page.screenshot(path=str(tmp_path / "serve-desktop.png"), full_page=False)

    # Build: the queue shows it, then the session plays in the page.
    page.locator("#build").click()
    page.wait_for_selector("#queue li", timeout=WAIT_MS)
    page.wait_for_selector("#player:not([hidden])", timeout=WAIT_MS)
    page.wait_for_function("document.getElementById('audio').readyState >= 1", timeout=WAIT_MS)
    heard_s = page.evaluate("document.getElementById('audio').duration")
    assert heard_s == pytest.approx(changed / 1000, abs=0.1)
    assert "done" in (page.locator("#queue li").first.text_content() or "")
    saved = server.profiles / "eva.yaml"
    assert saved.read_text() == (
        "name: Eva\nexercises:\n  Squeeze:\n    reps: 3\n    hold: 4\n  Wave:\n    skip: true\n"
    )
    links = page.locator("#downloads a")
    names = [links.nth(n).text_content() for n in range(links.count())]
    assert {"hands-eva.mp3", "hands-eva.vtt", "hands-eva.json", "hands-eva.txt"} <= set(names)

    # Download it, decode it: three holds of four seconds.
    with page.expect_download() as download:
        page.locator("#downloads a", has_text="hands-eva.mp3").click()
    mp3 = tmp_path / "downloaded.mp3"
    download.value.save_as(mp3)
    rate = RenderSettings().sample_rate
    samples = am.decode(mp3, sample_rate=rate)
    starts = am.find_tones(samples, Tone.START, sample_rate=rate)
    ends = am.find_tones(samples, Tone.END, sample_rate=rate)
    holds = [min(e.onset_ms for e in ends if e.onset_ms > s.onset_ms) - s.onset_ms for s in starts]
    assert holds == pytest.approx([4000, 4000, 4000], abs=30), holds
    assert am.duration_ms(samples, rate) == pytest.approx(changed, abs=60)

    phone = browser.new_context(viewport=PHONE).new_page()
    phone.goto(f"{server.address}?plan=hands&profile=eva")
    phone.wait_for_function("document.getElementById('total').dataset.ms", timeout=WAIT_MS)
    assert phone.locator('[name="exercise.0.hold"]').input_value() == "4"
    phone.screenshot(path=str(tmp_path / "serve-phone.png"), full_page=True)
    assert errors == []
    context.close()
