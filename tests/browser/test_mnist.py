"""MNIST: a short run shows the confusion matrix, the misclassified digits and the first-layer
weights, and the digit you draw gets class probabilities that sum to 1."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.browser.helpers import screenshots

PROBABILITIES = (
    "() => [...document.querySelectorAll('#prob-bars li')].map(li => Number(li.dataset.probability))"
)
# The drawing is turned into an MNIST-like image: ink box scaled to 20 px, centre of mass at the middle.
PREPROCESS = """async () => {
  const { toMnistPixels } = await import('/static/js/digits.js');
  const w = 280, h = 280, ink = new Uint8ClampedArray(w * h);
  for (let y = 10; y < 70; y += 1) {  // a 30x60 bar in the top right corner
    for (let x = 200; x < 230; x += 1) ink[y * w + x] = 255;
  }
  const px = toMnistPixels(ink, w, h);
  let mass = 0, cx = 0, cy = 0;
  const rows = new Set(), cols = new Set();
  px.forEach((v, i) => {
    if (v === 0) return;
    mass += v;
    cx += v * ((i % 28) + 0.5);
    cy += v * (Math.floor(i / 28) + 0.5);
    rows.add(Math.floor(i / 28));
    cols.add(i % 28);
  });
  const blank = toMnistPixels(new Uint8ClampedArray(w * h), w, h);
  return { cx: cx / mass, cy: cy / mass, height: rows.size, width: cols.size, blank };
}"""


def draw_a_seven(page: Page) -> None:
    pad = page.get_by_role("img", name="Draw a digit")
    pad.scroll_into_view_if_needed()
    box = pad.bounding_box()
    x, y, size = box["x"], box["y"], box["width"]
    page.mouse.move(x + size * 0.3, y + size * 0.2)
    page.mouse.down()
    page.mouse.move(x + size * 0.7, y + size * 0.2, steps=12)
    page.mouse.move(x + size * 0.45, y + size * 0.85, steps=16)
    page.mouse.up()


def test_a_short_mnist_run_shows_its_views_and_reads_a_drawing(page: Page) -> None:
    page.goto("/?dataset=mnist&hidden=32&lr=0.1&batch_size=128&epochs=2&seed=1")
    expect(page.locator("#network-caption")).to_have_text("784 → 32 → 10 · 25,450 parameters")
    page.get_by_role("button", name="Train").click()
    status = page.locator("#status")
    expect(status).to_have_attribute("data-status", "done", timeout=90_000)
    expect(status).to_contain_text("test accuracy")

    confusion = page.locator("#confusion")
    expect(confusion.locator("tbody tr")).to_have_count(10)
    expect(confusion.locator("tbody td")).to_have_count(100)
    expect(confusion).to_have_attribute("data-total", "10000")  # the whole validation set
    expect(page.locator("#mistakes li")).to_have_count(12)
    expect(page.locator("#first-layer")).to_have_attribute("data-units", "32")

    draw_a_seven(page)
    expect(page.locator("#prob-bars")).to_have_attribute("data-ready", "true")
    probabilities = page.evaluate(PROBABILITIES)
    assert len(probabilities) == 10 and all(0 <= p <= 1 for p in probabilities)
    assert abs(sum(probabilities) - 1) < 1e-3
    expect(page.locator("#prob-summary")).to_contain_text("Looks like a")
    screenshots(page, "mnist")

    page.get_by_role("button", name="Clear").click()
    expect(page.locator("#prob-bars")).to_have_attribute("data-ready", "false")
    page.get_by_role("button", name="Sample digit").click()  # the keyboard way to try the network
    expect(page.locator("#prob-bars")).to_have_attribute("data-ready", "true")
    assert abs(sum(page.evaluate(PROBABILITIES)) - 1) < 1e-3


def test_drawings_are_centred_and_scaled_like_mnist(page: Page) -> None:
    page.goto("/?dataset=mnist")
    result = page.evaluate(PREPROCESS)
    assert result["blank"] is None
    assert result["height"] == 20 and result["width"] == 10  # 60x30 ink box -> 20x10
    assert abs(result["cx"] - 14) <= 0.5 and abs(result["cy"] - 14) <= 0.5
