"""Sweeps on the page: the playground's sweep form (two settings, the total estimate, Run sweep) opens
/sweeps/<id>, whose heatmap fills in as the 3x3 grid's runs finish, with each cell's number the run's
own and the best cell marked, and whose small multiples hold every cell's curve; pointing at a cell shows
its config, clicking it opens its run; the sweep's link replays it at once, and its address pre-fills the
form."""

from __future__ import annotations

import re
import time

from playwright.sync_api import Page, expect

from tests.browser.helpers import api, screenshots

CONFIG = "/?dataset=xor&hidden=4&epochs=12&points=200"


def test_the_sweep_form_starts_a_3x3_sweep_whose_heatmap_fills_in_and_opens_its_runs(
    page: Page, new_page, server_url
):
    page.goto(CONFIG)
    page.locator("#sweep-axis-0").select_option("lr")
    page.locator("#sweep-values-0").fill("0.03, 0.3, 3")
    page.locator("#sweep-axis-1").select_option("hidden")
    page.locator("#sweep-values-1").fill("2, 4, 8")
    expect(page.locator("#sweep-estimate")).to_have_text(
        re.compile(r"^9 runs, about \d+ s of training in all\.$")
    )
    expect(page).to_have_url(re.compile(r"&sweep=lr:0\.03,0\.3,3;hidden:2,4,8$"))
    screenshots(page, "sweep-form")

    began = time.monotonic()
    page.get_by_role("button", name="Run sweep").click()
    page.wait_for_url(re.compile(r"/sweeps/[A-Za-z0-9_-]{12}$"))
    expect(page.locator("#sweep-heatmap")).to_have_attribute("data-filled", "9", timeout=60_000)
    filled = time.monotonic() - began
    print(f"\nRun sweep -> a full 3x3 heatmap: {filled:.1f} s")
    expect(page.locator("#sweep-status")).to_contain_text("All 9 runs ended")
    sweep_id = page.url.rsplit("/", 1)[1]
    sweep = api(server_url, f"/api/sweeps/{sweep_id}")
    assert sweep["query"] == "lr:0.03,0.3,3;hidden:2,4,8" and sweep["status"] == "done"

    # Each cell shows its run's own final validation accuracy; the best one is starred.
    texts = [page.locator(f'#sweep-heatmap a[data-cell="{i}"]').inner_text() for i in range(9)]
    numbers = [cell["val_acc"] for cell in sweep["cells"]]
    best = max(range(9), key=lambda i: numbers[i])
    for i, cell in enumerate(sweep["cells"]):
        run = api(server_url, f"/api/runs/{cell['run']}")
        assert cell["val_acc"] == run["epochs"][-1]["val_acc"]
        shown = f"{run['epochs'][-1]['val_acc'] * 100:.1f}%"
        assert texts[i] == (f"★ {shown}" if i == best else shown), (i, texts[i])
    # The small multiples have every cell's whole curve.
    curves = page.evaluate("document.getElementById('sweep-curves').data.map((t) => t.y.length)")
    assert curves == [12] * 9
    screenshots(page, "sweep-page")

    page.locator('input[name="sweep-metric"][value="val_loss"]').check()
    expect(page.locator("#heatmap-title")).to_have_text("Final validation loss")
    page.locator('input[name="sweep-metric"][value="val_acc"]').check()

    # Pointing at the middle cell (lr 0.3, hidden 4) shows its settings; clicking it opens its run.
    middle = page.locator('#sweep-heatmap a[data-cell="4"]')
    middle.hover()
    expect(page.locator("#sweep-tip")).to_contain_text("Learning rate: 0.3")
    expect(page.locator("#sweep-tip")).to_contain_text(sweep["cells"][4]["query"].replace("&", " "))
    middle.click()
    page.wait_for_url(re.compile(r"/runs/"))
    assert page.url.endswith(f"/runs/{sweep['cells'][4]['run']}")
    # The run's page links back to its sweep.
    expect(page.locator("#run-of-sweep-link")).to_have_attribute("href", f"/sweeps/{sweep_id}")

    # The sweep's link, in another browser, replays it at once; its address pre-fills the form.
    other = new_page(server_url)
    other.goto(f"/sweeps/{sweep_id}")
    expect(other.locator("#sweep-heatmap")).to_have_attribute("data-filled", "9", timeout=10_000)
    other.get_by_role("link", name="Open in the playground").click()
    expect(other.locator("#sweep-axis-0")).to_have_value("lr")
    expect(other.locator("#sweep-values-1")).to_have_value("2, 4, 8")
    expect(other.locator("#sweep-estimate")).to_contain_text("9 runs")
