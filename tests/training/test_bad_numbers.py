"""Bad numbers: NaN and infinite values in the data are refused before training, naming the array,
the first bad index and how many there are; a loss that diverges stops training on the last good
weights (TerminateOnNaN)."""
import math
import re

import numpy as np
import pytest
import torch

from regulab import callbacks, optimizers
from regulab.layers import Dense, Embedding, GlobalAveragePooling1D
from regulab.models import Sequential
from regulab.training import _data

CPU = torch.device("cpu")


def _regression(units_in=4):
    model = Sequential([Dense(1, input_dim=units_in)])
    model.compile(optimizer="sgd", loss="mse")
    return model


def _raises(*messages):
    """``pytest.raises`` for a ValueError whose text is exactly one of ``messages``."""
    return pytest.raises(ValueError, match="^(" + "|".join(re.escape(m) for m in messages) + ")$")


def _fit_message(arg, body, fit_says="before training"):
    """The message fit gives, naming the call (``data_source("fit")``)."""
    return (f"Invalid value in `{arg}` of fit: {body} {fit_says}.",)


# -- arrays: one pass over each float array, before any step

def test_nan_in_x_names_the_first_index_and_the_count():
    x = np.zeros((20, 4), dtype="float32")
    x[12, 3] = np.nan
    x[15] = np.inf
    with _raises(*_fit_message("x", "x contains NaN at index (12, 3) (the first of 5 non-finite "
                                    "values); clean or impute the data")):
        _regression().fit(x, np.zeros(20), verbose=0)


@pytest.mark.parametrize("bad, kind", [(np.inf, "inf"), (-np.inf, "-inf"), (np.nan, "NaN")])
def test_each_kind_of_bad_value_in_y_is_named(bad, kind):
    y = np.zeros(10)
    y[7] = bad
    with _raises(*_fit_message("y", f"y contains {kind} at index (7,) (the only non-finite value); "
                                    "clean or impute the data")):
        _regression().fit(np.zeros((10, 4)), y, verbose=0)


def test_sample_weight_is_checked():
    w = np.ones(10)
    w[[2, 5]] = np.nan
    with _raises(*_fit_message("sample_weight", "sample_weight contains NaN at index (2,) (the first "
                                                "of 2 non-finite values); clean or impute the data")):
        _regression().fit(np.zeros((10, 4)), np.zeros(10), sample_weight=w, verbose=0)


def test_validation_data_is_checked_before_training():
    x_val = np.zeros((6, 4))
    x_val[4, 0] = np.inf
    seen = []

    class Spy(callbacks.Callback):
        def on_train_begin(self, logs=None):
            seen.append("train")

    with _raises("Invalid value in `validation_data` of fit: x_val contains inf at index (4, 0) (the "
                 "only non-finite value); clean or impute the data before training."):
        _regression().fit(np.zeros((10, 4)), np.zeros(10), validation_data=(x_val, np.zeros(6)),
                          callbacks=[Spy()], verbose=0)
    assert seen == []


def test_float64_beyond_float32_range_is_named_as_such():
    x = np.zeros((5, 4))
    x[2, 1] = 1e39  # finite in float64, inf once stored as float32
    with _raises(*_fit_message("x", "x contains 1e+39 at index (2, 1), beyond float32's range "
                                    "(±3.4e38) (the only value not finite in float32); rescale the "
                                    "data")):
        _regression().fit(x, np.zeros(5), verbose=0)


def test_sparse_labels_and_integer_inputs_given_as_floats_are_checked():
    model = Sequential([Dense(3, input_dim=4, activation="softmax")])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    labels = np.array([0.0, 2.0, np.nan, 1.0])
    with _raises(*_fit_message("y", "y contains NaN at index (2,) (the only non-finite value); "
                                    "clean or impute the data")):
        model.fit(np.zeros((4, 4)), labels, verbose=0)
    words = Sequential([Embedding(10, 2, input_length=3), GlobalAveragePooling1D(), Dense(1)])
    words.compile(optimizer="sgd", loss="mse")
    ids = np.array([[1.0, 2.0, np.nan], [3.0, 4.0, 5.0]])  # a CSV read as floats
    with _raises(*_fit_message("x", "x contains NaN at index (0, 2) (the only non-finite value); "
                                    "clean or impute the data")):
        words.fit(ids, np.zeros(2), verbose=0)


def test_evaluate_and_predict_check_too():
    model = _regression()
    x = np.zeros((3, 4))
    x[1, 2] = np.nan
    with _raises("Invalid value in `x` of evaluate: x contains NaN at index (1, 2) (the only non-finite "
                 "value); clean or impute the data first."):
        model.evaluate(x, np.zeros(3), verbose=0)
    with _raises("Invalid value in `x` of predict: x contains NaN at index (1, 2) (the only non-finite "
                 "value); clean or impute the data first."):
        model.predict(x, verbose=0)


def test_messages_name_the_call_and_argument_given_by_data_source():
    x = np.ones((3, 2), dtype="float32")
    x[0, 1] = np.nan
    with _data.data_source("fit", "validation_data"), pytest.raises(ValueError) as err:
        _data.to_tensor(x, "x['pixels']", CPU)
    assert str(err.value) == ("Invalid value in `validation_data` of fit: x_val['pixels'] contains NaN "
                              "at index (0, 1) (the only non-finite value); clean or impute the data "
                              "before training.")
    with _data.data_source("evaluate"), pytest.raises(ValueError) as err:
        _data.to_tensor(x, "y", CPU)
    assert str(err.value) == ("Invalid value in `y` of evaluate: y contains NaN at index (0, 1) (the "
                              "only non-finite value); clean or impute the data first.")
    with pytest.raises(ValueError) as err:  # the context ended with its block
        _data.to_tensor(x, "x", CPU)
    assert str(err.value).startswith("Invalid value in `x`: x contains NaN")


def test_integer_and_clean_data_pass_unchanged():
    ints = np.arange(6).reshape(3, 2)
    t = _data.to_tensor(ints, "x", CPU)
    assert t.dtype == torch.float32 and t.tolist() == [[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]]
    big = np.array([[3e38, -3e38]])  # near float32's limits, still finite
    assert torch.isfinite(_data.to_tensor(big, "x", CPU)).all()


# -- batches from an iterator: checked one by one

def test_check_finite_batch_names_the_batch_and_the_part():
    x = np.zeros((8, 3), dtype="float32")
    y = np.zeros(8, dtype="float32")
    y[[5, 6]] = np.nan
    with pytest.raises(ValueError) as err:
        _data.check_finite_batch((x, y, None), ("x", "y", "sample_weight"), 6, "fit")
    assert str(err.value) == ("Invalid value in batch 7 of the iterator passed to fit: y contains NaN "
                              "at index (5,) of that batch (the first of 2 non-finite values); clean "
                              "or impute the data before training.")


def test_check_finite_batch_looks_into_several_inputs_and_tensors():
    inputs = {"image": torch.zeros(4, 2, 2), "meta": torch.tensor([[1.0], [-math.inf], [0.0], [1.0]])}
    with pytest.raises(ValueError) as err:
        _data.check_finite_batch((inputs, np.zeros(4)), ("x", "y"), 0, "fit")
    assert str(err.value) == ("Invalid value in batch 1 of the iterator passed to fit: x['meta'] "
                              "contains -inf at index (1, 0) of that batch (the only non-finite value); "
                              "clean or impute the data before training.")
    labels = [np.array([0, 1, 2]), torch.tensor([1, 2, 3])]  # integers: nothing to scan
    _data.check_finite_batch((np.ones((3, 2)), labels), ("x", "y"), 3, "fit")


# -- a loss that diverges

class _Recorder(callbacks.Callback):
    """The running loss and a copy of the weights after every training batch."""

    def __init__(self):
        super().__init__()
        self.after = []  # (epoch, batch, loss, weights)
        self.initial = None
        self.train_end = False
        self._epoch = 0

    def on_train_begin(self, logs=None):
        self.initial = [w.copy() for w in self.model.get_weights()]

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        self.after.append((self._epoch, batch, float(logs["loss"]),
                           [w.copy() for w in self.model.get_weights()]))

    def on_train_end(self, logs=None):
        self.train_end = True


def _diverging(seed=0):
    """A tiny regression that SGD with learning rate 1e6 blows up within a few batches."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((32, 2)).astype("float32")
    y = x @ np.array([1.0, -2.0], dtype="float32") + 0.5
    model = Sequential([Dense(1, input_dim=2)])
    model.compile(optimizer=optimizers.SGD(learning_rate=1e6), loss="mse", jit_compile=False)
    return model, x, y


def test_a_diverging_fit_stops_at_the_bad_batch_on_the_last_finite_weights(capsys):
    model, x, y = _diverging()
    recorder = _Recorder()
    history = model.fit(x, y, batch_size=4, epochs=5, shuffle=False, seed=0, verbose=0,
                        callbacks=[recorder, callbacks.TerminateOnNaN()])
    losses = [loss for _, _, loss, _ in recorder.after]
    bad = next(i for i, loss in enumerate(losses) if not math.isfinite(loss))
    assert bad >= 1 and len(losses) == bad + 1  # it diverged, and no batch ran after the bad one
    final = model.get_weights()
    assert all(np.isfinite(w).all() for w in final)
    for got, want in zip(final, recorder.after[bad - 1][3]):
        np.testing.assert_array_equal(got, want)
    # the bad batch's update was undone (its loss overflowed; its weights moved again, by 1e6 times)
    assert not np.array_equal(final[0], recorder.after[bad][3][0])
    assert len(history.history["loss"]) == 1 and not math.isfinite(history.history["loss"][0])
    assert capsys.readouterr().out == f"Epoch 1, batch {bad + 1}: invalid loss {losses[bad]}, terminating training\n"


def test_a_loss_bad_from_the_first_batch_restores_the_initial_weights():
    model = _regression(units_in=1)
    recorder = _Recorder()
    x = np.array([[1e30], [1.0]], dtype="float32")  # finite data whose squared error overflows
    model.fit(x, np.zeros(2), batch_size=1, epochs=2, shuffle=False, verbose=0,
              callbacks=[recorder, callbacks.TerminateOnNaN()])
    assert len(recorder.after) == 1 and recorder.after[0][2] == math.inf
    for got, want in zip(model.get_weights(), recorder.initial):
        np.testing.assert_array_equal(got, want)


def test_raise_error_raises_at_once_and_keeps_the_last_finite_weights():
    model, x, y = _diverging()
    recorder = _Recorder()
    with pytest.raises(RuntimeError) as err:
        model.fit(x, y, batch_size=4, epochs=5, shuffle=False, seed=0, verbose=0,
                  callbacks=[recorder, callbacks.TerminateOnNaN(raise_error=True)])
    bad = len(recorder.after) - 1
    epoch, batch, loss, _ = recorder.after[bad]
    assert str(err.value) == (f"NaN or Inf loss encountered at epoch {epoch + 1}, batch {batch + 1}. "
                              f"Loss value: {loss}. Terminating training immediately; the model keeps "
                              "the weights it had after the last batch with a finite loss.")
    assert not recorder.train_end  # as Keras: no callback's on_train_end runs
    for got, want in zip(model.get_weights(), recorder.after[bad - 1][3]):
        np.testing.assert_array_equal(got, want)


def test_raise_error_must_be_a_bool():
    with pytest.raises(ValueError, match=re.escape(
            "Invalid value for argument `raise_error` of TerminateOnNaN: expected True or False. "
            "Received: raise_error='yes'")):
        callbacks.TerminateOnNaN(raise_error="yes")


def test_fit_on_an_iterator_checks_every_batch_it_draws():
    def batches():
        for i in range(10):
            x = np.ones((4, 4), dtype="float32")
            if i == 6:
                x[2, 1] = np.nan
            yield x, np.zeros(4, dtype="float32")

    model = _regression()
    with _raises("Invalid value in batch 7 of the iterator passed to fit: x contains NaN at index (2, 1) of that "
                 "batch (the only non-finite value); clean or impute the data before training."):
        model.fit(batches(), steps_per_epoch=5, epochs=2, verbose=0)
    assert model.optimizer.iterations == 6  # the batches before it trained
