"""What the network learned, as arrays the page can draw: decision grid, every unit's picture and the
weights of the diagram's edges (neuron_view), confusion matrix, misclassified examples and first-layer
weights as images."""

from __future__ import annotations

import base64
from collections.abc import Sequence

import numpy as np

from core.config import Config
from core.datasets import Dataset
from core.features import DEFAULT_FEATURES, expand, network_inputs
from core.layers import Activation
from core.losses import softmax
from core.network import Network

MISTAKES_CHUNK = 1000  # rows misclassified() predicts at a time

NEURON_UNITS = 16  # units of each layer (inputs too) whose pictures and edges every epoch records
NEURON_PICTURE = 16  # cells a side of a unit's picture
SIGNED_DIGITS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"  # the base64 alphabet
SIGNED_STEPS = 31  # a packed value is one digit k in 0..62 standing for (k - 31) / 31 of its scale
_DIGIT_BYTES = np.frombuffer(SIGNED_DIGITS.encode("ascii"), dtype=np.uint8)


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


def pack_signed(values: np.ndarray, scale: float | np.ndarray) -> str:
    """Values in [-scale, scale] as text, one character per value, row after row: the base64 digit k
    (0..62, "A" is 0, "+" is 62) stands for (k - 31) / 31 * scale, so zero is exact and the steps are
    scale / 31. `scale`: one number, or one per row (shape (rows, 1)). 63 levels are plenty for a 16x16
    picture, and the text compresses well (gzip, zlib): neighbouring cells of a smooth picture are the
    same few characters (uint8 base64 mixes their bits)."""
    digits = np.rint(SIGNED_STEPS + SIGNED_STEPS * np.clip(values / scale, -1, 1)).astype(np.uint8)
    return _DIGIT_BYTES[digits.ravel()].tobytes().decode("ascii")


def unpack_signed(text: str, scale: float) -> np.ndarray:
    """pack_signed's text back into values (each within scale / 62 of the packed one)."""
    digits = np.array([SIGNED_DIGITS.index(char) for char in text], dtype=np.float64)
    return (digits - SIGNED_STEPS) / SIGNED_STEPS * scale


def _scales(largest: np.ndarray) -> list[float]:
    """Largest magnitudes as the scales sent: 4 significant digits, 1 for a 0 (all values are 0)."""
    return [float(f"{value:.4g}") if value > 0 else 1.0 for value in largest.tolist()]


def _finite(values: np.ndarray) -> np.ndarray:
    """nan as 0, +-inf as the largest float32, so every scale and value stays valid JSON."""
    big = float(np.finfo(np.float32).max)
    return np.nan_to_num(values.astype(np.float64), nan=0.0, posinf=big, neginf=-big)


def unit_outputs(network: Network, x: np.ndarray) -> list[np.ndarray]:
    """Every layer's units on the inputs x, input side first: each hidden layer's outputs after its
    activation, then each class's probability (softmax of the last layer)."""
    outputs, out = [], x
    for layer in network.layers:
        out = layer.forward(out)
        if isinstance(layer, Activation):
            outputs.append(out)
    outputs.append(softmax(out))
    return outputs


def neuron_view(network: Network, config: Config, data: Dataset, units: int = NEURON_UNITS) -> dict:
    """What the network diagram draws at this epoch, compact: for each Dense layer (input side first)
    the weights of its edges between the first `units` units of the layers it joins, its first units'
    biases and, for 2D sets, their pictures over the plane (about 9 kB for a 2-16-16-3 network).

    - "layers": one entry per Dense layer, each with
      - "weights": the weight from input unit i to unit j (i, j < units) at i * n + j, n = len(biases),
        packed with pack_signed by "weight_scale" (the largest magnitude among them);
      - "biases": the biases of its first units, 3 significant digits;
      - 2D sets: "pictures": each of those units' output on a `size` x `size` grid over the decision
        grid's plane (decision_grid's range; row 0 at the lowest y, column 0 at the lowest x), unit after
        unit, row after row, packed with pack_signed by that unit's "scales" entry: the unit's largest
        magnitude on the grid for a hidden unit (its output after the activation), 1 for an output
        unit (the probability of its class). The network reads each grid point's features
        (core.features.network_inputs), as in training.
    - "size": the pictures' cells a side (2D sets).
    """
    dense = network.dense_layers
    layers = []
    for layer in dense:
        weights = _finite(layer.weights[:units, :units])
        (weight_scale,) = _scales(np.abs(weights).max(keepdims=True).ravel())
        layers.append(
            {
                "weights": pack_signed(weights, weight_scale),
                "weight_scale": weight_scale,
                "biases": [float(f"{b:.3g}") for b in _finite(layer.biases[:units])],
            }
        )
    view: dict = {"layers": layers}
    if config.is_2d:
        x_min, x_max, y_min, y_max = (round(v, 4) for v in grid_bounds(data))  # as decision_grid
        gx, gy = np.meshgrid(
            np.linspace(x_min, x_max, NEURON_PICTURE), np.linspace(y_min, y_max, NEURON_PICTURE)
        )
        points = np.c_[gx.ravel(), gy.ravel()].astype(np.float32)
        outputs = unit_outputs(network, network_inputs(config, points))
        for i, (entry, output) in enumerate(zip(layers, outputs, strict=True)):
            values = _finite(output[:, :units]).T  # a row per unit
            is_output = i == len(layers) - 1
            scales = [1.0] * len(values) if is_output else _scales(np.abs(values).max(axis=1))
            entry["pictures"] = pack_signed(values, np.array(scales)[:, None])
            entry["scales"] = scales
        view["size"] = NEURON_PICTURE
    return view


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
