"""Command line: train one config and print the epochs.

    python -m core.train --dataset mnist --hidden 100,200 --lr 0.1 --batch-size 32 --epochs 25 --seed 42
    python -m core.train --dataset custom --data points.csv   # your own x,y,label rows

Shows a progress bar per epoch (on stderr) and a final table; with --json, prints one JSON object
per epoch on stdout and nothing else. --plain trains with the readable layer-by-layer step
(Network.train_step) instead of the fast one: the same curves up to float32 rounding, slower.
"""

from __future__ import annotations

import argparse
import json
import sys

from core.config import DEFAULT_LIMITS, Config, FieldError, parse_config
from core.custom_data import CsvError, CustomData, parse_csv
from core.training import METRICS, Diverged, train

COLUMNS = METRICS


def parse_args(argv: list[str] | None) -> tuple[Config, bool, bool]:
    """The config, --json and --plain."""
    parser = argparse.ArgumentParser(prog="python -m core.train", description=__doc__.split("\n")[0])
    for name in Config.__dataclass_fields__:
        parser.add_argument("--" + name.replace("_", "-"), dest=name, metavar=name.upper())
    parser.add_argument("--json", action="store_true", help="one JSON object per epoch on stdout")
    parser.add_argument(
        "--plain",
        action="store_true",
        help="train with the readable layer-by-layer step (Network.train_step), not the fast one",
    )
    args = vars(parser.parse_args(argv))
    as_json, plain = args.pop("json"), args.pop("plain")
    points = None
    if args["data"] is not None:  # a CSV file: its points, by their hash
        points = read_points(parser, args["data"])
        args["data"] = points.hash
    try:
        config = parse_config({k: v for k, v in args.items() if v is not None}, find_data=lambda _: points)
        return config, as_json, plain
    except FieldError as error:
        parser.error(f"--{error.field.replace('_', '-')}: {error.message}")


def read_points(parser: argparse.ArgumentParser, path: str) -> CustomData:
    """The points of a CSV file of x,y,label rows (as POST /api/data takes them); exits on a bad one."""
    try:
        with open(path, encoding="utf-8") as file:
            return parse_csv(file.read(), DEFAULT_LIMITS.max_points, DEFAULT_LIMITS.max_classes)
    except (OSError, UnicodeDecodeError) as error:
        parser.error(f"--data: cannot read {path}: {error}")
    except CsvError as error:
        parser.error(f"--data: {path}: {error.message}")


def progress_bar(epoch: int, total_epochs: int):
    def show(done: int, total: int) -> None:
        if done % max(1, total // 50) and done != total:
            return  # redraw about 50 times an epoch: the terminal is slower than the math
        filled = 30 * done // total
        bar = "#" * filled + "." * (30 - filled)
        sys.stderr.write(f"\repoch {epoch}/{total_epochs} [{bar}] {done}/{total}")
        sys.stderr.flush()

    return show


def main(argv: list[str] | None = None) -> int:
    config, as_json, plain = parse_args(argv)
    rows = []
    bar = None if as_json else progress_bar(1, config.epochs)
    on_batch = None if as_json else (lambda done, total: bar(done, total))
    try:
        for result in train(config, on_batch=on_batch, fast=not plain):
            metrics = result.metrics()
            if as_json:
                print(json.dumps(metrics), flush=True)
                continue
            rows.append(metrics)
            loss, acc, seconds = metrics["train_loss"], metrics["val_acc"], metrics["seconds"]
            sys.stderr.write(f"  loss {loss:.4f}  val_acc {acc:.4f}  {seconds:.2f}s\n")
            bar = progress_bar(result.epoch + 1, config.epochs)
    except Diverged as error:
        print(f"\nstopped: {error}", file=sys.stderr)
        return 1
    if not as_json:
        print(" ".join(f"{c:>10}" for c in COLUMNS))
        for row in rows:
            print(" ".join(f"{row[c]:>10}" if c == "epoch" else f"{row[c]:>10.4f}" for c in COLUMNS))
        if rows and "test_acc" in rows[-1]:
            print(f"test accuracy {rows[-1]['test_acc']:.4f}  ({config.to_query()})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
