"""Points of your own (core.custom_data) for the tests: CSV text, the parsed points, a lookup by hash
as the server's store gives one, and configs of every dataset with the points a custom config needs."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from core.config import Config, defaults_for, parse_config
from core.custom_data import parse_csv
from core.datasets import CUSTOM


def xor_csv(n: int = 60, seed: int = 0, header: bool = True) -> str:
    """n points in [-1, 1]^2 labelled by the sign of x * y (two classes), 3 decimals, as CSV text."""
    x = np.random.default_rng(seed).uniform(-1, 1, (n, 2))
    labels = (x[:, 0] * x[:, 1] > 0).astype(int)
    rows = "".join(f"{a:.3f},{b:.3f},{c}\n" for (a, b), c in zip(x, labels, strict=True))
    return ("x,y,label\n" if header else "") + rows


POINTS = parse_csv(xor_csv())
OTHER_POINTS = parse_csv(xor_csv(seed=1))
FIND = {points.hash: points for points in (POINTS, OTHER_POINTS)}.get


def raw(name: str, **values: Any) -> dict[str, Any]:
    """A config's raw input for a dataset: a custom one names POINTS (its required field)."""
    given = {"dataset": name} | ({"data": POINTS.hash} if name == CUSTOM else {})
    return given | values


def config_of(name: str, **values: Any) -> Config:
    """parse_config(raw(dataset, **values)), finding POINTS and OTHER_POINTS by their hash."""
    return parse_config(raw(name, **values), find_data=FIND)


def default_config(dataset: str) -> Config:
    """A dataset's defaults, with POINTS for a custom one."""
    config = defaults_for(dataset)
    return replace(config, data=POINTS) if dataset == CUSTOM else config
