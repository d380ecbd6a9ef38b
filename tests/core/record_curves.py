"""Record the curves the verdict tests judge (tests/core/data/*.json), from real training runs.

    python3 -m tests.core.record_curves          # all of them (about a minute, MNIST most of it)
    python3 -m tests.core.record_curves spiral_lr3

Each file holds the run's config (its canonical query string) and its epochs' metrics, as the store
keeps them (core.training.EpochResult.metrics()), or the reason it failed.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from core.config import parse_query
from core.training import Diverged, train

DATA = Path(__file__).parent / "data"

# name -> the run's config as a query string (the playground's link)
RUNS = {
    "spiral_healthy": "dataset=spiral",
    "spiral_lr3": "dataset=spiral&lr=3",
    "spiral_lr3_momentum": "dataset=spiral&lr=3&momentum=0.99",
    "spiral_lr1_blows_up": "dataset=spiral&lr=1",
    "mnist_healthy": "dataset=mnist&epochs=10",
    "mnist_lr3": "dataset=mnist&lr=3&epochs=10",
}


def record(name: str) -> dict:
    config = parse_query(RUNS[name])
    epochs, failed = [], None
    try:
        for result in train(config):
            epochs.append(result.metrics())
    except Diverged as error:
        failed = str(error)
    return {"query": config.to_query(), "epochs": epochs, "failed": failed}


def rounded(value):
    """Six significant digits: the curves' shapes, not float noise (the files stay small). Goes into
    the per-layer diagnostics (`layers`: a list of dicts) too."""
    if isinstance(value, float):
        return float(f"{value:.6g}")
    if isinstance(value, dict):
        return {key: rounded(item) for key, item in value.items()}
    if isinstance(value, list):
        return [rounded(item) for item in value]
    return value


def to_json(data: dict) -> str:
    """One epoch a line."""
    epochs = ",\n  ".join(json.dumps(rounded(epoch)) for epoch in data["epochs"])
    head = json.dumps({"query": data["query"], "failed": data["failed"]})[:-1]
    return f'{head}, "epochs": [\n  {epochs}\n]}}\n'


def main(names: list[str]) -> None:
    for name in names or RUNS:
        data = record(name)
        (DATA / f"{name}.json").write_text(to_json(data))
        last = data["epochs"][-1] if data["epochs"] else {}
        print(
            name,
            len(data["epochs"]),
            "epochs",
            {k: round(v, 4) for k, v in last.items() if k != "layers"},
            data["failed"],
        )


if __name__ == "__main__":
    main(sys.argv[1:])
