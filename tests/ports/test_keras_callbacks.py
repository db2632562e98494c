"""Keras 3's own callback tests, ported: ``keras/src/callbacks/early_stopping_test.py``,
``monitor_callback_test.py``, ``terminate_on_nan_test.py`` and ``model_checkpoint_test.py``
(``tensorflow.keras``/``keras`` replaced by ``regulab``).

Where regulab deliberately differs (DESIGN.md, "semantics decisions": bad input is an error, never
a warning and a fallback), the port asserts regulab's behaviour and says what Keras does:
an unknown ``monitor`` or ``mode`` raises before training instead of warning; NaN or inf in the
targets is refused before training (Keras's tests feed ``y = inf`` to get a NaN loss, so these
ports get one from finite data whose squared error overflows float32); ``min_delta`` must be at
least 0 (Keras takes its absolute value); messages count epochs and batches from 1.
"""
import math
import os
import re

import numpy as np
import pytest
import torch

from regulab import callbacks, layers, metrics, models

TRAIN_SAMPLES = 30
TEST_SAMPLES = 30
NUM_CLASSES = 3
INPUT_DIM = 3
NUM_HIDDEN = 5
BATCH_SIZE = 5


def get_test_data(random_seed, train_samples, test_samples, input_shape, num_classes):
    """Keras's ``testing.test_utils.get_test_data``: Gaussian samples around one random template
    per class, labels cycling through the classes."""
    rng = np.random.default_rng(random_seed)
    n = train_samples + test_samples
    templates = 2 * num_classes * rng.random((num_classes, *input_shape))
    y = np.arange(n) % num_classes
    x = (templates[y] + rng.normal(0.0, 1.0, (n, *input_shape))).astype("float32")
    return (x[:train_samples], y[:train_samples]), (x[train_samples:], y[train_samples:])


def to_categorical(y, num_classes):
    return np.eye(num_classes, dtype="float32")[y]


def _random_regression(seed=0):
    rng = np.random.default_rng(seed)
    return [rng.random(shape).astype("float32") for shape in ((10, 5), (10, 1), (10, 5), (10, 1))]


def _two_relu_dense():
    return models.Sequential((layers.Dense(1, activation="relu"), layers.Dense(1, activation="relu")))


# -- EarlyStopping (early_stopping_test.py) and its base (monitor_callback_test.py)

def test_early_stopping():
    x_train, y_train, x_test, y_test = _random_regression()
    model = _two_relu_dense()
    # Keras also compiles "hinge" and F1Score, which regulab does not have
    model.compile(loss="mae", optimizer="adam", metrics=["mse", "acc", "accuracy"])
    cases = [
        ("max", "val_mse", "max"),
        ("min", "val_loss", "min"),
        ("auto", "val_mse", "min"),
        ("auto", "loss", "min"),
        ("auto", "acc", "max"),
        ("auto", "val_accuracy", "max"),
    ]
    for mode, monitor, expected_mode in cases:
        cbks = [callbacks.EarlyStopping(patience=0, monitor=monitor, mode=mode)]
        model.fit(x_train, y_train, batch_size=5, validation_data=(x_test, y_test), callbacks=cbks,
                  epochs=2, verbose=0)
        assert cbks[0].direction == expected_mode  # Keras: monitor_op is ops.greater / ops.less

    cbks = [callbacks.EarlyStopping(patience=0, monitor="unknown")]
    with pytest.raises(ValueError, match=re.escape(
            "Invalid value for argument `monitor` of EarlyStopping: expected one of the metrics this "
            "fit logs ('loss', 'mse', 'acc', 'accuracy', 'val_loss', 'val_mse', 'val_acc', "
            "'val_accuracy'). Received: monitor='unknown'.")):
        model.fit(x_train, y_train, batch_size=5, validation_data=(x_test, y_test), callbacks=cbks,
                  epochs=2, verbose=0)


@pytest.mark.parametrize("patience", [0, 1, 2, 3])
def test_early_stopping_patience(patience):
    losses = [10.0, 9.0, 8.0, 9.0, 8.9, 8.8, 8.7, 8.6, 8.5]
    stopper = callbacks.EarlyStopping(monitor="loss", patience=patience)
    stopper.set_model(models.Sequential([layers.Dense(1, input_dim=1)]))
    stopper.model.compile(loss="mse", optimizer="sgd")
    stopper.on_train_begin()
    for epoch, loss in enumerate(losses):
        stopper.on_epoch_end(epoch=epoch, logs={"loss": loss})
        if stopper.model.stop_training:
            break
    assert stopper.stopped_epoch == max(patience, 1) + 2


def test_early_stopping_reuse():
    patience = 3
    data = np.random.default_rng(0).random((100, 1)).astype("float32")
    labels = np.where(data > 0.5, 1, 0)
    model = _two_relu_dense()
    model.compile(optimizer="sgd", loss="mae", metrics=["mse"])
    stopper = callbacks.EarlyStopping(monitor="mse", patience=patience)
    history1 = model.fit(data, labels, callbacks=[stopper], verbose=0, epochs=20)
    assert len(history1.epoch) >= patience
    history2 = model.fit(data, labels, callbacks=[stopper], verbose=0, epochs=20)
    assert len(history2.epoch) >= patience


def test_state_reset_across_fit_calls():
    stopper = callbacks.EarlyStopping(monitor="loss", patience=3)
    stopper.set_model(models.Sequential([layers.Dense(1, input_dim=1)]))
    stopper.on_train_begin()
    stopper.best = 0.1
    stopper.wait = 3
    stopper.stopped_epoch = 5
    stopper.best_epoch = 5
    stopper.best_weights = object()
    stopper.on_train_begin()
    # Keras resets best to None and best_epoch to 0; regulab to the worst value (every real
    # value improves on it) and None ("no best epoch yet"), as its docstring documents
    assert stopper.best == math.inf
    assert stopper.wait == 0
    assert stopper.stopped_epoch == 0
    assert stopper.best_epoch is None
    assert stopper.best_weights is None


def test_early_stopping_with_baseline():
    x_train, y_train, _, _ = _random_regression()
    model = _two_relu_dense()
    model.compile(optimizer="sgd", loss="mae", metrics=["mse"])
    patience = 3
    stopper = callbacks.EarlyStopping(monitor="mse", patience=patience, baseline=0.6)
    hist = model.fit(x_train, y_train, callbacks=[stopper], verbose=0, epochs=20)
    assert len(hist.epoch) >= patience


class DummyModel:
    """Keras's dummy: its weights are the epoch that set them (regulab's get_weights is a list)."""

    def __init__(self):
        self.stop_training = False
        self.weights = [np.array(-1)]

    def get_weights(self):
        return self.weights

    def set_weights(self, weights):
        self.weights = weights

    def set_weight_to_epoch(self, epoch):
        self.weights = [np.array(epoch)]


def _run_dummy(early_stop, losses, stop_at=None):
    early_stop.set_model(DummyModel())
    epochs_trained = 0
    early_stop.on_train_begin()
    for epoch in range(len(losses)):
        epochs_trained += 1
        early_stop.model.set_weight_to_epoch(epoch=epoch)
        early_stop.on_epoch_end(epoch, logs={"val_loss": losses[epoch]})
        if epoch == stop_at:
            early_stop.model.stop_training = True
        if early_stop.model.stop_training:
            break
    early_stop.on_train_end()
    return epochs_trained, int(early_stop.model.get_weights()[0])


def test_early_stopping_final_weights_when_restoring_model_weights():
    # the best configuration is in epoch 2 (loss 0.1); patience 2 stops at epoch 4
    early_stop = callbacks.EarlyStopping(monitor="val_loss", patience=2, restore_best_weights=True)
    assert _run_dummy(early_stop, [0.2, 0.15, 0.1, 0.11, 0.12])[1] == 2
    # no epoch beats the baseline: training runs `patience` epochs, restoring the best of them
    early_stop = callbacks.EarlyStopping(monitor="val_loss", patience=5, baseline=0.5,
                                         restore_best_weights=True)
    assert _run_dummy(early_stop, [0.9, 0.8, 0.7, 0.71, 0.72, 0.73]) == (5, 2)
    # another callback requests the stop
    early_stop = callbacks.EarlyStopping(monitor="val_loss", patience=5, baseline=0.5,
                                         restore_best_weights=True)
    assert _run_dummy(early_stop, [0.9, 0.8, 0.7, 0.71, 0.72, 0.73], stop_at=3) == (4, 2)


def test_the_first_monitored_epoch_is_kept_even_when_it_is_nan():
    # Keras keeps the first monitored epoch's weights before any improvement, so a run of NaNs
    # (never an improvement) still restores weights it reached
    early_stop = callbacks.EarlyStopping(monitor="val_loss", patience=2, restore_best_weights=True)
    assert _run_dummy(early_stop, [math.nan, math.nan, math.nan]) == (2, 0)  # wait reaches 2 at epoch 1
    assert early_stop.best_epoch == 0


def test_early_stopping_with_start_from_epoch():
    x_train, y_train, _, _ = _random_regression()
    model = _two_relu_dense()
    model.compile(optimizer="sgd", loss="mae", metrics=["mse"])
    for start_from_epoch, patience in [(2, 3), (2, 0)]:
        stopper = callbacks.EarlyStopping(monitor="mse", patience=patience,
                                          start_from_epoch=start_from_epoch)
        history = model.fit(x_train, y_train, callbacks=[stopper], verbose=0, epochs=20)
        assert len(history.epoch) >= patience + start_from_epoch


def test_min_delta():
    # monitor_callback_test.py::test_min_delta; Keras's reference None is "no best yet", which
    # regulab spells as the worst value
    monitor_callback = callbacks.EarlyStopping(mode="max", min_delta=0.5)
    assert monitor_callback.is_improvement(0.75, 0)
    assert monitor_callback.is_improvement(0.5, monitor_callback.worst())
    assert not monitor_callback.is_improvement(0.5, 0)
    assert not monitor_callback.is_improvement(0.2, 0.5)
    minimizing = callbacks.EarlyStopping(mode="min", min_delta=0.5)
    assert minimizing.is_improvement(0.0, 0.75) and not minimizing.is_improvement(0.5, 0.75)


def test_negative_min_delta_and_unknown_mode_are_errors():
    # Keras takes abs(min_delta), and warns on an unknown mode and falls back to 'auto'
    with pytest.raises(ValueError, match=re.escape(
            "Invalid value for argument `min_delta` of EarlyStopping: expected a float in [0, inf). "
            "Received: min_delta=-0.1")):
        callbacks.EarlyStopping(min_delta=-0.1)
    with pytest.raises(ValueError, match=re.escape(
            "Invalid value for argument `mode` of EarlyStopping: expected one of 'auto', 'min', "
            "'max'. Received: mode='unknown'.")):
        callbacks.EarlyStopping(mode="unknown")


# -- TerminateOnNaN (terminate_on_nan_test.py)

def _one_unit_model():
    model = models.Sequential([layers.Dense(1, input_shape=(1,))])
    model.compile(optimizer="sgd", loss="mse")
    return model


def test_terminate_on_nan():
    rng = np.random.default_rng(1337)
    x_train = rng.random((10, 3)).astype("float32")
    y_train = to_categorical(rng.choice(np.arange(2), size=10), 2)
    x_test = rng.random((10, 3)).astype("float32")
    y_test = to_categorical(rng.choice(np.arange(2), size=10), 2)
    model = models.Sequential()
    for _ in range(5):
        model.add(layers.Dense(2, activation="relu", kernel_initializer=lambda shape: torch.full(shape, 1e5)))
    model.add(layers.Dense(2))
    model.compile(loss="mean_squared_error", optimizer="sgd")
    history = model.fit(x_train, y_train, batch_size=4, validation_data=(x_test, y_test),
                        callbacks=[callbacks.TerminateOnNaN()], epochs=20, verbose=0)
    loss = history.history["loss"]
    assert len(loss) == 1
    assert np.isnan(loss[0]) or np.isinf(loss[0])


def test_targets_with_inf_are_refused_before_training():
    # Keras's tests make the loss NaN with y = inf; regulab refuses such data up front
    with pytest.raises(ValueError, match=re.escape("y contains inf at index (0, 0)")):
        _one_unit_model().fit(np.array([[1.0], [2.0]]), np.array([[np.inf], [np.inf]]), verbose=0)


# finite data whose squared error overflows float32: a batch of it has an infinite loss
X_OVERFLOW = np.array([[1e30], [1e30]], dtype="float32")
Y_ZERO = np.zeros((2, 1), dtype="float32")


def test_terminate_on_nan_graceful_stop():
    callback = callbacks.TerminateOnNaN(raise_error=False)
    history = _one_unit_model().fit(X_OVERFLOW, Y_ZERO, epochs=2, batch_size=1, callbacks=[callback],
                                    verbose=0)
    assert len(history.history["loss"]) < 4


def test_terminate_on_nan_raise_error_raises_error():
    callback = callbacks.TerminateOnNaN(raise_error=True)
    with pytest.raises(RuntimeError, match="NaN or Inf loss encountered"):
        _one_unit_model().fit(X_OVERFLOW, Y_ZERO, epochs=1, batch_size=1, callbacks=[callback], verbose=0)


def test_raise_error_terminate_does_not_trigger_on_train_end():
    class TrackingCallback(callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.train_end_called = False

        def on_train_end(self, logs=None):
            self.train_end_called = True

    tracking_callback = TrackingCallback()
    with pytest.raises(RuntimeError):
        _one_unit_model().fit(X_OVERFLOW[:1], Y_ZERO[:1], epochs=1, verbose=0,
                              callbacks=[tracking_callback, callbacks.TerminateOnNaN(raise_error=True)])
    assert not tracking_callback.train_end_called


@pytest.mark.parametrize("raise_error", [False, True])
def test_normal_training_does_not_raise(raise_error):
    callback = callbacks.TerminateOnNaN(raise_error=raise_error)
    history = _one_unit_model().fit(np.array([[1.0], [2.0]]), np.array([[1.0], [2.0]]), epochs=2,
                                    callbacks=[callback], verbose=0)
    assert len(history.history["loss"]) == 2


def test_raise_error_terminate_stops_on_later_batch():
    # batch 1 is finite, batch 2 overflows; regulab counts batches from 1
    with pytest.raises(RuntimeError) as exc:
        _one_unit_model().fit(np.array([[1.0], [1e30]]), np.array([[1.0], [0.0]]), epochs=1,
                              batch_size=1, shuffle=False, verbose=0,
                              callbacks=[callbacks.TerminateOnNaN(raise_error=True)])
    assert "at epoch 1, batch 2." in str(exc.value)


# -- ModelCheckpoint (model_checkpoint_test.py)

@pytest.fixture(scope="module")
def checkpoint_data():
    (x_train, y_train), (x_test, y_test) = get_test_data(
        random_seed=42, train_samples=TRAIN_SAMPLES, test_samples=TEST_SAMPLES,
        input_shape=(INPUT_DIM,), num_classes=NUM_CLASSES)
    return (x_train, to_categorical(y_train, NUM_CLASSES)), (x_test, to_categorical(y_test, NUM_CLASSES))


def _checkpoint_model(metric="acc"):
    # Keras compiles metrics.Accuracy("acc") (exact equality); regulab's "acc" is the accuracy
    # that fits the loss (categorical here), so val_acc is meaningful
    model = models.Sequential([layers.Dense(NUM_HIDDEN, activation="relu"),
                               layers.Dense(NUM_CLASSES, activation="softmax")])
    model.compile(loss="categorical_crossentropy", optimizer="sgd", metrics=[metric])
    return model


def _fit(model, data, cbks, epochs=1, batch_size=BATCH_SIZE):
    (x_train, y_train), (x_test, y_test) = data
    return model.fit(x_train, y_train, batch_size=batch_size, validation_data=(x_test, y_test),
                     callbacks=cbks, epochs=epochs, verbose=0)


def test_model_checkpoint_options(tmp_path, checkpoint_data):
    model = _checkpoint_model()
    filepath = str(tmp_path / "subdir" / "checkpoint.keras")  # the folder is created on saving
    cases = [("val_loss", False, "auto"), ("val_loss", False, "min"), ("val_acc", False, "max"),
             ("val_acc", True, "max")]  # cases 1 to 4
    for monitor, save_best_only, mode in cases:
        cbks = [callbacks.ModelCheckpoint(filepath, monitor=monitor, save_best_only=save_best_only,
                                          mode=mode)]
        _fit(model, checkpoint_data, cbks)
        assert os.path.exists(filepath)
        os.remove(filepath)

    # case 5: a metric the fit does not log. Keras warns and saves anyway; regulab refuses
    cbks = [callbacks.ModelCheckpoint(filepath, monitor="unknown", save_best_only=True, mode="min")]
    with pytest.raises(ValueError, match=re.escape(
            "Invalid value for argument `monitor` of ModelCheckpoint: expected one of the metrics "
            "this fit logs ('loss', 'acc', 'val_loss', 'val_acc'). Received: monitor='unknown'.")):
        _fit(model, checkpoint_data, cbks)
    assert not os.path.exists(filepath)

    # case 6: an unknown mode. Keras warns and falls back to 'auto'; regulab refuses
    with pytest.raises(ValueError, match=re.escape(
            "Invalid value for argument `mode` of ModelCheckpoint: expected one of 'auto', 'min', "
            "'max'. Received: mode='unknown'.")):
        callbacks.ModelCheckpoint(filepath, monitor="val_acc", save_best_only=True, mode="unknown")


@pytest.mark.parametrize("save_weights_only, name", [(False, "checkpoint.epoch{epoch:02d}.keras"),
                                                     (True, "checkpoint.epoch{epoch:02d}.weights.h5")])
def test_integer_save_freq(tmp_path, checkpoint_data, save_weights_only, name):
    # cases 8a and 8b: 5 batches an epoch, a save every 15 batches: after epochs 3, 6 and 9
    filepath = str(tmp_path / name)
    cbks = [callbacks.ModelCheckpoint(filepath, monitor="val_acc", save_freq=15,
                                      save_weights_only=save_weights_only)]
    assert not os.path.exists(filepath.format(epoch=3))
    _fit(_checkpoint_model(), checkpoint_data, cbks, epochs=10, batch_size=6)
    assert [e for e in range(1, 11) if os.path.exists(filepath.format(epoch=e))] == [3, 6, 9]


def test_integer_save_freq_counts_batches_with_steps_per_execution(tmp_path, checkpoint_data):
    # Keras counts batches, not hook calls: with 2 batches per call, a save every 4 batches
    # still lands after batches 4, 8, ... (the hook sees the last batch of each call)
    filepath = str(tmp_path / "e{epoch}b{batch}.keras")
    model = _checkpoint_model()
    model.compile(loss="categorical_crossentropy", optimizer="sgd", steps_per_execution=2,
                  jit_compile=False)
    cbks = [callbacks.ModelCheckpoint(filepath, save_freq=4)]
    _fit(model, checkpoint_data, cbks, epochs=2, batch_size=5)  # 6 batches an epoch
    assert sorted(os.listdir(tmp_path)) == ["e1b4.keras", "e2b2.keras", "e2b6.keras"]


def test_save_freq_arguments():
    # case 9. Keras: "Unrecognized save_freq"; regulab words it as every argument error
    with pytest.raises(ValueError, match=re.escape(
            "Invalid value for argument `save_freq` of ModelCheckpoint: expected 'epoch' or a "
            "positive integer number of batches. Received: save_freq='invalid_save_freq'")):
        callbacks.ModelCheckpoint("m.weights.h5", save_weights_only=True, save_freq="invalid_save_freq")
    callbacks.ModelCheckpoint("m.weights.h5", save_weights_only=True, save_freq="epoch")
    callbacks.ModelCheckpoint("m.weights.h5", save_weights_only=True, save_freq=3)


@pytest.mark.parametrize("save_weights_only, name", [
    (False, "checkpoint.epoch{epoch:02d}batch{batch:02d}.keras"),
    (True, "checkpoint.epoch{epoch:02d}batch{batch:02d}.weights.h5")])
def test_save_with_batch_in_filename(tmp_path, checkpoint_data, save_weights_only, name):
    # cases 10a and 10b: 2 batches an epoch, a save after each
    filepath = str(tmp_path / name)
    cbks = [callbacks.ModelCheckpoint(filepath, monitor="val_acc", save_freq=1,
                                      save_weights_only=save_weights_only)]
    _fit(_checkpoint_model(), checkpoint_data, cbks, epochs=5, batch_size=15)
    for epoch in range(1, 6):
        for batch in (1, 2):
            assert os.path.exists(filepath.format(epoch=epoch, batch=batch))


@pytest.mark.parametrize("mode, monitor, initial_value_threshold, saved", [
    ("max", "val_acc", -0.01, True),  # case 11: any accuracy beats -0.01
    ("auto", "val_loss", None, True),  # case 12
    ("min", "val_loss", 0, False),  # case 13: no loss beats 0
    ("auto", "val_loss", 0, False),  # case 14
])
def test_initial_value_threshold(tmp_path, checkpoint_data, mode, monitor, initial_value_threshold,
                                 saved):
    filepath = str(tmp_path / "checkpoint.keras")
    cbks = [callbacks.ModelCheckpoint(filepath, monitor=monitor, save_best_only=True,
                                      initial_value_threshold=initial_value_threshold, mode=mode)]
    _fit(_checkpoint_model(), checkpoint_data, cbks)
    assert os.path.exists(filepath) == saved


def test_initial_value_threshold_for_a_maximized_metric(tmp_path, checkpoint_data):
    # case 15: no AUC beats 1 (auto mode: AUC is maximized)
    filepath = str(tmp_path / "checkpoint.keras")
    cbks = [callbacks.ModelCheckpoint(filepath, monitor="val_auc", save_best_only=True,
                                      initial_value_threshold=1, mode="auto")]
    _fit(_checkpoint_model(metrics.AUC()), checkpoint_data, cbks)
    assert not os.path.exists(filepath)
    assert cbks[0].direction == "max"


def _functional_model():
    inputs = layers.Input(shape=(INPUT_DIM,), batch_size=5)
    x = layers.Dense(NUM_HIDDEN, activation="relu")(inputs)
    outputs = layers.Dense(NUM_CLASSES, activation="softmax")(x)
    model = models.Model(inputs, outputs)
    model.compile(loss="categorical_crossentropy", optimizer="sgd", metrics=["acc"])
    return model


def test_model_checkpoint_loading(tmp_path, checkpoint_data):
    # the whole model, loaded with load_model
    model = _functional_model()
    filepath = str(tmp_path / "checkpoint.model.keras")
    cbks = [callbacks.ModelCheckpoint(filepath, monitor="val_loss", save_best_only=True, mode="auto")]
    _fit(model, checkpoint_data, cbks)
    ref_weights = model.get_weights()
    assert os.path.exists(filepath)
    new_weights = models.load_model(filepath).get_weights()
    assert len(ref_weights) == len(new_weights)
    for ref_w, w in zip(ref_weights, new_weights):
        np.testing.assert_allclose(w, ref_w)

    # the weights alone, loaded into a new model
    model = _functional_model()
    filepath = str(tmp_path / "checkpoint.weights.h5")
    cbks = [callbacks.ModelCheckpoint(filepath, monitor="val_loss", save_best_only=True,
                                      save_weights_only=True, mode="auto")]
    _fit(model, checkpoint_data, cbks)
    ref_weights = model.get_weights()
    new_model = _functional_model()
    new_model.load_weights(filepath)
    for ref_w, w in zip(ref_weights, new_model.get_weights()):
        np.testing.assert_allclose(w, ref_w)


def test_filepath_fields_take_the_epoch_and_logged_values(tmp_path, checkpoint_data):
    # the documented example: "{epoch:02d}-{val_loss:.2f}.keras", filled from each epoch's logs
    model = _checkpoint_model()
    cbks = [callbacks.ModelCheckpoint(str(tmp_path / "{epoch:02d}-{val_loss:.4f}-{acc:.3f}.keras"))]
    history = _fit(model, checkpoint_data, cbks, epochs=3)
    expected = [f"{e + 1:02d}-{history.history['val_loss'][e]:.4f}-{history.history['acc'][e]:.3f}.keras"
                for e in range(3)]
    assert sorted(os.listdir(tmp_path)) == sorted(expected)
    last = models.load_model(tmp_path / expected[-1])
    x_test = checkpoint_data[1][0]
    np.testing.assert_allclose(last.predict(x_test, verbose=0), model.predict(x_test, verbose=0),
                               rtol=1e-6)
