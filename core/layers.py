"""Layers of the tutorial network: each one has forward(x) and backward(x, grad_output).

backward computes gradients (stored on the layer) and returns the gradient with respect to
the input; it never changes the weights. An optimizer applies the update (see core.optim).

The activations (ReLU, the tutorial's, and Tanh, Sigmoid, Identity; ACTIVATIONS maps the config's names
to them) also work in place for the fast training step (core/fast_step.py): forward_inplace(out)
overwrites a Dense layer's output with the activation's, and backward_inplace(output, grad, scratch)
multiplies grad by the derivative, which each of them can compute from its output alone.
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


class Activation(Layer):
    """An element-wise function applied after a Dense layer; `name` is its config name."""

    name = ""
    label = ""  # as the page names it
    #: dtype of the scratch buffer backward_inplace needs (None: the layer's own float type)
    scratch_dtype: type | None = None

    def forward_inplace(self, out: np.ndarray) -> None:
        """out = f(out)."""
        raise NotImplementedError

    def backward_inplace(self, output: np.ndarray, grad: np.ndarray, scratch: np.ndarray) -> None:
        """grad *= f'(input), from output = f(input); scratch is a buffer of output's shape."""
        raise NotImplementedError


class ReLU(Activation):
    """max(0, x), element-wise."""

    name = "relu"
    label = "ReLU"
    scratch_dtype = bool

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.maximum(x, 0)

    def backward(self, x: np.ndarray, grad_output: np.ndarray) -> np.ndarray:
        return grad_output * (x > 0)  # d max(0, x) / dx: 1 where x > 0, else 0

    def forward_inplace(self, out: np.ndarray) -> None:
        np.maximum(out, 0, out=out)

    def backward_inplace(self, output: np.ndarray, grad: np.ndarray, scratch: np.ndarray) -> None:
        np.greater(output, 0, out=scratch)  # output > 0 exactly where the input was
        np.multiply(grad, scratch, out=grad)


class Tanh(Activation):
    """tanh(x), element-wise; its derivative is 1 - tanh(x)^2."""

    name = "tanh"
    label = "Tanh"

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.tanh(x)

    def backward(self, x: np.ndarray, grad_output: np.ndarray) -> np.ndarray:
        return grad_output * (1 - np.tanh(x) ** 2)

    def forward_inplace(self, out: np.ndarray) -> None:
        np.tanh(out, out=out)

    def backward_inplace(self, output: np.ndarray, grad: np.ndarray, scratch: np.ndarray) -> None:
        np.multiply(output, output, out=scratch)
        np.subtract(1, scratch, out=scratch)
        np.multiply(grad, scratch, out=grad)


class Sigmoid(Activation):
    """1 / (1 + exp(-x)), element-wise, computed as tanh(x / 2) / 2 + 1/2: the same function, without
    exp's overflow for large negative x. Its derivative is sigmoid(x) * (1 - sigmoid(x))."""

    name = "sigmoid"
    label = "Sigmoid"

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.tanh(0.5 * x) * 0.5 + 0.5

    def backward(self, x: np.ndarray, grad_output: np.ndarray) -> np.ndarray:
        s = self.forward(x)
        return grad_output * s * (1 - s)

    def forward_inplace(self, out: np.ndarray) -> None:
        np.multiply(out, 0.5, out=out)
        np.tanh(out, out=out)
        np.multiply(out, 0.5, out=out)
        np.add(out, 0.5, out=out)

    def backward_inplace(self, output: np.ndarray, grad: np.ndarray, scratch: np.ndarray) -> None:
        np.subtract(1, output, out=scratch)
        np.multiply(scratch, output, out=scratch)
        np.multiply(grad, scratch, out=grad)


class Identity(Activation):
    """x itself: the "linear" activation (the network is then one linear map, however deep)."""

    name = "linear"
    label = "Linear"

    def forward(self, x: np.ndarray) -> np.ndarray:
        return x

    def backward(self, x: np.ndarray, grad_output: np.ndarray) -> np.ndarray:
        return grad_output

    def forward_inplace(self, out: np.ndarray) -> None:
        pass

    def backward_inplace(self, output: np.ndarray, grad: np.ndarray, scratch: np.ndarray) -> None:
        pass


#: the hidden layers' activation by its config name (core.config's `activation` field)
ACTIVATIONS: dict[str, type[Activation]] = {cls.name: cls for cls in (ReLU, Tanh, Sigmoid, Identity)}


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
