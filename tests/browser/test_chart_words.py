"""What the charts and the status line say: hover labels show whole run names (an overlay's name says
how its config differs), the accuracy axis never shows the same tick label twice, and a screen reader
hears the status line's milestones (start, each quarter, the end), not every epoch."""

from __future__ import annotations

import colorsys

from playwright.sync_api import Page, expect

LONG_NAME = "hidden 128-64 · lr 0.003 · batch 64"

# Draws the page's two charts (charts.js, as main.js uses it) with a current run whose accuracy stays
# within 10.0%..10.6% and an overlaid run with a long name; answers the accuracy axis's tick labels.
DRAW = """async ({ longName }) => {
  const { MetricCharts, loadPlotly } = await import('/static/js/charts.js');
  await loadPlotly();
  const epochs = (acc) => acc.map((a, i) => ({ epoch: i + 1, train_loss: 2.3 - i / 100, val_loss: 2.3,
                                               train_acc: a, val_acc: a + 0.001 }));
  const charts = new MetricCharts(document.getElementById('loss-chart'),
                                  document.getElementById('accuracy-chart'));
  charts.setCurrent({ id: 'a', label: 'hidden 16-16 · lr 0.3', color: '#1a73e8', total: 6,
                      epochs: epochs([0.1, 0.101, 0.103, 0.102, 0.104, 0.105]) });
  await charts.setOverlays([{ id: 'b', label: longName, color: '#827717', total: 6,
                              epochs: epochs([0.1, 0.102, 0.101, 0.103, 0.105, 0.104]) }]);
  return [...document.querySelectorAll('#accuracy-chart .ytick text')].map((t) => t.textContent);
}"""


def test_accuracy_ticks_never_repeat_and_hover_labels_show_whole_names(page: Page) -> None:
    page.goto("/?dataset=spiral")
    ticks = page.evaluate(DRAW, {"longName": LONG_NAME})
    assert len(ticks) >= 2, ticks
    assert len(set(ticks)) == len(ticks), f"repeated tick labels: {ticks}"
    assert all(tick.endswith("%") for tick in ticks), ticks

    # Unified hover shows the epoch under the pointer: point at epoch 3, mid-height.
    page.locator("#accuracy-chart").scroll_into_view_if_needed()
    plot = page.locator("#accuracy-chart .nsewdrag").bounding_box()
    epoch = page.locator("#accuracy-chart .xtick text", has_text="3").bounding_box()
    assert plot is not None and epoch is not None
    page.mouse.move(epoch["x"] + epoch["width"] / 2, plot["y"] + plot["height"] / 2, steps=3)
    hover = page.locator("#accuracy-chart .hoverlayer")
    expect(hover).to_contain_text(f"{LONG_NAME} · validation")
    expect(hover).to_contain_text(f"{LONG_NAME} · train")


# A status line and progress bar of their own, driven through a 40-epoch run as main.js drives the
# page's; answers what the live region said, in order.
ANNOUNCE = """async () => {
  const { announceMilestones } = await import('/static/js/announcer.js');
  const line = document.createElement('p'), progress = document.createElement('progress');
  const region = document.createElement('p');
  document.body.append(line, progress, region);
  line.dataset.status = 'idle';
  const said = [];
  new MutationObserver(() => said.push(region.textContent)).observe(region, { childList: true });
  announceMilestones(line, progress, region);
  const tick = () => new Promise((resolve) => setTimeout(resolve, 0));
  const show = async (status, text, tone, fraction) => {
    line.textContent = text;
    line.dataset.status = status;
    line.dataset.tone = tone;
    progress.value = fraction;
    await tick();
  };
  await show('queued', 'Queued: starting soon.', 'busy', 0);
  for (let epoch = 0; epoch <= 40; epoch += 1) {
    await show('running', epoch ? `Training: epoch ${epoch} of 40.` : 'Training: preparing the data…',
               'busy', epoch / 40);
  }
  await show('done', 'Done: test accuracy 97.0% after 40 epochs.', 'good', 1);
  for (let second = 9; second > 0; second -= 1) {
    await show('error', `Too many runs at once. Try again in ${second} s.`, 'bad', 1);
  }
  await show('error', 'Fix Learning rate first: nothing was sent.', 'bad', 1);
  return said;
}"""


def test_the_live_region_announces_milestones_not_every_epoch(page: Page) -> None:
    page.goto("/?dataset=spiral")
    said = page.evaluate(ANNOUNCE)
    assert said == [
        "Queued: starting soon.",
        "Training: preparing the data…",
        "Training: epoch 10 of 40.",
        "Training: epoch 20 of 40.",
        "Training: epoch 30 of 40.",
        "Done: test accuracy 97.0% after 40 epochs.",
        "Too many runs at once. Try again in 9 s.",
        "Fix Learning rate first: nothing was sent.",
    ]


def test_the_page_announces_a_real_runs_milestones_only(page: Page) -> None:
    page.goto("/?dataset=spiral&epochs=40")
    status, region = page.locator("#status"), page.locator("#status-announcer")
    assert status.get_attribute("role") is None and status.get_attribute("aria-live") is None
    expect(region).to_have_attribute("role", "status")
    page.evaluate(
        """() => {
      window.said = [];
      const region = document.getElementById('status-announcer');
      new MutationObserver(() => window.said.push(region.textContent)).observe(region, { childList: true });
    }"""
    )
    page.get_by_role("button", name="Train").click()
    expect(status).to_have_attribute("data-status", "done", timeout=60_000)
    said = page.evaluate("window.said")
    assert said[-1].startswith("Done"), said
    assert 2 <= len(said) <= 6, said


def test_the_eight_run_colours_are_saturated_and_distinct(page: Page) -> None:
    page.goto("/?dataset=spiral")
    colours = page.evaluate("async () => (await import('/static/js/run_list.js')).RUN_COLORS")
    rgb = [tuple(int(c[k : k + 2], 16) / 255 for k in (1, 3, 5)) for c in colours]
    assert len(set(colours)) == len(colours) == 8
    for colour, (r, g, b) in zip(colours, rgb, strict=True):
        assert colorsys.rgb_to_hls(r, g, b)[2] > 0.5, f"{colour} is greyish (like muted or disabled text)"
    for i, first in enumerate(rgb):
        for second in rgb[i + 1 :]:
            assert sum((a - b) ** 2 for a, b in zip(first, second, strict=True)) ** 0.5 > 0.2
