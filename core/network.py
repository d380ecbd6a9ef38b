"""A network is a list of layers: forward through them, backward in reverse.

The loss it trains on is the batch-mean cross-entropy plus, when an L2 rate is given, the penalty
l2 / 2 * (sum of every Dense layer's squared weights; biases are not penalised). The losses it reports
(train_step, evaluate) are the cross-entropy alone; `l2_penalty` gives the penalty.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from typing import BinaryIO

import numpy as np

from core.layers import ACTIVATIONS, Activation, Dense, Layer
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

    @property
    def activation(self) -> str:
        """The hidden layers' activation, as build_network names it ("relu" without hidden layers)."""
        return next((layer.name for layer in self.layers if isinstance(layer, Activation)), "relu")

    def l2_penalty(self, l2: float) -> float:
        """l2 / 2 * the sum of the squares of every Dense layer's weights (biases excluded)."""
        if not l2:
            return 0.0
        return 0.5 * l2 * sum(float(np.dot(d.weights.ravel(), d.weights.ravel())) for d in self.dense_layers)

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

    def backward(self, activations: list[np.ndarray], y: np.ndarray, l2: float = 0.0) -> float:
        """Fill every layer's gradients of the batch-mean loss plus the L2 penalty (l2 * weights is the
        penalty's gradient); return the batch-mean cross-entropy (without the penalty)."""
        logits = activations[-1]
        loss = float(softmax_crossentropy_with_logits(logits, y).mean())
        grad = grad_softmax_crossentropy_with_logits(logits, y)
        for i in range(len(self.layers) - 1, -1, -1):
            grad = self.layers[i].backward(activations[i], grad)
        if l2:
            for dense in self.dense_layers:
                dense.grad_weights += l2 * dense.weights
        return loss

    def train_step(self, x: np.ndarray, y: np.ndarray, optimizer: SGD, l2: float = 0.0) -> tuple[float, int]:
        """One SGD step on a batch; returns (mean cross-entropy, number correct) before the update."""
        activations = self.forward_all(x)
        loss = self.backward(activations, y, l2)
        optimizer.step(self.layers)
        correct = int((activations[-1].argmax(axis=1) == y).sum())
        return loss, correct

    def evaluate(
        self,
        x: np.ndarray,
        y: np.ndarray,
        batch_size: int = 2048,
        observe: Callable[[list[np.ndarray]], None] | None = None,
    ) -> tuple[float, float]:
        """Mean cross-entropy and accuracy over a whole set, in batches to bound memory. observe, if given,
        sees every batch's activations (forward_all's list) as they are computed."""
        total_loss, correct = 0.0, 0
        for start in range(0, len(x), batch_size):
            if observe is None:
                logits = self.forward(x[start : start + batch_size])
            else:
                activations = self.forward_all(x[start : start + batch_size])
                observe(activations)
                logits = activations[-1]
            yb = y[start : start + batch_size]
            total_loss += float(softmax_crossentropy_with_logits(logits, yb).sum())
            correct += int((logits.argmax(axis=1) == yb).sum())
        return total_loss / len(x), correct / len(x)

    def save(self, file: str | BinaryIO) -> None:
        """Weights as .npz: w0, b0, w1, b1, ... (loadable with plain numpy), and `activation` (its
        name, as text) when the hidden layers' is not ReLU."""
        arrays = {}
        for i, dense in enumerate(self.dense_layers):
            arrays[f"w{i}"], arrays[f"b{i}"] = dense.weights, dense.biases
        if self.activation != "relu":
            arrays["activation"] = np.array(self.activation)
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
            activation = str(data["activation"]) if "activation" in data.files else "relu"
        sizes = [weights[0].shape[0]] + [w.shape[1] for w in weights]
        network = build_network(
            sizes, np.random.default_rng(0), dtype=weights[0].dtype, activation=activation
        )
        for dense, w, b in zip(network.dense_layers, weights, biases, strict=True):
            dense.weights[...], dense.biases[...] = w, b
        return network


def parameter_count(sizes: Sequence[int]) -> int:
    """Weights and biases of a Dense stack with these layer sizes."""
    return sum(n_in * n_out + n_out for n_in, n_out in zip(sizes[:-1], sizes[1:], strict=True))


def build_network(
    sizes: Sequence[int],
    rng: np.random.Generator,
    init: str = "xavier",
    dtype: type = np.float32,
    activation: str = "relu",
) -> Network:
    """Dense-ReLU-...-Dense for sizes [inputs, hidden..., classes] (no activation after the last);
    another activation (core.layers.ACTIVATIONS: relu, tanh, sigmoid, linear) in place of ReLU."""
    if activation not in ACTIVATIONS:
        raise ValueError(f"unknown activation {activation!r}: use one of {', '.join(ACTIVATIONS)}")
    layers: list[Layer] = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        layers.append(Dense(n_in, n_out, rng=rng, init=init, dtype=dtype))
        if i < len(sizes) - 2:
            layers.append(ACTIVATIONS[activation]())
    return Network(layers)
