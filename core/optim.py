"""Optimizers apply the gradients that the layers' backward computed.

An optimizer belongs to one network: its buffers (momentum's velocity, the scaled gradients) are keyed by
where a parameter sits, (layer index, parameter name) as in the layers' parameters() and gradients(), so
the layers may swap an array for another of the same shape (the fast step makes them views) and keep it.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable

import numpy as np

from core.layers import Layer


class SGD:
    """Plain SGD, or SGD with (heavy-ball) momentum when momentum > 0."""

    def __init__(self, learning_rate: float, momentum: float = 0.0) -> None:
        # Python floats, so float32 parameters stay float32 (a NumPy float64 scalar would upcast lr * grad).
        self.learning_rate = float(learning_rate)
        self.momentum = float(momentum)
        self._velocity: dict[Hashable, np.ndarray] = {}
        self._scaled: dict[Hashable, np.ndarray] = {}  # a reused buffer per parameter for lr * grad

    def step(self, layers: list[Layer]) -> None:
        """param -= learning_rate * grad (with momentum, if set) for every layer's parameters, in place:
        views of the parameters stay valid, and the gradients are left untouched."""
        for index, layer in enumerate(layers):
            gradients = layer.gradients()
            for name, param in layer.parameters().items():
                key = (index, name)
                # lr * grad goes into a buffer made once: a new array every batch costs more than the
                # multiplication on small batches.
                scaled = self._buffer(self._scaled, key, param, np.empty_like)
                np.multiply(gradients[name], self.learning_rate, out=scaled)
                self.apply(param, scaled, key)

    def apply(self, param: np.ndarray, step: np.ndarray, key: Hashable) -> None:
        """Move param by a step already scaled by the learning rate: param -= step, or with momentum
        velocity = momentum * velocity - step, then param += velocity. key names the parameter (the same
        key every batch): step() uses (layer index, name); the fast step, which keeps all the network's
        parameters in one array, its own."""
        if self.momentum:
            velocity = self._buffer(self._velocity, key, param, np.zeros_like)
            velocity *= self.momentum
            velocity -= step
            param += velocity
        else:
            param -= step

    @staticmethod
    def _buffer(
        buffers: dict[Hashable, np.ndarray],
        key: Hashable,
        param: np.ndarray,
        make: Callable[[np.ndarray], np.ndarray],
    ) -> np.ndarray:
        """The array in `buffers` for the parameter `key`, made like `param` on first use."""
        buffer = buffers.get(key)
        if buffer is None:
            buffer = buffers[key] = make(param)
        elif buffer.shape != param.shape:
            raise ValueError(
                f"parameter {key!r} has shape {param.shape}, not {buffer.shape} as before: "
                "use one optimizer per network"
            )
        return buffer
