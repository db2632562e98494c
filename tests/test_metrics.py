"""Metrics accumulated over batches, against scikit-learn and NumPy on the whole data."""
import re

import numpy as np
import pytest
import torch
from sklearn.metrics import accuracy_score, precision_score, recall_score, roc_auc_score

from regulab import metrics

N = 400
BATCHES = 4
TOL = 1e-6  # each batch sums its weights in float32


def _accumulate(metric, y_true, y_pred, sample_weight=None):
    for idx in np.array_split(np.arange(len(y_pred)), BATCHES):
        w = None if sample_weight is None else torch.tensor(sample_weight[idx])
        metric.update_state(torch.tensor(y_true[idx]), torch.tensor(y_pred[idx]), sample_weight=w)
    return metric.result()


def _weights():
    w = np.random.default_rng(9).random(N).astype(np.float32)
    w[::7] = 0.0
    return w


def _binary(units=1, seed=0):
    rng = np.random.default_rng(seed)
    y = (rng.random((N, units)) < 0.4).astype(np.float32)
    p = np.clip(0.3 * y + rng.random((N, units)) * 0.7, 0.0, 1.0).astype(np.float32)
    return y, p


def _categorical(classes=5, seed=1):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, classes, N)
    scores = rng.random((N, classes)).astype(np.float32)
    scores[np.arange(N), labels] += 0.3
    return labels, np.eye(classes, dtype=np.float32)[labels], scores


weighting = pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])


@weighting
def test_binary_accuracy(weighted):
    y, p = _binary()
    w = _weights() if weighted else None
    got = _accumulate(metrics.BinaryAccuracy(), y, p, w)
    assert got == pytest.approx(accuracy_score(y.ravel(), p.ravel() > 0.5, sample_weight=w), abs=TOL)


def test_binary_accuracy_threshold_and_several_units():
    y, p = _binary(units=3)
    got = _accumulate(metrics.BinaryAccuracy(threshold=0.7), y, p, _weights())
    per_sample = ((p > 0.7) == (y > 0.5)).mean(axis=1)  # Keras: mean over the last axis, then weighted
    assert got == pytest.approx(np.average(per_sample, weights=_weights()), abs=1e-7)


# Keras brings y_true to y_pred's rank before comparing (squeeze_or_expand_to_same_rank): labels of
# shape (batch,) must not broadcast against predictions of shape (batch, 1) into a (batch, batch) grid.
def test_binary_accuracy_with_rank_one_labels():
    m = metrics.BinaryAccuracy()
    m.update_state(torch.tensor([1.0, 0.0, 1.0]), torch.tensor([[0.9], [0.2], [0.1]]))
    assert m.result() == pytest.approx(2 / 3)


@weighting
def test_categorical_accuracy(weighted):
    labels, onehot, scores = _categorical()
    w = _weights() if weighted else None
    got = _accumulate(metrics.CategoricalAccuracy(), onehot, scores, w)
    assert got == pytest.approx(accuracy_score(labels, scores.argmax(1), sample_weight=w), abs=TOL)


@weighting
def test_sparse_categorical_accuracy(weighted):
    labels, _, scores = _categorical()
    w = _weights() if weighted else None
    expected = accuracy_score(labels, scores.argmax(1), sample_weight=w)
    assert _accumulate(metrics.SparseCategoricalAccuracy(), labels.astype(np.float32), scores, w) == \
        pytest.approx(expected, abs=TOL)
    column = labels.reshape(-1, 1).astype(np.float32)
    assert _accumulate(metrics.SparseCategoricalAccuracy(), column, scores, w) == pytest.approx(expected, abs=TOL)


@weighting
@pytest.mark.parametrize("cls, sk", [(metrics.Precision, precision_score), (metrics.Recall, recall_score)])
def test_precision_and_recall(cls, sk, weighted):
    y, p = _binary()
    w = _weights() if weighted else None
    got = _accumulate(cls(), y, p, w)
    assert got == pytest.approx(sk(y.ravel(), p.ravel() > 0.5, sample_weight=w), abs=TOL)
    assert _accumulate(cls(thresholds=0.8), y, p, w) == \
        pytest.approx(sk(y.ravel(), p.ravel() > 0.8, sample_weight=w), abs=TOL)


@pytest.mark.parametrize("cls, sk", [(metrics.Precision, precision_score), (metrics.Recall, recall_score)])
def test_precision_and_recall_count_every_unit(cls, sk):
    y, p = _binary(units=3)
    w = _weights()
    got = _accumulate(cls(), y, p, w)
    assert got == pytest.approx(sk(y, p > 0.5, average="micro", sample_weight=w), abs=TOL)


def test_precision_without_positive_predictions_is_zero():
    m = metrics.Precision()
    m.update_state(torch.tensor([[1.0], [0.0]]), torch.tensor([[0.1], [0.2]]))
    assert m.result() == 0.0


@weighting
def test_auc_within_binning_error_of_sklearn(weighted):
    y, p = _binary(seed=5)
    w = _weights() if weighted else None
    got = _accumulate(metrics.AUC(), y, p, w)
    assert got == pytest.approx(roc_auc_score(y.ravel(), p.ravel(), sample_weight=w), abs=2e-3)


def test_auc_on_predictions_that_fall_on_thresholds():
    # Predictions on the grid i/199 sit exactly on thresholds, where rounding would move them a bin.
    rng = np.random.default_rng(2)
    y = (rng.random((N, 1)) < 0.5).astype(np.float32)
    p = (np.round(np.clip(0.2 * y + rng.random((N, 1)) * 0.8, 0, 1) * 199) / 199).astype(np.float32)
    assert _accumulate(metrics.AUC(), y, p) == pytest.approx(roc_auc_score(y.ravel(), p.ravel()), abs=2e-3)


def test_auc_of_perfect_and_inverted_rankings():
    y = np.array([[0.0], [0.0], [1.0], [1.0]], np.float32)
    good = np.array([[0.1], [0.2], [0.8], [0.9]], np.float32)
    assert _accumulate(metrics.AUC(), y, good) == pytest.approx(1.0)
    assert _accumulate(metrics.AUC(), y, 1 - good) == pytest.approx(0.0, abs=1e-12)


@weighting
@pytest.mark.parametrize("cls, fn", [(metrics.MeanAbsoluteError, np.abs), (metrics.MeanSquaredError, np.square)])
def test_regression_metrics(cls, fn, weighted):
    rng = np.random.default_rng(3)
    y = rng.normal(size=(N, 2)).astype(np.float32)
    p = rng.normal(size=(N, 2)).astype(np.float32)
    w = _weights() if weighted else np.ones(N, np.float32)
    per_sample = fn(y.astype(np.float64) - p).mean(axis=1)
    got = _accumulate(cls(), y, p, w if weighted else None)
    assert got == pytest.approx(np.average(per_sample, weights=w), rel=1e-6)


def test_regression_metrics_take_rank_one_targets():
    m = metrics.MeanSquaredError()
    m.update_state(torch.tensor([1.0, 2.0, 3.0]), torch.tensor([[1.0], [2.0], [5.0]]))
    assert m.result() == pytest.approx(4 / 3)


def test_reset_state_and_docstring_example():
    m = metrics.BinaryAccuracy()
    m.update_state(torch.tensor([[1.0], [0.0]]), torch.tensor([[0.9], [0.8]]))
    assert m.result() == 0.5
    m.reset_state()
    assert m.result() == 0.0
    m.update_state(torch.tensor([[1.0]]), torch.tensor([[0.9]]))
    assert m.result() == 1.0


def test_directions():
    assert metrics.MeanSquaredError().direction == "min" and metrics.MeanAbsoluteError().direction == "min"
    assert metrics.AUC().direction == "max" and metrics.BinaryAccuracy().direction == "max"


# -- names ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("kind, units, cls", [
    ("binary", 1, metrics.BinaryAccuracy), ("binary", 3, metrics.BinaryAccuracy),
    ("categorical", 4, metrics.CategoricalAccuracy), ("sparse", 4, metrics.SparseCategoricalAccuracy),
    ("regression", 1, metrics.BinaryAccuracy), ("regression", 3, metrics.CategoricalAccuracy),
])
@pytest.mark.parametrize("name", ["accuracy", "acc"])
def test_resolve_accuracy(name, kind, units, cls):
    m = metrics.resolve(name, kind, units)
    assert type(m) is cls and m.name == name


def test_resolve_passes_other_names_to_get():
    assert type(metrics.resolve("auc", "binary", 1)) is metrics.AUC


@pytest.mark.parametrize("name, cls", [
    ("precision", metrics.Precision), ("recall", metrics.Recall), ("auc", metrics.AUC),
    ("mae", metrics.MeanAbsoluteError), ("mean_squared_error", metrics.MeanSquaredError),
    ("binary_accuracy", metrics.BinaryAccuracy), ("categorical_accuracy", metrics.CategoricalAccuracy),
    ("sparse_categorical_accuracy", metrics.SparseCategoricalAccuracy),
])
def test_get_keeps_the_users_spelling_as_name(name, cls):
    m = metrics.get(name)
    assert type(m) is cls and m.name == name


def test_get_returns_an_instance_unchanged():
    m = metrics.AUC()
    assert metrics.get(m) is m


def test_unknown_metric_name():
    with pytest.raises(ValueError, match=re.escape(
            "Unknown metric 'acuracy'. Did you mean 'accuracy'? Known metrics: acc, accuracy, auc, binary_accuracy, "
            "categorical_accuracy, mae, mean_absolute_error, mean_squared_error, mse, precision, recall, "
            "sparse_categorical_accuracy.")):
        metrics.get("acuracy")


def test_get_rejects_other_types():
    with pytest.raises(TypeError, match=re.escape("A metric must be a name or a Metric instance. Received: None")):
        metrics.get(None)


@pytest.mark.parametrize("make, message", [
    (lambda: metrics.BinaryAccuracy(threshold=1.5),
     "Invalid value for argument `threshold` of BinaryAccuracy: expected a float in [0, 1]. Received: threshold=1.5"),
    (lambda: metrics.Precision(thresholds=-0.1),
     "Invalid value for argument `thresholds` of Precision: expected a float in [0, 1]. Received: thresholds=-0.1"),
])
def test_bad_arguments_raise(make, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        make()


def test_auc_needs_two_thresholds():
    with pytest.raises(ValueError, match=re.escape(
            "Invalid value for argument `num_thresholds` of AUC: expected an integer in [2, inf). "
            "Received: num_thresholds=1")):
        metrics.AUC(num_thresholds=1)

