"""`voiceguide serve` started for real, and spoken to over HTTP: the command in a process of its
own (as processes.voiceguide starts commands) on a free port, its address read from what it prints.

    server = start_server(tmp_path)
    answer = server.post("/api/check", {"plan": "tiny", "profile": "anna", "settings.rate": "150"})
"""

from __future__ import annotations

import html.parser
import json
import os
import select
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

HEADER = {"X-Voiceguide": "1"}
STARTUP_SECONDS = 180
"""Python, Flask and voiceguide imported on a busy machine."""


@dataclass
class Answer:
    status: int
    body: bytes
    headers: dict[str, str]

    @property
    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


@dataclass
class Server:
    process: subprocess.Popen[str]
    address: str
    """http://127.0.0.1:PORT/"""
    folder: Path
    """What it serves: plans/, profiles/, output/."""

    @property
    def plans(self) -> Path:
        return self.folder / "plans"

    @property
    def profiles(self) -> Path:
        return self.folder / "profiles"

    @property
    def output(self) -> Path:
        return self.folder / "output"

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
        timeout: float = 300,
    ) -> Answer:
        request = urllib.request.Request(
            self.address.rstrip("/") + path, data=body, method=method, headers=headers or {}
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return Answer(response.status, response.read(), dict(response.headers))
        except urllib.error.HTTPError as error:
            return Answer(error.code, error.read(), dict(error.headers))

    def get(self, path: str) -> Answer:
        return self.request("GET", path)

    def post(
        self,
        path: str,
        fields: dict[str, str],
        files: dict[str, tuple[str, bytes]] | None = None,
        *,
        header: bool = True,
    ) -> Answer:
        """A multipart form, as the page's script sends it (with its header, unless not)."""
        body, content_type = multipart(fields, files or {})
        headers = {"Content-Type": content_type, **(HEADER if header else {})}
        return self.request("POST", path, body, headers)


def multipart(fields: dict[str, str], files: dict[str, tuple[str, bytes]]) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = []
    for name, value in fields.items():
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
            + value.encode("utf-8")
            + b"\r\n"
        )
    for name, (filename, content) in files.items():
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
            f'filename="{filename}"\r\nContent-Type: application/octet-stream\r\n\r\n'.encode()
            + content
            + b"\r\n"
        )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def start_server(
    folder: Path, *extra: str, browser: bool = False, env: dict[str, str] | None = None
) -> Server:
    """`voiceguide serve` over *folder*/plans and *folder*/profiles, on a free port (opening no
    browser, unless *browser*)."""
    for name in ("plans", "profiles"):
        (folder / name).mkdir(exist_ok=True)
    (folder / "tmp").mkdir(exist_ok=True)
    # (not processes.voiceguide, whose commands end with each test: this one serves a module)
    process = subprocess.Popen(
        [sys.executable, "-m", "voiceguide", "serve", "--port", "0",
         *([] if browser else ["--no-browser"]),
         "--plans", "plans", "--profiles", "profiles", "-o", "output", *extra],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=folder,
        env={**os.environ, "TMPDIR": str(folder / "tmp"), "VOICEGUIDE_CACHE_DIR": str(folder / "cache"),
             **(env or {})},
    )  # fmt: skip
    assert process.stdout is not None
    deadline = time.monotonic() + STARTUP_SECONDS
    line = ""
    while time.monotonic() < deadline:
        ready, _, _ = select.select([process.stdout], [], [], 0.2)
        if ready:
            line = process.stdout.readline()
            break
        if process.poll() is not None:
            break
    if "http://" not in line:
        process.kill()
        _, stderr = process.communicate()
        pytest.fail(f"voiceguide serve did not print its address: {line!r} {stderr}")
    address = line[line.index("http://") :].strip()
    return Server(process=process, address=address, folder=folder)


def stop_server(server: Server) -> None:
    server.process.terminate()
    try:
        server.process.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.communicate()


class _FormReader(html.parser.HTMLParser):
    """The named controls of the page's profile form and their values, as a browser sends them."""

    def __init__(self) -> None:
        super().__init__()
        self.values: dict[str, str] = {}
        self._inside = False
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "form":
            self._inside = found.get("id") == "profile"
        name = found.get("name")
        if not self._inside or not name:
            if tag == "option" and self._select and "selected" in found:
                self.values[self._select] = found.get("value") or ""
            return
        if tag == "input" and found.get("type") != "file":
            self.values[name] = found.get("value") or ""
        elif tag == "select":
            self._select = name
            self.values.setdefault(name, "")
        elif tag == "textarea":
            self._textarea = name
            self.values[name] = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._inside = False
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self.values[self._textarea] += data


def form_values(page: str) -> dict[str, str]:
    reader = _FormReader()
    reader.feed(page)
    return reader.values


def wait_for_build(server: Server, build_id: int, seconds: float = 600) -> dict[str, Any]:
    """The build once it is done (or failed)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        builds = server.get("/api/builds").json["builds"]
        found = next(b for b in builds if b["id"] == build_id)
        if found["state"] in ("done", "failed"):
            return dict(found)
        time.sleep(0.3)
    pytest.fail(f"build {build_id} not done within {seconds} s")
