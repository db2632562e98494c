"""The seed lesson's task: a synthetic binary problem with 100 features, built to overfit.

The lesson's model (Dense(64, relu) -> Dense(1, sigmoid), 6,529 parameters) trained on a few hundred
samples of it memorises the training set while held-out accuracy stays far lower: the gap every
technique of the lesson is meant to close.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from regulab._validation import check_float, check_int


@dataclass
class SeedTask:
    """Train and held-out test arrays, plus which features carry signal."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    informative: np.ndarray  # indices of the features that carry signal


def seed_task(n_train: int = 400, n_test: int = 2000, n_features: int = 100, n_informative: int = 10,
              flip_y: float = 0.05, seed: int = 0) -> SeedTask:
    """Make the lesson's exercise data: ``X_train`` of shape (n_train, 100) and binary labels.

    Args:
        n_train: training samples (default 400: few enough for the lesson's model to overfit).
        n_test: held-out samples to measure generalization on.
        n_features: features (default 100, the lesson's ``input_dim``).
        n_informative: features that carry signal; the rest are noise the model can memorise.
        flip_y: fraction of labels flipped at random (label noise).
        seed: makes the data repeatable.

    >>> task = seed_task()
    >>> task.x_train.shape, task.y_train.shape, sorted(set(task.y_train.tolist()))
    ((400, 100), (400,), [0.0, 1.0])
    """
    n_train = check_int("n_train", n_train, low=2)
    n_test = check_int("n_test", n_test, low=1)
    n_features = check_int("n_features", n_features, low=1)
    n_informative = check_int("n_informative", n_informative, low=1, high=n_features)
    flip_y = check_float("flip_y", flip_y, low=0.0, high=1.0)
    seed = check_int("seed", seed, low=0)
    from sklearn.datasets import make_classification  # imported when used: it takes a second

    # shuffle=False puts the informative features first; then permute columns ourselves so we know
    # where they went (make_classification does not report it)
    x, y = make_classification(n_samples=n_train + n_test, n_features=n_features,
                               n_informative=n_informative, n_redundant=0, n_repeated=0,
                               n_clusters_per_class=2, flip_y=flip_y, class_sep=1.0,
                               shuffle=False, random_state=seed)
    rng = np.random.default_rng(seed)
    cols = rng.permutation(n_features)
    rows = rng.permutation(n_train + n_test)
    x, y = x[rows][:, cols].astype(np.float32), y[rows].astype(np.float32)
    informative = np.sort(np.flatnonzero(cols < n_informative))
    return SeedTask(x[:n_train], y[:n_train], x[n_train:], y[n_train:], informative)
