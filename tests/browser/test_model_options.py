"""The Playground's model options on the page: activation, L2 and input features change what is trained and
are mirrored in the URL; the feature toggles show their pictures; the boundary's view toggles; the
Layers chart; switching between 2D sets keeps the settings."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from core.config import parse_query
from tests.browser.helpers import screenshots

BASE = "dataset=circles&hidden=8&lr=0.3&batch_size=16&epochs=12&seed=42&noise=0.1&train_ratio=0.7&points=200"
# The current run's training loss, as drawn (the loss chart's second-last trace).
TRAIN_LOSS = "() => Array.from((document.getElementById('loss-chart').data || []).at(-2)?.y || [])"
# Share of a canvas's sampled pixels that are not white.
INKED = """(canvas) => {
  const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
  let inked = 0, total = 0;
  for (let i = 0; i < data.length; i += 4 * 7) {
    total += 1;
    if (data[i] + data[i + 1] + data[i + 2] < 720) inked += 1;
  }
  return inked / total;
}"""
# A checksum of the decision boundary's pixels.
PIXELS = """() => {
  const canvas = document.getElementById('boundary');
  const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
  let sum = 0;
  for (let i = 0; i < data.length; i += 13) sum = (sum * 31 + data[i]) % 1000000007;
  return sum;
}"""


def expect_query(page: Page, query: str) -> None:
    expect(page).to_have_url(re.compile(re.escape(f"/?{query}") + "$"))


def train(page: Page) -> tuple[dict, list[float]]:
    """Press Train; return the POSTed config and the training loss curve once the run is done."""
    with page.expect_response(lambda r: r.request.method == "POST" and r.url.endswith("/api/runs")) as answer:
        page.get_by_role("button", name="Train").click()
    # This run's own end (the previous run's "done" and curve are still on the page for a moment).
    weights = page.get_by_role("link", name="Weights (.npz)")
    expect(weights).to_have_attribute("href", re.compile(re.escape(answer.value.json()["id"])))
    expect(page.locator("#status")).to_have_attribute("data-status", "done")
    page.wait_for_function("() => (document.getElementById('loss-chart').data || []).at(-2)?.y.length === 12")
    return answer.value.request.post_data_json, page.evaluate(TRAIN_LOSS)


def test_every_new_control_changes_what_is_trained_and_is_in_the_url(page: Page) -> None:
    page.goto(f"/?{BASE}")
    expect_query(page, BASE)
    baseline_config, baseline = train(page)
    assert baseline_config["activation"] == "relu" and baseline_config["l2"] == 0
    assert baseline_config["features"] == ["x1", "x2"]
    page.evaluate("document.querySelector('details.more').open = true")

    features = page.get_by_role("group", name="Features", exact=True)
    changes = [
        (
            "activation=tanh",
            lambda: page.get_by_label("Activation", exact=True).select_option("tanh"),
            lambda: page.get_by_label("Activation", exact=True).select_option("relu"),
            ("activation", "tanh"),
        ),
        (
            "l2=0.05",
            lambda: page.get_by_label("L2 regularization", exact=True).fill("0.05"),
            lambda: page.get_by_label("L2 regularization", exact=True).fill("0"),
            ("l2", 0.05),
        ),
        (
            "features=x1,x2,x1^2",
            lambda: features.get_by_role("checkbox", name="X₁²", exact=True).check(),
            lambda: features.get_by_role("checkbox", name="X₁²", exact=True).uncheck(),
            ("features", ["x1", "x2", "x1^2"]),
        ),
    ]
    for part, change, undo, (name, value) in changes:
        change()
        # advanced and later fields come after the fields of every dataset, in the table's order
        expected = BASE.replace("&noise", f"&{part}&noise") if name != "features" else f"{BASE}&{part}"
        assert parse_query(expected).to_query() == expected  # the page writes what core.config writes
        expect_query(page, expected)
        config, curve = train(page)
        assert config[name] == value
        assert curve != baseline, f"{name}: the same training loss as without it"
        undo()
        expect_query(page, BASE)
    # the network drawing follows the features: three inputs
    features.get_by_role("checkbox", name="X₁X₂", exact=True).check()
    expect(page.locator("#network-caption")).to_contain_text("3 → 8 → 2")


def test_feature_toggles_show_each_features_picture(page: Page) -> None:
    page.goto("/?dataset=spiral&features=x1,x1x2,sin_x2")
    group = page.get_by_role("group", name="Features", exact=True)
    checked = [group.get_by_role("checkbox").nth(i).is_checked() for i in range(7)]
    assert checked == [True, False, False, False, True, False, True]
    pictures = page.locator(".toggle-picture").all()
    assert len(pictures) == 7 and all(canvas.evaluate(INKED) > 0.3 for canvas in pictures)
    expect(page.locator("#network-caption")).to_contain_text("3 → 16 → 16 → 3")
    screenshots(page, "feature-toggles")


def test_the_layers_chart_draws_a_line_per_layer_for_a_spiral_run(page: Page) -> None:
    page.goto("/?dataset=spiral&epochs=60")
    page.get_by_role("button", name="Train").click()
    expect(page.locator("#status")).to_have_attribute("data-status", "done")
    lines = "(document.getElementById('layers-chart').data || []).filter(t => t.name)"  # (and an empty one)
    page.wait_for_function(f"() => {lines}.length === 5 && {lines}.every(t => t.x.length === 60)")
    traces = page.evaluate(
        f"() => {lines}.map(t => ({{name: t.name, yaxis: t.yaxis || 'y', y: Array.from(t.y)}}))"
    )
    assert [t["name"] for t in traces] == ["layer 1", "layer 2", "output", "layer 1 dead", "layer 2 dead"]
    run_id = re.search(
        r"/api/runs/([\w-]+)/", page.get_by_role("link", name="Weights (.npz)").get_attribute("href")
    )[1]
    epochs = page.request.get(f"/api/runs/{run_id}").json()["epochs"]
    for i in range(3):  # the drawn lines are the run's own numbers
        assert (
            traces[i]["y"] == [e["layers"][i]["update_ratio"] for e in epochs] and traces[i]["yaxis"] == "y"
        )
    for i in range(2):
        assert (
            traces[3 + i]["y"] == [e["layers"][i]["dead"] for e in epochs] and traces[3 + i]["yaxis"] == "y2"
        )
    assert all(1e-5 < y < 1 for t in traces[:3] for y in t["y"])
    # the 1e-3 rule of thumb is marked
    shapes = page.evaluate("() => document.getElementById('layers-chart').layout.shapes")
    assert shapes[0]["y0"] == shapes[0]["y1"] == 0.001
    expect(page.locator("#layers-chart")).to_contain_text("rule of thumb")
    screenshots(page, "layers-chart")


def test_the_boundary_toggles_show_the_test_points_and_discretize(page: Page) -> None:
    page.goto("/?dataset=moons&epochs=5&points=300")
    page.get_by_role("button", name="Train").click()
    boundary = page.locator("#boundary")
    expect(boundary).to_have_attribute("data-grid-epoch", "5")
    expect(boundary).to_have_attribute("data-test-points", "0")
    before = page.evaluate(PIXELS)
    page.get_by_label("Show test data").check()
    expect(boundary).to_have_attribute("data-test-points", "90")  # the test split: as large as validation
    expect(page.locator("#test-key")).to_be_visible()
    with_test = page.evaluate(PIXELS)
    assert with_test != before
    page.get_by_label("Discretize output").check()
    expect(boundary).to_have_attribute("data-discretized", "true")
    page.wait_for_timeout(100)
    assert page.evaluate(PIXELS) != with_test
    page.get_by_label("Show test data").uncheck()
    page.get_by_label("Discretize output").uncheck()
    expect(boundary).to_have_attribute("data-test-points", "0")
    page.wait_for_timeout(100)
    assert page.evaluate(PIXELS) == before
    assert "show" not in page.url and "discret" not in page.url  # view toggles: not the experiment's


def test_switching_between_2d_sets_keeps_the_settings(page: Page) -> None:
    page.goto(
        "/?dataset=spiral&hidden=24,12&lr=0.1&batch_size=8&epochs=40&seed=7&activation=tanh&noise=0.2"
        "&train_ratio=0.7&points=600&classes=5&features=x1,x2,x1x2"
    )
    page.get_by_role("radio", name="Circles").check()
    expect_query(
        page,
        "dataset=circles&hidden=24,12&lr=0.1&batch_size=8&epochs=40&seed=7&activation=tanh"
        "&noise=0.2&train_ratio=0.7&points=600&features=x1,x2,x1x2",
    )
    expect(page.get_by_label("Classes", exact=True)).to_be_hidden()  # what does not apply goes
    page.get_by_role("radio", name="Blobs").check()  # ... and comes back with the new set's default
    expect(page.get_by_label("Classes", exact=True)).to_have_value("3")
    expect(page.get_by_label("Hidden layer 1 size", exact=True)).to_have_value("24")
    # MNIST has sensible defaults of its own; only the seed stays
    page.get_by_role("radio", name="MNIST").check()
    expect_query(page, "dataset=mnist&hidden=100,200&lr=0.1&batch_size=32&epochs=25&seed=7")
    page.get_by_role("radio", name="Moons").check()
    expect_query(
        page,
        "dataset=moons&hidden=16,16&lr=0.3&batch_size=16&epochs=100&seed=7&noise=0.1"
        "&train_ratio=0.7&points=600",
    )
    screenshots(page, "switched-sets")
