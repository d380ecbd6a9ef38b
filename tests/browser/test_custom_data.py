"""Your own points on the page (static/js/data_editor.js): points clicked on the plane in two classes
train (Train sends them first) and replay from the run's permalink, its config link and a Fork; Erase
removes points; a CSV file with a bad row shows that row's line and nothing trains until a good file is
uploaded."""

from __future__ import annotations

import json
import re
import urllib.request
from urllib.parse import urlsplit

from playwright.sync_api import Page, expect

from tests.browser.helpers import screenshots
from tests.custom_points import xor_csv

EPOCHS = 30


def click_points(page: Page, label: int, where: list[tuple[float, float]]) -> None:
    """Choose a class and click the plane at each (fraction of its width, fraction of its height)."""
    page.get_by_role("radio", name=f"Class {label}", exact=True).check()
    for fx, fy in where:
        click_plane(page, fx, fy)


def click_plane(page: Page, fx: float, fy: float) -> None:
    """Click the plane at a fraction of its width and height (scrolled into view first)."""
    plane = page.locator("#boundary")
    box = plane.bounding_box()
    plane.click(position={"x": fx * box["width"], "y": fy * box["height"]})


LEFT = [(0.2, 0.2 + 0.07 * i) for i in range(9)]  # class 0: the left side of the plane
RIGHT = [(0.8, 0.2 + 0.07 * i) for i in range(9)]  # class 1: the right side


def stored_points(server_url: str, digest: str) -> dict:
    with urllib.request.urlopen(f"{server_url}/api/data/{digest}", timeout=10) as response:
        return json.loads(response.read())


def test_points_clicked_on_the_plane_train_and_replay_from_the_permalink(
    page: Page, new_page, server_url: str
) -> None:
    posts: list[str] = []
    page.on("request", lambda r: posts.append(urlsplit(r.url).path) if r.method == "POST" else None)
    page.goto("/?dataset=custom")
    expect(page.get_by_role("radio", name="Your data", exact=True)).to_be_checked()
    summary = page.locator("#data-summary")
    expect(summary).to_contain_text("No points yet")
    click_points(page, 0, LEFT)
    click_points(page, 1, RIGHT)
    expect(summary).to_have_text("18 points of 2 classes, not sent yet: Train sends them.")
    # A third class, erased again: Erase on, a click on its point.
    click_points(page, 2, [(0.5, 0.9)])
    expect(summary).to_have_text("19 points of 3 classes, not sent yet: Train sends them.")
    expect(page.locator("#network-caption")).to_contain_text("→ 3 ·")  # three outputs
    page.get_by_label("Erase").check()
    click_plane(page, 0.5, 0.9)
    page.get_by_label("Erase").uncheck()
    expect(summary).to_have_text("18 points of 2 classes, not sent yet: Train sends them.")
    expect(page.locator("#boundary")).to_have_attribute("data-points", "18")
    assert "data=" not in page.url and "dataset=custom" in page.url  # no hash before they are sent
    assert posts == []

    page.get_by_label("Epochs", exact=True).fill(str(EPOCHS))
    page.get_by_role("button", name="Train").click()
    expect(page).to_have_url(re.compile(r"/runs/[A-Za-z0-9_-]{12}$"))
    expect(page.locator("#status")).to_have_attribute("data-status", "done", timeout=60_000)
    assert posts == ["/api/data", "/api/runs"]  # the points first, then the run
    expect(summary).to_have_text("18 points of 2 classes, stored.")
    run_id = page.url.rsplit("/", 1)[1]
    with urllib.request.urlopen(f"{server_url}/api/runs/{run_id}", timeout=10) as response:
        run = json.loads(response.read())
    digest = run["config"]["data"]
    assert run["config"]["dataset"] == "custom" and run["sizes"] == [2, 16, 16, 2]
    points = stored_points(server_url, digest)
    assert points["points"] == 18 and points["classes"] == 2
    assert all((x < 0) == (label == 0) for x, _, label in points["rows"])  # where they were clicked
    expect(page.locator("#boundary")).to_have_attribute("data-grid-epoch", str(EPOCHS))
    screenshots(page, "custom-data")

    # The permalink, in another browser: the recorded run with the same points, nothing trained again.
    other = new_page(server_url)
    other.goto(f"/runs/{run_id}")
    expect(other.locator("#status")).to_have_attribute("data-status", "done")
    expect(other.locator("#boundary")).to_have_attribute("data-points", "18")
    expect(other.locator("#boundary")).to_have_attribute("data-grid-epoch", str(EPOCHS))
    # Fork: the points are loaded by their hash, ready to edit; the same settings, the same link.
    other.get_by_role("button", name="Fork").click()
    expect(other.locator("#data-summary")).to_have_text("18 points of 2 classes, stored.")
    expect(other).to_have_url(re.compile(re.escape(f"/?{run['query']}") + "$"))
    click_points(other, 1, [(0.9, 0.9)])  # one more: a new set, the run on the page is the previous one
    unsent = "19 points of 2 classes, not sent yet: Train sends them."
    expect(other.locator("#data-summary")).to_have_text(unsent)
    expect(other.locator("#main")).to_have_class(re.compile("is-previous-run"))

    # The config link redraws the points too.
    linked = new_page(server_url)
    linked.goto(f"/?{run['query']}")
    expect(linked.locator("#data-summary")).to_have_text("18 points of 2 classes, stored.")
    expect(linked.locator("#boundary")).to_have_attribute("data-points", "18")
    assert f"data={digest}" in linked.url


def test_a_csv_file_with_a_bad_row_shows_its_line_and_nothing_trains_until_it_is_fixed(
    new_page, server_url: str
) -> None:
    page = new_page(server_url, expected_errors=("status of 400",))  # Chromium logs the refused upload
    runs: list[str] = []
    page.on("request", lambda r: runs.append(r.url) if r.method == "POST" and "/api/runs" in r.url else None)
    page.goto("/?dataset=custom")
    rows = xor_csv().splitlines()
    rows[6] = "0.5,0.25,9"  # line 7
    page.locator("#data-file").set_input_files(
        files=[{"name": "points.csv", "mimeType": "text/csv", "buffer": "\n".join(rows).encode()}]
    )
    error = page.locator("#data-error")
    expect(error).to_have_text(
        "points.csv: Line 7: label 9 is not a class (0-5). Fix the file and upload it again: nothing is "
        "trained until then."
    )
    page.get_by_role("button", name="Train").click()
    expect(page.locator("#train-notice")).to_have_text("Fix Your points first: nothing was sent.")
    screenshots(page, "custom-data-bad-file")
    assert runs == []

    page.locator("#data-file").set_input_files(
        files=[{"name": "points.csv", "mimeType": "text/csv", "buffer": xor_csv().encode()}]
    )
    expect(error).to_be_hidden()
    expect(page.locator("#data-summary")).to_have_text("60 points of 2 classes, stored.")
    expect(page.locator("#boundary")).to_have_attribute("data-points", "60")
    assert re.search(r"data=[0-9a-f]{20}", page.url)  # stored: the address names it
    page.get_by_label("Epochs", exact=True).fill("5")
    page.get_by_role("button", name="Train").click()
    expect(page.locator("#status")).to_have_attribute("data-status", "done", timeout=60_000)
    assert len(runs) == 1
