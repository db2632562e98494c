"""Several outputs: per-output losses, weights and metrics, Keras 3's history keys and figures
(keras/src/trainers/trainer_test.py::test_loss_weights, keras/src/models/model_test.py)."""
import re

import numpy as np
import pytest

import regulab
from regulab import losses, metrics, optimizers
from regulab.layers import Dense, Input
from regulab.models import Model, Sequential


def _ones_dense(units, name=None):
    return Dense(units, use_bias=False, kernel_initializer="ones", name=name)


def test_loss_weights_match_keras():
    x, y = np.ones((40, 4)), np.zeros((40, 3))
    single = Sequential([Input((4,)), _ones_dense(3)])
    single.compile(optimizers.SGD(), losses.MeanSquaredError(), metrics=[metrics.MeanSquaredError()],
                   loss_weights=0.2)
    h = single.fit(x, y, batch_size=20, epochs=3, verbose=0)
    np.testing.assert_allclose(h.history["loss"], [3.182979, 3.115617, 3.049681], atol=1e-3)

    for kind in ("dict", "list"):
        x1, x2 = Input((4,), name="x_one"), Input((4,), name="x_two")
        o1, o2 = _ones_dense(3, "y_one")(x1), _ones_dense(3, "y_two")(x2)
        model = Model({"x_one": x1, "x_two": x2}, {"y_one": o1, "y_two": o2} if kind == "dict" else [o1, o2])
        if kind == "dict":
            model.compile(optimizers.SGD(), loss={"y_one": losses.MeanSquaredError(), "y_two": losses.MeanSquaredError()},
                          metrics={"y_one": metrics.MeanSquaredError(), "y_two": metrics.MeanSquaredError()},
                          loss_weights={"y_one": 0.1, "y_two": 0.2})
            targets = {"y_one": y, "y_two": y}
        else:
            model.compile(optimizers.SGD(), loss=["mse", "mse"], loss_weights=[0.1, 0.2])
            targets = [y, y]
        h = model.fit({"x_one": x, "x_two": x}, targets, batch_size=20, epochs=3, verbose=0)
        np.testing.assert_allclose(h.history["loss"], [4.778718, 4.694403, 4.611693], atol=1e-3)


def _two_outputs(dict_outputs=False):
    x = Input((3,), name="input_a")
    a, b = Dense(1, name="output_a")(x), Dense(1, name="output_b", activation="sigmoid")(x)
    return Model(x, {"output_a": a, "output_b": b} if dict_outputs else [a, b])


def _fit_keys(model, **compile_args):
    model.compile("sgd", **compile_args)
    x = np.random.rand(8, 3)
    y = np.random.randint(0, 2, (8, 1)).astype("float32")
    targets = {"output_a": y, "output_b": y} if isinstance(model.outputs, dict) else [y, y]
    return sorted(model.fit(x, targets, epochs=1, verbose=0).history)


def test_history_keys_follow_keras_3():
    # Keras: test_functional_list_outputs_list_losses
    assert _fit_keys(_two_outputs(), loss=["mean_squared_error", "binary_crossentropy"],
                     metrics=["mean_squared_error", ["mean_squared_error", "accuracy"]], loss_weights=[0.1, 2]) == [
        "loss", "output_a_loss", "output_a_mean_squared_error", "output_b_accuracy", "output_b_loss",
        "output_b_mean_squared_error"]
    # abbreviations keep the user's spelling
    assert _fit_keys(_two_outputs(), loss=["mse", "binary_crossentropy"],
                     metrics=[["mse", "mae"], ["mse", "acc"]]) == [
        "loss", "output_a_loss", "output_a_mae", "output_a_mse", "output_b_acc", "output_b_loss", "output_b_mse"]
    # one loss among several outputs: no per-output loss key
    assert _fit_keys(_two_outputs(True), loss={"output_b": "binary_crossentropy"},
                     metrics={"output_b": ["mean_squared_error", "accuracy"]}) == [
        "loss", "output_b_accuracy", "output_b_mean_squared_error"]


def test_single_output_metrics_have_no_prefix():
    # Keras: test_functional_single_output, with the loss as a string, a list and a dict
    for loss in ("mean_squared_error", ["mean_squared_error"], {"output_a": "mean_squared_error"}):
        x = Input((3,))
        model = Model(x, Dense(1, name="output_a")(x))
        model.compile("sgd", loss=loss, metrics={"output_a": ["mean_squared_error", "mean_absolute_error"]})
        h = model.fit(np.random.rand(8, 3), np.random.rand(8, 1), epochs=1, verbose=0)
        assert sorted(h.history) == ["loss", "mean_absolute_error", "mean_squared_error"]


def test_the_total_loss_is_the_weighted_sum_of_the_output_losses():
    model = _two_outputs()
    model.compile("sgd", loss=["mse", "binary_crossentropy"], loss_weights=[0.3, 2.0])
    rng = np.random.default_rng(0)
    x, y = rng.random((16, 3)), rng.integers(0, 2, (16, 1)).astype("float32")
    logs = model.evaluate(x, [y, y], return_dict=True, verbose=0)
    pa, pb = model.predict(x, verbose=0)
    mse = float(((pa - y) ** 2).mean())
    pb = np.clip(pb, 1e-7, 1 - 1e-7)
    bce = float(-(y * np.log(pb) + (1 - y) * np.log(1 - pb)).mean())
    assert logs["output_a_loss"] == pytest.approx(mse, rel=1e-5)
    assert logs["output_b_loss"] == pytest.approx(bce, rel=1e-4)
    assert logs["loss"] == pytest.approx(0.3 * mse + 2.0 * bce, rel=1e-4)


def test_predict_returns_the_declared_structure():
    x = np.random.rand(8, 3)
    out = _two_outputs(True).predict(x, verbose=0)
    assert isinstance(out, dict) and sorted(out) == ["output_a", "output_b"] and out["output_a"].shape == (8, 1)
    out = _two_outputs().predict(x, verbose=0)
    assert isinstance(out, list) and len(out) == 2


def test_a_loss_dict_naming_an_unknown_output_lists_the_real_ones():
    with pytest.raises(ValueError, match=re.escape(
            "Argument `loss` of compile names the output 'output_c', which the model does not have; its outputs "
            "are: 'output_a', 'output_b'.")):
        _two_outputs().compile("sgd", loss={"output_a": "mse", "output_c": "mse"})
    with pytest.raises(ValueError, match=re.escape("Argument `metrics` of compile names the output 'output_c'")):
        _two_outputs().compile("sgd", loss="mse", metrics={"output_c": ["mae"]})
    with pytest.raises(ValueError, match=re.escape(
            "Argument `loss` of compile has 3 entries for a model with 2 outputs ('output_a', 'output_b')")):
        _two_outputs().compile("sgd", loss=["mse", "mse", "mse"])


def test_targets_missing_for_an_output():
    model = _two_outputs(True)
    model.compile("sgd", loss={"output_a": "mse", "output_b": "binary_crossentropy"})
    x, y = np.random.rand(8, 3), np.zeros((8, 1))
    with pytest.raises(ValueError, match=re.escape(
            "Argument `y` has no entry for the output 'output_b'; the model's outputs are 'output_a', 'output_b'.")):
        model.fit(x, {"output_a": y}, verbose=0)
    with pytest.raises(ValueError, match=re.escape(
            "Argument `y` has 1 entries but the model has 2 outputs ('output_a', 'output_b')")):
        model.fit(x, [y], verbose=0)


def test_an_output_without_loss_needs_no_targets():
    # Keras: test_partial_loss_partial_label
    model = _two_outputs(True)
    model.compile("sgd", loss={"output_a": "mse"})
    h = model.fit(np.random.rand(8, 3), {"output_a": np.zeros((8, 1))}, epochs=1, verbose=0)
    assert sorted(h.history) == ["loss"]


def test_multi_output_models_compile_and_save(tmp_path):
    regulab.set_random_seed(0)
    model = _two_outputs()
    model.compile("adam", loss=["mse", "binary_crossentropy"], metrics=[[], ["accuracy"]], jit_compile=False)
    x, y = np.random.rand(32, 3), np.random.randint(0, 2, (32, 1)).astype("float32")
    model.fit(x, [y, y], epochs=2, verbose=0, validation_split=0.25, seed=0)
    model.save(tmp_path / "two.regulab")
    back = regulab.models.load_model(tmp_path / "two.regulab")
    for a, b in zip(back.predict(x, verbose=0), model.predict(x, verbose=0)):
        np.testing.assert_array_equal(a, b)
    assert back.evaluate(x, [y, y], return_dict=True, verbose=0) == model.evaluate(x, [y, y], return_dict=True, verbose=0)


def test_targets_of_several_outputs_must_have_one_row_per_sample():
    model = _two_outputs()
    model.compile("sgd", loss=["mse", "binary_crossentropy"])
    with pytest.raises(ValueError, match=re.escape(
            "Data cardinality is ambiguous: x has 10 samples, y['output_a'] has 10 samples, y['output_b'] has 7 "
            "samples.")):
        model.fit(np.ones((10, 3)), [np.ones((10, 1)), np.ones((7, 1))], verbose=0)
