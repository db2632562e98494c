"""scikit-learn's bundled data sets, returned as Keras-style arrays."""
from __future__ import annotations

import numpy as np


def load_digits() -> tuple[np.ndarray, np.ndarray]:
    """The 1,797 8x8 handwritten digits as (N, 8, 8, 1) float32 images in [0, 1] and int labels.

    >>> x, y = load_digits()
    >>> x.shape, y.shape, float(x.max())
    ((1797, 8, 8, 1), (1797,), 1.0)
    """
    from sklearn import datasets as _sk  # imported when used: sklearn takes a second to import

    d = _sk.load_digits()
    return (d.images / 16.0).astype(np.float32)[..., None], d.target.astype(np.int64)


def load_breast_cancer() -> tuple[np.ndarray, np.ndarray]:
    """569 samples, 30 features, binary labels (unscaled: standardize before training)."""
    from sklearn import datasets as _sk

    d = _sk.load_breast_cancer()
    return d.data.astype(np.float32), d.target.astype(np.float32)
