"""Playing is smooth: at 60 epochs a second a 300-epoch spiral run shows an epoch a frame, each drawn
(the boundary, the diagram's pictures and edges) in a few milliseconds of the 16.7 a frame has.
Figures in tests/artifacts/timeline-speed.json; bench/timeline_figures.py measures a 1000-epoch run."""

from __future__ import annotations

import json

from playwright.sync_api import Page

from tests.browser.helpers import ARTIFACTS, finished_run
from tests.browser.playback import measure_playback


def test_playing_at_60_epochs_a_second_draws_an_epoch_a_frame_in_a_few_milliseconds(
    page: Page, server_url: str
) -> None:
    run = finished_run(server_url, {"dataset": "spiral", "epochs": 300}, limit=120)
    figures = measure_playback(page, f"/runs/{run['id']}", speed=60, epochs=300)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "timeline-speed.json").write_text(json.dumps(figures, indent=2))
    # 300 epochs at 60 a second: 5 s, an epoch a frame. Other processes on a 2-core machine make Chromium
    # miss frames now and then (each skips an epoch): a quiet machine shows 290-300, a busy one fewer.
    assert 4 <= figures["seconds"] <= 10, figures
    assert figures["epochs_shown"] >= 0.6 * 300, figures
    # Every epoch the player shows is drawn (not every other one), in a few of a frame's 16.7 ms.
    assert figures["paint_calls"] >= 0.95 * figures["setEpoch_calls"], figures
    assert figures["boundary_calls"] >= 0.95 * figures["setEpoch_calls"], figures
    assert figures["draw_ms_p50"] < 8, figures
