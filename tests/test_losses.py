"""Losses against torch.nn.functional and NumPy closed forms, with Keras's reductions and clipping."""
import re

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from regulab import losses

EPS32 = np.float32(1e-7)  # Keras's epsilon, clipped in float32 as Keras does


def _rng(seed=0):
    return np.random.default_rng(seed)


def _binary_batch(n=8, units=3, seed=0):
    rng = _rng(seed)
    logits = rng.normal(0.0, 2.0, (n, units)).astype(np.float32)
    y = (rng.random((n, units)) < 0.5).astype(np.float32)
    return y, logits


def _categorical_batch(n=8, classes=4, seed=0):
    rng = _rng(seed)
    logits = rng.normal(0.0, 2.0, (n, classes)).astype(np.float32)
    labels = rng.integers(0, classes, n)
    return labels, np.eye(classes, dtype=np.float32)[labels], logits


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x.astype(np.float64)))


def _softmax(x):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _np_bce_probabilities(y, p):
    """Keras's probability path: clip to [eps, 1-eps] in float32, then the cross-entropy."""
    p = np.clip(p.astype(np.float32), EPS32, np.float32(1) - EPS32).astype(np.float64)
    return -(y * np.log(p) + (1 - y) * np.log(1 - p)).mean(axis=-1)


def _t(x):
    return torch.as_tensor(x)


# -- binary cross-entropy -------------------------------------------------------------------------

def test_bce_logits_path_matches_torch():
    y, z = _binary_batch()
    got = losses.BinaryCrossentropy().per_sample(_t(y), _t(z), logits=True)
    ref = F.binary_cross_entropy_with_logits(_t(z).double(), _t(y).double(), reduction="none").mean(-1)
    np.testing.assert_allclose(got.numpy(), ref.numpy(), rtol=1e-5)


def test_bce_probability_path_matches_closed_form_and_logits_path():
    y, z = _binary_batch()
    p = _sigmoid(z).astype(np.float32)
    loss = losses.BinaryCrossentropy()
    got = loss.per_sample(_t(y), _t(p))
    np.testing.assert_allclose(got.numpy(), _np_bce_probabilities(y, p), rtol=1e-5)
    np.testing.assert_allclose(got.numpy(), loss.per_sample(_t(y), _t(z), logits=True).numpy(), rtol=1e-4)


def test_bce_extreme_logits_stay_finite_while_probabilities_are_clipped():
    y = np.array([[1.0], [0.0], [1.0], [0.0]], np.float32)
    z = np.array([[-100.0], [100.0], [100.0], [-100.0]], np.float32)
    loss = losses.BinaryCrossentropy()
    from_logits = loss.per_sample(_t(y), _t(z), logits=True).numpy()
    np.testing.assert_allclose(from_logits, [100.0, 100.0, 0.0, 0.0], atol=1e-6)
    clipped = loss.per_sample(_t(y), torch.sigmoid(_t(z))).numpy()
    np.testing.assert_allclose(clipped, _np_bce_probabilities(y, _sigmoid(z)), rtol=1e-5)
    assert clipped.max() < 16.2  # -log(1e-7) = 16.12: bounded, where the logits path is not


def test_bce_label_smoothing():
    y, z = _binary_batch()
    loss = losses.BinaryCrossentropy(label_smoothing=0.2)
    smoothed = y * 0.8 + 0.1
    ref = F.binary_cross_entropy_with_logits(_t(z).double(), _t(smoothed).double(), reduction="none").mean(-1)
    np.testing.assert_allclose(loss.per_sample(_t(y), _t(z), logits=True).numpy(), ref.numpy(), rtol=1e-5)
    p = _sigmoid(z).astype(np.float32)
    np.testing.assert_allclose(loss.per_sample(_t(y), _t(p)).numpy(), _np_bce_probabilities(smoothed, p), rtol=1e-5)


def test_bce_call_averages_over_the_batch_and_honours_from_logits():
    y, z = _binary_batch()
    ref = F.binary_cross_entropy_with_logits(_t(z).double(), _t(y).double())
    assert float(losses.BinaryCrossentropy(from_logits=True)(y, z)) == pytest.approx(float(ref), rel=1e-5)


def test_bce_docstring_value():
    assert float(losses.get("binary_crossentropy")(torch.tensor([[1.0]]), torch.tensor([[0.5]]))) == \
        pytest.approx(np.log(2), rel=1e-6)


# -- categorical cross-entropies ------------------------------------------------------------------

def test_cce_logits_path_matches_torch_cross_entropy():
    _, onehot, z = _categorical_batch()
    got = losses.CategoricalCrossentropy().per_sample(_t(onehot), _t(z), logits=True)
    ref = F.cross_entropy(_t(z).double(), _t(onehot).double(), reduction="none")
    np.testing.assert_allclose(got.numpy(), ref.numpy(), rtol=1e-5)


def test_cce_probability_path_normalizes_and_clips_like_keras():
    _, onehot, z = _categorical_batch()
    scaled = (_softmax(z.astype(np.float64)) * 3.0).astype(np.float32)  # Keras divides by the row sum
    got = losses.CategoricalCrossentropy().per_sample(_t(onehot), _t(scaled))
    p = np.clip((scaled / scaled.sum(-1, keepdims=True)).astype(np.float32), EPS32, 1 - EPS32)
    np.testing.assert_allclose(got.numpy(), -(onehot * np.log(p.astype(np.float64))).sum(-1), rtol=1e-5)
    ref = F.cross_entropy(_t(z).double(), _t(onehot).double(), reduction="none")
    np.testing.assert_allclose(got.numpy(), ref.numpy(), rtol=1e-4)


def test_cce_label_smoothing_matches_torch():
    _, onehot, z = _categorical_batch()
    got = losses.CategoricalCrossentropy(label_smoothing=0.3).per_sample(_t(onehot), _t(z), logits=True)
    ref = F.cross_entropy(_t(z).double(), _t(onehot).double(), reduction="none", label_smoothing=0.3)
    np.testing.assert_allclose(got.numpy(), ref.numpy(), rtol=1e-5)


def test_cce_extreme_logits():
    onehot = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]], np.float32)
    z = np.array([[-100.0, 100.0, 0.0], [0.0, 100.0, -100.0]], np.float32)
    loss = losses.CategoricalCrossentropy()
    np.testing.assert_allclose(loss.per_sample(_t(onehot), _t(z), logits=True).numpy(), [200.0, 0.0], atol=1e-4)
    clipped = loss.per_sample(_t(onehot), torch.softmax(_t(z), -1)).numpy()
    np.testing.assert_allclose(clipped, [-np.log(1e-7), -np.log(np.float32(1) - EPS32)], rtol=1e-5, atol=1e-6)


def test_sparse_cce_matches_torch_on_both_paths():
    labels, _, z = _categorical_batch()
    loss = losses.SparseCategoricalCrossentropy()
    ref = F.cross_entropy(_t(z).double(), _t(labels), reduction="none").numpy()
    np.testing.assert_allclose(loss.per_sample(_t(labels), _t(z), logits=True).numpy(), ref, rtol=1e-5)
    p = torch.softmax(_t(z), -1)
    np.testing.assert_allclose(loss.per_sample(_t(labels), p).numpy(), ref, rtol=1e-4)
    column = _t(labels.reshape(-1, 1).astype(np.float32))  # Keras also takes (batch, 1) labels
    np.testing.assert_allclose(loss.per_sample(column, _t(z), logits=True).numpy(), ref, rtol=1e-5)


def test_sparse_cce_probability_path_is_clipped():
    loss = losses.SparseCategoricalCrossentropy()
    p = torch.tensor([[1.0, 0.0], [0.5, 0.5]])
    np.testing.assert_allclose(loss.per_sample(torch.tensor([1, 0]), p).numpy(), [-np.log(1e-7), np.log(2)],
                               rtol=1e-5)


# -- regression losses ---------------------------------------------------------------------------

def _regression_batch():
    rng = _rng(3)
    return rng.normal(size=(6, 4)).astype(np.float32), rng.normal(0, 2, (6, 4)).astype(np.float32)


def test_mse_and_mae_match_closed_forms():
    y, p = _regression_batch()
    d = y.astype(np.float64) - p
    np.testing.assert_allclose(losses.get("mse").per_sample(_t(y), _t(p)).numpy(), (d ** 2).mean(-1), rtol=1e-5)
    np.testing.assert_allclose(losses.get("mae").per_sample(_t(y), _t(p)).numpy(), np.abs(d).mean(-1), rtol=1e-5)
    assert float(losses.MeanSquaredError()(y, p)) == pytest.approx(float(F.mse_loss(_t(p), _t(y))), rel=1e-5)
    assert float(losses.MeanAbsoluteError()(y, p)) == pytest.approx(float(F.l1_loss(_t(p), _t(y))), rel=1e-5)


@pytest.mark.parametrize("delta", [1.0, 0.5, 2.5])
def test_huber_matches_closed_form(delta):
    y, p = _regression_batch()
    e = np.abs(y.astype(np.float64) - p)
    ref = np.where(e <= delta, 0.5 * e ** 2, delta * e - 0.5 * delta ** 2).mean(-1)
    np.testing.assert_allclose(losses.Huber(delta).per_sample(_t(y), _t(p)).numpy(), ref, rtol=1e-5)


def test_huber_default_delta_is_one():
    assert losses.get("huber").delta == 1.0


# -- reduction ------------------------------------------------------------------------------------

@pytest.mark.parametrize("loss", [losses.MeanSquaredError(), losses.BinaryCrossentropy(),
                                  losses.Huber(0.7), losses.CategoricalCrossentropy(from_logits=True)],
                         ids=repr)
def test_sample_weight_gives_sum_over_batch_size(loss):
    rng = _rng(4)
    y = (rng.random((10, 3)) < 0.5).astype(np.float32)
    pred = rng.random((10, 3)).astype(np.float32)
    w = rng.random(10).astype(np.float32)
    w[3] = 0.0
    per = loss.per_sample(_t(y), _t(pred), logits=loss.from_logits).double().numpy()
    expected = (w * per).sum() / 10  # Keras's sum_over_batch_size, not divided by Σw
    assert float(loss(y, pred, sample_weight=w)) == pytest.approx(expected, rel=1e-5)
    assert float(loss(y, pred, sample_weight=w.reshape(-1, 1))) == pytest.approx(expected, rel=1e-5)
    assert float(loss(y, pred)) == pytest.approx(per.mean(), rel=1e-5)


def test_sparse_labels_keep_their_integer_dtype_through_call():
    labels, _, z = _categorical_batch()
    ref = F.cross_entropy(_t(z), _t(labels))
    assert float(losses.SparseCategoricalCrossentropy(from_logits=True)(labels, z)) == \
        pytest.approx(float(ref), rel=1e-5)


# Keras brings y_true to y_pred's rank (squeeze_or_expand_to_same_rank): labels of shape (batch,)
# against predictions of shape (batch, 1) must not broadcast to (batch, batch).
@pytest.mark.parametrize("loss", [losses.MeanSquaredError(), losses.MeanAbsoluteError(),
                                  losses.BinaryCrossentropy()], ids=repr)
def test_rank_one_labels_against_column_predictions(loss):
    y = np.array([1.0, 0.0, 1.0], np.float32)
    pred = np.array([[0.9], [0.2], [0.6]], np.float32)
    expected = float(loss(y.reshape(-1, 1), pred))
    assert float(loss(y, pred)) == pytest.approx(expected, rel=1e-6)


# Keras's sum_over_batch_size divides by the number of loss values (batch × timesteps for sequence
# outputs) and broadcasts (batch,) weights over the timesteps.
def test_sequence_outputs_average_over_every_timestep():
    rng = _rng(6)
    y, p = rng.normal(size=(2, 3, 4)).astype(np.float32), rng.normal(size=(2, 3, 4)).astype(np.float32)
    per = ((y.astype(np.float64) - p) ** 2).mean(-1)  # (batch, timesteps)
    w = np.array([0.5, 2.0], np.float32)
    assert float(losses.MeanSquaredError()(y, p)) == pytest.approx(per.mean(), rel=1e-5)
    assert float(losses.MeanSquaredError()(y, p, sample_weight=w)) == \
        pytest.approx((w[:, None] * per).sum() / per.size, rel=1e-5)


# -- names, configs, errors ---------------------------------------------------------------------

@pytest.mark.parametrize("name, cls", [
    ("binary_crossentropy", losses.BinaryCrossentropy), ("categorical_crossentropy", losses.CategoricalCrossentropy),
    ("sparse_categorical_crossentropy", losses.SparseCategoricalCrossentropy), ("mse", losses.MeanSquaredError),
    ("mean_squared_error", losses.MeanSquaredError), ("MAE", losses.MeanAbsoluteError),
    ("mean_absolute_error", losses.MeanAbsoluteError), ("huber", losses.Huber), ("huber_loss", losses.Huber),
])
def test_get_by_name(name, cls):
    assert type(losses.get(name)) is cls


def test_unknown_name_suggests_the_closest():
    with pytest.raises(ValueError, match=re.escape(
            "Unknown loss 'binary_crossentropi'. Did you mean 'binary_crossentropy'? Known losses: "
            "binary_crossentropy, categorical_crossentropy, huber, huber_loss, mae, mean_absolute_error, "
            "mean_squared_error, mse, sparse_categorical_crossentropy.")):
        losses.get("binary_crossentropi")


def test_get_rejects_other_types():
    with pytest.raises(TypeError, match=re.escape("A loss must be a name or a Loss instance. Received: 1.0")):
        losses.get(1.0)


@pytest.mark.parametrize("make, message", [
    (lambda: losses.BinaryCrossentropy(label_smoothing=1.5),
     "Invalid value for argument `label_smoothing` of BinaryCrossentropy: expected a float in [0, 1]. "
     "Received: label_smoothing=1.5"),
    (lambda: losses.CategoricalCrossentropy(label_smoothing=-0.1),
     "Invalid value for argument `label_smoothing` of CategoricalCrossentropy: expected a float in [0, 1]. "
     "Received: label_smoothing=-0.1"),
])
def test_bad_arguments_raise(make, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        make()


def test_huber_rejects_non_positive_delta():
    with pytest.raises(ValueError, match=re.escape(
            "Invalid value for argument `delta` of Huber: expected a float in (0, inf). Received: delta=0")):
        losses.Huber(delta=0)


@pytest.mark.parametrize("loss", [
    losses.BinaryCrossentropy(from_logits=True, label_smoothing=0.1), losses.CategoricalCrossentropy(),
    losses.SparseCategoricalCrossentropy(from_logits=True), losses.MeanSquaredError(),
    losses.MeanAbsoluteError(), losses.Huber(2.0),
], ids=repr)
def test_serialize_round_trip(loss):
    restored = losses.deserialize(losses.serialize(loss))
    assert type(restored) is type(loss) and restored.get_config() == loss.get_config()
    assert restored.from_logits == loss.from_logits


def test_deserialize_unknown_class():
    with pytest.raises(ValueError, match=re.escape("Unknown loss class 'Hinge' in saved config.")):
        losses.deserialize({"class_name": "Hinge"})


def test_sparse_sequence_outputs_average_over_every_timestep():
    rng = _rng(7)
    labels = rng.integers(0, 5, (3, 4))
    z = rng.normal(size=(3, 4, 5)).astype(np.float32)
    ref = F.cross_entropy(_t(z).reshape(-1, 5).double(), _t(labels).reshape(-1))
    got = losses.SparseCategoricalCrossentropy(from_logits=True)(labels, z)
    assert float(got) == pytest.approx(float(ref), rel=1e-5)
