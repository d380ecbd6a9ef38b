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


def softmax_crossentropy_and_grad_inplace(
    logits: np.ndarray, y: np.ndarray, predicted: np.ndarray | None = None
) -> np.ndarray:
    """Per-sample losses and the gradient of their batch mean, computed together.

    The same numbers as softmax_crossentropy_with_logits and grad_softmax_crossentropy_with_logits
    (the same operations in the same order), but the exponentials are computed once and the gradient
    is written over `logits` (C-contiguous) instead of into new arrays: the training step's fast path
    uses this. `predicted`, if given, is logits.argmax(axis=1) (the caller needs it for the accuracy).
    """
    if not logits.flags.c_contiguous:
        raise ValueError("logits must be C-contiguous: the gradient is written over them")
    if predicted is None:
        predicted = logits.argmax(axis=1)
    # One value per row, read and written through flat indices (row start + column): on a small batch
    # that is several times faster than logits.max(axis=1) or logits[np.arange(n), y].
    flat = logits.reshape(-1)  # a view, as logits is contiguous
    row_start = np.arange(0, logits.size, logits.shape[1])
    at_label = row_start + y
    logits -= flat[row_start + predicted][:, None]  # minus the row max, as in log_softmax
    true_class = flat[at_label]  # a copy: the shifted logit of each sample's label
    np.exp(logits, out=logits)
    sums = logits.sum(axis=1, keepdims=True)
    losses = np.log(sums[:, 0])
    losses -= true_class  # -log_softmax at the label
    logits /= sums  # softmax
    flat[at_label] -= 1
    logits /= len(y)
    return losses
