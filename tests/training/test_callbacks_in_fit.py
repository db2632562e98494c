"""Callbacks driven by the real loop (their own semantics are tested in tests/callbacks)."""
import re

import numpy as np
import pytest

from regulab.callbacks import Callback, CSVLogger, EarlyStopping, ModelCheckpoint, ReduceLROnPlateau, TerminateOnNaN
from regulab.models import load_model
from tests.helpers import linear_data, seed_model


class WeightRecorder(Callback):
    def on_train_begin(self, logs=None):
        self.weights = []

    def on_epoch_end(self, epoch, logs=None):
        self.weights.append([w.copy() for w in self.model.get_weights()])


def test_best_weights_restored_even_without_an_early_stop():
    x, y = linear_data(256)
    rec = WeightRecorder()
    es = EarlyStopping(monitor="val_loss", patience=100, restore_best_weights=True)
    model = seed_model("plain")
    h = model.fit(x[:64], y[:64], epochs=15, validation_data=(x[64:], y[64:]), verbose=0, seed=0,
                  callbacks=[rec, es])
    assert len(h.epoch) == 15 and es.stopped_epoch == 0
    best = int(np.argmin(h.history["val_loss"]))
    for got, want in zip(model.get_weights(), rec.weights[best]):
        np.testing.assert_array_equal(got, want)
    assert model.evaluate(x[64:], y[64:], verbose=0)[0] == pytest.approx(min(h.history["val_loss"]), rel=1e-5)


def test_unknown_monitor_fails_before_training():
    x, y = linear_data(64)
    model = seed_model("plain")
    before = [w.copy() for w in model.get_weights()]
    with pytest.raises(ValueError, match=re.escape("Did you mean 'val_loss'?")):
        model.fit(x, y, epochs=3, validation_split=0.25, verbose=0, callbacks=[EarlyStopping(monitor="val_los")])
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)  # no step was taken


def test_monitor_val_without_validation_data():
    x, y = linear_data(64)
    with pytest.raises(ValueError, match="validation"):
        seed_model("plain").fit(x, y, epochs=2, verbose=0, callbacks=[EarlyStopping()])


def test_checkpoint_csv_and_reduce_lr(tmp_path):
    x, y = linear_data(256)
    model = seed_model("l2")
    ckpt = tmp_path / "best.regulab"
    csv = tmp_path / "log.csv"
    h = model.fit(x, y, epochs=4, validation_split=0.25, verbose=0, seed=0,
                  callbacks=[ModelCheckpoint(ckpt, save_best_only=True), CSVLogger(csv),
                             ReduceLROnPlateau(patience=0, factor=0.5, min_delta=10.0)])
    assert ckpt.exists() and not [p for p in tmp_path.iterdir() if p.name.startswith(".")]
    best = load_model(ckpt)
    assert best.evaluate(x, y, verbose=0) is not None
    lines = csv.read_text().splitlines()
    assert lines[0].split(",")[0] == "epoch" and len(lines) == 5
    # the first epoch sets the best; each later one fails min_delta and halves the rate (logged before)
    assert h.history["learning_rate"] == pytest.approx([0.001, 0.001, 0.0005, 0.00025])
    assert model.optimizer.learning_rate == pytest.approx(0.000125)


def test_terminate_on_nan():
    x, y = linear_data(128)
    model = seed_model("plain")
    model.set_weights([w * 1e30 for w in model.get_weights()])
    model.optimizer.learning_rate = 1e30
    h = model.fit(x * 1e30, y, epochs=3, verbose=0, callbacks=[TerminateOnNaN()])
    assert len(h.epoch) == 1
