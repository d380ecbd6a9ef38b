"""Layers of the tutorial network: each one has forward(x) and backward(x, grad_output).

backward computes gradients (stored on the layer) and returns the gradient with respect to
the input; it never changes the weights. An optimizer applies the update (see core.optim).
"""

from __future__ import annotations

import numpy as np


class Layer:
    """A layer that does nothing: the interface every layer follows."""

    #: names of the trainable arrays on this layer (e.g. "weights", "biases").
    parameter_names: tuple[str, ...] = ()

    def forward(self, x: np.ndarray) -> np.ndarray:
        return x

    def backward(self, x: np.ndarray, grad_output: np.ndarray) -> np.ndarray:
        """Return d loss / d x, given x and d loss / d output (the chain rule)."""
        return grad_output

    def parameters(self) -> dict[str, np.ndarray]:
        return {name: getattr(self, name) for name in self.parameter_names}

    def gradients(self) -> dict[str, np.ndarray]:
        return {name: getattr(self, "grad_" + name) for name in self.parameter_names}


class ReLU(Layer):
    """max(0, x), element-wise."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.maximum(x, 0)

    def backward(self, x: np.ndarray, grad_output: np.ndarray) -> np.ndarray:
        return grad_output * (x > 0)  # d max(0, x) / dx: 1 where x > 0, else 0


class Dense(Layer):
    """output = x @ weights + biases, with weights of shape [input_units, output_units]."""

    parameter_names = ("weights", "biases")

    def __init__(
        self,
        input_units: int,
        output_units: int,
        rng: np.random.Generator,
        init: str = "xavier",
        dtype: type = np.float32,
    ) -> None:
        if init == "xavier":  # Xavier/Glorot normal, as the tutorial says
            std = np.sqrt(2.0 / (input_units + output_units))
        elif init == "he":  # He normal: suits ReLU layers
            std = np.sqrt(2.0 / input_units)
        else:
            raise ValueError(f"unknown init {init!r}: use 'xavier' or 'he'")
        self.weights = (rng.standard_normal((input_units, output_units)) * std).astype(dtype)
        self.biases = np.zeros(output_units, dtype=dtype)
        self.grad_weights = np.zeros_like(self.weights)
        self.grad_biases = np.zeros_like(self.biases)

    def forward(self, x: np.ndarray) -> np.ndarray:
        return x @ self.weights + self.biases

    def backward(self, x: np.ndarray, grad_output: np.ndarray) -> np.ndarray:
        if grad_output.shape != (x.shape[0], self.weights.shape[1]):
            raise ValueError(f"grad_output shape {grad_output.shape} does not match the layer output")
        np.matmul(x.T, grad_output, out=self.grad_weights)
        np.sum(grad_output, axis=0, out=self.grad_biases)
        return grad_output @ self.weights.T
