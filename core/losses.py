"""Log-softmax cross-entropy, named as in the tutorial."""

from __future__ import annotations

from functools import lru_cache

import numpy as np


def log_softmax(logits: np.ndarray) -> np.ndarray:
    """log(softmax(logits)) per row, stable for any finite logits.

    Subtracting the row max keeps exp() from overflowing (logits of 1000 give finite values).
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
    logits: np.ndarray, y: np.ndarray, predicted: np.ndarray | None = None, scale: float = 1.0
) -> np.ndarray:
    """Per-sample losses, and the gradient of their batch mean times `scale` written over `logits`.

    The same numbers as softmax_crossentropy_with_logits and scale * grad_softmax_crossentropy_with_logits
    (up to float32 rounding), but the exponentials are computed once and nothing new is allocated but a
    few per-row values: the training step's fast path uses this, with scale = the learning rate, so that
    backpropagating the result gives the SGD steps themselves. `logits` must be C-contiguous.
    `predicted`, if given, is logits.argmax(axis=1) (the caller needs it for the accuracy).
    """
    if not logits.flags.c_contiguous:
        raise ValueError("logits must be C-contiguous: the gradient is written over them")
    if predicted is None:
        predicted = logits.argmax(axis=1)
    # One value per row, read and written through flat indices (row start + column): on a small batch
    # that is several times faster than logits.max(axis=1) or logits[np.arange(n), y].
    n, classes = logits.shape
    flat = logits.reshape(-1)  # a view, as logits is contiguous
    row_start = _row_starts(n, classes)
    at_label = row_start + y
    logits -= flat[row_start + predicted][:, None]  # minus the row max, as in log_softmax
    true_class = flat[at_label]  # a copy: the shifted logit of each sample's label
    np.exp(logits, out=logits)
    # Row sums as a product with a vector of ones: on small arrays a BLAS call costs under half of np.sum's.
    sums = np.dot(logits, _ones(classes, logits.dtype))
    losses = np.log(sums)
    losses -= true_class  # -log_softmax at the label
    # (softmax - onehot) * scale / n, with one division per row and one multiplication per value
    step = scale / n
    np.divide(step, sums, out=sums)
    logits *= sums[:, None]
    flat[at_label] -= step
    return losses


@lru_cache(maxsize=16)
def _row_starts(n: int, classes: int) -> np.ndarray:
    """The flat index of each row's first value in an (n, classes) array (made once per shape)."""
    starts = np.arange(0, n * classes, classes)
    starts.flags.writeable = False
    return starts


@lru_cache(maxsize=16)
def _ones(size: int, dtype: np.dtype) -> np.ndarray:
    ones = np.ones(size, dtype)
    ones.flags.writeable = False
    return ones
