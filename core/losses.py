"""Log-softmax cross-entropy, named as in the tutorial."""

from __future__ import annotations

import numpy as np


def log_softmax(logits: np.ndarray) -> np.ndarray:
    """log(softmax(logits)) per row, stable for any finite logits.

    Subtracting the row max keeps exp() from overflowing (logits of 1000 give finite values);
    the tutorial promised this stability but its formula did not subtract anything.
    """
    shifted = logits - logits.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=1, keepdims=True)


def softmax_crossentropy_with_logits(logits: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Per-sample cross-entropy -log softmax(logits)[i, y[i]]."""
    return -log_softmax(logits)[np.arange(len(y)), y]


def grad_softmax_crossentropy_with_logits(logits: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Gradient of the batch-mean cross-entropy with respect to the logits: (softmax - onehot) / n."""
    grad = softmax(logits)
    grad[np.arange(len(y)), y] -= 1
    return grad / len(y)


def softmax_crossentropy_and_grad_inplace(logits: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Per-sample losses and the gradient of their batch mean, computed together.

    The same numbers as softmax_crossentropy_with_logits and grad_softmax_crossentropy_with_logits
    (the same operations in the same order), but the exponentials are computed once and the gradient
    is written over `logits` instead of into new arrays: the training step's fast path uses this.
    """
    rows = np.arange(len(y))
    logits -= logits.max(axis=1, keepdims=True)  # shifted, as in log_softmax
    true_class = logits[rows, y]  # a copy: the shifted logit of each sample's label
    np.exp(logits, out=logits)
    sums = logits.sum(axis=1, keepdims=True)
    losses = np.log(sums[:, 0])
    losses -= true_class  # -log_softmax at the label
    logits /= sums  # softmax
    logits[rows, y] -= 1
    logits /= len(y)
    return losses
