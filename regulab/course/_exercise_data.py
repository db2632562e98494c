"""The data an exercise predefines for the learner, by name: ``X_train``, ``y_train``, ``X_test``, ``y_test``."""
from __future__ import annotations

import numpy as np


def _seed_task() -> dict:
    from regulab.datasets import seed_task

    task = seed_task()
    return {"X_train": task.x_train, "y_train": task.y_train, "X_test": task.x_test, "y_test": task.y_test}


def _split(x: np.ndarray, y: np.ndarray, test_size: float = 0.25, seed: int = 0) -> dict:
    from sklearn.model_selection import train_test_split

    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=test_size, random_state=seed, stratify=y)
    return {"X_train": x_train, "y_train": y_train, "X_test": x_test, "y_test": y_test}


def _digits() -> dict:
    from regulab.datasets import load_digits

    return _split(*load_digits())


def _moons() -> dict:
    from sklearn.datasets import make_moons

    x, y = make_moons(n_samples=600, noise=0.2, random_state=0)
    return _split(x.astype(np.float32), y.astype(np.float32))


def _xor() -> dict:
    x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
    y = np.array([0, 1, 1, 0], dtype=np.float32)
    return {"X_train": x, "y_train": y, "X_test": x.copy(), "y_test": y.copy()}


def _mnist1d() -> dict:
    from regulab.datasets import load_mnist1d

    (x_train, y_train), (x_test, y_test) = load_mnist1d()
    return {"X_train": x_train, "y_train": y_train, "X_test": x_test, "y_test": y_test}


_NAMED = {"seed_task": _seed_task, "digits": _digits, "moons": _moons, "xor": _xor, "mnist1d": _mnist1d,
          "none": dict}


def named_data(name: str) -> dict:
    """The predefined names of data set ``name`` (one of ``seed_task``, ``digits``, ``moons``,
    ``xor``, ``mnist1d``, ``none``).

    >>> sorted(named_data("xor"))
    ['X_test', 'X_train', 'y_test', 'y_train']
    """
    if name not in _NAMED:
        raise ValueError(f"Unknown exercise data {name!r}; known: {', '.join(sorted(_NAMED))}.")
    return _NAMED[name]()
