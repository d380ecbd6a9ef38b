"""A network is a list of layers: forward through them, backward in reverse."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import BinaryIO

import numpy as np

from core.layers import Dense, Layer, ReLU
from core.losses import (
    grad_softmax_crossentropy_with_logits,
    softmax,
    softmax_crossentropy_with_logits,
)
from core.optim import SGD


class Network:
    def __init__(self, layers: list[Layer]) -> None:
        self.layers = layers

    @property
    def dense_layers(self) -> list[Dense]:
        return [layer for layer in self.layers if isinstance(layer, Dense)]

    @property
    def sizes(self) -> list[int]:
        """Units per layer, input first: [784, 100, 200, 10] for the tutorial."""
        dense = self.dense_layers
        return [dense[0].weights.shape[0]] + [d.weights.shape[1] for d in dense]

    @property
    def parameter_count(self) -> int:
        return parameter_count(self.sizes)

    def forward_all(self, x: np.ndarray) -> list[np.ndarray]:
        """The input and every layer's output, in order (backward needs them all)."""
        activations = [x]
        for layer in self.layers:
            activations.append(layer.forward(activations[-1]))
        return activations

    def forward(self, x: np.ndarray) -> np.ndarray:
        """The logits."""
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        return softmax(self.forward(x))

    def predict(self, x: np.ndarray) -> np.ndarray:
        return self.forward(x).argmax(axis=1)

    def backward(self, activations: list[np.ndarray], y: np.ndarray) -> float:
        """Fill every layer's gradients of the batch-mean loss; return that loss."""
        logits = activations[-1]
        loss = float(softmax_crossentropy_with_logits(logits, y).mean())
        grad = grad_softmax_crossentropy_with_logits(logits, y)
        for i in range(len(self.layers) - 1, -1, -1):
            grad = self.layers[i].backward(activations[i], grad)
        return loss

    def train_step(self, x: np.ndarray, y: np.ndarray, optimizer: SGD) -> tuple[float, int]:
        """One SGD step on a batch; returns (mean loss, number correct) before the update."""
        activations = self.forward_all(x)
        loss = self.backward(activations, y)
        optimizer.step(self.layers)
        correct = int((activations[-1].argmax(axis=1) == y).sum())
        return loss, correct

    def evaluate(self, x: np.ndarray, y: np.ndarray, batch_size: int = 2048) -> tuple[float, float]:
        """Mean loss and accuracy over a whole set, in batches to bound memory."""
        total_loss, correct = 0.0, 0
        for start in range(0, len(x), batch_size):
            logits = self.forward(x[start : start + batch_size])
            yb = y[start : start + batch_size]
            total_loss += float(softmax_crossentropy_with_logits(logits, yb).sum())
            correct += int((logits.argmax(axis=1) == yb).sum())
        return total_loss / len(x), correct / len(x)

    def save(self, file: str | BinaryIO) -> None:
        """Weights as .npz: w0, b0, w1, b1, ... (loadable with plain numpy)."""
        arrays = {}
        for i, dense in enumerate(self.dense_layers):
            arrays[f"w{i}"], arrays[f"b{i}"] = dense.weights, dense.biases
        np.savez(file, **arrays)

    def to_bytes(self) -> bytes:
        buffer = io.BytesIO()
        self.save(buffer)
        return buffer.getvalue()

    @classmethod
    def load(cls, file: str | BinaryIO | bytes) -> Network:
        if isinstance(file, bytes):
            file = io.BytesIO(file)
        with np.load(file) as data:
            count = sum(1 for key in data.files if key.startswith("w"))
            weights = [data[f"w{i}"] for i in range(count)]
            biases = [data[f"b{i}"] for i in range(count)]
        sizes = [weights[0].shape[0]] + [w.shape[1] for w in weights]
        network = build_network(sizes, np.random.default_rng(0), dtype=weights[0].dtype)
        for dense, w, b in zip(network.dense_layers, weights, biases, strict=True):
            dense.weights[...], dense.biases[...] = w, b
        return network


def parameter_count(sizes: Sequence[int]) -> int:
    """Weights and biases of a Dense stack with these layer sizes."""
    return sum(n_in * n_out + n_out for n_in, n_out in zip(sizes[:-1], sizes[1:], strict=True))


def build_network(
    sizes: Sequence[int], rng: np.random.Generator, init: str = "xavier", dtype: type = np.float32
) -> Network:
    """Dense-ReLU-...-Dense for sizes [inputs, hidden..., classes] (no ReLU after the last)."""
    layers: list[Layer] = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        layers.append(Dense(n_in, n_out, rng=rng, init=init, dtype=dtype))
        if i < len(sizes) - 2:
            layers.append(ReLU())
    return Network(layers)
