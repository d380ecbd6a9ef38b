"""The timeline's figures for a 1000-epoch 2D run: what each stored epoch costs with and without the
network diagram's data (`neurons`), what a replay of the run sends, and how fast the page draws its
epochs while playing.

    python bench/timeline_figures.py                 # the default spiral config, 1000 epochs
    python bench/timeline_figures.py --epochs 300

1. Starts gunicorn as the Procfile says (temporary SQLite file, free loopback port), trains the run
   through POST /api/runs and waits until it is done.
2. Bytes per stored epoch: each stored event (zlib, as the store keeps it) and the same event without
   its `neurons`, compressed the same way ("before"); the JSON sizes too.
3. Replay: GET /api/runs/<id>/timeline, gzipped as the server sends it (and that answer without the
   neurons, gzipped at the server's level, for "before"); the event stream from epoch 0 for comparison
   (not compressed); how long the server takes to answer the timeline (median of 5).
4. Drawing: headless Chromium (/usr/bin/chromium) opens the run's page and plays it from the first
   epoch at 60 epochs a second and at the player's top speed (tests/browser/playback.py): the
   milliseconds each epoch's drawing takes (performance.now around the page's own drawing calls) and
   how the frames went.

Loopback only. On a 2-core machine other busy processes skew the drawing figures: the load average is
printed with them.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import statistics
import sys
import tempfile
import time
import urllib.request
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run from anywhere

from playwright.sync_api import sync_playwright  # noqa: E402

from server.compression import RESPONSE_LEVEL  # noqa: E402
from tests.browser.playback import measure_playback  # noqa: E402
from tests.procfile import start_procfile_server  # noqa: E402
from tests.server.helpers import sql  # noqa: E402

TOP_SPEED = 240  # the player's fastest (static/js/player.js SPEEDS)


def get(url: str, gzipped: bool = False) -> tuple[bytes, float]:
    request = urllib.request.Request(url, headers={"Accept-Encoding": "gzip"} if gzipped else {})
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=120) as response:
        body = response.read()
    return body, time.perf_counter() - started


def train(server_url: str, config: dict) -> str:
    request = urllib.request.Request(
        f"{server_url}/api/runs",
        data=json.dumps(config).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        run_id = json.loads(response.read())["id"]
    while json.loads(get(f"{server_url}/api/runs/{run_id}")[0])["status"] not in (
        "done",
        "failed",
        "stopped",
    ):
        time.sleep(0.5)
    return run_id


def storage(db: Path, run_id: str) -> dict:
    """Bytes per stored epoch with and without the neurons, compressed as the store does (zlib 1)."""
    rows = sql(db, "SELECT event FROM epochs WHERE run_id = :run ORDER BY epoch", run=run_id)
    after_raw, before_raw, after_zip, before_zip = [], [], [], []
    for (blob,) in rows:
        text = zlib.decompress(blob).decode()
        event = json.loads(text)
        event.pop("neurons")
        without = json.dumps(event)  # as the recorder writes it
        after_raw.append(len(text))
        before_raw.append(len(without))
        after_zip.append(len(blob))
        before_zip.append(len(zlib.compress(without.encode(), 1)))
    mean = statistics.mean
    return {
        "epochs": len(rows),
        "stored_before": round(mean(before_zip)),
        "stored_after": round(mean(after_zip)),
        "json_before": round(mean(before_raw)),
        "json_after": round(mean(after_raw)),
    }


def replay(server_url: str, run_id: str) -> dict:
    timeline, _ = get(f"{server_url}/api/runs/{run_id}/timeline", gzipped=True)
    body = gzip.decompress(timeline)
    epochs = json.loads(body)["epochs"]
    for event in epochs:
        event.pop("neurons")
    without = ('{"epochs":[' + ",".join(json.dumps(event) for event in epochs) + "]}").encode()
    seconds = [get(f"{server_url}/api/runs/{run_id}/timeline", gzipped=True)[1] for _ in range(5)]
    stream, _ = get(f"{server_url}/api/runs/{run_id}/events")
    return {
        "timeline_gzip_after": len(timeline),
        "timeline_gzip_before": len(gzip.compress(without, RESPONSE_LEVEL)),
        "timeline_json_after": len(body),
        "timeline_json_before": len(without),
        "timeline_answer_ms": round(statistics.median(seconds) * 1000),
        "stream_from_0": len(stream),
    }


def drawing(server_url: str, run_id: str, epochs: int) -> list[dict]:
    figures = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
        for speed in (60, TOP_SPEED):
            page = browser.new_page(viewport={"width": 1280, "height": 800}, base_url=server_url)
            page.set_default_timeout(120_000)
            figures.append(
                {**measure_playback(page, f"/runs/{run_id}", speed, epochs), "load": os.getloadavg()[0]}
            )
            page.close()
        browser.close()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=1000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        db = Path(folder) / "playground.sqlite3"
        server = start_procfile_server(db, Path(folder) / "server.log")
        try:
            run_id = train(server.url, {"dataset": "spiral", "epochs": args.epochs})
            figures = {"storage": storage(db, run_id), "replay": replay(server.url, run_id)}
            figures["drawing"] = drawing(server.url, run_id, args.epochs)
        finally:
            server.stop()
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
