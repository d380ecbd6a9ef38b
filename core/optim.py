"""Optimizers apply the gradients that the layers' backward computed."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from core.layers import Layer


class SGD:
    """Plain SGD, or SGD with (heavy-ball) momentum when momentum > 0."""

    def __init__(self, learning_rate: float, momentum: float = 0.0) -> None:
        # Python floats, so float32 parameters stay float32 (a NumPy float64 scalar would upcast lr * grad).
        self.learning_rate = float(learning_rate)
        self.momentum = float(momentum)
        self._velocity: dict[int, np.ndarray] = {}
        self._step: dict[int, np.ndarray] = {}  # a reused buffer per parameter for lr * grad
        self._params: dict[int, np.ndarray] = {}  # holding each parameter keeps its id() unique

    def step(self, layers: list[Layer]) -> None:
        for layer in layers:
            for name in layer.parameter_names:
                self.update(getattr(layer, name), getattr(layer, "grad_" + name))

    def update(self, param: np.ndarray, grad: np.ndarray) -> None:
        """param -= learning_rate * grad (with momentum, if set), in place: views of param stay valid."""
        # lr * grad goes into a buffer made once: a new array every batch costs more than the
        # multiplication on small batches. The gradient itself is left untouched.
        step = self._buffer(self._step, param, np.empty_like)
        np.multiply(grad, self.learning_rate, out=step)
        self.apply(param, step)

    def apply(self, param: np.ndarray, step: np.ndarray) -> None:
        """Move param by a step already scaled by the learning rate: param -= step, or with momentum
        velocity = momentum * velocity - step, then param += velocity."""
        if self.momentum:
            velocity = self._buffer(self._velocity, param, np.zeros_like)
            velocity *= self.momentum
            velocity -= step
            param += velocity
        else:
            param -= step

    def _buffer(
        self, buffers: dict[int, np.ndarray], param: np.ndarray, make: Callable[[np.ndarray], np.ndarray]
    ) -> np.ndarray:
        """The array in `buffers` that belongs to `param`, made (same shape and dtype) on first use."""
        key = id(param)
        if key not in buffers:
            self._params[key] = param
            buffers[key] = make(param)
        return buffers[key]
