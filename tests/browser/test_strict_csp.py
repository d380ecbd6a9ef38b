"""The page works under the strict Content-Security-Policy a hosted demo sets (self only, no inline
script or style): no violation, no console error, charts and views still drawn.

The policy is added here to the page's response, so this holds whatever the server sends.
"""

from __future__ import annotations

from playwright.sync_api import Page, expect

STRICT = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
    "font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


def with_strict_policy(page: Page) -> None:
    def add_header(route) -> None:
        if route.request.resource_type != "document":
            route.fallback()
            return
        response = route.fetch()
        route.fulfill(response=response, headers={**response.headers, "content-security-policy": STRICT})

    page.route("**/*", add_header)  # runs before the conftest's route (the last added runs first)


def test_the_page_needs_no_inline_script_or_style(page: Page) -> None:
    with_strict_policy(page)
    page.goto("/?dataset=blobs&hidden=8&epochs=8&points=300")
    page.get_by_role("button", name="Train").click()
    expect(page.locator("#status")).to_have_attribute("data-status", "done")
    expect(page.locator("#boundary")).to_have_attribute("data-grid-epoch", "8")
    expect(page.locator("#loss-chart .main-svg").first).to_be_visible()

    page.goto("/?dataset=mnist&hidden=16&batch_size=256&epochs=1")
    page.get_by_role("button", name="Train").click()
    expect(page.locator("#status")).to_have_attribute("data-status", "done", timeout=60_000)
    page.get_by_role("button", name="Sample digit").click()
    expect(page.locator("#prob-bars")).to_have_attribute("data-ready", "true")
    page.locator("#loss-chart").hover()  # hover labels are styled without inline <style> too
    # Console errors (a blocked inline style or script logs one) fail the test in the fixture.
