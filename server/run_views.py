"""What a run's weights say: the views the page draws and the predictions it asks for.

Everything here starts from the stored .npz weights (the latest epoch's), so it works on any server
process, while the run trains and after it ended. Loaded networks and computed views are cached by
(run id, epoch): draw-a-digit asks for a prediction on every stroke.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import numpy as np

from core.config import Config, FieldError
from core.datasets import dataset_for, load_mnist_test
from core.features import network_inputs
from core.network import Network, parameter_count
from core.views import decision_grid, first_layer_images, misclassified
from server.green import off_loop

MAX_PREDICT_ROWS = 100
POINT_RANGE = 1000.0  # 2D inputs beyond this are surely a mistake


class LRU:
    """A small thread-safe least-recently-used cache."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Any, make: Callable[[], Any]) -> Any:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        # Outside the lock (two threads may both compute it once, that is fine), and off the event loop
        # under gevent: views cost up to a second of CPU.
        value = off_loop(make)
        with self._lock:
            self._items[key] = value
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return value


_networks = LRU(16)
_views = LRU(16)


def network(run_id: str, epoch: int, npz: Callable[[], bytes]) -> Network:
    return _networks.get((run_id, epoch), lambda: Network.load(npz()))


def _points(x: np.ndarray, y: np.ndarray) -> list[list[float]]:
    return [[round(float(a), 4), round(float(b), 4), int(label)] for (a, b), label in zip(x, y, strict=True)]


def views(
    run_id: str, config: Config, epoch: int | None, npz: Callable[[], bytes], event: Callable[[], dict]
) -> dict[str, Any]:
    """GET /api/runs/<id>/views: the network's sizes and the data points (2D: train, val and test
    splits, each point [x, y, label]) always; the views drawn
    from the weights once there are some (decision grid for 2D, packed as base64 bytes: see
    core.views.decision_grid; for MNIST the confusion matrix on the validation set, misclassified test
    digits and first-layer weights as images).

    `npz()` gives the weights of `epoch`, `event()` its stored epoch event. MNIST's views need only its
    test digits (core.datasets.load_mnist_test, 8 MB as uint8), never the training set: the confusion
    matrix is the one the recorder drew for that epoch's event."""

    def make() -> dict[str, Any]:
        sizes = config.layer_sizes
        result: dict[str, Any] = {"sizes": sizes, "parameter_count": parameter_count(sizes)}
        data = dataset_for(config) if config.is_2d else None
        if data is not None:
            result["points"] = {
                "train": _points(data.x_train, data.y_train),
                "val": _points(data.x_val, data.y_val),
                "test": _points(data.x_test, data.y_test),
            }
        if epoch is None:
            return result
        net = network(run_id, epoch, npz)
        result["epoch"] = epoch
        if data is not None:
            result["grid"] = decision_grid(net, data, features=config.features)
        else:
            x_test, y_test = load_mnist_test()
            result["confusion"] = event()["confusion"]
            result["misclassified"] = misclassified(net, x_test, y_test, count=12)
            result["first_layer"] = first_layer_images(net, count=100)
        return result

    return _views.get((run_id, epoch, config.dataset), make)


def parse_inputs(body: Any, config: Config) -> np.ndarray:
    """The rows to predict: {"pixels": [[784 numbers in 0..1], ...]} for MNIST, {"points": [[x, y]]}
    for 2D sets. Raises FieldError naming the field."""
    key, width = ("points", 2) if config.is_2d else ("pixels", 784)
    example = f'{{"{key}": [[{", ".join(["0.5"] * min(width, 2))}{", ..." if width > 2 else ""}]]}}'
    if not isinstance(body, dict):
        raise FieldError("body", f"The body must be a JSON object like {example}.")
    for name in body:
        if name != key:
            raise FieldError(str(name), f"'{name}' is not an input of this {config.dataset} run; send {key}.")
    rows = body.get(key)
    if not isinstance(rows, list) or not 1 <= len(rows) <= MAX_PREDICT_ROWS:
        raise FieldError(key, f"{key} must be a list of 1 to {MAX_PREDICT_ROWS} rows of {width} numbers.")
    for i, row in enumerate(rows):
        if not isinstance(row, list) or len(row) != width:
            raise FieldError(key, f"{key}[{i}] must be a list of {width} numbers.")
        if not all(type(value) in (int, float) for value in row):  # type(): true/false are not numbers
            raise FieldError(key, f"{key}[{i}] must hold only numbers.")
    try:
        x = np.array(rows, dtype=np.float64)
    except OverflowError:  # an integer too large for a float
        raise FieldError(key, f"{key} holds a number far too large.") from None
    if not np.isfinite(x).all():
        raise FieldError(key, f"{key} must hold finite numbers.")
    if not config.is_2d and (x.min() < 0 or x.max() > 1):
        raise FieldError(key, "pixels must be between 0 (white) and 1 (black).")
    if config.is_2d and np.abs(x).max() > POINT_RANGE:
        raise FieldError(key, f"point coordinates must be between -{POINT_RANGE:g} and {POINT_RANGE:g}.")
    return x.astype(np.float32)


def predict(net: Network, config: Config, x: np.ndarray) -> dict[str, Any]:
    """x: parse_inputs' rows (2D points are turned into the run's features here)."""
    probabilities = net.predict_proba(network_inputs(config, x))
    return {
        "probabilities": np.round(probabilities.astype(np.float64), 6).tolist(),
        "classes": [str(c) for c in range(config.class_count)],
    }
