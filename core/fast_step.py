"""The training step of Network.train_step, done with fewer NumPy calls and no new arrays.

Network.train_step is the readable version: every layer's forward, every layer's backward, then the
optimizer. FastTrainStep does the same arithmetic for Dense/ReLU networks (tests/core/test_fast_path.py
checks that both give the same numbers) but runs much faster on small batches, where each NumPy call
(about 2 µs, whatever the size) and each pass over memory cost more than the multiplications themselves:
- every intermediate array lives in a buffer made once and reused (a smaller last batch uses the first
  rows of each buffer);
- the parameters (and the gradients) of all layers share one array, so the optimizer makes one update;
- ReLU works in place, and its backward masks with the saved output (output > 0 exactly where input > 0);
- loss, accuracy and the loss gradient are computed together, the gradient over the logits' buffer;
- the first layer's input gradient (d loss / d pixels) is skipped: nothing uses it.
The gradients still land in each Dense layer's grad_weights/grad_biases (views into the shared array) and
the optimizer still applies them, with the same arithmetic as the plain step.
"""

from __future__ import annotations

import numpy as np

from core.layers import Dense, ReLU
from core.losses import softmax_crossentropy_and_grad_inplace
from core.network import Network
from core.optim import SGD


class FastTrainStep:
    """Call it like network.train_step(x, y, optimizer), without the optimizer: step(x, y)."""

    def __init__(self, network: Network, optimizer: SGD, max_batch: int) -> None:
        if not self.supports(network):
            raise ValueError("FastTrainStep needs Dense, ReLU, Dense, ..., Dense layers")
        self.optimizer = optimizer
        self.dense = network.dense_layers
        self.max_batch = max_batch
        dtype = self.dense[0].weights.dtype
        # All the parameters in one array and all the gradients in another, the layers' arrays being views
        # into them: the optimizer then updates the whole network in one call instead of one per array.
        self.parameters = share_one_array(self.dense, ("weights", "biases"))
        self.gradients = share_one_array(self.dense, ("grad_weights", "grad_biases"))
        # outputs[i]: Dense i's output (after ReLU for hidden layers; the logits, then their gradient,
        # for the last). grads[i]: d loss / d outputs[i] for the hidden layers; masks[i]: outputs[i] > 0.
        widths = [layer.weights.shape[1] for layer in self.dense]
        self.outputs = [np.empty((max_batch, width), dtype) for width in widths]
        self.grads = [np.empty((max_batch, width), dtype) for width in widths[:-1]]
        self.masks = [np.empty((max_batch, width), bool) for width in widths[:-1]]
        self.full_batch = self.rows(max_batch)

    @staticmethod
    def supports(network: Network) -> bool:
        """True for the networks build_network makes: Dense, then (ReLU, Dense) repeated."""
        layers = network.layers
        return (
            len(layers) % 2 == 1
            and all(isinstance(layer, Dense) for layer in layers[::2])
            and all(isinstance(layer, ReLU) for layer in layers[1::2])
        )

    def rows(self, n: int) -> tuple[list[np.ndarray], list[np.ndarray], list[np.ndarray]]:
        """The first n rows of the outputs, grads and masks buffers (made once for full batches)."""
        return [a[:n] for a in self.outputs], [a[:n] for a in self.grads], [a[:n] for a in self.masks]

    def __call__(self, x: np.ndarray, y: np.ndarray) -> tuple[float, int]:
        """One SGD step on a batch; returns (mean loss, number correct) before the update."""
        n = len(x)
        outputs, grads, masks = self.full_batch if n == self.max_batch else self.rows(n)
        inputs = [x, *outputs[:-1]]  # what each Dense layer reads
        last = len(outputs) - 1

        for i, layer in enumerate(self.dense):  # forward
            out = outputs[i]
            np.matmul(inputs[i], layer.weights, out=out)
            out += layer.biases
            if i < last:
                np.maximum(out, 0, out=out)  # ReLU

        logits = outputs[last]
        predicted = logits.argmax(axis=1)
        correct = int(np.count_nonzero(predicted == y))
        grad = logits  # overwritten with d loss / d logits
        loss = float(softmax_crossentropy_and_grad_inplace(logits, y, predicted).sum() / n)  # = .mean()

        for i in range(last, -1, -1):  # backward
            layer = self.dense[i]
            np.matmul(inputs[i].T, grad, out=layer.grad_weights)
            np.add.reduce(grad, axis=0, out=layer.grad_biases)  # np.sum without its Python wrapper
            if i == 0:
                break  # d loss / d x of the first layer: nobody needs it
            grad_input = grads[i - 1]
            np.matmul(grad, layer.weights.T, out=grad_input)
            np.greater(inputs[i], 0, out=masks[i - 1])  # ReLU backward
            np.multiply(grad_input, masks[i - 1], out=grad_input)
            grad = grad_input

        self.optimizer.update(self.parameters, self.gradients)  # = optimizer.step(network.layers)
        return loss, correct


def share_one_array(layers: list[Dense], names: tuple[str, ...]) -> np.ndarray:
    """Copy the layers' arrays called `names` into one flat array; each attribute becomes a view into it.

    The values and shapes stay the same (layer.weights is still an [in, out] array), so code reading or
    writing the layers in place sees no difference.
    """
    flat = np.concatenate([getattr(layer, name).ravel() for layer in layers for name in names])
    start = 0
    for layer in layers:
        for name in names:
            shape = getattr(layer, name).shape
            size = int(np.prod(shape))
            setattr(layer, name, flat[start : start + size].reshape(shape))
            start += size
    return flat
