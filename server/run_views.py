"""What a run's weights say: the views the page draws and the predictions it asks for.

Everything here starts from the stored .npz weights (the latest epoch's), so it works on any server
process, while the run trains and after it ended. A run's views are computed once when it ends and kept
in the store (views_json); loaded networks, and the views of runs still training, are cached by
(run id, epoch): draw-a-digit asks for a prediction on every stroke.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

import numpy as np

from core.config import Config, FieldError
from core.datasets import dataset_for, load_mnist_test
from core.features import network_inputs
from core.network import Network, parameter_count
from core.views import decision_grid, first_layer_images, misclassified
from server.lru import LRU
from server.run_json import config_from_dict
from server.store import FINAL, Store, StoreUnavailable

log = logging.getLogger(__name__)

MAX_PREDICT_ROWS = 100
POINT_RANGE = 1000.0  # 2D inputs beyond this are surely a mistake


_networks = LRU(16)
_views = LRU(16)


def network(run_id: str, epoch: int, npz: Callable[[], bytes]) -> Network:
    return _networks.get((run_id, epoch), lambda: Network.load(npz()))


def _points(x: np.ndarray, y: np.ndarray) -> list[list[float]]:
    return [[round(float(a), 4), round(float(b), 4), int(label)] for (a, b), label in zip(x, y, strict=True)]


def compute_views(
    config: Config, epoch: int | None, net: Callable[[], Network], event: Callable[[], dict]
) -> dict:
    """GET /api/runs/<id>/views: the network's sizes and the data points (2D: train, val and test
    splits, each point [x, y, label]) always; the views drawn
    from the weights once there are some (decision grid for 2D, packed as base64 bytes: see
    core.views.decision_grid; for MNIST the confusion matrix on the validation set, misclassified test
    digits and first-layer weights as images).

    `net()` gives the network of `epoch`, `event()` its stored epoch event. MNIST's views need only its
    test digits (core.datasets.load_mnist_test, 8 MB as uint8), never the training set: the confusion
    matrix is the one the recorder drew for that epoch's event."""
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
    result["epoch"] = epoch
    if data is not None:
        result["grid"] = decision_grid(net(), data, features=config.features)
    else:
        x_test, y_test = load_mnist_test()
        result["confusion"] = event()["confusion"]
        result["misclassified"] = misclassified(net(), x_test, y_test, count=12)
        result["first_layer"] = first_layer_images(net(), count=100)
    return result


def _views_json(store: Store, run: dict, cached: bool = False) -> tuple[int | None, str]:
    """(epoch, JSON) of the views of a run's latest weights, computed now; `cached`: its network from
    (and into) the cache of loaded networks, else loaded for this once (a run that ended)."""
    run_id = run["id"]
    config = config_from_dict(run["config"], store)
    stored = store.weights(run_id)
    epoch = None if stored is None else stored[0]
    if stored is None:
        net = None
    elif cached:
        net = lambda: network(run_id, epoch, lambda: stored[1])  # noqa: E731
    else:
        loaded = Network.load(stored[1])
        net = lambda: loaded  # noqa: E731
    event = lambda: json.loads(dict(store.events_after(run_id, epoch - 1))[epoch])  # noqa: E731
    return epoch, json.dumps(compute_views(config, epoch, net, event), separators=(",", ":"))


def views_json(store: Store, run: dict) -> str:
    """The JSON of GET .../views. A run that ended has its views computed once (by its trainer, see
    store_views; or here, for a run that ended without them) and kept in the store: every request
    after reads them. While a run trains, they are computed on request, at most once per epoch in each
    process (a small cache; only a few runs train at once)."""
    run_id = run["id"]
    if run["status"] in FINAL:
        stored = store.stored_views(run_id)
        if stored is not None:
            return stored
        epoch, text = _views_json(store, run)
        try:
            store.store_views(run_id, epoch, text)
        except StoreUnavailable as error:  # answered all the same; stored by a later request
            log.warning("run %s: views not stored: %s", run_id, error.message)
        return text
    epoch = store.weights_epoch(run_id)
    return _views.get((run_id, epoch), lambda: _views_json(store, run, cached=True)[1])


def store_views(store: Store, run_id: str) -> None:
    """Compute a run's views from its final weights and keep them (its trainer calls this as the run
    ends, so requests never compute them)."""
    run = store.get_run(run_id)
    if run is not None:
        epoch, text = _views_json(store, run)
        store.store_views(run_id, epoch, text)


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
