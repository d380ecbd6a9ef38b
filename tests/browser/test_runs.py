"""Run pages: a finished run's curves and views appear at once without training again, a live
run keeps streaming, Fork loads its config; other runs overlay the charts, one colour each."""

from __future__ import annotations

from urllib.parse import urlsplit

from playwright.sync_api import Page, expect

from tests.browser.helpers import api, finished_run, screenshots

CURRENT_X = """() => ['loss-chart', 'accuracy-chart'].map(id =>
  (document.getElementById(id).data || []).slice(-2).map(t => Array.from(t.x)))"""


def test_a_run_url_shows_the_recorded_curves_without_training(page: Page, server_url: str, seen) -> None:
    run = finished_run(server_url, {"dataset": "xor", "hidden": [8, 8], "epochs": 15, "points": 300})
    page.goto(f"/runs/{run['id']}")
    page.wait_for_function(  # (an empty chart has no traces: [].every(...) would be true at once)
        "() => ['loss-chart', 'accuracy-chart'].every(id => (document.getElementById(id).data || [])"
        ".slice(-2).filter(t => t.x.length === 15).length === 2)"
    )
    for chart in page.evaluate(CURRENT_X):
        assert chart == [list(range(1, 16))] * 2
    expect(page.locator("#status")).to_have_attribute("data-status", "done")
    expect(page.locator("#boundary")).to_have_attribute("data-grid-epoch", "15")
    expect(page.get_by_role("heading", name=f"Run {run['id']}")).to_be_visible()
    expect(page.get_by_label("Epochs", exact=True)).to_be_disabled()  # the form shows, not edits, the run
    expect(page.get_by_role("button", name="Train")).to_be_disabled()
    screenshots(page, "run-page")
    assert not [url for method, url in seen.requests if method == "POST"], "no run may be started"

    page.get_by_role("button", name="Fork").click()
    assert urlsplit(page.url).path == "/" and urlsplit(page.url).query == run["query"]
    expect(page.get_by_label("Epochs", exact=True)).to_be_enabled()
    expect(page.get_by_role("radio", name="Xor")).to_be_checked()
    expect(page.get_by_label("Epochs", exact=True)).to_have_value("15")
    expect(page.get_by_role("button", name="Train")).to_be_enabled()
    expect(page.get_by_role("button", name="Train")).to_be_focused()


def test_a_live_run_keeps_streaming_on_its_page(page: Page, server_url: str) -> None:
    run = api(server_url, "/api/runs", {"dataset": "spiral", "points": 3000, "batch_size": 1, "epochs": 8})
    page.goto(run["url"])
    page.wait_for_function(
        "() => (document.getElementById('loss-chart').data || []).slice(-2).filter(t => t.x.length === 8)"
        ".length === 2",
        timeout=60_000,
    )
    expect(page.locator("#status")).to_have_attribute("data-status", "done")
    for chart in page.evaluate(CURRENT_X):
        assert chart == [list(range(1, 9))] * 2  # every epoch once, in order


def test_runs_overlay_with_a_legend_of_what_differs(page: Page, server_url: str) -> None:
    config = {"dataset": "moons", "hidden": [16, 16], "epochs": 20}
    fast = finished_run(server_url, {**config, "lr": 0.3})
    slow = finished_run(server_url, {**config, "lr": 0.03})
    page.goto(f"/runs/{slow['id']}")  # opened by link: both land in this browser's list
    expect(page.locator("#status")).to_have_attribute("data-status", "done")
    page.goto(f"/runs/{fast['id']}")
    expect(page.locator("#status")).to_have_attribute("data-status", "done")
    items = page.locator("#run-list li")
    expect(items).to_have_count(2)

    page.get_by_role("checkbox", name="lr 0.03").check()
    page.wait_for_function("() => (document.getElementById('loss-chart').data || []).length === 4")
    colours = page.evaluate("() => document.getElementById('loss-chart').data.map(t => t.line.color)")
    assert colours[0] == colours[1] and colours[2] == colours[3] and colours[0] != colours[2]
    legend = page.locator("#chart-legend")
    expect(legend).to_contain_text("lr 0.3 (shown)")
    expect(legend).to_contain_text("lr 0.03")
    screenshots(page, "compare-runs")

    page.get_by_role("checkbox", name="lr 0.03").uncheck()
    page.wait_for_function("() => (document.getElementById('loss-chart').data || []).length === 2")
