"""Datasets: the real MNIST shipped with the project, small 2D sets made from a seed, and your own 2D
points (core.custom_data) split by the seed.

dataset_for(config) is a run's data exactly as core.training.train draws it; importing this module
imports no training code (the server draws previews and views with it). load_mnist() memory-maps
MNIST's pixels from a cache file every process shares (core.data_cache); load_mnist_test() reads the
test digits alone, for processes that show runs but train none.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from core import data_cache

if TYPE_CHECKING:  # core.config imports this module for the dataset names
    from core.config import Config
    from core.custom_data import CustomData

MNIST_PATH = Path(__file__).parent / "data" / "mnist.npz"
MNIST_SHA256 = "06af5dfe73b70e3bc1c36439982b18a8d76803db9b544f6fdf838a37fbb01b64"
GENERATED_SETS = ("spiral", "circles", "moons", "xor", "blobs")  # 2D sets drawn from the seed
CUSTOM = "custom"  # your own points (config field `data`)
TWO_D_SETS = GENERATED_SETS + (CUSTOM,)
MULTICLASS_SETS = ("spiral", "blobs")  # the other generated sets always have two classes
MNIST_SIZES = (50_000, 10_000, 10_000)  # training, validation, test examples (load_mnist's split)


class DatasetError(RuntimeError):
    """The data could not be loaded; the message says how to fix it."""


@dataclass(frozen=True)
class Dataset:
    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    classes: list[str]

    @property
    def input_dim(self) -> int:
        return self.x_train.shape[1]


def random_streams(seed: int) -> list[np.random.Generator]:
    """Three independent streams from a run's seed: the data, the initial weights, the shuffling."""
    return np.random.default_rng(seed).spawn(3)


def dataset_for(config: Config) -> Dataset:
    """The run's data, exactly as train() draws it (MNIST is shared; 2D sets come from the seed, and so
    does the split of your own points)."""
    if config.dataset == "mnist":
        return load_mnist()
    rng = random_streams(config.seed)[0]
    if config.dataset == CUSTOM:
        return make_custom(config.data, rng, config.train_ratio)
    return make_2d(config.dataset, rng, config.points, config.noise, config.train_ratio, config.classes)


def _read_only(*arrays: np.ndarray) -> None:
    for array in arrays:
        array.flags.writeable = False


def _verified(path: Path) -> str:
    """The shipped MNIST file's sha256, once it matches MNIST_SHA256; DatasetError says how to fix it."""
    try:
        with path.open("rb") as file:
            digest = hashlib.file_digest(file, "sha256").hexdigest()
    except FileNotFoundError:
        raise DatasetError(
            f"MNIST file missing: {path}. Restore it with `git checkout -- {path.name}` in "
            f"{path.parent} (it is committed with the project)."
        ) from None
    if digest != MNIST_SHA256:
        raise DatasetError(
            f"MNIST file corrupt: {path} has sha256 {digest}, expected {MNIST_SHA256}. "
            f"Restore it with `git checkout -- {path.name}` in {path.parent}."
        )
    return digest


@lru_cache(maxsize=1)
def load_mnist(path: Path = MNIST_PATH) -> Dataset:
    """MNIST as the tutorial splits it: 50k train, the last 10k training images as validation,
    and the official 10k test set. Pixels in [0, 1], float32, flattened to 784.

    Loaded once per process and read-only, so every run shares the same arrays. The pixels are
    memory-mapped from a float32 cache (core.data_cache, made from the verified file at first use), so
    every process on the machine shares one copy in the page cache instead of holding its own (~220 MB).
    """
    digest = _verified(path)
    with np.load(path) as data:
        x_train = data_cache.shared(digest, "x_train", data, _scaled_pixels)
        x_test = data_cache.shared(digest, "x_test", data, _scaled_pixels)
        y_train = data["y_train"].astype(np.int64)
        y_test = data["y_test"].astype(np.int64)
    arrays = (x_train[:-10000], y_train[:-10000], x_train[-10000:], y_train[-10000:], x_test, y_test)
    _read_only(*arrays)
    return Dataset("mnist", *arrays, classes=[str(d) for d in range(10)])


@lru_cache(maxsize=1)
def load_mnist_test(path: Path = MNIST_PATH) -> tuple[np.ndarray, np.ndarray]:
    """MNIST's 10k test digits as uint8 rows of 784 pixels in 0..255, and their int64 labels: what a
    web process needs (the digits the page shows, the views' mistakes), 8 MB, without the training set.
    Read-only, loaded once per process."""
    _verified(path)
    with np.load(path) as data:
        x_test = data["x_test"].reshape(-1, 784)
        y_test = data["y_test"].astype(np.int64)
    _read_only(x_test, y_test)
    return x_test, y_test


def _scaled_pixels(images: np.ndarray) -> np.ndarray:
    """uint8 images -> float32 rows of 784 values in [0, 1], scaled in place (one float copy, not two)."""
    pixels = images.reshape(len(images), -1).astype(np.float32)
    pixels /= 255.0
    return pixels


def make_2d(
    name: str,
    rng: np.random.Generator,
    n_points: int = 600,
    noise: float = 0.1,
    train_ratio: float = 0.7,
    n_classes: int = 3,
) -> Dataset:
    """A 2D classification set drawn from rng: n_points split train/validation by train_ratio,
    plus a test set of the same size as the validation set drawn afterwards."""
    n_train, n_val = two_d_split(n_points, train_ratio)
    x, y = _draw_2d(name, rng, n_points + n_val, noise, n_classes)
    order = rng.permutation(len(x))
    x, y = x[order].astype(np.float32), y[order]
    classes = [str(c) for c in range(n_classes if name in MULTICLASS_SETS else 2)]
    return Dataset(
        name,
        x[:n_train],
        y[:n_train],
        x[n_train:n_points],
        y[n_train:n_points],
        x[n_points:],
        y[n_points:],
        classes=classes,
    )


def make_custom(data: CustomData, rng: np.random.Generator, train_ratio: float = 0.7) -> Dataset:
    """Your own points in an order drawn from rng, split train/validation by train_ratio as the
    generated sets are. There are no other points to test on: the validation points are the test set
    too, so a run's test accuracy is its last validation accuracy."""
    n_train, _ = two_d_split(data.points, train_ratio)
    order = rng.permutation(data.points)
    x, y = data.x[order], data.y[order]
    held_out = x[n_train:], y[n_train:]
    classes = [str(c) for c in range(data.classes)]
    return Dataset(CUSTOM, x[:n_train], y[:n_train], *held_out, *held_out, classes=classes)


def two_d_split(n_points: int, train_ratio: float) -> tuple[int, int]:
    """(training, validation) examples of a 2D set; its test set has as many as its validation set."""
    n_val = max(1, round(n_points * (1 - train_ratio)))
    return n_points - n_val, n_val


def _draw_2d(
    name: str, rng: np.random.Generator, n: int, noise: float, k: int
) -> tuple[np.ndarray, np.ndarray]:
    """n points in roughly [-1, 1]^2 and their integer labels."""
    if name == "spiral":  # k arms, the CS231n spiral
        y = np.arange(n) % k
        t = rng.uniform(0, 1, n)
        angle = y * (2 * np.pi / k) + t * 4.0 + rng.standard_normal(n) * noise * 2
        x = np.c_[t * np.sin(angle), t * np.cos(angle)]
    elif name == "circles":  # an inner disc and an outer ring
        y = np.arange(n) % 2
        radius = np.where(y == 0, rng.uniform(0, 0.45, n), rng.uniform(0.6, 1.0, n))
        angle = rng.uniform(0, 2 * np.pi, n)
        x = np.c_[radius * np.cos(angle), radius * np.sin(angle)] + rng.standard_normal((n, 2)) * noise * 0.5
    elif name == "moons":  # two interleaved half circles
        y = np.arange(n) % 2
        angle = rng.uniform(0, np.pi, n)
        x = np.where(
            (y == 0)[:, None],
            np.c_[np.cos(angle), np.sin(angle)],
            np.c_[1 - np.cos(angle), 0.5 - np.sin(angle)],
        )
        x = (x - [0.5, 0.25]) / 1.5 + rng.standard_normal((n, 2)) * noise * 0.5
    elif name == "xor":  # the sign of x1 * x2
        x = rng.uniform(-1, 1, (n, 2))
        y = (x[:, 0] * x[:, 1] > 0).astype(np.int64)
        x = x + rng.standard_normal((n, 2)) * noise * 0.5
    elif name == "blobs":  # k gaussian clusters on a circle
        y = np.arange(n) % k
        centres = np.c_[np.cos(2 * np.pi * np.arange(k) / k), np.sin(2 * np.pi * np.arange(k) / k)] * 0.6
        x = centres[y] + rng.standard_normal((n, 2)) * (0.1 + noise)
    else:
        raise ValueError(f"unknown 2D set {name!r}: use one of {', '.join(GENERATED_SETS)}")
    return x, y.astype(np.int64)
