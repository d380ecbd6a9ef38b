"""How fast the page draws a run's epochs while its player plays: the time each drawing call takes
(performance.now around the page's own NetworkDiagram.setEpoch and .paint, and DecisionMap.draw) and
how the frames went (requestAnimationFrame's timestamps, the epoch shown in each). Used by
tests/browser/test_timeline_speed.py and bench/timeline_figures.py."""

from __future__ import annotations

import statistics

from playwright.sync_api import Page, expect

# Wraps the drawing methods of the page's own modules (main.js imports them by these very URLs, so
# these are the same module instances) and samples every frame; window.playback collects it all.
INSTRUMENT = """async () => {
  const { NetworkDiagram } = await import('/static/js/network.js');
  const { DecisionMap } = await import('/static/js/heatmap.js');
  const calls = { setEpoch: [], paint: [], boundary: [] };
  const wrap = (proto, name, into) => {
    const original = proto[name];
    proto[name] = function (...args) {
      const start = performance.now();
      try { return original.apply(this, args); } finally { into.push(performance.now() - start); }
    };
  };
  wrap(NetworkDiagram.prototype, 'setEpoch', calls.setEpoch);
  wrap(NetworkDiagram.prototype, 'paint', calls.paint);
  wrap(DecisionMap.prototype, 'draw', calls.boundary);
  const frames = [];
  const player = document.getElementById('player');
  const sample = (now) => {
    frames.push([now, Number(player.dataset.epoch)]);
    if (window.playback.sampling) requestAnimationFrame(sample);
  };
  window.playback = { calls, frames, sampling: true };
  requestAnimationFrame(sample);
}"""


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0


def measure_playback(page: Page, run_path: str, speed: int, epochs: int) -> dict:
    """Open a finished run of `epochs` epochs, play it from the start at `speed` epochs a second and
    measure; answers the figures (times in ms)."""
    page.goto(run_path)
    player = page.locator("#player")
    expect(page.locator("#network-pictures")).not_to_have_attribute("data-pictures", "0", timeout=60_000)
    expect(page.locator("#boundary")).to_have_attribute("data-grid-epoch", str(epochs), timeout=60_000)
    page.evaluate(INSTRUMENT)
    page.get_by_label("Speed").select_option(str(speed))
    page.get_by_role("button", name="Play").click()  # at the last epoch: plays from the first
    expect(player).to_have_attribute("data-state", "paused", timeout=epochs / speed * 1000 * 3 + 30_000)
    expect(player).to_have_attribute("data-epoch", str(epochs))
    data = page.evaluate("() => { window.playback.sampling = false; return window.playback; }")
    frames = data["frames"]  # from before Play (at the last epoch) to after the end
    start = next(i for i, (_, epoch) in enumerate(frames) if epoch < epochs)
    end = next((i for i in range(start, len(frames)) if frames[i][1] == epochs), len(frames) - 1)
    playing = frames[start : end + 1]
    intervals = [b[0] - a[0] for a, b in zip(playing, playing[1:], strict=False)]
    shown = {epoch for _, epoch in playing}
    calls = data["calls"]
    figures = {
        "speed": speed,
        "epochs": epochs,
        "seconds": round((playing[-1][0] - playing[0][0]) / 1000, 2) if playing else 0,
        "frames": len(playing),
        "epochs_shown": len(shown),
        "frame_ms_p50": round(statistics.median(intervals), 2) if intervals else 0,
        "frame_ms_p95": round(percentile(intervals, 0.95), 2),
        "frames_over_25ms": sum(1 for i in intervals if i > 25),
    }
    for name, values in calls.items():
        figures[f"{name}_ms_p50"] = round(statistics.median(values), 3) if values else 0
        figures[f"{name}_ms_p95"] = round(percentile(values, 0.95), 3)
        figures[f"{name}_calls"] = len(values)
    figures["draw_ms_p50"] = round(sum(figures[f"{n}_ms_p50"] for n in calls), 3)
    figures["draw_ms_p95"] = round(sum(figures[f"{n}_ms_p95"] for n in calls), 3)
    return figures
