"""Small builders shared by tests."""
import numpy as np
import torch

import regulab
from regulab import regularizers
from regulab.layers import BatchNormalization, Dense, Dropout
from regulab.models import Sequential


def seed_model(kind: str = "l2") -> Sequential:
    """The lesson's model and its variants: 'plain', 'l2', 'dropout', 'batchnorm'."""
    first = {"plain": Dense(64, input_dim=100, activation="relu"),
             "l2": Dense(64, input_dim=100, activation="relu", kernel_regularizer=regularizers.l2(0.01)),
             "dropout": Dense(64, input_dim=100, activation="relu"),
             "batchnorm": Dense(64, input_dim=100, activation="relu")}[kind]
    middle = {"dropout": [Dropout(0.5)], "batchnorm": [BatchNormalization()]}.get(kind, [])
    model = Sequential([first, *middle, Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    return model


def linear_data(n=512, d=100, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, d)).astype("float32")
    w = rng.standard_normal(d).astype("float32")
    y = (x @ w > 0).astype("float32")
    return x, y


def task():
    return regulab.datasets.seed_task(n_train=400, n_test=1000)


def constant(value):
    """An initializer filling every weight with ``value`` (Keras's ``Constant``), as Keras's
    recurrent-layer tests use."""
    return lambda shape: torch.full(tuple(shape), float(value))


#: the constant initializers of Keras's recurrent-layer correctness tests
RNN_CONSTANTS = {"kernel_initializer": constant(0.01), "recurrent_initializer": constant(0.02),
                 "bias_initializer": constant(0.03)}


def seq(*shape):
    """0, 1, 2, ... in ``shape``, float32: Keras's test inputs."""
    return np.arange(np.prod(shape)).reshape(shape).astype("float32")
