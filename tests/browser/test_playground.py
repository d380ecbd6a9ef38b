"""The playground page: choose a network on a 2D set, train it, watch both charts and the
decision boundary grow; the URL mirrors the controls; bad entries are caught before sending."""

from __future__ import annotations

import io
import math
import re
from urllib.parse import urlsplit

import numpy as np
from playwright.sync_api import Page, expect

from core.config import parse_query
from core.network import Network
from core.views import grid_arrays
from tests.browser.helpers import screenshots

# The current run's train and validation traces are the last two of each chart.
CURVES = """() => ['loss-chart', 'accuracy-chart'].map(id => {
  const traces = document.getElementById(id).data || [];
  return traces.slice(-2).map(t => ({x: Array.from(t.x), y: Array.from(t.y)}));
})"""
ALL_EPOCHS = """n => ['loss-chart', 'accuracy-chart'].every(id => {
  const traces = document.getElementById(id).data || [];
  return traces.length >= 2 && traces.slice(-2).every(t => t.x.length === n);
})"""
# Share of the heatmap's pixels that are tinted (not white), and how many distinct colours it has.
HEATMAP_PIXELS = """() => {
  const canvas = document.getElementById('boundary');
  const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
  let tinted = 0, total = 0; const colours = new Set();
  for (let i = 0; i < data.length; i += 4 * 97) {
    total += 1;
    if (data[i] < 245 || data[i + 1] < 245 || data[i + 2] < 245) tinted += 1;
    colours.add(`${data[i] >> 5},${data[i + 1] >> 5},${data[i + 2] >> 5}`);
  }
  return {tinted: tinted / total, colours: colours.size};
}"""
# The class each cell of the heatmap shows: the class colour that, blended with white, is nearest to
# the canvas pixel at the cell's centre (row 0 at the bottom, as the server's grid); -1 for white.
HEATMAP_CLASSES = """async (size) => {
  const { CLASS_COLORS } = await import('/static/js/heatmap.js');
  const tints = CLASS_COLORS.map(hex => [1, 3, 5].map(k => 255 - parseInt(hex.slice(k, k + 2), 16)));
  const canvas = document.getElementById('boundary');
  const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
  const rows = [];
  for (let i = 0; i < size; i += 1) {
    const row = [];
    for (let j = 0; j < size; j += 1) {
      const x = Math.floor(((j + 0.5) / size) * canvas.width);
      const y = Math.floor((1 - (i + 0.5) / size) * canvas.height);
      const tint = [0, 1, 2].map(k => 255 - data[(y * canvas.width + x) * 4 + k]);
      let best = -1, error = Infinity;
      for (const [index, c] of tints.entries()) {
        const dot = (a, b) => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
        const alpha = dot(tint, c) / dot(c, c);
        const e = tint.reduce((sum, t, k) => sum + (t - alpha * c[k]) ** 2, 0);
        if (alpha > 0.05 && e < error) [best, error] = [index, e];
      }
      row.push(best);
    }
    rows.push(row);
  }
  return rows;
}"""


def query_of(page: Page) -> str:
    return urlsplit(page.url).query


def expect_query(page: Page, query: str) -> None:
    """The address bar ends with exactly this query string (waits for history.replaceState)."""
    expect(page).to_have_url(re.compile(re.escape(f"/?{query}") + "$"))


def test_train_a_2d_set_and_watch_it_learn(page: Page, seen) -> None:
    page.goto("/")
    page.get_by_role("radio", name="Spiral").check()
    layers = page.get_by_role("group", name="Hidden layers")
    page.get_by_role("button", name="Remove layer").click()
    layers.get_by_label("Hidden layer 1 size", exact=True).fill("24")
    page.get_by_role("button", name="Add layer").click()
    layers.get_by_label("Hidden layer 2 size", exact=True).fill("12")
    page.get_by_label("Learning rate", exact=True).fill("0.1")
    page.get_by_label("Epochs", exact=True).fill("40")

    # The URL is the canonical query string, exactly what core.config writes for this config.
    expected = (
        "dataset=spiral&hidden=24,12&lr=0.1&batch_size=16&epochs=40&seed=42"
        "&noise=0.1&train_ratio=0.7&points=600&classes=3"
    )
    assert expected == parse_query(expected).to_query()
    expect_query(page, expected)
    expect(page.locator("#network-caption")).to_have_text("2 → 24 → 12 → 3 · 411 parameters")

    with page.expect_request(lambda r: r.method == "POST" and r.url.endswith("/api/runs")) as posted:
        page.get_by_role("button", name="Train").click()
    assert posted.value.post_data_json == parse_query(expected).to_dict()

    page.wait_for_function(ALL_EPOCHS, arg=40)
    for chart in page.evaluate(CURVES):
        for trace in chart:
            assert trace["x"] == list(range(1, 41))
            assert all(isinstance(v, (int, float)) and math.isfinite(v) for v in trace["y"])
    loss_train = page.evaluate(CURVES)[0][0]["y"]
    assert loss_train[-1] < loss_train[0], "the training loss should go down"

    status = page.locator("#status")
    expect(status).to_have_attribute("data-status", "done")
    expect(status).to_contain_text("test accuracy")
    expect(page.locator("#epoch-counter")).to_have_text("Epoch 40 / 40")
    expect(page.locator("#boundary")).to_have_attribute("data-grid-epoch", "40")
    expect(page.locator("#boundary")).to_have_attribute("data-points", "600")
    pixels = page.evaluate(HEATMAP_PIXELS)
    assert pixels["tinted"] > 0.9 and pixels["colours"] > 10, pixels

    # The heatmap shows the server's grid (packed as base64 bytes), the right way up.
    run_id = re.search(
        r"/api/runs/([\w-]+)/", page.get_by_role("link", name="Weights (.npz)").get_attribute("href")
    )[1]
    grid = page.request.get(f"/api/runs/{run_id}/views").json()["grid"]
    predicted, _ = grid_arrays(grid)
    shown = np.array(page.evaluate(HEATMAP_CLASSES, grid["size"]))
    assert len(set(predicted.ravel().tolist())) == 3
    assert (shown == predicted).mean() > 0.8, (shown == predicted).mean()

    # Downloads: the weights load with the core, the CSV has a row per epoch.
    weights = page.request.get(page.get_by_role("link", name="Weights (.npz)").get_attribute("href"))
    assert weights.ok
    network = Network.load(io.BytesIO(weights.body()))
    assert list(network.sizes) == [2, 24, 12, 3]
    assert np.isfinite(network.dense_layers[0].weights).all()
    metrics = page.request.get(page.get_by_role("link", name="Metrics (CSV)").get_attribute("href"))
    assert metrics.ok and len(metrics.text().strip().splitlines()) == 41
    screenshots(page, "playground-2d")
    assert [m for m, url in seen.requests if m == "POST" and url.endswith("/api/runs")] == ["POST"]


def test_a_config_url_fills_the_controls(page: Page) -> None:
    query = (
        "dataset=moons&hidden=8,4,2&lr=0.03&batch_size=64&epochs=12&seed=7&momentum=0.5"
        "&noise=0.25&train_ratio=0.6&points=400"
    )
    assert parse_query(query).to_query() == query  # canonical, so the page keeps it as it is
    page.goto(f"/?{query}")
    expect(page.get_by_role("radio", name="Moons")).to_be_checked()
    layers = page.get_by_role("group", name="Hidden layers").locator("input")
    expect(layers).to_have_count(3)
    assert [layers.nth(i).input_value() for i in range(3)] == ["8", "4", "2"]
    expect(page.get_by_label("Learning rate", exact=True)).to_have_value("0.03")
    expect(page.get_by_label("Batch size", exact=True)).to_have_value("64")
    expect(page.get_by_label("Epochs", exact=True)).to_have_value("12")
    expect(page.get_by_label("Seed", exact=True)).to_have_value("7")
    expect(page.get_by_label("Momentum", exact=True)).to_have_value("0.5")
    expect(page.get_by_label("Noise", exact=True)).to_have_value("0.25")
    expect(page.get_by_label("Training ratio", exact=True)).to_have_value("0.6")
    expect(page.get_by_label("Points", exact=True)).to_have_value("400")
    expect(page.get_by_label("Classes", exact=True)).to_be_hidden()  # moons always has two
    expect_query(page, query)
    expect(page.locator("#network-caption")).to_have_text("2 → 8 → 4 → 2 → 2 · 76 parameters")

    # Changing a control rewrites the URL in canonical form; Copy link copies it.
    page.get_by_label("Seed", exact=True).fill("8")
    expect_query(page, query.replace("seed=7", "seed=8"))
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.get_by_role("button", name="Copy link").click()
    expect(page.locator("#copy-feedback")).to_have_text("Link copied.")
    assert page.evaluate("() => navigator.clipboard.readText()") == page.url
    screenshots(page, "config-url")


def test_invalid_entries_are_shown_and_nothing_is_sent(page: Page, seen) -> None:
    page.goto("/?dataset=circles&epochs=10")
    expect_query(
        page,
        "dataset=circles&hidden=16,16&lr=0.3&batch_size=16&epochs=10&seed=42&noise=0.1&train_ratio=0.7&points=600",
    )
    before = query_of(page)
    page.get_by_label("Epochs", exact=True).fill("0")
    expect(page.locator("#epochs-error")).to_have_text("Must be between 1 and 1000.")
    expect(page.get_by_label("Epochs", exact=True)).to_have_attribute("aria-invalid", "true")
    page.get_by_label("Learning rate", exact=True).fill("5")
    expect(page.locator("#lr-error")).to_have_text("Must be between 0.0001 and 3.")
    page.get_by_label("Hidden layer 1 size", exact=True).fill("600")
    expect(page.locator("#hidden-error")).to_contain_text("from 1 to 512")
    assert query_of(page) == before  # the URL keeps the last valid config

    page.get_by_role("button", name="Train").click()
    expect(page.locator("#train-notice")).to_contain_text("nothing was sent")
    expect(page.get_by_label("Hidden layer 1 size", exact=True)).to_be_focused()
    assert not [url for method, url in seen.requests if method == "POST"]
    screenshots(page, "invalid-entries")

    page.get_by_label("Epochs", exact=True).fill("10")
    expect(page.locator("#epochs-error")).to_be_hidden()


def test_a_bad_link_says_what_was_wrong(page: Page) -> None:
    page.goto("/?dataset=spiral&lr=banana")
    expect(page.locator("#query-error")).to_be_visible()
    expect(page.locator("#query-error")).to_contain_text("lr")


def test_the_keyboard_alone_can_choose_a_set_and_train(page: Page) -> None:
    page.goto("/?dataset=circles&hidden=8&epochs=5&points=200")
    page.get_by_role("radio", name="Circles").focus()
    page.keyboard.press("ArrowRight")  # radios: arrows move the choice
    expect(page.get_by_role("radio", name="Moons")).to_be_checked()
    page.keyboard.press("Tab")
    expect(page.get_by_label("Hidden layer 1 size", exact=True)).to_be_focused()
    page.keyboard.type("6")  # the settings stay from one 2D set to another; the field is then edited
    page.get_by_label("Epochs", exact=True).focus()
    page.keyboard.press("ControlOrMeta+a")
    page.keyboard.type("5")
    page.keyboard.press("Enter")  # Enter in a field submits the form: Train
    expect(page.locator("#status")).to_have_attribute("data-status", "done")
    page.wait_for_function(ALL_EPOCHS, arg=5)


def test_a_diverging_run_fails_with_a_hint(page: Page) -> None:
    page.goto("/?dataset=xor&hidden=512,512,512&lr=3&batch_size=16&epochs=20&init=he&momentum=0.99")
    page.get_by_role("button", name="Train").click()
    status = page.locator("#status")
    expect(status).to_have_attribute("data-status", "failed")
    expect(status).to_contain_text("lower")
    expect(status).to_contain_text("For example 0.3")
    screenshots(page, "failed-run")


def test_stop_ends_a_running_run(page: Page) -> None:
    page.goto("/?dataset=spiral&hidden=16,16&lr=0.1&batch_size=1&epochs=1000&points=5000")
    page.get_by_role("button", name="Train").click()
    page.wait_for_function(
        "() => ((document.getElementById('loss-chart').data || []).at(-1)?.x.length ?? 0) >= 2"
    )
    expect(page.locator("#eta")).to_contain_text("left")
    page.get_by_role("button", name="Stop").click()
    status = page.locator("#status")
    expect(status).to_have_attribute("data-status", "stopped")
    expect(status).to_contain_text("Stopped after epoch")
    expect(page.get_by_role("button", name="Stop")).to_be_disabled()


def test_training_the_same_experiment_again_replays_the_stored_run(page: Page, seen) -> None:
    page.goto("/?dataset=blobs&hidden=6&epochs=15&seed=314&points=300")
    page.get_by_role("button", name="Train").click()
    status = page.locator("#status")
    expect(status).to_have_attribute("data-status", "done")
    page.wait_for_function(ALL_EPOCHS, arg=15)
    first = page.evaluate(CURVES)
    weights = page.get_by_role("link", name="Weights (.npz)").get_attribute("href")

    with page.expect_response(lambda r: r.request.method == "POST" and r.url.endswith("/api/runs")) as posted:
        page.get_by_role("button", name="Train").click()
    assert posted.value.status == 200 and posted.value.json()["reused"] is True
    expect(status).to_contain_text("Same experiment already trained: replaying it.")
    expect(status).to_contain_text("test accuracy")
    page.wait_for_function(ALL_EPOCHS, arg=15)
    assert page.evaluate(CURVES) == first  # the recorded curves, nothing trained again
    assert page.get_by_role("link", name="Weights (.npz)").get_attribute("href") == weights
    assert [m for m, url in seen.requests if m == "POST" and url.endswith("/api/runs")] == ["POST", "POST"]
