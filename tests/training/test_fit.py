import re

import numpy as np
import pandas as pd
import pytest
import torch

import regulab
from regulab.callbacks import Callback
from regulab.layers import BatchNormalization, Dense, Dropout
from regulab.models import Sequential
from tests.helpers import linear_data, seed_model


def test_fit_learns_a_linear_problem():
    x, y = linear_data(1000)
    model = seed_model("plain")
    h = model.fit(x, y, epochs=10, verbose=0, seed=0)
    assert h.history["accuracy"][-1] > 0.95
    assert model.evaluate(x, y, verbose=0)[1] > 0.95


def test_seeded_fit_is_bit_for_bit_repeatable():
    x, y = linear_data(300)
    runs = []
    for _ in range(2):
        regulab.set_random_seed(1)
        model = seed_model("dropout")
        h = model.fit(x, y, epochs=3, validation_split=0.2, verbose=0, seed=7)
        runs.append((h.history, [w.copy() for w in model.get_weights()]))
    assert runs[0][0] == runs[1][0]
    for a, b in zip(runs[0][1], runs[1][1]):
        np.testing.assert_array_equal(a, b)


def test_reported_loss_includes_l2_penalty_and_logs_data_term():
    x, y = linear_data(256)
    model = seed_model("l2")
    penalty = 0.01 * float((model.layers[0].kernel.value ** 2).sum())
    logs = model.evaluate(x, y, verbose=0, return_dict=True)
    assert logs["loss"] == pytest.approx(logs["data_loss"] + penalty, rel=1e-5)
    assert float(sum(model.losses)) == pytest.approx(penalty, rel=1e-6)
    p = model.predict(x, verbose=0).reshape(-1)
    bce = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))
    assert logs["data_loss"] == pytest.approx(bce, rel=1e-4)
    h = model.fit(x, y, epochs=1, verbose=0)
    assert set(h.history) == {"loss", "data_loss", "accuracy"}


def test_one_step_matches_hand_written_torch_step():
    """fit's first step equals a plain torch step: BCE-with-logits + 0.01*sum(w^2), Adam (Keras eps)."""
    x, y = linear_data(32)
    model = seed_model("l2")
    w0 = [torch.tensor(w) for w in model.get_weights()]
    model.fit(x, y, batch_size=32, epochs=1, shuffle=False, verbose=0)
    params = [w.clone().requires_grad_() for w in w0]
    xt, yt = torch.tensor(x), torch.tensor(y)[:, None]
    out = torch.relu(xt @ params[0] + params[1]) @ params[2] + params[3]
    loss = torch.nn.functional.binary_cross_entropy_with_logits(out, yt) + 0.01 * (params[0] ** 2).sum()
    loss.backward()
    opt = torch.optim.Adam(params, lr=1e-3, eps=1e-7 / np.sqrt(1 - 0.999))  # Keras's eps placement, step 1
    opt.step()
    for got, ref in zip(model.get_weights(), params):
        np.testing.assert_allclose(got, ref.detach().numpy(), rtol=1e-5, atol=1e-7)


def test_validation_split_is_random_stratified_and_reported(capsys):
    # sorted labels: Keras's tail split would validate on class 1 only
    x, _ = linear_data(200)
    y = np.r_[np.zeros(150), np.ones(50)].astype("float32")
    model = seed_model("plain")
    h = model.fit(x, y, epochs=1, validation_split=0.2, verbose=2, seed=3)
    out = capsys.readouterr().out
    assert "validation_split: 40 of 200 samples held out for validation (stratified by class, seed 3); training on 160." in out
    assert h.params["validation_split"] == {"train": 160, "val": 40, "stratified": True, "seed": 3}
    from regulab.training._data import validation_split
    split = validation_split(200, 0.2, y.astype(int), 3)
    assert np.bincount(y[split.val].astype(int)).tolist() == [30, 10]


def test_validation_split_too_small_for_classes():
    x = np.zeros((20, 100), dtype="float32")
    y = np.r_[np.zeros(19), np.ones(1)].astype("float32")
    with pytest.raises(ValueError, match=re.escape("a stratified split needs every class in both sets")):
        seed_model("plain").fit(x, y, validation_split=0.2, verbose=0)


@pytest.mark.parametrize("value", [-0.1, 1.0])
def test_validation_split_out_of_range(value):
    x, y = linear_data(20)
    with pytest.raises(ValueError, match=re.escape(
            f"Invalid value for argument `validation_split`: expected a float in [0, 1). Received: validation_split={value}")):
        seed_model("plain").fit(x, y, validation_split=value, verbose=0)


def test_fit_before_compile():
    model = Sequential([Dense(1, input_dim=3)], name="net")
    with pytest.raises(ValueError, match=re.escape(
            "You must call `compile(optimizer, loss, metrics)` on model 'net' before `fit`.")):
        model.fit(np.zeros((4, 3)), np.zeros(4))


def test_x_and_y_of_different_lengths():
    with pytest.raises(ValueError, match=re.escape(
            "Data cardinality is ambiguous: x has 10 samples, y has 9 samples.")):
        seed_model("plain").fit(np.zeros((10, 100)), np.zeros(9), verbose=0)


@pytest.mark.parametrize("where", ["x", "y"])
@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_data(where, bad):
    x, y = linear_data(10)
    (x if where == "x" else y)[3] = bad
    kind = "NaN" if np.isnan(bad) else "inf"
    with pytest.raises(ValueError, match=re.escape(
            f"Invalid value in `{where}` of fit: {where} contains {kind} at index (3")):
        seed_model("plain").fit(x, y, verbose=0)


def test_binary_labels_outside_unit_interval():
    x, y = linear_data(10)
    y[0] = 2
    with pytest.raises(ValueError, match=re.escape(
            "binary_crossentropy expects labels in [0, 1]; received labels from 0 to 2.")):
        seed_model("plain").fit(x, y, verbose=0)


def test_sparse_labels_not_below_units():
    model = Sequential([Dense(3, input_dim=4, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy")
    with pytest.raises(ValueError, match=re.escape(
            "sparse_categorical_crossentropy: labels must be in [0, 2] for a model with 3 output units; "
            "received labels from 0 to 3.")):
        model.fit(np.zeros((4, 4)), np.array([0, 1, 2, 3]), verbose=0)


@pytest.mark.parametrize("kind,name,hint", [("optimizer", "adm", "adam"), ("loss", "binary_crossentropyy", "binary_crossentropy"),
                                            ("metric", "acuracy", "accuracy")])
def test_unknown_names_suggest(kind, name, hint):
    model = Sequential([Dense(1, input_dim=2)])
    kwargs = {"optimizer": "adam", "loss": "mse", "metrics": []}
    kwargs[kind if kind != "metric" else "metrics"] = name if kind != "metric" else [name]
    with pytest.raises(ValueError, match=re.escape(f"Unknown {kind} '{name}'. Did you mean '{hint}'?")):
        model.compile(**kwargs)


def test_inputs_from_pandas_and_torch():
    x, y = linear_data(64)
    model = seed_model("plain")
    model.fit(pd.DataFrame(x), pd.Series(y), epochs=1, verbose=0)
    model.fit(torch.tensor(x), torch.tensor(y), epochs=1, verbose=0)


def test_class_weight_equals_sample_weight():
    x, y = linear_data(128)
    regulab.set_random_seed(0)
    a = seed_model("plain")
    regulab.set_random_seed(0)
    b = seed_model("plain")
    ha = a.fit(x, y, epochs=2, verbose=0, seed=0, class_weight={0: 1.0, 1: 3.0})
    hb = b.fit(x, y, epochs=2, verbose=0, seed=0, sample_weight=np.where(y == 1, 3.0, 1.0))
    assert ha.history == hb.history


def test_sample_weight_zero_ignores_samples():
    x, y = linear_data(64)
    model = seed_model("plain")
    w = np.ones(64)
    w[32:] = 0
    full = model.evaluate(x[:32], y[:32], verbose=0, return_dict=True)
    weighted = model.evaluate(x, y, sample_weight=w, verbose=0, return_dict=True)
    # Keras reduction: sum(w*l) / batch size, so the loss halves; accuracy is a weighted mean
    assert weighted["loss"] == pytest.approx(full["loss"] / 2, rel=1e-5)
    assert weighted["accuracy"] == pytest.approx(full["accuracy"])


def test_batchnorm_last_batch_of_one_sample_trains():
    x, y = linear_data(33)
    model = seed_model("batchnorm")
    h = model.fit(x, y, batch_size=32, epochs=2, verbose=0)
    assert np.isfinite(h.history["loss"]).all()


def test_mc_dropout_keeps_batchnorm_in_inference_mode():
    x, y = linear_data(64)
    model = Sequential([Dense(32, input_dim=100, activation="relu"), BatchNormalization(), Dropout(0.5),
                        Dense(1, activation="sigmoid")])
    model.compile("adam", "binary_crossentropy")
    model.fit(x, y, epochs=2, verbose=0)
    mm = model.layers[1].moving_mean.numpy().copy()
    samples = model.predict(x[:5], mc_samples=50, seed=0)
    assert samples.shape == (50, 5, 1)
    assert samples.std(0).mean() > 1e-3  # dropout active
    np.testing.assert_array_equal(model.layers[1].moving_mean.numpy(), mm)  # no BN update
    # with dropout disabled, MC samples equal plain inference (BN used moving statistics)
    model.layers[2].rate = 0.0
    np.testing.assert_allclose(model.predict(x[:5], mc_samples=2, seed=0)[0], model.predict(x[:5], verbose=0))
    np.testing.assert_array_equal(model.predict(x[:5], mc_samples=3, seed=1), model.predict(x[:5], mc_samples=3, seed=1))


def test_logits_path_is_stable_for_saturated_outputs():
    x = np.array([[1.0], [1.0]], dtype="float32")
    y = np.array([0.0, 1.0], dtype="float32")
    model = Sequential([Dense(1, input_dim=1, activation="sigmoid")])
    model.compile("adam", "binary_crossentropy")
    model.set_weights([np.array([[200.0]]), np.array([0.0])])
    loss = model.evaluate(x, y, verbose=0)
    assert loss == pytest.approx(100.0, rel=1e-4)  # (200 + 0) / 2: exact, not clipped at -log(1e-7)


def test_batch_hooks_called_only_when_wanted():
    calls = []

    class Counter(Callback):
        def on_train_batch_end(self, batch, logs=None):
            calls.append((batch, logs["loss"]))

    x, y = linear_data(100)
    seed_model("plain").fit(x, y, batch_size=32, epochs=1, verbose=0, callbacks=[Counter()])
    assert [b for b, _ in calls] == [0, 1, 2, 3]
    assert all(np.isfinite(v) for _, v in calls)


def test_stop_training_from_a_callback():
    class StopAfterOne(Callback):
        def on_epoch_end(self, epoch, logs=None):
            self.model.stop_training = True

    x, y = linear_data(64)
    h = seed_model("plain").fit(x, y, epochs=5, verbose=0, callbacks=[StopAfterOne()])
    assert h.epoch == [0]


def test_verbose_2_prints_one_line_per_epoch(capsys):
    x, y = linear_data(64)
    seed_model("plain").fit(x, y, epochs=2, verbose=2, validation_data=(x, y))
    out = capsys.readouterr().out
    assert "Epoch 1/2" in out and "Epoch 2/2" in out and "val_accuracy" in out


def test_regression_and_categorical_models_train():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((256, 5)).astype("float32")
    yr = x @ rng.standard_normal(5)
    reg = Sequential([Dense(16, input_dim=5, activation="relu"), Dense(1)])
    reg.compile(regulab.optimizers.SGD(0.05, momentum=0.9, nesterov=True), "mse", metrics=["mae"])
    h = reg.fit(x, yr, epochs=20, verbose=0, seed=0)
    assert h.history["mae"][-1] < 0.3 * h.history["mae"][0]
    yc = np.eye(3)[(x[:, 0] > 0).astype(int) + (x[:, 1] > 0).astype(int)]
    cat = Sequential([Dense(16, input_dim=5, activation="relu"), Dense(3, activation="softmax")])
    cat.compile(regulab.optimizers.RMSprop(0.01), "categorical_crossentropy", metrics=["accuracy", "precision"])
    h = cat.fit(x, yc, epochs=20, verbose=0, seed=0)
    assert h.history["accuracy"][-1] > 0.8
    assert type(cat._step_spec().metrics[0]).__name__ == "CategoricalAccuracy"


def test_target_shape_mismatch_names_the_loss_to_use():
    x = np.zeros((8, 4), dtype="float32")
    labels = np.arange(8) % 3
    for loss, hint in (
            ("binary_crossentropy", " binary_crossentropy expects one 0/1 label per output unit; for one integer "
                                    "class label per sample and 3 classes use 'sparse_categorical_crossentropy'."),
            ("categorical_crossentropy", " categorical_crossentropy expects one-hot labels; for integer labels use "
                                         "'sparse_categorical_crossentropy'.")):
        model = Sequential([Dense(3, input_dim=4, activation="softmax")])
        model.compile(optimizer="adam", loss=loss)
        with pytest.raises(ValueError, match=re.escape(
                "Targets `y` have shape (None,) but the model's output has shape (None, 3)." + hint)):
            model.fit(x, labels, verbose=0)
