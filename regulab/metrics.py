"""Metrics by Keras name and class, computed from additive sufficient statistics.

A metric turns one batch into a short vector of sums (``batch_stats``: e.g. the weighted count of
correct predictions); the training loop adds those vectors up on the device and reads them once per
epoch, so no metric forces a host synchronisation per step. ``result_from(totals, weight_total)``
turns the sums into the reported value; ``weight_total`` is the summed sample weight (the sample
count when unweighted), which the loop tracks once for all metrics. The Keras-style ``update_state``/``result``/``reset_state`` API works on top.

>>> import torch
>>> from regulab import metrics
>>> m = metrics.BinaryAccuracy()
>>> m.update_state(torch.tensor([[1.0], [0.0]]), torch.tensor([[0.9], [0.8]]))
>>> m.result()
0.5
"""
from __future__ import annotations

from typing import Sequence

import torch

from regulab._validation import check_float, check_int, unknown_name

__all__ = ["Metric", "Mean", "BinaryAccuracy", "CategoricalAccuracy", "SparseCategoricalAccuracy", "Precision",
           "Recall", "AUC", "MeanAbsoluteError", "MeanSquaredError", "get", "resolve"]


class Metric:
    """Base class. Subclasses set ``n_stats`` and define ``batch_stats`` and ``result_from``."""

    n_stats = 1
    #: direction of improvement, used by callbacks with mode='auto'
    direction = "max"

    def __init__(self, name: str | None = None):
        self.name = name or self.default_name
        self.reset_state()

    default_name = "metric"

    def batch_stats(self, y_true: torch.Tensor, y_pred: torch.Tensor,
                    sample_weight: torch.Tensor | None) -> torch.Tensor:
        """Additive statistics of one batch, a 1-D tensor of length ``n_stats``."""
        raise NotImplementedError  # abstract

    def result_from(self, totals: Sequence[float], weight_total: float) -> float:
        """The metric's value from statistics summed over batches."""
        raise NotImplementedError  # abstract

    # -- Keras's stateful API, for use outside fit
    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        y_true = torch.as_tensor(y_true, dtype=torch.float32).detach()
        y_pred = torch.as_tensor(y_pred, dtype=torch.float32).detach()
        if sample_weight is not None:
            sample_weight = torch.as_tensor(sample_weight, dtype=torch.float32).reshape(-1)
        self._totals = self._totals + self.batch_stats(y_true, y_pred, sample_weight).double().cpu()
        self._weight_total += float(y_pred.shape[0] if sample_weight is None else sample_weight.sum())

    def result(self) -> float:
        return self.result_from(self._totals.tolist(), self._weight_total)

    def reset_state(self) -> None:
        self._totals = torch.zeros(self.n_stats, dtype=torch.float64)
        self._weight_total = 0.0

    def get_config(self) -> dict:
        return {"name": self.name}

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"


def _weighted(values: torch.Tensor, w: torch.Tensor | None) -> torch.Tensor:
    """[Σ w·value] for per-sample values, as a 1-element tensor."""
    if w is None:
        return values.sum().reshape(1)
    return (values * w).sum().reshape(1)


def _per_sample(x: torch.Tensor) -> torch.Tensor:
    if x.dim() == 1:
        return x
    if x.dim() == 2 and x.shape[1] == 1:
        return x.reshape(-1)
    return x.reshape(x.shape[0], -1).mean(dim=1)


class _MeanMetric(Metric):
    """A weighted mean of one value per sample (``sample_values``)."""

    def sample_values(self, y_true: torch.Tensor, y_pred: torch.Tensor) -> torch.Tensor:
        """The value of each sample, ``(batch,)``: samples are independent, so a stacked step
        scores V variants' batches as one batch of V·B samples."""
        raise NotImplementedError  # abstract

    def batch_stats(self, y_true, y_pred, sample_weight):
        return _weighted(self.sample_values(y_true, y_pred), sample_weight)

    def result_from(self, totals, weight_total):
        return totals[0] / weight_total if weight_total else 0.0


class Mean(Metric):
    """The (weighted) mean of the values it is given: a loss tracker in a custom ``train_step``.

    >>> from regulab import metrics
    >>> m = metrics.Mean(name="d_loss")
    >>> m.update_state(1.0); m.update_state([2.0, 3.0])
    >>> m.result()
    2.0
    """

    n_stats = 2
    direction = "min"
    default_name = "mean"

    def update_state(self, values, sample_weight=None) -> None:
        v = torch.as_tensor(values, dtype=torch.float32).detach().reshape(-1).double().cpu()
        if sample_weight is None:
            w = torch.ones_like(v)
        else:
            w = torch.as_tensor(sample_weight, dtype=torch.float64).detach().reshape(-1).cpu().expand_as(v)
        self._totals = self._totals + torch.stack([(v * w).sum(), w.sum()])

    def result(self) -> float:
        total, count = self._totals.tolist()
        return total / count if count else 0.0

    def batch_stats(self, y_true, y_pred, sample_weight):
        raise TypeError("metrics.Mean tracks values given to update_state; it is not a compile() metric.")

    def result_from(self, totals, weight_total):
        return totals[0] / totals[1] if totals[1] else 0.0


class BinaryAccuracy(_MeanMetric):
    """Fraction of predictions on the right side of ``threshold`` (default 0.5)."""

    default_name = "binary_accuracy"

    def __init__(self, name=None, threshold: float = 0.5):
        self.threshold = check_float("threshold", threshold, low=0.0, high=1.0, where="BinaryAccuracy")
        super().__init__(name)

    def sample_values(self, y_true, y_pred):
        return _per_sample(((y_pred > self.threshold) == (_align(y_true, y_pred) > 0.5)).float())


class CategoricalAccuracy(_MeanMetric):
    """Fraction of samples whose highest-scoring class is the one-hot label's."""

    default_name = "categorical_accuracy"

    def sample_values(self, y_true, y_pred):
        return _per_sample((y_pred.argmax(dim=-1) == y_true.argmax(dim=-1)).float())


class SparseCategoricalAccuracy(_MeanMetric):
    """Fraction of samples whose highest-scoring class equals the integer label."""

    default_name = "sparse_categorical_accuracy"

    def sample_values(self, y_true, y_pred):
        return _per_sample((y_pred.argmax(dim=-1) == y_true.reshape(y_pred.shape[:-1]).long()).float())


class MeanAbsoluteError(_MeanMetric):
    default_name = "mean_absolute_error"
    direction = "min"

    def sample_values(self, y_true, y_pred):
        return _per_sample((_align(y_true, y_pred) - y_pred).abs())


class MeanSquaredError(_MeanMetric):
    default_name = "mean_squared_error"
    direction = "min"

    def sample_values(self, y_true, y_pred):
        return _per_sample((_align(y_true, y_pred) - y_pred).square())


def _align(y_true: torch.Tensor, y_pred: torch.Tensor) -> torch.Tensor:
    """Labels shaped like the predictions; integer class labels become one-hot rows."""
    if y_true.shape != y_pred.shape and y_pred.shape[-1] > 1 and y_true.numel() * y_pred.shape[-1] == y_pred.numel():
        return torch.nn.functional.one_hot(y_true.reshape(y_pred.shape[:-1]).long(), y_pred.shape[-1]).to(y_pred.dtype)
    return y_true.reshape(y_pred.shape)


def _confusion(y_true, y_pred, sample_weight, threshold):
    pred = (y_pred > threshold).float()
    true = (_align(y_true, y_pred) > 0.5).float()
    w = 1.0 if sample_weight is None else sample_weight.reshape(-1, *([1] * (y_pred.dim() - 1)))
    tp = (pred * true * w).sum()
    fp = (pred * (1 - true) * w).sum()
    fn = ((1 - pred) * true * w).sum()
    return tp, fp, fn


class _ConfusionRatio(Metric):
    """TP / (TP + other) at a threshold, where ``other`` is FP (precision) or FN (recall)."""

    n_stats = 2
    _other = "fp"

    def __init__(self, thresholds: float = 0.5, name=None):
        self.thresholds = check_float("thresholds", thresholds, low=0.0, high=1.0, where=type(self).__name__)
        super().__init__(name)

    def batch_stats(self, y_true, y_pred, sample_weight):
        tp, fp, fn = _confusion(y_true, y_pred, sample_weight, self.thresholds)
        return torch.stack([tp, fp if self._other == "fp" else fn])

    def result_from(self, totals, weight_total):
        tp, other = totals
        return tp / (tp + other) if tp + other else 0.0

    def get_config(self):
        return {"name": self.name, "thresholds": self.thresholds}


class Precision(_ConfusionRatio):
    """TP / (TP + FP) at ``thresholds`` (default 0.5), counting every output unit (micro)."""

    default_name = "precision"
    _other = "fp"


class Recall(_ConfusionRatio):
    """TP / (TP + FN) at ``thresholds`` (default 0.5), counting every output unit (micro)."""

    default_name = "recall"
    _other = "fn"


class AUC(Metric):
    """Area under the ROC curve from ``num_thresholds`` evenly spaced thresholds (default 200),
    trapezoidal rule, as Keras's default. The statistics are two histograms of the predictions,
    one for positive and one for negative labels."""

    default_name = "auc"

    def __init__(self, num_thresholds: int = 200, name=None):
        self.num_thresholds = check_int("num_thresholds", num_thresholds, low=2, where="AUC")
        self.n_stats = 2 * self.num_thresholds
        super().__init__(name)

    def batch_stats(self, y_true, y_pred, sample_weight):
        t = self.num_thresholds
        p = y_pred.reshape(-1)
        # bin b holds predictions above exactly b of the thresholds -eps, 1/(t-1), ..., 1+eps
        b = torch.ceil(p.clamp(0.0, 1.0) * (t - 1)).long().clamp(1, t - 1)
        pos = (_align(y_true, y_pred).reshape(-1) > 0.5).float()
        w = torch.ones_like(p) if sample_weight is None else \
            sample_weight.reshape(-1, 1).expand(y_pred.shape[0], -1).reshape(-1)
        hist = torch.zeros(2 * t, device=p.device)
        return hist.index_add(0, b + t * (1 - pos).long(), w)

    def result_from(self, totals, weight_total):
        t = self.num_thresholds
        pos_hist, neg_hist = totals[:t], totals[t:]
        # counts strictly above threshold j: sum of bins > j
        tp, fp, acc_p, acc_n = [0.0] * t, [0.0] * t, 0.0, 0.0
        for j in range(t - 1, -1, -1):
            tp[j], fp[j] = acc_p, acc_n
            acc_p += pos_hist[j]
            acc_n += neg_hist[j]
        n_pos, n_neg = sum(pos_hist), sum(neg_hist)
        if not n_pos or not n_neg:
            return 0.0
        area = 0.0
        for j in range(t - 1):
            area += (fp[j] - fp[j + 1]) / n_neg * (tp[j] + tp[j + 1]) / (2 * n_pos)
        return area

    def get_config(self):
        return {"name": self.name, "num_thresholds": self.num_thresholds}


_NAMED = {
    "precision": Precision, "recall": Recall, "auc": AUC,
    "mae": MeanAbsoluteError, "mean_absolute_error": MeanAbsoluteError,
    "mse": MeanSquaredError, "mean_squared_error": MeanSquaredError,
    "binary_accuracy": BinaryAccuracy, "categorical_accuracy": CategoricalAccuracy,
    "sparse_categorical_accuracy": SparseCategoricalAccuracy,
}
_ACCURACY_BY_TARGET = {"binary": BinaryAccuracy, "categorical": CategoricalAccuracy,
                       "sparse": SparseCategoricalAccuracy}


def get(identifier) -> Metric:
    """Resolve a name or an instance; ``'accuracy'`` needs the loss, see :func:`resolve`."""
    if isinstance(identifier, Metric):
        return identifier
    if isinstance(identifier, str):
        cls = _NAMED.get(identifier.lower())
        if cls is None:
            raise unknown_name("metric", identifier, list(_NAMED) + ["accuracy", "acc"])
        # keep the user's spelling as the logged name, as Keras does ('mae' logs as 'mae')
        return cls(name=identifier)
    raise TypeError(f"A metric must be a name or a Metric instance. Received: {identifier!r}")


def resolve(identifier, target_kind: str, output_units: int) -> Metric:
    """Like :func:`get`, choosing binary/categorical/sparse accuracy for ``'accuracy'`` from the
    loss's target kind as Keras does (a one-unit output means binary)."""
    if isinstance(identifier, str) and identifier.lower() in ("accuracy", "acc"):
        kind = target_kind if target_kind in _ACCURACY_BY_TARGET else \
            ("binary" if output_units == 1 else "categorical")
        return _ACCURACY_BY_TARGET[kind](name=identifier)
    return get(identifier)
