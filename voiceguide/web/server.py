"""Serving the page: waitress (a production WSGI server, pure Python, on every system) on the
address asked for, the page opened in a browser where there is one."""

from __future__ import annotations

import os
import threading
import webbrowser
from collections.abc import Callable
from typing import Any

from voiceguide.common.errors import InputError
from voiceguide.web.app import create_app
from voiceguide.web.folders import Folders

THREADS = 8
"""Requests answered at once (previews wait their turn for the speech engine; builds run apart)."""


def serve(
    *,
    folders: Folders,
    host: str,
    port: int,
    open_browser: bool,
    builds_at_once: int,
    say: Callable[[str], None],
) -> None:
    """Serve until stopped (Ctrl-C, SIGTERM: the usual end of serving, so not an error); *say* is
    told the address, and what else the user should know. Builds under way are stopped with it
    (their workers end with their caller), leaving the sessions they were replacing as they were."""
    from waitress.server import create_server

    app = create_app(folders, builds_at_once=builds_at_once)
    try:
        server: Any = create_server(
            app, host=host, port=port, threads=THREADS, ident="voiceguide",
            max_request_body_size=app.config["MAX_CONTENT_LENGTH"],
        )  # fmt: skip
    except OSError as error:
        raise InputError(
            f"cannot listen on {host}:{port}: {error.strerror or error}; "
            "choose another --port (or --host)"
        ) from None
    # (the voices asked for now, before any preview can hold the speech engine for long)
    voices = app.extensions["voiceguide.previewer"].voices
    threading.Thread(target=voices, name="voices", daemon=True).start()
    address = f"http://{_shown_host(host)}:{server.effective_port}/"
    say(f"voiceguide serve: open {address}")
    say(f"  plans from {', '.join(str(p) for p in folders.plans)}; profiles in {folders.profiles}; "
        f"sessions to {folders.output}")  # fmt: skip
    if host not in ("127.0.0.1", "localhost", "::1"):
        say(
            "  listening beyond this machine: anyone on the network can open the page (no accounts)"
        )
    say("  Ctrl-C stops it")
    if open_browser:
        browser = _window_browser()
        if browser is None:
            say("  (no browser with a window here: open the address in one)")
        else:
            browser.open(address)
    try:
        server.run()  # (until Ctrl-C or SIGTERM, which waitress takes as the end of serving)
    finally:
        app.extensions["voiceguide.builds"].close()
        server.close()
    say("voiceguide serve: stopped")


def _window_browser() -> webbrowser.BaseBrowser | None:
    """The system's browser, if it opens a window: a text browser (lynx, w3m, what a machine
    without a display offers) would take over the terminal the server reports to."""
    try:
        browser = webbrowser.get()
    except webbrowser.Error:
        return None
    if os.environ.get("BROWSER"):
        return browser  # (the one the user named, whatever it is)
    console = isinstance(browser, webbrowser.GenericBrowser) and not isinstance(
        browser, webbrowser.BackgroundBrowser
    )
    return None if console else browser


def _shown_host(host: str) -> str:
    """The address to open: 0.0.0.0 listens everywhere, and is opened here as 127.0.0.1."""
    if host in ("0.0.0.0", "", "::"):
        return "127.0.0.1"
    return f"[{host}]" if ":" in host else host
