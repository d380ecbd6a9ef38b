"""GET /api/datasets: each dataset's shape, classes, sensible defaults and a small preview (your own
points: none, and the rules an upload must follow instead); the config's field table; and a picture of
each 2D input feature over the plane (core.features.feature_pictures)."""

from __future__ import annotations

from dataclasses import asdict
from functools import lru_cache
from typing import Any

import numpy as np

from core.config import DATASETS, Limits, defaults_for, fields_json
from core.custom_data import COLUMNS, MAX_COORDINATE, MIN_CLASSES, MIN_POINTS
from core.datasets import CUSTOM, dataset_for, load_mnist_test
from core.features import PICTURE_EXTENT, PICTURE_SIZE, feature_pictures

PREVIEW_POINTS = 150


def _mnist_preview() -> list[dict[str, Any]]:
    """The first test image of each digit (core.datasets.load_mnist_test: the test digits only, as uint8,
    so that a web process never needs the training set)."""
    x_test, y_test = load_mnist_test()
    firsts = [int(np.flatnonzero(y_test == digit)[0]) for digit in range(10)]
    return [{"label": int(y_test[i]), "pixels": x_test[i].tolist()} for i in firsts]


def _describe(name: str, limits: Limits) -> dict[str, Any]:
    config = defaults_for(name)
    if name == "mnist":
        return {
            "name": name,
            "kind": "image",
            "input_shape": [28, 28],
            "classes": [str(d) for d in range(10)],
            "defaults": config.to_dict(),
            "max_epochs": limits.max_epochs,
            "preview": _mnist_preview(),
        }
    if name == CUSTOM:  # no points until someone adds them: what they may add
        return {
            "name": name,
            "kind": "2d",
            "input_shape": [2],
            "classes": [str(c) for c in range(limits.max_classes)],  # the labels points may have
            "defaults": config.to_dict(),
            "max_epochs": limits.max_epochs_2d,
            "preview": [],
            "upload": {
                "columns": list(COLUMNS),
                "min_points": MIN_POINTS,
                "max_points": limits.max_points,
                "min_classes": MIN_CLASSES,
                "max_classes": limits.max_classes,
                "max_coordinate": MAX_COORDINATE,
            },
        }
    data = dataset_for(config)  # the default config's own points: the preview is what it trains on
    x, y = data.x_train[:PREVIEW_POINTS], data.y_train[:PREVIEW_POINTS]
    return {
        "name": name,
        "kind": "2d",
        "input_shape": [2],
        "classes": data.classes,
        "defaults": config.to_dict(),
        "max_epochs": limits.max_epochs_2d,
        "preview": [[round(float(a), 3), round(float(b), 3), int(c)] for (a, b), c in zip(x, y, strict=True)],
    }


@lru_cache(maxsize=4)
def datasets_json(limits: Limits) -> dict[str, Any]:
    """The datasets, the limits, the config's field table (core.config.fields_json) and the features'
    pictures for the page."""
    return {
        "datasets": [_describe(name, limits) for name in DATASETS],
        "limits": asdict(limits),
        "fields": fields_json(limits),
        "features": {"size": PICTURE_SIZE, "extent": PICTURE_EXTENT, "pictures": feature_pictures()},
    }
