import numpy as np
import pytest

import regulab
from regulab import regularizers
from regulab.layers import Dense
from regulab.models import Sequential

INFORMATIVE = [7, 23, 41, 66, 90]


def _five_of_hundred():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((1000, 100)).astype("float32")
    y = (x[:, INFORMATIVE] @ np.array([2.0, -1.5, 1.0, -1.0, 1.5]) > 0).astype("float32")
    return x, y


def _fit(reg, optimizer="adam"):
    x, y = _five_of_hundred()
    regulab.set_random_seed(0)
    model = Sequential([Dense(16, input_dim=100, activation="relu", kernel_regularizer=reg),
                        Dense(1, activation="sigmoid")])
    model.compile(optimizer, "binary_crossentropy", metrics=["accuracy"])
    h = model.fit(x, y, epochs=30, verbose=0, seed=0)
    return model, h


def test_proximal_l1_with_adam_keeps_the_informative_features_and_drops_the_noise():
    # over seeds 0-3 it keeps the 5 informative inputs and 1-2 of the 95 noise inputs
    model, h = _fit(regularizers.l1(0.05, proximal=True))
    report = regulab.lab.sparsity(model)
    assert set(INFORMATIVE) <= set(report.selected_features.tolist())
    assert len(report.dropped_features) >= 92
    assert report.per_layer[model.layers[0].name] > 0.95
    assert h.history["accuracy"][-1] > 0.95
    # the reported loss still contains the L1 penalty of the weights
    kernel = model.layers[0].kernel.numpy()
    assert model.penalty() == pytest.approx(0.05 * np.abs(kernel).sum(), rel=1e-5)


def test_proximal_l1_with_sgd_reaches_zeros():
    model, _ = _fit(regularizers.l1(0.05, proximal=True), regulab.optimizers.SGD(0.1))
    assert regulab.lab.sparsity(model).zero_fraction > 0.5


def test_plain_subgradient_l1_reaches_no_exact_zero():
    model, _ = _fit(regularizers.l1(0.05))
    report = regulab.lab.sparsity(model)
    assert report.zero_fraction == 0.0
    assert len(report.selected_features) == 100


def test_sparsity_report_text():
    model, _ = _fit(regularizers.l1(0.05, proximal=True))
    report = regulab.lab.sparsity(model)
    assert f"inputs in use: {len(report.selected_features)} of 100" in str(report)


def test_proximal_l1_finds_the_seed_tasks_informative_features():
    task = regulab.datasets.seed_task()
    regulab.set_random_seed(0)
    model = Sequential([Dense(16, input_dim=100, activation="relu",
                              kernel_regularizer=regularizers.l1(0.05, proximal=True)),
                        Dense(1, activation="sigmoid")])
    model.compile("adam", "binary_crossentropy")
    model.fit(task.x_train, task.y_train, epochs=30, verbose=0, seed=0)
    assert regulab.lab.sparsity(model).selected_features.tolist() == task.informative.tolist()
