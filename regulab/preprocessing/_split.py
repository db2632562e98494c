"""The training/validation subsets of ``ImageDataGenerator(validation_split=...)``.

Keras takes the first ``validation_split`` fraction of the arrays as they come, so data sorted by
label yields a validation subset of one class (it then raises). regulab draws the subset at
random, stratified by class for classification labels, from a fixed seed: the 'training' and
'validation' flows of the same arrays always get complementary subsets.
"""
from __future__ import annotations

import numpy as np

_SPLIT_SEED = 0


def _classes(y: np.ndarray | None):
    """Class labels to stratify on, or None for regression targets."""
    if y is None:
        return None
    if y.ndim == 2 and y.shape[1] > 1:
        return np.argmax(y, axis=1)
    flat = y.reshape(len(y), -1)
    if flat.shape[1] != 1:
        return None
    flat = flat[:, 0]
    if flat.dtype.kind in "iub" or (flat.dtype.kind == "f" and np.isin(flat, (0.0, 1.0)).all()):
        return flat
    return None


def validation_mask(n: int, y: np.ndarray | None, validation_split: float) -> np.ndarray:
    """Boolean mask of the ``int(n * validation_split)`` samples in the validation subset."""
    rng = np.random.default_rng(_SPLIT_SEED)
    total = int(n * validation_split)
    classes = _classes(y)
    mask = np.zeros(n, dtype=bool)
    if classes is None:
        mask[rng.permutation(n)[:total]] = True
        return mask
    labels, inverse = np.unique(classes, return_inverse=True)
    counts = np.bincount(inverse, minlength=len(labels))
    exact = counts * validation_split
    take = np.floor(exact).astype(int)
    # largest remainders fill up to the total
    extra = total - take.sum()
    if extra > 0:
        take[np.argsort(-(exact - take), kind="stable")[:extra]] += 1
    for c in range(len(labels)):
        members = np.flatnonzero(inverse == c)
        mask[rng.permutation(members)[:take[c]]] = True
    return mask


def check_classes(y: np.ndarray | None, mask: np.ndarray) -> None:
    """Keras's check: both subsets must hold the same classes."""
    classes = _classes(y)
    if classes is None:
        return
    train, val = set(np.unique(classes[~mask]).tolist()), set(np.unique(classes[mask]).tolist())
    if train != val:
        missing = sorted((train ^ val))
        raise ValueError(
            "The training and validation subsets of ImageDataGenerator(validation_split=...) hold "
            f"different classes: class(es) {missing} have too few samples to appear in both. "
            "Pass flow(..., ignore_class_split=True) to split anyway.")
