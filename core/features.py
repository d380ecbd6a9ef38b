"""Input features of the 2D sets: what the network reads of a point (x1, x2), as TensorFlow Playground's
feature column offers.

A 2D run's network reads the features its config chooses (`features`, default x1, x2: the point
itself), computed from the raw points by `expand`. `network_inputs(config, x)` is the one place that
turns a run's raw examples into its network's inputs: training, the decision grid and the predictions of
points all go through it. The sine features are sin(pi * x): the 2D sets lie within about [-1, 1], where
sin(x) alone would look just like x; sin(pi * x) makes one full wave over that range.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # core.config imports this module for the feature names
    from core.config import Config


def _column(i: int) -> Callable[[np.ndarray], np.ndarray]:
    return lambda p: p[:, i]


#: name -> (label, the feature of an (n, 2) array of points), in canonical order
FEATURES: dict[str, tuple[str, Callable[[np.ndarray], np.ndarray]]] = {
    "x1": ("X₁", _column(0)),
    "x2": ("X₂", _column(1)),
    "x1^2": ("X₁²", lambda p: p[:, 0] * p[:, 0]),
    "x2^2": ("X₂²", lambda p: p[:, 1] * p[:, 1]),
    "x1x2": ("X₁X₂", lambda p: p[:, 0] * p[:, 1]),
    "sin_x1": ("sin(πX₁)", lambda p: np.sin(np.pi * p[:, 0])),
    "sin_x2": ("sin(πX₂)", lambda p: np.sin(np.pi * p[:, 1])),
}
DEFAULT_FEATURES = ("x1", "x2")
PICTURE_SIZE = 16  # cells a side of a feature's picture
PICTURE_EXTENT = 1.0  # a picture covers [-extent, extent] in x1 and x2


def expand(points: np.ndarray, features: Sequence[str]) -> np.ndarray:
    """(n, 2) points -> (n, len(features)) float32: each chosen feature of each point, in the given order."""
    if tuple(features) == DEFAULT_FEATURES:
        return points.astype(np.float32, copy=False)
    columns = [FEATURES[name][1](points.astype(np.float64, copy=False)) for name in features]
    return np.stack(columns, axis=1).astype(np.float32)


def network_inputs(config: Config, x: np.ndarray) -> np.ndarray:
    """The network's input for a run's raw examples: the chosen features of 2D points, MNIST's pixels as
    they are."""
    return expand(x, config.features) if config.is_2d else x


def feature_pictures(size: int = PICTURE_SIZE, extent: float = PICTURE_EXTENT) -> dict[str, str]:
    """Each feature's value over the plane, for the page's feature toggles: a size x size grid over
    [-extent, extent]^2 (row 0 at the lowest x2, column 0 at the lowest x1), each value scaled by the
    largest magnitude on the grid to a byte (0: -max, 128: zero, 255: +max), base64, row after row."""
    axis = np.linspace(-extent, extent, size)
    g1, g2 = np.meshgrid(axis, axis)
    points = np.c_[g1.ravel(), g2.ravel()]
    pictures = {}
    for name, (_, feature) in FEATURES.items():
        values = feature(points)
        scale = np.abs(values).max() or 1.0
        scaled = np.clip(np.round(128 + 127 * values / scale), 0, 255).astype(np.uint8)
        pictures[name] = base64.b64encode(scaled.tobytes()).decode("ascii")
    return pictures
