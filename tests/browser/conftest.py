"""Browser tests: the real server started as the Procfile says, driven by the system Chromium.

Each test gets a fresh page whose requests to any other host are refused and recorded, and whose
console errors are collected; both lists must be empty when the test ends. Screenshots go to
tests/artifacts/ (gitignored), one desktop (1280x800) and one phone (390x844) per view.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, sync_playwright

from tests.browser.helpers import DESKTOP
from tests.procfile import start_procfile_server

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
# Every browser test is one client (127.0.0.1) of one server for the whole session, and some train
# past the default per-run cost: a wide fair share (test_fair_share_page.py checks the default's).
BROWSER_SHARE = {
    "PLAYGROUND_CLIENT_RUNS": "20",
    "PLAYGROUND_RUN_COST": "3600",
    "PLAYGROUND_CLIENT_BUDGET": "360000",
}


@pytest.fixture(scope="session")
def server_url(tmp_path_factory: pytest.TempPathFactory):
    """gunicorn exactly as the Procfile runs it (tests/procfile.py), on a free port, a fresh SQLite file."""
    folder = tmp_path_factory.mktemp("server")
    server = start_procfile_server(folder / "playground.sqlite3", folder / "server.log", BROWSER_SHARE)
    try:
        yield server.url
    finally:
        server.stop()


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


@pytest.fixture
def new_page(browser):
    """new_page(base_url, expected_errors=()) -> a desktop page in a browser context of its own (its own
    localStorage: another browser, say the person a link was sent to), checked like `page` when the
    test ends; console errors containing one of `expected_errors` (Chromium logs every refused request,
    say "status of 429") are allowed."""
    made = []

    def make(base_url: str, expected_errors: tuple[str, ...] = ()) -> Page:
        context = browser.new_context(viewport=DESKTOP, base_url=base_url)
        page = context.new_page()
        page.set_default_timeout(30_000)
        made.append((context, watch(page), expected_errors))
        return page

    yield make
    for context, seen, expected in made:
        context.close()
        errors = [error for error in seen.console_errors if not any(part in error for part in expected)]
        assert seen.external == [], f"requests to other hosts: {seen.external}"
        assert errors == [], f"console errors: {errors}"
