"""Behaviours a review found wrong once; each test fails on the old code."""
import re

import numpy as np
import pytest
import torch

import regulab
from regulab import regularizers
from regulab.layers import Dense
from regulab.models import Sequential
from regulab.training._data import validation_split
from tests.helpers import linear_data, seed_model


def test_initial_epoch_with_auto_engine():
    x, y = linear_data(800, 100)
    model = seed_model("plain")
    model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    h = model.fit(x, y, epochs=3, initial_epoch=1, batch_size=8, verbose=0)
    assert h.epoch == [1, 2]


@pytest.mark.parametrize("recompile", [True, False])
def test_freezing_a_built_layer_stops_its_training_and_keeps_the_others_moments(recompile):
    # freezing takes effect at the next fit, with or without compile; the head continues from its
    # own Adam moments, exactly as a model whose body was never trained would
    x, y = linear_data(64, 4)
    regulab.set_random_seed(0)
    model = Sequential([Dense(8, input_dim=4, activation="relu"), Dense(1, activation="sigmoid")])
    model.compile("adam", "binary_crossentropy")
    model.fit(x, y, epochs=1, verbose=0, seed=1)
    head = model.layers[1]
    moments_all = {v: {k: t.clone() for k, t in model.optimizer.slots[v].items()} for v in head.weights}
    head_before = head.get_weights()
    model.layers[0].trainable = False
    if recompile:
        model.compile(model.optimizer, "binary_crossentropy")
    frozen = model.layers[0].get_weights()
    model.fit(x, y, epochs=2, verbose=0, seed=2)
    for a, b in zip(frozen, model.layers[0].get_weights()):
        np.testing.assert_array_equal(a, b)
    assert len(model.trainable_weights) == 2 and model.optimizer.iterations == 6
    # the reference: the head alone, from the same weights and Adam moments, fitted on the frozen
    # body's outputs with the same seed
    features = torch.relu(torch.as_tensor(x, dtype=torch.float32) @ torch.as_tensor(frozen[0]) + torch.as_tensor(frozen[1]))
    ref = Sequential([Dense(1, input_dim=8, activation="sigmoid")])
    ref.set_weights(head_before)
    ref.compile("adam", "binary_crossentropy")
    ref.optimizer.store(ref.layers[0].weights, {k: [moments_all[v][k] for v in head.weights] for k in ("m", "v")}, 2)
    ref.fit(features.numpy(), y, epochs=2, verbose=0, seed=2)
    for a, b in zip(ref.get_weights(), head.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


def test_an_optimizer_with_state_cannot_train_a_second_model():
    x, y = linear_data(16, 4)
    opt = regulab.optimizers.Adam(0.01)
    first = Sequential([Dense(1, input_dim=4)], name="first")
    first.compile(opt, "mse")
    first.fit(x, y, verbose=0)
    with pytest.raises(ValueError, match="already trains model 'first'"):
        Sequential([Dense(1, input_dim=4)]).compile(opt, "mse")


def test_class_weight_does_not_weight_the_validation_split():
    x, y = linear_data(200, 100)
    regulab.set_random_seed(0)
    model = seed_model("plain")
    h = model.fit(x, y, epochs=1, validation_split=0.2, class_weight={0: 10.0, 1: 1.0}, verbose=0, seed=4)
    val = validation_split(200, 0.2, y.astype(int), 4).val
    assert h.history["val_loss"][0] == pytest.approx(model.evaluate(x[val], y[val], verbose=0)[0], rel=1e-5)


def _batches(x, y, n):
    while True:
        for i in range(0, len(x), n):
            yield x[i:i + n], y[i:i + n]


def test_class_weight_applies_to_iterator_batches_and_sample_weight_is_refused():
    x, y = linear_data(64, 100)
    losses = []
    for cw in (None, {0: 1000.0, 1: 1.0}):
        regulab.set_random_seed(0)
        model = seed_model("plain")
        losses.append(model.fit(_batches(x, y, 16), steps_per_epoch=4, class_weight=cw, verbose=0).history["loss"][0])
    assert losses[1] > 10 * losses[0]
    with pytest.raises(ValueError, match="`sample_weight` is not supported when `x` is an iterator"):
        seed_model("plain").fit(_batches(x, y, 16), steps_per_epoch=4, sample_weight=np.ones(64), verbose=0)


def test_activity_penalty_on_the_output_layer_and_in_val_loss():
    x, y = linear_data(64, 4)
    model = Sequential([Dense(3, input_dim=4, activation="relu", activity_regularizer=regularizers.l2(1.0)),
                        Dense(1, activation="sigmoid", activity_regularizer=regularizers.l2(1.0))])
    model.compile("sgd", "binary_crossentropy")
    logs = model.evaluate(x, y, verbose=0, return_dict=True)
    hidden = torch.relu(torch.tensor(x) @ model.layers[0].kernel.value + model.layers[0].bias.value)
    out = torch.sigmoid(hidden @ model.layers[1].kernel.value + model.layers[1].bias.value)
    penalty = float((hidden ** 2).sum() / 64 + (out ** 2).sum() / 64)
    assert logs["loss"] - logs["data_loss"] == pytest.approx(penalty, rel=1e-4)
    h = model.fit(x, y, batch_size=64, epochs=1, shuffle=False, validation_data=(x, y), verbose=0)
    assert h.history["loss"][0] == pytest.approx(logs["loss"], rel=1e-4)  # one full batch: same weights
    assert "val_data_loss" in h.history


def test_get_weights_returns_copies():
    model = seed_model("plain")
    x, _ = linear_data(4)
    before = model.predict(x, verbose=0)
    w = model.get_weights()
    w[0] *= 0
    np.testing.assert_array_equal(model.predict(x, verbose=0), before)


def test_one_hot_labels_with_sparse_loss_get_a_clear_error():
    model = Sequential([Dense(2, input_dim=4, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy")
    with pytest.raises(ValueError, match=re.escape(
            "sparse_categorical_crossentropy expects one integer class label per sample; received `y` of "
            "shape (8, 2). For one-hot labels use 'categorical_crossentropy'.")):
        model.fit(np.zeros((8, 4)), np.eye(2)[[0, 1] * 4], verbose=0)
