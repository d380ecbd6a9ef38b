"""Optimizers apply the gradients that the layers' backward computed."""

from __future__ import annotations

import numpy as np

from core.layers import Layer


class SGD:
    """Plain SGD, or SGD with (heavy-ball) momentum when momentum > 0."""

    def __init__(self, learning_rate: float, momentum: float = 0.0) -> None:
        self.learning_rate = learning_rate
        self.momentum = momentum
        self._velocity: dict[int, np.ndarray] = {}

    def step(self, layers: list[Layer]) -> None:
        for layer in layers:
            for name in layer.parameter_names:
                param, grad = getattr(layer, name), getattr(layer, "grad_" + name)
                if self.momentum:
                    v = self._velocity.setdefault(id(param), np.zeros_like(param))
                    v *= self.momentum
                    v -= self.learning_rate * grad
                    param += v
                else:
                    # In place: the layer keeps the same array, so views of it stay valid.
                    param -= self.learning_rate * grad
