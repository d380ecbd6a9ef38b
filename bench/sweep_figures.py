"""A 3x3 sweep's figures: how long from pressing Run sweep until the page's heatmap is full, and what
the sweep's event stream sends (live from the start, and as a replay of the finished sweep).

    python bench/sweep_figures.py                        # spiral, its defaults (100 epochs, 2-16-16-3)
    python bench/sweep_figures.py --config "dataset=xor&epochs=12&points=200&hidden=4"

1. Starts gunicorn as the Procfile says (temporary SQLite file, free loopback port).
2. Stream: POST /api/sweeps (lr 0.03, 0.3, 3 x hidden 4, 8, 16) and read /api/sweeps/<id>/events from
   the start to `done`: bytes and events by kind; then the same stream again once the sweep is done
   (the replay).
3. Page: headless Chromium (/usr/bin/chromium) opens the playground with the same config (another seed,
   so nothing is reused) and ?sweep=, presses Run sweep and waits until all 9 heatmap cells are coloured:
   the seconds from the click, median of --repeat runs (each with its own seed).

Loopback only; on a 2-core machine shared with other jobs the times vary with the load (printed).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run from anywhere

from playwright.sync_api import expect, sync_playwright  # noqa: E402

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS  # noqa: E402
from tests.browser.helpers import api  # noqa: E402
from tests.procfile import start_procfile_server  # noqa: E402
from tests.server.sse_client import SocketStream  # noqa: E402

SWEEP = "lr:0.03,0.3,3;hidden:4,8,16"
VARY = {"lr": [0.03, 0.3, 3], "hidden": [4, 8, 16]}


def stream_bytes(url: str) -> tuple[int, Counter]:
    """(bytes, events by kind) of an event stream read to `done`."""
    stream = SocketStream(url, timeout=300)
    size, kinds = 0, Counter()
    try:
        while True:
            line = stream.response.readline()
            if not line:
                break
            size += len(line)
            if line.startswith(b"event: "):
                kinds[line[7:].strip().decode()] += 1
                if line.startswith(b"event: done"):
                    size += len(stream.response.readline()) + len(stream.response.readline())
                    break
    finally:
        stream.close()
    return size, kinds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--config", default="dataset=spiral", help="the base config as a query string")
    parser.add_argument("--repeat", type=int, default=3, help="page timings to take (median)")
    args = parser.parse_args()
    config = dict(part.split("=", 1) for part in args.config.split("&"))
    with tempfile.TemporaryDirectory() as folder:
        server = start_procfile_server(Path(folder) / "db.sqlite3", Path(folder) / "server.log")
        try:
            created = api(server.url, "/api/sweeps", {"config": config, "vary": VARY})
            began = time.monotonic()
            live, kinds = stream_bytes(server.url + created["events"])
            print(f"config {args.config}, sweep {SWEEP}: estimate {created['seconds']} s of training")
            print(f"live stream: {live} bytes, {dict(kinds)}, {time.monotonic() - began:.1f} s to done")
            replay, kinds = stream_bytes(server.url + created["events"])
            print(f"replay of the finished sweep: {replay} bytes, {dict(kinds)}")
            timings = []
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                for seed in range(1, args.repeat + 1):
                    page = browser.new_page(base_url=server.url, viewport={"width": 1280, "height": 800})
                    page.goto(f"/?{args.config}&seed={seed}&sweep={SWEEP}")
                    button = page.get_by_role("button", name="Run sweep")
                    expect(button).to_be_enabled()
                    clicked = time.monotonic()
                    button.click()
                    page.wait_for_url("**/sweeps/*")
                    heatmap = page.locator("#sweep-heatmap")
                    expect(heatmap).to_have_attribute("data-filled", "9", timeout=300_000)
                    timings.append(time.monotonic() - clicked)
                    page.close()
                browser.close()
            print(
                f"Run sweep -> full 3x3 heatmap: median {statistics.median(timings):.2f} s "
                f"({', '.join(f'{t:.2f}' for t in timings)}); load average {os.getloadavg()[0]:.1f}"
            )
        finally:
            server.stop()


if __name__ == "__main__":
    main()
