"""The player page beside a session (`<name>.html`), in a real browser: headless Chromium (Debian's
`chromium`, which scripts/test installs where it is missing) driven by Playwright.

The page is loaded from the file system, with the browser's network off, beside the default
session the suite builds once (conftest.default_session); the pages of the other shipped plans are
read the same way, each beside a silent WAV of its length. What it shows at a moment is compared
with what the session's own timeline has there, worked out here from the Timeline object, apart
from the page's script: the part (a run of events of one phase, each timed interval on its own),
the exercise, the rep, the cue last spoken in the part, and the time left in a timed part.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import stat
import wave
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from browsers import headless_chromium
from builders import QUICK, SQUEEZE, plan_yaml, write_plan
from click.testing import CliRunner
from conftest import BuiltSession
from processes import finish, voiceguide

from voiceguide.cli.commands import main
from voiceguide.cli.support import customized_plan
from voiceguide.output.chapters import chapters_of
from voiceguide.output.page import Media, player_page
from voiceguide.plans.loader import load_plan_text
from voiceguide.script.timeline import (
    Event,
    EventKind,
    Interval,
    Phase,
    Timeline,
    Tone,
    Where,
    build_timeline,
)
from voiceguide.script.wording import PAGE_LABELS, Wording

DATA = Path(__file__).resolve().parent.parent / "data"
"""Names the Chromium to test with; else `chromium` (Debian's) or `chromium-browser` on PATH."""
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
TIMED = {Phase.LEAD_IN, Phase.HOLD, Phase.WORK, Phase.STEP, Phase.RESET, Phase.REST,
         Phase.SWITCH, Phase.TRANSITION}  # fmt: skip
TOLERANCE_S = 0.25
"""How far the countdown may be from the timeline's time left."""


# --- what the timeline has at a moment, worked out apart from the page ----------------------


@dataclass(frozen=True, slots=True)
class Part:
    start_ms: int
    end_ms: int
    phase: Phase
    last: Event
    """Its last event: where the part belongs (a rest to the rep it leads to)."""
    interval: Interval | None


def parts_of(timeline: Timeline) -> list[Part]:
    events = timeline.events
    cuts = {0} | {b.start_ms for a, b in pairwise(events) if a.phase is not b.phase}
    for interval in timeline.intervals:
        cuts |= {interval.start_ms, interval.end_ms}
    starts = sorted(cut for cut in cuts if cut < timeline.total_ms)
    parts = []
    for start, end in zip(starts, [*starts[1:], timeline.total_ms], strict=True):
        inside = [e for e in events if start <= e.start_ms < end]
        interval = next((i for i in timeline.intervals if i.start_ms <= start < i.end_ms), None)
        parts.append(Part(start, end, inside[0].phase, inside[-1], interval))
    return parts


def expected_at(
    timeline: Timeline, parts: list[Part], labels: dict[str, str], t_ms: float
) -> dict[str, Any]:
    """What the page should show at *t_ms*: part, exercise, where in it (set, side, rep...), cue,
    and the time left (seconds) in a timed part."""
    part = next(p for p in parts if p.start_ms <= t_ms < p.end_ms)
    if part.phase is Phase.STEP:
        label = part.interval.name if part.interval else ""
    else:
        label = {Phase.INTRO: labels["intro"], Phase.OUTRO: labels["outro"]}.get(
            part.phase, labels.get(part.phase.value.replace("-", "_"), "")
        )
    spoken = [
        e
        for e in timeline.events
        if e.kind is EventKind.SPEECH and part.start_ms <= e.start_ms <= t_ms
    ]
    where = part.last.where
    return {
        "part": label,
        "exercise": where.exercise or timeline.title,
        "where": where_items(timeline, where, labels),
        "cue": spoken[-1].text if spoken else "",
        "left": (part.end_ms - t_ms) / 1000 if part.phase in TIMED else None,
    }


def where_items(timeline: Timeline, where: Where, labels: dict[str, str]) -> dict[str, str]:
    """The round of a circuit ("2/3", as its events say), the set and rep ("2/10", of the most the
    timeline has of them), the side by its name; a rep only where there is more than one."""
    items = {}
    if where.round is not None:
        items[labels["round"]] = f"{where.round}/{where.rounds}"
    if where.set is not None:
        sets = max(e.where.set or 0 for e in timeline.events if e.where.exercise == where.exercise)
        items[labels["set"]] = f"{where.set}/{sets}"
    if where.side is not None:
        items[labels["side"]] = where.side
    same = (where.exercise, where.set, where.side)
    reps = max(
        (e.where.rep or 0 for e in timeline.events
         if (e.where.exercise, e.where.set, e.where.side) == same),
        default=0,
    )  # fmt: skip
    if where.rep is not None and reps > 1:
        items[labels["rep"]] = f"{where.rep}/{reps}"
    return items


def countdown_fits(shown: str, left: float) -> bool:
    """*shown* (whole seconds, rounded up, or m:ss) is the time left within TOLERANCE_S."""
    minutes, _, seconds = shown.rpartition(":")
    value = int(minutes or 0) * 60 + int(seconds)
    low, high = math.ceil(left - TOLERANCE_S), math.ceil(left + TOLERANCE_S)
    return low <= value <= high


# --- the browser -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Headless Chromium, started once for this file."""
    with headless_chromium() as launched:
        yield launched


@dataclass
class Opened:
    page: Any
    requests: list[str]
    errors: list[str]


def open_page(browser: Any, html: Path, viewport: dict[str, int] = PHONE) -> Opened:
    """*html* loaded from the file system, the network off, on a touch screen, its audio ready to
    play."""
    context = browser.new_context(viewport=viewport, offline=True, has_touch=True)
    page = context.new_page()
    opened = Opened(page, [], [])
    page.on("request", lambda request: opened.requests.append(request.url))
    page.on("pageerror", lambda error: opened.errors.append(str(error)))
    page.on("console", lambda m: opened.errors.append(m.text) if m.type == "error" else None)
    page.goto(html.as_uri())
    page.wait_for_function("document.getElementById('audio').readyState >= 1")
    return opened


SHOWN = """() => {
  const text = (id) => document.getElementById(id).textContent;
  const where = Object.fromEntries([...document.querySelectorAll('#where > span')]
    .map((item) => [item.querySelector('.label').textContent, item.querySelector('b').textContent]));
  return {
    position: Number(document.getElementById('player').dataset.position),
    time: document.getElementById('audio').currentTime,
    part: text('part'), exercise: text('exercise'), cue: text('cue'), next: text('next'),
    countdown: document.getElementById('timer').hidden ? null : text('countdown'),
    where,
    state: document.getElementById('player').dataset.state,
  };
}"""


def shown(page: Any) -> dict[str, Any]:
    result: dict[str, Any] = page.evaluate(SHOWN)
    return result


def seek_with_the_slider(page: Any, seconds: float) -> None:
    """As a person dragging the progress slider to *seconds*; returns once the audio is there."""
    page.evaluate(
        """t => {
          const slider = document.getElementById('position');
          slider.value = String(t);
          slider.dispatchEvent(new Event('input', {bubbles: true}));
        }""",
        seconds,
    )
    page.wait_for_function(
        """t => !document.getElementById('audio').seeking
               && Math.abs(Number(document.getElementById('player').dataset.position) - t) < 0.002""",
        arg=seconds,
    )


def shown_at(page: Any, moments: list[int]) -> list[dict[str, Any]]:
    """What the page shows at each of *moments* (ms), sought with the slider as a person would.
    The page shows a moment at once (it reads the audio's time), so they are sought in one go and
    read off as they are shown."""
    result: list[dict[str, Any]] = page.evaluate(
        """(moments) => moments.map((t) => {
          const slider = document.getElementById('position');
          slider.value = String(t / 1000);
          slider.dispatchEvent(new Event('input', {bubbles: true}));
          return (SHOWN)();
        })""".replace("SHOWN", SHOWN),
        moments,
    )
    return result


def moments_in(parts: list[Part]) -> list[int]:
    """Moments (ms) near the start, in the middle and near the end of every part."""
    return sorted(
        {
            round(moment)
            for part in parts
            for moment in (
                part.start_ms + min(20, (part.end_ms - part.start_ms) / 3),
                (part.start_ms + part.end_ms) / 2,
                part.end_ms - min(20, (part.end_ms - part.start_ms) / 3),
            )
        }
    )


def mismatches(expected: dict[str, Any], seen: dict[str, Any]) -> list[str]:
    wrong = [
        f"{key}: shows {seen[key]!r}, the timeline has {expected[key]!r}"
        for key in ("part", "exercise", "where", "cue")
        if seen[key] != expected[key]
    ]
    if (expected["left"] is None) != (seen["countdown"] is None) or (
        expected["left"] is not None and not countdown_fits(seen["countdown"], expected["left"])
    ):
        wrong.append(f"countdown: shows {seen['countdown']!r}, time left {expected['left']}")
    return wrong


@pytest.fixture(scope="module")
def session(default_session: BuiltSession) -> tuple[Path, Timeline]:
    """The default session's page and its timeline."""
    assert default_session.result.timeline is not None
    return default_session.result.path.with_suffix(".html"), default_session.result.timeline


LABELS = Wording("en").page_labels(audio_file="session.mp3")


# --- tests in the browser --------------------------------------------------------------------


def test_the_page_shows_what_the_timeline_has_at_every_part(
    browser: Any, session: tuple[Path, Timeline]
) -> None:
    """Sought to the start, middle and end of every part of the default session, the page shows the
    part, exercise, rep and cue the timeline has there, and the time left within 0.25 s; it fetched
    nothing but itself and the session's audio, from the file system."""
    html, timeline = session
    parts = parts_of(timeline)
    opened = open_page(browser, html)
    moments = moments_in(parts)
    assert len(moments) > 300
    seen = shown_at(opened.page, moments)
    wrong = []
    for moment, at in zip(moments, seen, strict=True):
        assert abs(at["position"] - moment / 1000) < 0.001
        expected = expected_at(timeline, parts, LABELS, moment)
        wrong += [f"at {moment / 1000:.3f} s: {w}" for w in mismatches(expected, at)]
    assert wrong == [], "\n".join(wrong[:20])
    assert {part.phase for part in parts} >= {Phase.INTRO, Phase.HOLD, Phase.RESET, Phase.SWITCH,
                                              Phase.REST, Phase.OUTRO}  # fmt: skip
    assert opened.errors == []
    assert {url.rpartition("/")[2] for url in opened.requests} == {html.name, "session.mp3"}
    assert all(url.startswith("file://") for url in opened.requests)


SHIPPED = ("seven-minute-workout", "breathing-4-7-8", "pelvic-floor", "tabata", "hamstring-stretch")
"""Shipped plans with what the default plan lacks: work, steps with names of their own, sets,
transitions that announce the next exercise, a circuit's rounds (the 7-minute workout in two)."""


def test_the_page_follows_every_kind_of_part_of_the_shipped_plans(
    browser: Any, tmp_path: Path
) -> None:
    """The page of each plan in SHIPPED shows, at the start, middle and end of every part, what its
    timeline has there. What is tested is the page reading a timeline: each is laid out with a
    fixed measure of speech (no engine), and plays a silent WAV of its length (no ffmpeg)."""
    phases = set()
    rounds_seen: set[tuple[int, int | None] | None] = set()
    for name in SHIPPED:
        rounds = ("rounds=2",) if name == "seven-minute-workout" else ()
        plan = customized_plan(
            DATA / f"{name}.yaml", profile=None, sets=rounds, voice=None, rate=None, week=None
        ).plan
        timeline = build_timeline(plan=plan, speech_ms=lambda text: 45 * len(text))
        wording = Wording(plan.language)
        chapters = chapters_of(
            timeline, intro_title=wording.intro_title(), outro_title=wording.outro_title()
        )
        folder = tmp_path / name
        folder.mkdir()
        write_silence(folder / "session.wav", timeline.total_ms)
        page_text = player_page(timeline=timeline, chapters=chapters,
                                media=[Media(name="session.wav", start_ms=0)],
                                language=plan.language)  # fmt: skip
        (folder / "session.html").write_text(page_text, encoding="utf-8")
        opened = open_page(browser, folder / "session.html")
        parts = parts_of(timeline)
        moments = moments_in(parts)
        labels = wording.page_labels(audio_file="session.wav")
        wrong = [
            f"{name} at {moment / 1000:.3f} s: {w}"
            for moment, at in zip(moments, shown_at(opened.page, moments), strict=True)
            for w in mismatches(expected_at(timeline, parts, labels, moment), at)
        ]
        assert wrong == [], "\n".join(wrong[:20])
        assert opened.errors == []
        opened.page.context.close()
        phases |= {part.phase for part in parts}
        rounds_seen |= {(e.where.round, e.where.rounds) if e.where.round else None
                        for e in timeline.events}  # fmt: skip
    assert phases >= {Phase.WORK, Phase.STEP, Phase.TRANSITION, Phase.REST, Phase.LEAD_IN}
    assert rounds_seen == {None, (1, 2), (2, 2)}


def write_silence(path: Path, length_ms: int) -> None:
    """A silent mono WAV of *length_ms* at 8 kHz."""
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(bytes(2 * (length_ms * 8000 // 1000)))


def test_the_countdown_reaches_zero_as_the_end_tone_sounds(
    browser: Any, session: tuple[Path, Timeline]
) -> None:
    """In every hold, just before the end tone the countdown shows its last second; at the end
    tone the hold is over and the short rest after it is shown, with the next rep."""
    html, timeline = session
    page = open_page(browser, html).page
    end_tones = {e.start_ms for e in timeline.events if e.tone is Tone.END}
    holds = [i for i in timeline.intervals if i.phase is Phase.HOLD]
    assert holds and all(hold.end_ms in end_tones for hold in holds)
    first = holds[0]
    seek_with_the_slider(page, first.start_ms / 1000 + 0.5)
    before = shown(page)
    assert (before["part"], before["exercise"], before["where"]) == (
        "Hold",
        "Toe presses",
        {"Rep": "1/10"},
    )
    assert before["countdown"] == "3"  # (a 3-second hold, 2.5 s left)
    seek_with_the_slider(page, first.end_ms / 1000 - 0.05)
    assert shown(page)["countdown"] == "1"
    seek_with_the_slider(page, first.end_ms / 1000 + 0.001)
    after = shown(page)
    assert (after["part"], after["where"]) == ("Short rest", {"Rep": "2/10"})


def test_playing_keyboard_and_buttons(browser: Any, session: tuple[Path, Timeline]) -> None:
    """Play by tapping: the audio plays and the page follows it (what it shows is what the timeline
    has at the audio's time), the button then says Pause and the screen is kept on (Screen Wake
    Lock) until it is paused; space pauses; the arrow keys and the buttons go to the next and previous
    section; a chapter in the list is a tap away."""
    html, timeline = session
    parts = parts_of(timeline)
    chapters = chapters_of(timeline)
    opened = open_page(browser, html)
    page = opened.page
    seek_with_the_slider(page, 34.0)
    page.get_by_role("button", name="Play").tap()
    page.wait_for_function("document.getElementById('audio').currentTime > 35.5")
    playing = shown(page)
    assert playing["state"] == "playing"
    assert (
        mismatches(expected_at(timeline, parts, LABELS, playing["position"] * 1000), playing) == []
    )
    # (one clock, the audio's: what is shown is at most a frame behind it)
    assert 0 <= playing["time"] - playing["position"] < 0.1
    assert page.get_by_role("button", name="Pause").is_visible()
    # (Chromium grants a page from the file system the screen wake lock while it is visible)
    assert page.locator("#player").get_attribute("data-wake-lock") == "held"

    page.locator("body").press(" ")
    page.wait_for_function("document.getElementById('audio').paused")
    paused_at = page.evaluate("document.getElementById('audio').currentTime")
    page.wait_for_timeout(300)
    assert page.evaluate("document.getElementById('audio').currentTime") == paused_at
    stopped = shown(page)
    assert stopped["state"] == "paused" and stopped["position"] == round(paused_at, 3)
    assert page.get_by_role("button", name="Play").is_visible()
    assert page.locator("#player").get_attribute("data-wake-lock") == "released"

    def at_chapter(index: int) -> None:
        page.wait_for_function(
            "t => Math.abs(document.getElementById('audio').currentTime - t) < 0.002",
            arg=chapters[index].start_ms / 1000,
        )
        current = page.locator("#chapters button[aria-current='true']")
        assert current.inner_text().startswith(chapters[index].title)

    page.keyboard.press("ArrowRight")
    at_chapter(2)
    page.keyboard.press("ArrowRight")
    at_chapter(3)
    page.keyboard.press("ArrowLeft")  # (at a section's start: the one before)
    at_chapter(2)
    page.get_by_role("button", name="Next section").tap()
    at_chapter(3)
    seek_with_the_slider(page, chapters[3].start_ms / 1000 + 10)
    page.get_by_role("button", name="Previous section").tap()  # (10 s in: back to its start)
    at_chapter(3)
    page.get_by_role("button", name="Previous section").tap()
    at_chapter(2)
    page.get_by_role("button", name=chapters[-1].title).tap()
    at_chapter(len(chapters) - 1)
    assert shown(page)["part"] == "Closing"
    assert opened.errors == []


def test_the_page_can_be_used_with_a_screen_reader(
    browser: Any, session: tuple[Path, Timeline]
) -> None:
    """The cue is in a polite live region, and changes as each cue is said; the controls, slider,
    countdown and chapters have names a screen reader says."""
    html, timeline = session
    page = open_page(browser, html).page
    cue = page.locator("#cue")
    assert cue.get_attribute("aria-live") == "polite"
    assert cue.get_attribute("aria-atomic") == "true"
    said = [e for e in timeline.events if e.kind is EventKind.SPEECH][10:14]
    for event in said:
        seek_with_the_slider(page, (event.start_ms + event.end_ms) / 2000)
        assert cue.inner_text() == event.text
    tree = page.locator("body").aria_snapshot()
    for line in (
        '- button "Previous section"', '- button "Play"', '- button "Next section"',
        '- slider "Progress"', '- timer "Time left"', '- heading "Chapters"',
        '- navigation "Chapters"', '- button "Toe presses 0:16"',
    ):  # fmt: skip
        assert line in tree, tree
    assert page.locator("html").get_attribute("lang") == "en"


def test_screenshots_at_phone_and_desktop_sizes(
    browser: Any, session: tuple[Path, Timeline], tmp_path: Path
) -> None:
    """At a phone's size and a desktop's, the page fits the width, the countdown is large, and the
    controls are on the first screen; the screenshots are kept in the test's folder (and in the
    folder VOICEGUIDE_SCREENSHOTS names, as docs/ for the README's)."""
    html, timeline = session
    hold = [i for i in timeline.intervals if i.phase is Phase.HOLD][1]
    folders = [tmp_path, *filter(None, [os.environ.get("VOICEGUIDE_SCREENSHOTS")])]
    for name, viewport in (("phone", PHONE), ("desktop", DESKTOP)):
        page = open_page(browser, html, viewport).page
        seek_with_the_slider(page, hold.start_ms / 1000 + 1.2)
        assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
        size = page.evaluate(
            "parseFloat(getComputedStyle(document.getElementById('countdown')).fontSize)"
        )
        assert size >= 96, f"{name}: the countdown is {size}px high"
        play = page.get_by_role("button", name="Play").bounding_box()
        assert play is not None and play["y"] + play["height"] <= viewport["height"], name
        for folder in folders:
            page.screenshot(path=str(Path(folder) / f"player-{name}.png"))
        png = (tmp_path / f"player-{name}.png").read_bytes()
        assert png[:8] == b"\x89PNG\r\n\x1a\n"
        assert int.from_bytes(png[16:20], "big") == viewport["width"]


def test_a_page_without_its_audio_says_what_to_do(
    browser: Any, session: tuple[Path, Timeline], tmp_path: Path
) -> None:
    """The page copied away from its audio file says, as an alert, which file it cannot open and
    that the two belong in one folder."""
    html, _ = session
    alone = tmp_path / html.name
    shutil.copy(html, alone)
    context = browser.new_context(viewport=PHONE, offline=True)
    page = context.new_page()
    page.goto(alone.as_uri())
    alert = page.get_by_role("alert")
    alert.wait_for()
    assert alert.inner_text() == (
        "The audio file session.mp3 cannot be opened. Keep it in the same folder as this page."
    )


@pytest.mark.audio
def test_a_split_sessions_page_plays_its_parts_in_turn(
    browser: Any, tmp_path: Path, runner: CliRunner
) -> None:
    """A split session's page plays each section's file: a chapter in another part loads that
    part, and the page shows that moment of the session."""
    plan = write_plan(tmp_path, plan_yaml("Tiny", SQUEEZE, **QUICK))
    result = runner.invoke(main, ["build", str(plan), "-o", str(tmp_path / "tiny.mp3"), "--split"])
    assert result.exit_code == 0, result.output
    parts = sorted(p.name for p in tmp_path.glob("tiny-*.mp3"))
    assert len(parts) == 3
    events = json.loads((tmp_path / "tiny.json").read_text(encoding="utf-8"))["events"]
    squeeze = next(e["start"] for e in events if e["kind"] != "silence" and e["exercise"])
    opened = open_page(browser, tmp_path / "tiny.html")
    page = opened.page
    page.get_by_role("button", name="Squeeze").click()
    page.wait_for_function(
        "name => decodeURIComponent(document.getElementById('audio').src).endsWith(name)",
        arg=parts[1],
    )
    page.wait_for_function("document.getElementById('audio').readyState >= 1")
    assert shown(page)["exercise"] == "Squeeze"
    assert abs(shown(page)["position"] - squeeze) < 0.002
    assert opened.errors == []


# --- the page as written, and `voiceguide open`, without a browser ----------------------------


def test_every_label_of_the_page_is_in_the_session_language() -> None:
    """A German session's page says German: its language, and every label from the catalog."""
    plan = load_plan_text("language: de\n" + plan_yaml("Kurz", SQUEEZE))
    timeline = build_timeline(plan=plan, speech_ms=lambda text: 50 * len(text))
    html = player_page(
        timeline=timeline,
        chapters=chapters_of(timeline),
        media=[Media(name="kurz.mp3", start_ms=0)],
        language="de",
    )
    assert '<html lang="de">' in html
    labels = Wording("de").page_labels(audio_file="kurz.mp3")
    assert set(PAGE_LABELS) <= set(labels)
    for label in ("previous", "next", "play", "chapters", "keys", "no_audio"):
        assert labels[label] in html, label
    assert 'aria-label="Nächster Abschnitt"' in html
    assert "Die Audiodatei kurz.mp3 lässt sich nicht öffnen" in html


def test_the_page_is_one_file_that_fetches_nothing_and_no_text_can_break() -> None:
    """The page has its style and script inline and names no other file than its audio, by a
    relative URL (a "#" in the name is not a fragment); a plan's text that looks like markup stays
    text."""
    hostile = "</script><script>alert(1)</script> {{title}} /*SCRIPT*/"
    plan = load_plan_text(plan_yaml(json.dumps(hostile), SQUEEZE))
    timeline = build_timeline(plan=plan, speech_ms=lambda text: 50 * len(text))
    html = player_page(
        timeline=timeline,
        chapters=chapters_of(timeline),
        media=[Media(name="my session #1.mp3", start_ms=0)],
        language="en",
    )
    assert html.count("<script") == 3 and html.count("</script>") == 3
    assert 'src="my%20session%20%231.mp3"' in html
    assert "http://" not in html and "https://" not in html
    assert "<link" not in html and "@import" not in html and "url(" not in html
    title = "&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt; {{title}} /*SCRIPT*/"
    assert f"<title>{title}</title>" in html


@pytest.fixture
def recording_browser(tmp_path: Path) -> tuple[Path, Path]:
    """A "browser" for the BROWSER variable: a script that writes down what it was asked to open."""
    record = tmp_path / "opened.txt"
    script = tmp_path / "record-browser"
    script.write_text(f'#!/bin/sh\nprintf "%s\\n" "$1" >> "{record}"\n')
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return script, record


def test_open_opens_the_sessions_page_in_the_browser(
    tmp_path: Path, recording_browser: tuple[Path, Path]
) -> None:
    """`voiceguide open SESSION` hands the page beside SESSION to the browser (here the one the
    BROWSER variable names, as webbrowser reads it) as a file:// URL, and says so."""
    script, record = recording_browser
    (tmp_path / "my session.mp3").write_bytes(b"")
    page = tmp_path / "my session.html"
    page.write_text("<!doctype html>")
    for named in ("my session.mp3", "my session.html"):
        process = voiceguide(["open", named], tmp_path, env={"BROWSER": str(script)})
        out, err = finish(process, 30)
        assert process.returncode == 0, err
        assert out == "Opened my session.html\n"
    assert record.read_text().splitlines() == [page.resolve().as_uri()] * 2


def test_open_without_a_page_is_an_input_error(
    tmp_path: Path, recording_browser: tuple[Path, Path]
) -> None:
    """No session, or a session built with --no-sidecars: exit 2, saying what to do; no browser."""
    script, record = recording_browser
    (tmp_path / "bare.mp3").write_bytes(b"")
    process = voiceguide(["open", "missing.mp3"], tmp_path, env={"BROWSER": str(script)})
    _, err = finish(process, 30)
    assert process.returncode == 2
    assert err == (
        "Error: missing.mp3 does not exist; name a session that voiceguide build wrote, as "
        "output/feet-for-back-pain.mp3\n"
    )
    process = voiceguide(["open", "bare.mp3"], tmp_path, env={"BROWSER": str(script)})
    _, err = finish(process, 30)
    assert process.returncode == 2
    assert err == (
        "Error: there is no player page beside bare.mp3 (bare.html is missing); voiceguide build "
        "writes it with the session unless given --no-sidecars: build the session again without "
        "that option\n"
    )
    assert not record.exists()


def test_open_when_no_browser_can_be_started_fails(tmp_path: Path) -> None:
    """A browser that cannot start (it exits 1): exit 1, naming the page to open by hand."""
    (tmp_path / "s.html").write_text("<!doctype html>")
    process = voiceguide(["open", "s.html"], tmp_path, env={"BROWSER": "false"})
    _, err = finish(process, 30)
    assert process.returncode == 1
    assert err == (
        "Error: no web browser could be started to open s.html; open that file in one, or name "
        "a browser in the BROWSER environment variable\n"
    )
