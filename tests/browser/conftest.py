"""Browser tests: the real server started as the Procfile says, driven by the system Chromium.

Each test gets a fresh page whose requests to any other host are refused and recorded, and whose
console errors are collected; both lists must be empty when the test ends. Screenshots go to
tests/artifacts/ (gitignored), one desktop (1280x800) and one phone (390x844) per view.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, sync_playwright

from tests.browser.helpers import DESKTOP

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
LOOPBACK = {"127.0.0.1", "localhost", "[::1]", "::1"}


def procfile_command() -> str:
    for line in (ROOT / "Procfile").read_text().splitlines():
        if line.startswith("web:"):
            return line.removeprefix("web:").strip()
    raise AssertionError("the Procfile has no web: line")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_healthy(url: str, process: subprocess.Popen, log: Path, limit: float = 60) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the server exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.1)
    raise AssertionError(f"the server did not answer /healthz within {limit} s:\n{log.read_text()[-3000:]}")


@pytest.fixture(scope="session")
def server_url(tmp_path_factory: pytest.TempPathFactory):
    """gunicorn exactly as the Procfile runs it, on a free port, with a fresh SQLite file."""
    folder = tmp_path_factory.mktemp("server")
    port = free_port()
    env = {**os.environ, "PORT": str(port), "PLAYGROUND_DB": str(folder / "playground.sqlite3")}
    log = folder / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            ["bash", "-c", f"exec {procfile_command()}"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so teardown stops the workers too
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(url, process, log)
        yield url
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@pytest.fixture(scope="session")
def browser():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class Watch:
    """What a page did that a test may want to assert on: errors, other hosts, API calls."""

    def __init__(self) -> None:
        self.console_errors: list[str] = []
        self.external: list[str] = []
        self.requests: list[tuple[str, str]] = []  # (method, url) of every request to the server


WATCHES: dict[int, Watch] = {}


def watch(page: Page) -> Watch:
    seen = Watch()
    page.on("console", lambda msg: seen.console_errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda error: seen.console_errors.append(f"uncaught: {error}\n{error.stack}"))

    def route(route) -> None:
        request = route.request
        host = urlsplit(request.url).hostname or ""
        if request.url.startswith(("data:", "blob:")) or host in LOOPBACK:
            seen.requests.append((request.method, request.url))
            route.continue_()
        else:
            seen.external.append(request.url)
            route.abort()

    page.route("**/*", route)
    return seen


@pytest.fixture
def page(browser, server_url):
    """A fresh desktop page; at the end: no console errors and no request to another host."""
    context = browser.new_context(viewport=DESKTOP, base_url=server_url)
    page = context.new_page()
    page.set_default_timeout(30_000)
    seen = watch(page)
    WATCHES[id(page)] = seen
    yield page
    context.close()
    del WATCHES[id(page)]
    assert seen.external == [], f"requests to other hosts: {seen.external}"
    assert seen.console_errors == [], f"console errors: {seen.console_errors}"


@pytest.fixture
def seen(page) -> Watch:
    """The page's record of console errors, refused requests and API calls."""
    return WATCHES[id(page)]
