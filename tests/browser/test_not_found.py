"""Unknown pages and runs: the site's own 404 page (status 404, says what is wrong, leads back to the
playground); unknown API routes stay JSON."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.helpers import screenshots

PAGE_404 = "Failed to load resource: the server responded with a status of 404 (NOT FOUND)"


@pytest.mark.parametrize(
    "path, heading, text",
    [
        ("/no/such/page", "Nothing here", "There is no page at this address."),
        ("/runs/abcdefghijkl", "Run not found", "There is no run abcdefghijkl here"),
        ("/runs/cut-off", "Run not found", "run ids are 12 letters"),
    ],
)
def test_unknown_pages_show_the_404_page(page: Page, seen, path: str, heading: str, text: str) -> None:
    missing = []
    page.on("response", lambda r: missing.append(r.url) if r.status == 404 else None)
    response = page.goto(path)
    assert response is not None and response.status == 404
    assert response.headers["content-type"].startswith("text/html")
    expect(page).to_have_title(f"{heading} · NumPy NN Playground")
    expect(page.get_by_role("heading", level=1)).to_have_text(heading)
    expect(page.locator("main")).to_contain_text(text)
    if path == "/runs/abcdefghijkl":
        screenshots(page, "not-found")
    # Chromium logs the page's own 404 as a console error; nothing else (style, icon) may be missing.
    assert missing == [response.url]
    seen.console_errors.remove(PAGE_404)
    page.get_by_role("link", name="Open the playground").click()
    expect(page.get_by_role("button", name="Train")).to_be_enabled()


def test_unknown_api_routes_stay_json(page: Page) -> None:
    for path in ("/api/no-such-route", "/api/runs/abcdefghijkl"):
        response = page.request.get(path)
        assert response.status == 404 and response.headers["content-type"] == "application/json"
        assert response.json()["error"]
