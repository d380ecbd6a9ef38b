"""The training step of Network.train_step, done with fewer NumPy calls and no new arrays.

Network.train_step is the readable version: every layer's forward, every layer's backward, then the
optimizer. FastTrainStep makes the same update for the networks build_network makes, whatever their
activation and L2 rate (tests/core/test_fast_path.py checks that both give the same numbers, up to float32
rounding) but runs much faster on small batches, where each
NumPy call (about 1 to 2 µs, whatever the size) and each pass over memory cost more than the
multiplications themselves:
- every intermediate array lives in a buffer made once and reused (a smaller last batch uses the first
  rows of each buffer);
- the loss gradient is multiplied by the learning rate before it is backpropagated, so the backward pass
  yields the SGD steps (learning rate x gradient) themselves;
- the parameters (and the steps) of all layers share one array, so the update is one subtraction for
  the whole network instead of a multiplication and a subtraction per array;
- the activations work in place, and their backward uses the saved output (core.layers.Activation: ReLU
  masks with output > 0, exactly where input > 0; tanh and sigmoid compute their derivative from it);
- loss, accuracy and the loss gradient are computed together, the gradient over the logits' buffer;
- the first layer's input gradient (d loss / d pixels) is skipped: nothing uses it;
- sums over a batch (the bias steps) are products with a vector of ones, and every product is np.dot:
  on arrays this small, BLAS calls cost less than np.sum and np.matmul;
- with an L2 rate, learning rate x l2 x weights joins the steps in two calls for the whole network (a
  per-parameter factor, 0 for the biases); without one, nothing is done.
Rounding differs from the plain step's (the learning rate multiplies before the sums, not after), by about
one float32 ulp a step. The layers' grad_weights and grad_biases are not filled; the steps are.
bench/step_floor.py shows how close this is to the floor of any step made of NumPy calls.
"""

from __future__ import annotations

import numpy as np

from core.diagnostics import norm
from core.layers import Activation, Dense
from core.losses import softmax_crossentropy_and_grad_inplace
from core.network import Network
from core.optim import SGD

# How the optimizer names the one array holding every parameter (step() names each layer's (index, name)).
OPTIMIZER_KEY = "all parameters"


class FastTrainStep:
    """Call it like network.train_step(x, y, optimizer), without the optimizer: step(x, y)."""

    def __init__(self, network: Network, optimizer: SGD, max_batch: int, l2: float = 0.0) -> None:
        if not self.supports(network):
            raise ValueError("FastTrainStep needs Dense, activation, Dense, ..., Dense layers")
        self.optimizer = optimizer
        self.dense = network.dense_layers
        self.activations: list[Activation] = network.layers[1::2]
        self.max_batch = max_batch
        dtype = self.dense[0].weights.dtype
        # All the parameters in one array, the layers' weights and biases becoming views into it (the same
        # values and shapes, so code reading or writing the layers in place sees no difference); the steps
        # in another array laid out the same way. The optimizer then updates the whole network in one call.
        self.parameters = np.concatenate(
            [a.ravel() for layer in self.dense for a in (layer.weights, layer.biases)]
        )
        for layer, (weights, biases) in zip(
            self.dense, views_like_layers(self.parameters, self.dense), strict=True
        ):
            layer.weights, layer.biases = weights, biases
        self.steps = np.zeros_like(self.parameters)
        self.layer_steps = views_like_layers(self.steps, self.dense)
        # With L2: decay holds learning rate x l2 for every weight and 0 for every bias, laid out like
        # the parameters; decay x parameters is the penalty's share of the steps.
        self.decay = None
        if l2:
            self.decay = np.zeros_like(self.parameters)
            for weights, _ in views_like_layers(self.decay, self.dense):
                weights[...] = optimizer.learning_rate * l2
            self.decayed = np.empty_like(self.parameters)
        # outputs[i]: Dense i's output (after the activation for hidden layers; the logits, then their
        # gradient, for the last). grads[i]: d loss / d outputs[i] for the hidden layers; scratch[i]: what
        # the activation's backward_inplace works in (ReLU: the mask outputs[i] > 0).
        widths = [layer.weights.shape[1] for layer in self.dense]
        self.outputs = [np.empty((max_batch, width), dtype) for width in widths]
        self.grads = [np.empty((max_batch, width), dtype) for width in widths[:-1]]
        self.scratch = [
            np.empty((max_batch, width), activation.scratch_dtype or dtype)
            for width, activation in zip(widths[:-1], self.activations, strict=True)
        ]
        self.ones = np.ones(max_batch, dtype)
        self.full_batch = self.rows(max_batch)

    @staticmethod
    def supports(network: Network) -> bool:
        """True for the networks build_network makes: Dense, then (activation, Dense) repeated."""
        layers = network.layers
        return (
            len(layers) % 2 == 1
            and all(isinstance(layer, Dense) for layer in layers[::2])
            and all(isinstance(layer, Activation) for layer in layers[1::2])
        )

    def rows(self, n: int) -> tuple[list[np.ndarray], list[np.ndarray], list[np.ndarray]]:
        """The first n rows of the outputs, grads and scratch buffers (made once for full batches)."""
        return [a[:n] for a in self.outputs], [a[:n] for a in self.grads], [a[:n] for a in self.scratch]

    def weight_gradient_norms(self) -> list[float]:
        """The norm of the last step's gradient of the loss (with the L2 term) with respect to each layer's
        weights: its steps' norm over the learning rate (for core.diagnostics, once an epoch)."""
        return [norm(weight_steps) / self.optimizer.learning_rate for weight_steps, _ in self.layer_steps]

    def __call__(self, x: np.ndarray, y: np.ndarray) -> tuple[float, int]:
        """One SGD step on a batch; returns (mean cross-entropy, number correct) before the update."""
        n = len(x)
        outputs, grads, scratch = self.full_batch if n == self.max_batch else self.rows(n)
        inputs = [x, *outputs[:-1]]  # what each Dense layer reads
        last = len(outputs) - 1

        for i, layer in enumerate(self.dense):  # forward
            out = outputs[i]
            np.dot(inputs[i], layer.weights, out)
            out += layer.biases
            if i < last:
                self.activations[i].forward_inplace(out)

        logits = outputs[last]
        predicted = logits.argmax(axis=1)
        correct = int(np.count_nonzero(predicted == y))
        grad = logits  # overwritten with learning rate x d loss / d logits
        losses = softmax_crossentropy_and_grad_inplace(
            logits, y, predicted, scale=self.optimizer.learning_rate
        )
        loss = float(losses.sum()) / n
        ones = self.ones[:n]

        for i in range(last, -1, -1):  # backward: learning rate x gradient = the steps
            weight_steps, bias_steps = self.layer_steps[i]
            np.dot(inputs[i].T, grad, weight_steps)
            np.dot(ones, grad, bias_steps)  # the column sums (BLAS: under half of np.sum's cost here)
            if i == 0:
                break  # d loss / d x of the first layer: nobody needs it
            grad_input = grads[i - 1]
            np.dot(grad, self.dense[i].weights.T, grad_input)
            self.activations[i - 1].backward_inplace(inputs[i], grad_input, scratch[i - 1])
            grad = grad_input

        if self.decay is not None:  # the L2 penalty's gradient, times the learning rate
            np.multiply(self.parameters, self.decay, out=self.decayed)
            self.steps += self.decayed
        self.optimizer.apply(self.parameters, self.steps, OPTIMIZER_KEY)  # parameters -= steps (or momentum)
        return loss, correct


def views_like_layers(flat: np.ndarray, layers: list[Dense]) -> list[tuple[np.ndarray, np.ndarray]]:
    """(weights, biases)-shaped views into flat for each layer, one after the other."""
    views, start = [], 0
    for layer in layers:
        weights_end = start + layer.weights.size
        biases_end = weights_end + layer.biases.size
        views.append((flat[start:weights_end].reshape(layer.weights.shape), flat[weights_end:biases_end]))
        start = biases_end
    return views
