"""Screenshots, direct API calls and waits shared by the browser tests."""

from __future__ import annotations

import json
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import Page

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
DESKTOP = {"width": 1280, "height": 800}
TABLET = {"width": 1024, "height": 768}
PHONE = {"width": 390, "height": 844}
FINAL = ("done", "stopped", "failed", "interrupted")


def screenshots(page: Page, name: str) -> None:
    """Save the view as on a desktop (1280 px), a small laptop or tablet (1024 px) and a phone (390 px);
    the narrower views must not scroll sideways."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.wait_for_timeout(300)  # let Plotly finish its transition
    page.screenshot(path=ARTIFACTS / f"{name}-desktop.png", full_page=True)
    for label, size in (("tablet", TABLET), ("phone", PHONE)):
        page.set_viewport_size(size)
        page.wait_for_timeout(400)  # Plotly re-lays out the charts on resize
        page.screenshot(path=ARTIFACTS / f"{name}-{label}.png", full_page=True)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= size["width"], f"{name}: the {label} view is {width} px wide"
    page.set_viewport_size(DESKTOP)
    page.wait_for_timeout(200)


def api(server_url: str, path: str, body: dict | None = None) -> dict:
    """Call the JSON API directly (to prepare runs without the page)."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        server_url + path, data=data, headers={"Content-Type": "application/json"} if data else {}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def finished_run(server_url: str, config: dict, limit: float = 60) -> dict:
    run = api(server_url, "/api/runs", config)
    deadline = time.monotonic() + limit
    while True:
        state = api(server_url, f"/api/runs/{run['id']}")
        if state["status"] in FINAL:
            return state
        assert time.monotonic() < deadline, f"run {run['id']} still {state['status']}"
        time.sleep(0.05)
