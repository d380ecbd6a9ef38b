"""What the network learned, as arrays the page can draw: decision grid, confusion matrix,
misclassified examples and first-layer weights as images."""

from __future__ import annotations

import base64
from collections.abc import Sequence

import numpy as np

from core.datasets import Dataset
from core.features import DEFAULT_FEATURES, expand
from core.network import Network

MISTAKES_CHUNK = 1000  # rows misclassified() predicts at a time


def grid_bounds(data: Dataset, margin: float = 0.1) -> tuple[float, float, float, float]:
    """(x_min, x_max, y_min, y_max) around all of a 2D set's points."""
    points = np.concatenate([data.x_train, data.x_val])
    low, high = points.min(axis=0), points.max(axis=0)
    pad = (high - low) * margin
    return float(low[0] - pad[0]), float(high[0] + pad[0]), float(low[1] - pad[1]), float(high[1] + pad[1])


def decision_grid(
    network: Network, data: Dataset, size: int = 50, features: Sequence[str] = DEFAULT_FEATURES
) -> dict:
    """The predicted class and its probability on a size x size grid over the data's range, packed
    small: every 2D epoch event carries one, to every viewer (about 7 kB instead of 33 kB of JSON lists).
    The network reads each grid point's `features` (the run's; core.features).

    - "size": the grid has size rows and size columns.
    - "x_min", "x_max", "y_min", "y_max": the range it covers. Row i, column j is the point
      (x_min + j * (x_max - x_min) / (size - 1), y_min + i * (y_max - y_min) / (size - 1)), as
      np.linspace: row 0 is the bottom (lowest y), column 0 the left.
    - "predicted": the predicted class of every cell, one byte each (uint8), row after row,
      as a base64 string.
    - "confidence": the probability of that class times 255, rounded to a byte, same layout.

    Decode with `grid_arrays(grid)` in Python, or in JavaScript:
    `Uint8Array.from(atob(grid.predicted), (c) => c.charCodeAt(0))`, cell (i, j) at index i * size + j.
    """
    x_min, x_max, y_min, y_max = (round(v, 4) for v in grid_bounds(data))  # rounded first: exact to decode
    xs, ys = np.linspace(x_min, x_max, size), np.linspace(y_min, y_max, size)
    gx, gy = np.meshgrid(xs, ys)
    proba = network.predict_proba(expand(np.c_[gx.ravel(), gy.ravel()].astype(np.float32), features))
    predicted = proba.argmax(axis=1).astype(np.uint8)
    confidence = np.round(proba.max(axis=1) * 255).astype(np.uint8)
    return {
        "size": size,
        "x_min": x_min,
        "x_max": x_max,
        "y_min": y_min,
        "y_max": y_max,
        "predicted": base64.b64encode(predicted.tobytes()).decode("ascii"),
        "confidence": base64.b64encode(confidence.tobytes()).decode("ascii"),
    }


def grid_arrays(grid: dict) -> tuple[np.ndarray, np.ndarray]:
    """A decision_grid's (predicted classes, confidence in 0..1) as size x size arrays."""
    size = grid["size"]
    predicted = np.frombuffer(base64.b64decode(grid["predicted"]), dtype=np.uint8).reshape(size, size)
    confidence = np.frombuffer(base64.b64decode(grid["confidence"]), dtype=np.uint8).reshape(size, size)
    return predicted, confidence / 255


def confusion_matrix(network: Network, x: np.ndarray, y: np.ndarray, n_classes: int) -> list[list[int]]:
    """counts[true][predicted]."""
    predicted = network.predict(x)
    counts = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(counts, (y, predicted), 1)
    return counts.tolist()


def misclassified(network: Network, x: np.ndarray, y: np.ndarray, count: int = 12) -> list[dict]:
    """The first `count` wrongly classified examples: index, true and predicted label,
    the probability given to the prediction, and (for 28x28 inputs) the pixels in 0..255.

    x: the inputs as the network takes them, or uint8 images (pixels 0..255, scaled to 0..1 here as
    core.datasets scales MNIST). Looked at MISTAKES_CHUNK rows at a time, until `count` are found."""
    found: list[dict] = []
    for start in range(0, len(x), MISTAKES_CHUNK):
        rows = x[start : start + MISTAKES_CHUNK]
        images = rows.dtype == np.uint8
        proba = network.predict_proba(rows.astype(np.float32) / 255 if images else rows)
        predicted = proba.argmax(axis=1)
        for i in np.flatnonzero(predicted != y[start : start + MISTAKES_CHUNK])[: count - len(found)]:
            pixels = rows[i] if images else np.round(rows[i] * 255).astype(np.uint8)
            found.append(
                {
                    "index": start + int(i),
                    "true": int(y[start + i]),
                    "predicted": int(predicted[i]),
                    "probability": round(float(proba[i, predicted[i]]), 4),
                    "pixels": pixels.tolist(),
                }
            )
        if len(found) == count:
            break
    return found


def first_layer_images(network: Network, count: int = 100) -> list[list[int]]:
    """The first Dense layer's weights into its first `count` units, each scaled to 0..255
    (128 = zero weight) so the page can draw them as 28x28 images."""
    weights = network.dense_layers[0].weights[:, :count]
    scale = np.abs(weights).max(axis=0, keepdims=True)
    scale[scale == 0] = 1
    return np.round(128 + 127 * weights / scale).astype(np.uint8).T.tolist()
