"""A fake model and a fake training loop, so callbacks are tested by driving their hooks."""
from collections.abc import Mapping

import numpy as np
import pytest


class FakeOptimizer:
    def __init__(self, learning_rate):
        self.learning_rate = learning_rate


class FakeModel:
    """What callbacks see of a model. ``get_weights`` returns the live arrays (as a model handing
    out views would), so a callback that keeps weights must copy them."""

    def __init__(self, learning_rate=0.1):
        self.stop_training = False
        self.weights = [np.zeros(3), np.zeros((2, 2))]
        self.optimizer = FakeOptimizer(learning_rate)
        self.saves = []

    def train_epoch(self, epoch):
        for w in self.weights:
            w[...] = epoch  # in place: a reference kept by a callback would change too

    def get_weights(self):
        return self.weights

    def set_weights(self, weights):
        self.weights = [np.array(w) for w in weights]

    def _write(self, path, kind):
        with open(path, "w") as f:
            f.write(f"{kind} {self.weights[0][0]:g}")
        self.saves.append((kind, path))

    def save(self, path):
        self._write(path, "model")

    def save_weights(self, path):
        self._write(path, "weights")


class CountingLogs(Mapping):
    """Batch logs that count how often a value is read (each read may wait for the device)."""

    def __init__(self, values):
        self._values = dict(values)
        self.reads = 0

    def __getitem__(self, key):
        self.reads += 1
        return self._values[key]

    def __iter__(self):
        return iter(self._values)

    def __len__(self):
        return len(self._values)


def directions_for(names):
    out = {}
    for n in names:
        base = n.removeprefix("val_")
        out[n] = "max" if base in ("accuracy", "auc", "r2") else "min"
    return out


def fit(callback, model, logs_per_epoch, *, metrics=None, epochs=None, steps=4, verbose=0):
    """Run the hooks as the loop does: one epoch per entry of ``logs_per_epoch`` (dicts), stopping
    when ``model.stop_training`` is set. Returns the number of epochs run."""
    metrics = list(logs_per_epoch[0]) if metrics is None else metrics
    callback.set_model(model)
    callback.set_params({"epochs": epochs or len(logs_per_epoch), "steps": steps, "verbose": verbose,
                         "metrics": metrics, "directions": directions_for(metrics)})
    model.stop_training = False
    callback.on_train_begin()
    run = 0
    logs = {}
    for epoch, logs in enumerate(logs_per_epoch):
        callback.on_epoch_begin(epoch)
        model.train_epoch(epoch)
        logs = dict(logs)
        callback.on_epoch_end(epoch, logs)
        run += 1
        if model.stop_training:
            break
    callback.on_train_end(logs)
    return run


def val_losses(values):
    return [{"loss": 1.0, "val_loss": v} for v in values]


@pytest.fixture
def model():
    return FakeModel()


@pytest.fixture
def fakes():
    """The helpers above, for tests that need more than the default model."""
    return type("Fakes", (), {"FakeModel": FakeModel, "CountingLogs": CountingLogs, "fit": staticmethod(fit),
                              "val_losses": staticmethod(val_losses),
                              "directions_for": staticmethod(directions_for)})
