"""A run whose heavy parts expired under the store budget (server/store_budget.py): its page draws the
curves and says "weights expired: train again to get them" where the weights are needed."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect

from server.store import Store
from tests.browser.helpers import finished_run, screenshots
from tests.procfile import start_procfile_server


def test_an_expired_run_page_draws_its_curves_and_says_its_weights_expired(
    page: Page, tmp_path: Path, seen
) -> None:
    db = tmp_path / "runs.sqlite3"
    server = start_procfile_server(db, tmp_path / "server.log", {"WEB_CONCURRENCY": "1"})
    try:
        run = finished_run(server.url, {"dataset": "circles", "hidden": [8], "epochs": 12, "points": 300})
        store = Store(db)
        assert store.expire(run["id"])  # what the budget's chore does to the oldest runs
        store.close()
        page.goto(f"{server.url}/runs/{run['id']}")
        page.wait_for_function(
            "() => ['loss-chart', 'accuracy-chart'].every(id => (document.getElementById(id).data || [])"
            ".slice(-2).filter(t => t.x.length === 12).length === 2)"
        )
        note = page.locator("#expired-note")
        expect(note).to_be_visible()
        expect(note).to_contain_text("Weights expired: train again to get them")
        expect(page.locator("#download-weights")).to_be_hidden()
        expect(page.locator("#download-metrics")).to_be_visible()
        expect(page.locator("#status")).to_have_attribute("data-status", "done")
        expect(page.locator("#boundary-note")).to_have_text(
            "The decision boundary expired with the weights: train again to see it."
        )
        screenshots(page, "expired-run")
        assert not [url for _, url in seen.requests if url.endswith(("/views", "/weights.npz"))]
    finally:
        server.stop()
