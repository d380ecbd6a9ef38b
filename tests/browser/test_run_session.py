"""What the page asks the server while a run is on it: the event stream is its only live source, a run
shown with recorded epochs gets their views once from GET /timeline, and GET /views is asked only for
what the events do not carry (the 2D points once per run; MNIST's misclassified digits and first-layer
weights at a few epochs and once at the end), never on a timer."""

from __future__ import annotations

import math
import time
from itertools import pairwise
from urllib.parse import urlsplit

from playwright.sync_api import Page, expect

from tests.browser.helpers import api, finished_run

CURRENT_X = """() => ['loss-chart', 'accuracy-chart'].map(id =>
  (document.getElementById(id).data || []).slice(-2).map(t => Array.from(t.x)))"""


# Each GET /views the page makes, with the epoch counter and status shown at that moment.
RECORD_VIEWS_CALLS = """(() => {
  window.viewsCalls = [];
  const fetchNow = window.fetch.bind(window);
  window.fetch = (url, options) => {
    if (String(url).endsWith("/views")) {
      window.viewsCalls.push({
        epoch: Number(document.getElementById("epoch-counter").textContent.match(/\\d+/)[0]),
        status: document.getElementById("status").dataset.status,
      });
    }
    return fetchNow(url, options);
  };
})();"""


def views_requests(seen) -> list[str]:
    return [url for method, url in seen.requests if method == "GET" and urlsplit(url).path.endswith("/views")]


def event_streams(seen) -> list[str]:
    return [url for method, url in seen.requests if urlsplit(url).path.endswith("/events")]


def timelines(seen) -> list[str]:
    return [url for method, url in seen.requests if urlsplit(url).path.endswith("/timeline")]


def test_a_live_2d_run_asks_for_its_data_points_once_and_draws_the_boundary_from_its_events(
    page: Page, seen
) -> None:
    page.goto("/?dataset=spiral&hidden=16,16&lr=0.1&batch_size=1&epochs=10&points=2000")
    page.get_by_role("button", name="Train").click()
    expect(page.locator("#status")).to_have_attribute("data-status", "done", timeout=60_000)
    expect(page.locator("#boundary")).to_have_attribute("data-grid-epoch", "10")
    expect(page.locator("#boundary")).to_have_attribute("data-points", "2000")
    page.wait_for_timeout(1000)  # a refresh after the end, if there were one, would show by now
    assert len(views_requests(seen)) == 1, views_requests(seen)
    assert len(event_streams(seen)) == 1
    assert timelines(seen) == []  # a run started here has every epoch from its stream


def test_a_live_mnist_run_refreshes_its_weight_views_at_a_few_epochs_and_once_at_the_end(
    page: Page, seen
) -> None:
    page.add_init_script(RECORD_VIEWS_CALLS)
    epochs = 6
    page.goto(f"/?dataset=mnist&hidden=64&lr=0.1&batch_size=64&epochs={epochs}&seed=1")
    page.get_by_role("button", name="Train").click()
    expect(page.locator("#status")).to_have_attribute("data-status", "done", timeout=90_000)
    expect(page.locator("#mistakes li")).to_have_count(12)
    expect(page.locator("#first-layer")).to_have_attribute("data-units", "64")
    expect(page.locator("#confusion")).to_have_attribute("data-total", "10000")
    page.wait_for_timeout(1000)  # a request after the end, if there were one more, would show by now

    calls = page.evaluate("() => window.viewsCalls")
    assert len(calls) == len(views_requests(seen))
    live = [call["epoch"] for call in calls if call["status"] == "running"]
    assert [call for call in calls if call["status"] != "running"] == [{"epoch": epochs, "status": "done"}]
    # While it trains: at the first epoch it shows, then every ceil(6 / 5) = 2 epochs, never at the
    # last one (the end's refresh covers it): epochs 1, 3 and 5 when each epoch reaches the page in
    # a frame of its own, fewer when several arrive in one frame.
    step = math.ceil(epochs / 5)
    assert live and live[0] >= 1 and all(later - earlier >= step for earlier, later in pairwise(live))
    assert all(epoch < epochs for epoch in live), live
    assert len(live) <= len(range(1, epochs, step)) == 3


def test_a_live_run_page_resumes_the_stream_after_its_recorded_epochs(
    page: Page, server_url: str, seen
) -> None:
    run = api(server_url, "/api/runs", {"dataset": "spiral", "points": 3000, "batch_size": 1, "epochs": 12})
    deadline = time.monotonic() + 60
    while len(api(server_url, f"/api/runs/{run['id']}")["epochs"]) < 2:
        assert time.monotonic() < deadline, "the run did not reach epoch 2"
        time.sleep(0.05)
    page.goto(run["url"])
    recorded = page.evaluate("() => JSON.parse(document.body.dataset.page).run.epochs.length")
    assert recorded >= 2
    expect(page.locator("#status")).to_have_attribute("data-status", "done", timeout=60_000)
    expect(page.locator("#boundary")).to_have_attribute("data-grid-epoch", "12")
    page.wait_for_function(
        "() => (document.getElementById('loss-chart').data || []).slice(-2).every(t => t.x.length === 12)"
    )
    for chart in page.evaluate(CURRENT_X):
        assert chart == [list(range(1, 13))] * 2  # every epoch once, in order
    # The stream starts after the recorded epochs, whose views came once from /timeline.
    assert [urlsplit(url).query for url in event_streams(seen)] == [f"last_event_id={recorded}"]
    assert len(timelines(seen)) == 1 and len(views_requests(seen)) == 1, seen.requests


def test_a_finished_run_page_asks_for_its_views_and_timeline_once_and_opens_no_stream(
    page: Page, server_url: str, seen
) -> None:
    run = finished_run(server_url, {"dataset": "mnist", "hidden": [16], "batch_size": 256, "epochs": 1})
    page.goto(f"/runs/{run['id']}")
    expect(page.locator("#first-layer")).to_have_attribute("data-units", "16")
    expect(page.locator("#mistakes li")).to_have_count(12)
    expect(page.locator("#confusion")).to_have_attribute("data-total", "10000")
    page.wait_for_timeout(500)
    assert len(views_requests(seen)) == 1, views_requests(seen)
    assert len(timelines(seen)) == 1 and event_streams(seen) == []
