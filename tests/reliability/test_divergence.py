"""A diverging fit says so once, naming the learning rate."""
import re
import warnings

import numpy as np
import pytest

import regulab
from regulab.layers import Dense
from regulab.models import Sequential


def _regression(lr):
    regulab.set_random_seed(0)
    model = Sequential([Dense(1, input_dim=4, use_bias=False)])
    model.compile(regulab.optimizers.SGD(lr), "mse")
    return model


def test_a_diverging_fit_warns_once_naming_the_learning_rate():
    # least squares with a step past 2 / curvature: the error grows ~10-fold every epoch
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 4)).astype("float32")
    y = x.sum(axis=1, keepdims=True)
    model = _regression(1.5)
    with pytest.warns(RuntimeWarning) as record:
        h = model.fit(x, y, epochs=10, batch_size=64, verbose=0)
    ours = [w for w in record if "diverging" in str(w.message)]
    assert len(ours) == 1
    losses = h.history["loss"]
    assert str(ours[0].message) == (
        f"The training loss of model '{model.name}' grew from {losses[0]:.4g} to {losses[6]:.4g} by epoch 7 (more "
        "than a million-fold): the fit is diverging. Lower the learning rate (it is 1.5).")


def test_a_converging_fit_does_not_warn():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 4)).astype("float32")
    model = _regression(0.01)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        model.fit(x, x.sum(axis=1, keepdims=True), epochs=5, verbose=0)
