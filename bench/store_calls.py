"""What one call of the run store's stream hot paths costs: status() and events_after().

    python3 bench/store_calls.py                     # SQLite in a temporary file
    python3 bench/store_calls.py --database postgresql+psycopg://user@127.0.0.1:5432/db

A stream asks status() at every wake-up and events_after() for what it has not sent yet, so these two
bound what a viewer costs the store. The store gets one run of 50 stored epochs, each event the size of
a 2D run's (~7 kB of JSON with its decision grid); then, in this thread (its connection opened):
- status(run): the cheap poll;
- events_after(run, 49): the live case, one new epoch;
- events_after(run, 50): nothing new (a wake-up with nothing to send);
- events_after(run, 0): a full replay of 50 epochs.
With the SQLAlchemy store, the first two queries are also timed through SQLAlchemy's own execute().
Each figure is the median over --repeats of the mean of --number calls, in microseconds of this process's
CPU time (wall-clock figures swing with whatever else the machine runs; CPU time much less).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
import timeit
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run from anywhere

from server.store import Store  # noqa: E402

EPOCHS = 50


def fill(store: Store) -> str:
    rng = random.Random(0)
    run_id = "benchrun0001"
    store.create_run(run_id, {"dataset": "spiral"}, "dataset=spiral", "bench", EPOCHS)
    for epoch in range(1, EPOCHS + 1):
        grid = "".join(
            rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789") for _ in range(6800)
        )
        metrics = {"epoch": epoch, "train_loss": rng.random(), "train_acc": rng.random()}
        store.add_epoch(run_id, epoch, metrics, json.dumps({**metrics, "grid": grid}), b"w" * 2000)
    return run_id


def sqlalchemy_calls(store: Store, run_id: str) -> dict:
    """The same two queries through SQLAlchemy's Connection.execute, for comparison (new store only)."""
    try:
        from server.store import EVENTS_AFTER, STATUS
    except ImportError:
        return {}

    def status() -> object:
        with store.connection() as db:
            return db.execute(STATUS, {"run_id": run_id}).first()

    def events_after() -> object:
        with store.connection() as db:
            return db.execute(EVENTS_AFTER, {"run_id": run_id, "epoch": EPOCHS - 1}).all()

    return {
        "  the same through SQLAlchemy's execute": status,
        "  events_after(run, 49) through it": events_after,
    }


def per_call_us(call, number: int, repeats: int) -> float:
    call()  # warm (connection, statement caches)
    times = timeit.repeat(call, number=number, repeat=repeats, timer=time.process_time)
    return statistics.median(times) / number * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database", help="a database URL (default: SQLite in a temporary file)")
    parser.add_argument("--number", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(args.database or os.path.join(tmp, "bench.sqlite3"))
        run_id = fill(store)
        calls = {
            "status(run)": lambda: store.status(run_id),
            **sqlalchemy_calls(store, run_id),
            "events_after(run, 49): one new epoch": lambda: store.events_after(run_id, EPOCHS - 1),
            "events_after(run, 50): nothing new": lambda: store.events_after(run_id, EPOCHS),
            "events_after(run, 0): replay of 50": lambda: store.events_after(run_id, 0),
        }
        for name, call in calls.items():
            number = args.number // 20 if "replay" in name else args.number
            print(f"{name:40s} {per_call_us(call, number, args.repeats):8.1f} us")
        store.close()


if __name__ == "__main__":
    main()
