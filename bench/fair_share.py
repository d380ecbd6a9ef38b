"""The flood attack (issue 12, attack 1): how long another client's small run takes while one client
floods the server with heavy runs, against the Procfile's gunicorn.

    python bench/fair_share.py                         # this tree, 3 trials, median
    python bench/fair_share.py --root /tmp/main-copy   # another copy (say `git archive main`)

Each trial starts gunicorn as the Procfile says (its default settings, a fresh SQLite file, a free
loopback port) from `--root`. The flooder, 127.0.0.2, POSTs the heaviest MNIST config that one run
may cost (784-512x4-10, batch 64, 50 epochs: about 4.6 minutes estimated) from --flooders threads at
once, again and again, for the whole trial. After --head-start seconds the other client, 127.0.0.3,
POSTs one small 2D run (spiral, 500 points, 100 epochs: about a second) and follows it to `done`. The
figure is that client's wait from its POST to `done`; past --limit seconds the trial gives up and says
so (with the run's place in the queue when it was accepted). Clients are told apart by their source
address (tests/loopback.py). Bounded: the server is stopped at the end of each trial.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.loopback import Client, request  # noqa: E402
from tests.procfile import ROOT, start_procfile_server  # noqa: E402

HEAVY = {"dataset": "mnist", "hidden": [512, 512, 512, 512], "batch_size": 64, "epochs": 50, "fresh": True}
SMALL = {"dataset": "spiral", "epochs": 100, "points": 500, "fresh": True}


def trial(root: Path, flooders: int, head_start: float, limit: float) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        server = start_procfile_server(
            Path(folder) / "playground.sqlite3", Path(folder) / "server.log", root=root
        )
        flooding, answers = threading.Event(), []
        flooding.set()

        def flood() -> None:
            client = Client(server.url, "127.0.0.2")
            while flooding.is_set():
                answers.append(client.request("POST", "/api/runs", HEAVY)[0])
            client.close()

        threads = [threading.Thread(target=flood, daemon=True) for _ in range(flooders)]
        try:
            for thread in threads:
                thread.start()
            time.sleep(head_start)
            posted = time.monotonic()
            status, _, run = request(server.url, "POST", "/api/runs", SMALL, "127.0.0.3")
            if status != 201:
                return {"wait": None, "refused": status, "answer": run}
            position = request(server.url, "GET", f"/api/runs/{run['id']}")[2].get("position")
            while time.monotonic() - posted < limit:
                state = request(server.url, "GET", f"/api/runs/{run['id']}")[2]
                if state["status"] not in ("queued", "running"):
                    return {
                        "wait": time.monotonic() - posted,
                        "status": state["status"],
                        "position": position,
                        "flood_accepted": answers.count(201),
                        "flood_refused": len(answers) - answers.count(201),
                    }
                time.sleep(0.1)
            return {"wait": None, "position": position, "flood_accepted": answers.count(201)}
        finally:
            flooding.clear()
            for thread in threads:
                thread.join(30)
            server.stop()


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--root", type=Path, default=ROOT, help="the copy of the project to run")
    parser.add_argument("--trials", type=int, default=3)
    parser.add_argument("--flooders", type=int, default=8, help="the flooder's simultaneous POST loops")
    parser.add_argument(
        "--head-start", type=float, default=3.0, help="seconds of flood before the other POST"
    )
    parser.add_argument("--limit", type=float, default=90.0, help="seconds the other client waits at most")
    args = parser.parse_args()
    waits = []
    for number in range(1, args.trials + 1):
        result = trial(args.root, args.flooders, args.head_start, args.limit)
        wait = result["wait"]
        waits.append(wait if wait is not None else float("inf"))
        shown = f"{wait:.1f} s" if wait is not None else f"> {args.limit:.0f} s (not done)"
        print(f"trial {number}: the other client's run {shown}; {result}", flush=True)
    median = statistics.median(waits)
    shown = f"{median:.1f} s" if median != float("inf") else f"> {args.limit:.0f} s"
    print(f"median wait of the other client's small run, {args.trials} trials: {shown}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
